/**
 * The existing network offline: an inventory file (JSON, the shape of the EC2 lookups' results)
 * that `synth --inventory` and `check --inventory` read instead of AWS. It is validated before the
 * program runs (ids of the right shape, every reference inside the inventory, subnets inside their
 * VPC, one route table per subnet, the stack's `network.existingVpc` consistent with it); the mocks
 * answer the lookups from it; graph.json records its resources marked `existing: true`.
 * Id shapes follow the EC2 API reference (a prefix, then 8 or 17 lower-case hex digits).
 */
import * as fs from "fs";
import { z } from "zod";
import { ACCOUNT_ID_RE, IPAM_POOL_ID_RE, ORG_ARN_RE, OU_ARN_RE, SHARE_ARN_RE } from "../components/arns";
import { Cidr, cidrContains, cidrsOverlap, tryParseCidr } from "../components/cidr";
import { firstFreeBlock, ipamPoolErrors, IpamPoolFacts } from "../components/ipam";
import { ConfigError, throwIfAny } from "../components/errors";
import type { GraphRecord } from "./graph-record";

/** One graph.json record of an adopted resource (the fields synth records, plus `existing`). */
export interface ExistingRecord extends GraphRecord {
  dependencies: string[];
  existing: true;
  /** Who built it when not the landing zone: "awsx" for an awsx.ec2.Vpc's children (ops/awsx-mock.ts). */
  origin?: "awsx";
}

