import type { Graph } from "../../ops/synth-core";
import { analyzeFlows } from "../../ops/check/flows";
import { synthForTest } from "../support/graph";
import { brokenLines, check, copy, DEV_PROXY_PATH, drop, flowOf, one, PROXY } from "./mutate";
import { MUTATIONS, mutated } from "../twin/mutations";

// The dev stack synthesized once; each test breaks a deep copy in one place and expects the
// checker to name that flow BROKEN with the first missing piece.
let dev: Graph;
beforeAll(async () => {
  dev = (await synthForTest("dev")).result.graph;
});

const KINTONE_NET = /internet host example\.cybozu\.com/;
const SECRETS = /AWS secretsmanager/;
const DB = /tcp\/5432 to data VPC 10\.1\.0\.0\/16/;

function broken(g: Graph, fn: string, flow: RegExp): string {
  const f = flowOf(check(g).flows, fn, flow);
  expect(f.status).toBe("BROKEN");
  return f.reason as string;
}

describe("the dev stack as synthesized", () => {
  test("every declared flow is proven", () => {
    const flows = analyzeFlows(dev);
    expect(brokenLines(flows)).toEqual([]);
    expect(flows.map((f) => f.fn)).toEqual(expect.arrayContaining(["kintone-sync", "saas-export", "db-writer"]));
  });

  test("kintone-sync leaves through the NAT in the public subnet; its egress IP is the NAT's EIP", () => {
    const f = flowOf(analyzeFlows(dev), "kintone-sync", KINTONE_NET);
    expect(f.path).toEqual(["egress-nat-0", "egress-igw", "example.cybozu.com:443"]);
    expect(f.egressIps).toEqual(dev.outputs.egressIps);
    expect(f.steps).toEqual(
      expect.arrayContaining([
        "security group kintone-sync-sg egress tcp/443 to 0.0.0.0/0 (rule kintone-sync-egress-tcp-443-internet)",
        `egress-private-0 → route table egress-private-rt-0: 0.0.0.0/0 → NAT gateway egress-nat-0 (egress-public-0, EIP ${(dev.outputs.egressIps as string[])[0]})`,
        "egress-public-0 → route table egress-public-rt: 0.0.0.0/0 → internet gateway egress-igw",
        "egress-private-1 → route table egress-private-rt-1: 0.0.0.0/0 → NAT gateway egress-nat-0 (egress-public-0, EIP 203.0.113.39)",
      ]),
    );
  });

  test("Secrets Manager is reached through the interface endpoint, by private DNS", () => {
    const f = flowOf(analyzeFlows(dev), "kintone-sync", SECRETS);
    expect(f.path).toEqual(["endpoints-secretsmanager"]);
    expect(f.egressIps).toBeUndefined();
    expect(f.steps).toEqual(
      expect.arrayContaining([
        "DNS: secretsmanager.ap-northeast-1.amazonaws.com → interface endpoint endpoints-secretsmanager (private DNS; VPC egress-vpc DNS support and hostnames on)",
        "security group endpoints-sg ingress tcp/443 from security group kintone-sync-sg (rule kintone-sync-to-endpoints)",
      ]),
    );
  });

  test("db-writer crosses the Transit Gateway to Aurora, and the data VPC routes back", () => {
    const f = flowOf(analyzeFlows(dev), "db-writer", DB);
    expect(f.path).toEqual(["transit-tgw", "data-db-cluster"]);
    expect(f.steps).toEqual(
      expect.arrayContaining([
        "egress-private-0 → route table egress-private-rt-0: 10.1.0.0/16 → transit gateway transit-tgw",
        "transit gateway transit-tgw: default route table: 10.1.0.0/16 → attachment data-transit-attachment (VPC data-vpc, propagated)",
        "security group data-db-sg ingress tcp/5432 from 10.0.0.0/16 (rule data-db-from-cidr-10-0-0-0-16-5432)",
      ]),
    );
  });

  test("saas-export goes through the network load balancer to the Squid proxies, which leave through the NAT", () => {
    const f = flowOf(analyzeFlows(dev), "saas-export", PROXY);
    expect(f.path).toEqual(DEV_PROXY_PATH);
    expect(f.egressIps).toEqual(dev.outputs.egressIps);
    expect(f.steps).toContain(
      "load balancer proxy-nlb (network, internal) listener proxy-listener TCP 3128 → target group proxy-tg (TCP 3128, PROXY v2, client IP not preserved)",
    );
    expect(f.steps).toContain(
      "squid: CONNECT api.example-saas.com:443 allowed only with X-Lambda-Proxy-Token AND a whitelisted domain from 10.0.1.0/24, 10.0.2.0/24; everything else denied",
    );
  });
});

