/**
 * Opaque page cursors. A cursor is the position after the last pet of a page (its insertion sequence),
 * base64url-encoded with a version, so clients treat it as a token and the encoding can change later.
 * It is not a secret: a tampered cursor can only select another page of the same list.
 */

const VERSION = 1;

export function encodeCursor(afterSeq: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, after: afterSeq }), "utf8").toString("base64url");
}

/** The sequence to continue after, or undefined when the cursor is not one this API issued. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { v?: unknown; after?: unknown };
    if (v?.v !== VERSION || typeof v.after !== "string" || !/^\d{1,18}$/.test(v.after)) return undefined;
    return v.after;
  } catch {
    return undefined;
  }
}