const id = (prefix: string) =>
  z
    .string()
    .regex(
      new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`),
      `not a ${prefix}- id (${prefix}- and 8 or 17 hex digits)`,
    );
const accountId = z.string().regex(ACCOUNT_ID_RE, "not an AWS account id (12 digits)");
/** getTransitGateway answers "" for a default table it does not use. */
const optionalTgwRtb = z.union([id("tgw-rtb"), z.literal("")]).optional();
const TGW_ARN_RE = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:(\d{12}):transit-gateway\/(tgw-[0-9a-f]{8}([0-9a-f]{9})?)$/;
const PRINCIPAL_RE = new RegExp(
  `^(${ACCOUNT_ID_RE.source.slice(1, -1)}|${ORG_ARN_RE.source.slice(1, -1)}|${OU_ARN_RE.source.slice(1, -1)})$`,
);
const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, "not an IPv4 address");
const ipamPoolId = z.string().regex(IPAM_POOL_ID_RE, "not an IPAM pool id (ipam-pool- and 17 hex digits)");
const tags = z.record(z.string(), z.string()).default({});

const route = z.strictObject({
  destinationCidrBlock: z.string(),
  gatewayId: z.string().optional(),
  natGatewayId: id("nat").optional(),
  transitGatewayId: id("tgw").optional(),
  vpcEndpointId: id("vpce").optional(),
  vpcPeeringConnectionId: id("pcx").optional(),
});

export const inventorySchema = z.strictObject({
  vpcs: z
    .array(
      z.strictObject({
        id: id("vpc"),
        cidrBlock: z.string(),
        enableDnsHostnames: z.boolean().default(true),
        enableDnsSupport: z.boolean().default(true),
        tags,
      }),
    )
    .default([]),
  /**
   * IPAM pools a kit-created VPC takes its range from, as aws.ec2.getVpcIpamPool returns them, with the pool's
   * CIDRs (getVpcIpamPoolCidrs) and, optionally, its existing allocations (GetIpamPoolAllocations).
   */
  ipamPools: z
    .array(
      z.strictObject({
        id: ipamPoolId,
        addressFamily: z.enum(["ipv4", "ipv6"]),
        allocationMinNetmaskLength: z.number().int().min(0).max(128).default(0),
        allocationMaxNetmaskLength: z.number().int().min(0).max(128).default(32),
        allocationDefaultNetmaskLength: z.number().int().min(0).max(128).optional(),
        poolDepth: z.number().int().min(1).default(1),
        ipamScopeId: z
          .string()
          .regex(/^ipam-scope-[0-9a-f]{17}$/, "not an IPAM scope id (ipam-scope- and 17 hex digits)"),
        sourceIpamPoolId: ipamPoolId.optional(),
        /** The Region VPCs allocate from it in; "None" when the pool has no locale. */
        locale: z.string().default("None"),
        state: z.string().default("create-complete"),
        ipamPoolCidrs: z
          .array(z.strictObject({ cidr: z.string(), state: z.string().default("provisioned") }))
          .default([]),
        allocations: z
          .array(
            z.strictObject({
              cidr: z.string(),
              ipamPoolAllocationId: z.string().optional(),
              resourceId: z.string().optional(),
              resourceType: z.string().optional(),
            }),
          )
          .default([]),
        tags,
      }),
    )
    .default([]),
  subnets: z
    .array(
      z.strictObject({
        id: id("subnet"),
        vpcId: id("vpc"),
        cidrBlock: z.string(),
        availabilityZone: z.string().min(1),
        tags,
      }),
    )
    .default([]),
  routeTables: z
    .array(
      z.strictObject({
        id: id("rtb"),
        vpcId: id("vpc"),
        routes: z.array(route).default([]),
        associations: z
          .array(z.strictObject({ subnetId: id("subnet").optional(), main: z.boolean().default(false) }))
          .default([]),
        tags,
      }),
    )
    .default([]),
  natGateways: z
    .array(
      z.strictObject({
        id: id("nat"),
        vpcId: id("vpc"),
        subnetId: id("subnet"),
        allocationId: id("eipalloc"),
        publicIp: ipv4,
        state: z.enum(["available", "pending", "deleting", "deleted", "failed"]).default("available"),
        tags,
      }),
    )
    .default([]),
  internetGateways: z.array(z.strictObject({ id: id("igw"), vpcId: id("vpc"), tags })).default([]),
  securityGroups: z
    .array(z.strictObject({ id: id("sg"), vpcId: id("vpc"), name: z.string().min(1), tags }))
    .default([]),
  /** Transit Gateways that already exist (DescribeTransitGateways): the kit attaches to them. */
  transitGateways: z
    .array(
      z.strictObject({
        id: id("tgw"),
        /** The account that owns it (getTransitGateway's ownerId); default: account A, the attaching account. */
        ownerId: accountId.optional(),
        /** Default route table association and propagation; a landing zone's TGW usually has them off. */
        defaultRouteTableAssociation: z.enum(["enable", "disable"]).default("disable"),
        defaultRouteTablePropagation: z.enum(["enable", "disable"]).default("disable"),
        /** The tables those defaults use (getTransitGateway; "" when none), each a table of transitGatewayRouteTables. */
        associationDefaultRouteTableId: optionalTgwRtb,
        propagationDefaultRouteTableId: optionalTgwRtb,
        autoAcceptSharedAttachments: z.enum(["enable", "disable"]).default("disable"),
        tags,
      }),
    )
    .default([]),
  /** Their VPC attachments (DescribeTransitGatewayVpcAttachments); each attached VPC is in vpcs. */
  transitGatewayAttachments: z
    .array(
      z.strictObject({
        id: id("tgw-attach"),
        transitGatewayId: id("tgw"),
        vpcId: id("vpc"),
        subnetIds: z.array(id("subnet")).min(1),
        tags,
      }),
    )
    .default([]),
  /** Their route tables: associated and propagating attachments, static routes (SearchTransitGatewayRoutes). */
  transitGatewayRouteTables: z
    .array(
      z.strictObject({
        id: id("tgw-rtb"),
        transitGatewayId: id("tgw"),
        associations: z.array(id("tgw-attach")).default([]),
        propagations: z.array(id("tgw-attach")).default([]),
        routes: z
          .array(
            z.strictObject({
              destinationCidrBlock: z.string(),
              transitGatewayAttachmentId: id("tgw-attach").optional(),
              blackhole: z.boolean().default(false),
            }),
          )
          .default([]),
        tags,
      }),
    )
    .default([]),
  /**
   * RAM shares that make a Transit Gateway of another account visible (aws.ram.getResourceShare: arn, name,
   * owningAccountId, resourceArns, status) and who they are shared with (ListPrincipals: account ids,
   * organization or OU ARNs).
   */
  resourceShares: z
    .array(
      z.strictObject({
        arn: z
          .string()
          .regex(SHARE_ARN_RE, "not a RAM resource share ARN (arn:aws:ram:<region>:<account>:resource-share/<uuid>)"),
        name: z.string().min(1),
        owningAccountId: accountId,
        resourceArns: z
          .array(
            z
              .string()
              .regex(TGW_ARN_RE, "not a Transit Gateway ARN (arn:aws:ec2:<region>:<account>:transit-gateway/tgw-…)"),
          )
          .min(1),
        principals: z
          .array(
            z.string().regex(PRINCIPAL_RE, "not a RAM principal (a 12-digit account id, an organization or OU ARN)"),
          )
          .min(1),
        allowExternalPrincipals: z.boolean().default(false),
        status: z.enum(["PENDING", "ACTIVE", "FAILED", "DELETING", "DELETED"]).default("ACTIVE"),
        tags,
      }),
    )
    .default([]),
  /** The AWS Organization the accounts belong to (DescribeOrganization, ListAccounts, ListAccountsForParent), when a share names it or an OU. */
  organization: z
    .strictObject({
      arn: z.string().regex(ORG_ARN_RE, "not an organization ARN (arn:aws:organizations::<account>:organization/o-…)"),
      accountIds: z.array(accountId).default([]),
      organizationalUnits: z
        .array(
          z.strictObject({
            arn: z.string().regex(OU_ARN_RE, "not an OU ARN (arn:aws:organizations::<account>:ou/o-…/ou-…)"),
            accountIds: z.array(accountId).default([]),
          }),
        )
        .default([]),
    })
    .optional(),
});
export type Inventory = z.infer<typeof inventorySchema>;

/** The part of `network.existingVpc` (or `data.existingVpc`) the inventory is checked against, ids resolved. */
export interface ExistingVpcRef {
  vpcId: string;
  privateSubnetIds: string[];
  publicSubnetIds?: string[];
  routeTableIds?: string[];
  natGatewayIds?: string[];
  manageRoutes?: boolean;
}

/** Reads and validates an inventory file; every problem names `<file>: <json path>` and the fix. */
export function loadInventory(file: string): Inventory {
  if (!fs.existsSync(file))
    throw new ConfigError(
      file,
      "inventory file not found",
      "pass an existing file to --inventory or to the vpc-lambda-kit:inventory config key",
    );
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(
      file,
      `not JSON (${(e as Error).message})`,
      "write the inventory as JSON (see examples/inventory/brownfield.json)",
    );
  }
  return parseInventory(raw, file);
}

export function parseInventory(raw: unknown, file = "inventory"): Inventory {
  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    throwIfAny(
      parsed.error.issues.map(
        (i) =>
          new ConfigError(
            `${file}: ${i.path.join(".") || "(top)"}`,
            i.message,
            "correct the value to the shape EC2 returns (see docs/landing-zone.md)",
          ),
      ),
    );
  }
  const inv = parsed.data as Inventory;
  throwIfAny(consistencyErrors(inv, file));
  return inv;
}

/** Contradictions inside the inventory. */
function consistencyErrors(inv: Inventory, file: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const at = (p: string) => `${file}: ${p}`;
  /** One problem at `<file>: <p>`. */
  const refuse = (p: string, problem: string, fix: string) => errors.push(new ConfigError(at(p), problem, fix));
  const seen = new Map<string, string>();
  const unique = (idText: string, p: string) => {
    const first = seen.get(idText);
    if (first)
      errors.push(new ConfigError(at(p), `id ${idText} is listed twice (also at ${first})`, "list each resource once"));
    else seen.set(idText, p);
  };
  const vpcCidr = new Map<string, ReturnType<typeof tryParseCidr>>();
  inv.vpcs.forEach((v, i) => {
    unique(v.id, `vpcs.${i}`);
    const c = tryParseCidr(v.cidrBlock);
    if (typeof c === "string") errors.push(new ConfigError(at(`vpcs.${i}.cidrBlock`), c, "give the VPC's IPv4 CIDR"));
    vpcCidr.set(v.id, c);
  });
  const subnetVpc = new Map<string, string>();
  inv.subnets.forEach((s, i) => {
    unique(s.id, `subnets.${i}`);
    subnetVpc.set(s.id, s.vpcId);
    const vpc = vpcCidr.get(s.vpcId);
    if (vpc === undefined) {
      errors.push(
        new ConfigError(
          at(`subnets.${i}.vpcId`),
          `subnet ${s.id} names VPC ${s.vpcId}, which is not in the inventory`,
          "add the VPC to vpcs or correct vpcId",
        ),
      );
      return;
    }
    const c = tryParseCidr(s.cidrBlock);
    if (typeof c === "string")
      errors.push(new ConfigError(at(`subnets.${i}.cidrBlock`), c, "give the subnet's IPv4 CIDR"));
    else if (typeof vpc !== "string" && !cidrContains(vpc, c))
      errors.push(
        new ConfigError(
          at(`subnets.${i}.cidrBlock`),
          `subnet ${s.id} (${s.cidrBlock}) is outside its VPC ${s.vpcId} (${vpc.text})`,
          "correct the subnet's CIDR or its vpcId",
        ),
      );
    else if (typeof c !== "string") {
      inv.subnets.slice(0, i).forEach((o, j) => {
        const oc = tryParseCidr(o.cidrBlock);
        if (o.vpcId === s.vpcId && typeof oc !== "string" && cidrsOverlap(oc, c))
          errors.push(
            new ConfigError(
              at(`subnets.${i}.cidrBlock`),
              `subnet ${s.id} (${s.cidrBlock}) overlaps subnets.${j} ${o.id} (${o.cidrBlock})`,
              "subnets of one VPC never overlap: correct one CIDR",
            ),
          );
      });
    }
  });
  const natIds = new Set(inv.natGateways.map((n) => n.id));
  const igwIds = new Set(inv.internetGateways.map((g) => g.id));
  const tableOf = new Map<string, string>();
  const mainOf = new Map<string, string>();
  inv.routeTables.forEach((t, i) => {
    unique(t.id, `routeTables.${i}`);
    if (!vpcCidr.has(t.vpcId))
      errors.push(
        new ConfigError(
          at(`routeTables.${i}.vpcId`),
          `route table ${t.id} names VPC ${t.vpcId}, which is not in the inventory`,
          "add the VPC or correct vpcId",
        ),
      );
    t.associations.forEach((a, j) => {
      const p = `routeTables.${i}.associations.${j}`;
      if (a.main) {
        if (mainOf.has(t.vpcId))
          errors.push(
            new ConfigError(
              at(p),
              `VPC ${t.vpcId} has two main route tables (${mainOf.get(t.vpcId)} and ${t.id})`,
              "mark one main association per VPC",
            ),
          );
        mainOf.set(t.vpcId, t.id);
      }
      if (!a.subnetId) return;
      if (!subnetVpc.has(a.subnetId))
        errors.push(
          new ConfigError(
            at(`${p}.subnetId`),
            `associates subnet ${a.subnetId}, which is not in the inventory`,
            "add the subnet to subnets or drop the association",
          ),
        );
      else if (subnetVpc.get(a.subnetId) !== t.vpcId)
        errors.push(
          new ConfigError(
            at(`${p}.subnetId`),
            `route table ${t.id} (VPC ${t.vpcId}) cannot be associated with ${a.subnetId} of VPC ${subnetVpc.get(a.subnetId)}`,
            "associate subnets of the table's own VPC",
          ),
        );
      const other = tableOf.get(a.subnetId);
      if (other)
        errors.push(
          new ConfigError(
            at(`${p}.subnetId`),
            `subnet ${a.subnetId} is associated with ${other} and ${t.id}; a subnet has exactly one route table`,
            "keep one association",
          ),
        );
      tableOf.set(a.subnetId, t.id);
    });
    t.routes.forEach((r, j) => {
      const p = `routeTables.${i}.routes.${j}`;
      const c = tryParseCidr(r.destinationCidrBlock);
      if (typeof c === "string") errors.push(new ConfigError(at(`${p}.destinationCidrBlock`), c, "give an IPv4 CIDR"));
      const targets = [
        r.gatewayId,
        r.natGatewayId,
        r.transitGatewayId,
        r.vpcEndpointId,
        r.vpcPeeringConnectionId,
      ].filter((x) => x !== undefined);
      if (targets.length !== 1)
        errors.push(
          new ConfigError(
            at(p),
            `a route has ${targets.length} targets`,
            "give exactly one target (gatewayId, natGatewayId, transitGatewayId, vpcEndpointId or vpcPeeringConnectionId)",
          ),
        );
      if (r.natGatewayId && !natIds.has(r.natGatewayId))
        refuse(
          `${p}.natGatewayId`,
          `NAT gateway ${r.natGatewayId} is not in the inventory`,
          "add it to natGateways or correct the route",
        );
      if (r.gatewayId && r.gatewayId.startsWith("igw-") && !igwIds.has(r.gatewayId))
        refuse(
          `${p}.gatewayId`,
          `internet gateway ${r.gatewayId} is not in the inventory`,
          "add it to internetGateways or correct the route",
        );
    });
  });
  inv.natGateways.forEach((n, i) => {
    unique(n.id, `natGateways.${i}`);
    const home = subnetVpc.get(n.subnetId);
    if (home === undefined)
      refuse(
        `natGateways.${i}.subnetId`,
        `NAT gateway ${n.id} sits in subnet ${n.subnetId}, which is not in the inventory`,
        "add the subnet",
      );
    else if (home !== n.vpcId)
      refuse(
        `natGateways.${i}.vpcId`,
        `NAT gateway ${n.id} says VPC ${n.vpcId} but its subnet ${n.subnetId} is in ${home}`,
        "correct vpcId or subnetId",
      );
  });
  inv.internetGateways.forEach((g, i) => {
    unique(g.id, `internetGateways.${i}`);
    if (!vpcCidr.has(g.vpcId))
      refuse(
        `internetGateways.${i}.vpcId`,
        `internet gateway ${g.id} is attached to ${g.vpcId}, which is not in the inventory`,
        "add the VPC or correct vpcId",
      );
  });
  ipamPoolErrorsIn(inv, unique, refuse);
  inv.securityGroups.forEach((g, i) => unique(g.id, `securityGroups.${i}`));
  const tgwIds = new Set(inv.transitGateways.map((t) => t.id));
  inv.transitGateways.forEach((t, i) => unique(t.id, `transitGateways.${i}`));
  const attachmentTgw = new Map<string, string>();
  inv.transitGatewayAttachments.forEach((a, i) => {
    const p = `transitGatewayAttachments.${i}`;
    unique(a.id, p);
    attachmentTgw.set(a.id, a.transitGatewayId);
    if (!tgwIds.has(a.transitGatewayId))
      errors.push(
        new ConfigError(
          at(`${p}.transitGatewayId`),
          `attachment ${a.id} names transit gateway ${a.transitGatewayId}, which is not in the inventory`,
          "add it to transitGateways or correct transitGatewayId",
        ),
      );
    if (!vpcCidr.has(a.vpcId))
      errors.push(
        new ConfigError(
          at(`${p}.vpcId`),
          `attachment ${a.id} attaches VPC ${a.vpcId}, which is not in the inventory`,
          "add the VPC (its CIDR is what the attachment propagates) or correct vpcId",
        ),
      );
    const zones = new Set<string>();
    a.subnetIds.forEach((sid, j) => {
      const sub = inv.subnets.find((x) => x.id === sid);
      if (!sub || sub.vpcId !== a.vpcId)
        errors.push(
          new ConfigError(
            at(`${p}.subnetIds.${j}`),
            sub
              ? `subnet ${sid} is in ${sub.vpcId}, not in the attached VPC ${a.vpcId}`
              : `subnet ${sid} is not in the inventory`,
            "list subnets of the attached VPC, each in the inventory",
          ),
        );
      else if (zones.has(sub.availabilityZone))
        // One subnet per zone (CreateTransitGatewayVpcAttachment, DuplicateSubnetsInSameZone).
        errors.push(
          new ConfigError(
            at(`${p}.subnetIds.${j}`),
            `a second subnet in ${sub.availabilityZone}; an attachment has one subnet per zone`,
            "keep one subnet per zone",
          ),
        );
      else zones.add(sub.availabilityZone);
    });
  });
  const associatedIn = new Map<string, string>();
  inv.transitGatewayRouteTables.forEach((t, i) => {
    const p = `transitGatewayRouteTables.${i}`;
    unique(t.id, p);
    if (!tgwIds.has(t.transitGatewayId))
      errors.push(
        new ConfigError(
          at(`${p}.transitGatewayId`),
          `route table ${t.id} names transit gateway ${t.transitGatewayId}, which is not in the inventory`,
          "add it to transitGateways or correct transitGatewayId",
        ),
      );
    const sameTgw = (att: string, q: string) => {
      const tg = attachmentTgw.get(att);
      if (tg === undefined)
        errors.push(
          new ConfigError(at(q), `attachment ${att} is not in the inventory`, "add it to transitGatewayAttachments"),
        );
      else if (tg !== t.transitGatewayId)
        errors.push(
          new ConfigError(
            at(q),
            `attachment ${att} belongs to ${tg}, not to ${t.transitGatewayId} (route table ${t.id})`,
            "a route table serves attachments of its own transit gateway only",
          ),
        );
    };
    t.associations.forEach((att, j) => {
      sameTgw(att, `${p}.associations.${j}`);
      const other = associatedIn.get(att);
      if (other)
        errors.push(
          new ConfigError(
            at(`${p}.associations.${j}`),
            `attachment ${att} is associated with ${other} and ${t.id}; an attachment is associated with one route table`,
            "keep one association",
          ),
        );
      associatedIn.set(att, t.id);
    });
    t.propagations.forEach((att, j) => sameTgw(att, `${p}.propagations.${j}`));
    t.routes.forEach((r, j) => {
      const q = `${p}.routes.${j}`;
      const c = tryParseCidr(r.destinationCidrBlock);
      if (typeof c === "string") errors.push(new ConfigError(at(`${q}.destinationCidrBlock`), c, "give an IPv4 CIDR"));
      if (r.blackhole === (r.transitGatewayAttachmentId !== undefined))
        errors.push(
          new ConfigError(
            at(q),
            r.blackhole
              ? "a blackhole route also names an attachment"
              : "a route names no attachment and is no blackhole",
            "give transitGatewayAttachmentId, or blackhole: true",
          ),
        );
      else if (r.transitGatewayAttachmentId) sameTgw(r.transitGatewayAttachmentId, `${q}.transitGatewayAttachmentId`);
    });
  });
  inv.routeTables.forEach((t, i) =>
    t.routes.forEach((r, j) => {
      if (r.transitGatewayId && !tgwIds.has(r.transitGatewayId) && inv.transitGateways.length > 0)
        errors.push(
          new ConfigError(
            at(`routeTables.${i}.routes.${j}.transitGatewayId`),
            `transit gateway ${r.transitGatewayId} is not in the inventory`,
            "add it to transitGateways or correct the route",
          ),
        );
    }),
  );
  errors.push(...tgwOwnerErrors(inv, at));
  return errors;
}

/** The account part of an ARN (its fifth field). */
const arnAccount = (arn: string): string => arn.split(":")[4] ?? "";

/**
 * Contradictions about who owns a Transit Gateway and how it is shared: default tables that are tables of
 * that TGW, a share owned by the account in its ARN, a shared TGW's ARN naming its owner, a share listing a
 * TGW only when the share's account owns it, and organization units inside the organization.
 */
function tgwOwnerErrors(inv: Inventory, at: (p: string) => string): ConfigError[] {
  const errors: ConfigError[] = [];
  inv.transitGateways.forEach((t, i) => {
    const p = `transitGateways.${i}`;
    for (const [field, mode] of [
      ["associationDefaultRouteTableId", t.defaultRouteTableAssociation],
      ["propagationDefaultRouteTableId", t.defaultRouteTablePropagation],
    ] as const) {
      const rtb = t[field];
      if (!rtb) {
        if (mode === "enable")
          errors.push(
            new ConfigError(
              at(`${p}.${field}`),
              `transit gateway ${t.id} has ${field === "associationDefaultRouteTableId" ? "defaultRouteTableAssociation" : "defaultRouteTablePropagation"} enable but no ${field}`,
              "give the default table's id as getTransitGateway returns it (and list that table in transitGatewayRouteTables)",
            ),
          );
        continue;
      }
      const table = inv.transitGatewayRouteTables.find((x) => x.id === rtb);
      if (!table)
        errors.push(
          new ConfigError(
            at(`${p}.${field}`),
            `default route table ${rtb} is not in the inventory`,
            "add it to transitGatewayRouteTables (with its associations, propagations and routes)",
          ),
        );
      else if (table.transitGatewayId !== t.id)
        errors.push(
          new ConfigError(
            at(`${p}.${field}`),
            `default route table ${rtb} belongs to ${table.transitGatewayId}, not to ${t.id}`,
            `name a route table of ${t.id}`,
          ),
        );
    }
  });
  const seenShares = new Set<string>();
  inv.resourceShares.forEach((sh, i) => {
    const p = `resourceShares.${i}`;
    if (seenShares.has(sh.arn))
      errors.push(new ConfigError(at(`${p}.arn`), `share ${sh.arn} is listed twice`, "list each share once"));
    seenShares.add(sh.arn);
    if (arnAccount(sh.arn) !== sh.owningAccountId)
      errors.push(
        new ConfigError(
          at(`${p}.owningAccountId`),
          `share ${sh.arn} is in account ${arnAccount(sh.arn)}, not ${sh.owningAccountId}`,
          "give the account in the share's ARN",
        ),
      );
    sh.resourceArns.forEach((arn, j) => {
      const tgwId = arn.split("/").pop() as string;
      const tgw = inv.transitGateways.find((t) => t.id === tgwId);
      if (!tgw) return;
      const owner = tgw.ownerId;
      if (owner && arnAccount(arn) !== owner)
        errors.push(
          new ConfigError(
            at(`${p}.resourceArns.${j}`),
            `${arn} names account ${arnAccount(arn)}, but transitGateways says ${tgwId} is owned by ${owner}`,
            "correct the ARN or the transit gateway's ownerId",
          ),
        );
      else if (arnAccount(arn) !== sh.owningAccountId)
        errors.push(
          new ConfigError(
            at(`${p}.resourceArns.${j}`),
            `share ${sh.name} (account ${sh.owningAccountId}) lists ${tgwId} of account ${arnAccount(arn)}; only a resource's owner shares it`,
            "correct the share's owningAccountId or the ARN",
          ),
        );
    });
  });
  const org = inv.organization;
  if (org) {
    const orgId = org.arn.split("/").pop();
    org.organizationalUnits.forEach((u, i) => {
      if (u.arn.split("/")[1] !== orgId)
        errors.push(
          new ConfigError(
            at(`organization.organizationalUnits.${i}.arn`),
            `OU ${u.arn} is not in organization ${orgId}`,
            "list OUs of the organization only",
          ),
        );
      u.accountIds.forEach((a, j) => {
        if (!org.accountIds.includes(a))
          errors.push(
            new ConfigError(
              at(`organization.organizationalUnits.${i}.accountIds.${j}`),
              `account ${a} is in OU ${u.arn} but not in organization.accountIds`,
              "list every member account in organization.accountIds too",
            ),
          );
      });
    });
  }
  return errors;
}

