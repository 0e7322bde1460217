import * as net from "net";
import type { Graph } from "../../ops/synth-core";
import { DECLARATIONS, graphContext } from "../../ops/check/evidence";
import { functionFacts, resolveCall } from "../../ops/check/iam/calls";
import { evaluate } from "../../ops/check/iam/evaluate";
import { parseSquidConf, findSquidConfs, domainMatches } from "../../ops/check/eval/proxy";

/**
 * Records the outbound connections and AWS requests a bundled handler makes, and maps them onto the
 * function's declared flows and IAM statements in a stack graph.
 *
 * Attribution: bundles run in the test's process (test/support/bundled.ts writes them under
 * out/test-bundles/<name>-<sha>/), so a connect or request whose call stack (async frames included:
 * the AWS SDK stays external to the bundle and sends from node_modules after awaits) holds a frame
 * of that file belongs to that function; the test's own clients (pg setup, moto seeding) do not.
 */
export interface Recorded {
  fn: string;
  /** connect: a TCP connection; tunnel: a CONNECT sent on a connection (the proxy's target); aws: a signed AWS request. */
  kind: "connect" | "tunnel" | "aws";
  /** connect: the TCP peer. tunnel: the CONNECT target. aws: the request's host. */
  host: string;
  port: number;
  /** tunnel only: the proxy the CONNECT went to. */
  via?: { host: string; port: number };
  /** aws only: service:Action (the IAM action the request needs). */
  action?: string;
  /** aws only: what the request names. */
  target?: AwsTarget;
  /** The environment when it was made (the handler's configuration), for the loopback → deployed mapping. */
  env?: Record<string, string | undefined>;
}

/** The resource fields of an AWS request that IAM authorizes against. */
export interface AwsTarget {
  secretId?: string;
  table?: string;
  bucket?: string;
  key?: string;
  /** s3:ListBucket's prefix (the s3:prefix condition key). */
  prefix?: string;
  /** rds-data: the cluster ARN. */
  resourceArn?: string;
}

const BUNDLE_FRAME = /test-bundles[\\/]([a-z0-9-]+?)-[0-9a-f]{12}[\\/]/;
const TEST_FRAME = /[\\/]test[\\/](?!support[\\/]connections\.ts)[^\s()]+\.ts:/;

/**
 * The bundle whose frame is nearest the top of the call stack, unless a test file's frame comes first:
 * a fake answering inside an SDK mock (its pg connection) runs under the bundle's async frames but is
 * the test's, not the handler's.
 */
function callerFunction(): string | undefined {
  // The SDK's middleware stack is deep; the bundle's frame sits behind it as an async frame.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  let stack: string;
  try {
    stack = new Error().stack ?? "";
  } finally {
    Error.stackTraceLimit = limit;
  }
  for (const line of stack.split("\n").slice(1)) {
    const b = BUNDLE_FRAME.exec(line);
    if (b) return b[1];
    if (TEST_FRAME.test(line)) return undefined;
  }
  return undefined;
}

const RDS_DATA_PATHS: Record<string, string> = {
  "/Execute": "ExecuteStatement",
  "/BatchExecute": "BatchExecuteStatement",
  "/BeginTransaction": "BeginTransaction",
  "/CommitTransaction": "CommitTransaction",
  "/RollbackTransaction": "RollbackTransaction",
  "/ExecuteSql": "ExecuteSql",
};

/**
 * The IAM action and resource fields of a signed request. S3 (REST-XML) by method, path and query
 * (path-style addressing, which the SDK uses for an IP-address endpoint; a virtual-hosted bucket is
 * read from the Host header's first label); rds-data (REST-JSON) by path; JSON protocols by X-Amz-Target.
 * Sources: the S3 API reference's "permissions" section of each operation (HeadObject needs
 * s3:GetObject, DeleteObjects needs s3:DeleteObject, ListObjectsV2 needs s3:ListBucket).
 */
