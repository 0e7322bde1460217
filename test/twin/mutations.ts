/**
 * The checker's mutations of the dev graph (test/check/flows.test.ts breaks the same things one test at a time),
 * as a list both proofs run: the checker reads each mutated graph, the twin builds it and sends traffic.
 *
 * Every flow must agree (checker OK ⇔ twin traffic got through). Where a mutation leaves every flow working (AWS
 * delivers the traffic, just not the declared way or not as tightly as it should), `finding` names what the checker
 * reports instead: a forbidden-path result or a policy violation. `twinDiffers` is for a flow the twin cannot
 * model faithfully; no mutation needs it today.
 */
import type { Graph } from "../../ops/synth-core";
import { copy, drop, one, setApiPolicy } from "../check/mutate";

export interface Mutation {
  name: string;
  /** Cheap and representative: run in the jest agreement test (the rest run with TWIN_ALL_MUTATIONS=1). */
  representative?: boolean;
  apply(g: Graph): void;
  /** The checker's finding for this mutation beyond flows: a forbidden-path check or a policy id, and its text. */
  finding?: { kind: "forbidden" | "policy"; id: string; match: RegExp };
  /** The mutation changes nothing that should fail or be flagged (a variant AWS accepts). */
  harmless?: boolean;
  /** fn + flow text (regex on the checker's flow line) → what the twin sees instead, and why. */
  twinDiffers?: { fn: string; flow: RegExp; twinOk: boolean; why: string }[];
}

const env = (g: Graph, fnResource: string) =>
  (one(g, "Function", fnResource).inputs.environment as { variables: Record<string, string> }).variables;
const squidScript = (g: Graph) =>
  Buffer.from(String(one(g, "LaunchTemplate", "proxy-lt").inputs.userData), "base64").toString("utf8");
const setSquidScript = (g: Graph, s: string) =>
  (one(g, "LaunchTemplate", "proxy-lt").inputs.userData = Buffer.from(s, "utf8").toString("base64"));

// kintone-sync's security group allows tcp/443 to 0.0.0.0/0 and its subnets route 0.0.0.0/0 to the NAT: when the
// Secrets Manager endpoint is not used, the public name is reached through the NAT and the read succeeds (both
// agree: OK), and the checker reports the detour.
const SECRETS_DETOUR = {
  kind: "forbidden" as const,
  id: "endpoint-path",
  match: /^kintone-sync: tcp\/443 to AWS secretsmanager/,
};

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
    harmless: true,
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
    apply: (g) => void drop(g, "SecurityGroupIngressRule", "kintone-sync-to-endpoints"),
  },
  {
    name: "no Secrets Manager endpoint",
    apply: (g) => void drop(g, "VpcEndpoint", "endpoints-secretsmanager"),
    finding: SECRETS_DETOUR,
  },
  {
    name: "DNS hostnames off on the function's VPC",
    apply: (g) => void (one(g, "Vpc", "egress-vpc").inputs.enableDnsHostnames = false),
    finding: SECRETS_DETOUR,
  },
  {
    name: "DNS resolution off on the function's VPC",
    representative: true,
    apply: (g) => void (one(g, "Vpc", "egress-vpc").inputs.enableDnsSupport = false),
  },
  {
    name: "private DNS off on the Secrets Manager endpoint",
    representative: true,
    apply: (g) => void (one(g, "VpcEndpoint", "endpoints-secretsmanager").inputs.privateDnsEnabled = false),
    finding: SECRETS_DETOUR,
  },
  {
    name: "gateway endpoint not on a function's route table",
    representative: true,
    apply: (g) =>
      void (one(g, "VpcEndpoint", "endpoints-s3-gateway").inputs.routeTableIds = [
        one(g, "RouteTable", "egress-private-rt-0").id,
      ]),
    // S3's addresses go 0.0.0.0/0 → NAT from egress-private-1, and the prefix-list egress rule matches them on any
    // path; no bucket policy insists on aws:SourceVpce: the write succeeds (both agree), the checker reports the detour.
    finding: { kind: "forbidden", id: "endpoint-path", match: /^saas-export: tcp\/443 to AWS s3/ },
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
  },
  {
    name: "SaaS domain not whitelisted in squid",
    apply: (g) => void (env(g, "saas-export-fn").SAAS_URL = "https://api.other-saas.example/v1/items"),
  },
  {
    name: "squid.conf without a final deny all",
    representative: true,
    apply: (g) => setSquidScript(g, squidScript(g).replace(/^http_access deny all$/m, "")),
    // Squid applies the opposite of the last http_access line (the ANDed allow) to a request no line matches, so the
    // gate still refuses everything else (both agree: OK); the missing line is the policy rule's finding.
    finding: { kind: "policy", id: "squid-conf-and-deny-all", match: /instead of "http_access deny all"/ },
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
  { name: "private API called from kintone-sync through its endpoint", harmless: true, apply: (g) => addApiCaller(g) },
  {
    name: "private API policy without aws:SourceVpce",
    representative: true,
    apply: (g) => {
      addApiCaller(g);
      setApiPolicy(g);
    },
    // The policy admits the endpoint (and every other caller): the call gets through (both agree: OK); the
    // forbidden check reports the open policy.
    finding: { kind: "forbidden", id: "private-api", match: /without an aws:SourceVpce condition/ },
  },
];

/** kintone-sync declares a flow to the private API through the execute-api endpoint (test/check/flows.test.ts reads these mutations). */
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
