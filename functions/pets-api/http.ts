/**
 * API Gateway REST (v1) Lambda proxy shapes, the part this handler reads, and JSON responses.
 * The full event is documented in the API Gateway developer guide ("Input format of a Lambda function
 * for proxy integration"); only what is used here is typed.
 */

export interface RestProxyEvent {
  /** The route's resource template, e.g. "/pets/{id}". */
  resource: string;
  /** The request path without the stage, e.g. "/pets/3f0c…". */
  path: string;
  httpMethod: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  pathParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: {
    requestId?: string;
    stage?: string;
    resourcePath?: string;
    httpMethod?: string;
    /** The path with the stage, e.g. "/v1/pets". */
    path?: string;
    identity?: { sourceIp?: string; vpceId?: string; accountId?: string | null };
  };
}

export interface RestProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

/** Every error body: a machine-readable `error`, a sentence, and the offending field when there is one. */
export interface ErrorBody {
  error:
    | "ValidationError"
    | "NotFound"
    | "MethodNotAllowed"
    | "UnsupportedMediaType"
    | "PayloadTooLarge"
    | "ServiceUnavailable"
    | "InternalError";
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
  requestId?: string;
}

const BASE_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): RestProxyResult {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(
  statusCode: number,
  body: ErrorBody,
  headers: Record<string, string> = {},
): RestProxyResult {
  return json(statusCode, body, headers);
}

/** A header's value, case-insensitively (API Gateway passes the client's casing through). */
export function header(event: RestProxyEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === lower && v !== undefined) return v;
  for (const [k, v] of Object.entries(event.multiValueHeaders ?? {}))
    if (k.toLowerCase() === lower && v && v.length > 0) return v[0];
  return undefined;
}

/** A query parameter; repeated parameters are an error the caller reports (ambiguous input). */
export function queryParam(event: RestProxyEvent, name: string): { value?: string; repeated: boolean } {
  const multi = event.multiValueQueryStringParameters?.[name];
  if (multi && multi.length > 1) return { value: multi[0], repeated: true };
  return { value: event.queryStringParameters?.[name] ?? multi?.[0], repeated: false };
}
