/**
 * GET JSON from the SaaS through the Squid proxy tier.
 *
 * Every request is tunnelled with `CONNECT host:port` by the kit's TunnelAgent (./tunnel-agent.ts). The secret proxy
 * header travels on that CONNECT request only (the agent's `proxyHeaders`): for HTTPS, Squid sees nothing but the CONNECT, and the SaaS
 * sees nothing but what is sent inside the TLS tunnel, which never includes the proxy header. TLS is verified against
 * Node's public roots plus, when SAAS_CA_FILE is set (tests), that CA; verification is never turned off.
 *
 * When the proxy refuses the CONNECT, the request fails with the agent's ProxyStatusError before anything reaches the
 * SaaS, so a Squid 403 is never mistaken for a SaaS 403.
 */
import type { IncomingHttpHeaders } from "http";
import * as https from "https";
import * as tls from "tls";
import { ExportError } from "./errors";
import type { Logger } from "../shared/log";
import { AttemptFailure, RetriesExhausted, RetryPolicy, withRetry } from "../shared/retry";
import type { HeaderCredential } from "./secrets";
import { ProxyStatusError, TunnelAgent } from "./tunnel-agent";

export interface SaasClientOptions {
  proxyUrl: string;
  proxyHeader: HeaderCredential;
  proxyHeaderSecretId: string;
  auth?: HeaderCredential;
  authSecretId?: string;
  extraCa?: string;
  timeoutMs: number;
  proxyConnectTimeoutMs: number;
  retry: RetryPolicy;
  log: Logger;
}

export interface SaasResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
  bytes: number;
}

type Phase =
  /** No tunnel: the TCP connection to the proxy failed or the CONNECT got no answer in time. */
  | "proxy-connect"
  /** The proxy answered the CONNECT with something other than 200. */
  | "proxy-status"
  | "tls"
  /** The connection broke after the tunnel was up. */
  | "network"
  | "timeout"
  /** The SaaS answered with a non-2xx status. */
  | "http"
  /** 2xx, but the body is not JSON. */
  | "body";

