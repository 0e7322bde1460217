/**
 * squid.conf for the Squid proxy tier.
 *
 * Two separate `http_access allow` lines would mean *header OR domain*. Here there is exactly one
 * allow line and it ANDs every condition:
 *
 *   source in clientCidrs  AND  destination domain whitelisted  AND  secret header matches exactly
 *   (AND, unless disabled for tests, the destination does not resolve to a loopback address)
 *
 * Everything else falls through to `http_access deny all`. `renderSquidConf` is pure: it validates
 * its input (collecting every problem, each naming the key/entry and the fix) and returns the
 * config text, with the domain whitelist inline so the result is a single file.
 *
 * Squid parsing facts this relies on (checked against a real Squid by test/squid/squid-real.test.ts):
 * - `req_header` takes a POSIX extended regex, unanchored: `test` would also admit `xtestx`. The
 *   value is therefore anchored (^…$) and every ERE metacharacter is backslash-escaped.
 * - Squid splits acl lines on whitespace (a space cannot be carried in the regex safely), treats a
 *   token *starting* with `#` as a comment and a token starting with `"` as a file name. The regex
 *   always starts with `^`, so only whitespace/control/non-ASCII characters have to be refused.
 *   `$`, `{`, `}` are escaped, so `${process_number}`-style macros are never expanded.
 * - A config line may be at most 2048 bytes, so the whitelist is written one domain per line
 *   (repeated `acl` lines with the same name accumulate).
 * - `dstdomain -n` never reverse-resolves IP-literal URLs, so `http://<ip of a whitelisted host>/`
 *   is not mistaken for the host.
 */
import { ConfigError, throwIfAny } from "./errors";
import { cidrContains, tryParseCidr, Cidr } from "./cidr";

export interface SquidConfOptions {
  /** TCP port Squid listens on (the load balancer's instance port). */
  port: number;
  /** Address to bind; default: all addresses. Tests use 127.0.0.1. */
  listenAddress?: string;
  /** Name of the secret request header, e.g. `X-Lambda-Test`. Removed before forwarding. */
  headerName: string;
  /** Exact secret value the header must carry (visible ASCII, no spaces, 1..512 characters). */
  headerValue: string;
  /** Whitelist: `.example.com` = the domain and every subdomain; `api.example.com` = that host only. */
  allowedDomains: string[];
  /** IPv4 CIDRs the real clients (the Lambdas' subnets) come from. */
  clientCidrs: string[];
  /**
   * IPv4 CIDRs of the load balancer nodes (the load balancer subnets). When set, the port requires a
   * PROXY protocol header (v1 text from a CLB, v2 binary from an NLB target group; Squid detects
   * which) and accepts it only from these addresses, so logs and the `src` check see the real client.
   * With an NLB this needs client IP preservation OFF on the target group: with it on, the TCP
   * source would be the client itself, outside these CIDRs, and Squid would close the connection.
   * Absent: a plain port.
   */
  proxyProtocolFrom?: string[];
  /** Ports CONNECT (HTTPS tunnels) may reach. Default [443]. */
  connectPorts?: number[];
  /** Ports plain-HTTP requests (`GET http://…`) may reach. Default [80, 443]. */
  safePorts?: number[];
  /**
   * Deny destinations that resolve to loopback (`to_localhost`). Default true. Link-local
   * (169.254.0.0/16, e.g. the instance metadata service) is always denied. Tests that map the
   * whitelisted names to 127.0.0.x set this to false.
   */
  blockLocalDestinations?: boolean;
  /** Hostname Squid shows in error pages; set so Squid never has to look its own name up. */
  visibleHostname?: string;
  /** Absolute paths; defaults match Amazon Linux 2023's (and Debian's) squid package. */
  pidFile?: string;
  accessLog?: string;
  cacheLog?: string;
  coredumpDir?: string;
  /** `cache_effective_user`; default: omitted, i.e. the package's build default (`squid` on AL2023). */
  cacheEffectiveUser?: string;
  /** `hosts_file`; default: omitted (/etc/hosts). */
  hostsFile?: string;
  /** `dns_nameservers`; default: omitted (/etc/resolv.conf). IPv4 addresses. */
  dnsNameservers?: string[];
  /**
   * `shutdown_lifetime`: how long a stopping Squid lets open connections finish. Default: omitted
   * (Squid's 30 s); keep it below the load balancer's connection-draining timeout.
   */
  shutdownLifetimeSeconds?: number;
}

