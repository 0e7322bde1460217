import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { GraphRecord } from "./graph-record";
import type { Inventory } from "./inventory";
import { AWSX_VPC_TYPE, awsxVpcState } from "./awsx-mock";

/** One registered resource as graph.json records it. */
export interface RecordedResource extends GraphRecord {
  custom: boolean;
  /**
   * URNs this resource waits for at deploy time, sorted: explicit `dependsOn` and every resource an input
   * came from (the engine's `dependencies` and `propertyDependencies` of the registration request).
   * Optional so hand-built graphs in tests and older graph.json files still type-check.
   */
  dependencies?: string[];
  /**
   * Values AWS assigns at create time that the mocks answered from the stack's config: a VPC's CIDR
   * allocated from an IPAM pool (config `ipamAllocatedCidr`). The checker reads them where inputs are silent.
   */
  allocated?: Record<string, unknown>;
}

export interface KitMocksOptions {
  region: string;
  /** Account ids for the mocks' caller identity and ARNs; keyed by provider-visible account id. */
  defaultAccountId: string;
  /** Answers `pulumi.StackReference` reads: the named stack's outputs. */
  stackOutputs?: (stackName: string) => Record<string, unknown>;
  /** The existing network (ops/inventory.ts): the EC2 lookups are answered from it, and only from it. */
  inventory?: Inventory;
  /** IPAM pool id → the CIDRs it allocates to this stack's VPCs, in creation order (config `ipamAllocatedCidr`). */
  ipamAllocations?: Record<string, IpamAnswer[]>;
}

/** The CIDR the mocks answer a VPC from an IPAM pool with: stated in config, or predicted from the inventory's pool. */
export interface IpamAnswer {
  cidrBlock: string;
  /** True when config states none and the inventory's pool predicted it (its first free block); AWS picks the real one. */
  predicted?: boolean;
  /** The config key that states (or should state) it. */
  key: string;
}

export const SECRET_PLACEHOLDER = "[secret]";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Availability zones answered offline, per region (as of the price table date; the README says so). */
export const REGION_AZS: Record<string, string[]> = {
  "ap-northeast-1": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
  "ap-northeast-3": ["ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"],
  "us-east-1": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
  "us-west-2": ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"],
  "eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
};

const ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc",
  "aws:ec2/subnet:Subnet": "subnet",
  "aws:ec2/routeTable:RouteTable": "rtb",
  "aws:ec2/route:Route": "r",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
  "aws:ec2/internetGateway:InternetGateway": "igw",
  "aws:ec2/natGateway:NatGateway": "nat",
  "aws:ec2/eip:Eip": "eipalloc",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
  "aws:ec2/flowLog:FlowLog": "fl",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
  "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw",
  "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach",
  "aws:ec2transitgateway/routeTable:RouteTable": "tgw-rtb",
};

/** Pulumi-style auto-names (`<name>-<7 hex>`) for resources whose physical name is auto-generated. */
const AUTONAMED = new Set([
  "aws:lambda/function:Function",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:secretsmanager/secret:Secret",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:rds/clusterParameterGroup:ClusterParameterGroup",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:autoscaling/group:Group",
  "aws:elb/loadBalancer:LoadBalancer",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:autoscaling/policy:Policy",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:dynamodb/table:Table",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  "aws:apigateway/restApi:RestApi",
]);

function hex(text: string, n: number): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, n);
}

/**
 * Strict, deterministic Pulumi mocks that also record every registration with its parent and
 * provider (the stock mock API does not expose them), so synth can write graph.json and tests can
 * assert the exact contract. Unknown invokes throw.
 */
export class KitMocks implements pulumi.runtime.Mocks {
  public readonly resources: RecordedResource[] = [];
  /** Every mock failure (unknown invoke, bad StackReference…). Pulumi's invoke path drops the message, so synth reads it here. */
  public readonly errors: string[] = [];
  /** Every invoke: its token and the provider's name (null for the default provider). */
  public readonly invokes: { token: string; provider: string | null }[] = [];
  private readonly providerAccounts = new Map<string, string>();
  private readonly usedIps = new Set<string>();
  private pendingParent: string | null = null;
  private lastRecord: RecordedResource | undefined;

  /** Each IPAM pool config allocates from → the CIDRs it states (answers the pool lookups without an inventory). */
  private readonly statedPools: Map<string, string[]>;

  constructor(private readonly opts: KitMocksOptions) {
    this.statedPools = new Map(
      Object.entries(opts.ipamAllocations ?? {}).map(([pool, xs]) => [pool, xs.map((x) => x.cidrBlock)]),
    );
  }

