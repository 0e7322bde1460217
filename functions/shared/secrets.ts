/**
 * Secrets Manager reads shared by every handler: one SDK client per settings, short timeouts (in a VPC
 * without a route to Secrets Manager the call would otherwise hang until the Lambda timeout, which is the
 * failure each handler's message explains), a per-id cache of the read that keeps successes only, and one
 * classification of read failures. Parsing the value and wording the error stay with each handler; `jsonObject`
 * is the first step of the handlers whose secret may be JSON.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface SecretsClientOptions {
  /** Default: the function's region (the SDK's). */
  region?: string;
  /** Default 3. */
  maxAttempts?: number;
  /** Default 5000. */
  connectionTimeoutMs?: number;
  /** Default 10000. */
  requestTimeoutMs?: number;
}

const clients = new Map<string, SecretsManagerClient>();

function clientFor(opts: SecretsClientOptions): SecretsManagerClient {
  const o = {
    region: opts.region,
    maxAttempts: opts.maxAttempts ?? 3,
    connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
  };
  const key = JSON.stringify(o);
  let c = clients.get(key);
  if (!c) {
    c = new SecretsManagerClient({
      ...(o.region ? { region: o.region } : {}),
      maxAttempts: o.maxAttempts,
      requestHandler: { connectionTimeout: o.connectionTimeout, requestTimeout: o.requestTimeout },
    });
    clients.set(key, c);
  }
  return c;
}

/** The secret's SecretString (undefined for a binary secret). SDK errors propagate: classify them with `secretFailure`. */
export async function getSecretString(secretId: string, opts: SecretsClientOptions = {}): Promise<string | undefined> {
  return (await clientFor(opts).send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

export interface SecretFailure {
  kind: "notFound" | "accessDenied" | "unreachable" | "other";
  /** The SDK error's name, e.g. AccessDeniedException. */
  name: string;
  /** `<name>[ <code>]: <message>`, safe to show (the SDK never echoes the value). */
  detail: string;
}

const NETWORK =
  /timeout|timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONN|socket|NetworkingError/i;

/** What went wrong with a read, in the terms a fix depends on. */
export function secretFailure(err: unknown): SecretFailure {
  const e = err as { name?: string; code?: string; message?: string };
  const name = e?.name ?? "Error";
  const detail = `${name}${e?.code && e.code !== name ? ` ${e.code}` : ""}: ${e?.message ?? String(err)}`;
  if (name === "ResourceNotFoundException") return { kind: "notFound", name, detail };
  if (name === "AccessDeniedException" || name === "DecryptionFailure" || name === "KMSAccessDeniedException")
    return { kind: "accessDenied", name, detail };
  if (NETWORK.test(`${name} ${e?.code ?? ""} ${e?.message ?? ""}`)) return { kind: "unreachable", name, detail };
  return { kind: "other", name, detail };
}

/**
 * Per-key memo of an async read for warm invocations: concurrent callers share one read, a failed read is
 * not kept (the next call tries again), and `forget` drops a value the far side refused (a rotated secret).
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  get(key: string, read: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const p = read();
    this.entries.set(key, p);
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key);
    });
    return p;
  }

  forget(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}

/** A secret's text as a JSON object (its fields unchecked); undefined when it is not JSON or not an object. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