export const SQUID_CONF_DEFAULTS = {
  connectPorts: [443],
  safePorts: [80, 443],
  blockLocalDestinations: true,
  visibleHostname: "vpc-lambda-kit-proxy",
  pidFile: "/run/squid.pid",
  accessLog: "/var/log/squid/access.log",
  cacheLog: "/var/log/squid/cache.log",
  coredumpDir: "/var/spool/squid",
} as const;

/** ACL names used in the rendered config (exported for tests and log readers). */
export const SQUID_ACL = {
  clients: "vlk_clients",
  domains: "vlk_allowed_domains",
  header: "vlk_secret_header",
  connectPorts: "vlk_connect_ports",
  safePorts: "vlk_safe_ports",
  connect: "vlk_connect",
  webProto: "vlk_web_proto",
  proxyLb: "vlk_proxy_protocol_lb",
  toLinkLocal: "vlk_to_linklocal",
  toLocalhost: "vlk_to_localhost",
} as const;

export const HEADER_VALUE_MAX = 512;
const HEADER_NAME_MAX = 64;

/**
 * Headers that must not be used as the secret: the header is deleted before forwarding (which
 * would break these) or Squid itself rewrites/consumes them.
 */
const RESERVED_HEADERS = new Set([
  "host",
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "content-type",
  "content-encoding",
  "via",
  "x-forwarded-for",
  "forwarded",
  "cache-control",
  "pragma",
  "authorization",
  "cookie",
  "user-agent",
  "accept",
  "accept-encoding",
  "expect",
  "range",
  "if-modified-since",
  "max-forwards",
]);

/** POSIX ERE metacharacters (plus `}` and `]`, escaped too so no context can make them special). */
const ERE_META = /[.[\]()*+?{}|^$\\]/g;

/** `^<value with every ERE metacharacter backslash-escaped>$` — an exact-match regex for Squid. */
export function exactHeaderRegex(value: string): string {
  return `^${value.replace(ERE_META, (c) => `\\${c}`)}$`;
}