/** The RAM shares of the inventory that list Transit Gateway `tgwId`. */
function sharesOfTgw(inv: Inventory, tgwId: string): Inventory["resourceShares"] {
  return inv.resourceShares.filter((sh) => sh.resourceArns.some((a) => a.split("/").pop() === tgwId));
}

/**
 * `transitGateway.existing` and `existingAttachments` against the inventory (when it lists transit
 * gateways): the TGW and its route tables exist, the tables belong to it, and each adopted attachment
 * is the TGW's and attaches the VPC the role uses.
 */
export function existingTgwErrors(
  inv: Inventory,
  tg: {
    existing?: { id?: unknown; routeTableIds?: Record<string, unknown>; ownerId?: unknown; shareArn?: unknown };
    existingAttachments?: Record<string, unknown>;
  },
  vpcOf: Record<string, string | undefined>,
  accounts: { a?: string; b?: string } = {},
): ConfigError[] {
  const errors: ConfigError[] = [];
  const ex = tg.existing;
  if (!ex || typeof ex.id !== "string" || inv.transitGateways.length === 0) return errors;
  const k = (s: string) => `vpc-lambda-kit:transitGateway.${s}`;
  const tgw = inv.transitGateways.find((t) => t.id === ex.id);
  if (!tgw)
    return [
      new ConfigError(
        k("existing.id"),
        `transit gateway ${ex.id} is not in the inventory`,
        "correct the id, or add it to transitGateways",
      ),
    ];
  // Who owns it decides who associates and accepts: config states it, the inventory (getTransitGateway) must agree.
  // An owner id of the wrong shape is the config check's to report (stacks/features/tgw.ts): nothing to compare.
  const badShape = ex.ownerId !== undefined && !(typeof ex.ownerId === "string" && ACCOUNT_ID_RE.test(ex.ownerId));
  if (!badShape) errors.push(...ownerErrors(tgw, ex.ownerId as string | undefined, accounts.a, k));
  // A new attachment from another account lands in the default association table at once (its option cannot be
  // turned off on a RAM-shared TGW), and an attachment is associated with one table only.
  const owner = tgw.ownerId ?? accounts.a;
  const attaching: Record<string, string | undefined> = { egress: accounts.a, data: accounts.b };
  for (const [name, rtb] of Object.entries(ex.routeTableIds ?? {}))
    if (
      tgw.defaultRouteTableAssociation === "enable" &&
      tg.existingAttachments?.[name] === undefined &&
      attaching[name] &&
      owner &&
      attaching[name] !== owner &&
      rtb !== tgw.associationDefaultRouteTableId
    )
      errors.push(
        new ConfigError(
          k(`existing.routeTableIds.${name}`),
          `${tgw.id} associates new attachments with its default table ${tgw.associationDefaultRouteTableId || "(none recorded)"}, and the ${name} attachment (account ${attaching[name]}, not the owner ${owner}) cannot opt out, so it cannot also be associated with ${String(rtb)}`,
          `drop the entry (the attachment then uses the default table), or have account ${owner} turn off default route table association on ${tgw.id}`,
        ),
      );
  if (typeof ex.shareArn === "string") {
    const share = inv.resourceShares.find((sh) => sh.arn === ex.shareArn);
    if (!share)
      errors.push(
        new ConfigError(
          k("existing.shareArn"),
          `share ${ex.shareArn} is not in the inventory`,
          "correct the ARN, or add the share to resourceShares",
        ),
      );
    else if (!sharesOfTgw(inv, tgw.id).includes(share))
      errors.push(
        new ConfigError(
          k("existing.shareArn"),
          `share ${share.name} (${share.arn}) does not contain ${tgw.id} (it lists ${share.resourceArns.join(", ")})`,
          `name the share that lists ${tgw.id}${sharesOfTgw(inv, tgw.id).length > 0 ? ` (${sharesOfTgw(inv, tgw.id)[0].arn})` : ", or have its owner add it to this share"}`,
        ),
      );
  }
  for (const [name, rtb] of Object.entries(ex.routeTableIds ?? {})) {
    const t = inv.transitGatewayRouteTables.find((x) => x.id === rtb);
    if (!t)
      errors.push(
        new ConfigError(
          k(`existing.routeTableIds.${name}`),
          `transit gateway route table ${String(rtb)} is not in the inventory`,
          "correct the id, or add it to transitGatewayRouteTables",
        ),
      );
    else if (t.transitGatewayId !== ex.id)
      errors.push(
        new ConfigError(
          k(`existing.routeTableIds.${name}`),
          `route table ${t.id} belongs to ${t.transitGatewayId}, not to ${ex.id}`,
          `name a route table of ${ex.id}`,
        ),
      );
  }
  for (const [name, attId] of Object.entries(tg.existingAttachments ?? {})) {
    const a = inv.transitGatewayAttachments.find((x) => x.id === attId);
    if (!a)
      errors.push(
        new ConfigError(
          k(`existingAttachments.${name}`),
          `attachment ${String(attId)} is not in the inventory`,
          "correct the id, or add it to transitGatewayAttachments",
        ),
      );
    else if (a.transitGatewayId !== ex.id)
      errors.push(
        new ConfigError(
          k(`existingAttachments.${name}`),
          `attachment ${a.id} is to ${a.transitGatewayId}, not to ${ex.id}`,
          `name an attachment of ${ex.id}`,
        ),
      );
    else if (vpcOf[name] && a.vpcId !== vpcOf[name])
      errors.push(
        new ConfigError(
          k(`existingAttachments.${name}`),
          `attachment ${a.id} attaches ${a.vpcId}, but the ${name} VPC is ${vpcOf[name]}`,
          `name the attachment of ${vpcOf[name]}`,
        ),
      );
    else {
      const rtb = ex.routeTableIds?.[name];
      const assoc = inv.transitGatewayRouteTables.find((t) => t.associations.includes(a.id));
      if (rtb && assoc && assoc.id !== rtb)
        errors.push(
          new ConfigError(
            k(`existing.routeTableIds.${name}`),
            `adopted attachment ${a.id} is already associated with ${assoc.id}; the kit would associate it with ${String(rtb)} too`,
            `name ${assoc.id} (or drop the entry: the association exists)`,
          ),
        );
    }
  }
  return errors;
}

