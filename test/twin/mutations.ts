/**
 * The checker's mutations of the dev graph (test/check/flows.test.ts breaks the same things one test at a time),
 * as a list both proofs run: the checker reads each mutated graph, the twin builds it and sends traffic.
 *
 * `twinDiffers` names the flows where the two are known to disagree and says which is right and why; every
 * other flow must agree (checker OK ⇔ twin traffic got through).
 */
import type { Graph } from "../../ops/synth-core";
import { copy, drop, one, setApiPolicy } from "../check/mutate";

export interface Mutation {
  name: string;
  /** Cheap and representative: run in the jest agreement test (the rest run with TWIN_ALL_MUTATIONS=1). */
  representative?: boolean;
  apply(g: Graph): void;
  /** fn + flow text (regex on the checker's flow line) → what the twin sees instead, and why. */
  twinDiffers?: { fn: string; flow: RegExp; twinOk: boolean; why: string }[];
}

const env = (g: Graph, fnResource: string) =>
  (one(g, "Function", fnResource).inputs.environment as { variables: Record<string, string> }).variables;
const squidScript = (g: Graph) =>
  Buffer.from(String(one(g, "LaunchTemplate", "proxy-lt").inputs.userData), "base64").toString("utf8");
const setSquidScript = (g: Graph, s: string) =>
  (one(g, "LaunchTemplate", "proxy-lt").inputs.userData = Buffer.from(s, "utf8").toString("base64"));

const SECRETS_VIA_NAT =
  "kintone-sync's security group allows tcp/443 to 0.0.0.0/0 and its subnets route 0.0.0.0/0 to the NAT, so the public Secrets Manager name is reached through the NAT and the read succeeds; the checker insists on the endpoint the flow was declared for";