  /** Installs the mocks for `project`/`stack` and hooks the monitor to capture parents and URNs. */
  public async install(project: string, stack: string): Promise<void> {
    await pulumi.runtime.setMocks(this, project, stack, false, "organization");

    const settings = require("@pulumi/pulumi/runtime/settings");
    const monitor = settings.getMonitor();
    for (const method of ["registerResource", "readResource"] as const) {
      const original = monitor[method].bind(monitor);
      monitor[method] = (req: any, callback: (err: any, resp: any) => void) => {
        this.pendingParent = req.getParent() || null;
        this.lastRecord = undefined;
        const holder: { record?: RecordedResource } = {};
        const result = original(req, (err: any, resp: any) => {
          if (!err && holder.record) holder.record.urn = resp.getUrn();
          callback(err, resp);
        });
        // The mock monitor calls newResource synchronously before its first await.
        const record = this.lastRecord as RecordedResource | undefined;
        holder.record = record;
        if (record) record.dependencies = requestDependencies(req);
        return result;
      };
    }
  }

  /** Resolves when every registration so far has completed. */
  public async settle(): Promise<void> {
    await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  }

  public newResource(
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<{ id: string | undefined; state: Record<string, any> }> {
    return this.record(args).catch((e: Error) => {
      this.errors.push(e.message);
      throw e;
    });
  }

  private record(
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<{ id: string | undefined; state: Record<string, any> }> {
    const record: RecordedResource = {
      urn: "",
      id: "",
      type: args.type,
      name: args.name,
      parent: this.pendingParent,
      provider: args.provider ? args.provider.split("::").slice(0, -1).join("::") : null,
      custom: args.custom !== false,
      inputs: {},
      dependencies: [],
    };
    this.resources.push(record);
    this.lastRecord = record;
    return this.build(record, args);
  }

  private async build(record: RecordedResource, args: pulumi.runtime.MockResourceArgs) {
    record.inputs = (await toPlain(args.inputs)) as Record<string, unknown>;
    // awsx's VPC is built by its own provider plugin: its outputs come from the inventory (ops/awsx-mock.ts).
    if (args.type === AWSX_VPC_TYPE)
      return { id: undefined, state: awsxVpcState(args.name, record.inputs, this.opts.inventory) };
    if (!record.custom) {
      return { id: undefined, state: {} };
    }
    const account = this.accountFor(args.provider);
    const region = this.opts.region;
    const key = `${args.type}::${args.name}`;
    const state: Record<string, any> = { ...args.inputs };
    let id = args.id || `${ID_PREFIX[args.type] ?? "mock"}-${hex(key, 17)}`;

    if (args.type === "pulumi:providers:aws" || args.type === "pulumi:providers:aws-native") {
      const acct = providerAccount(record.inputs) ?? this.opts.defaultAccountId;
      id = `provider-${hex(key, 8)}`;
      // The URN is known only after registration; map by the name, which is unique among providers.
      this.providerAccounts.set(args.name, acct);
    } else if (args.type === "pulumi:pulumi:StackReference") {
      const name = String(args.inputs.name ?? args.id);
      if (!this.opts.stackOutputs)
        throw new Error(`StackReference to "${name}" but no upstream outputs are available to the mocks`);
      state.outputs = this.opts.stackOutputs(name);
      state.secretOutputNames = [];
      id = name;
    }
    if (AUTONAMED.has(args.type) && state.name === undefined) state.name = `${args.name}-${hex(key, 7)}`;
    const physical = state.name ?? args.name;
    switch (args.type) {
      case "aws:ec2/eip:Eip":
        state.allocationId = id;
        state.publicIp = this.publicIp(key);
        break;
      case "aws:ec2/vpc:Vpc":
        if (args.inputs.ipv4IpamPoolId !== undefined && args.inputs.cidrBlock === undefined) {
          const pool = String(args.inputs.ipv4IpamPoolId);
          const next = this.opts.ipamAllocations?.[pool]?.shift();
          if (!next)
            throw new Error(
              `VPC ${args.name} asks IPAM pool ${pool} for a CIDR, and no ipamAllocatedCidr for that pool is left to answer with: state it in the stack file`,
            );
          state.cidrBlock = next.cidrBlock;
          record.allocated = next.predicted
            ? { cidrBlock: next.cidrBlock, predicted: true, key: next.key }
            : { cidrBlock: next.cidrBlock };
        }
        state.arn = `arn:aws:ec2:${region}:${account}:vpc/${id}`;
        state.mainRouteTableId = `rtb-${hex(key + "main", 17)}`;
        state.defaultSecurityGroupId = `sg-${hex(key + "default", 17)}`;
        break;
      case "aws:ec2/natGateway:NatGateway":
        state.publicIp = undefined;
        break;
      case "aws:iam/role:Role":
        state.arn = `arn:aws:iam::${account}:role/${physical}`;
        state.uniqueId = `AROA${hex(key, 17).toUpperCase()}`;
        break;
      case "aws:cloudwatch/logGroup:LogGroup":
        state.arn = `arn:aws:logs:${region}:${account}:log-group:${physical}`;
        break;
      case "aws:lambda/function:Function":
        state.arn = `arn:aws:lambda:${region}:${account}:function:${physical}`;
        state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
        state.qualifiedArn = `${state.arn}:$LATEST`;
        break;
      case "aws:cloudwatch/eventRule:EventRule":
        state.arn = `arn:aws:events:${region}:${account}:rule/${physical}`;
        break;
      case "aws:s3/bucket:Bucket":
        state.bucket = args.inputs.bucket ?? `${args.name}-${hex(key, 7)}`;
        state.arn = `arn:aws:s3:::${state.bucket}`;
        state.bucketRegionalDomainName = `${state.bucket}.s3.${region}.amazonaws.com`;
        state.region = region;
        id = state.bucket;
        break;
      case "aws:ec2/vpcEndpoint:VpcEndpoint":
        if (args.inputs.vpcEndpointType === "Gateway") state.prefixListId = `pl-${hex(key, 8)}`;
        else
          state.dnsEntries = [
            {
              dnsName: `${id}-${hex(key, 8)}.${String(args.inputs.serviceName).split(".").slice(3).join(".")}.${region}.vpce.amazonaws.com`,
              hostedZoneId: "Z2E726K9Y6RL4W",
            },
          ];
        break;
      case "aws:elb/loadBalancer:LoadBalancer":
        state.dnsName = `internal-${physical}-${parseInt(hex(key, 8), 16) % 1e9}.${region}.elb.amazonaws.com`;
        state.arn = `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/${physical}`;
        break;
      // ELBv2: ids are ARNs; the CloudWatch dimensions use the ARN suffix (after ":loadbalancer/" or ":").
      case "aws:lb/loadBalancer:LoadBalancer": {
        const kind =
          args.inputs.loadBalancerType === "network"
            ? "net"
            : args.inputs.loadBalancerType === "gateway"
              ? "gwy"
              : "app";
        state.arnSuffix = `${kind}/${physical}/${hex(key, 16)}`;
        state.arn = `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/${state.arnSuffix}`;
        state.dnsName = `${args.inputs.internal ? "internal-" : ""}${physical}-${hex(key + "dns", 16)}.elb.${region}.amazonaws.com`;
        state.zoneId = "Z31USIVHYNEOWT";
        id = state.arn;
        break;
      }
      case "aws:lb/targetGroup:TargetGroup":
        state.arnSuffix = `targetgroup/${physical}/${hex(key, 16)}`;
        state.arn = `arn:aws:elasticloadbalancing:${region}:${account}:${state.arnSuffix}`;
        id = state.arn;
        break;
      case "aws:lb/listener:Listener":
        state.arn = `arn:aws:elasticloadbalancing:${region}:${account}:listener/${String(args.inputs.loadBalancerArn).split(":loadbalancer/")[1] ?? "unknown"}/${hex(key, 16)}`;
        id = state.arn;
        break;
      case "aws:cloudwatch/metricAlarm:MetricAlarm":
        state.arn = `arn:aws:cloudwatch:${region}:${account}:alarm:${physical}`;
        id = physical;
        break;
      case "aws:autoscaling/policy:Policy":
        state.arn = `arn:aws:autoscaling:${region}:${account}:scalingPolicy:${hex(key, 8)}-${hex(key + "p", 4)}:autoScalingGroupName/${args.inputs.autoscalingGroupName}:policyName/${physical}`;
        id = physical;
        break;
      case "aws:ec2/launchTemplate:LaunchTemplate":
        state.latestVersion = 1;
        state.defaultVersion = 1;
        break;
      case "aws:secretsmanager/secretVersion:SecretVersion": {
        const h = hex(key, 32);
        state.versionId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        break;
      }
      case "aws:secretsmanager/secret:Secret":
        state.arn = `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-${hex(key, 6)}`;
        id = state.arn;
        break;
      case "aws:kms/key:Key": {
        const h = hex(key, 32);
        id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        state.keyId = id;
        state.arn = `arn:aws:kms:${region}:${account}:key/${id}`;
        break;
      }
      case "aws:rds/cluster:Cluster": {
        // Endpoints share one per-account-and-region suffix, as RDS's do.
        const suffix = hex(`${account}::${region}`, 12);
        id = String(args.inputs.clusterIdentifier ?? `${args.name}-${hex(key, 7)}`);
        state.clusterIdentifier = id;
        state.arn = `arn:aws:rds:${region}:${account}:cluster:${id}`;
        state.endpoint = `${id}.cluster-${suffix}.${region}.rds.amazonaws.com`;
        state.readerEndpoint = `${id}.cluster-ro-${suffix}.${region}.rds.amazonaws.com`;
        state.port = args.inputs.port ?? 5432;
        state.clusterResourceId = `cluster-${hex(key + "resource", 26).toUpperCase()}`;
        state.engineVersionActual = args.inputs.engineVersion;
        if (args.inputs.manageMasterUserPassword) {
          const h = hex(key + "secret", 32);
          const awsManaged = `arn:aws:kms:${region}:${account}:key/${hex(`${account}::aws/secretsmanager`, 8)}-0000-4000-8000-${hex(`${account}::aws/secretsmanager`, 12)}`;
          state.masterUserSecrets = [
            {
              secretArn: `arn:aws:secretsmanager:${region}:${account}:secret:rds!cluster-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}-${hex(key, 6)}`,
              secretStatus: "active",
              kmsKeyId: args.inputs.masterUserSecretKmsKeyId ?? awsManaged,
            },
          ];
        }
        break;
      }
      case "aws:rds/clusterInstance:ClusterInstance": {
        id = String(args.inputs.identifier ?? `${args.name}-${hex(key, 7)}`);
        state.identifier = id;
        state.arn = `arn:aws:rds:${region}:${account}:db:${id}`;
        state.endpoint = `${id}.${hex(`${account}::${region}`, 12)}.${region}.rds.amazonaws.com`;
        state.port = 5432;
        state.dbiResourceId = `db-${hex(key + "resource", 26).toUpperCase()}`;
        break;
      }
      case "aws:ec2transitgateway/transitGateway:TransitGateway":
        state.arn = `arn:aws:ec2:${region}:${account}:transit-gateway/${id}`;
        state.ownerId = account;
        state.amazonSideAsn = args.inputs.amazonSideAsn ?? 64512;
        // AWS creates the default route table only when association or propagation uses it.
        if (args.inputs.defaultRouteTableAssociation !== "disable")
          state.associationDefaultRouteTableId = `tgw-rtb-${hex(key + "default", 17)}`;
        if (args.inputs.defaultRouteTablePropagation !== "disable")
          state.propagationDefaultRouteTableId = `tgw-rtb-${hex(key + "default", 17)}`;
        break;
      case "aws:ec2transitgateway/vpcAttachment:VpcAttachment":
        state.vpcOwnerId = account;
        break;
      case "aws:ec2transitgateway/routeTable:RouteTable":
        state.arn = `arn:aws:ec2:${region}:${account}:transit-gateway-route-table/${id}`;
        state.defaultAssociationRouteTable = false;
        state.defaultPropagationRouteTable = false;
        break;
      case "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation":
      case "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation":
        // The provider's ids are "<route table>_<attachment>".
        id = args.id || `${args.inputs.transitGatewayRouteTableId}_${args.inputs.transitGatewayAttachmentId}`;
        state.resourceType = "vpc";
        break;
      case "aws:ram/resourceShare:ResourceShare": {
        const h = hex(key, 32);
        state.arn = `arn:aws:ram:${region}:${account}:resource-share/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        id = state.arn;
        break;
      }
      case "aws:ram/resourceAssociation:ResourceAssociation":
        id = args.id || `${args.inputs.resourceShareArn},${args.inputs.resourceArn}`;
        break;
      case "aws:ram/principalAssociation:PrincipalAssociation":
        id = args.id || `${args.inputs.resourceShareArn},${args.inputs.principal}`;
        break;
      case "aws:ram/resourceShareAccepter:ResourceShareAccepter": {
        const shareArn = String(args.inputs.shareArn);
        const h = hex(key, 32);
        id = args.id || shareArn;
        state.invitationArn = `arn:aws:ram:${region}:${shareArn.split(":")[4]}:resource-share-invitation/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        state.shareId = shareArn.split("/").pop();
        state.status = "ACTIVE";
        state.receiverAccountId = account;
        state.senderAccountId = shareArn.split(":")[4];
        break;
      }
      // API Gateway ids are 10 lower-case alphanumerics; resources and deployments 6.
      case "aws:apigateway/restApi:RestApi":
        id = args.id || hex(key, 10);
        state.rootResourceId = hex(key + "root", 10);
        state.executionArn = `arn:aws:execute-api:${region}:${account}:${id}`;
        state.arn = `arn:aws:apigateway:${region}::/restapis/${id}`;
        break;
      case "aws:apigateway/resource:Resource":
      case "aws:apigateway/deployment:Deployment":
        id = args.id || hex(key, 6);
        break;
      case "aws:apigateway/stage:Stage":
        id = `ags-${args.inputs.restApi}-${args.inputs.stageName}`;
        state.invokeUrl = `https://${args.inputs.restApi}.execute-api.${region}.amazonaws.com/${args.inputs.stageName}`;
        state.executionArn = `arn:aws:execute-api:${region}:${account}:${args.inputs.restApi}/${args.inputs.stageName}`;
        state.arn = `arn:aws:apigateway:${region}::/restapis/${args.inputs.restApi}/stages/${args.inputs.stageName}`;
        break;
      // Athena identifies data catalogs and workgroups by name; their ARNs end in datacatalog/<name> and workgroup/<name>.
      case "aws:athena/dataCatalog:DataCatalog":
        id = String(args.inputs.name);
        state.arn = `arn:aws:athena:${region}:${account}:datacatalog/${id}`;
        break;
      case "aws:athena/workgroup:Workgroup":
        id = String(args.inputs.name);
        state.arn = `arn:aws:athena:${region}:${account}:workgroup/${id}`;
        break;
      case "aws:dynamodb/table:Table":
        // DynamoDB identifies a table by its name.
        id = physical;
        state.arn = `arn:aws:dynamodb:${region}:${account}:table/${physical}`;
        break;
      case "aws-native:appflow:Connector":
        // Cloud Control identifies a connector by its label.
        id = String(args.inputs.connectorLabel ?? args.name);
        state.connectorArn = `arn:aws:appflow:${region}:${account}:connector/${id}`;
        break;
      default:
        if (state.arn === undefined && args.type.startsWith("aws:")) {
          const service = args.type.slice(4).split("/")[0];
          state.arn = `arn:aws:${service}:${region}:${account}:${args.name}/${id}`;
        }
    }
    record.id = id;
    return { id, state };
  }

  public call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    // Which provider (account) each lookup went through: a shared TGW is read in the attaching account.
    this.invokes.push({ token: args.token, provider: args.provider?.split("::").slice(-2, -1)[0] ?? null });
    try {
      return this.answer(args);
    } catch (e) {
      this.errors.push((e as Error).message);
      throw e;
    }
  }

  private answer(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const region = this.opts.region;
    const account = this.accountFor(args.provider);
    switch (args.token) {
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const names = REGION_AZS[region];
        if (!names)
          throw new Error(
            `no offline availability-zone list for region ${region}: list availabilityZones by name in the stack config`,
          );
        return {
          id: region,
          names,
          zoneIds: names.map(
            (_, i) => `${region.slice(0, 2)}${region.split("-")[1].slice(0, 2)}${region.slice(-1)}-az${i + 1}`,
          ),
          groupNames: [region],
        };
      }
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          id: account,
          accountId: account,
          arn: `arn:aws:sts::${account}:assumed-role/synth/vpc-lambda-kit`,
          userId: "AROASYNTH:vpc-lambda-kit",
        };
      case "aws:index/getRegion:getRegion":
        return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
      case "aws:index/getPartition:getPartition":
        return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
      case "aws:ec2/getElasticIp:getElasticIp": {
        const allocation = String(args.inputs.id);
        return {
          id: allocation,
          allocationId: allocation,
          publicIp: this.publicIp(`byo::${allocation}`),
          domain: "vpc",
        };
      }
      case "aws:ssm/getParameter:getParameter": {
        // Public AMI-alias parameters (e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64).
        const name = String(args.inputs.name);
        if (!name.startsWith("/aws/service/ami-"))
          throw new Error(
            `unknown SSM parameter ${name}: the offline mocks answer only public /aws/service/ami-* parameters`,
          );
        const value = `ami-${hex(`${region}::${name}`, 17)}`;
        return {
          id: name,
          name,
          value,
          insecureValue: value,
          type: "String",
          arn: `arn:aws:ssm:${region}::parameter${name}`,
          version: 1,
          withDecryption: true,
        };
      }
      case "aws:ec2/getVpcIpamPool:getVpcIpamPool":
      case "aws:ec2/getVpcIpamPoolCidrs:getVpcIpamPoolCidrs":
        return this.ipamPool(args.token, args.inputs);
      case "aws:ec2/getVpc:getVpc":
      case "aws:ec2/getSubnet:getSubnet":
      case "aws:ec2/getSubnets:getSubnets":
      case "aws:ec2/getRouteTable:getRouteTable":
      case "aws:ec2/getNatGateway:getNatGateway":
      case "aws:ec2/getInternetGateway:getInternetGateway":
        return this.lookup(args.token, args.inputs);
      case "aws:ec2transitgateway/getTransitGateway:getTransitGateway":
        return this.transitGateway(args.inputs, account);
      default:
        throw new Error(
          `unknown invoke ${args.token}: the offline mocks answer only invokes they know; add an answer in ops/mocks.ts`,
        );
    }
  }

  /**
   * Answers the IPAM pool lookups from the inventory's ipamPools. Without an inventory, only a pool the stack
   * file allocates from is answered, as config states it (locale the stack's region, its stated allocations as
   * the pool's CIDRs): nothing about that pool is checked offline then.
   */
  private ipamPool(token: string, inputs: Record<string, any>): Record<string, any> {
    const what = token.split(":").pop() as string;
    const id = String(inputs.ipamPoolId ?? inputs.id);
    const region = this.opts.region;
    const inv = this.opts.inventory;
    const stated = this.statedPools.get(id);
    let pool: Omit<NonNullable<Inventory["ipamPools"]>[number], "tags" | "state" | "allocations"> | undefined;
    if (inv) pool = inv.ipamPools.find((p) => p.id === id);
    else if (stated) {
      const lengths = stated.map((c) => Number(c.split("/")[1]));
      pool = {
        id,
        addressFamily: "ipv4",
        allocationMinNetmaskLength: Math.min(...lengths),
        allocationMaxNetmaskLength: Math.max(...lengths),
        poolDepth: 1,
        ipamScopeId: `ipam-scope-${hex(`${id}::scope`, 17)}`,
        locale: region,
        ipamPoolCidrs: stated.map((cidr) => ({ cidr, state: "provisioned" })),
      };
    }
    if (!pool)
      throw new Error(
        inv
          ? `${what}: IPAM pool ${id} is not in the inventory: add it to ipamPools (docs/landing-zone.md)`
          : `${what}(${id}): no inventory and no stated allocation from that pool: set ipamAllocatedCidr, or pass --inventory <file>`,
      );
    if (what === "getVpcIpamPoolCidrs") return { id, ipamPoolId: id, region, ipamPoolCidrs: pool.ipamPoolCidrs };
    return {
      id,
      ipamPoolId: id,
      addressFamily: pool.addressFamily,
      allocationMinNetmaskLength: pool.allocationMinNetmaskLength,
      allocationMaxNetmaskLength: pool.allocationMaxNetmaskLength,
      allocationDefaultNetmaskLength: pool.allocationDefaultNetmaskLength ?? 0,
      allocationResourceTags: {},
      arn: `arn:aws:ec2::${this.opts.defaultAccountId}:ipam-pool/${id}`,
      autoImport: false,
      awsService: "",
      description: "",
      ipamScopeId: pool.ipamScopeId,
      ipamScopeType: "private",
      locale: pool.locale,
      poolDepth: pool.poolDepth,
      publiclyAdvertisable: false,
      region,
      sourceIpamPoolId: pool.sourceIpamPoolId ?? "",
      sourceResources: [],
      state: "create-complete",
      tags: {},
    };
  }

  /** getTransitGateway by id from the inventory: a TGW without ownerId is the calling account's. */
  private transitGateway(inputs: Record<string, any>, account: string): Record<string, any> {
    const t = this.opts.inventory?.transitGateways.find((x) => x.id === inputs.id);
    if (!t)
      throw new Error(
        `getTransitGateway: transit gateway ${inputs.id} is not in the inventory: add it to transitGateways (docs/landing-zone.md) or pass --inventory`,
      );
    const ownerId = t.ownerId ?? account;
    return {
      id: t.id,
      arn: `arn:aws:ec2:${this.opts.region}:${ownerId}:transit-gateway/${t.id}`,
      ownerId,
      amazonSideAsn: 64512,
      associationDefaultRouteTableId: t.associationDefaultRouteTableId ?? "",
      propagationDefaultRouteTableId: t.propagationDefaultRouteTableId ?? "",
      autoAcceptSharedAttachments: t.autoAcceptSharedAttachments,
      defaultRouteTableAssociation: t.defaultRouteTableAssociation,
      defaultRouteTablePropagation: t.defaultRouteTablePropagation,
      description: "",
      dnsSupport: "enable",
      encryptionSupport: "disable",
      multicastSupport: "disable",
      securityGroupReferencingSupport: "disable",
      vpnEcmpSupport: "enable",
      transitGatewayCidrBlocks: [],
      tags: t.tags,
      region: this.opts.region,
    };
  }

  /** Answers an EC2 lookup from the inventory; anything not in it is refused with what to add. */
  private lookup(token: string, inputs: Record<string, any>): Record<string, any> {
    const inv = this.opts.inventory;
    const what = token.split(":").pop() as string;
    if (!inv)
      throw new Error(
        `${what}(${JSON.stringify(inputs)}) needs the existing network: pass --inventory <file> or set vpc-lambda-kit:inventory in the stack file`,
      );
    const miss = (desc: string): never => {
      throw new Error(
        `${what}: ${desc} is not in the inventory: add it there (docs/landing-zone.md) or correct the stack's existingVpc`,
      );
    };
    const one = <X>(found: X[], desc: string): X => {
      if (found.length > 1)
        throw new Error(
          `${what}: ${found.length} match ${desc}; a lookup must match exactly one (add tags to tell them apart)`,
        );
      return found[0] ?? miss(desc);
    };
    const tagMatch = (tags: Record<string, string>, want: Record<string, string> | undefined) =>
      !want || Object.entries(want).every(([k, v]) => tags[k] === v);
    switch (what) {
      case "getVpc": {
        // Like the provider: a lookup matching several VPCs fails rather than picking one.
        const v = one(
          inv.vpcs.filter((x) => (inputs.id === undefined || x.id === inputs.id) && tagMatch(x.tags, inputs.tags)),
          `VPC ${inputs.id ?? JSON.stringify(inputs.tags)}`,
        );
        return {
          id: v.id,
          cidrBlock: v.cidrBlock,
          enableDnsHostnames: v.enableDnsHostnames,
          enableDnsSupport: v.enableDnsSupport,
          tags: v.tags,
          arn: `arn:aws:ec2:${this.opts.region}:${this.opts.defaultAccountId}:vpc/${v.id}`,
          state: "available",
          cidrBlockAssociations: [],
          default: false,
          ownerId: this.opts.defaultAccountId,
          mainRouteTableId:
            inv.routeTables.find((t) => t.vpcId === v.id && t.associations.some((a) => a.main))?.id ?? "",
        };
      }
      case "getSubnets": {
        const vpcFilter = (inputs.filters as { name: string; values: string[] }[] | undefined)?.find(
          (f) => f.name === "vpc-id",
        );
        const other = (inputs.filters ?? []).filter((f: { name: string }) => f.name !== "vpc-id");
        if (other.length > 0)
          throw new Error(`getSubnets: the mocks answer only the vpc-id filter, not ${JSON.stringify(other)}`);
        const ids = inv.subnets
          .filter((x) => (!vpcFilter || vpcFilter.values.includes(x.vpcId)) && tagMatch(x.tags, inputs.tags))
          .map((x) => x.id);
        return { id: this.opts.region, ids, filters: inputs.filters, tags: inputs.tags };
      }
      case "getSubnet": {
        const s = one(
          inv.subnets.filter(
            (x) =>
              (inputs.id === undefined || x.id === inputs.id) &&
              (inputs.vpcId === undefined || x.vpcId === inputs.vpcId) &&
              (inputs.cidrBlock === undefined || x.cidrBlock === inputs.cidrBlock) &&
              tagMatch(x.tags, inputs.tags),
          ),
          `subnet ${inputs.id ?? JSON.stringify({ vpcId: inputs.vpcId, cidrBlock: inputs.cidrBlock, tags: inputs.tags })}`,
        );
        return {
          id: s.id,
          vpcId: s.vpcId,
          cidrBlock: s.cidrBlock,
          availabilityZone: s.availabilityZone,
          tags: s.tags,
          mapPublicIpOnLaunch: false,
          state: "available",
        };
      }
      case "getRouteTable": {
        const t =
          inputs.routeTableId !== undefined
            ? (inv.routeTables.find((x) => x.id === inputs.routeTableId) ?? miss(`route table ${inputs.routeTableId}`))
            : (inv.routeTables.find((x) => x.associations.some((a) => a.subnetId === inputs.subnetId)) ??
              miss(`a route table associated with ${inputs.subnetId}`));
        return {
          id: t.id,
          routeTableId: t.id,
          vpcId: t.vpcId,
          tags: t.tags,
          ownerId: this.opts.defaultAccountId,
          routes: t.routes.map((r) => ({
            cidrBlock: r.destinationCidrBlock,
            gatewayId: r.gatewayId ?? "",
            natGatewayId: r.natGatewayId ?? "",
            transitGatewayId: r.transitGatewayId ?? "",
            vpcEndpointId: r.vpcEndpointId ?? "",
            vpcPeeringConnectionId: r.vpcPeeringConnectionId ?? "",
          })),
          associations: t.associations.map((a) => ({
            subnetId: a.subnetId ?? "",
            main: a.main,
            routeTableId: t.id,
            routeTableAssociationId: `rtbassoc-${(a.subnetId ?? t.id).split("-")[1]}`,
            gatewayId: "",
          })),
        };
      }
      case "getNatGateway": {
        const n = inv.natGateways.find((x) => x.id === inputs.id) ?? miss(`NAT gateway ${inputs.id}`);
        return {
          id: n.id,
          vpcId: n.vpcId,
          subnetId: n.subnetId,
          allocationId: n.allocationId,
          publicIp: n.publicIp,
          state: n.state,
          connectivityType: "public",
          tags: n.tags,
        };
      }
      default: {
        const g =
          inv.internetGateways.find((x) => x.id === inputs.internetGatewayId) ??
          miss(`internet gateway ${inputs.internetGatewayId}`);
        return {
          id: g.id,
          internetGatewayId: g.id,
          attachments: [{ vpcId: g.vpcId, state: "available" }],
          tags: g.tags,
        };
      }
    }
  }

  /** Deterministic, unique addresses from TEST-NET-3 (203.0.113.0/24), reserved for documentation. */
  private publicIp(key: string): string {
    let n = parseInt(hex(key, 4), 16) % 254;
    for (let tries = 0; tries < 254; tries++, n = (n + 1) % 254) {
      const ip = `203.0.113.${n + 1}`;
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
    throw new Error("more than 254 mocked public IPs");
  }

  private accountFor(providerRef: string | undefined): string {
    if (!providerRef) return this.opts.defaultAccountId;
    const urn = providerRef.split("::").slice(0, -1).join("::");
    const name = urn.split("::").pop() ?? "";
    return this.providerAccounts.get(name) ?? this.opts.defaultAccountId;
  }
}