export function awsCallOf(
  headers: Record<string, unknown>,
  method: string,
  rawPath: string,
  body: string,
): { action: string; target: AwsTarget; more?: AwsTarget[] } | undefined {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(h.authorization ?? "")?.[1];
  if (!scope) return undefined;
  const json = (): Record<string, unknown> => {
    try {
      return JSON.parse(body || "{}") as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const target = h["x-amz-target"];
  if (target) {
    const b = json();
    const t: AwsTarget = {};
    if (typeof b.SecretId === "string") t.secretId = b.SecretId;
    if (typeof b.TableName === "string") t.table = b.TableName;
    return { action: `${scope}:${target.split(".").pop()}`, target: t };
  }
  const [pathPart, query = ""] = rawPath.split("?");
  if (scope === "s3") {
    const q = new URLSearchParams(query);
    const segs = pathPart.split("/").slice(1).map(decodeURIComponent);
    const hostBucket = /^([a-z0-9.-]+?)\.(?:s3[.-]|127\.|localhost)/.exec(h.host ?? "")?.[1];
    const bucket = hostBucket ?? segs.shift() ?? "";
    const key = segs.join("/");
    const t: AwsTarget = { bucket };
    if (key) t.key = key;
    if (!key && method === "GET") return { action: "s3:ListBucket", target: { bucket, prefix: q.get("prefix") ?? "" } };
    if (!key && method === "POST" && q.has("delete")) {
      // DeleteObjects: s3:DeleteObject on every key of the request body (the first one stands for the call).
      const keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((x) => decodeXml(x[1]));
      return {
        action: "s3:DeleteObject",
        target: { bucket, key: keys[0] ?? "" },
        more: keys.slice(1).map((k) => ({ bucket, key: k })),
      };
    }
    const byMethod: Record<string, string> = {
      PUT: "PutObject",
      GET: "GetObject",
      HEAD: "GetObject",
      DELETE: "DeleteObject",
      POST: "PutObject",
    };
    return { action: `s3:${byMethod[method] ?? method}`, target: t };
  }
  if (scope === "rds-data") {
    const b = json();
    return {
      action: `rds-data:${RDS_DATA_PATHS[pathPart] ?? pathPart}`,
      target: typeof b.resourceArn === "string" ? { resourceArn: b.resourceArn } : {},
    };
  }
  return { action: `${scope}:${method} ${pathPart}`, target: {} };
}

function decodeXml(s: string): string {
  return s.replace(
    /&lt;|&gt;|&quot;|&apos;|&amp;/g,
    (e) => ({ "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&" })[e] as string,
  );
}

function snapshotEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/** Starts recording into `into`; returns the function that stops it. Records are deduplicated. */
export function recordConnections(into: Recorded[]): () => void {
  const seen = new Set<string>();
  const push = (r: Recorded) => {
    const key = JSON.stringify([r.fn, r.kind, r.host, r.port, r.via, r.action, r.target]);
    if (seen.has(key)) return;
    seen.add(key);
    into.push({ ...r, env: snapshotEnv() });
  };
  const origConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const fn = callerFunction();
    let watch: { host: string; port: number } | undefined;
    if (fn) {
      // net.connect passes its normalized arguments as one array ([options, callback]).
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      const o = (typeof first === "object" && first !== null ? first : { port: first, host: args[1] }) as {
        port?: unknown;
        host?: unknown;
        path?: unknown;
      };
      if (o.path === undefined) {
        const peer = { host: String(o.host ?? "localhost"), port: Number(o.port) };
        push({ fn, kind: "connect", ...peer });
        watch = peer;
      }
    }
    const result = (origConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    if (fn && watch) {
      // A proxy client's first bytes on the connection: CONNECT host:port names the real destination.
      // (Hooked after connect(), which resets an instance's write.)
      const sock = result; // connect() returns the socket itself
      const via = watch;
      const origWrite = sock.write;
      sock.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
        sock.write = origWrite;
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("latin1", 0, 300) : "";
        const m = /^CONNECT ([^\s:]+|\[[^\]]+\]):(\d+) HTTP\//.exec(text);
        if (m) push({ fn, kind: "tunnel", host: m[1], port: Number(m[2]), via });
        return (origWrite as (...a: unknown[]) => boolean).apply(this, [chunk, ...rest]);
      } as typeof sock.write;
    }
    return result;
  } as typeof origConnect;
  const http = require("http") as typeof import("http");
  const https = require("https") as typeof import("https");
  const wrap = (mod: typeof http | typeof https, defPort: number) => {
    const orig = mod.request;
    (mod as { request: unknown }).request = function (...args: unknown[]) {
      const req = (orig as (...a: unknown[]) => import("http").ClientRequest).apply(mod, args);
      const fn = callerFunction();
      if (fn) {
        // The agent opens the socket after this stack has unwound: the request names the peer. A proxy
        // agent's own connect to the proxy is recorded at net.connect (its frame is the bundle's).
        const agent = (req as unknown as { agent?: { proxy?: unknown } }).agent;
        const hostHeader = String(req.getHeader("host") ?? req.host);
        const peerPort = Number(/:(\d+)$/.exec(hostHeader)?.[1] ?? defPort);
        if (!(agent && typeof agent === "object" && "proxy" in agent))
          push({ fn, kind: "connect", host: String(req.host), port: peerPort });
        const chunks: string[] = [];
        const keep = (c: unknown) => {
          if (typeof c === "string") chunks.push(c);
          else if (Buffer.isBuffer(c) || c instanceof Uint8Array) chunks.push(Buffer.from(c).toString("utf8"));
        };
        const origWrite = req.write.bind(req);
        req.write = ((c: unknown, ...a: unknown[]) => {
          keep(c);
          return (origWrite as (...x: unknown[]) => boolean)(c, ...a);
        }) as typeof req.write;
        const origEnd = req.end.bind(req);
        req.end = ((...a: unknown[]) => {
          if (typeof a[0] !== "function") keep(a[0]);
          const headers = req.getHeaders() as Record<string, unknown>;
          const call = awsCallOf(headers, req.method, req.path, chunks.join(""));
          for (const target of call ? [call.target, ...(call.more ?? [])] : [])
            push({ fn, kind: "aws", host: String(req.host), port: peerPort, action: call?.action, target });
          return (origEnd as (...x: unknown[]) => unknown)(...a);
        }) as typeof req.end;
      }
      return req;
    };
    return () => ((mod as { request: unknown }).request = orig);
  };
  const undoHttp = wrap(http, 80);
  const undoHttps = wrap(https, 443);
  return () => {
    net.Socket.prototype.connect = origConnect;
    undoHttp();
    undoHttps();
  };
}