export const MUTATIONS: Mutation[] = [
  { name: "unchanged dev graph", representative: true, apply: () => undefined },
  {
    name: "Lambda in a public subnet",
    apply: (g) => {
      (one(g, "Function", "kintone-sync-fn").inputs.vpcConfig as { subnetIds: string[] }).subnetIds = [
        one(g, "Subnet", "egress-public-0").id,
        one(g, "Subnet", "egress-public-1").id,
      ];
    },
  },
  {
    name: "NAT gateway in a private subnet",
    apply: (g) => void (one(g, "NatGateway", "egress-nat-0").inputs.subnetId = one(g, "Subnet", "egress-private-0").id),
  },
  {
    name: "no default route in a private route table",
    apply: (g) => void drop(g, "Route", "egress-private-rt-1-default"),
  },
  {
    name: "Transit Gateway route missing on the Lambda side",
    apply: (g) => void drop(g, "Route", "transit-rt0-to-data"),
  },
  {
    name: "Transit Gateway return route missing on the database side",
    apply: (g) => void drop(g, "Route", "data-transit-rt0-to-egress"),
  },
  {
    name: "data VPC attachment does not propagate",
    apply: (g) =>
      void (one(g, "VpcAttachment", "data-transit-attachment").inputs.transitGatewayDefaultRouteTablePropagation =
        false),
  },
  {
    name: "RAM share accepter missing outside the organization",
    apply: (g) => void drop(g, "ResourceShareAccepter", "data-transit-accepter"),
  },
  {
    name: "inside an organization the share needs no accepter",
    apply: (g) => {
      drop(g, "ResourceShareAccepter", "data-transit-accepter");
      one(g, "ResourceShare", "transit-share").inputs.allowExternalPrincipals = false;
    },
  },
  {
    name: "no Transit Gateway subnet in a function's zone",
    representative: true,
    apply: (g) =>
      void (one(g, "VpcAttachment", "transit-attachment").inputs.subnetIds = [one(g, "Subnet", "egress-private-0").id]),
  },
  {
    name: "security group egress port off by one",
    apply: (g) => {
      const r = one(g, "SecurityGroupEgressRule", "kintone-sync-egress-tcp-443-internet");
      r.inputs.fromPort = 444;
      r.inputs.toPort = 444;
    },
  },
  {
    name: "database ingress port off by one",
    apply: (g) => {
      const r = one(g, "SecurityGroupIngressRule", "data-db-from-cidr-10-0-0-0-16-5432");
      r.inputs.fromPort = 5433;
      r.inputs.toPort = 5433;
    },
  },
  {
    name: "endpoint security group does not admit the function",
    representative: true,
    apply: (g) => void drop(g, "SecurityGroupIngressRule", "kintone-sync-to-endpoints"),
  },
  {
    name: "no Secrets Manager endpoint",
    apply: (g) => void drop(g, "VpcEndpoint", "endpoints-secretsmanager"),
    twinDiffers: [{ fn: "kintone-sync", flow: /AWS secretsmanager/, twinOk: true, why: SECRETS_VIA_NAT }],
  },
  {
    name: "DNS hostnames off on the function's VPC",
    apply: (g) => void (one(g, "Vpc", "egress-vpc").inputs.enableDnsHostnames = false),
    twinDiffers: [{ fn: "kintone-sync", flow: /AWS secretsmanager/, twinOk: true, why: SECRETS_VIA_NAT }],
  },
  {
    name: "DNS resolution off on the function's VPC",
    apply: (g) => void (one(g, "Vpc", "egress-vpc").inputs.enableDnsSupport = false),
    twinDiffers: [
      {
        fn: "kintone-sync",
        flow: /internet host/,
        twinOk: false,
        why: "without enableDnsSupport the VPC has no resolver: example.cybozu.com does not resolve, so the sync cannot start; the checker does not follow DNS for internet hosts",
      },
      {
        fn: "saas-export",
        flow: /tcp\/3128/,
        twinOk: false,
        why: "the proxy URL is the CLB's DNS name, which does not resolve without the VPC resolver; the checker does not resolve it",
      },
      {
        fn: "saas-export",
        flow: /AWS s3/,
        twinOk: false,
        why: "the S3 endpoint name does not resolve without the VPC resolver (the gateway endpoint is routing, not DNS)",
      },
      ...["appflow-connector", "db-writer", "pets-api"].map((fn) => ({
        fn,
        flow: /tcp\/5432/,
        twinOk: false,
        why: "the cluster endpoint is a DNS name; without the VPC resolver the function cannot find the database",
      })),
    ],
  },
  {
    name: "private DNS off on the Secrets Manager endpoint",
    apply: (g) => void (one(g, "VpcEndpoint", "endpoints-secretsmanager").inputs.privateDnsEnabled = false),
    twinDiffers: [{ fn: "kintone-sync", flow: /AWS secretsmanager/, twinOk: true, why: SECRETS_VIA_NAT }],
  },
  {
    name: "gateway endpoint not on a function's route table",
    representative: true,
    apply: (g) =>
      void (one(g, "VpcEndpoint", "endpoints-s3-gateway").inputs.routeTableIds = [
        one(g, "RouteTable", "egress-private-rt-0").id,
      ]),
    twinDiffers: ["saas-export", "athena-connector-connector"].map((fn) => ({
      fn,
      flow: /AWS s3/,
      twinOk: true,
      why: "from egress-private-1 S3's addresses are routed 0.0.0.0/0 → NAT → internet, and the security group's prefix-list rule matches those same addresses; the bucket policy has no aws:SourceVpce condition, so the write succeeds (through the NAT, at NAT data prices). The checker calls it BROKEN",
    })),
  },
  {
    name: "squid rules ORed (header alone or domain alone)",
    representative: true,
    apply: (g) => {
      const allow = /^http_access allow vlk_clients vlk_allowed_domains vlk_secret_header (.*)$/m;
      setSquidScript(
        g,
        squidScript(g).replace(
          allow,
          "http_access allow vlk_clients vlk_allowed_domains $1\nhttp_access allow vlk_clients vlk_secret_header $1",
        ),
      );
    },
    // Known checker gap, not a twin choice: the checker's squid.conf finder (ops/check/eval/proxy.ts) does not read
    // the template out of the boot script rendered from components/squid-boot.sh, so it sees no http_access rules
    // and calls the flow OK; the real Squid lets the header-less CONNECT through. Remove once the checker reads it.
    twinDiffers: [
      {
        fn: "saas-export",
        flow: /tcp\/3128/,
        twinOk: false,
        why: "the real Squid lets a CONNECT without the header through (rules ORed); the checker does not find squid.conf in the boot script rendered from components/squid-boot.sh, so it does not see the ORed rules",
      },
    ],
  },
  {
    name: "SaaS domain not whitelisted in squid",
    apply: (g) => void (env(g, "saas-export-fn").SAAS_URL = "https://api.other-saas.example/v1/items"),
  },
  {
    name: "squid.conf without a final deny all",
    apply: (g) => setSquidScript(g, squidScript(g).replace(/^http_access deny all$/m, "")),
    twinDiffers: [
      {
        fn: "saas-export",
        flow: /tcp\/3128/,
        twinOk: true,
        why: "Squid applies the opposite of the last http_access line to requests no line matches; the last line is the ANDed allow, so everything else is still denied (the twin's refused CONNECTs prove it). The checker's rule is a lint on the file, stricter than Squid",
      },
    ],
  },
  {
    name: "proxy load balancer does not admit the function",
    apply: (g) => void drop(g, "SecurityGroupIngressRule", "proxy-from-sg-saas-export-sg-3128"),
  },
  {
    name: "private API called from kintone-sync, policy admits another endpoint only",
    representative: true,
    apply: (g) => {
      addApiCaller(g);
      setApiPolicy(g, { StringEquals: { "aws:SourceVpce": "vpce-0someoneelse" } });
    },
  },
  { name: "private API called from kintone-sync through its endpoint", apply: (g) => addApiCaller(g) },
  {
    name: "private API policy without aws:SourceVpce",
    apply: (g) => {
      addApiCaller(g);
      setApiPolicy(g);
    },
    twinDiffers: [
      {
        fn: "kintone-sync",
        flow: /AWS execute-api/,
        twinOk: true,
        why: "the policy allows every caller, so the call through the VPC endpoint is allowed; the checker flags the missing aws:SourceVpce as a security finding, not a path that fails",
      },
    ],
  },
];

/** kintone-sync declares a flow to the private API through the execute-api endpoint (as the checker's test does). */
function addApiCaller(g: Graph): void {
  const api = one(g, "RestApi", "private-api-api");
  const comp = one(g, "VpcFunction", "kintone-sync");
  const endpointSg = one(g, "SecurityGroup", "endpoints-sg").id;
  (comp.inputs.flowSpecs as unknown[]).push({
    kind: "awsService",
    service: "execute-api",
    port: 443,
    protocol: "tcp",
    purpose: "call the pets API",
    securityGroupId: endpointSg,
  });
  env(g, "kintone-sync-fn").PETS_URL = `https://${api.id}.execute-api.ap-northeast-1.amazonaws.com/v1`;
}

export function mutated(dev: Graph, m: Mutation): Graph {
  const g = copy(dev);
  m.apply(g);
  return g;
}
