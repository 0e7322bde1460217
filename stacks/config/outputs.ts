import type * as pulumi from "@pulumi/pulumi";

/**
 * What the network and data roles export to the roles that consume them, in this stack or through a
 * StackReference (stacks/wiring.ts). Only these keys cross stacks, and none is a secret. A piece the
 * stack does not have is "" (e.g. no Transit Gateway), so a consumer can tell "off" from "missing".
 */
export interface NetworkOutputs {
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  publicSubnetIds: pulumi.Output<string[]>;
  privateSubnetIds: pulumi.Output<string[]>;
  privateSubnetCidrs: pulumi.Output<string[]>;
  privateRouteTableIds: pulumi.Output<string[]>;
  natGatewayIds: pulumi.Output<string[]>;
  egressIps: pulumi.Output<string[]>;
  s3PrefixListId: pulumi.Output<string>;
  /** The DynamoDB gateway endpoint's prefix list ("" when network.gatewayEndpoints lacks dynamodb). */
  dynamodbPrefixListId: pulumi.Output<string>;
  endpointSecurityGroupId: pulumi.Output<string>;
  /** The execute-api interface endpoint the private API binds to ("" when network.interfaceEndpoints lacks it). */
  executeApiEndpointId: pulumi.Output<string>;
  /** The Transit Gateway the data stack attaches to ("" when transitGateway is off). */
  transitGatewayId: pulumi.Output<string>;
  tgwShareArn: pulumi.Output<string>;
  /** The explicit TGW route table's id; with transitGateway.routeTables, every table's id by name as JSON; "" with the default tables. */
  tgwRouteTableId: pulumi.Output<string>;
}

/**
 * The apps role's `proxyTier` outputs: what the SaaS administrator allowlists and what an operator
 * looks up (load balancer, logs, alarms). Only in the stack that runs the tier; none crosses stacks.
 */
export interface ProxyTierStackOutputs {
  proxyUrl: pulumi.Output<string>;
  /** Every address the SaaS must allowlist (public placement: the whole EIP pool, idle ones too). */
  egressIps: pulumi.Output<string[]>;
  allowlistAddressCount: pulumi.Output<number>;
  /** The load balancer's security group: what clients reach. */
  securityGroupId: pulumi.Output<string>;
  loadBalancerType: "nlb" | "clb";
  loadBalancerArn: pulumi.Output<string>;
  /** The NLB's target group ("" with a Classic Load Balancer). */
  targetGroupArn: pulumi.Output<string>;
  autoScalingGroupName: pulumi.Output<string>;
  logGroupName: pulumi.Output<string>;
  /** The unhealthy-hosts and denied-requests alarms, in that order. */
  alarmNames: pulumi.Output<string[]>;
}

/** The database's non-secret outputs ("" when the database is off). */
export interface DatabaseOutputs {
  clusterArn: pulumi.Output<string>;
  endpoint: pulumi.Output<string>;
  readerEndpoint: pulumi.Output<string>;
  /** The port number, or "" when the database is off. */
  port: pulumi.Output<number | string>;
  databaseName: pulumi.Output<string>;
  masterSecretArn: pulumi.Output<string>;
  secretKmsKeyArn: pulumi.Output<string>;
  securityGroupId: pulumi.Output<string>;
}

export interface DataOutputs extends DatabaseOutputs {
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  subnetIds: pulumi.Output<string[]>;
  routeTableId: pulumi.Output<string>;
  dbSubnetGroupName: pulumi.Output<string>;
  /** The data VPC's Transit Gateway attachment ("" when transitGateway is off). */
  tgwAttachmentId: pulumi.Output<string>;
}

/** Every key of T, in a fixed order; fails to compile when a key is missing or unknown. */
function keysOf<T>() {
  return <const K extends readonly (keyof T)[]>(keys: K & ([keyof T] extends [K[number]] ? unknown : never)): K => keys;
}

export const NETWORK_KEYS = keysOf<NetworkOutputs>()([
  "vpcId",
  "vpcCidr",
  "publicSubnetIds",
  "privateSubnetIds",
  "privateSubnetCidrs",
  "privateRouteTableIds",
  "natGatewayIds",
  "egressIps",
  "s3PrefixListId",
  "dynamodbPrefixListId",
  "endpointSecurityGroupId",
  "executeApiEndpointId",
  "transitGatewayId",
  "tgwShareArn",
  "tgwRouteTableId",
]);

export const DATABASE_KEYS = keysOf<DatabaseOutputs>()([
  "clusterArn",
  "endpoint",
  "readerEndpoint",
  "port",
  "databaseName",
  "masterSecretArn",
  "secretKmsKeyArn",
  "securityGroupId",
]);

export const DATA_KEYS = keysOf<DataOutputs>()([
  "vpcId",
  "vpcCidr",
  "subnetIds",
  "routeTableId",
  "dbSubnetGroupName",
  "tgwAttachmentId",
  ...DATABASE_KEYS,
]);
