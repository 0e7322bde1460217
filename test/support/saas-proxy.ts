/**
 * What the proxy clients' handler tests (saas-export, the Athena connector) stand on: the fake SaaS at
 * api.example.com over real TLS behind a real Squid (renderSquidConf: only that name allowed, the secret header
 * required on CONNECT, the SaaS's port the only CONNECT port), all on 127.0.0.1, and the environment every
 * proxy client reads.
 */
import { FakeSaas } from "../fakes/saas";
import type { FakeSecretsManager } from "../fakes/secrets-manager";
import { loopbackSquidOptions, RunningSquid, SquidSandbox, startLoopbackSquid } from "./squid";

/** The header Squid requires on CONNECT, and the Secrets Manager names of its value and of the SaaS credential. */
export const PROXY_HEADER = "X-Lambda-Proxy-Token";
export const PROXY_SECRET_ID = "proxy/header";
export const AUTH_SECRET_ID = "saas/token";

export interface SaasProxy {
  /** The value Squid requires in PROXY_HEADER, and the SaaS's bearer token. */
  headerValue: string;
  token: string;
  saas: FakeSaas;
  squid: RunningSquid;
  sandbox: SquidSandbox;
  stop(): Promise<void>;
}

/** Starts the SaaS, then a Squid in a sandbox named `sandboxPrefix…` that requires PROXY_HEADER: `headerValue`. */
export async function startSaasProxy(o: {
  headerValue: string;
  token: string;
  sandboxPrefix: string;
}): Promise<SaasProxy> {
  const saas = new FakeSaas({ host: "api.example.com" });
  await saas.start();
  try {
    const { squid, sandbox } = await startLoopbackSquid(
      { "api.example.com": "127.0.0.1" },
      o.sandboxPrefix,
      (port, sb) =>
        loopbackSquidOptions(port, sb, {
          headerName: PROXY_HEADER,
          headerValue: o.headerValue,
          allowedDomains: ["api.example.com"],
          connectPorts: [saas.port],
          safePorts: [80, 443],
        }),
    );
    return {
      headerValue: o.headerValue,
      token: o.token,
      saas,
      squid,
      sandbox,
      async stop() {
        await Promise.all([squid.stop(), saas.stop()]);
        sandbox.remove();
      },
    };
  } catch (err) {
    await saas.stop();
    throw err;
  }
}

/** Variables a developer's shell may carry that would send the handler around the test's Squid or CA. */
const STRAY_VARIABLES = [
  "AWS_PROFILE",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
];

/**
 * Each test's starting point: the SaaS serving `records` 40 a page, with no faults, no requests seen and
 * `Bearer <token>` as the credential it accepts; `secrets` holding the header value and the token; and the
 * process environment every proxy client reads (proxy, header secret, SaaS credential and CA, fast retries,
 * fake AWS credentials) on top of `base` and `own`, without the stray variables above.
 */
export function resetProxyClient(
  p: SaasProxy,
  o: {
    records: Record<string, unknown>[];
    secrets: FakeSecretsManager;
    s3Url: string;
    base: NodeJS.ProcessEnv;
    own: Record<string, string>;
  },
): void {
  const { saas } = p;
  saas.clearFaults();
  saas.requests.length = 0;
  saas.records = o.records;
  saas.pageSize = 40;
  saas.auth = { header: "authorization", value: `Bearer ${p.token}` };
  o.secrets.setSecret(PROXY_SECRET_ID, p.headerValue);
  o.secrets.setSecret(AUTH_SECRET_ID, p.token);
  const env: NodeJS.ProcessEnv = {
    ...o.base,
    PROXY_URL: `http://127.0.0.1:${p.squid.port}`,
    PROXY_HEADER_NAME: PROXY_HEADER,
    PROXY_HEADER_SECRET_ID: PROXY_SECRET_ID,
    SAAS_AUTH_SECRET_ID: AUTH_SECRET_ID,
    SAAS_CA_FILE: saas.caFile,
    RETRY_BASE_MS: "1",
    RETRY_MAX_MS: "20",
    AWS_ENDPOINT_URL_S3: o.s3Url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: o.secrets.url,
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake-secret-key",
    AWS_EC2_METADATA_DISABLED: "true",
    ...o.own,
  };
  for (const v of STRAY_VARIABLES) delete env[v];
  process.env = env;
}
