import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Flow } from "../components/flows";
import { awsServiceFlow } from "../components/vpc-endpoints";
import type { EnvConfig } from "./config/schema";
import type { NetworkOutputs } from "./config/outputs";

/**
 * How an apps-role function reaches an AWS service API: through the network role's interface
 * endpoint when `network.interfaceEndpoints` lists the service (decided from config, because egress
 * rules are planned before anything resolves), else over the NAT.
 */
export function serviceFlow(cfg: EnvConfig, network: NetworkOutputs, service: string, purpose: string): Flow {
  return awsServiceFlow(service, purpose, { securityGroupId: network.endpointSecurityGroupId, interfaceServices: cfg.network.interfaceEndpoints });
}

/** Admits a function's security group to the network role's interface endpoints on 443 (when the VPC has any). */
export function allowToEndpoints(cfg: EnvConfig, network: NetworkOutputs, name: string, fnSecurityGroupId: pulumi.Input<string>, provider: aws.Provider): void {
  if (cfg.network.interfaceEndpoints.length === 0) return;
  new aws.vpc.SecurityGroupIngressRule(`${name}-to-endpoints`, {
    securityGroupId: network.endpointSecurityGroupId,
    referencedSecurityGroupId: fnSecurityGroupId,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    description: `${name} to the interface endpoints of the VPC`,
  }, { provider });
}
