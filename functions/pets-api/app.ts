/**
 * The pets API's routing and rules, independent of how the database is reached:
 *   GET  /pets?limit=1..100&cursor=…   → 200 { items, nextCursor }
 *   POST /pets  { name, species, birthDate?, tags? } → 201 pet (Location: /<stage>/pets/<id>)
 *   GET  /pets/{id}                     → 200 pet, 404 when no such pet
 *   HEAD on both                        → the GET's status and headers, no body (RFC 9110 §9.3.2)
 *   OPTIONS on both                     → 204 with Allow (RFC 9110 §9.3.7)
 * Bad input is a 400 JSON error naming the field; other methods are 405 with an Allow header.
 * The API routes ANY to this function, so HEAD and OPTIONS reach it too; a trailing slash (/pets/<id>/), as a
 * greedy {proxy+} resource passes it through, names the same resource.
 */
import { randomUUID } from "crypto";
import type { Logger } from "../shared/log";
import { errorFields } from "../shared/log";
import { decodeCursor, encodeCursor } from "./cursor";
import { errorResponse, header, json, queryParam, RestProxyEvent, RestProxyResult } from "./http";
import { PetStore } from "./store";
import { FieldIssue, fieldIssues, isUuid, MAX_BODY_BYTES, newPetSchema, parseLimit } from "./validation";

/** Methods each resource answers; everything else is a 405 naming these. */
const ALLOWED: Record<string, string[]> = {
  "/pets": ["GET", "HEAD", "POST", "OPTIONS"],
  "/pets/{id}": ["GET", "HEAD", "OPTIONS"],
};

export class PetsApp {
  constructor(
    private readonly store: PetStore,
    private readonly log: Logger,
    private readonly newId: () => string = randomUUID,
  ) {}

  async handle(event: RestProxyEvent): Promise<RestProxyResult> {
    const requestId = event.requestContext?.requestId;
    const resource = routeOf(event);
    if (!resource) {
      return errorResponse(404, {
        error: "NotFound",
        message: `no resource at ${event.path}; this API serves /pets and /pets/{id}`,
        requestId,
      });
    }
    const method = (event.httpMethod ?? "").toUpperCase();
    const allowed = ALLOWED[resource];
    if (!allowed.includes(method)) {
      return errorResponse(
        405,
        {
          error: "MethodNotAllowed",
          message: `${method} is not allowed on ${resource}; use ${allowed.join(" or ")}`,
          requestId,
        },
        { allow: allowed.join(", ") },
      );
    }
    if (method === "OPTIONS")
      return { statusCode: 204, headers: { allow: allowed.join(", "), "cache-control": "no-store" }, body: "" };
    // HEAD runs the GET and drops the body: same status, same headers (content-type included), as RFC 9110 asks.
    if (method === "HEAD") return withoutBody(await this.handle({ ...event, httpMethod: "GET" }));
    try {
      if (resource === "/pets" && method === "GET") return await this.list(event, requestId);
      if (resource === "/pets" && method === "POST") return await this.create(event, requestId);
      return await this.get(event, requestId);
    } catch (err) {
      // The database's message may name tables, hosts or parameters: it goes to the log, not the caller.
      this.log.error("request failed", { requestId, method, resource, ...errorFields(err) });
      return errorResponse(500, {
        error: "InternalError",
        message: "the request could not be completed; retry later",
        requestId,
      });
    }
  }

  private async list(event: RestProxyEvent, requestId?: string): Promise<RestProxyResult> {
    const issues: FieldIssue[] = [];
    const limitParam = queryParam(event, "limit");
    const cursorParam = queryParam(event, "cursor");
    if (limitParam.repeated) issues.push({ field: "limit", message: "is given more than once" });
    if (cursorParam.repeated) issues.push({ field: "cursor", message: "is given more than once" });
    const limit = parseLimit(limitParam.value);
    if (typeof limit !== "number") issues.push(limit);
    let after: string | undefined;
    if (cursorParam.value !== undefined && cursorParam.value !== "") {
      after = decodeCursor(cursorParam.value);
      if (after === undefined)
        issues.push({
          field: "cursor",
          message: "is not a cursor this API issued; pass nextCursor from the previous page unchanged",
        });
    }
    if (issues.length > 0) return badRequest(issues, requestId);
    const page = await this.store.list(limit as number, after);
    return json(200, { items: page.items, nextCursor: page.lastSeq ? encodeCursor(page.lastSeq) : null });
  }

  private async get(event: RestProxyEvent, requestId?: string): Promise<RestProxyResult> {
    // The path parameter exists only on the /pets/{id} resource; under a greedy {proxy+} resource the id is the
    // last segment of the path, which may end in a slash.
    const id =
      (event.resource === "/pets/{id}" ? event.pathParameters?.id : undefined) ??
      trimSlashes(event.path ?? "")
        .split("/")
        .pop() ??
      "";
    if (!isUuid(id))
      return badRequest([{ field: "id", message: `must be a pet id (a UUID); got "${id.slice(0, 64)}"` }], requestId);
    const pet = await this.store.get(id.toLowerCase());
    if (!pet) return errorResponse(404, { error: "NotFound", message: `no pet with id ${id}`, field: "id", requestId });
    return json(200, pet);
  }

  private async create(event: RestProxyEvent, requestId?: string): Promise<RestProxyResult> {
    const type = header(event, "content-type");
    if (type !== undefined && !/^application\/(.+\+)?json\s*(;.*)?$/i.test(type.trim())) {
      return errorResponse(415, {
        error: "UnsupportedMediaType",
        message: `send the pet as JSON (content-type: application/json); got "${type}"`,
        field: "content-type",
        requestId,
      });
    }
    const raw =
      event.body == null ? "" : event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
    if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
      return errorResponse(413, {
        error: "PayloadTooLarge",
        message: `the body is larger than ${MAX_BODY_BYTES} bytes`,
        field: "body",
        requestId,
      });
    }
    if (raw.trim() === "")
      return badRequest(
        [{ field: "body", message: 'is empty; send a JSON object such as {"name": "Rex", "species": "dog"}' }],
        requestId,
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return badRequest([{ field: "body", message: `is not valid JSON (${(e as Error).message})` }], requestId);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return badRequest([{ field: "body", message: "must be a JSON object with name and species" }], requestId);
    }
    const result = newPetSchema.safeParse(parsed);
    if (!result.success) return badRequest(fieldIssues(result.error, parsed), requestId);
    const pet = await this.store.create(this.newId(), result.data);
    const stage = event.requestContext?.stage;
    return json(201, pet, { location: `${stage ? `/${stage}` : ""}/pets/${pet.id}` });
  }
}

/** The route template: API Gateway's `resource` when the route names one, else matched from the path. */
function routeOf(event: RestProxyEvent): string | undefined {
  if (event.resource && ALLOWED[event.resource]) return event.resource;
  const path = trimSlashes(event.path ?? "");
  if (path === "/pets") return "/pets";
  if (/^\/pets\/[^/]+$/.test(path)) return "/pets/{id}";
  return undefined;
}

function trimSlashes(path: string): string {
  return path.replace(/\/+$/, "");
}

/** API Gateway sets Content-Length itself; the GET's other headers stay. */
function withoutBody(res: RestProxyResult): RestProxyResult {
  return { ...res, body: "" };
}

function badRequest(issues: FieldIssue[], requestId?: string): RestProxyResult {
  const first = issues[0];
  return errorResponse(400, {
    error: "ValidationError",
    message: issues.map((i) => `${i.field} ${i.message}`).join("; "),
    field: first.field,
    issues,
    requestId,
  });
}