describe("the same network written other ways proves the same", () => {
  test("a subnet without an association uses the VPC's main route table", () => {
    const g = copy(dev);
    drop(g, "RouteTableAssociation", "egress-private-1-rta");
    expect(broken(g, "kintone-sync", KINTONE_NET)).toBe(
      "the main route table of VPC egress-vpc has no route to 0.0.0.0/0",
    );
    // Making egress-private-rt-0 the main table routes the orphaned subnet through it.
    g.resources.push({
      urn: "urn:pulumi:dev::vpc-lambda-kit::aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation::egress-main",
      id: "rtbassoc-main",
      type: "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
      name: "egress-main",
      parent: null,
      provider: null,
      inputs: { vpcId: one(g, "Vpc", "egress-vpc").id, routeTableId: one(g, "RouteTable", "egress-private-rt-0").id },
    });
    const f = flowOf(check(g).flows, "kintone-sync", KINTONE_NET);
    expect(f.status).toBe("OK");
    expect(f.steps).toContain(
      "egress-private-1 → route table egress-private-rt-0: 0.0.0.0/0 → NAT gateway egress-nat-0 (egress-public-0, EIP 203.0.113.39)",
    );
  });

  test("inline routes and security-group rules in every provider shape", () => {
    const g = copy(dev);
    // The private default route as an inline route of its table.
    const route = drop(g, "Route", "egress-private-rt-0-default");
    one(g, "RouteTable", "egress-private-rt-0").inputs.routes = [
      { cidrBlock: "0.0.0.0/0", natGatewayId: route.inputs.natGatewayId },
    ];
    // kintone-sync's internet rule as an ec2.SecurityGroupRule, its endpoint rule inline on the group.
    const internet = drop(g, "SecurityGroupEgressRule", "kintone-sync-egress-tcp-443-internet");
    g.resources.push({
      ...internet,
      type: "aws:ec2/securityGroupRule:SecurityGroupRule",
      urn: `${internet.urn}-classic`,
      inputs: {
        type: "egress",
        securityGroupId: internet.inputs.securityGroupId,
        protocol: "6",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["0.0.0.0/0"],
      },
    });
    const toEndpoint = drop(g, "SecurityGroupEgressRule", "kintone-sync-egress-tcp-443-secretsmanager-endpoint");
    one(g, "SecurityGroup", "kintone-sync-sg").inputs.egress = [
      { protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [toEndpoint.inputs.referencedSecurityGroupId] },
    ];
    const { flows } = check(g);
    expect(brokenLines(flows)).toEqual([]);
    expect(flowOf(flows, "kintone-sync", KINTONE_NET).steps).toContain(
      "security group kintone-sync-sg egress tcp/443 to 0.0.0.0/0 (rule kintone-sync-egress-tcp-443-internet)",
    );
  });
});

/** A mutation of the dev graph from the list the twin runs too (test/twin/mutations.ts), applied to a copy. */
function mutation(name: string): Graph {
  const m = MUTATIONS.find((x) => x.name === name);
  if (!m) throw new Error(`no mutation named "${name}" in test/twin/mutations.ts`);
  return mutated(dev, m);
}

const API = /AWS execute-api/;