/** One failed attempt, reduced to facts (never headers). */
export class AttemptError extends Error implements AttemptFailure {
  constructor(
    readonly phase: Phase,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly code?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME|EPROTO/;
/** A DNS name that does not exist will not exist a second later; everything else at the socket level may recover. */
const PERMANENT_CONNECT_CODES = new Set(["ENOTFOUND"]);

export class SaasClient {
  private readonly agent: TunnelAgent;
  private readonly ca: string[] | undefined;
  /** Requests sent, retries included. */
  requests = 0;
  retries = 0;

  constructor(private readonly o: SaasClientOptions) {
    this.agent = new TunnelAgent(o.proxyUrl, {
      proxyHeaders: { [o.proxyHeader.name]: o.proxyHeader.value },
      // Pages are fetched one at a time, so keep-alive reuses a single tunnel for the whole run. No maxSockets cap:
      // an attempt abandoned while its CONNECT hangs still holds its pending socket, and a retry must not queue
      // behind it.
      keepAlive: true,
    });
    this.ca = o.extraCa ? [...tls.rootCertificates, o.extraCa] : undefined;
  }

  /** Closes the tunnel(s) kept alive between pages. */
  close(): void {
    this.agent.destroy();
  }

  async getJson(url: URL, what: string): Promise<SaasResponse> {
    try {
      const { value } = await withRetry(
        () => this.attempt(url),
        (err) => (err instanceof AttemptError ? err : { retryable: false }),
        this.o.retry,
        (err, attempt, waitMs) => {
          this.retries++;
          const e = err as AttemptError;
          this.o.log.warn("SaaS request failed; retrying", {
            what,
            attempt,
            waitMs,
            phase: e.phase,
            status: e.status,
            errorCode: e.code,
            error: e.message,
          });
        },
      );
      return value;
    } catch (err) {
      const { cause, attempts } = err as RetriesExhausted;
      throw cause instanceof AttemptError ? this.explain(cause, url, what, attempts) : cause;
    }
  }

  private attempt(url: URL): Promise<SaasResponse> {
    this.requests++;
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": "vpc-lambda-kit-saas-export/1",
    };
    if (this.o.auth) headers[this.o.auth.name] = this.o.auth.value;
    return new Promise<SaasResponse>((resolve, reject) => {
      let haveSocket = false;
      let settled = false;
      const finish = (r: SaasResponse | AttemptError) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        if (r instanceof AttemptError) {
          req.destroy();
          reject(r);
        } else resolve(r);
      };
      // `ca` belongs in the request options: the agent passes them to tls.connect for the tunnelled TLS.
      const req = https.request(url, {
        method: "GET",
        agent: this.agent,
        headers,
        ...(this.ca ? { ca: this.ca } : {}),
      });
      const connectTimer = setTimeout(
        () =>
          finish(
            new AttemptError(
              "proxy-connect",
              `no tunnel from the proxy within ${this.o.proxyConnectTimeoutMs} ms`,
              true,
              undefined,
              "ETIMEDOUT",
            ),
          ),
        this.o.proxyConnectTimeoutMs,
      );
      const totalTimer = setTimeout(
        () =>
          finish(
            new AttemptError(
              "timeout",
              `no complete response within ${this.o.timeoutMs} ms`,
              true,
              undefined,
              "ETIMEDOUT",
            ),
          ),
        this.o.timeoutMs,
      );
      req.on("socket", () => {
        haveSocket = true;
        clearTimeout(connectTimer);
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err instanceof ProxyStatusError) {
          // 502/503/504: Squid could not reach the SaaS (down, DNS, route); worth another try. 403/407: never.
          return finish(new AttemptError("proxy-status", err.message, RETRYABLE_STATUS.has(err.status), err.status));
        }
        const code = err.code ?? err.name;
        if (TLS_CODES.test(code)) return finish(new AttemptError("tls", err.message, false, undefined, code));
        if (!haveSocket)
          return finish(
            new AttemptError("proxy-connect", err.message, !PERMANENT_CONNECT_CODES.has(code), undefined, code),
          );
        finish(new AttemptError("network", err.message, true, undefined, code));
      });
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          bytes += c.length;
        });
        res.on("error", (err: NodeJS.ErrnoException) =>
          finish(new AttemptError("network", err.message, true, undefined, err.code)),
        );
        res.on("end", () => {
          const text = Buffer.concat(chunks, bytes).toString("utf8");
          if (status < 200 || status > 299) {
            const retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
            return finish(
              new AttemptError(
                "http",
                `HTTP ${status}${errorSummary(text)}`,
                RETRYABLE_STATUS.has(status),
                status,
                undefined,
                retryAfterMs,
              ),
            );
          }
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (e) {
            return finish(
              new AttemptError(
                "body",
                `HTTP ${status} with a body that is not JSON (content-type ${res.headers["content-type"] ?? "none"}: ${(e as Error).message})`,
                false,
                status,
              ),
            );
          }
          finish({ status, headers: res.headers, body, bytes });
        });
      });
      req.end();
    });
  }

  /** The error the handler throws once `e` is final: what failed, and what to check. */
  private explain(e: AttemptError, url: URL, what: string, attempts: number): ExportError {
    const o = this.o;
    const target = `${url.hostname}:${url.port || 443}`;
    const port = new URL(o.proxyUrl).port;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    const sg =
      `this function's security group must allow outbound TCP ${port} to the proxy load balancer, and the load balancer's ` +
      `security group inbound ${port} from this function`;
    switch (e.phase) {
      case "proxy-status":
        if (e.status === 403) {
          return new ExportError(
            "proxy-refused",
            `the proxy refused the request: the header secret or domain whitelist is wrong (CONNECT ${target} via PROXY_URL=${o.proxyUrl} answered 403). ` +
              `Check that Secrets Manager secret "${o.proxyHeaderSecretId}" (PROXY_HEADER_SECRET_ID) holds exactly the proxy tier's header value and ` +
              `PROXY_HEADER_NAME ("${o.proxyHeader.name}") is its header name, that ${url.hostname} is on the tier's allowedDomains, ` +
              `that ${url.port || 443} is one of its connectPorts, and that this function's subnets are in its clientCidrs.`,
            403,
          );
        }
        if (e.status === 407) {
          return new ExportError(
            "proxy",
            `the proxy at PROXY_URL=${o.proxyUrl} asks for Proxy-Authorization (407): that is not the vpc-lambda-kit Squid tier, which admits by the ${o.proxyHeader.name} header; check PROXY_URL.`,
            407,
          );
        }
        return new ExportError(
          "proxy",
          `the proxy at PROXY_URL=${o.proxyUrl} could not open a tunnel to ${target} (CONNECT answered ${e.status})${tries}: the SaaS is down or refuses ` +
            `connections, or the proxy instances cannot resolve or reach it (their DNS, their route to the internet, their security group's outbound ${url.port || 443}).`,
          e.status,
        );
      case "proxy-connect": {
        if (e.code === "ETIMEDOUT" && /no tunnel/.test(e.message)) {
          return new ExportError(
            "proxy-unreachable",
            `the proxy at PROXY_URL=${o.proxyUrl} did not open a tunnel to ${target} within PROXY_CONNECT_TIMEOUT_MS=${o.proxyConnectTimeoutMs}${tries}. Most likely the ` +
              `packets are dropped on the way: ${sg}, and the function's subnets need a route to the load balancer's subnets.`,
          );
        }
        if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") {
          return new ExportError(
            "proxy-unreachable",
            `the host in PROXY_URL=${o.proxyUrl} does not resolve (${e.code})${tries}: set PROXY_URL to the proxy load balancer's DNS name (stack output proxyUrl), ` +
              "and keep DNS resolution enabled in the function's VPC.",
          );
        }
        return new ExportError(
          "proxy-unreachable",
          `could not connect to the proxy at PROXY_URL=${o.proxyUrl} (${e.code ?? "error"}: ${e.message})${tries}. Check PROXY_URL's host and port ` +
            `(the load balancer's listener), that the load balancer has healthy proxy instances, and that ${sg}.`,
        );
      }
      case "tls":
        return new ExportError(
          "tls",
          `the TLS certificate of ${url.hostname} did not verify (${e.code}: ${e.message}). Verification stays on: if the SaaS uses a private CA, ship its ` +
            `certificate with the function and point SAAS_CA_FILE at it${o.extraCa ? " (SAAS_CA_FILE is set, but does not vouch for this certificate)" : ""}.`,
        );
      case "timeout":
        return new ExportError(
          "saas",
          `the SaaS at ${url.origin} did not answer ${what} within SAAS_TIMEOUT_MS=${o.timeoutMs}${tries}.`,
        );
      case "network":
        return new ExportError(
          "saas",
          `the connection to ${url.origin} through the proxy broke during ${what} (${e.code ?? "error"}: ${e.message})${tries}.`,
        );
      case "http":
        if (e.status === 401 || e.status === 403) {
          const fix = o.authSecretId
            ? `put a valid credential into Secrets Manager secret "${o.authSecretId}" (SAAS_AUTH_SECRET_ID): a bearer token as plain text, or {"header": "<name>", "value": "<key>"}, and check it may read ${url.pathname}`
            : `no SAAS_AUTH_SECRET_ID is set: store the SaaS credential in Secrets Manager and set SAAS_AUTH_SECRET_ID to the secret's name or ARN`;
          return new ExportError(
            "auth",
            `the SaaS refused the credential for ${what} (${e.message}): ${fix}.`,
            e.status,
          );
        }
        return new ExportError(
          "saas",
          `the SaaS answered ${what} (GET ${url.origin}${url.pathname}) with ${e.message}${tries}.`,
          e.status,
        );
      case "body":
        return new ExportError(
          "data",
          `the SaaS answered ${what} (GET ${url.origin}${url.pathname}) with ${e.message}: SAAS_URL must return JSON.`,
          e.status,
        );
    }
  }
}

function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  if (typeof v !== "string") return undefined;
  const n = Number(v);
  if (Number.isFinite(n) && n >= 0) return n * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/** `: <error/message field>` of a JSON error body, short; nothing for other bodies (they may echo request data). */
function errorSummary(text: string): string {
  try {
    const b = JSON.parse(text) as Record<string, unknown>;
    const m = [b.error, b.message, b.error_description].find((x) => typeof x === "string") as string | undefined;
    return m ? `: ${m.slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
