/**
 * The Squid proxy tier: one reader for squid.conf wherever the graph holds it (plain or base64 user
 * data, a heredoc in a boot script; components/squid-conf.ts renders it, this reads it back), the
 * access rules' first-match evaluation for an abstract request (Squid's http_access semantics:
 * the first line whose ACLs all match decides; with no match, the opposite of the last line), and
 * the static problems the policy rule reports (an allow line that does not AND the secret header
 * with the domain whitelist, no final "http_access deny all").
 */
import { Res } from "../model/graph";
import { anyContains, Cidr, cidrOf, isPrivateCidr } from "../model/values";

export interface SquidAcl {
  type: string;
  args: string[];
}

export interface SquidAccess {
  action: "allow" | "deny";
  conds: { name: string; negated: boolean }[];
  line: string;
}

export interface SquidConf {
  text: string;
  /** The first http_port. */
  port?: number;
  /** The header the first req_header ACL checks. */
  headerName?: string;
  /** Every dstdomain entry. */
  domains: string[];
  acls: Map<string, SquidAcl[]>;
  /** The http_access allow/deny lines, in order. */
  access: SquidAccess[];
  /** Every http_access line (any action), in order, as written. */
  accessLines: { action: string; acls: string[]; line: string }[];
}

const HTTP_ACCESS = /^\s*http_access\s/m;

/** squid.conf texts found in a value (resource inputs or properties; plain or base64 user data, heredocs in a boot script). */
export function findSquidConfs(value: unknown): string[] {
  const out: string[] = [];
  const visit = (x: unknown, depth: number) => {
    if (depth > 6 || x === null || x === undefined) return;
    if (typeof x === "string") {
      const text = squidText(x);
      if (text) out.push(...extractConfs(text));
      return;
    }
    if (Array.isArray(x)) x.forEach((y) => visit(y, depth + 1));
    else if (typeof x === "object") Object.values(x as Record<string, unknown>).forEach((y) => visit(y, depth + 1));
  };
  visit(value, 0);
  return out;
}

function squidText(s: string): string | undefined {
  if (HTTP_ACCESS.test(s)) return s;
  if (s.length >= 64 && /^[A-Za-z0-9+/=\s]+$/.test(s)) {
    const decoded = Buffer.from(s, "base64").toString("utf8");
    if (HTTP_ACCESS.test(decoded)) return decoded;
  }
  return undefined;
}

