import type { Graph } from "../../ops/synth-core";
import { checkForbidden, ForbiddenResult } from "../../ops/check/forbidden";
import { synthForTest } from "../support/graph";
import { check, copy, drop, one, setApiPolicy } from "./mutate";

// Forbidden paths over the dev stack: closed as synthesized; each mutation opens exactly one.
let dev: Graph;
beforeAll(async () => {
  dev = (await synthForTest("dev")).result.graph;
});

function result(g: Graph, check_: string, subject: string): ForbiddenResult {
  const found = check(g).forbidden.filter((f) => f.check === check_ && f.subject === subject);
  if (found.length !== 1) throw new Error(`expected one ${check_} result for ${subject}, found ${found.length}`);
  return found[0];
}

const tcp = (port: number) => ({ ipProtocol: "tcp", fromPort: port, toPort: port });

/** Adds a security-group rule with `inputs` to group `sg`. */
function addRule(
  g: Graph,
  type: "SecurityGroupIngressRule" | "SecurityGroupEgressRule",
  name: string,
  sg: string,
  inputs: Record<string, unknown>,
): void {
  const t = `aws:vpc/${type[0].toLowerCase()}${type.slice(1)}:${type}`;
  g.resources.push({
    urn: `urn:pulumi:dev::vpc-lambda-kit::${t}::${name}`,
    id: `sgr-${name}`,
    type: t,
    name,
    parent: null,
    provider: null,
    inputs: { securityGroupId: one(g, "SecurityGroup", sg).id, ...inputs },
  });
}

test("as synthesized, every forbidden path is closed, and the report says which gate holds", () => {
  const all = checkForbidden(dev);
  expect(all.filter((f) => f.status !== "OK")).toEqual([]);
  expect(result(dev, "no-internet", "saas-export").detail).toBe(
    "security group saas-export-sg allows no egress to a public address (subnet egress-private-0 does route 0.0.0.0/0 to NAT gateway egress-nat-0)",
  );
  // Exactly the functions that declare a flow to the database, whatever else the stack holds.
  const sources = check(dev)
    .flows.filter((f) => f.status === "OK" && f.path.includes("data-db-cluster"))
    .map((f) => f.fn)
    .filter((v, i, a) => a.indexOf(v) === i);
  expect(sources).toContain("db-writer");
  expect(result(dev, "database-sources", "database cluster data-db-cluster").detail).toBe(
    `reachable only from ${sources.join(", ")}, which ${sources.length === 1 ? "declares" : "declare"} a flow to it (it admits tcp/5432 from 10.0.0.0/16)`,
  );
  expect(result(dev, "private-api", "API private-api-api").detail).toMatch(
    /^PRIVATE; resource policy admits only aws:SourceVpce vpce-[0-9a-f]+ \(endpoints-execute-api\)$/,
  );
  // A function that declares an internet flow is not subject to the check.
  expect(all.some((f) => f.check === "no-internet" && f.subject === "kintone-sync")).toBe(false);
});

const DB = "database cluster data-db-cluster";
const API = "API private-api-api";

const violated = (check_: string, subject: string, detail: string): ForbiddenResult => ({
  check: check_,
  subject,
  status: "VIOLATED",
  detail,
});

/** Each case changes a copy of dev in one way and expects one forbidden-path result, whole. */
const CASES: [name: string, change: (g: Graph) => void, expected: ForbiddenResult][] = [
  [
    "a function without an internet flow that gets 443 to anywhere can reach the internet through the NAT",
    (g) =>
      addRule(g, "SecurityGroupEgressRule", "saas-export-extra-https", "saas-export-sg", {
        ...tcp(443),
        cidrIpv4: "0.0.0.0/0",
      }),
    violated(
      "no-internet",
      "saas-export",
      "function saas-export declares no internet flow, but subnet egress-private-0 routes 0.0.0.0/0 to NAT gateway egress-nat-0 and security group saas-export-sg allows tcp/443 to 0.0.0.0/0 (rule saas-export-extra-https)",
    ),
  ],
  [
    "with no route out, an open security group still cannot reach the internet",
    (g) => {
      addRule(g, "SecurityGroupEgressRule", "saas-export-extra-https", "saas-export-sg", {
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      });
      drop(g, "Route", "egress-private-rt-0-default");
      drop(g, "Route", "egress-private-rt-1-default");
    },
    {
      check: "no-internet",
      subject: "saas-export",
      status: "OK",
      detail:
        "no route out: route table egress-private-rt-0, route table egress-private-rt-1 have no route to 0.0.0.0/0 through a NAT or internet gateway",
    },
  ],
  [
    "a function that declares no flow to the database but can reach it opens a forbidden path",
    (g) =>
      addRule(g, "SecurityGroupEgressRule", "kintone-sync-to-db", "kintone-sync-sg", {
        ...tcp(5432),
        cidrIpv4: "10.1.0.0/16",
      }),
    violated(
      "database-sources",
      DB,
      "function kintone-sync declares no flow to database cluster data-db-cluster but can reach it: its security group kintone-sync-sg allows tcp/5432 to 10.1.0.0/16 (rule kintone-sync-to-db), the database's group admits 10.0.0.0/16 (rule data-db-from-cidr-10-0-0-0-16-5432), and its subnets route there",
    ),
  ],
  [
    "a database that admits a group with no declared flow is flagged",
    (g) =>
      addRule(g, "SecurityGroupIngressRule", "data-db-from-proxies", "data-db-sg", {
        ...tcp(5432),
        referencedSecurityGroupId: one(g, "SecurityGroup", "proxy-instance-sg").id,
      }),
    violated(
      "database-sources",
      DB,
      "security group data-db-sg of database cluster data-db-cluster admits security group proxy-instance-sg (used by proxy-lt), which declares no flow to it (rule data-db-from-proxies)",
    ),
  ],
  [
    "a database that admits a public range is flagged",
    (g) =>
      addRule(g, "SecurityGroupIngressRule", "data-db-from-anywhere", "data-db-sg", {
        ...tcp(5432),
        cidrIpv4: "0.0.0.0/0",
      }),
    violated(
      "database-sources",
      DB,
      "security group data-db-sg of database cluster data-db-cluster admits tcp/5432 from 0.0.0.0/0, a public range (rule data-db-from-anywhere)",
    ),
  ],
  [
    "a private API whose policy does not restrict aws:SourceVpce is reachable outside its endpoints",
    (g) => setApiPolicy(g),
    violated(
      "private-api",
      API,
      "private API private-api-api's resource policy allows execute-api:Invoke without an aws:SourceVpce condition, so any VPC endpoint, from any account, can invoke it",
    ),
  ],
  [
    "a private API that is not PRIVATE is reachable from the internet",
    (g) => void (one(g, "RestApi", "private-api-api").inputs.endpointConfiguration = { types: "REGIONAL" }),
    violated(
      "private-api",
      API,
      "API private-api-api is not of endpoint type PRIVATE, so it is reachable from the internet",
    ),
  ],
];

test.each(CASES)("%s", (_name, change, expected) => {
  const g = copy(dev);
  change(g);
  expect(result(g, expected.check, expected.subject)).toEqual(expected);
});
