/**
 * The SaaS-side settings saas-export and the Athena connector read the same way: the proxy and SaaS URLs, the
 * pagination style and the request deadlines. Apart from ./config.ts, so that the connector's bundle builds none of
 * saas-export's environment schema at import.
 */
import { integerVar } from "../shared/env-mini";
import { JsonPath, parseJsonPath } from "./json-path";

/**
 * How the next page is found (SAAS_PAGINATION):
 * - `none`: SAAS_URL returns everything in one response.
 * - `link`: follow the RFC 8288 `Link: <url>; rel="next"` response header until there is none. The next URL must
 *   stay on SAAS_URL's origin (the credential is never sent elsewhere).
 * - `cursor:<path>:<param>`: the page body holds the next cursor at `<path>` (see ./json-path.ts); it is sent as
 *   query parameter `<param>` on SAAS_URL. A missing, null or empty cursor ends the export.
 * - `page:<param>`: query parameter `<param>` counts pages, starting at its value in SAAS_URL or else 1; the first
 *   page without records ends the export (one extra request, the price of not trusting a total).
 */
export type Pagination =
  | { kind: "none" }
  | { kind: "link" }
  | { kind: "cursor"; cursorPath: JsonPath; param: string }
  | { kind: "page"; param: string };

/** The SaaS request and proxy tunnel deadlines, read the same way by saas-export and the Athena connector. */
export const SAAS_DEADLINES = {
  SAAS_TIMEOUT_MS: integerVar("SAAS_TIMEOUT_MS", "deadline of one SaaS request, body included", 1_000, 600_000, 30_000),
  PROXY_CONNECT_TIMEOUT_MS: integerVar(
    "PROXY_CONNECT_TIMEOUT_MS",
    "deadline for the proxy to establish the tunnel",
    100,
    120_000,
    5_000,
  ),
};

/** SAAS_MAX_PAGES, the paging loop's bound (1 to 10,000,000, default 10,000); `what` says what reaching it does. */
export const saasMaxPages = (what: string) => integerVar("SAAS_MAX_PAGES", what, 1, 10_000_000, 10_000);

const HEADER_TOKEN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** PROXY_HEADER_NAME's shape: a header name of letters, digits and inner '-', at most 64; the problem, else undefined. */
export function proxyHeaderNameProblem(v: string): string | undefined {
  return HEADER_TOKEN.test(v) && v.length <= 64
    ? undefined
    : `PROXY_HEADER_NAME must be a header name of letters, digits and inner '-' (at most 64), e.g. X-Lambda-Proxy-Token; got "${v}"`;
}

export function proxyUrl(v: string): string | { problem: string } {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return {
      problem: `is not a URL: set it to http://<proxy load balancer DNS name>:<port>, e.g. http://internal-egress-proxy-123.ap-northeast-1.elb.amazonaws.com:3128; got "${v}"`,
    };
  }
  // The SaaS client's CONNECT agent (tunnel-agent.ts) speaks plain HTTP to the proxy.
  if (u.protocol !== "http:")
    return {
      problem: `must start with http:// (Squid's port speaks plain HTTP; HTTPS is tunnelled through it); got "${v}"`,
    };
  if (u.username || u.password)
    return {
      problem:
        "must not contain credentials: the proxy is authorised by the secret header (PROXY_HEADER_NAME / PROXY_HEADER_SECRET_ID)",
    };
  if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash)
    return { problem: `must be scheme, host and port only, e.g. http://<load balancer DNS name>:3128; got "${v}"` };
  if (!/:\d+$/.test(u.host))
    return { problem: `must name the port explicitly (the proxy tier's listener port, e.g. :3128); got "${v}"` };
  return `${u.protocol}//${u.host}`;
}

export function saasUrl(v: string): URL | { problem: string } {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return { problem: `is not a URL: set it to the https URL of the first page; got "${v}"` };
  }
  if (u.protocol !== "https:")
    return {
      problem: `must be an https:// URL (the proxy tunnels TLS with CONNECT; plain http would expose the credential); got "${v}"`,
    };
  if (u.username || u.password)
    return { problem: "must not contain credentials: put them in the secret named by SAAS_AUTH_SECRET_ID" };
  u.hash = "";
  return u;
}

export function pagination(v: string): Pagination | { problem: string } {
  const usage =
    "use none, link, cursor:<path of the next cursor>:<query parameter> (e.g. cursor:meta.next_cursor:cursor) or page:<query parameter> (e.g. page:page)";
  if (v === "none") return { kind: "none" };
  if (v === "link") return { kind: "link" };
  const param = (p: string) => /^[A-Za-z0-9_.\-[\]]+$/.test(p);
  const cursor = /^cursor:(.+):([^:]+)$/.exec(v);
  if (cursor) {
    const path = parseJsonPath(cursor[1]);
    if (typeof path === "string") return { problem: `has an invalid cursor path: ${path}` };
    if (path.segments.length === 0)
      return { problem: "needs the path of the next cursor inside the page, e.g. cursor:meta.next_cursor:cursor" };
    if (!param(cursor[2])) return { problem: `has an invalid query parameter name "${cursor[2]}"; ${usage}` };
    return { kind: "cursor", cursorPath: path, param: cursor[2] };
  }
  const page = /^page:([^:]+)$/.exec(v);
  if (page) {
    if (!param(page[1])) return { problem: `has an invalid query parameter name "${page[1]}"; ${usage}` };
    return { kind: "page", param: page[1] };
  }
  return { problem: `"${v}" is not a pagination style: ${usage}` };
}

/** The pagination rule of SAAS_PAGINATION, for config validation before deployment. */
export { pagination as parsePagination };