/** Renders squid.conf text. Throws ConfigError/ConfigErrors (naming each bad key/entry) on invalid input. */
export function renderSquidConf(opts: SquidConfOptions): string {
  const v = validate(opts);
  const A = SQUID_ACL;
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);

  push(
    "# Generated by vpc-lambda-kit renderSquidConf(). Do not edit by hand.",
    "# Policy: allow only when the source is a listed client AND the destination domain is",
    `# whitelisted AND the request carries ${v.headerName} with exactly the expected value;`,
    "# everything else is denied. This file contains the secret header value: keep it mode 0640.",
    "",
    `http_port ${v.listen}${v.proxyLb ? " require-proxy-header" : ""}`,
    `visible_hostname ${v.visibleHostname}`,
    "httpd_suppress_version_string on",
    "",
    "# --- ACLs",
    `acl ${A.clients} src ${v.clientCidrs.join(" ")}`,
    ...v.domains.map((d) => `acl ${A.domains} dstdomain -n ${d}`),
    `acl ${A.header} req_header ${v.headerName} ${exactHeaderRegex(v.headerValue)}`,
    `acl ${A.connect} method CONNECT`,
    `acl ${A.connectPorts} port ${v.connectPorts.join(" ")}`,
    `acl ${A.safePorts} port ${v.safePorts.join(" ")}`,
    `acl ${A.webProto} proto HTTP HTTPS`,
    // Defined here: Squid 5 has no built-in to_linklocal, and the built-ins differ between versions.
    `acl ${A.toLinkLocal} dst 169.254.0.0/16 fe80::/10`,
    ...(v.blockLocal ? [`acl ${A.toLocalhost} dst 127.0.0.0/8 0.0.0.0/8 ::1/128 ::/128`] : []),
    "",
  );
  if (v.proxyLb) {
    push(
      "# --- PROXY protocol: only the load balancer may (and must) announce the real client address",
      `acl ${A.proxyLb} src ${v.proxyLb.join(" ")}`,
      `proxy_protocol_access allow ${A.proxyLb}`,
      "proxy_protocol_access deny all",
      "",
    );
  }
  const allow = [`http_access allow ${A.clients} ${A.domains} ${A.header}`];
  // dst ACLs need DNS; placed last on the allow line so only otherwise-allowed requests resolve.
  allow.push(`!${A.toLinkLocal}`);
  if (v.blockLocal) allow.push(`!${A.toLocalhost}`);
  push(
    "# --- Access: denials first, then the single allow (all conditions ANDed), then deny all",
    `http_access deny ${A.connect} !${A.connectPorts}`,
    `http_access deny !${A.connect} !${A.safePorts}`,
    `http_access deny !${A.connect} !${A.webProto}`,
    allow.join(" "),
    "http_access deny all",
    "",
    "# --- Privacy: the SaaS never sees the secret header nor the client's address",
    `request_header_access ${v.headerName} deny all`,
    "forwarded_for delete",
    "via off",
    "",
    "# --- No caching; no ICMP probes of destinations (the pinger only feeds cache-peer selection)",
    "cache deny all",
    "pinger_enable off",
    "",
    "# --- Files",
    `pid_filename ${v.pidFile}`,
    `access_log daemon:${v.accessLog} squid`,
    `cache_log ${v.cacheLog}`,
    `coredump_dir ${v.coredumpDir}`,
  );
  if (v.cacheEffectiveUser) push(`cache_effective_user ${v.cacheEffectiveUser}`);
  if (v.shutdownLifetimeSeconds !== undefined) push(`shutdown_lifetime ${v.shutdownLifetimeSeconds} seconds`);
  if (v.hostsFile || v.dnsNameservers) push("", "# --- Name resolution");
  if (v.hostsFile) push(`hosts_file ${v.hostsFile}`);
  if (v.dnsNameservers) push(`dns_nameservers ${v.dnsNameservers.join(" ")}`);
  return L.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Validation

interface Valid {
  listen: string;
  headerName: string;
  headerValue: string;
  domains: string[];
  clientCidrs: string[];
  proxyLb?: string[];
  connectPorts: number[];
  safePorts: number[];
  blockLocal: boolean;
  visibleHostname: string;
  pidFile: string;
  accessLog: string;
  cacheLog: string;
  coredumpDir: string;
  cacheEffectiveUser?: string;
  hostsFile?: string;
  dnsNameservers?: string[];
  shutdownLifetimeSeconds?: number;
}

