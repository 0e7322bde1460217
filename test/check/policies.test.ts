import * as path from "path";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { REPO_ROOT } from "../../components/bundle";
import { renderSquidConf } from "../../components/squid-conf";
import { checkPolicies, POLICY_IDS, PolicyViolation } from "../../ops/check/policies";
import { findSquidConfs, squidConfProblems } from "../../ops/check/eval/proxy";
import { T } from "../../ops/check/model/types";
import type { Graph } from "../../ops/synth-core";
import { readStackConfig } from "../../ops/stack-config";
import type { EnvConfig } from "../../stacks/config/schema";
import { loadConfig } from "../../stacks/config/load";
import { kitPolicies } from "../../policy-pack/policies";
import { GraphView, synthForTest } from "../support/graph";

// --------------------------------------------------------------------------------------------
// A small, correct stack, written once with symbolic references. `toGraph` resolves them to ids
// (graph.json); `toPolicyResources` leaves them unknown and records property dependencies instead,
// as `pulumi preview` does for resources that do not exist yet.

type Ref = { $ref: string } | { $arn: string };
const ref = (name: string): Ref => ({ $ref: name });
const arn = (name: string): Ref => ({ $arn: name });

interface Spec {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  parent?: string;
  account?: "a" | "b";
}

const PREFIX: Record<string, string> = {
  [T.vpc]: "vpc",
  [T.subnet]: "subnet",
  [T.routeTable]: "rtb",
  [T.igw]: "igw",
  [T.nat]: "nat",
  [T.eip]: "eipalloc",
  [T.sg]: "sg",
  [T.endpoint]: "vpce",
  [T.tgw]: "tgw",
};

const idOf = (s: Spec) => `${PREFIX[s.type] ?? "mock"}-${s.name}`;
const urnOf = (s: Spec) => `urn:pulumi:test::vpc-lambda-kit::${s.type}::${s.name}`;
const PROVIDER = "urn:pulumi:test::vpc-lambda-kit::pulumi:providers:aws::account-a";

const ENI = {
  Sid: "VpcEni",
  Effect: "Allow",
  Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"],
  Resource: "*",
};
const LOGS = {
  Sid: "Logs",
  Effect: "Allow",
  Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
  Resource: "arn:aws:logs:ap-northeast-1:111111111111:log-group:fn-logs:*",
};
const policyDoc = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });

const GOOD_API_POLICY = policyDoc(
  {
    Sid: "AllowEndpoint",
    Effect: "Allow",
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: "execute-api:/*",
    Condition: { StringEquals: { "aws:SourceVpce": ["vpce-api-ep"] } },
  },
  {
    Sid: "DenyOthers",
    Effect: "Deny",
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: "execute-api:/*",
    Condition: { StringNotEquals: { "aws:SourceVpce": ["vpce-api-ep"] } },
  },
);

const GOOD_SQUID = renderSquidConf({
  port: 3128,
  headerName: "X-Lambda-Proxy-Token",
  headerValue: "s3cret",
  allowedDomains: ["api.example-saas.com"],
  clientCidrs: ["10.0.1.0/24"],
});
const ORED_SQUID = [
  "acl lambda_header req_header X-Lambda-Test ^test$",
  "acl whitelist dstdomain .example-saas.com",
  "http_access allow lambda_header",
  "http_access allow whitelist",
  "http_access deny all",
].join("\n");
const bootScript = (conf: string) =>
  Buffer.from(
    `#!/bin/bash\nset -e\ncat >/etc/squid/squid.conf <<'EOF_CONF'\n${conf}\nEOF_CONF\nsystemctl enable --now squid\n`,
  ).toString("base64");

/** `<kind>-rt` in app-vpc for `subnet`, its default route `<kind>-default` to `target`, and the association. */
const defaultRouted = (kind: string, subnet: string, target: Record<string, unknown>): Spec[] => [
  { type: "aws:ec2/routeTable:RouteTable", name: `${kind}-rt`, inputs: { vpcId: ref("app-vpc") } },
  {
    type: "aws:ec2/route:Route",
    name: `${kind}-default`,
    inputs: { routeTableId: ref(`${kind}-rt`), destinationCidrBlock: "0.0.0.0/0", ...target },
  },
  {
    type: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    name: `${subnet}-rta`,
    inputs: { subnetId: ref(subnet), routeTableId: ref(`${kind}-rt`) },
  },
];