/** What a recorded address stands for in the deployed network. */
export interface LogicalTarget {
  host: string;
  port: number;
  /** Reached through the proxy tier (the handler's proxy setting pointed at this address). */
  viaProxy?: boolean;
  /** An AWS service endpoint (e.g. "secretsmanager", "s3"). */
  awsService?: string;
  /** The database the function's DB_HOST/DB_PORT name. */
  database?: boolean;
  /** The environment variable whose value named the address in the test (how it was mapped). */
  env?: string;
}

export interface ConnectionFinding {
  fn: string;
  what: string;
  problem: string;
  fix: string;
}

type Res = Graph["resources"][number];

/** AWS_ENDPOINT_URL_<SERVICE> (the SDK's per-service endpoint variable) → IAM service prefix. */
const ENDPOINT_SERVICES: Record<string, string> = {
  SECRETS_MANAGER: "secretsmanager",
  DYNAMODB: "dynamodb",
  S3: "s3",
  RDS_DATA: "rds-data",
  KMS: "kms",
  STS: "sts",
};

const URLS = /\bhttps?:\/\/[^\s"'<>\\]+/g;

function hostPort(u: URL): { host: string; port: number } {
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
const sameHost = (a: string, b: string) => a.toLowerCase() === b.toLowerCase() || (LOOPBACK.has(a) && LOOPBACK.has(b));

/**
 * The deployed destination a recorded host:port stands for, from the environment it was made under and
 * the deployed function's environment in the graph: an address a variable named in the test stands for
 * what the same variable names in the stack (KINTONE_BASE_URL=http://127.0.0.1:4711 in the test,
 * https://example.cybozu.com in dev: example.cybozu.com:443). AWS_ENDPOINT_URL_<SERVICE> is the SDK's
 * endpoint override, which a deployed function does not set: it stands for that service's regional
 * endpoint. DB_HOST with DB_PORT stands for the stack's database. URLs inside a JSON value (a table
 * list) map by their position in the value.
 */
export function logicalFromEnv(
  r: Pick<Recorded, "host" | "port" | "env">,
  deployedEnv: Record<string, string>,
  region: string,
): LogicalTarget | undefined {
  const env = r.env ?? {};
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (name.startsWith("AWS_ENDPOINT_URL_")) {
      const svc = ENDPOINT_SERVICES[name.slice("AWS_ENDPOINT_URL_".length)];
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        continue;
      }
      const hp = hostPort(u);
      if (svc && sameHost(hp.host, r.host) && hp.port === r.port)
        return { host: `${svc}.${region}.amazonaws.com`, port: 443, awsService: svc, env: name };
      continue;
    }
    if (name === "DB_HOST" && sameHost(value, r.host) && Number(env.DB_PORT ?? 5432) === r.port) {
      if (!deployedEnv.DB_HOST) continue;
      return { host: deployedEnv.DB_HOST, port: Number(deployedEnv.DB_PORT ?? 5432), database: true, env: name };
    }
    const urls = value.match(URLS) ?? [];
    for (let i = 0; i < urls.length; i++) {
      let u: URL;
      try {
        u = new URL(urls[i]);
      } catch {
        continue;
      }
      const hp = hostPort(u);
      if (!sameHost(hp.host, r.host) || hp.port !== r.port) continue;
      const deployed = (deployedEnv[name] ?? "").match(URLS)?.[i];
      if (!deployed) continue;
      const d = hostPort(new URL(deployed));
      // A private API's own name resolves to the VPC's execute-api endpoint (private DNS).
      if (/\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(d.host))
        return { ...d, awsService: "execute-api", env: name };
      return { ...d, viaProxy: name === "PROXY_URL" || undefined, env: name };
    }
  }
  return undefined;
}

