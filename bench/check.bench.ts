/**
 * Check time: the offline flow analysis, forbidden paths, policies, cost and diagram for
 * the prod stack and for generated graphs of 10/50/200 VPCs with 10 functions each (how it scales).
 * Each generated VPC is a FixedEgressVpc-like network (2 AZs, NAT + EIP, IGW, Secrets Manager
 * interface endpoint, S3 gateway endpoint) attached to one shared Transit Gateway that reaches a
 * database VPC in a second account (RAM share, accepter), and holds 10 functions with 4 flows each
 * (internet via NAT, Secrets Manager endpoint, S3 prefix list, Aurora across the TGW).
 *
 *   npx ts-node --transpile-only bench/check.bench.ts      (or npm run bench -- check)
 */
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";
import type { Graph } from "../ops/synth-core";
import { analyze } from "../ops/check/flows";
import { checkForbidden } from "../ops/check/forbidden";
import { GraphModel } from "../ops/check/model/graph";
import { checkPolicies } from "../ops/check/policies";
import { estimateCost } from "../ops/check/cost";
import { checkEvidence } from "../ops/check/evidence";
import { renderDiagram } from "../ops/check/diagram";
import { machine, median, writeResult } from "./common";

const SIZES = (process.env.BENCH_CHECK_VPCS ?? "10,50,200").split(",").map(Number);
const FUNCTIONS_PER_VPC = 10;
/** Diagrams above this many functions are skipped: Graphviz layout time grows far faster than the analysis. */
const DIAGRAM_MAX_FUNCTIONS = Number(process.env.BENCH_CHECK_DIAGRAM_MAX ?? 500);

type Res = Graph["resources"][number];