/** [mutation, function, flow, the first missing piece the checker must name (a function of the graph when it holds an id)]. */
const BREAKS: [string, string, RegExp, string | RegExp | ((g: Graph) => string)][] = [
  [
    "Lambda in a public subnet",
    "kintone-sync",
    KINTONE_NET,
    "function kintone-sync is in subnet egress-public-0, whose route table egress-public-rt sends 0.0.0.0/0 to internet gateway egress-igw: a Lambda ENI never gets a public IP, so the function must be in a private subnet that routes to a NAT gateway",
  ],
  [
    "NAT gateway in a private subnet",
    "kintone-sync",
    KINTONE_NET,
    "NAT gateway egress-nat-0 is in subnet egress-private-0, whose route table egress-private-rt-0 sends 0.0.0.0/0 to NAT gateway egress-nat-0, not to an internet gateway: a NAT gateway must be in a public subnet",
  ],
  // The proxies leave through the same NAT.
  ["NAT gateway in a private subnet", "saas-export", PROXY, /^NAT gateway egress-nat-0 is in subnet egress-private-0/],
  [
    "no default route in a private route table",
    "kintone-sync",
    KINTONE_NET,
    "route table egress-private-rt-1 has no route to 0.0.0.0/0",
  ],
  [
    "no default route in a private route table",
    "saas-export",
    PROXY,
    "route table egress-private-rt-1 has no route to 0.0.0.0/0",
  ],
  [
    "Transit Gateway route missing on the Lambda side",
    "db-writer",
    DB,
    "route table egress-private-rt-0 has no route to 10.1.0.0/16 (only its default route 0.0.0.0/0 → NAT gateway egress-nat-0, which leads to the internet)",
  ],
  [
    "Transit Gateway return route missing on the database side",
    "db-writer",
    DB,
    "route table data-rt has no route to 10.0.1.0/24 (the return route to subnet egress-private-0 of function db-writer)",
  ],
  [
    "data VPC attachment does not propagate",
    "db-writer",
    DB,
    "the default route table of transit gateway transit-tgw has no route to 10.1.0.0/16",
  ],
  [
    "RAM share accepter missing outside the organization",
    "db-writer",
    DB,
    "RAM share transit-share is offered to account 222222222222 outside the organization and nothing accepts it (no aws:ram/resourceShareAccepter in that account), so attachment data-transit-attachment cannot use transit gateway transit-tgw",
  ],
  [
    "no Transit Gateway subnet in a function's zone",
    "db-writer",
    DB,
    "transit gateway attachment transit-attachment has no subnet in ap-northeast-1c, so subnet egress-private-1 cannot reach transit gateway transit-tgw",
  ],
  [
    "security group egress port off by one",
    "kintone-sync",
    KINTONE_NET,
    "security group kintone-sync-sg has no egress rule for tcp/443 to 0.0.0.0/0 (it allows tcp/444 there, rule kintone-sync-egress-tcp-443-internet)",
  ],
  [
    "database ingress port off by one",
    "db-writer",
    DB,
    "security group data-db-sg of database cluster data-db-cluster does not admit tcp/5432 from 10.0.1.0/24, 10.0.2.0/24 (the subnets of function db-writer, in another VPC; it allows tcp/5433 there, rule data-db-from-cidr-10-0-0-0-16-5432)",
  ],
  [
    "endpoint security group does not admit the function",
    "kintone-sync",
    SECRETS,
    "security group endpoints-sg of interface endpoint endpoints-secretsmanager does not admit tcp/443 from function kintone-sync (security group kintone-sync-sg)",
  ],
  [
    // The usual recipe's mistake: two allow lines, header OR domain.
    "squid rules ORed (header alone or domain alone)",
    "saas-export",
    PROXY,
    'squid.conf in launch template proxy-lt lets requests through without the X-Lambda-Proxy-Token header (line "http_access allow vlk_clients vlk_allowed_domains !vlk_to_linklocal !vlk_to_localhost"): header and domain are ORed, they must be ANDed on one http_access allow line',
  ],
  [
    "SaaS domain not whitelisted in squid",
    "saas-export",
    PROXY,
    "api.other-saas.example is not whitelisted in squid.conf in launch template proxy-lt (dstdomain api.example-saas.com)",
  ],
  [
    "proxy load balancer does not admit the function",
    "saas-export",
    PROXY,
    "security group proxy-lb-sg of load balancer proxy-nlb does not admit tcp/3128 from function saas-export (security group saas-export-sg)",
  ],
  [
    "private API called from kintone-sync, policy admits another endpoint only",
    "kintone-sync",
    API,
    (g) =>
      `private API private-api-api's resource policy does not admit interface endpoint endpoints-execute-api (${one(g, "VpcEndpoint", "endpoints-execute-api").id}): its aws:SourceVpce allows vpce-0someoneelse`,
  ],
];

