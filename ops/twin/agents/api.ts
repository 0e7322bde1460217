/**
 * The private API stand-in. haproxy terminates TLS on each execute-api endpoint ENI and forwards here (a unix
 * socket, no network) with the endpoint's id and the caller's address. The resource policy decides with a kept
 * IAM simulator (@cloud-copilot/iam-simulate, with aws:SourceVpce from the endpoint the request came through);
 * an allowed request invokes the integration's function in its own ENI namespace with a REST proxy event.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { randomUUID } from "crypto";
import { anonymousPrincipal, runSimulation } from "@cloud-copilot/iam-simulate";

interface Config {
  socket: string;
  apiId: string;
  region: string;
  account: string;
  stage: string;
  routes: string[];
  policy: string;
  invoke: {
    ip: string;
    namespaces: string[];
    node: string;
    agent: string;
    bundle: string;
    handler: string;
    env: Record<string, string>;
    timeoutMs: number;
    fn: string;
    dir: string;
  };
}
const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Config;
let turn = 0;

function matchRoute(p: string): { resource: string; params: Record<string, string> } | undefined {
  for (const r of cfg.routes) {
    const tmpl = r.split(" ").pop()!;
    const names: string[] = [];
    const re = new RegExp("^" + tmpl.replace(/\{([^}]+)\}/g, (_, n: string) => (names.push(n), "([^/]+)")) + "/?$");
    const m = re.exec(p);
    if (m)
      return { resource: tmpl, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return undefined;
}

async function allowed(vpce: string, method: string, p: string): Promise<{ ok: boolean; why: string }> {
  if (!cfg.policy)
    return { ok: false, why: "the API has no resource policy (a PRIVATE API without one denies every call)" };
  const resource = `arn:aws:execute-api:${cfg.region}:${cfg.account}:${cfg.apiId}/${cfg.stage}/${method}${p}`;
  const r = await runSimulation(
    {
      request: {
        principal: anonymousPrincipal,
        action: "execute-api:Invoke",
        resource: { resource, accountId: cfg.account },
        contextVariables: { "aws:SourceVpce": vpce },
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: JSON.parse(cfg.policy),
    } as never,
    {},
  );
  if (r.resultType === "error")
    return { ok: false, why: `policy could not be evaluated: ${JSON.stringify(r.errors).slice(0, 300)}` };
  return { ok: r.overallResult === "Allowed", why: `${r.overallResult} for aws:SourceVpce=${vpce} on ${resource}` };
}

function invoke(event: unknown): Promise<{ ok: boolean; result?: any; error?: string }> {
  const inv = cfg.invoke;
  const id = randomUUID();
  const eventFile = path.join(inv.dir, `api-event-${id}.json`);
  const outFile = path.join(inv.dir, `api-result-${id}.json`);
  fs.writeFileSync(eventFile, JSON.stringify(event));
  const ns = inv.namespaces[turn++ % inv.namespaces.length];
  return new Promise((resolve) => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        inv.node,
        inv.agent,
        inv.bundle,
        inv.handler,
        eventFile,
        outFile,
        String(inv.timeoutMs),
        inv.fn,
      ],
      { env: inv.env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", () => {
      try {
        resolve(JSON.parse(fs.readFileSync(outFile, "utf8")));
      } catch {
        resolve({ ok: false, error: `the function wrote no result: ${err.slice(-500)}` });
      }
    });
  });
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c) => chunks.push(c));
  req.on(
    "end",
    () =>
      void (async () => {
        const vpce = String(req.headers["x-twin-vpce"] ?? "");
        const source = String(req.headers["x-twin-source"] ?? "");
        const url = new URL(req.url ?? "/", "https://api");
        const method = req.method ?? "GET";
        const stagePrefix = `/${cfg.stage}`;
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(typeof body === "string" ? body : JSON.stringify(body));
        };
        if (!url.pathname.startsWith(stagePrefix + "/") && url.pathname !== stagePrefix)
          return send(403, { message: "Forbidden" });
        const p = url.pathname.slice(stagePrefix.length) || "/";
        const decision = await allowed(vpce, method, p);
        if (!decision.ok)
          return send(
            403,
            { Message: `User: anonymous is not authorized to perform: execute-api:Invoke (${decision.why})` },
            { "x-twin-policy": decision.why },
          );
        const route = matchRoute(p);
        if (!route) return send(403, { message: "Missing Authentication Token" });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === "string" && !k.startsWith("x-twin-")) headers[k] = v;
        const event = {
          resource: route.resource,
          path: p,
          httpMethod: method,
          headers,
          multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
          queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
          multiValueQueryStringParameters: null,
          pathParameters: Object.keys(route.params).length ? route.params : null,
          body: chunks.length ? Buffer.concat(chunks).toString("utf8") : null,
          isBase64Encoded: false,
          requestContext: {
            requestId: randomUUID(),
            stage: cfg.stage,
            resourcePath: route.resource,
            httpMethod: method,
            path: url.pathname,
            identity: { sourceIp: source, vpceId: vpce, accountId: null },
          },
        };
        const r = await invoke(event);
        if (!r.ok || !r.result || typeof r.result.statusCode !== "number")
          return send(502, { message: "Internal server error", twin: r.error ?? "malformed proxy response" });
        res.writeHead(r.result.statusCode, r.result.headers ?? {});
        res.end(r.result.body ?? "");
      })(),
  );
});
fs.rmSync(cfg.socket, { force: true });
server.listen(cfg.socket, () => process.send?.({ type: "ready" }));
process.on("disconnect", () => process.exit(0));