type IpamPool = Inventory["ipamPools"][number];

/** The IPAM pools' own contradictions: CIDRs that do not parse, allocations outside the pool or overlapping. */
function ipamPoolErrorsIn(
  inv: Inventory,
  unique: (id: string, p: string) => void,
  refuse: (p: string, problem: string, fix: string) => void,
): void {
  inv.ipamPools.forEach((pool, i) => {
    const p = `ipamPools.${i}`;
    unique(pool.id, p);
    if (pool.allocationMinNetmaskLength > pool.allocationMaxNetmaskLength)
      refuse(
        `${p}.allocationMinNetmaskLength`,
        `is ${pool.allocationMinNetmaskLength}, above allocationMaxNetmaskLength ${pool.allocationMaxNetmaskLength}`,
        "give the shortest netmask length (largest block) as the minimum",
      );
    if (pool.addressFamily !== "ipv4") return; // IPv6 pools are listed, never allocated from by the kit.
    const provisioned: Cidr[] = [];
    pool.ipamPoolCidrs.forEach((c, j) => {
      const x = tryParseCidr(c.cidr);
      if (typeof x === "string") refuse(`${p}.ipamPoolCidrs.${j}.cidr`, x, "give the pool's IPv4 CIDR");
      else if (c.state === "provisioned") provisioned.push(x);
    });
    const taken: Cidr[] = [];
    pool.allocations.forEach((a, j) => {
      const q = `${p}.allocations.${j}.cidr`;
      const x = tryParseCidr(a.cidr);
      if (typeof x === "string") return refuse(q, x, "give the allocation's IPv4 CIDR");
      if (!provisioned.some((c) => cidrContains(c, x)))
        refuse(
          q,
          `allocation ${x.text} is outside the pool's provisioned CIDRs`,
          "correct the CIDR, or list the pool CIDR it came from",
        );
      const other = taken.find((t) => cidrsOverlap(t, x));
      if (other)
        refuse(q, `allocation ${x.text} overlaps allocation ${other.text}`, "a pool allocates each range once");
      taken.push(x);
    });
    const source = inv.ipamPools.find((x) => x.id === pool.sourceIpamPoolId);
    if (source)
      provisioned.forEach((c) => {
        if (!poolFacts(source).cidrs.some((sc) => cidrContains(tryParseCidr(sc) as Cidr, c)))
          refuse(
            `${p}.ipamPoolCidrs`,
            `${c.text} is not inside the source pool ${source.id}'s provisioned CIDRs`,
            "a child pool's CIDRs come from its source pool: correct the CIDR or sourceIpamPoolId",
          );
      });
  });
}