function validate(o: SquidConfOptions): Valid {
  const errors: ConfigError[] = [];
  const err = (key: string, problem: string, fix: string) => errors.push(new ConfigError(key, problem, fix));
  if (o === null || typeof o !== "object") {
    throw new ConfigError(
      "renderSquidConf",
      "options must be an object",
      "pass { port, headerName, headerValue, allowedDomains, clientCidrs }",
    );
  }

  if (!isPort(o.port)) err("port", `${show(o.port)} is not a TCP port`, "use an integer 1..65535, e.g. 3128");
  let listen = String(o.port);
  if (o.listenAddress !== undefined) {
    if (!isIpv4(o.listenAddress))
      err(
        "listenAddress",
        `${show(o.listenAddress)} is not an IPv4 address`,
        "use e.g. 0.0.0.0 or 127.0.0.1, or omit it to listen on all addresses",
      );
    else listen = `${o.listenAddress}:${o.port}`;
  }

  checkHeaderName(o.headerName, err);
  checkHeaderValue(o.headerValue, err);
  const domains = checkDomains(o.allowedDomains, err);
  const clientCidrs = checkCidrs("clientCidrs", o.clientCidrs, err, 'the Lambdas\' subnet CIDRs, e.g. ["10.0.1.0/24"]');
  let proxyLb: string[] | undefined;
  if (o.proxyProtocolFrom !== undefined) {
    proxyLb = checkCidrs(
      "proxyProtocolFrom",
      o.proxyProtocolFrom,
      err,
      "the load balancer subnets' CIDRs, or omit proxyProtocolFrom for a plain port",
    );
  }
  const connectPorts = checkPorts("connectPorts", o.connectPorts ?? [...SQUID_CONF_DEFAULTS.connectPorts], err);
  const safePorts = checkPorts("safePorts", o.safePorts ?? [...SQUID_CONF_DEFAULTS.safePorts], err);

  if (o.blockLocalDestinations !== undefined && typeof o.blockLocalDestinations !== "boolean") {
    err("blockLocalDestinations", `${show(o.blockLocalDestinations)} is not a boolean`, "use true (default) or false");
  }
  const visibleHostname = o.visibleHostname ?? SQUID_CONF_DEFAULTS.visibleHostname;
  if (
    typeof visibleHostname !== "string" ||
    !/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(visibleHostname)
  ) {
    err(
      "visibleHostname",
      `${show(visibleHostname)} is not a host name`,
      'use letters, digits, dots and hyphens, e.g. "egress-proxy"',
    );
  }
  const path = (key: "pidFile" | "accessLog" | "cacheLog" | "coredumpDir"): string => {
    const p = o[key] ?? SQUID_CONF_DEFAULTS[key];
    if (typeof p !== "string" || !/^\/[\x21-\x7e]*$/.test(p) || p.includes("#") || p.includes('"')) {
      err(
        key,
        `${show(p)} is not an absolute path without spaces, quotes or '#'`,
        `use e.g. "${SQUID_CONF_DEFAULTS[key]}"`,
      );
    }
    return String(p);
  };
  const pidFile = path("pidFile");
  const accessLog = path("accessLog");
  const cacheLog = path("cacheLog");
  const coredumpDir = path("coredumpDir");
  if (
    o.hostsFile !== undefined &&
    (typeof o.hostsFile !== "string" || !/^\/[\x21-\x7e]*$/.test(o.hostsFile) || /["#]/.test(o.hostsFile))
  ) {
    err(
      "hostsFile",
      `${show(o.hostsFile)} is not an absolute path without spaces, quotes or '#'`,
      'use e.g. "/etc/hosts" or omit it',
    );
  }
  if (
    o.cacheEffectiveUser !== undefined &&
    (typeof o.cacheEffectiveUser !== "string" ||
      !/^[a-z_][a-z0-9_-]{0,31}$/.test(o.cacheEffectiveUser) ||
      o.cacheEffectiveUser === "root")
  ) {
    err(
      "cacheEffectiveUser",
      `${show(o.cacheEffectiveUser)} is not an unprivileged user name`,
      'use the package\'s user ("squid" on Amazon Linux, "proxy" on Debian) or omit it',
    );
  }
  if (o.dnsNameservers !== undefined) {
    if (!Array.isArray(o.dnsNameservers) || o.dnsNameservers.length === 0) {
      err(
        "dnsNameservers",
        "must be a non-empty array of IPv4 addresses",
        'list resolver addresses, e.g. ["10.0.0.2"], or omit it to use /etc/resolv.conf',
      );
    } else {
      o.dnsNameservers.forEach((a, i) => {
        if (!isIpv4(a))
          err(`dnsNameservers[${i}]`, `${show(a)} is not an IPv4 address`, 'use e.g. "10.0.0.2" (the VPC resolver)');
      });
    }
  }

  const sl = o.shutdownLifetimeSeconds;
  if (sl !== undefined && (typeof sl !== "number" || !Number.isInteger(sl) || sl < 0 || sl > 3600)) {
    err(
      "shutdownLifetimeSeconds",
      `${show(sl)} is not a whole number of seconds 0..3600`,
      "use e.g. 20 (below the load balancer's draining timeout), or omit it for Squid's 30 s",
    );
  }

  throwIfAny(errors);
  return {
    listen,
    headerName: o.headerName,
    headerValue: o.headerValue,
    domains,
    clientCidrs,
    proxyLb,
    connectPorts,
    safePorts,
    blockLocal: o.blockLocalDestinations ?? SQUID_CONF_DEFAULTS.blockLocalDestinations,
    visibleHostname,
    pidFile,
    accessLog,
    cacheLog,
    coredumpDir,
    cacheEffectiveUser: o.cacheEffectiveUser,
    hostsFile: o.hostsFile,
    dnsNameservers: o.dnsNameservers,
    shutdownLifetimeSeconds: sl,
  };
}

type Err = (key: string, problem: string, fix: string) => void;

function checkHeaderName(name: unknown, err: Err): void {
  const fix = 'use a dedicated custom header name of letters, digits and inner hyphens, e.g. "X-Lambda-Proxy-Token"';
  if (typeof name !== "string" || name.length === 0)
    return err("headerName", `${show(name)} is not a header name`, fix);
  if (name.length > HEADER_NAME_MAX)
    return err("headerName", `is ${name.length} characters long (max ${HEADER_NAME_MAX})`, fix);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name)) {
    return err(
      "headerName",
      `${show(name)} is not a valid header token (only letters, digits and inner '-' are accepted)`,
      fix,
    );
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    err(
      "headerName",
      `"${name}" is a standard HTTP header that Squid rewrites or the SaaS needs; it is deleted before forwarding`,
      fix,
    );
  }
}

