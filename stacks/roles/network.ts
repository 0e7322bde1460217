import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FixedEgressVpc } from "../../components/fixed-egress-vpc";
import { ExistingEgressVpc } from "../../components/existing-vpc";
import { VpcEndpoints } from "../../components/vpc-endpoints";
import { configKey, EnvConfig, ipamOf } from "../config/schema";
import { NETWORK_KEYS, NetworkOutputs } from "../config/outputs";
import { FEATURES, Feature } from "../features";
import { zoneNames } from "../zones";
import { endpointPolicies } from "../endpoints";
import { completeOutputs } from "./complete";

export { NETWORK_KEYS };
export type { NetworkOutputs };

/** Account A's network: the fixed-egress VPC (docs/designs.md §1), its endpoints, and what each feature adds there. */
export function networkRole(cfg: EnvConfig, provider: aws.Provider): NetworkOutputs {
  const net = cfg.network;
  const existing = net.existingVpc;
  // An adopted VPC exposes every field FixedEgressVpc does; the features read only those.
  const vpc = existing
    ? (adoptVpc(cfg, provider) as unknown as FixedEgressVpc)
    : new FixedEgressVpc(
        "egress",
        {
          cidrBlock: net.cidrBlock,
          availabilityZones: zoneNames(cfg.networkAzs, provider, configKey("network.availabilityZones")),
          publicSubnetCidrs: cfg.networkPlan.publicSubnetCidrs,
          privateSubnetCidrs: cfg.networkPlan.privateSubnetCidrs,
          natGateways: net.natGateways,
          eipAllocationIds: net.eipAllocationIds,
          ipam: ipamOf(net, "network"),
          flowLogs: net.flowLogs,
        },
        { provider },
      );
  const endpoints = new VpcEndpoints(
    "endpoints",
    {
      vpcId: vpc.vpcId,
      region: cfg.region,
      vpcDns: vpc.dns,
      interfaceServices: net.interfaceEndpoints,
      subnetIds: vpc.privateSubnetIds,
      gatewayServices: net.gatewayEndpoints,
      // Associating a gateway endpoint adds routes: on an adopted VPC only when manageRoutes allows it (the
      // endpoint is still created, unassociated, so its prefix list and policy exist; traffic to the service
      // then takes the VPC's own default route until the owner associates it). Adopted subnets may share one
      // table: list each table once.
      routeTableIds: existing
        ? existing.manageRoutes
          ? pulumi.all(vpc.privateRouteTableIds).apply((ids) => [...new Set(ids)])
          : []
        : vpc.privateRouteTableIds,
      policies: endpointPolicies(cfg, aws.getCallerIdentityOutput({}, { provider }).accountId),
    },
    { provider },
  );
  const out: Partial<NetworkOutputs> = {
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
    dynamodbPrefixListId: endpoints.prefixListIds.dynamodb ?? pulumi.output(""),
    endpointSecurityGroupId: endpoints.securityGroupId ?? pulumi.output(""),
    executeApiEndpointId: endpoints.interfaceEndpointIds["execute-api"] ?? pulumi.output(""),
  };
  for (const feature of FEATURES as readonly Feature<object>[])
    Object.assign(out, feature.network?.({ cfg, provider, vpc, endpoints }));
  return completeOutputs("network", NETWORK_KEYS, out);
}

/** The adopted VPC of `network.existingVpc` (docs/landing-zone.md). */
function adoptVpc(cfg: EnvConfig, provider: aws.Provider): ExistingEgressVpc {
  const net = cfg.network;
  const existing = net.existingVpc!;
  const { tags: vpcTags, ...ref } = existing;
  return new ExistingEgressVpc(
    "egress",
    {
      ...ref,
      vpcTags,
      cidrBlock: net.cidrBlock,
      privateSubnetCidrs: net.privateSubnetCidrs ?? [],
      // Flow logs apply to an adopted VPC as to the kit's own: the kit creates the flow log only.
      flowLogs: net.flowLogs,
      tags: cfg.tags,
    },
    { provider },
  );
}
