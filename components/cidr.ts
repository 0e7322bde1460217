/** IPv4 CIDR arithmetic used by validation (before anything is registered) and by subnet planning. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
  text: string;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns an error sentence instead of throwing so callers can name the key. */
export function tryParseCidr(text: string): Cidr | string {
  const m = CIDR_RE.exec(text);
  if (!m) return `"${text}" is not an IPv4 CIDR like 10.0.0.0/16`;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255)) return `"${text}" has an octet above 255`;
  if (prefix > 32) return `"${text}" has a prefix length above 32`;
  const addr = ipToInt(octets);
  const mask = prefixMask(prefix);
  if ((addr & mask) >>> 0 !== addr) {
    return `"${text}" has host bits set: the network address is ${intToIp((addr & mask) >>> 0)}/${prefix}`;
  }
  return { base: addr, prefix, text };
}

export function parseCidr(text: string): Cidr {
  const c = tryParseCidr(text);
  if (typeof c === "string") throw new Error(c);
  return c;
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function ipToInt(octets: number[]): number {
  return (((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && (inner.base & prefixMask(outer.prefix)) >>> 0 === outer.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** True when the IPv4 address `ip` lies in `c`. */
export function ipInCidr(ip: string, c: Cidr): boolean {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  return (ipToInt(parts) & prefixMask(c.prefix)) >>> 0 === c.base;
}

/** The `index`-th block of length `newPrefix` inside `parent`, or undefined if it does not fit. */
export function subCidr(parent: Cidr, newPrefix: number, index: number): string | undefined {
  if (newPrefix < parent.prefix || newPrefix > 32) return undefined;
  const count = 2 ** (newPrefix - parent.prefix);
  if (index < 0 || index >= count) return undefined;
  return `${intToIp((parent.base + index * 2 ** (32 - newPrefix)) >>> 0)}/${newPrefix}`;
}
