import type { Graph } from "../../ops/synth-core";
import { checkForbidden, ForbiddenResult } from "../../ops/check/forbidden";
import { synthForTest } from "../support/graph";
import { check, copy, drop, one } from "./mutate";

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

function addRule(
  g: Graph,
  type: "SecurityGroupIngressRule" | "SecurityGroupEgressRule",
  name: string,
  inputs: Record<string, unknown>,
): void {
  g.resources.push({
    urn: `urn:pulumi:dev::vpc-lambda-kit::aws:vpc/${type[0].toLowerCase()}${type.slice(1)}:${type}::${name}`,
    id: `sgr-${name}`,
    type: `aws:vpc/${type[0].toLowerCase()}${type.slice(1)}:${type}`,
    name,
    parent: null,
    provider: null,
    inputs,
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

test("a function without an internet flow that gets 443 to anywhere can reach the internet through the NAT", () => {
  const g = copy(dev);
  addRule(g, "SecurityGroupEgressRule", "saas-export-extra-https", {
    securityGroupId: one(g, "SecurityGroup", "saas-export-sg").id,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: "0.0.0.0/0",
  });
  const r = result(g, "no-internet", "saas-export");
  expect(r.status).toBe("VIOLATED");
  expect(r.detail).toBe(
    "function saas-export declares no internet flow, but subnet egress-private-0 routes 0.0.0.0/0 to NAT gateway egress-nat-0 and security group saas-export-sg allows tcp/443 to 0.0.0.0/0 (rule saas-export-extra-https)",
  );
});

test("with no route out, an open security group still cannot reach the internet", () => {
  const g = copy(dev);
  addRule(g, "SecurityGroupEgressRule", "saas-export-extra-https", {
    securityGroupId: one(g, "SecurityGroup", "saas-export-sg").id,
    ipProtocol: "-1",
    cidrIpv4: "0.0.0.0/0",
  });
  drop(g, "Route", "egress-private-rt-0-default");
  drop(g, "Route", "egress-private-rt-1-default");
  const r = result(g, "no-internet", "saas-export");
  expect(r.status).toBe("OK");
  expect(r.detail).toBe(
    "no route out: route table egress-private-rt-0, route table egress-private-rt-1 have no route to 0.0.0.0/0 through a NAT or internet gateway",
  );
});

test("a function that declares no flow to the database but can reach it opens a forbidden path", () => {
  const g = copy(dev);
  addRule(g, "SecurityGroupEgressRule", "kintone-sync-to-db", {
    securityGroupId: one(g, "SecurityGroup", "kintone-sync-sg").id,
    ipProtocol: "tcp",
    fromPort: 5432,
    toPort: 5432,
    cidrIpv4: "10.1.0.0/16",
  });
  const r = result(g, "database-sources", "database cluster data-db-cluster");
  expect(r.status).toBe("VIOLATED");
  expect(r.detail).toBe(
    "function kintone-sync declares no flow to database cluster data-db-cluster but can reach it: its security group kintone-sync-sg allows tcp/5432 to 10.1.0.0/16 (rule kintone-sync-to-db), the database's group admits 10.0.0.0/16 (rule data-db-from-cidr-10-0-0-0-16-5432), and its subnets route there",
  );
});

test("a database that admits a group with no declared flow, or a public range, is flagged", () => {
  const g = copy(dev);
  addRule(g, "SecurityGroupIngressRule", "data-db-from-proxies", {
    securityGroupId: one(g, "SecurityGroup", "data-db-sg").id,
    ipProtocol: "tcp",
    fromPort: 5432,
    toPort: 5432,
    referencedSecurityGroupId: one(g, "SecurityGroup", "proxy-instance-sg").id,
  });
  expect(result(g, "database-sources", "database cluster data-db-cluster").detail).toBe(
    "security group data-db-sg of database cluster data-db-cluster admits security group proxy-instance-sg (used by proxy-lt), which declares no flow to it (rule data-db-from-proxies)",
  );
  const h = copy(dev);
  addRule(h, "SecurityGroupIngressRule", "data-db-from-anywhere", {
    securityGroupId: one(h, "SecurityGroup", "data-db-sg").id,
    ipProtocol: "tcp",
    fromPort: 5432,
    toPort: 5432,
    cidrIpv4: "0.0.0.0/0",
  });
  const r = result(h, "database-sources", "database cluster data-db-cluster");
  expect(r.status).toBe("VIOLATED");
  expect(r.detail).toBe(
    "security group data-db-sg of database cluster data-db-cluster admits tcp/5432 from 0.0.0.0/0, a public range (rule data-db-from-anywhere)",
  );
});

test("a private API is reachable outside its endpoints when its policy does not restrict aws:SourceVpce, or it is not PRIVATE", () => {
  const g = copy(dev);
  const api = one(g, "RestApi", "private-api-api");
  one(g, "RestApiPolicy", "private-api-policy").inputs.policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: `arn:aws:execute-api:ap-northeast-1:111111111111:${api.id}/*`,
      },
    ],
  });
  const r = result(g, "private-api", "API private-api-api");
  expect(r.status).toBe("VIOLATED");
  expect(r.detail).toBe(
    "private API private-api-api's resource policy allows execute-api:Invoke without an aws:SourceVpce condition, so any VPC endpoint, from any account, can invoke it",
  );
  const h = copy(dev);
  one(h, "RestApi", "private-api-api").inputs.endpointConfiguration = { types: "REGIONAL" };
  expect(result(h, "private-api", "API private-api-api")).toEqual({
    check: "private-api",
    subject: "API private-api-api",
    status: "VIOLATED",
    detail: "API private-api-api is not of endpoint type PRIVATE, so it is reachable from the internet",
  });
});
