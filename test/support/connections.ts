import * as net from "net";
import type { Graph } from "../../ops/synth-core";
import { policyGrants } from "../../ops/check/order";

/**
 * Records the outbound connections and AWS requests a bundled handler makes, and maps them onto the
 * function's declared flows and IAM statements in a stack graph.
 *
 * Attribution: bundles run in the test's process (test/support/bundled.ts writes them under
 * out/test-bundles/<name>-<sha>/), so a connect or request whose synchronous call stack holds a frame
 * of that file belongs to that function; the test's own clients (pg setup, moto seeding) do not.
 */
export interface Recorded {
  fn: string;
  kind: "connect" | "aws";
  /** connect: the TCP peer. aws: the request's host. */
  host: string;
  port: number;
  /** aws only: service:Action from X-Amz-Target or the SigV4 credential scope and the path. */
  action?: string;
}

const BUNDLE_FRAME = /test-bundles[\\/]([a-z0-9-]+?)-[0-9a-f]{12}[\\/]/;

function callerFunction(): string | undefined {
  return BUNDLE_FRAME.exec(new Error().stack ?? "")?.[1];
}

/** service:Action of a SigV4-signed request (JSON protocols by X-Amz-Target, others by scope and method). */
export function awsActionOf(headers: Record<string, unknown>, method: string, path: string): string | undefined {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(h.authorization ?? "")?.[1];
  if (!scope) return undefined;
  const target = h["x-amz-target"];
  if (target) return `${scope}:${target.split(".").pop()}`;
  if (scope === "s3")
    return `s3:${method === "PUT" ? "PutObject" : method === "GET" ? "GetObject" : method === "DELETE" ? "DeleteObject" : method}`;
  return `${scope}:${method} ${path}`;
}

/** Starts recording into `into`; returns the function that stops it. */
export function recordConnections(into: Recorded[]): () => void {
  const origConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const fn = callerFunction();
    if (fn) {
      // net.connect passes its normalized arguments as one array ([options, callback]).
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      const o = (typeof first === "object" && first !== null ? first : { port: first, host: args[1] }) as {
        port?: unknown;
        host?: unknown;
        path?: unknown;
      };
      if (o.path === undefined)
        into.push({ fn, kind: "connect", host: String(o.host ?? "localhost"), port: Number(o.port) });
    }
    return (origConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof origConnect;
  const http = require("http") as typeof import("http");
  const https = require("https") as typeof import("https");
  const wrap = (mod: typeof http | typeof https, defPort: number) => {
    const orig = mod.request;
    (mod as { request: unknown }).request = function (...args: unknown[]) {
      const req = (orig as (...a: unknown[]) => import("http").ClientRequest).apply(mod, args);
      const fn = callerFunction();
      if (fn) {
        const origEnd = req.end.bind(req);
        req.end = ((...a: unknown[]) => {
          const action = awsActionOf(req.getHeaders() as Record<string, unknown>, req.method, req.path);
          if (action)
            into.push({
              fn,
              kind: "aws",
              host: String(req.host),
              port: Number((req as unknown as { socket?: { remotePort?: number } }).socket?.remotePort ?? defPort),
              action,
            });
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

/** What a recorded loopback address stands for in the deployed network (the test's own map). */
export interface LogicalTarget {
  host: string;
  port: number;
  /** Reached through the proxy tier (the handler's proxy setting pointed at this address). */
  viaProxy?: boolean;
  /** An AWS service endpoint (e.g. "secretsmanager", "s3"). */
  awsService?: string;
}

export interface ConnectionFinding {
  fn: string;
  what: string;
  problem: string;
  fix: string;
}

type Res = Graph["resources"][number];

/**
 * Maps recordings onto the stack graph: each connection must be covered by one of the function's
 * declared flows (VpcFunction flowSpecs), each AWS action allowed by an Allow statement of its role's
 * inline policies. `logical` translates a loopback host:port into what it stands for.
 */
export function uncoveredConnections(
  resources: Res[],
  recorded: Recorded[],
  logical: (host: string, port: number) => LogicalTarget | undefined,
): ConnectionFinding[] {
  const out: ConnectionFinding[] = [];
  const seen = new Set<string>();
  for (const r of recorded) {
    const key = `${r.fn} ${r.kind} ${r.host}:${r.port} ${r.action ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const comp = resources.find((x) => x.type === "vpc-lambda-kit:functions:VpcFunction" && x.name === r.fn);
    if (!comp) {
      out.push({
        fn: r.fn,
        what: `${r.host}:${r.port}`,
        problem: `${r.fn} is not a VpcFunction in the graph`,
        fix: "check the function name",
      });
      continue;
    }
    if (r.kind === "aws") {
      const fnRes = resources.find((x) => x.type === "aws:lambda/function:Function" && x.name === `${r.fn}-fn`);
      const role = resources.find(
        (x) =>
          x.type === "aws:iam/role:Role" && (x.name === `${r.fn}-role` || (fnRes?.dependencies ?? []).includes(x.urn)),
      );
      const policies = resources.filter(
        (x) =>
          x.type === "aws:iam/rolePolicy:RolePolicy" &&
          role !== undefined &&
          (x.inputs.role === role.id || (x.dependencies ?? []).includes(role.urn)),
      );
      const action = r.action as string;
      if (!policies.some((p) => policyGrants(p.inputs.policy, action))) {
        out.push({
          fn: r.fn,
          what: action,
          problem: `${r.fn} calls ${action} but no statement of its role (${role?.name ?? "none"}) allows it`,
          fix: `add a statement allowing ${action} on the resource to ${policies[0]?.name ?? `${r.fn}-policy`} (and declare it in functions/${r.fn}/aws-calls.ts)`,
        });
      }
      continue;
    }
    const specs = (comp.inputs.flowSpecs ?? []) as {
      kind: string;
      port: number;
      host?: string;
      service?: string;
      name?: string;
      cidr?: string;
    }[];
    const t = logical(r.host, r.port);
    if (!t) {
      out.push({
        fn: r.fn,
        what: `${r.host}:${r.port}`,
        problem: `${r.fn} connects to ${r.host}:${r.port}, which the test does not map to a deployed destination`,
        fix: `add a flow for ${r.host}:${r.port} to ${r.fn}'s flows (and map it in the test)`,
      });
      continue;
    }
    const covered = specs.some((s) => {
      if (s.port !== t.port && !(t.viaProxy && s.kind === "securityGroup")) return false;
      if (t.viaProxy) return s.kind === "securityGroup" && /proxy/.test(s.name ?? "");
      if (t.awsService) return s.kind === "awsService" && s.service === t.awsService;
      if (s.kind === "internet") return (s.host ?? "").toLowerCase() === t.host.toLowerCase();
      if (s.kind === "cidr") return t.port === 5432 ? s.port === 5432 : false;
      return false;
    });
    if (!covered) {
      const flow = t.viaProxy
        ? `a flow to the proxy tier (securityGroup proxy)`
        : t.awsService
          ? `an awsService flow for ${t.awsService} on 443`
          : `an internet flow to ${t.host}:${t.port}`;
      out.push({
        fn: r.fn,
        what: `${t.host}:${t.port}${t.viaProxy ? " (through the proxy)" : ""}`,
        problem: `${r.fn} connects to ${t.host}:${t.port}${t.viaProxy ? " through the proxy" : ""}, and no declared flow of ${r.fn} covers it`,
        fix: `add ${flow} to ${r.fn} (its VpcFunction flows)`,
      });
    }
  }
  return out;
}