describe("mutations: one break, one BROKEN flow with the first missing piece", () => {
  test.each(BREAKS)("%s: %s's flow %p", (name, fn, flow, expected) => {
    const g = mutation(name);
    const reason = broken(g, fn, flow);
    if (typeof expected === "function") expect(reason).toBe(expected(g));
    else if (typeof expected === "string") expect(reason).toBe(expected);
    else expect(reason).toMatch(expected);
  });

  test("inside an organization the share needs no accepter", () => {
    expect(
      flowOf(check(mutation("inside an organization the share needs no accepter")).flows, "db-writer", DB).status,
    ).toBe("OK");
  });

  test("a private API caller with an endpoint its policy admits reaches the API through it", () => {
    const ok = flowOf(
      check(mutation("private API called from kintone-sync through its endpoint")).flows,
      "kintone-sync",
      API,
    );
    expect(ok.status).toBe("OK");
    expect(ok.path).toEqual(["endpoints-execute-api", "private-api-api"]);
  });

  // An endpoint the flow was declared for but cannot use: AWS sends the request to the service's public addresses.
  // A function whose security group and routes let that out (kintone-sync: 443 to anywhere, through the NAT) still
  // gets through: the flow is OK and the forbidden check "endpoint-path" reports the detour. A function without that
  // way out (db-writer: egress only to the endpoints) is BROKEN with both reasons.
  function detour(g: Graph, fn: string, flow: RegExp, why: string): void {
    const c = check(g);
    const f = flowOf(c.flows, fn, flow);
    expect(f.status).toBe("OK");
    const v = c.forbidden.filter((x) => x.check === "endpoint-path" && x.subject === `${fn}: ${f.flow}`);
    expect(v).toHaveLength(1);
    expect(v[0].status).toBe("VIOLATED");
    expect(v[0].detail).toBe(
      `${why}; the traffic leaves through the NAT to the service's public addresses instead (it works, but not the declared way: NAT data charges, and an aws:SourceVpce condition would refuse it)`,
    );
  }

  test("no Secrets Manager endpoint", () => {
    const g = copy(dev);
    drop(g, "VpcEndpoint", "endpoints-secretsmanager");
    const why =
      "VPC egress-vpc has no interface endpoint for secretsmanager (com.amazonaws.ap-northeast-1.secretsmanager), which the function's flow expects";
    detour(g, "kintone-sync", SECRETS, why);
    expect(broken(g, "db-writer", SECRETS)).toMatch(
      new RegExp(
        `^${why.replace(/[().]/g, "\\$&")}; the public path fails too: security group db-writer-sg has no egress rule for tcp/443 to 0\\.0\\.0\\.0/0`,
      ),
    );
  });

  test("DNS hostnames off on the function's VPC", () => {
    const g = copy(dev);
    one(g, "Vpc", "egress-vpc").inputs.enableDnsHostnames = false;
    const why =
      "VPC egress-vpc has DNS hostnames (enableDnsHostnames) off, so the private DNS name of interface endpoint endpoints-secretsmanager does not apply and secretsmanager.ap-northeast-1.amazonaws.com resolves to public addresses";
    detour(g, "kintone-sync", SECRETS, why);
    expect(broken(g, "db-writer", SECRETS)).toMatch(
      /; the public path fails too: security group db-writer-sg has no egress rule/,
    );
  });

  test("DNS resolution off: every flow that resolves a name is BROKEN; private DNS off on the endpoint: the NAT path", () => {
    const g = copy(dev);
    one(g, "Vpc", "egress-vpc").inputs.enableDnsSupport = false;
    const noDns = (name: string, fn = "kintone-sync") =>
      `VPC egress-vpc has DNS resolution (enableDnsSupport) off, so function ${fn} cannot resolve ${name} (the Amazon DNS server does not answer in that VPC)`;
    expect(broken(g, "kintone-sync", SECRETS)).toBe(noDns("secretsmanager.ap-northeast-1.amazonaws.com"));
    expect(broken(g, "kintone-sync", KINTONE_NET)).toBe(noDns("example.cybozu.com"));
    expect(broken(g, "db-writer", DB)).toBe(noDns("the DNS name of database cluster data-db-cluster", "db-writer"));
    expect(broken(g, "saas-export", PROXY)).toMatch(
      /^VPC egress-vpc has DNS resolution \(enableDnsSupport\) off, so function saas-export cannot resolve the DNS name of load balancer proxy-nlb/,
    );
    const h = copy(dev);
    one(h, "VpcEndpoint", "endpoints-secretsmanager").inputs.privateDnsEnabled = false;
    detour(
      h,
      "kintone-sync",
      SECRETS,
      "interface endpoint endpoints-secretsmanager has private DNS off, so secretsmanager.ap-northeast-1.amazonaws.com resolves to the service's public addresses instead of the endpoint",
    );
  });

  test("gateway endpoint not on a function's route table: S3 through the NAT, unless the bucket insists on an endpoint", () => {
    const g = copy(dev);
    const ep = one(g, "VpcEndpoint", "endpoints-s3-gateway");
    ep.inputs.routeTableIds = [one(g, "RouteTable", "egress-private-rt-0").id];
    // The prefix-list egress rule matches S3's public addresses on any path, and egress-private-rt-1 sends them to
    // the NAT: the write gets through.
    detour(
      g,
      "saas-export",
      /AWS s3/,
      "route table egress-private-rt-1 has no route to the s3 prefix list (gateway endpoint endpoints-s3-gateway is not associated with it)",
    );
    // A bucket policy denying requests not from a VPC endpoint refuses that path.
    const bucket = (one(g, "Function", "saas-export-fn").inputs.environment as { variables: Record<string, string> })
      .variables.BUCKET;
    g.resources.push({
      urn: "urn:pulumi:dev::vpc-lambda-kit::aws:s3/bucketPolicy:BucketPolicy::endpoint-only",
      id: "endpoint-only",
      type: "aws:s3/bucketPolicy:BucketPolicy",
      name: "endpoint-only",
      parent: null,
      inputs: {
        bucket,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [`arn:aws:s3:::${bucket}/*`],
              Condition: { StringNotEquals: { "aws:SourceVpce": ep.id } },
            },
          ],
        }),
      },
    } as never);
    expect(broken(g, "saas-export", /AWS s3/)).toMatch(
      /^route table egress-private-rt-1 has no route to the s3 prefix list \(gateway endpoint endpoints-s3-gateway is not associated with it\); the public path fails too: bucket \S+'s policy \(endpoint-only\) denies requests that do not come through a VPC endpoint/,
    );
  });

  test("squid.conf without a final deny all: Squid denies what no line matches, so the flow works", () => {
    // Without the final deny all, Squid denies what no line matches (the opposite of the last line, an allow): the
    // flow works and the gate still refuses everything else; the missing line is the policy rule's finding.
    const h = copy(dev);
    const lt = one(h, "LaunchTemplate", "proxy-lt");
    const script = Buffer.from(String(lt.inputs.userData), "base64")
      .toString("utf8")
      .replace(/^http_access deny all$/m, "");
    lt.inputs.userData = Buffer.from(script, "utf8").toString("base64");
    const f = flowOf(check(h).flows, "saas-export", PROXY);
    expect(f.status).toBe("OK");
    expect(f.steps.join("\n")).toMatch(
      /squid: CONNECT api\.example-saas\.com:443 allowed only with X-Lambda-Proxy-Token AND a whitelisted domain/,
    );
    // The same squid.conf with its last line turned into an allow of everything is BROKEN (a deny-less default).
    const k = copy(dev);
    const lk = one(k, "LaunchTemplate", "proxy-lt");
    lk.inputs.userData = Buffer.from(
      Buffer.from(String(lk.inputs.userData), "base64")
        .toString("utf8")
        .replace(/^http_access deny all$/m, "http_access allow all"),
      "utf8",
    ).toString("base64");
    expect(broken(k, "saas-export", PROXY)).toMatch(/lets requests through without the X-Lambda-Proxy-Token header/);
  });

  // The caller through an endpoint the policy admits (OK) and a policy admitting another endpoint only (BROKEN) are
  // the mutations "private API called from kintone-sync through its endpoint" and "…, policy admits another endpoint
  // only" above; here the policy that admits every endpoint.
  test("a private API policy without aws:SourceVpce lets its caller through, and the forbidden check flags it", () => {
    const open = check(mutation("private API policy without aws:SourceVpce"));
    const f = flowOf(open.flows, "kintone-sync", API);
    expect(f.status).toBe("OK");
    expect(f.path).toEqual(["endpoints-execute-api", "private-api-api"]);
    expect(open.forbidden.find((x) => x.check === "private-api")).toMatchObject({
      status: "VIOLATED",
      detail:
        "private API private-api-api's resource policy allows execute-api:Invoke without an aws:SourceVpce condition, so any VPC endpoint, from any account, can invoke it",
    });
  });
});