/** A synthetic multi-VPC graph in graph.json's shape; every flow in it is provable. */
export function generateGraph(vpcs: number, fnsPerVpc: number): Graph {
  if (vpcs > 250) throw new Error("at most 250 generated VPCs (10.<i>.0.0/16)");
  const resources: Res[] = [];
  let seq = 0;
  const add = (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    opts: { id?: string; parent?: string; provider?: string } = {},
  ): Res => {
    const r: Res = {
      urn: `urn:pulumi:bench::vpc-lambda-kit::${type}::${name}`,
      id: opts.id ?? `${type.split(":").pop()?.toLowerCase()}-${(seq++).toString(16).padStart(8, "0")}`,
      type,
      name,
      parent: opts.parent ?? null,
      provider: opts.provider ?? null,
      inputs,
    };
    resources.push(r);
    return r;
  };
  const provider = (account: "a" | "b", id: string) =>
    add(
      "pulumi:providers:aws",
      `account-${account}`,
      { allowedAccountIds: JSON.stringify([id]), region: "ap-northeast-1" },
      { id: `provider-${account}` },
    ).urn;
  const provA = provider("a", "111111111111");
  const provB = provider("b", "222222222222");
  const a = { provider: provA };
  const b = { provider: provB };

  const tgw = add(
    "aws:ec2transitgateway/transitGateway:TransitGateway",
    "tgw",
    {
      autoAcceptSharedAttachments: "enable",
      defaultRouteTableAssociation: "enable",
      defaultRouteTablePropagation: "enable",
    },
    { ...a, id: "tgw-bench" },
  );
  const share = add(
    "aws:ram/resourceShare:ResourceShare",
    "tgw-share",
    { allowExternalPrincipals: true, name: "tgw" },
    { ...a, id: "arn:aws:ram:ap-northeast-1:111111111111:resource-share/bench" },
  );
  add(
    "aws:ram/resourceAssociation:ResourceAssociation",
    "tgw-share-tgw",
    { resourceArn: `arn:aws:ec2:ap-northeast-1:111111111111:transit-gateway/${tgw.id}`, resourceShareArn: share.id },
    a,
  );
  add(
    "aws:ram/principalAssociation:PrincipalAssociation",
    "tgw-share-b",
    { principal: "222222222222", resourceShareArn: share.id },
    a,
  );
  add("aws:ram/resourceShareAccepter:ResourceShareAccepter", "tgw-share-accepter", { shareArn: share.id }, b);

  // The database VPC (account B).
  const dvpc = add(
    "aws:ec2/vpc:Vpc",
    "data-vpc",
    { cidrBlock: "172.16.0.0/16", enableDnsHostnames: true, enableDnsSupport: true },
    b,
  );
  const dsub = ["172.16.128.0/28", "172.16.128.16/28"].map((c, k) =>
    add(
      "aws:ec2/subnet:Subnet",
      `data-subnet-${k}`,
      { vpcId: dvpc.id, cidrBlock: c, availabilityZone: `ap-northeast-1${"ac"[k]}` },
      b,
    ),
  );
  const drt = add("aws:ec2/routeTable:RouteTable", "data-rt", { vpcId: dvpc.id }, b);
  dsub.forEach((s, k) =>
    add(
      "aws:ec2/routeTableAssociation:RouteTableAssociation",
      `data-rta-${k}`,
      { subnetId: s.id, routeTableId: drt.id },
      b,
    ),
  );
  add(
    "aws:ec2/route:Route",
    "data-to-apps",
    { routeTableId: drt.id, destinationCidrBlock: "10.0.0.0/8", transitGatewayId: tgw.id },
    b,
  );
  add(
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
    "data-attachment",
    { transitGatewayId: tgw.id, vpcId: dvpc.id, subnetIds: dsub.map((s) => s.id) },
    b,
  );
  const dbSg = add("aws:ec2/securityGroup:SecurityGroup", "db-sg", { vpcId: dvpc.id }, b);
  add(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "db-from-apps",
    { securityGroupId: dbSg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "10.0.0.0/8" },
    b,
  );
  const group = add("aws:rds/subnetGroup:SubnetGroup", "db-subnets", { subnetIds: dsub.map((s) => s.id) }, b);
  add(
    "aws:rds/cluster:Cluster",
    "db-cluster",
    {
      engine: "aurora-postgresql",
      port: 5432,
      dbSubnetGroupName: group.id,
      vpcSecurityGroupIds: [dbSg.id],
      storageEncrypted: true,
    },
    b,
  );

  const natIds: string[] = [];
  const ips: string[] = [];
  for (let i = 0; i < vpcs; i++) {
    const p = `v${i}`;
    const vpc = add(
      "aws:ec2/vpc:Vpc",
      `${p}-vpc`,
      { cidrBlock: `10.${i}.0.0/16`, enableDnsHostnames: true, enableDnsSupport: true },
      a,
    );
    const sub = (role: string, k: number, third: number) =>
      add(
        "aws:ec2/subnet:Subnet",
        `${p}-${role}-${k}`,
        {
          vpcId: vpc.id,
          cidrBlock: `10.${i}.${third}.0/24`,
          availabilityZone: `ap-northeast-1${"ac"[k]}`,
          mapPublicIpOnLaunch: false,
        },
        a,
      );
    const pub = [sub("public", 0, 10), sub("public", 1, 11)];
    const priv = [sub("private", 0, 1), sub("private", 1, 2)];
    const igw = add("aws:ec2/internetGateway:InternetGateway", `${p}-igw`, { vpcId: vpc.id }, a);
    const prt = add("aws:ec2/routeTable:RouteTable", `${p}-public-rt`, { vpcId: vpc.id }, a);
    add(
      "aws:ec2/route:Route",
      `${p}-public-default`,
      { routeTableId: prt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      a,
    );
    pub.forEach((s, k) =>
      add(
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        `${p}-public-rta-${k}`,
        { subnetId: s.id, routeTableId: prt.id },
        a,
      ),
    );
    const eip = add("aws:ec2/eip:Eip", `${p}-nat-eip`, { domain: "vpc" }, a);
    const nat = add(
      "aws:ec2/natGateway:NatGateway",
      `${p}-nat`,
      { allocationId: eip.id, subnetId: pub[0].id, connectivityType: "public" },
      a,
    );
    natIds.push(nat.id);
    ips.push(`198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`);
    const rts = priv.map((s, k) => {
      const rt = add("aws:ec2/routeTable:RouteTable", `${p}-private-rt-${k}`, { vpcId: vpc.id }, a);
      add(
        "aws:ec2/route:Route",
        `${p}-private-rt-${k}-default`,
        { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
        a,
      );
      add(
        "aws:ec2/route:Route",
        `${p}-private-rt-${k}-data`,
        { routeTableId: rt.id, destinationCidrBlock: "172.16.0.0/16", transitGatewayId: tgw.id },
        a,
      );
      add(
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        `${p}-private-rta-${k}`,
        { subnetId: s.id, routeTableId: rt.id },
        a,
      );
      return rt;
    });
    add(
      "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
      `${p}-attachment`,
      { transitGatewayId: tgw.id, vpcId: vpc.id, subnetIds: priv.map((s) => s.id) },
      a,
    );
    const epSg = add("aws:ec2/securityGroup:SecurityGroup", `${p}-endpoints-sg`, { vpcId: vpc.id }, a);
    add(
      "aws:ec2/vpcEndpoint:VpcEndpoint",
      `${p}-secretsmanager`,
      {
        vpcId: vpc.id,
        serviceName: "com.amazonaws.ap-northeast-1.secretsmanager",
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: priv.map((s) => s.id),
        securityGroupIds: [epSg.id],
      },
      a,
    );
    add(
      "aws:ec2/vpcEndpoint:VpcEndpoint",
      `${p}-s3`,
      {
        vpcId: vpc.id,
        serviceName: "com.amazonaws.ap-northeast-1.s3",
        vpcEndpointType: "Gateway",
        routeTableIds: rts.map((r) => r.id),
      },
      a,
    );
    const pl = `pl-s3-${i}`;
    for (let j = 0; j < fnsPerVpc; j++) {
      const f = `${p}-fn${j}`;
      const comp = add(
        "vpc-lambda-kit:functions:VpcFunction",
        f,
        {
          flowSpecs: [
            { kind: "internet", host: "example.cybozu.com", port: 443, protocol: "tcp", purpose: "SaaS" },
            {
              kind: "awsService",
              service: "secretsmanager",
              port: 443,
              protocol: "tcp",
              purpose: "secret",
              securityGroupId: epSg.id,
            },
            { kind: "awsService", service: "s3", port: 443, protocol: "tcp", purpose: "objects", prefixListId: pl },
            { kind: "cidr", cidr: "172.16.0.0/16", name: "data VPC", port: 5432, protocol: "tcp", purpose: "database" },
          ],
        },
        { id: "" },
      );
      const sg = add("aws:ec2/securityGroup:SecurityGroup", `${f}-sg`, { vpcId: vpc.id }, { ...a, parent: comp.urn });
      const egress = (name: string, port: number, peer: Record<string, unknown>) =>
        add(
          "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
          `${f}-egress-${name}`,
          { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, ...peer },
          { ...a, parent: sg.urn },
        );
      egress("internet", 443, { cidrIpv4: "0.0.0.0/0" });
      egress("endpoint", 443, { referencedSecurityGroupId: epSg.id });
      egress("s3", 443, { prefixListId: pl });
      egress("db", 5432, { cidrIpv4: "172.16.0.0/16" });
      add(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        `${f}-to-endpoints`,
        { securityGroupId: epSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: sg.id },
        a,
      );
      const role = add(
        "aws:iam/role:Role",
        `${f}-role`,
        {
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        { ...a, parent: comp.urn },
      );
      add(
        "aws:iam/rolePolicy:RolePolicy",
        `${f}-policy`,
        {
          role: role.id,
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"],
                Resource: "*",
              },
            ],
          }),
        },
        { ...a, parent: role.urn },
      );
      add(
        "aws:lambda/function:Function",
        `${f}-fn`,
        {
          runtime: "nodejs24.x",
          role: `arn:aws:iam::111111111111:role/${role.name}`,
          vpcConfig: { subnetIds: priv.map((s) => s.id), securityGroupIds: [sg.id] },
          environment: { variables: {} },
        },
        { ...a, parent: comp.urn },
      );
    }
  }
  return {
    project: "vpc-lambda-kit",
    stack: `bench-${vpcs}`,
    resources,
    outputs: { network: { natGatewayIds: natIds, egressIps: ips } },
  };
}