interface FlowSpec {
  kind: string;
  port: number;
  host?: string;
  service?: string;
  name?: string;
  cidr?: string;
  securityGroupId?: string;
  prefixListId?: string;
}

/** The graph's VpcFunction component for a bundle name (the Athena connector's component adds "-connector"). */
function componentOf(resources: Res[], fn: string): Res | undefined {
  const fns = resources.filter((x) => x.type === "vpc-lambda-kit:functions:VpcFunction");
  return fns.find((x) => x.name === fn) ?? fns.find((x) => x.name === `${fn}-connector`);
}

/** Security groups of the graph's load balancers (the proxy tier's entry). */
function loadBalancerGroups(resources: Res[]): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.type !== "aws:lb/loadBalancer:LoadBalancer" && r.type !== "aws:elb/loadBalancer:LoadBalancer") continue;
    const sgs = r.inputs.securityGroups;
    for (const s of Array.isArray(sgs) ? sgs : []) out.add(String(s));
  }
  return out;
}

/** dstdomain entries of every squid.conf in the graph's launch templates. */
function proxyDomains(resources: Res[]): string[] {
  return resources
    .filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")
    .flatMap((r) => findSquidConfs(r.inputs.userData).flatMap((t) => parseSquidConf(t).domains));
}

/** Replaces the test's values of the function's variables in a recorded resource field with ${env:NAME}. */
function templated(value: string, env: Record<string, string | undefined>, names: string[]): string {
  const candidates = names
    .map((n) => ({ n, v: env[n] }))
    .filter((c): c is { n: string; v: string } => typeof c.v === "string" && c.v.length >= 2)
    .sort((a, b) => b.v.length - a.v.length);
  const exact = candidates.find((c) => c.v === value);
  if (exact) return `\${env:${exact.n}}`;
  const prefix = candidates.find((c) => value.startsWith(c.v));
  if (prefix) return `\${env:${prefix.n}}${value.slice(prefix.v.length)}`;
  return value;
}

/** The recorded request as a call template over the deployed function's variables (${env:NAME}). */
export function callTemplate(
  r: Recorded,
  deployedEnvNames: string[],
  /** Test values that stand for a template no variable carries (e.g. a secret ARN the event names). */
  stands: [RegExp, string][] = [],
): { action: string; resource: string; context: Record<string, string> } | undefined {
  const t = r.target ?? {};
  const env = r.env ?? {};
  const tpl = (v: string) => {
    const hit = stands.find(([test]) => test.test(v));
    return hit ? v.replace(hit[0], hit[1]) : templated(v, env, deployedEnvNames);
  };
  const svc = (r.action ?? "").split(":")[0];
  const action = r.action as string;
  // The deployed SDK always uses HTTPS; the test's plain-HTTP stand-ins do not change what IAM sees.
  const tls = { "aws:SecureTransport": "true" };
  if (svc === "secretsmanager" && t.secretId) return { action, resource: tpl(t.secretId), context: {} };
  if (svc === "dynamodb" && t.table)
    return { action, resource: `arn:aws:dynamodb:\${region}:\${account}:table/${tpl(t.table)}`, context: {} };
  if (svc === "s3" && t.bucket) {
    if (action === "s3:ListBucket")
      return {
        action,
        resource: `arn:aws:s3:::${tpl(t.bucket)}`,
        context: { ...tls, "s3:prefix": tpl(t.prefix ?? "") },
      };
    return { action, resource: `arn:aws:s3:::${tpl(t.bucket)}/${tpl(t.key ?? "")}`, context: tls };
  }
  if (svc === "rds-data" && t.resourceArn) return { action, resource: tpl(t.resourceArn), context: {} };
  return undefined;
}

