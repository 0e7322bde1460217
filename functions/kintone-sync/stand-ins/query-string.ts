/**
 * What the kintone-sync bundle gives @kintone/rest-api-client in place of qs (see ../bundle-options.ts): the client
 * calls only `qs.stringify(params)` with qs's defaults, to put a GET request's parameters in its URL. Same output as
 * qs for the values the REST API takes: `a=1&fields%5B0%5D=x&fields%5B1%5D=y&o%5Bk%5D=v`, undefined skipped, null
 * as an empty value, RFC 3986 percent-encoding (unreserved characters `A-Z a-z 0-9 - . _ ~` kept).
 */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function pairs(key: string, value: unknown, out: string[]): void {
  if (value === undefined) return;
  if (value === null) {
    out.push(`${encode(key)}=`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => pairs(`${key}[${i}]`, v, out));
  } else if (value instanceof Date) {
    out.push(`${encode(key)}=${encode(value.toISOString())}`);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) pairs(`${key}[${k}]`, v, out);
  } else {
    out.push(`${encode(key)}=${encode(String(value))}`);
  }
}

export function stringify(params: unknown): string {
  if (params === null || typeof params !== "object") return "";
  const out: string[] = [];
  for (const [k, v] of Object.entries(params)) pairs(k, v, out);
  return out.join("&");
}

export default { stringify };