/** The value is a secret: problems are reported by position and kind, never by echoing it. */
function checkHeaderValue(value: unknown, err: Err): void {
  if (typeof value !== "string") {
    return err(
      "headerValue",
      `must be a string (got ${value === null ? "null" : typeof value})`,
      "resolve the secret (Secrets Manager/SSM) before rendering",
    );
  }
  if (value.length === 0)
    return err(
      "headerValue",
      "is empty",
      "use a random secret of visible ASCII characters, e.g. 32+ characters of base64url",
    );
  if (value.length > HEADER_VALUE_MAX) {
    return err(
      "headerValue",
      `is ${value.length} characters long (max ${HEADER_VALUE_MAX}; squid.conf lines are limited to 2048 bytes)`,
      "use a shorter secret, e.g. 32..64 random characters",
    );
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x21 && c <= 0x7e) continue;
    const kind =
      c === 0x20
        ? "a space"
        : c === 0x09
          ? "a tab"
          : c < 0x20 || c === 0x7f
            ? `control character 0x${c.toString(16).padStart(2, "0")}`
            : "a non-ASCII character";
    return err(
      "headerValue",
      `contains ${kind} at position ${i}; Squid splits acl lines on whitespace and HTTP trims/forbids such characters, so it cannot be matched exactly`,
      "use only visible ASCII characters (0x21..0x7E), e.g. base64url or hex",
    );
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function checkDomains(list: unknown, err: Err): string[] {
  if (!Array.isArray(list) || list.length === 0) {
    err(
      "allowedDomains",
      "must be a non-empty array of domains",
      'list the SaaS host names, e.g. ["api.example.com"] or [".example.com"] for a domain and its subdomains',
    );
    return [];
  }
  interface D {
    text: string;
    wildcard: boolean;
    host: string;
    index: number;
  }
  const ok: D[] = [];
  list.forEach((raw: unknown, index) => {
    const key = `allowedDomains[${index}]`;
    if (typeof raw !== "string")
      return err(key, `${show(raw)} is not a string`, 'use a domain such as "api.example.com" or ".example.com"');
    const problem = domainProblem(raw);
    if (problem) return err(key, `"${raw}" ${problem[0]}`, problem[1]);
    const text = raw.toLowerCase();
    const wildcard = text.startsWith(".");
    ok.push({ text, wildcard, host: wildcard ? text.slice(1) : text, index });
  });
  for (const d of ok) {
    const key = `allowedDomains[${d.index}]`;
    const twin = ok.find((e) => e.index < d.index && e.text === d.text);
    if (twin) {
      err(
        key,
        `"${list[d.index]}" duplicates allowedDomains[${twin.index}] "${list[twin.index]}" (domains are case-insensitive)`,
        `remove allowedDomains[${d.index}]`,
      );
      continue;
    }
    const cover = ok.find(
      (w) => w.wildcard && w !== d && w.text !== d.text && (d.host === w.host || d.host.endsWith(`.${w.host}`)),
    );
    if (cover) {
      err(
        key,
        `"${list[d.index]}" is already covered by allowedDomains[${cover.index}] "${list[cover.index]}" (Squid refuses such overlaps)`,
        `remove allowedDomains[${d.index}], or replace "${list[cover.index]}" with exact host names`,
      );
    }
  }
  return ok.map((d) => d.text);
}

/** [problem, fix] or undefined. */
function domainProblem(raw: string): [string, string] | undefined {
  const example = 'e.g. "api.example.com" (that host only) or ".example.com" (the domain and all its subdomains)';
  if (raw.trim() !== raw || /\s/.test(raw)) return ["contains whitespace", `remove it; ${example}`];
  if (raw.startsWith("*."))
    return [
      "uses a '*' wildcard, which Squid's dstdomain does not understand",
      `write "${raw.slice(1)}" (a leading dot covers the domain and all its subdomains)`,
    ];
  if (/[^\x21-\x7e]/.test(raw))
    return ["contains non-ASCII characters", "write internationalised names in punycode (xn--…)"];
  if (raw.includes("://") || raw.includes("/") || raw.includes(":"))
    return ["is not a bare domain (no scheme, port or path allowed)", example];
  if (raw.endsWith(".")) return ["ends with a dot", `write "${raw.replace(/\.+$/, "")}"`];
  const host = (raw.startsWith(".") ? raw.slice(1) : raw).toLowerCase();
  if (host.length === 0) return ["is empty", example];
  if (host.length > 253) return ["is longer than 253 characters", "use a real DNS name"];
  const labels = host.split(".");
  if (labels.every((l) => /^\d+$/.test(l)))
    return ["is an IP address; dstdomain matches names only", "whitelist the SaaS by its host name"];
  if (labels.length < 2)
    return ["has a single label (a TLD or bare host name); that would be far too broad or ambiguous", example];
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return [`has an invalid label "${bad}" (labels are 1..63 letters, digits or inner hyphens)`, example];
  }
  if (/^\d+$/.test(labels[labels.length - 1])) return ["ends in an all-numeric label", "use a real DNS name"];
  return undefined;
}

