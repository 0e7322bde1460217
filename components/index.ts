// The kit's public surface: components, their arguments and the pure helpers they are built from.
export { FixedEgressVpc, planFixedEgressVpc } from "./fixed-egress-vpc";
export { CLOUDWATCH_RETENTION_DAYS } from "./defaults";
export type { FixedEgressVpcArgs, FixedEgressVpcPlan, FlowLogsArgs, NatStrategy } from "./fixed-egress-vpc";
export { PrivateVpc, planPrivateVpc } from "./private-vpc";
export type { PrivateVpcArgs, PrivateVpcPlan } from "./private-vpc";
export { VpcFunction, VPC_ENI_ACTIONS, validateSchedule } from "./vpc-function";
export type { VpcFunctionArgs } from "./vpc-function";
export { VpcEndpoints, awsServiceFlow, checkVpcEndpointsArgs } from "./vpc-endpoints";
export type { VpcEndpointsArgs, GatewayService } from "./vpc-endpoints";
export { SquidProxyTier, planSquidProxyTier, renderBootScript, IDLE_TIMEOUT_RANGE } from "./squid-proxy-tier";
export type {
  SquidProxyTierArgs,
  SquidProxyTierPlan,
  ProxyPlacement,
  ProxyLoadBalancer,
  ProxyScaling,
  ProxyScalingTarget,
  ProxyScalingMetric,
} from "./squid-proxy-tier";
export { IngressRules, resolvePeer } from "./ingress";
export type { IngressPeer, SecurityGroupPeer, CidrPeer } from "./ingress";
export { renderSquidConf, exactHeaderRegex } from "./squid-conf";
export type { SquidConfOptions } from "./squid-conf";
export { egressRulesFor, describeFlow } from "./flows";
export type { Flow, FlowDestination, EgressRule } from "./flows";
export { bundleFunction, LAMBDA_RUNTIME, LAMBDA_ARCHITECTURE } from "./bundle";
export type { BundleOptions, FunctionBundle } from "./bundle";
export { ConfigError, ConfigErrors } from "./errors";
export { TgwOwner, TgwPeer, TgwSharedNetwork, planTgw, checkTgwCidrs } from "./tgw-shared-network";
export type {
  TgwOwnerArgs,
  TgwPeerArgs,
  TgwSharedNetworkArgs,
  TgwShareArgs,
  TgwPlan,
  TgwVpc,
  TgwPrincipal,
} from "./tgw-shared-network";
export { AuroraPostgres, planAuroraPostgres, DEFAULT_AURORA_POSTGRES_VERSION } from "./aurora-postgres";
export type { AuroraPostgresArgs, AuroraPostgresPlan } from "./aurora-postgres";
export { PrivateApi, planPrivateApi, privateApiPolicy, deploymentTrigger } from "./private-api";
export type { PrivateApiArgs, PrivateApiRoute, PrivateApiThrottling } from "./private-api";
export { AthenaFederatedCatalog } from "./athena-connector";
export type { AthenaFederatedCatalogArgs } from "./athena-connector";
