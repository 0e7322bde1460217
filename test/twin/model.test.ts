/**
 * The twin's reading of graph.json (no root needed): addresses, per-subnet route tables, security-group
 * expansion, Transit Gateway tables and attachment usability, DNS answers — and that a mutated graph gives a
 * mutated model. The kernel side is proven by test/twin/agreement.test.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import type { Graph } from "../../ops/synth-core";
import { buildModel, GraphFile, peerAddresses, readGraph, TwinInputError, TwinModel } from "../../ops/twin/model";
import { securityGroupRules } from "../../ops/twin/network";
import { dnsRecords } from "../../ops/twin/services";
import { synthForTest } from "../support/graph";
import { copy, drop, one } from "../check/mutate";

let dev: Graph;
let m: TwinModel;
beforeAll(async () => {
  dev = (await synthForTest("dev")).result.graph;
  m = model(dev);
});

const model = (g: Graph) => buildModel(g as unknown as GraphFile, "/nonexistent");
const subnet = (mm: TwinModel, name: string) => mm.subnets.find((s) => s.name === name)!;
const routes = (mm: TwinModel, name: string) => mm.tables.find((t) => t.key === subnet(mm, name).tableKey)!.routes;

test("every ENI gets a distinct address inside its subnet, past the four AWS reserves", () => {
  const ips = m.enis.map((e) => e.ip);
  expect(new Set(ips).size).toBe(ips.length);
  for (const e of m.enis) {
    const s = m.subnets.find((x) => x.id === e.subnetId)!;
    const last = Number(e.ip.split(".")[3]);
    expect(last - (s.cidr.base & 255)).toBeGreaterThanOrEqual(4);
  }
  // Functions: one ENI per subnet; endpoints: one per subnet; the proxies: the ASG's desired capacity.
  for (const f of m.functions)
    expect(f.enis.map((e) => subnet(m, m.subnets.find((s) => s.id === e.subnetId)!.name).id)).toEqual(f.subnetIds);
  expect(m.interfaceEndpoints.map((e) => [e.service, e.enis.length])).toEqual([
    ["execute-api", 2],
    ["secretsmanager", 2],
  ]);
  expect(m.proxy!.instances).toHaveLength(2);
  expect(m.db!.eni.ip).toMatch(/^10\.1\.128\./);
});

test("route tables: NAT, Transit Gateway, the S3 prefix list and local per private subnet; the IGW on public ones", () => {
  const p0 = routes(m, "egress-private-0").map((r) => `${r.dest} ${r.target.kind}`);
  expect(p0).toEqual(
    expect.arrayContaining([
      "0.0.0.0/0 nat",
      "10.1.0.0/16 tgw",
      "198.51.100.0/26 gatewayEndpoint",
      "10.0.0.0/16 local",
    ]),
  );
  expect(routes(m, "egress-public-0").map((r) => `${r.dest} ${r.target.kind}`)).toEqual(
    expect.arrayContaining(["0.0.0.0/0 igw", "10.0.0.0/16 local"]),
  );
  expect(routes(m, "data-subnet-1").map((r) => `${r.dest} ${r.target.kind}`)).toEqual(
    expect.arrayContaining(["10.0.0.0/16 tgw", "10.1.0.0/16 local"]),
  );
  expect(m.nats).toHaveLength(1);
  expect(m.nats[0].eip).toBe((dev.outputs.egressIps as string[])[0]);
});

test("a mutated graph gives a mutated model: a dropped route, a moved gateway endpoint", () => {
  const g = copy(dev);
  drop(g, "Route", "transit-rt0-to-data");
  one(g, "VpcEndpoint", "endpoints-s3-gateway").inputs.routeTableIds = [one(g, "RouteTable", "egress-private-rt-0").id];
  const mm = model(g);
  expect(routes(mm, "egress-private-0").some((r) => r.target.kind === "tgw")).toBe(false);
  expect(routes(mm, "egress-private-1").some((r) => r.target.kind === "tgw")).toBe(true);
  const s3Route = (r: { target: { kind: string; service?: string } }) =>
    r.target.kind === "gatewayEndpoint" && r.target.service === "s3";
  expect(routes(mm, "egress-private-1").some(s3Route)).toBe(false);
  expect(routes(mm, "egress-private-0").some(s3Route)).toBe(true);
});

test("security groups: references expand to member ENI addresses; the nftables set drops by default", () => {
  const eps = m.interfaceEndpoints.find((e) => e.service === "secretsmanager")!;
  const rule = m.sgs.get(eps.sgIds[0])!.rules.find((r) => r.name === "kintone-sync-to-endpoints")!;
  const kintone = m.functions.find((f) => f.name === "kintone-sync")!;
  expect(peerAddresses(m, rule, eps.sgIds[0]).sort()).toEqual(kintone.enis.map((e) => `${e.ip}/32`).sort());
  const nft = securityGroupRules(m, eps.enis[0]);
  expect(nft).toMatch(/chain egress \{ type filter hook output priority 0; policy drop;/);
  expect(nft).toMatch(/chain ingress \{ type filter hook input priority 0; policy drop;/);
  expect(nft).toContain(`ip saddr { ${kintone.enis.map((e) => `${e.ip}/32`).join(", ")} } tcp dport 443 accept`);
  // The S3 prefix list becomes the twin's S3 range on saas-export's egress.
  const saas = m.functions.find((f) => f.name === "saas-export")!;
  expect(securityGroupRules(m, saas.enis[0])).toMatch(/ip daddr \{ 198\.51\.100\.0\/26 \} tcp dport 443 accept/);
  // nft accepts the generated rules (syntax check only, no namespace needed).
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-nft-")), "sg.nft");
  fs.writeFileSync(file, nft);
  const r = spawnSync("nft", ["-c", "-f", file], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test("Transit Gateway: default table with both VPCs propagated; a cross-account attachment needs an accepted share", () => {
  const t = m.tgws[0];
  expect(t.tables).toHaveLength(1);
  expect(t.tables[0].routes.map((r) => r.dest).sort()).toEqual(["10.0.0.0/16", "10.1.0.0/16"]);
  expect(m.attachments.every((a) => a.unusable === undefined)).toBe(true);
  const g = copy(dev);
  drop(g, "ResourceShareAccepter", "data-transit-accepter");
  expect(model(g).attachments.find((a) => a.name === "data-transit-attachment")!.unusable).toMatch(
    /not accepted in account 222222222222/,
  );
  one(g, "ResourceShare", "transit-share").inputs.allowExternalPrincipals = false;
  expect(model(g).attachments.find((a) => a.name === "data-transit-attachment")!.unusable).toBeUndefined();
  const h = copy(dev);
  one(h, "VpcAttachment", "data-transit-attachment").inputs.transitGatewayDefaultRouteTablePropagation = false;
  expect(model(h).tgws[0].tables[0].routes.map((r) => r.dest)).toEqual(["10.0.0.0/16"]);
});

test("DNS: private names need DNS support, DNS hostnames and private DNS; otherwise the public address", () => {
  const vpc = m.vpcs.find((v) => v.name === "egress-vpc")!;
  const sm = `secretsmanager.${m.region}.amazonaws.com`;
  const eps = m.interfaceEndpoints.find((e) => e.service === "secretsmanager")!;
  expect(
    dnsRecords(m, vpc.id)
      .filter(([n]) => n === sm)
      .map(([, ip]) => ip)
      .sort(),
  ).toEqual(eps.enis.map((e) => e.ip).sort());
  const g = copy(dev);
  one(g, "Vpc", "egress-vpc").inputs.enableDnsHostnames = false;
  const mm = model(g);
  expect(
    dnsRecords(mm, vpc.id)
      .filter(([n]) => n === sm)
      .map(([, ip]) => ip),
  ).toEqual(["198.51.100.130"]);
  const h = copy(dev);
  one(h, "VpcEndpoint", "endpoints-secretsmanager").inputs.privateDnsEnabled = false;
  expect(
    dnsRecords(model(h), vpc.id)
      .filter(([n]) => n === sm)
      .map(([, ip]) => ip),
  ).toEqual(["198.51.100.130"]);
  // The cluster endpoint and the CLB name answer their twin addresses.
  expect(dnsRecords(m, vpc.id)).toEqual(
    expect.arrayContaining([
      [m.db!.endpoint, m.db!.eni.ip],
      [m.proxy!.lbDns, m.proxy!.lbEnis[0].ip],
    ]),
  );
});

test("squid.conf comes from the launch template; the flows from the components' flowSpecs", () => {
  expect(m.proxy!.squidTemplate).toMatch(/^http_access allow vlk_clients vlk_allowed_domains vlk_secret_header/m);
  expect(m.proxy!.headerToken).toBe("VLK-HEADER-VALUE-PLACEHOLDER");
  expect(m.functions.find((f) => f.name === "saas-export")!.flows.map((f) => f.label)).toEqual([
    "tcp/3128 to security group proxy",
    "tcp/443 to AWS s3",
    "tcp/443 to AWS secretsmanager",
  ]);
});

test("the NLB tier: one ENI per subnet with the NLB's security group; listener and target-group ports and PROXY v2 from the graph", () => {
  const nlb = one(dev, "LoadBalancer", "proxy-nlb");
  const p = m.proxy!;
  expect(p.lbKind).toBe("nlb");
  expect(p.proxyProtocolVersion).toBe(2);
  expect(p.lbEnis.map((e) => e.subnetId)).toEqual(nlb.inputs.subnets);
  for (const e of p.lbEnis) expect(e.sgIds).toEqual(nlb.inputs.securityGroups);
  expect(new Set(p.lbEnis.map((e) => e.subnetId)).size).toBe(p.lbEnis.length);
  expect([p.lbPort, p.instancePort]).toEqual([3128, 3128]);
  // The NLB's security group is enforced like any other ENI's: it admits saas-export on the listener port.
  const saas = m.functions.find((f) => f.name === "saas-export")!;
  expect(securityGroupRules(m, p.lbEnis[0])).toContain(
    `ip saddr { ${saas.enis.map((e) => `${e.ip}/32`).join(", ")} } tcp dport 3128 accept`,
  );
  // Ports come from the listener and the target group; a target group without proxyProtocolV2 sends no header.
  const g = copy(dev);
  one(g, "Listener", "proxy-listener").inputs.port = 8080;
  const tg = one(g, "TargetGroup", "proxy-tg");
  tg.inputs.port = 3129;
  tg.inputs.proxyProtocolV2 = false;
  const mm = model(g);
  expect([mm.proxy!.lbPort, mm.proxy!.instancePort, mm.proxy!.proxyProtocolVersion]).toEqual([8080, 3129, 0]);
  // An ASG no longer attached to the target group leaves the NLB with no instances behind it.
  const h = copy(dev);
  one(h, "Group", "proxy-asg").inputs.targetGroupArns = [];
  const mh = model(h);
  expect(mh.proxy!.instances).toHaveLength(0);
  expect(mh.warnings.join("\n")).toMatch(/proxy-nlb has no Auto Scaling group/);
  // A listener without a target group is refused, naming the listener.
  const k = copy(dev);
  one(k, "Listener", "proxy-listener").inputs.defaultActions = [];
  expect(() => model(k)).toThrow(/listener proxy-listener forwards to no target group/);
});

test('the CLB tier (proxyTier.loadBalancer "clb"): its nodes and security group, PROXY v1 from its policy, ports from its listener', () => {
  // The dev stack's NLB rewritten into the CLB resources SquidProxyTier registers for "clb" (stack config does
  // not expose the switch, so the graph is edited rather than synthesized).
  const g = copy(dev);
  const nlb = drop(g, "LoadBalancer", "proxy-nlb");
  drop(g, "Listener", "proxy-listener");
  drop(g, "TargetGroup", "proxy-tg");
  const clbId = "proxy-clb-0123456";
  g.resources.push({
    urn: "urn:pulumi:dev::x::aws:elb/loadBalancer:LoadBalancer::proxy-clb",
    id: clbId,
    type: "aws:elb/loadBalancer:LoadBalancer",
    name: "proxy-clb",
    parent: null,
    inputs: {
      internal: true,
      subnets: nlb.inputs.subnets,
      securityGroups: nlb.inputs.securityGroups,
      listeners: [{ lbPort: 3130, lbProtocol: "tcp", instancePort: 3131, instanceProtocol: "tcp" }],
    },
  } as never);
  g.resources.push({
    urn: "urn:pulumi:dev::x::aws:ec2/proxyProtocolPolicy:ProxyProtocolPolicy::proxy-pp",
    id: "pp",
    type: "aws:ec2/proxyProtocolPolicy:ProxyProtocolPolicy",
    name: "proxy-pp",
    parent: null,
    inputs: { loadBalancer: clbId, instancePorts: ["3131"] },
  } as never);
  const asg = one(g, "Group", "proxy-asg");
  asg.inputs.targetGroupArns = [];
  asg.inputs.loadBalancers = [clbId];
  const p = model(g).proxy!;
  expect([p.lbKind, p.proxyProtocolVersion, p.lbPort, p.instancePort]).toEqual(["clb", 1, 3130, 3131]);
  expect(p.lbEnis.map((e) => e.subnetId)).toEqual(nlb.inputs.subnets);
  for (const e of p.lbEnis) expect(e.sgIds).toEqual(nlb.inputs.securityGroups);
  expect(p.instances).toHaveLength(2);
  expect(p.squidTemplate).toMatch(/^http_access allow vlk_clients/m);
  drop(g, "ProxyProtocolPolicy", "proxy-pp");
  expect(model(g).proxy!.proxyProtocolVersion).toBe(0);
});

test("DynamoDB: a table a function's environment names is served (pre-created); none is modelled otherwise", () => {
  const kintone = m.functions.find((f) => f.name === "kintone-sync")!;
  const hasTable = dev.resources.some(
    (r) =>
      r.type === "aws:dynamodb/table:Table" &&
      [r.inputs.name, r.id].some((n) => n !== undefined && Object.values(kintone.env).includes(String(n))),
  );
  // The dev stack keeps kintone-sync's position in its own table; a graph without one models none.
  expect(m.dynamoTables.map((t) => t.usedBy)).toEqual(hasTable ? [["kintone-sync"]] : []);
  const g = copy(dev);
  const fn = g.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.startsWith("kintone-sync"))!;
  (fn.inputs.environment as { variables: Record<string, string> }).variables.KINTONE_CHECKPOINT_TABLE =
    "twin-checkpoints";
  g.resources.push({
    urn: "urn:pulumi:dev::x::aws:dynamodb/table:Table::kintone-checkpoint",
    id: "twin-checkpoints",
    type: "aws:dynamodb/table:Table",
    name: "kintone-checkpoint",
    parent: null,
    inputs: {
      name: "twin-checkpoints",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      billingMode: "PAY_PER_REQUEST",
    },
  } as never);
  g.resources.push({
    urn: "urn:pulumi:dev::x::aws:dynamodb/table:Table::unused",
    id: "unused",
    type: "aws:dynamodb/table:Table",
    name: "unused",
    parent: null,
    inputs: { name: "unused", hashKey: "pk" },
  } as never);
  const mm = model(g);
  expect(mm.dynamoTables).toEqual([
    {
      name: "twin-checkpoints",
      hashKey: "id",
      rangeKey: undefined,
      attributes: [{ name: "id", type: "S" }],
      usedBy: ["kintone-sync"],
    },
  ]);
  // DynamoDB's regional name resolves into its gateway-endpoint prefix list.
  const vpc = mm.vpcs.find((v) => v.name === "egress-vpc")!;
  expect(dnsRecords(mm, vpc.id)).toContainEqual([`dynamodb.${mm.region}.amazonaws.com`, "198.51.100.74"]);
});

test("a file that is not a graph is refused with the file named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-bad-"));
  const f = path.join(dir, "graph.json");
  fs.writeFileSync(f, "{ not json");
  expect(() => readGraph(f)).toThrow(TwinInputError);
  expect(() => readGraph(f)).toThrow(/graph\.json is not JSON/);
  fs.writeFileSync(f, JSON.stringify({ hello: "world" }));
  expect(() => readGraph(f)).toThrow(/is not a synthesized graph/);
  expect(() => readGraph(path.join(dir, "missing.json"))).toThrow(/cannot read .*missing\.json/);
});