function checkCidrs(key: string, list: unknown, err: Err, what: string): string[] {
  if (!Array.isArray(list) || list.length === 0) {
    err(key, "must be a non-empty array of IPv4 CIDRs", `list ${what}`);
    return [];
  }
  const ok: { c: Cidr; i: number }[] = [];
  list.forEach((raw: unknown, i) => {
    const k = `${key}[${i}]`;
    if (typeof raw !== "string") return err(k, `${show(raw)} is not a string`, `use ${what}`);
    const c = tryParseCidr(raw);
    if (typeof c === "string") return err(k, c, isIpv4(raw) ? `write "${raw}/32" for a single address` : `use ${what}`);
    if (c.prefix === 0) return err(k, `"${raw}" matches every IPv4 address`, `list ${what}`);
    ok.push({ c, i });
  });
  for (const a of ok) {
    const b = ok.find((x) => x !== a && cidrContains(x.c, a.c) && (x.c.prefix < a.c.prefix || x.i < a.i));
    if (b) {
      const dup = b.c.prefix === a.c.prefix;
      err(
        `${key}[${a.i}]`,
        dup
          ? `"${a.c.text}" duplicates ${key}[${b.i}]`
          : `"${a.c.text}" lies inside ${key}[${b.i}] "${b.c.text}" (Squid warns and ignores such entries)`,
        `remove ${key}[${a.i}]`,
      );
    }
  }
  return ok.map((x) => x.c.text);
}

function checkPorts(key: string, list: unknown, err: Err): number[] {
  if (!Array.isArray(list) || list.length === 0) {
    err(key, "must be a non-empty array of TCP ports", `use e.g. [443], or omit ${key} for the default`);
    return [];
  }
  const out: number[] = [];
  list.forEach((p: unknown, i) => {
    if (!isPort(p)) return err(`${key}[${i}]`, `${show(p)} is not a TCP port`, "use an integer 1..65535");
    const j = out.indexOf(p);
    if (j >= 0) return err(`${key}[${i}]`, `${p} is listed twice`, `remove ${key}[${i}]`);
    out.push(p);
  });
  return out;
}

function isPort(p: unknown): p is number {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

function isIpv4(a: unknown): a is string {
  return (
    typeof a === "string" &&
    /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(a) &&
    a.split(".").every((o) => Number(o) <= 255 && String(Number(o)) === o)
  );
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