function baseSpecs(): Spec[] {
  return [
    {
      type: "aws:ec2/vpc:Vpc",
      name: "app-vpc",
      inputs: { cidrBlock: "10.0.0.0/16", enableDnsHostnames: true, enableDnsSupport: true },
    },
    {
      type: "aws:ec2/subnet:Subnet",
      name: "public-a",
      inputs: { vpcId: ref("app-vpc"), cidrBlock: "10.0.10.0/24", availabilityZone: "ap-northeast-1a" },
    },
    {
      type: "aws:ec2/subnet:Subnet",
      name: "private-a",
      inputs: { vpcId: ref("app-vpc"), cidrBlock: "10.0.1.0/24", availabilityZone: "ap-northeast-1a" },
    },
    { type: "aws:ec2/internetGateway:InternetGateway", name: "igw", inputs: { vpcId: ref("app-vpc") } },
    ...defaultRouted("public", "public-a", { gatewayId: ref("igw") }),
    { type: "aws:ec2/eip:Eip", name: "nat-eip", inputs: { domain: "vpc" } },
    {
      type: "aws:ec2/natGateway:NatGateway",
      name: "nat",
      inputs: { subnetId: ref("public-a"), allocationId: ref("nat-eip"), connectivityType: "public" },
    },
    ...defaultRouted("private", "private-a", { natGatewayId: ref("nat") }),
    {
      type: "aws:iam/role:Role",
      name: "fn-role",
      inputs: {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
    },
    {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "fn-policy",
      inputs: { role: ref("fn-role"), policy: policyDoc(ENI, LOGS) },
    },
    { type: "aws:ec2/securityGroup:SecurityGroup", name: "fn-sg", inputs: { vpcId: ref("app-vpc") } },
    {
      type: "aws:lambda/function:Function",
      name: "fn",
      inputs: {
        role: arn("fn-role"),
        runtime: "nodejs24.x",
        vpcConfig: { subnetIds: [ref("private-a")], securityGroupIds: [ref("fn-sg")] },
      },
    },
    {
      type: "aws:ec2/vpcEndpoint:VpcEndpoint",
      name: "secrets-ep",
      inputs: {
        vpcId: ref("app-vpc"),
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        serviceName: "com.amazonaws.ap-northeast-1.secretsmanager",
        subnetIds: [ref("private-a")],
      },
    },
    {
      type: "aws:ec2/launchTemplate:LaunchTemplate",
      name: "proxy-lt",
      inputs: {
        instanceType: "t4g.small",
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        userData: bootScript(GOOD_SQUID),
      },
    },
    { type: "aws:rds/cluster:Cluster", name: "db", inputs: { engine: "aurora-postgresql", storageEncrypted: true } },
    {
      type: "aws:rds/clusterInstance:ClusterInstance",
      name: "db-0",
      inputs: { clusterIdentifier: ref("db"), instanceClass: "db.serverless", publiclyAccessible: false },
    },
    {
      type: "aws:apigateway/restApi:RestApi",
      name: "api",
      inputs: { endpointConfiguration: { types: "PRIVATE" }, policy: GOOD_API_POLICY },
    },
    {
      type: "aws:ec2/vpc:Vpc",
      name: "data-vpc",
      account: "b",
      inputs: { cidrBlock: "10.1.0.0/16", enableDnsHostnames: true, enableDnsSupport: true },
    },
    { type: "aws:ec2transitgateway/transitGateway:TransitGateway", name: "tgw", inputs: {} },
    {
      type: "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
      name: "tgw-app",
      inputs: { transitGatewayId: ref("tgw"), vpcId: ref("app-vpc") },
    },
    {
      type: "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
      name: "tgw-data",
      account: "b",
      inputs: { transitGatewayId: ref("tgw"), vpcId: ref("data-vpc") },
    },
  ];
}

function resolve(v: unknown, specs: Spec[], leaf: (r: Ref, s: Spec) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => resolve(x, specs, leaf));
  if (v && typeof v === "object") {
    if ("$ref" in v || "$arn" in v) {
      const name = (v as { $ref?: string; $arn?: string }).$ref ?? (v as { $arn: string }).$arn;
      const s = specs.find((x) => x.name === name);
      if (!s) throw new Error(`fixture refers to unknown resource ${name}`);
      return leaf(v as Ref, s);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, specs, leaf)]));
  }
  return v;
}