function providerAccount(inputs: Record<string, unknown>): string | undefined {
  const parse = (v: unknown) => (typeof v === "string" ? safeJson(v) : v);
  const allowed = parse(inputs.allowedAccountIds);
  if (Array.isArray(allowed) && typeof allowed[0] === "string") return allowed[0];
  const roles = parse(inputs.assumeRoles);
  if (Array.isArray(roles) && roles[0] && typeof roles[0].roleArn === "string") {
    return /arn:aws[a-z-]*:iam::(\d{12}):/.exec(roles[0].roleArn)?.[1];
  }
  // aws-native takes one assumeRole object.
  const role = parse(inputs.assumeRole) as { roleArn?: unknown } | undefined;
  if (role && typeof role === "object" && typeof role.roleArn === "string") {
    return /arn:aws[a-z-]*:iam::(\d{12}):/.exec(role.roleArn)?.[1];
  }
  return undefined;
}

/** Every URN a register/read request says the resource depends on (explicit and through its inputs). */
function requestDependencies(req: any): string[] {
  const urns = new Set<string>(typeof req.getDependenciesList === "function" ? req.getDependenciesList() : []);
  if (typeof req.getPropertydependenciesMap === "function") {
    req.getPropertydependenciesMap().forEach((deps: any) => {
      for (const urn of deps.getUrnsList()) urns.add(urn);
    });
  }
  return [...urns].filter((u) => u !== "").sort();
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Converts deserialized inputs to plain JSON: secrets → "[secret]", assets → their content hash. */
export async function toPlain(v: unknown): Promise<unknown> {
  if (v === null || v === undefined) return v ?? null;
  if (Array.isArray(v)) return Promise.all(v.map(toPlain));
  if (v instanceof pulumi.asset.AssetArchive) {
    const assets = (await (v as any).assets) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, a] of Object.entries(assets)) out[k] = await toPlain(a);
    return { archive: out };
  }
  if (v instanceof pulumi.asset.StringAsset) {
    const text = (await (v as any).text) as string;
    return {
      asset: { sha256: crypto.createHash("sha256").update(text).digest("hex"), bytes: Buffer.byteLength(text) },
    };
  }
  if (v instanceof pulumi.asset.FileAsset || v instanceof pulumi.asset.FileArchive) {
    return { file: await (v as any).path };
  }
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] !== undefined) return SECRET_PLACEHOLDER;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      if (o[k] === undefined) continue;
      out[k] = await toPlain(o[k]);
    }
    return out;
  }
  return v;
}

/** Resolves a stack's exports (Outputs nested anywhere) to plain JSON; secret outputs become "[secret]". */
export async function resolveOutputs(v: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) {
    const out = v as pulumi.Output<unknown>;
    const secret = await (out as any).isSecret;
    if (secret) return SECRET_PLACEHOLDER;
    const value = await new Promise<unknown>((resolve) =>
      out.apply((x) => {
        resolve(x);
        return x;
      }),
    );
    return resolveOutputs(value);
  }
  if (v instanceof Promise) return resolveOutputs(await v);
  if (Array.isArray(v)) return Promise.all(v.map(resolveOutputs));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      out[k] = await resolveOutputs(x);
    }
    return out;
  }
  return v ?? null;
}
