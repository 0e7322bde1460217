// The kit's components on a VPC built with awsx.ec2.Vpc: the header-gated Squid proxy tier, VPC
// endpoints, a saas-export-like function that reaches a SaaS through the tier and S3 and Secrets
// Manager through the endpoints, and a Transit Gateway shared with a data account. The network
// arguments of every component come from one adapter (components/vpc-ref.ts). README.md says when
// to do this rather than let the kit build the VPC.
import * as pulumi from "@pulumi/pulumi";
import * as awsx from "@pulumi/awsx";
import { SquidProxyTier, TgwOwner, VpcEndpoints, VpcFunction, awsServiceFlow } from "../../components";
import { fromAwsxVpc, vpcArgs } from "../../components/vpc-ref";

const config = new pulumi.Config("kit-awsx-vpc");
const region = new pulumi.Config("aws").require("region");
const dataAccountId = config.require("dataAccountId");

// Stated once, given to awsx and to the kit: the kit renders squid.conf and plans security-group
// rules from the CIDRs before awsx has created anything.
const network = {
  cidrBlock: "10.40.0.0/16",
  availabilityZones: [`${region}a`, `${region}c`],
  privateSubnetCidrs: ["10.40.0.0/20", "10.40.16.0/20"],
  publicSubnetCidrs: ["10.40.128.0/24", "10.40.129.0/24"],
  dns: { hostnames: true, support: true },
};

const vpc = new awsx.ec2.Vpc("workload", {
  cidrBlock: network.cidrBlock,
  availabilityZoneNames: network.availabilityZones,
  enableDnsHostnames: network.dns.hostnames,
  enableDnsSupport: network.dns.support,
  subnetStrategy: "Auto",
  subnetSpecs: [
    { type: "Private", cidrBlocks: network.privateSubnetCidrs },
    { type: "Public", cidrBlocks: network.publicSubnetCidrs },
  ],
  natGateways: { strategy: "Single" },
});
const ref = fromAwsxVpc(vpc, network);

const endpoints = new VpcEndpoints("endpoints", {
  ...vpcArgs.endpoints(ref),
  region,
  interfaceServices: ["secretsmanager"],
  gatewayServices: ["s3"],
});

const tier = new SquidProxyTier("proxy", {
  ...vpcArgs.proxyTier(ref, "private"),
  clientCidrs: ref.privateSubnetCidrs,
  openToClientCidrs: false,
  allowedDomains: [config.require("saasHost")],
  headerValue: config.requireSecret("proxyHeaderValue"),
  desiredCapacity: 2,
});

const fn = new VpcFunction("saas-client", {
  ...vpcArgs.fn(ref),
  source: "saas-export",
  description: "Reads a SaaS API through the proxy tier (example on an awsx VPC)",
  flows: [
    tier.flow("SaaS API through the Squid proxy tier"),
    awsServiceFlow("s3", "write results through the gateway endpoint", {
      interfaceServices: endpoints.interfaceServices,
      prefixListIds: endpoints.prefixListIds,
    }),
    awsServiceFlow("secretsmanager", "read the proxy header", {
      securityGroupId: endpoints.securityGroupId,
      interfaceServices: endpoints.interfaceServices,
    }),
  ],
  environment: {
    PROXY_URL: tier.proxyUrl,
    PROXY_HEADER_NAME: tier.headerName,
    PROXY_HEADER_SECRET_ID: tier.headerSecretArn,
  },
  policyStatements: [
    {
      Sid: "ReadProxyHeader",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: tier.headerSecretArn,
    },
  ],
});
tier.allowFrom(fn.securityGroupId, "saas-client function");
endpoints.allowFrom(fn.securityGroupId, "saas-client function");

// The Transit Gateway in this account, shared with the data account; its VPC attaches from there.
const tgw = new TgwOwner("tgw", {
  ...vpcArgs.tgwOwner(ref),
  vpcName: "workload",
  peers: [{ name: "data", cidrBlocks: [config.require("dataVpcCidr")] }],
  principals: [dataAccountId],
});

export const vpcId = vpc.vpcId;
export const proxyUrl = tier.proxyUrl;
export const egressIps = tier.egressIps;
export const functionName = fn.functionName;
export const transitGatewayId = tgw.sharedTransitGatewayId;
export const shareArn = tgw.shareArn;