function toGraph(specs: Spec[]): Graph {
  return {
    project: "vpc-lambda-kit",
    stack: "test",
    outputs: {},
    resources: specs.map((s) => ({
      urn: urnOf(s),
      id: idOf(s),
      type: s.type,
      name: s.name,
      parent: s.parent ? urnOf(specs.find((x) => x.name === s.parent)!) : null,
      provider: s.account === "b" ? PROVIDER.replace("account-a", "account-b") : PROVIDER,
      // A role's ARN is its auto-name: `<name>-<7 hex>`, as Pulumi (and the mocks) name it.
      inputs: resolve(s.inputs, specs, (r, t) =>
        "$arn" in r ? `arn:aws:iam::111111111111:role/${t.name}-0a1b2c3` : idOf(t),
      ) as Record<string, unknown>,
    })),
  };
}

/** Mutates one spec (found by name) in a fresh copy of the base stack. */
function mutated(edit: (specs: Spec[]) => void): Graph {
  const specs = baseSpecs();
  edit(specs);
  return toGraph(specs);
}
const spec = (specs: Spec[], name: string) => specs.find((s) => s.name === name)!;

function only(violations: PolicyViolation[], policy: string): PolicyViolation[] {
  return violations.filter((v) => v.policy === policy);
}

// --------------------------------------------------------------------------------------------