/**
 * Maps recordings onto the stack graph: each connection must be covered by one of the function's
 * declared flows (VpcFunction flowSpecs), each CONNECT through the proxy must name a host the proxy
 * tier's whitelist admits, and each AWS call must be declared in functions/<fn>/aws-calls.ts and
 * allowed, for the resource it targets, by the function's role (and the target's resource or key
 * policy) in the graph. A recorded host:port stands for what the variable that named it names in the
 * deployed function (logicalFromEnv); `logical` maps what no variable names (an address the event
 * carries, a stand-in bundle's servers).
 */
export function uncoveredConnections(
  resources: Res[],
  recorded: Recorded[],
  logical?: (host: string, port: number) => LogicalTarget | undefined,
  stands: [RegExp, string][] = [],
): ConnectionFinding[] {
  const out: ConnectionFinding[] = [];
  const seen = new Set<string>();
  const ctx = graphContext(resources);
  const lbGroups = loadBalancerGroups(resources);
  for (const r of recorded) {
    const comp = componentOf(resources, r.fn);
    if (!comp) {
      out.push({
        fn: r.fn,
        what: `${r.host}:${r.port}`,
        problem: `${r.fn} is not a VpcFunction in the graph`,
        fix: "check the function name",
      });
      continue;
    }
    const name = comp.name;
    const lambda = resources.find((x) => x.type === "aws:lambda/function:Function" && x.name === `${name}-fn`);
    const deployedEnv =
      (lambda?.inputs.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {};
    const map = (host: string, port: number) =>
      logicalFromEnv({ host, port, env: r.env }, deployedEnv, ctx.region) ?? logical?.(host, port);
    const add = (f: ConnectionFinding) => {
      const key = `${f.fn} ${f.what} ${f.problem}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(f);
      }
    };
    const specs = (comp.inputs.flowSpecs ?? []) as FlowSpec[];
    const proxyFlow = (port: number) =>
      specs.find(
        (s) =>
          s.kind === "securityGroup" &&
          s.port === port &&
          (lbGroups.has(String(s.securityGroupId)) || /proxy/.test(s.name ?? "")),
      );

    if (r.kind === "aws") {
      const decl = DECLARATIONS.find((d) => d.functionName === name);
      const action = r.action as string;
      const tpl = callTemplate(r, Object.keys(deployedEnv), stands);
      if (!decl || !decl.calls.some((c) => c.action.toLowerCase() === action.toLowerCase())) {
        add({
          fn: r.fn,
          what: action,
          problem: `${r.fn} calls ${action}, which functions/${r.fn}/aws-calls.ts does not declare`,
          fix: `declare ${action}${tpl ? ` on ${tpl.resource}` : ""} in functions/${r.fn}/aws-calls.ts (and grant it in ${name}-policy)`,
        });
      }
      const policyName =
        resources.find(
          (x) =>
            x.type === "aws:iam/rolePolicy:RolePolicy" &&
            (x.name === `${name}-policy` || x.name.startsWith(`${name}-`)) &&
            typeof x.inputs.policy === "string",
        )?.name ?? `${name}-policy`;
      if (!tpl) {
        add({
          fn: r.fn,
          what: action,
          problem: `${r.fn} calls ${action} on a resource the recorder cannot name (${JSON.stringify(r.target ?? {})})`,
          fix: "teach awsCallOf/callTemplate in test/support/connections.ts this request's resource",
        });
        continue;
      }
      const facts = functionFacts(resources, name, ctx);
      const resolved = resolveCall({ ...tpl, why: "recorded" }, facts);
      if ("skipped" in resolved) {
        add({
          fn: r.fn,
          what: `${action} ${tpl.resource}`,
          problem: `${r.fn} calls ${action} on ${tpl.resource}, which does not resolve in the stack: ${resolved.skipped}`,
          fix: `configure ${r.fn} with the variable the call uses, or map the test's value onto it`,
        });
        continue;
      }
      const result = evaluate(
        {
          principal: facts.roleArn,
          action: resolved.action,
          resource: resolved.resource,
          resourceAccount: resolved.resourceAccount,
          context: resolved.context,
        },
        { identity: facts.identityPolicies, resource: facts.resourcePolicyFor(resolved.resource) },
      );
      if (result.decision !== "Allowed") {
        add({
          fn: r.fn,
          what: `${action} ${resolved.resource}`,
          problem: `${r.fn} calls ${action} on ${resolved.resource} (test: ${tpl.resource}) but IAM would refuse it: ${result.reasons.join("; ")}`,
          fix: `add a statement {"Effect":"Allow","Action":"${action}","Resource":"${resolved.resource}"} to ${policyName}${result.sameAccount ? "" : " and allow the role in the resource's policy"}`,
        });
      }
      continue;
    }

    if (r.kind === "tunnel") {
      const proxy = r.via ? map(r.via.host, r.via.port) : undefined;
      const t = map(r.host, r.port);
      const what = `${t ? `${t.host}:${t.port}` : `${r.host}:${r.port}`} (CONNECT through the proxy)`;
      if (!t) {
        add({
          fn: r.fn,
          what,
          problem: `${r.fn} sends CONNECT ${r.host}:${r.port} to the proxy, which no variable of the deployed function names`,
          fix: `name the host in ${r.fn}'s configuration (its URL variables) and the proxy tier's allowed domains`,
        });
        continue;
      }
      if (!proxy?.viaProxy || !proxyFlow(proxy.port)) {
        add({
          fn: r.fn,
          what,
          problem: `${r.fn} tunnels to ${t.host}:${t.port} through a proxy no declared flow of ${r.fn} reaches`,
          fix: `add a flow to the proxy tier (securityGroup proxy${proxy ? ` on ${proxy.port}` : ""}) to ${r.fn}`,
        });
        continue;
      }
      const domains = proxyDomains(resources);
      if (!domains.some((d) => domainMatches(d, t.host))) {
        add({
          fn: r.fn,
          what,
          problem: `${r.fn} tunnels to ${t.host} but the proxy tier's whitelist (${domains.join(", ") || "none"}) does not admit it`,
          fix: `add ${t.host} to the proxy tier's allowed domains`,
        });
      }
      continue;
    }

    const t = map(r.host, r.port);
    if (!t) {
      add({
        fn: r.fn,
        what: `${r.host}:${r.port}`,
        problem: `${r.fn} connects to ${r.host}:${r.port}, which no variable of the deployed function names (the test cannot map it to a deployed destination)`,
        fix: `add a flow for ${r.host}:${r.port} to ${r.fn}'s flows and configure the function with it`,
      });
      continue;
    }
    const covered = specs.some((s) => {
      if (t.viaProxy) return proxyFlow(t.port) === s;
      if (t.awsService) return s.kind === "awsService" && s.service === t.awsService && s.port === 443;
      if (t.database)
        return (
          (s.kind === "cidr" || s.kind === "securityGroup") &&
          s.port === t.port &&
          !lbGroups.has(String(s.securityGroupId))
        );
      return s.kind === "internet" && s.port === t.port && (s.host ?? "").toLowerCase() === t.host.toLowerCase();
    });
    if (!covered) {
      const flow = t.viaProxy
        ? `a flow to the proxy tier (securityGroup proxy on ${t.port})`
        : t.awsService
          ? `an awsService flow for ${t.awsService} on 443`
          : t.database
            ? `a flow to the database on ${t.port} (cidr or securityGroup)`
            : `an internet flow to ${t.host}:${t.port}`;
      add({
        fn: r.fn,
        what: `${t.host}:${t.port}${t.viaProxy ? " (the proxy)" : ""}`,
        problem: `${r.fn} connects to ${t.host}:${t.port}${t.env ? ` (${t.env} in the test)` : ""}, and no declared flow of ${r.fn} covers it`,
        fix: `add ${flow} to ${r.fn} (its VpcFunction flows)`,
      });
    }
  }
  return out;
}