/** The pool as the shared checks read it (components/ipam.ts): provisioned CIDRs only. */
function poolFacts(pool: IpamPool): IpamPoolFacts {
  return {
    id: pool.id,
    addressFamily: pool.addressFamily,
    allocationMinNetmaskLength: pool.allocationMinNetmaskLength,
    allocationMaxNetmaskLength: pool.allocationMaxNetmaskLength,
    locale: pool.locale,
    cidrs: pool.ipamPoolCidrs
      .filter((c) => c.state === "provisioned" && typeof tryParseCidr(c.cidr) !== "string")
      .map((c) => c.cidr),
    allocations: pool.allocations.map((a) => a.cidr),
  };
}

/** One kit-created VPC's IPAM keys, as the stack file gives them (`at` is the role's config key). */
export interface IpamConfigRef {
  at: string;
  region: string;
  poolId: string;
  netmaskLength: number;
  allocatedCidr?: string;
}

/**
 * The role's IPAM pool against the inventory: the pool is there, and can give the VPC the planned range.
 * Without a stated `ipamAllocatedCidr` the range is predicted: the first free block of the asked size, past
 * the pool's allocations and `taken` (what this stack's other VPCs get from it). Returns the range used.
 */
export function ipamRequestErrors(
  inv: Inventory,
  ref: IpamConfigRef,
  taken: string[],
): { cidr?: string; predicted: boolean; errors: ConfigError[] } {
  const pool = inv.ipamPools.find((p) => p.id === ref.poolId);
  if (!pool)
    return {
      predicted: false,
      errors: [
        new ConfigError(
          `${ref.at}.ipv4IpamPoolId`,
          `IPAM pool ${ref.poolId} is not in the inventory`,
          "correct the id, or add the pool (getVpcIpamPool fields and its ipamPoolCidrs) to ipamPools",
        ),
      ],
    };
  const facts = poolFacts(pool);
  const predicted = ref.allocatedCidr === undefined;
  const cidr = ref.allocatedCidr ?? firstFreeBlock(facts.cidrs, [...facts.allocations!, ...taken], ref.netmaskLength);
  if (cidr === undefined)
    return {
      predicted,
      errors: [
        new ConfigError(
          `${ref.at}.ipv4NetmaskLength`,
          `IPAM pool ${pool.id} has no free /${ref.netmaskLength} left (provisioned ${facts.cidrs.join(", ") || "none"}, allocated ${[...facts.allocations!, ...taken].join(", ") || "none"})`,
          "ask for a smaller block, or provision more CIDRs to the pool",
        ),
      ],
    };
  const errors = ipamPoolErrors(
    { ...facts, allocations: [...facts.allocations!, ...taken] },
    { at: ref.at, region: ref.region, netmaskLength: ref.netmaskLength, allocatedCidr: cidr },
  );
  return { cidr, predicted, errors };
}