/** Heredoc bodies that hold http_access lines, or the text itself when it is a bare squid.conf. */
function extractConfs(text: string): string[] {
  const bodies: string[] = [];
  const re = /<<-?\s*(['"]?)(\w+)\1[^\n]*\n([\s\S]*?)\n\s*\2\s*(?:\n|$)/g;
  for (let mm = re.exec(text); mm; mm = re.exec(text)) {
    if (HTTP_ACCESS.test(mm[3])) bodies.push(mm[3]);
  }
  return bodies.length > 0 ? bodies : [text];
}

/** The squid.conf a launch template's user data writes, parsed; undefined when it writes none. */
export function squidConfOf(lt: Res): SquidConf | undefined {
  const conf = findSquidConfs(lt.inputs.userData)[0];
  return conf === undefined ? undefined : parseSquidConf(conf);
}

export function parseSquidConf(text: string): SquidConf {
  const acls = new Map<string, SquidAcl[]>();
  const access: SquidAccess[] = [];
  const accessLines: SquidConf["accessLines"] = [];
  let port: number | undefined;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const tokens = line.split(/\s+/);
    if (tokens[0] === "http_port" && port === undefined) {
      const m = /(\d+)$/.exec(tokens[1] ?? "");
      if (m) port = Number(m[1]);
    } else if (tokens[0] === "acl" && tokens.length >= 3) {
      const [, name, type, ...args] = tokens;
      const list = acls.get(name) ?? [];
      list.push({ type, args: args.filter((a) => !/^-[a-z]$/i.test(a)) });
      acls.set(name, list);
    } else if (tokens[0] === "http_access" && tokens.length >= 2) {
      accessLines.push({ action: tokens[1], acls: tokens.slice(2), line });
      if (tokens[1] === "allow" || tokens[1] === "deny") {
        access.push({
          action: tokens[1],
          conds: tokens.slice(2).map((t) => ({ name: t.replace(/^!/, ""), negated: t.startsWith("!") })),
          line,
        });
      }
    }
  }
  const headerAcl = [...acls.values()].flat().find((a) => a.type === "req_header");
  const domains = [...acls.values()]
    .flat()
    .filter((a) => a.type === "dstdomain")
    .flatMap((a) => a.args);
  return { text, port, headerName: headerAcl?.args[0], domains, acls, access, accessLines };
}

/** dstdomain matching: ".example.com" covers the domain and its subdomains; otherwise exact (case-insensitive). */
export function domainMatches(entry: string, host: string): boolean {
  const e = entry.toLowerCase();
  const h = host.toLowerCase();
  return e.startsWith(".") ? h === e.slice(1) || h.endsWith(e) : h === e;
}

export interface SquidRequest {
  src: Cidr[];
  host: string;
  port: number;
  method: string;
  header: boolean;
}

/** First-match evaluation of http_access for an abstract request; Squid's default when nothing matches is the opposite of the last line. */
export function evaluateSquid(conf: SquidConf, req: SquidRequest): { action: "allow" | "deny"; line?: string } {
  const aclHolds = (name: string): boolean => {
    if (name === "all") return true;
    const entries = conf.acls.get(name);
    if (!entries) return true;
    return entries.some((e) => {
      switch (e.type) {
        case "src": {
          const cidrs = e.args.map((a) => cidrOf(a.includes("/") ? a : `${a}/32`)).filter((c): c is Cidr => !!c);
          return req.src.length > 0 && req.src.every((s) => anyContains(cidrs, s));
        }
        case "dstdomain":
          return e.args.some((d) => domainMatches(d, req.host));
        case "req_header":
          return req.header && e.args[0]?.toLowerCase() === conf.headerName?.toLowerCase();
        case "method":
          return e.args.includes(req.method);
        case "port":
          return e.args.some((p) => {
            const [a, b] = p.split("-").map(Number);
            return b === undefined ? a === req.port : a <= req.port && req.port <= b;
          });
        case "proto":
          return req.method !== "CONNECT" && e.args.some((p) => /^https?$/i.test(p));
        // The destination is a public SaaS address: never loopback, link-local or private.
        case "dst":
          return (
            e.args.every((a) => {
              const c = cidrOf(a);
              return c === undefined || !isPrivateCidr(c);
            }) && e.args.some((a) => cidrOf(a) !== undefined && !isPrivateCidr(cidrOf(a) as Cidr))
          );
        default:
          return true;
      }
    });
  };
  for (const rule of conf.access) {
    if (rule.conds.every((c) => aclHolds(c.name) !== c.negated)) return { action: rule.action, line: rule.line };
  }
  const last = conf.access[conf.access.length - 1];
  return { action: last && last.action === "deny" ? "allow" : "deny" };
}

const HEADER_ACL_TYPES = new Set(["req_header", "proxy_auth", "proxy_auth_regex", "external"]);
const DOMAIN_ACL_TYPES = new Set(["dstdomain", "dstdom_regex", "ssl::server_name", "ssl::server_name_regex"]);

/** Problems with a squid.conf's access rules, each a clause naming the line and the fix. */
export function squidConfProblems(text: string): string[] {
  const conf = parseSquidConf(text);
  const aclTypes = new Map<string, Set<string>>();
  for (const [name, entries] of conf.acls) aclTypes.set(name, new Set(entries.map((e) => e.type)));
  const access = conf.accessLines;
  const problems: string[] = [];
  const has = (acls: string[], types: Set<string>) =>
    acls.some((a) => !a.startsWith("!") && [...(aclTypes.get(a) ?? [])].some((t) => types.has(t)));
  for (const a of access.filter((x) => x.action === "allow")) {
    const missing: string[] = [];
    if (!has(a.acls, HEADER_ACL_TYPES)) missing.push("a secret-header (req_header) ACL");
    if (!has(a.acls, DOMAIN_ACL_TYPES)) missing.push("a domain-whitelist (dstdomain) ACL");
    if (missing.length > 0)
      problems.push(
        `"${a.line}" lacks ${missing.join(" and ")}, so it admits requests that fail the other check (header OR domain); put the header and domain ACLs on one allow line.`,
      );
  }
  const last = access[access.length - 1];
  if (!last || last.action !== "deny" || last.acls.join(" ") !== "all") {
    problems.push(
      `the http_access rules end with "${last?.line ?? "(none)"}" instead of "http_access deny all"; add http_access deny all as the last access rule.`,
    );
  }
  return problems;
}
