import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Flow } from "../components/flows";
import { awsServiceFlow } from "../components/vpc-endpoints";
import { ConfigError } from "../components/errors";
import { accountIdOf, EnvConfig, EnvConfigInput, PROJECT } from "./config/schema";
import type { NetworkOutputs } from "./config/outputs";

/**
 * How an apps-role function reaches an AWS service API: through the network role's interface
 * endpoint when `network.interfaceEndpoints` lists the service (decided from config, because egress
 * rules are planned before anything resolves), else over the NAT.
 */
export function serviceFlow(cfg: EnvConfig, network: NetworkOutputs, service: string, purpose: string): Flow {
  return awsServiceFlow(service, purpose, {
    securityGroupId: network.endpointSecurityGroupId,
    interfaceServices: cfg.network.interfaceEndpoints,
  });
}

/** Admits a function's security group to the network role's interface endpoints on 443 (when the VPC has any). */
export function allowToEndpoints(
  cfg: EnvConfig,
  network: NetworkOutputs,
  name: string,
  fnSecurityGroupId: pulumi.Input<string>,
  provider: aws.Provider,
): void {
  if (cfg.network.interfaceEndpoints.length === 0) return;
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-to-endpoints`,
    {
      securityGroupId: network.endpointSecurityGroupId,
      referencedSecurityGroupId: fnSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: `${name} to the interface endpoints of the VPC`,
    },
    { provider },
  );
}

/**
 * The problem when a feature's traffic to `service` takes the gateway endpoint and network.gatewayEndpoints has
 * none (nothing when the network key already failed: its errors are reported).
 */
export function gatewayEndpointErrors(
  cfg: EnvConfigInput,
  failed: ReadonlySet<string>,
  service: EnvConfigInput["network"]["gatewayEndpoints"][number],
  problem: string,
  fix: string,
): ConfigError[] {
  if (failed.has("network") || cfg.network.gatewayEndpoints.includes(service)) return [];
  return [new ConfigError(`${PROJECT}:network.gatewayEndpoints`, problem, fix)];
}

/**
 * Endpoint policies: what may pass through the VPC's endpoints (the AWS default lets anything through).
 * - s3 / dynamodb gateway: only resources owned by the kit's accounts (aws:ResourceAccount, which S3 and
 *   DynamoDB evaluate in endpoint policies), plus read-only access to the Amazon Linux 2023 package
 *   repository bucket of the region (the proxy instances install Squid with dnf through this endpoint).
 * - secretsmanager: GetSecretValue/DescribeSecret on secrets of the kit's accounts only (by ARN).
 * - execute-api: Invoke on APIs of the kit's accounts only (by ARN).
 * Other interface services keep the AWS default: not every service evaluates these keys, and a policy
 * a service cannot evaluate would deny every request.
 * `accountA` is the caller's account; account B is added when config names it (cross-account reads of
 * the database secret go through this endpoint).
 */
export function endpointPolicies(
  cfg: EnvConfig,
  accountA: pulumi.Input<string>,
): Record<string, pulumi.Output<string>> {
  const b = accountIdOf(cfg.accounts.b);
  const accounts = pulumi.output(accountA).apply((a) => [...new Set([a, ...(b ? [b] : [])])]);
  const doc = (statements: (accts: string[]) => unknown[]) =>
    accounts.apply((accts) => JSON.stringify({ Version: "2012-10-17", Statement: statements(accts) }));
  // Endpoint policy statements apply to every principal that sends through the endpoint.
  const allow = (Sid: string, Action: string | string[], Resource: string | string[], Condition?: object) => ({
    Sid,
    Effect: "Allow",
    Principal: "*",
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });
  const kitAccountsOnly = (service: string, accts: string[]) =>
    allow("KitAccountsOnly", `${service}:*`, "*", { StringEquals: { "aws:ResourceAccount": accts } });
  const region = cfg.region;
  const out: Record<string, pulumi.Output<string>> = {};
  const gateways = cfg.network.gatewayEndpoints;
  if (gateways.includes("s3")) {
    out.s3 = doc((accts) => [
      kitAccountsOnly("s3", accts),
      allow("AmazonLinuxRepositories", "s3:GetObject", `arn:aws:s3:::al2023-repos-${region}-de612dc2/*`),
    ]);
  }
  if (gateways.includes("dynamodb")) {
    out.dynamodb = doc((accts) => [kitAccountsOnly("dynamodb", accts)]);
  }
  const interfaces = cfg.network.interfaceEndpoints;
  if (interfaces.includes("secretsmanager")) {
    out.secretsmanager = doc((accts) => [
      allow(
        "KitSecretsOnly",
        ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        accts.map((a) => `arn:aws:secretsmanager:*:${a}:secret:*`),
      ),
    ]);
  }
  if (interfaces.includes("execute-api")) {
    out["execute-api"] = doc((accts) => [
      allow(
        "KitApisOnly",
        "execute-api:Invoke",
        accts.map((a) => `arn:aws:execute-api:${region}:${a}:*`),
      ),
    ]);
  }
  return out;
}