/** `transitGateway.existing.ownerId` against the inventory's record of the TGW (getTransitGateway's ownerId). */
function ownerErrors(
  tgw: Inventory["transitGateways"][number],
  stated: string | undefined,
  accountA: string | undefined,
  k: (s: string) => string,
): ConfigError[] {
  const error = (problem: string, fix: string) => [new ConfigError(k("existing.ownerId"), problem, fix)];
  if (tgw.ownerId && stated !== undefined && stated !== tgw.ownerId)
    return error(
      `states ${stated}, but the inventory's ${tgw.id} is owned by ${tgw.ownerId}`,
      `set it to ${tgw.ownerId}`,
    );
  if (!tgw.ownerId && stated !== undefined)
    return error(
      `states ${stated}, but the inventory's ${tgw.id} records no ownerId (the lookup answers the attaching account)`,
      `record "ownerId": "${stated}" on ${tgw.id} in the inventory's transitGateways`,
    );
  if (tgw.ownerId && stated === undefined && accountA && tgw.ownerId !== accountA)
    return error(
      `not set, so the kit takes ${tgw.id} for account A's (${accountA}), but the inventory says account ${tgw.ownerId} owns it`,
      `set ${k("existing.ownerId")} to ${tgw.ownerId}`,
    );
  return [];
}

/** The route table AWS applies to a subnet: its association, else the VPC's main table. */
export function routeTableOfSubnet(inv: Inventory, subnetId: string): Inventory["routeTables"][number] | undefined {
  const vpcId = inv.subnets.find((s) => s.id === subnetId)?.vpcId;
  return (
    inv.routeTables.find((t) => t.associations.some((a) => a.subnetId === subnetId)) ??
    inv.routeTables.find((t) => t.vpcId === vpcId && t.associations.some((a) => a.main))
  );
}

/** `existingVpc` as config gives it: ids, or tags the lookups filter on. */
export interface ExistingVpcConfigRef extends Omit<ExistingVpcRef, "vpcId" | "privateSubnetIds"> {
  vpcId?: string;
  tags?: Record<string, string>;
  privateSubnetIds?: string[];
  privateSubnetTags?: Record<string, string>;
}

