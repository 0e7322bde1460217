/** IPv4 arithmetic for the twin (its own, so the twin shares no code with the checker). */

export function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Cidr {
  base: number;
  bits: number;
  text: string;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: ${text}`);
  const bits = Number(m[2]);
  if (bits < 0 || bits > 32) throw new Error(`bad prefix length in ${text}`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const base = (ipToInt(m[1]) & mask) >>> 0;
  return { base, bits, text: `${intToIp(base)}/${bits}` };
}

/** The address `offset` into the block (AWS: .1 router, .2 DNS, .3 reserved, .4+ ENIs). */
export function hostAt(c: Cidr, offset: number): string {
  const size = 2 ** (32 - c.bits);
  if (offset < 0 || offset >= size) throw new Error(`offset ${offset} outside ${c.text}`);
  return intToIp((c.base + offset) >>> 0);
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function contains(c: Cidr, ip: string): boolean {
  const mask = c.bits === 0 ? 0 : (0xffffffff << (32 - c.bits)) >>> 0;
  return (ipToInt(ip) & mask) >>> 0 === c.base;
}