describe("checkPolicies over graph.json", () => {
  test("the correct stack passes every policy", () => {
    expect(checkPolicies(toGraph(baseSpecs()))).toEqual([]);
  });

  test("every policy has a stable id", () => {
    expect(POLICY_IDS).toEqual([
      "no-broad-role-policy",
      "vpc-function-eni-actions",
      "rds-private-encrypted",
      "squid-conf-and-deny-all",
      "private-api-source-vpce",
      "private-dns-vpc-attributes",
      "eip-per-nat",
      "tgw-no-cidr-overlap",
      "lambda-private-subnets",
      "nat-public-subnet",
      "imdsv2-required",
    ]);
  });

  test("no-broad-role-policy: an AWS managed AdministratorAccess attachment on a function role", () => {
    const v = checkPolicies(
      mutated((s) =>
        s.push({
          type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          name: "fn-admin",
          inputs: { role: ref("fn-role"), policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
        }),
      ),
    );
    expect(v).toEqual([expect.objectContaining({ policy: "no-broad-role-policy", resource: "fn-admin" })]);
    expect(v[0].message).toBe(
      "function role fn-role has the AWS managed policy AdministratorAccess attached (fn-admin); detach it and grant explicit inline statements for what the function needs.",
    );
  });

  test("no-broad-role-policy: a *FullAccess managed policy and an inline * on * are both refused", () => {
    const v = checkPolicies(
      mutated((s) => {
        s.push({
          type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          name: "fn-s3-full",
          inputs: { role: ref("fn-role"), policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" },
        });
        spec(s, "fn-policy").inputs.policy = policyDoc(ENI, LOGS, {
          Sid: "Everything",
          Effect: "Allow",
          Action: "*",
          Resource: "*",
        });
      }),
    );
    expect(
      only(v, "no-broad-role-policy")
        .map((x) => x.resource)
        .sort(),
    ).toEqual(["fn-policy", "fn-s3-full"]);
    expect(v.find((x) => x.resource === "fn-policy")!.message).toBe(
      'function role fn-role allows "*" on * in fn-policy (statement Everything); list the exact actions and resources the function needs.',
    );
  });

  test("vpc-function-eni-actions: a VPC function whose role cannot manage ENIs", () => {
    const v = checkPolicies(
      mutated((s) => {
        spec(s, "fn-policy").inputs.policy = policyDoc(LOGS, {
          Effect: "Allow",
          Action: "ec2:DescribeNetworkInterfaces",
          Resource: "*",
        });
      }),
    );
    expect(v).toEqual([
      {
        policy: "vpc-function-eni-actions",
        resource: "fn",
        urn: urnOf({ type: "aws:lambda/function:Function", name: "fn", inputs: {} }),
        message:
          "VPC function fn's role fn-role lacks ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface; add an inline statement allowing ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface on * (Lambda creates the function's ENIs with them).",
      },
    ]);
  });

  test("vpc-function-eni-actions: the AWSLambdaVPCAccessExecutionRole managed policy carries the actions", () => {
    const v = checkPolicies(
      mutated((s) => {
        spec(s, "fn-policy").inputs.policy = policyDoc(LOGS);
        s.push({
          type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
          name: "fn-vpc-access",
          inputs: {
            role: ref("fn-role"),
            policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
          },
        });
      }),
    );
    expect(v).toEqual([]);
  });

  // One edit of the correct stack, and every violation it must produce as [policy, resource, message].
  const VIOLATIONS: [string, (s: Spec[]) => void, [string, string, string][]][] = [
    [
      "rds-private-encrypted: an unencrypted cluster and a publicly accessible instance",
      (s) => {
        spec(s, "db").inputs.storageEncrypted = false;
        spec(s, "db-0").inputs.publiclyAccessible = true;
      },
      [
        [
          "rds-private-encrypted",
          "db",
          "RDS Cluster db is not encrypted at rest; set storageEncrypted: true (and kmsKeyId for a customer-managed key).",
        ],
        [
          "rds-private-encrypted",
          "db-0",
          "RDS ClusterInstance db-0 is publicly accessible; set publiclyAccessible: false and reach it from the VPC (or across the Transit Gateway).",
        ],
      ],
    ],
    [
      "eip-per-nat: a NAT without an EIP, and an EIP no NAT uses",
      (s) => {
        delete spec(s, "nat").inputs.allocationId;
      },
      [
        [
          "eip-per-nat",
          "nat",
          "NAT gateway nat has no Elastic IP allocation; give it allocationId (one EIP per NAT, the address the SaaS allowlists).",
        ],
        [
          "eip-per-nat",
          "nat-eip",
          "Elastic IP nat-eip is not used by any NAT gateway (it is billed and may sit on the SaaS allowlist); attach it to a NAT or remove it.",
        ],
      ],
    ],
    [
      "private-dns-vpc-attributes: a private-DNS endpoint in a VPC with DNS hostnames off",
      (s) => {
        spec(s, "app-vpc").inputs.enableDnsHostnames = false;
      },
      [
        [
          "private-dns-vpc-attributes",
          "secrets-ep",
          "interface endpoint secrets-ep has private DNS on, but VPC app-vpc has enableDnsHostnames off, so the service name resolves to public addresses; set enableDnsHostnames: true on the VPC.",
        ],
      ],
    ],
    [
      "eip-per-nat: two NATs sharing one EIP",
      (s) => {
        s.push({
          type: "aws:ec2/natGateway:NatGateway",
          name: "nat-2",
          inputs: { subnetId: ref("public-a"), allocationId: ref("nat-eip") },
        });
      },
      [["eip-per-nat", "nat-2", "NAT gateways nat and nat-2 share the Elastic IP nat-eip; give each NAT its own EIP."]],
    ],
    [
      "tgw-no-cidr-overlap: two attached VPCs with the same CIDR",
      (s) => {
        spec(s, "data-vpc").inputs.cidrBlock = "10.0.0.0/16";
      },
      [
        [
          "tgw-no-cidr-overlap",
          "tgw-data",
          "Transit Gateway attachments tgw-app (VPC app-vpc 10.0.0.0/16) and tgw-data (VPC data-vpc 10.0.0.0/16) overlap, so routes between them are ambiguous; give the VPCs disjoint CIDRs.",
        ],
      ],
    ],
    [
      "lambda-private-subnets: a Lambda in a public subnet",
      (s) => {
        (spec(s, "fn").inputs.vpcConfig as Record<string, unknown>).subnetIds = [ref("public-a")];
      },
      [
        [
          "lambda-private-subnets",
          "fn",
          "function fn uses subnet public-a, whose route table public-rt sends 0.0.0.0/0 to internet gateway igw; attach the function to private subnets only (it gets no public IP there, so it has no internet path).",
        ],
      ],
    ],
    [
      "nat-public-subnet: a NAT in a private subnet",
      (s) => {
        spec(s, "nat").inputs.subnetId = ref("private-a");
      },
      [
        [
          "nat-public-subnet",
          "nat",
          "NAT gateway nat is in subnet private-a, whose route table private-rt has no 0.0.0.0/0 route to an internet gateway; put the NAT in a public subnet.",
        ],
      ],
    ],
    [
      "imdsv2-required: a launch template that still allows IMDSv1",
      (s) => {
        spec(s, "proxy-lt").inputs.metadataOptions = { httpEndpoint: "enabled", httpTokens: "optional" };
      },
      [
        [
          "imdsv2-required",
          "proxy-lt",
          'launch template proxy-lt does not require IMDSv2; set metadataOptions.httpTokens to "required" (and httpPutResponseHopLimit: 1).',
        ],
      ],
    ],
  ];
  test.each(VIOLATIONS)("%s", (_title, edit, expected) => {
    expect(checkPolicies(mutated(edit)).map((x) => [x.policy, x.resource, x.message])).toEqual(expected);
  });

  test("squid-conf-and-deny-all: the usual recipe's two allow lines (header OR domain) are refused", () => {
    const v = checkPolicies(
      mutated((s) => {
        spec(s, "proxy-lt").inputs.userData = bootScript(ORED_SQUID);
      }),
    );
    expect(only(v, "squid-conf-and-deny-all").map((x) => x.resource)).toEqual(["proxy-lt", "proxy-lt"]);
    expect(v[0].message).toBe(
      'squid.conf in proxy-lt: "http_access allow lambda_header" lacks a domain-whitelist (dstdomain) ACL, so it admits requests that fail the other check (header OR domain); put the header and domain ACLs on one allow line.',
    );
    expect(v[1].message).toMatch(
      /^squid\.conf in proxy-lt: "http_access allow whitelist" lacks a secret-header \(req_header\) ACL/,
    );
  });

  test("squid-conf-and-deny-all: rules that do not end in deny all are refused", () => {
    const open = GOOD_SQUID.replace("http_access deny all\n", "");
    const v = checkPolicies(
      mutated((s) => {
        spec(s, "proxy-lt").inputs.userData = bootScript(open);
      }),
    );
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ policy: "squid-conf-and-deny-all", resource: "proxy-lt" });
    expect(v[0].message).toMatch(
      /the http_access rules end with "http_access allow vlk_clients vlk_allowed_domains vlk_secret_header .*" instead of "http_access deny all"; add http_access deny all as the last access rule\.$/,
    );
  });

  test("squid-conf-and-deny-all: renderSquidConf's output passes", () => {
    expect(squidConfProblems(GOOD_SQUID)).toEqual([]);
  });

  test("private-api-source-vpce: the usual recipe's open policy (no aws:SourceVpce, no deny)", () => {
    const v = checkPolicies(
      mutated((s) => {
        spec(s, "api").inputs.policy = policyDoc({
          Effect: "Allow",
          Principal: "*",
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
        });
      }),
    );
    expect(v.map((x) => [x.policy, x.resource])).toEqual([
      ["private-api-source-vpce", "api"],
      ["private-api-source-vpce", "api"],
    ]);
    expect(v[0].message).toBe(
      "private API api's resource policy allows execute-api:Invoke without an aws:SourceVpce condition (statement 0); add Condition StringEquals aws:SourceVpce with the API's VPC endpoint id(s).",
    );
    expect(v[1].message).toBe(
      "private API api's resource policy has no explicit Deny for requests from other sources; add a Deny of execute-api:Invoke with Condition StringNotEquals aws:SourceVpce (the endpoint id list).",
    );
  });

  test("private-api-source-vpce: a policy attached by a RestApiPolicy resource is checked too", () => {
    const v = checkPolicies(
      mutated((s) => {
        delete spec(s, "api").inputs.policy;
        s.push({
          type: "aws:apigateway/restApiPolicy:RestApiPolicy",
          name: "api-policy",
          inputs: { restApiId: ref("api"), policy: policyDoc(JSON.parse(GOOD_API_POLICY).Statement[0]) },
        });
      }),
    );
    expect(v.map((x) => [x.policy, x.resource])).toEqual([["private-api-source-vpce", "api-policy"]]);
    expect(v[0].message).toMatch(/has no explicit Deny/);
  });

  test("eip-per-nat: the NAT count must match the config's strategy (onePerAz over 2 AZs needs 2)", () => {
    const cfg = {
      roles: ["network", "data", "apps"],
      network: { natGateways: "onePerAz" },
      networkPlan: {
        cidrBlock: "10.0.0.0/16",
        azCount: 2,
        natGateways: "onePerAz",
        natCount: 2,
        publicSubnetCidrs: [],
        privateSubnetCidrs: [],
      },
    } as unknown as EnvConfig;
    const v = checkPolicies(toGraph(baseSpecs()), cfg);
    expect(v).toEqual([
      expect.objectContaining({
        policy: "eip-per-nat",
        resource: "app-vpc",
        message:
          "VPC app-vpc has 1 NAT gateway(s) but vpc-lambda-kit:network.natGateways is onePerAz over 2 AZ(s), i.e. 2; fix the program or the config so each planned NAT exists with its own EIP.",
      }),
    ]);
  });
});

