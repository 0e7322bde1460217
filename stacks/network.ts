import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { FixedEgressVpc } from "../components/fixed-egress-vpc";
import { VpcEndpoints } from "../components/vpc-endpoints";
import { EnvConfig } from "./config";
import { tgwOwnerSide } from "./tgw";

export const NETWORK_KEYS = [
  "vpcId", "vpcCidr", "publicSubnetIds", "privateSubnetIds", "privateSubnetCidrs", "privateRouteTableIds", "natGatewayIds", "egressIps",
  "s3PrefixListId", "endpointSecurityGroupId",
  // The execute-api interface endpoint the private API binds to ("" when network.interfaceEndpoints lacks it).
  "executeApiEndpointId",
  // The Transit Gateway the data stack attaches to ("" when transitGateway is off).
  "transitGatewayId", "tgwShareArn", "tgwRouteTableId",
] as const;
export type NetworkOutputs = Record<(typeof NETWORK_KEYS)[number], pulumi.Output<any>>;

/** Availability-zone names: from config, or the first N the region offers (asked of the provider). */
export function zoneNames(zones: string[] | number, provider: aws.Provider, key: string): pulumi.Input<string>[] {
  if (Array.isArray(zones)) return zones;
  const names = aws.getAvailabilityZonesOutput({ state: "available" }, { provider }).names;
  return Array.from({ length: zones }, (_, i) => names.apply((n) => {
    if (i >= n.length) throw new Error(`${key}: the region offers ${n.length} availability zones, ${zones} requested. Fix: lower the count`);
    return n[i];
  }));
}

/** Account A's network: the fixed-egress VPC (MISSION §1). */
export function networkRole(cfg: EnvConfig, provider: aws.Provider): NetworkOutputs {
  const net = cfg.network;
  const vpc = new FixedEgressVpc("egress", {
    cidrBlock: net.cidrBlock,
    availabilityZones: zoneNames(cfg.networkAzs, provider, "vpc-lambda-kit:network.availabilityZones"),
    publicSubnetCidrs: cfg.networkPlan.publicSubnetCidrs,
    privateSubnetCidrs: cfg.networkPlan.privateSubnetCidrs,
    natGateways: net.natGateways,
    eipAllocationIds: net.eipAllocationIds,
    flowLogs: net.flowLogs,
  }, { provider });
  const endpoints = new VpcEndpoints("endpoints", {
    vpcId: vpc.vpcId,
    region: cfg.region,
    vpcDns: vpc.dns,
    interfaceServices: net.interfaceEndpoints,
    subnetIds: vpc.privateSubnetIds,
    gatewayServices: net.gatewayEndpoints,
    routeTableIds: vpc.privateRouteTableIds,
  }, { provider });
  return {
    vpcId: vpc.vpcId,
    vpcCidr: pulumi.output(vpc.cidrBlock),
    publicSubnetIds: pulumi.all(vpc.publicSubnetIds),
    privateSubnetIds: pulumi.all(vpc.privateSubnetIds),
    privateSubnetCidrs: pulumi.output(vpc.plan.privateSubnetCidrs),
    privateRouteTableIds: pulumi.all(vpc.privateRouteTableIds),
    natGatewayIds: pulumi.all(vpc.natGatewayIds),
    egressIps: vpc.egressIps,
    // Plain strings cross stacks: "" when the VPC has no such endpoint.
    s3PrefixListId: endpoints.prefixListIds.s3 ?? pulumi.output(""),
    endpointSecurityGroupId: endpoints.securityGroupId ?? pulumi.output(""),
    executeApiEndpointId: endpoints.interfaceEndpointIds["execute-api"] ?? pulumi.output(""),
    ...tgwOwnerSide(cfg, provider, vpc),
  };
}
