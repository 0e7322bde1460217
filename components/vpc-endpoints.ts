import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, throwIfAny } from "./errors";
import { Flow } from "./flows";
import { IngressPeer, IngressRules, legacyDescriptionName } from "./ingress";

export type GatewayService = "s3" | "dynamodb";

export interface VpcEndpointsArgs {
  /** The VPC. */
  vpcId: pulumi.Input<string>;
  /** The region, for service names (com.amazonaws.<region>.<service>). */
  region: string;
  /**
   * The VPC's DNS attributes (plain, as the VPC component set them). Private DNS on an interface
   * endpoint needs both on; otherwise the service name keeps resolving to public addresses and a
   * VPC Lambda without a NAT route times out.
   */
  vpcDns: { hostnames: boolean; support: boolean };
  /** Interface endpoint services, e.g. ["secretsmanager", "logs", "execute-api"]. Default none. */
  interfaceServices?: string[];
  /** Subnets for the interface endpoints' ENIs, one per AZ. Required when interfaceServices is non-empty. */
  subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** Private DNS on the interface endpoints. Default true (the usual recipe's fix for the Secrets Manager timeout). */
  privateDns?: boolean;
  /** Endpoint policies (JSON) by service; absent → the AWS default (full access through the endpoint). */
  policies?: Record<string, pulumi.Input<string>>;
  /** Gateway endpoint services. Default ["s3"]. */
  gatewayServices?: GatewayService[];
  /** Route tables the gateway endpoints are added to (the private ones). */
  routeTableIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

const SERVICE_RE = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*$/;

/** Validates before anything is registered; each problem names `<name>.<arg>` and the fix. */
export function checkVpcEndpointsArgs(name: string, args: VpcEndpointsArgs): void {
  const errors: ConfigError[] = [];
  const interfaces = args.interfaceServices ?? [];
  const privateDns = args.privateDns ?? true;
  const seen = new Set<string>();
  interfaces.forEach((svc, i) => {
    if (!SERVICE_RE.test(svc))
      errors.push(
        new ConfigError(
          `${name}.interfaceServices[${i}]`,
          `"${svc}" is not an endpoint service name`,
          `use the short name after com.amazonaws.<region>., e.g. "secretsmanager"`,
        ),
      );
    if (seen.has(svc))
      errors.push(
        new ConfigError(`${name}.interfaceServices[${i}]`, `"${svc}" is listed twice`, "list each service once"),
      );
    if (svc === "s3" || svc === "dynamodb") {
      // Allowed by AWS, but the gateway endpoint is free and already covers the private subnets.
      if ((args.gatewayServices ?? ["s3"]).includes(svc as GatewayService))
        errors.push(
          new ConfigError(
            `${name}.interfaceServices[${i}]`,
            `"${svc}" also has a gateway endpoint here`,
            `remove it from interfaceServices (the gateway endpoint serves the private subnets for free)`,
          ),
        );
    }
    seen.add(svc);
  });
  if (interfaces.length > 0 && privateDns) {
    const needed = [
      ["hostnames", "DNS hostnames", "enableDnsHostnames"],
      ["support", "DNS resolution", "enableDnsSupport"],
    ] as const;
    for (const [key, what, attribute] of needed)
      if (!args.vpcDns[key])
        errors.push(
          new ConfigError(
            `${name}.vpcDns.${key}`,
            `private DNS for ${interfaces.join(", ")} needs ${what} on the VPC, and it is off`,
            `turn on the VPC's ${what} attribute (${attribute}: true)`,
          ),
        );
  }
  if (interfaces.length > 0 && args.subnetIds === undefined)
    errors.push(
      new ConfigError(
        `${name}.subnetIds`,
        "interface endpoints need subnets",
        "pass the private subnet ids, one per availability zone",
      ),
    );
  for (const svc of Object.keys(args.policies ?? {})) {
    if (!interfaces.includes(svc) && !(args.gatewayServices ?? ["s3"]).includes(svc as GatewayService))
      errors.push(
        new ConfigError(
          `${name}.policies.${svc}`,
          `a policy for "${svc}", which has no endpoint here`,
          "add the service to interfaceServices or gatewayServices, or drop the policy",
        ),
      );
  }
  const gateways = args.gatewayServices ?? ["s3"];
  gateways.forEach((svc, i) => {
    if (svc !== "s3" && svc !== "dynamodb")
      errors.push(
        new ConfigError(
          `${name}.gatewayServices[${i}]`,
          `"${svc}" has no gateway endpoint`,
          `use "s3" or "dynamodb", or list it in interfaceServices`,
        ),
      );
  });
  if (gateways.length > 0 && args.routeTableIds === undefined)
    errors.push(
      new ConfigError(
        `${name}.routeTableIds`,
        "gateway endpoints need route tables",
        "pass the private route table ids",
      ),
    );
  throwIfAny(errors);
}

/**
 * The VPC's private paths to AWS APIs: interface endpoints (one security group accepting 443 only
 * from the security groups allowed with `allowFrom`) and gateway endpoints on the private route
 * tables. One instance per VPC, shared by every stack role that places functions there.
 */
export class VpcEndpoints extends pulumi.ComponentResource {
  /** The interface endpoints' security group (443 in, only from allowed groups). */
  public readonly securityGroupId: pulumi.Output<string> | undefined;
  /** Interface endpoint ids by service. */
  public readonly interfaceEndpointIds: Record<string, pulumi.Output<string>> = {};
  /** Gateway endpoint prefix lists by service: the egress target for S3/DynamoDB flows. */
  public readonly prefixListIds: Partial<Record<GatewayService, pulumi.Output<string>>> = {};
  /** Interface services served here, and whether their names resolve privately. */
  public readonly interfaceServices: string[];
  public readonly privateDns: boolean;
  private readonly name: string;
  private ingress?: IngressRules;

  constructor(name: string, args: VpcEndpointsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    checkVpcEndpointsArgs(name, args);
    const interfaces = args.interfaceServices ?? [];
    const gateways = args.gatewayServices ?? ["s3"];
    const privateDns = args.privateDns ?? true;
    super(
      "vpc-lambda-kit:network:VpcEndpoints",
      name,
      { interfaceServices: interfaces, gatewayServices: gateways, privateDns },
      opts,
    );
    this.name = name;
    this.interfaceServices = interfaces;
    this.privateDns = privateDns;
    const tags = args.tags ?? {};

    if (interfaces.length > 0) {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-sg`,
        {
          vpcId: args.vpcId,
          description: `${name}: interface endpoints, HTTPS in from allowed security groups only`,
          revokeRulesOnDelete: true,
          tags: { ...tags, Name: `${name}-sg` },
        },
        { parent: this },
      );
      this.securityGroupId = sg.id;
      this.ingress = new IngressRules({ owner: name, namePrefix: name, securityGroupId: sg.id, parent: this });
      for (const svc of interfaces) {
        const ep = new aws.ec2.VpcEndpoint(
          `${name}-${svc.replace(/\./g, "-")}`,
          {
            vpcId: args.vpcId,
            serviceName: `com.amazonaws.${args.region}.${svc}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: privateDns,
            subnetIds: args.subnetIds,
            securityGroupIds: [sg.id],
            policy: args.policies?.[svc],
            tags: { ...tags, Name: `${name}-${svc}` },
          },
          { parent: this },
        );
        this.interfaceEndpointIds[svc] = ep.id;
      }
    }
    for (const svc of gateways) {
      const ep = new aws.ec2.VpcEndpoint(
        `${name}-${svc}-gateway`,
        {
          vpcId: args.vpcId,
          serviceName: `com.amazonaws.${args.region}.${svc}`,
          vpcEndpointType: "Gateway",
          routeTableIds: args.routeTableIds,
          policy: args.policies?.[svc],
          tags: { ...tags, Name: `${name}-${svc}-gateway` },
        },
        { parent: this },
      );
      this.prefixListIds[svc] = ep.prefixListId;
    }
    this.registerOutputs({
      securityGroupId: this.securityGroupId,
      interfaceEndpointIds: this.interfaceEndpointIds,
      prefixListIds: this.prefixListIds,
    });
  }

  /**
   * Lets a peer (a function's security group, see components/ingress.ts) reach every interface
   * endpoint on 443. The rule is named after the peer, so the description can be reworded freely.
   */
  public allowFrom(peer: IngressPeer, description: string): aws.vpc.SecurityGroupIngressRule {
    if (!this.ingress)
      throw new ConfigError(
        `${this.name}.allowFrom`,
        "this VPC has no interface endpoints",
        "list services in interfaceServices first",
      );
    const previous = legacyDescriptionName(this.name, description);
    return this.ingress.allow(peer, 443, description, "allowFrom", previous ? [previous] : []);
  }
}

/** The flow a function declares to reach an AWS service: through an endpoint when the VPC has one, else via NAT. */
export function awsServiceFlow(
  service: string,
  purpose: string,
  endpoints?: {
    securityGroupId?: pulumi.Input<string>;
    interfaceServices: string[];
    prefixListIds?: Partial<Record<string, pulumi.Input<string>>>;
  },
): Flow {
  const prefixListId = endpoints?.prefixListIds?.[service];
  if (prefixListId) return { to: { kind: "awsService", service, prefixListId }, port: 443, purpose };
  if (endpoints?.securityGroupId && endpoints.interfaceServices.includes(service)) {
    return {
      to: { kind: "awsService", service, endpointSecurityGroupId: endpoints.securityGroupId },
      port: 443,
      purpose,
    };
  }
  return { to: { kind: "awsService", service }, port: 443, purpose };
}