// --------------------------------------------------------------------------------------------
// The policy pack: the same rules through @pulumi/policy's interfaces, in preview conditions
// (ids unknown, references only through property dependencies, unknown values behind the proxy).

const policyProxy = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy: (x: unknown) => Record<string, unknown>;
  unknownStringValue: string;
};

function toPolicyResources(specs: Spec[]): PolicyResource[] {
  const byName = new Map<string, PolicyResource>();
  const deps = new Map<string, Record<string, string[]>>();
  for (const s of specs) {
    const d: Record<string, string[]> = {};
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.inputs)) {
      props[k] = resolve(v, specs, (_r, t) => {
        (d[k] ??= []).push(t.name);
        return policyProxy.unknownStringValue;
      });
    }
    deps.set(s.name, d);
    const r = {
      type: s.type,
      name: s.name,
      urn: urnOf(s),
      props: policyProxy.unknownCheckingProxy(props),
      opts: {},
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource;
    byName.set(s.name, r);
  }
  for (const [name, d] of deps) {
    const r = byName.get(name)!;
    for (const [k, names] of Object.entries(d)) r.propertyDependencies[k] = names.map((n) => byName.get(n)!);
  }
  return [...byName.values()];
}

function runPack(specs: Spec[]): { policy: string; message: string; urn?: string }[] {
  const resources = toPolicyResources(specs);
  const reports: { policy: string; message: string; urn?: string }[] = [];
  for (const p of kitPolicies) {
    if ("validateStack" in p) {
      const args = {
        resources,
        stackTags: new Map(),
        getConfig: () => ({}),
        notApplicable: () => {
          throw new Error("n/a");
        },
      } as unknown as StackValidationArgs;
      (p as StackValidationPolicy).validateStack(args, (message, urn) =>
        reports.push({ policy: p.name, message, urn }),
      );
    } else {
      const validate = (p as ResourceValidationPolicy).validateResource;
      for (const r of resources) {
        const args = {
          type: r.type,
          props: r.props,
          urn: r.urn,
          name: r.name,
          opts: {},
          stackTags: new Map(),
          isType: () => false,
          asType: () => undefined,
          getConfig: () => ({}),
          notApplicable: () => {
            throw new Error("n/a");
          },
        } as unknown as ResourceValidationArgs;
        for (const v of Array.isArray(validate) ? validate : [validate!])
          void v(args, (message, urn) => reports.push({ policy: p.name, message, urn: urn ?? r.urn }));
      }
    }
  }
  return reports;
}

