/** Helpers for the checker's mutation tests: break a deep copy of a correct graph in one place. */
import type { Graph } from "../../ops/synth-core";
import { analyze, FlowResult } from "../../ops/check/flows";
import { checkForbidden, ForbiddenResult } from "../../ops/check/forbidden";
import { GraphModel } from "../../ops/check/model/graph";

export type Res = Graph["resources"][number];

/** saas-export's declared flow to the proxy tier (through its load balancer's security group). */
export const PROXY = /tcp\/3128 to security group proxy/;
/** That flow's path in the dev stack: the internal NLB, its target group, the Squid ASG, then the NAT to the SaaS. */
export const DEV_PROXY_PATH = [
  "proxy-nlb",
  "proxy-tg",
  "proxy-asg",
  "egress-nat-0",
  "egress-igw",
  "api.example-saas.com:443",
];

export function copy(g: Graph): Graph {
  return JSON.parse(JSON.stringify(g)) as Graph;
}

/** The one resource of `type` named `name` (type may be the short form after the last colon). */
export function one(g: Graph, type: string, name: string): Res {
  const found = g.resources.filter((r) => (r.type === type || r.type.endsWith(`:${type}`)) && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
}

export function drop(g: Graph, type: string, name: string): Res {
  const r = one(g, type, name);
  g.resources = g.resources.filter((x) => x !== r);
  return r;
}

export function check(g: Graph): { flows: FlowResult[]; forbidden: ForbiddenResult[] } {
  const ix = GraphModel.of(g);
  const details = analyze(ix);
  return { flows: details.map((d) => d.result), forbidden: checkForbidden(ix, details) };
}

/** The single flow of `fn` whose declared text matches. */
export function flowOf(flows: FlowResult[], fn: string, match: RegExp): FlowResult {
  const found = flows.filter((f) => f.fn === fn && match.test(f.flow));
  if (found.length !== 1)
    throw new Error(
      `expected one flow of ${fn} matching ${match}, found ${found.length}: ${flows
        .filter((f) => f.fn === fn)
        .map((f) => f.flow)
        .join(" | ")}`,
    );
  return found[0];
}

/** Every flow that is not OK, as "fn: reason" lines (for readable failures). */
export function brokenLines(flows: FlowResult[]): string[] {
  return flows.filter((f) => f.status !== "OK").map((f) => `${f.fn}: ${f.flow}: ${f.reason}`);
}

/** Replaces the private API's resource policy with one Allow for every caller, under `condition` if given. */
export function setApiPolicy(g: Graph, condition?: Record<string, unknown>): void {
  const api = one(g, "RestApi", "private-api-api");
  one(g, "RestApiPolicy", "private-api-policy").inputs.policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: `arn:aws:execute-api:ap-northeast-1:111111111111:${api.id}/*`,
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
}
