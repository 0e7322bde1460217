// The kit's public surface: components, their arguments and the pure helpers they are built from.
export { FixedEgressVpc, planFixedEgressVpc, CLOUDWATCH_RETENTION_DAYS } from "./fixed-egress-vpc";
export type { FixedEgressVpcArgs, FixedEgressVpcPlan, FlowLogsArgs, NatStrategy } from "./fixed-egress-vpc";
export { PrivateVpc, planPrivateVpc } from "./private-vpc";
export type { PrivateVpcArgs, PrivateVpcPlan } from "./private-vpc";
export { VpcFunction, VPC_ENI_ACTIONS, validateSchedule } from "./vpc-function";
export type { VpcFunctionArgs } from "./vpc-function";
export { VpcEndpoints, awsServiceFlow, checkVpcEndpointsArgs } from "./vpc-endpoints";
export type { VpcEndpointsArgs, GatewayService } from "./vpc-endpoints";
export { SquidProxyTier, planSquidProxyTier } from "./squid-proxy-tier";
export type { SquidProxyTierArgs, SquidProxyTierPlan, ProxyPlacement } from "./squid-proxy-tier";
export { renderSquidConf, exactHeaderRegex } from "./squid-conf";
export type { SquidConfOptions } from "./squid-conf";
export { egressRulesFor, describeFlow } from "./flows";
export type { Flow, FlowDestination, EgressRule } from "./flows";
export { bundleFunction, LAMBDA_RUNTIME, LAMBDA_ARCHITECTURE } from "./bundle";
export type { BundleOptions, FunctionBundle } from "./bundle";
export { ConfigError, ConfigErrors } from "./errors";