describe("the @pulumi/policy pack (policy-pack/)", () => {
  test("has one mandatory policy per rule, named by the rule's id", () => {
    expect(kitPolicies.map((p) => p.name)).toEqual(POLICY_IDS);
    expect(kitPolicies.every((p) => p.enforcementLevel === "mandatory" && p.description.length > 20)).toBe(true);
    const local = kitPolicies.filter((p) => "validateResource" in p).map((p) => p.name);
    expect(local).toEqual(["rds-private-encrypted", "squid-conf-and-deny-all", "imdsv2-required"]);
  });

  test("a correct stack in preview (ids unknown) passes every policy", () => {
    expect(runPack(baseSpecs())).toEqual([]);
  });

  test("references unknown at preview are followed through property dependencies: a Lambda in a public subnet fails", () => {
    const specs = baseSpecs();
    (spec(specs, "fn").inputs.vpcConfig as Record<string, unknown>).subnetIds = [ref("public-a")];
    expect(runPack(specs)).toEqual([
      {
        policy: "lambda-private-subnets",
        urn: urnOf(spec(specs, "fn")),
        message:
          "function fn uses subnet public-a, whose route table public-rt sends 0.0.0.0/0 to internet gateway igw; attach the function to private subnets only (it gets no public IP there, so it has no internet path).",
      },
    ]);
  });

  test("validateResource refuses a launch template without IMDSv2 and an ORed squid.conf", () => {
    const specs = baseSpecs();
    spec(specs, "proxy-lt").inputs.metadataOptions = { httpTokens: "optional" };
    spec(specs, "proxy-lt").inputs.userData = bootScript(ORED_SQUID);
    const reports = runPack(specs);
    expect(reports.map((r) => r.policy).sort()).toEqual([
      "imdsv2-required",
      "squid-conf-and-deny-all",
      "squid-conf-and-deny-all",
    ]);
    expect(reports.every((r) => r.urn === urnOf(spec(specs, "proxy-lt")))).toBe(true);
  });

  test("a value unknown at preview is skipped, not reported", () => {
    const specs = baseSpecs();
    spec(specs, "db").inputs.storageEncrypted = { $ref: "tgw" };
    expect(runPack(specs)).toEqual([]);
  });
});

