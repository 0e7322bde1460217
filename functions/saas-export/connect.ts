/**
 * Reads the proxy header secret and the SaaS credential (when one is configured) and builds the SaaS client
 * around them; shared by saas-export and the Athena connector, which reach the SaaS the same way.
 */
import type { Logger } from "../shared/log";
import type { RetryPolicy } from "../shared/retry";
import { SaasClient } from "./saas-client";
import { getProxyHeaderValue, getSaasCredential } from "./secrets";

/** The configuration both handlers keep for reaching the SaaS through the proxy tier. */
export interface SaasConnection {
  proxyUrl: string;
  proxyHeaderName: string;
  proxyHeaderSecretId: string;
  authSecretId?: string;
  extraCa?: string;
  timeoutMs: number;
  proxyConnectTimeoutMs: number;
  retry: RetryPolicy;
}

export async function connectSaas(cfg: SaasConnection, log: Logger): Promise<SaasClient> {
  const [proxyValue, auth] = await Promise.all([
    getProxyHeaderValue(cfg.proxyHeaderSecretId),
    cfg.authSecretId ? getSaasCredential(cfg.authSecretId) : Promise.resolve(undefined),
  ]);
  return new SaasClient({
    proxyUrl: cfg.proxyUrl,
    proxyHeader: { name: cfg.proxyHeaderName, value: proxyValue },
    proxyHeaderSecretId: cfg.proxyHeaderSecretId,
    auth,
    authSecretId: cfg.authSecretId,
    extraCa: cfg.extraCa,
    timeoutMs: cfg.timeoutMs,
    proxyConnectTimeoutMs: cfg.proxyConnectTimeoutMs,
    retry: cfg.retry,
    log,
  });
}
