/**
 * How the checker reads input values: graph.json holds inputs as plain JSON (references as ids,
 * secrets as "[secret]"), the policy pack holds resolved properties with "[unknown]" for values
 * `pulumi preview` cannot know yet. Every module under ops/check/ reads values through these.
 */
import { Cidr, cidrContains, cidrsOverlap, tryParseCidr } from "../../../components/cidr";

/** Stands for a value that is not known (policy pack during preview). */
export const UNKNOWN = "[unknown]";
/** Stands for a secret value (graph.json and the policy pack). */
export const SECRET = "[secret]";

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN || v === SECRET;
}

/** A non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A list-valued input as strings: a list, one string, or a JSON list in a string (some providers take lists as JSON text). */
export function strs(v: unknown): string[] {
  if (typeof v === "string") {
    if (v.startsWith("[")) {
      try {
        const parsed = JSON.parse(v);
        if (Array.isArray(parsed)) return parsed.filter((x): x is string => typeof x === "string");
      } catch {
        /* a plain string */
      }
    }
    return v === "" ? [] : [v];
  }
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string" && x !== "");
  return [];
}

/** Every string in a value, nested lists flattened (policy documents' Action, Resource…). */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap((x) => strings(x));
  return [];
}

/** A boolean input as AWS reads it (true/"true", false/"false"), else the default. */
export function asBool(v: unknown, dflt: boolean): boolean {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return dflt;
}

export function num(v: unknown, dflt: number): number {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : dflt;
}

export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

const parsedCidrs = new Map<string, Cidr | undefined>();

/** Parses an IPv4 CIDR (memoized: graphs repeat the same blocks thousands of times); undefined if not one. */
export function cidrOf(text: unknown): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  if (parsedCidrs.has(text)) return parsedCidrs.get(text);
  const c = tryParseCidr(text);
  const v = typeof c === "string" ? undefined : c;
  if (parsedCidrs.size < 100000) parsedCidrs.set(text, v);
  return v;
}

const PRIVATE_RANGES = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "127.0.0.0/8",
].map((c) => cidrOf(c) as Cidr);

/** True when the block lies entirely in private (RFC 1918, CGNAT, link-local, loopback) space. */
export function isPrivateCidr(c: Cidr): boolean {
  return PRIVATE_RANGES.some((p) => cidrContains(p, c));
}

/** True when the block includes any public address. */
export function touchesPublic(c: Cidr): boolean {
  return !isPrivateCidr(c);
}

export const ANYWHERE = cidrOf("0.0.0.0/0") as Cidr;

/** True when any of `outer` contains `inner`. */
export function anyContains(outer: Cidr[], inner: Cidr): boolean {
  return outer.some((o) => cidrContains(o, inner));
}

export { cidrContains, cidrsOverlap };
export type { Cidr };