function time<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

async function timeAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await f();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

interface Row {
  graph: string;
  vpcs: number;
  functions: number;
  resources: number;
  flows: number;
  broken: number;
  /** Index + every flow + forbidden paths (ops/check/flows.ts, forbidden.ts), median ms. */
  analysisMs: number;
  policiesMs: number;
  costMs: number;
  /** IAM validation, call simulation, create order and limits (ops/check/evidence.ts), one run. */
  evidenceMs: number;
  /** SVG rendering (Graphviz WASM), one run; undefined when skipped. */
  diagramMs?: number;
}

async function measure(name: string, graph: Graph, vpcs: number, runs: number): Promise<Row> {
  const samples: number[] = [];
  let flows = 0;
  let broken = 0;
  let details: ReturnType<typeof analyze> = [];
  for (let k = 0; k < runs; k++) {
    const [d, ms] = time(() => {
      const ix = GraphModel.of(graph);
      const det = analyze(ix);
      checkForbidden(ix, det);
      return det;
    });
    samples.push(ms);
    details = d;
    flows = d.length;
    broken = d.filter((x) => x.result.status !== "OK").length;
  }
  const [, policiesMs] = time(() => checkPolicies(graph));
  const [, costMs] = time(() => estimateCost(graph));
  const [, evidenceMs] = time(() => checkEvidence(graph.resources));
  const functions = graph.resources.filter((r) => r.type === "aws:lambda/function:Function").length;
  let diagramMs: number | undefined;
  if (functions <= DIAGRAM_MAX_FUNCTIONS)
    [, diagramMs] = await timeAsync(() =>
      renderDiagram(
        graph,
        details.map((d) => d.result),
      ),
    );
  return {
    graph: name,
    vpcs,
    functions,
    resources: graph.resources.length,
    flows,
    broken,
    analysisMs: Math.round(median(samples) * 10) / 10,
    policiesMs: Math.round(policiesMs),
    costMs: Math.round(costMs),
    evidenceMs: Math.round(evidenceMs),
    diagramMs: diagramMs === undefined ? undefined : Math.round(diagramMs),
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const { synthesize } = await import("../ops/synth-core");
  const prod = (await synthesize({ stack: "prod", configFile: path.join(REPO_ROOT, "Pulumi.prod.yaml") })).graph;
  // Warm up the JIT and the WASM module once, so the first row is not charged for them.
  await measure("warm-up", generateGraph(2, 2), 2, 1);
  rows.push(await measure("prod", prod, prod.resources.filter((r) => r.type === "aws:ec2/vpc:Vpc").length, 9));
  for (const n of SIZES)
    rows.push(await measure(`generated ${n} VPCs`, generateGraph(n, FUNCTIONS_PER_VPC), n, n >= 200 ? 3 : 5));
  const file = writeResult("check", { machine: machine(), functionsPerVpc: FUNCTIONS_PER_VPC, rows });
  console.log(
    "| graph | VPCs | functions | resources | flows (broken) | flows + forbidden | policies | cost | evidence | diagram |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.graph} | ${r.vpcs} | ${r.functions} | ${r.resources} | ${r.flows} (${r.broken}) | ${r.analysisMs} ms | ${r.policiesMs} ms | ${r.costMs} ms | ${r.evidenceMs} ms | ${r.diagramMs === undefined ? "skipped" : `${r.diagramMs} ms`} |`,
    );
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  if (rows.some((r) => r.broken > 0)) {
    console.error("a benchmark graph has broken flows: the generator no longer builds a provable network");
    process.exit(1);
  }
  process.exit(0);
}

if (require.main === module) void main();