// --------------------------------------------------------------------------------------------

describe("the repository's dev stack", () => {
  // One synthesis per test file: Pulumi's runtime state is global.
  let view: GraphView;
  beforeAll(async () => {
    view = (await synthForTest("dev")).view;
  });

  test("passes every policy, with its config's NAT strategy checked too", () => {
    const cfg = loadConfig(readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).config);
    const v = checkPolicies(view.graph, cfg);
    expect(v).toEqual([]);
    // The checks ran over the real resources: removing the NAT's EIP is caught.
    const broken = JSON.parse(JSON.stringify(view.graph)) as Graph;
    const nat = broken.resources.find((r) => r.type === "aws:ec2/natGateway:NatGateway")!;
    delete nat.inputs.allocationId;
    expect(checkPolicies(broken, cfg).map((x) => [x.policy, x.resource])).toEqual([
      ["eip-per-nat", nat.name],
      ["eip-per-nat", "egress-nat-eip-0"],
    ]);
  });

  test("its proxy launch template's boot script carries the squid.conf the policy reads; splitting the allow line is caught", () => {
    const lt = view.one("aws:ec2/launchTemplate:LaunchTemplate", "proxy-lt");
    expect(findSquidConfs(lt.inputs)).toHaveLength(1);
    const script = Buffer.from(String(lt.inputs.userData), "base64").toString("utf8");
    const ored = script.replace(
      /^http_access allow vlk_clients vlk_allowed_domains vlk_secret_header (.*)$/m,
      "http_access allow vlk_clients vlk_allowed_domains $1\nhttp_access allow vlk_clients vlk_secret_header $1",
    );
    expect(ored).not.toBe(script);
    const broken = JSON.parse(JSON.stringify(view.graph)) as Graph;
    broken.resources.find((r) => r.name === "proxy-lt")!.inputs.userData = Buffer.from(ored).toString("base64");
    expect(checkPolicies(broken).map((x) => [x.policy, x.resource])).toEqual([
      ["squid-conf-and-deny-all", "proxy-lt"],
      ["squid-conf-and-deny-all", "proxy-lt"],
    ]);
  });
});