const hasTags = (have: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/**
 * Resolves the tag form of `existingVpc` the way the lookups will (aws.ec2.getVpc by tags: exactly one
 * VPC; aws.ec2.getSubnet by VPC, CIDR and tags: exactly one subnet per stated CIDR, and getSubnets
 * finding no other tagged subnet). Returns the ids, or the problems naming `<key>.tags` /
 * `<key>.privateSubnetTags`.
 */
export function resolveExistingVpc(
  inv: Inventory,
  cfg: ExistingVpcConfigRef,
  key: string,
  statedSubnetCidrs: string[] | undefined,
): { ref?: ExistingVpcRef; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  let vpcId = cfg.vpcId;
  const list = (xs: { id: string }[]) => xs.map((x) => x.id).join(", ");
  if (!vpcId && cfg.tags) {
    const found = inv.vpcs.filter((v) => hasTags(v.tags, cfg.tags!));
    if (found.length === 1) vpcId = found[0].id;
    else
      errors.push(
        new ConfigError(
          `${key}.tags`,
          found.length === 0
            ? `no VPC in the inventory has the tags ${JSON.stringify(cfg.tags)}`
            : `${found.length} VPCs have the tags ${JSON.stringify(cfg.tags)} (${list(found)}); the lookup needs exactly one`,
          found.length === 0 ? "correct the tags, or give vpcId" : "add a tag that tells them apart, or give vpcId",
        ),
      );
  }
  let subnetIds = cfg.privateSubnetIds;
  if (!subnetIds && cfg.privateSubnetTags && vpcId) {
    const tagged = inv.subnets.filter((s) => s.vpcId === vpcId && hasTags(s.tags, cfg.privateSubnetTags!));
    const cidrs = statedSubnetCidrs ?? [];
    const picked = cidrs.map((c) => tagged.filter((s) => s.cidrBlock === c));
    picked.forEach((m, i) => {
      if (m.length === 0)
        errors.push(
          new ConfigError(
            `${key}.privateSubnetTags`,
            `no subnet of ${vpcId} with these tags is ${cidrs[i]} (stated at index ${i})`,
            `tag that subnet, or correct the stated CIDRs (tagged: ${tagged.map((s) => `${s.id} ${s.cidrBlock}`).join(", ") || "none"})`,
          ),
        );
    });
    if (tagged.length !== cidrs.length)
      errors.push(
        new ConfigError(
          `${key}.privateSubnetTags`,
          `${tagged.length} subnets of ${vpcId} have the tags ${JSON.stringify(cfg.privateSubnetTags)} (${list(tagged) || "none"}), but ${cidrs.length} CIDRs are stated`,
          "tag exactly the subnets whose CIDRs are stated, or state every tagged subnet's CIDR",
        ),
      );
    if (picked.every((m) => m.length === 1)) subnetIds = picked.map((m) => m[0].id);
  }
  if (errors.length > 0 || !vpcId || !subnetIds) return { errors };
  const { tags: _t, privateSubnetTags: _p, ...rest } = cfg;
  return { ref: { ...rest, vpcId, privateSubnetIds: subnetIds }, errors };
}

/** Whether the stack's `existingVpc` (at `key`) agrees with the inventory; each problem names the config key. */
export function existingVpcErrors(
  inv: Inventory,
  ref: ExistingVpcRef,
  key: string,
  stated: { cidrBlock?: string; privateSubnetCidrs?: string[]; subnetCidrsKey?: string; tgwDestinations?: string[] },
): ConfigError[] {
  const errors: ConfigError[] = [];
  const vpc = inv.vpcs.find((v) => v.id === ref.vpcId);
  if (!vpc)
    return [
      new ConfigError(
        `${key}.vpcId`,
        `VPC ${ref.vpcId} is not in the inventory`,
        "correct vpcId, or add the VPC to the inventory",
      ),
    ];
  const netKey = key.replace(/\.existingVpc$/, "");
  if (stated.cidrBlock !== undefined && stated.cidrBlock !== vpc.cidrBlock)
    errors.push(
      new ConfigError(
        `${netKey}.cidrBlock`,
        `states ${stated.cidrBlock} but VPC ${vpc.id} has ${vpc.cidrBlock}`,
        `set it to ${vpc.cidrBlock}`,
      ),
    );
  const subnetCheck = (ids: string[] | undefined, sub: string) =>
    (ids ?? []).forEach((s, i) => {
      const subnet = inv.subnets.find((x) => x.id === s);
      if (!subnet)
        errors.push(
          new ConfigError(
            `${key}.${sub}[${i}]`,
            `subnet ${s} is not in the inventory`,
            "correct the id, or add the subnet to the inventory",
          ),
        );
      else if (subnet.vpcId !== ref.vpcId)
        errors.push(
          new ConfigError(
            `${key}.${sub}[${i}]`,
            `subnet ${s} is in ${subnet.vpcId}, not in ${ref.vpcId}`,
            `list subnets of ${ref.vpcId} only`,
          ),
        );
      else if (
        sub === "privateSubnetIds" &&
        stated.privateSubnetCidrs &&
        stated.privateSubnetCidrs[i] !== undefined &&
        stated.privateSubnetCidrs[i] !== subnet.cidrBlock
      ) {
        errors.push(
          new ConfigError(
            `${netKey}.${stated.subnetCidrsKey ?? "privateSubnetCidrs"}[${i}]`,
            `states ${stated.privateSubnetCidrs[i]} but subnet ${s} is ${subnet.cidrBlock}`,
            `set it to ${subnet.cidrBlock}`,
          ),
        );
      }
    });
  subnetCheck(ref.privateSubnetIds, "privateSubnetIds");
  subnetCheck(ref.publicSubnetIds, "publicSubnetIds");
  (ref.routeTableIds ?? []).forEach((rt, i) => {
    const table = inv.routeTables.find((t) => t.id === rt);
    if (!table) {
      errors.push(
        new ConfigError(
          `${key}.routeTableIds[${i}]`,
          `route table ${rt} is not in the inventory`,
          "correct the id, or add the table to the inventory",
        ),
      );
      return;
    }
    const subnets = ref.routeTableIds!.length === 1 ? ref.privateSubnetIds : [ref.privateSubnetIds[i]].filter(Boolean);
    for (const s of subnets) {
      if (!table.associations.some((a) => a.subnetId === s))
        errors.push(
          new ConfigError(
            `${key}.routeTableIds[${i}]`,
            `route table ${rt} is not associated with private subnet ${s}`,
            `name the table ${s} is associated with${routeTableOfSubnet(inv, s) ? ` (${routeTableOfSubnet(inv, s)!.id})` : ""}`,
          ),
        );
    }
  });
  if (!ref.routeTableIds)
    ref.privateSubnetIds.forEach((s, i) => {
      if (
        inv.subnets.some((x) => x.id === s) &&
        !inv.routeTables.some((t) => t.associations.some((a) => a.subnetId === s))
      )
        errors.push(
          new ConfigError(
            `${key}.privateSubnetIds[${i}]`,
            `subnet ${s} has no explicit route table association in the inventory, so the lookup by subnet finds none`,
            "add its route table (with the association) to the inventory, or name it in routeTableIds",
          ),
        );
    });
  if (!ref.natGatewayIds && ref.manageRoutes) {
    const reported = new Set<string>();
    ref.privateSubnetIds.forEach((s, i) => {
      // EC2 refuses a second route for the same destination (RouteAlreadyExists, CreateRoute API reference).
      const t = ref.routeTableIds
        ? inv.routeTables.find((x) => x.id === ref.routeTableIds![ref.routeTableIds!.length === 1 ? 0 : i])
        : routeTableOfSubnet(inv, s);
      const clash = t?.routes.find((r) => r.destinationCidrBlock === "0.0.0.0/0");
      if (!t || !clash || reported.has(t.id)) return;
      reported.add(t.id);
      errors.push(
        new ConfigError(
          `${key}.manageRoutes`,
          `the kit would add 0.0.0.0/0 to ${t.id}, which already routes it to ${clash.natGatewayId ?? clash.gatewayId ?? clash.transitGatewayId ?? "another target"}`,
          clash.natGatewayId
            ? `name ${clash.natGatewayId} in natGatewayIds to use the existing NAT, or remove that route`
            : "remove the existing default route, or turn manageRoutes off and route to the kit's NAT yourself",
        ),
      );
    });
  }
  if (ref.manageRoutes && stated.tgwDestinations) {
    const reported = new Set<string>();
    ref.privateSubnetIds.forEach((s, i) => {
      const t = ref.routeTableIds
        ? inv.routeTables.find((x) => x.id === ref.routeTableIds![ref.routeTableIds!.length === 1 ? 0 : i])
        : routeTableOfSubnet(inv, s);
      for (const d of stated.tgwDestinations!) {
        const clash = t?.routes.find((r) => r.destinationCidrBlock === d);
        if (!t || !clash || reported.has(`${t.id} ${d}`)) continue;
        reported.add(`${t.id} ${d}`);
        // EC2 refuses a second route for the same destination (RouteAlreadyExists, CreateRoute API reference).
        errors.push(
          new ConfigError(
            `${key}.manageRoutes`,
            `the kit would add ${d} → Transit Gateway to ${t.id}, which already routes ${d} to ${clash.transitGatewayId ?? clash.natGatewayId ?? clash.gatewayId ?? clash.vpcPeeringConnectionId ?? "another target"}`,
            clash.transitGatewayId
              ? "the table already reaches it through a Transit Gateway: turn manageRoutes off (nothing to add), or remove that route"
              : "remove the existing route, or turn manageRoutes off and route it yourself",
          ),
        );
      }
    });
  }
  (ref.natGatewayIds ?? []).forEach((n, i) => {
    const nat = inv.natGateways.find((x) => x.id === n);
    if (!nat)
      errors.push(
        new ConfigError(
          `${key}.natGatewayIds[${i}]`,
          `NAT gateway ${n} is not in the inventory`,
          "correct the id, or add the NAT gateway to the inventory",
        ),
      );
    else if (nat.vpcId !== ref.vpcId)
      errors.push(
        new ConfigError(
          `${key}.natGatewayIds[${i}]`,
          `NAT gateway ${n} is in ${nat.vpcId}, not in ${ref.vpcId}`,
          "name NAT gateways of the adopted VPC",
        ),
      );
    else if (nat.state !== "available")
      errors.push(
        new ConfigError(
          `${key}.natGatewayIds[${i}]`,
          `NAT gateway ${n} is ${nat.state}`,
          "name an available NAT gateway, or drop natGatewayIds so the kit creates one",
        ),
      );
  });
  return errors;
}

/**
 * graph.json records for the inventory's resources, marked `existing: true`, in the types and input
 * names the kit's own resources use, so the checker walks existing and new hops alike.
 */
export function inventoryRecords(
  inv: Inventory,
  opts: {
    stack: string;
    project: string;
    provider: string | null;
    parent: string | null;
    /** VPCs adopted in another account or under another component (the data role's): their provider and parent. */
    byVpc?: Record<string, { provider: string | null; parent: string | null }>;
    /** "awsx": the records are an awsx.ec2.Vpc's children (ops/awsx-mock.ts). */
    origin?: "awsx";
  },
): ExistingRecord[] {
  const out: ExistingRecord[] = [];
  const prefix = opts.origin ?? "existing";
  const vpcOf = (inputs: Record<string, unknown>): string | undefined =>
    typeof inputs.vpcId === "string"
      ? inputs.vpcId
      : typeof inputs.subnetId === "string"
        ? inv.subnets.find((x) => x.id === inputs.subnetId)?.vpcId
        : undefined;
  const add = (type: string, name: string, id: string, inputs: Record<string, unknown>) => {
    const vpc = type === "aws:ec2/vpc:Vpc" ? id : vpcOf(inputs);
    const home = (vpc && opts.byVpc?.[vpc]) || { provider: opts.provider, parent: opts.parent };
    out.push({
      urn: `urn:pulumi:${opts.stack}::${opts.project}::${type}::${prefix}-${name}`,
      id,
      type,
      name: `${prefix}-${name}`,
      parent: home.parent,
      provider: home.provider,
      inputs,
      dependencies: [],
      existing: true,
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
  };
  // Most inventory lists map one item to one record named and identified by the item's own id.
  const adoptEach = <T extends { id: string }>(
    type: string,
    items: T[],
    inputs: (item: T) => Record<string, unknown>,
  ) => {
    for (const item of items) add(type, item.id, item.id, inputs(item));
  };
  adoptEach("aws:ec2/vpc:Vpc", inv.vpcs, (v) => ({
    cidrBlock: v.cidrBlock,
    enableDnsHostnames: v.enableDnsHostnames,
    enableDnsSupport: v.enableDnsSupport,
    tags: v.tags,
  }));
  adoptEach("aws:ec2/subnet:Subnet", inv.subnets, (s) => ({
    vpcId: s.vpcId,
    cidrBlock: s.cidrBlock,
    availabilityZone: s.availabilityZone,
    mapPublicIpOnLaunch: false,
    tags: s.tags,
  }));
  for (const t of inv.routeTables) {
    add("aws:ec2/routeTable:RouteTable", t.id, t.id, { vpcId: t.vpcId, routes: t.routes, tags: t.tags });
    for (const a of t.associations) {
      if (a.main)
        add(
          "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
          `${t.id}-main`,
          `rtbassoc-main-${t.id.slice(4)}`,
          { vpcId: t.vpcId, routeTableId: t.id },
        );
      if (a.subnetId)
        add(
          "aws:ec2/routeTableAssociation:RouteTableAssociation",
          `${t.id}-${a.subnetId}`,
          `rtbassoc-${a.subnetId.slice(7)}`,
          { subnetId: a.subnetId, routeTableId: t.id },
        );
    }
  }
  adoptEach("aws:ec2/internetGateway:InternetGateway", inv.internetGateways, (g) => ({ vpcId: g.vpcId, tags: g.tags }));
  for (const n of inv.natGateways) {
    add("aws:ec2/eip:Eip", n.allocationId, n.allocationId, { domain: "vpc", publicIp: n.publicIp });
    add("aws:ec2/natGateway:NatGateway", n.id, n.id, {
      subnetId: n.subnetId,
      allocationId: n.allocationId,
      connectivityType: "public",
      publicIp: n.publicIp,
      tags: n.tags,
    });
  }
  adoptEach("aws:ec2/securityGroup:SecurityGroup", inv.securityGroups, (g) => ({
    vpcId: g.vpcId,
    name: g.name,
    tags: g.tags,
  }));
  // A TGW's owner (getTransitGateway's ownerId) is its account in the checker, whichever provider read it.
  const ownerOf = new Map(inv.transitGateways.map((t) => [t.id, t.ownerId] as const));
  const owned = (tgwId: string) => (ownerOf.get(tgwId) ? { ownerId: ownerOf.get(tgwId) } : {});
  adoptEach("aws:ec2transitgateway/transitGateway:TransitGateway", inv.transitGateways, (t) => ({
    ...owned(t.id),
    defaultRouteTableAssociation: t.defaultRouteTableAssociation,
    defaultRouteTablePropagation: t.defaultRouteTablePropagation,
    ...(t.associationDefaultRouteTableId ? { associationDefaultRouteTableId: t.associationDefaultRouteTableId } : {}),
    ...(t.propagationDefaultRouteTableId ? { propagationDefaultRouteTableId: t.propagationDefaultRouteTableId } : {}),
    autoAcceptSharedAttachments: t.autoAcceptSharedAttachments,
    tags: t.tags,
  }));
  // RAM shares as the kit's own shares are recorded (share, resource and principal associations), in the owner's account.
  for (const sh of inv.resourceShares) {
    const tail = sh.arn.split("/").pop() as string;
    add("aws:ram/resourceShare:ResourceShare", `share-${tail}`, sh.arn, {
      ownerId: sh.owningAccountId,
      name: sh.name,
      allowExternalPrincipals: sh.allowExternalPrincipals,
      status: sh.status,
      tags: sh.tags,
    });
    sh.resourceArns.forEach((arn, i) =>
      add("aws:ram/resourceAssociation:ResourceAssociation", `share-${tail}-resource-${i}`, `${sh.arn},${arn}`, {
        ownerId: sh.owningAccountId,
        resourceArn: arn,
        resourceShareArn: sh.arn,
      }),
    );
    sh.principals.forEach((principal, i) => {
      const org = inv.organization;
      const unit = org?.organizationalUnits.find((u) => u.arn === principal);
      // Who an organization or OU principal covers, as the inventory's organization lists it (none when it is not given).
      const members = ACCOUNT_ID_RE.test(principal)
        ? {}
        : { memberAccountIds: org && principal === org.arn ? org.accountIds : (unit?.accountIds ?? []) };
      add(
        "aws:ram/principalAssociation:PrincipalAssociation",
        `share-${tail}-principal-${i}`,
        `${sh.arn},${principal}`,
        {
          ownerId: sh.owningAccountId,
          principal,
          resourceShareArn: sh.arn,
          ...members,
        },
      );
    });
  }
  adoptEach("aws:ec2transitgateway/vpcAttachment:VpcAttachment", inv.transitGatewayAttachments, (a) => ({
    transitGatewayId: a.transitGatewayId,
    vpcId: a.vpcId,
    subnetIds: a.subnetIds,
    tags: a.tags,
  }));
  for (const t of inv.transitGatewayRouteTables) {
    add("aws:ec2transitgateway/routeTable:RouteTable", t.id, t.id, {
      ...owned(t.transitGatewayId),
      transitGatewayId: t.transitGatewayId,
      tags: t.tags,
    });
    const link = { transitGatewayRouteTableId: t.id };
    for (const a of t.associations)
      add("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", `${t.id}-${a}`, `${t.id}_${a}`, {
        ...link,
        transitGatewayAttachmentId: a,
      });
    for (const a of t.propagations)
      add(
        "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
        `${t.id}-${a}-propagation`,
        `${t.id}_${a}`,
        {
          ...link,
          transitGatewayAttachmentId: a,
        },
      );
    t.routes.forEach((r, i) =>
      add("aws:ec2transitgateway/route:Route", `${t.id}-route-${i}`, `${t.id}_${r.destinationCidrBlock}`, {
        ...link,
        destinationCidrBlock: r.destinationCidrBlock,
        transitGatewayAttachmentId: r.transitGatewayAttachmentId,
        blackhole: r.blackhole,
      }),
    );
  }
  return out;
}
