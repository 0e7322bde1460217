import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ACCOUNT_ID_RE, SHARE_ARN_RE } from "../../components/arns";
import { nameTags } from "../../components/defaults";
import { ConfigError, patternErrors, throwIfAny } from "../../components/errors";
import { subnetIn } from "../../components/vpc-parts";
import {
  checkTgwSegments,
  checkTgwShare,
  TGW_ATTACH_ID_RE,
  TGW_ID_RE,
  TGW_RTB_ID_RE,
  TgwOwner,
  TgwPeer,
  TgwPlan,
  tgwRouteTableMembership,
  TgwSegments,
  tgwSegmentMembership,
  unknownAttachmentErrors,
} from "../../components/tgw-shared-network";
import type { FixedEgressVpc } from "../../components/fixed-egress-vpc";
import type { PrivateVpc } from "../../components/private-vpc";
import { accountIdOf, collectConfigErrors, EnvConfig, EnvConfigInput, PROJECT as P } from "../config/schema";
import type { DataOutputs, NetworkOutputs } from "../config/outputs";
import { adoptedTableLabels, RouteToAdd } from "../../components/existing-vpc";
import { cidrContains, cidrsOverlap, tryParseCidr } from "../../components/cidr";
import { zoneNames } from "../zones";
import type { Feature } from "./feature";
/** Child-name prefix of every Transit Gateway resource in the stacks. */
const NAME = "transit";
/** How the two VPCs are called in messages and route names. */
const OWNER_VPC = "egress";
const PEER_VPC = "data";

/** What the owner side exports for the peer (non-secret; "" when the stack has no TGW). */
export interface TgwOwnerOutputs {
  transitGatewayId: pulumi.Output<string>;
  tgwShareArn: pulumi.Output<string>;
  tgwRouteTableId: pulumi.Output<string>;
}

/** The network outputs the peer side reads (directly or by StackReference). */
export type TgwNetworkView = Pick<NetworkOutputs, "transitGatewayId" | "tgwShareArn" | "vpcCidr">;

/**
 * Config-time validation of `transitGateway` (before anything is registered): on by default when
 * the environment has both sides (this stack runs or reads each of the network and data roles),
 * principals default to account B, the accepter switch and external principals agree, and each
 * stack gets the upstream it needs. Undefined when off. The CIDR overlap check lives beside the
 * other VPC checks in stacks/config/load.ts.
 */
export function planTgwConfig(
  cfg: EnvConfigInput,
  networkCidr: string | undefined,
  dataCidr: string | undefined,
  region?: string,
): TgwPlan | undefined {
  const tg = cfg.transitGateway;
  const runs = (r: "network" | "data" | "apps") => cfg.roles.includes(r);
  const inEnv = (r: "network" | "data") => runs(r) || cfg.upstream[r] !== undefined;
  const enabled = tg.enabled ?? (inEnv("network") && inEnv("data"));
  if (!enabled) return undefined;
  const errors: ConfigError[] = [];
  const k = (s: string) => `${P}:transitGateway.${s}`;
  const peerAccount = cfg.accounts.b.accountId;

  const existing = tg.existing;
  checkExisting(cfg, errors);
  let principals: string[] | undefined;
  // An existing TGW is shared by whoever owns it: the kit creates no share and needs no principal.
  if (runs("network") && !existing) {
    principals = tg.principals ?? (peerAccount ? [peerAccount] : undefined);
    if (!principals) {
      errors.push(
        new ConfigError(
          k("principals"),
          "the Transit Gateway is on but there is no principal to share it with",
          `set ${P}:accounts.b.accountId (account B, the data side; the default principal) or list ${P}:transitGateway.principals`,
        ),
      );
    }
  }
  // Route tables given: explicit tables, the TGW's defaults off.
  const segmented = tg.routeTables.length > 0;
  const share = checkTgwShare(
    {
      ...tg,
      ...(segmented ? { defaultRouteTableAssociation: false, defaultRouteTablePropagation: false } : {}),
      principals,
      peerAccountIds: peerAccount ? [peerAccount] : [],
    },
    `${P}:transitGateway.`,
    errors,
  );
  const segments = segmentsOf(cfg);
  checkTgwSegments(segments, [OWNER_VPC, PEER_VPC], `${P}:transitGateway.`, errors);

  attachmentSubnetErrors(cfg, errors);
  // The kit adds one route per distinct table; looked up by subnet, it could not tell two subnets share one.
  for (const [role, ex] of [
    ["network", cfg.network?.existingVpc],
    ["data", cfg.data?.existingVpc],
  ] as const) {
    if (ex?.manageRoutes && !ex.routeTableIds && runs(role) && (ex.privateSubnetIds?.length ?? 2) > 1)
      errors.push(
        new ConfigError(
          `${P}:${role}.existingVpc.routeTableIds`,
          "manageRoutes lets the kit add Transit Gateway routes, one per route table, but the tables are not named, so subnets sharing one would get the same route twice (EC2 refuses the second)",
          "name the subnets' route tables in routeTableIds (one per subnet, or the one they share)",
        ),
      );
  }
  const ra = cfg.accounts.a.region ?? region;
  const rb = cfg.accounts.b.region ?? region;
  if (runs("network") && runs("data") && ra !== rb) {
    errors.push(
      new ConfigError(
        `${P}:accounts.b.region`,
        `account A's region (${ra}) and account B's (${rb}) differ, and a VPC attaches only to a Transit Gateway in its own region`,
        "give both accounts the same region, or set transitGateway.enabled to false",
      ),
    );
  }
  if (runs("data") && !runs("network") && !cfg.upstream.network) {
    errors.push(
      new ConfigError(
        `${P}:upstream.network`,
        "the data role attaches its VPC to the network stack's Transit Gateway, and this stack does not run the network role",
        `set upstream.network to the network stack (e.g. dev-network), or set ${P}:transitGateway.enabled to false`,
      ),
    );
  }
  const admitsData = existing
    ? existing.routeTableIds[PEER_VPC] !== undefined && ownsExisting(cfg, "a")
    : !share.defaultRouteTables;
  if (admitsData && runs("apps") && !runs("data") && !cfg.upstream.data) {
    errors.push(
      new ConfigError(
        `${P}:upstream.data`,
        "with an explicit TGW route table, account A admits account B's attachment to it (a RAM-shared TGW's route tables belong to its owner), which this stack does after the data stack",
        "set upstream.data to the data stack (e.g. dev-data), or use the default route tables",
      ),
    );
  }
  throwIfAny(errors);
  return {
    ...share,
    owner: { name: OWNER_VPC, cidrBlocks: networkCidr ? [networkCidr] : [], key: `${P}:network.cidrBlock` },
    peers: [{ name: PEER_VPC, cidrBlocks: dataCidr ? [dataCidr] : [], key: `${P}:data.cidrBlock` }],
  };
}

/**
 * `transitGateway.attachmentSubnetCidrs`: a known attachment the kit creates, one CIDR per zone of its VPC,
 * each a /28 (AWS's recommendation for attachment subnets, "Transit gateway design best practices"),
 * inside the VPC and clear of the subnets the kit plans or adopts there.
 */
function attachmentSubnetErrors(cfg: EnvConfigInput, errors: ConfigError[]): void {
  const sides: Record<string, { vpc?: string; azs?: number; taken: string[] }> = {
    [OWNER_VPC]: {
      vpc: cfg.network?.cidrBlock,
      azs: cfg.network?.existingVpc
        ? (cfg.network.existingVpc.privateSubnetIds?.length ?? cfg.network.privateSubnetCidrs?.length)
        : typeof cfg.network?.availabilityZones === "number"
          ? cfg.network.availabilityZones
          : cfg.network?.availabilityZones?.length,
      taken: [...(cfg.network?.privateSubnetCidrs ?? []), ...(cfg.network?.publicSubnetCidrs ?? [])],
    },
    [PEER_VPC]: {
      vpc: cfg.data?.cidrBlock,
      azs: cfg.data?.existingVpc
        ? (cfg.data.existingVpc.privateSubnetIds?.length ?? cfg.data.subnetCidrs.length)
        : typeof cfg.data?.availabilityZones === "number"
          ? cfg.data.availabilityZones
          : cfg.data?.availabilityZones?.length,
      taken: cfg.data?.subnetCidrs ?? [],
    },
  };
  for (const [name, cidrs] of Object.entries(cfg.transitGateway.attachmentSubnetCidrs)) {
    const key = `${P}:transitGateway.attachmentSubnetCidrs.${name}`;
    const side = sides[name];
    if (!side) {
      errors.push(...unknownAttachmentErrors(name, key, Object.keys(sides)));
      continue;
    }
    if (cfg.transitGateway.existingAttachments[name] !== undefined) {
      errors.push(
        new ConfigError(
          key,
          "the attachment is adopted (existingAttachments), so the kit creates no subnets for it",
          `remove it, or drop existingAttachments.${name}`,
        ),
      );
      continue;
    }
    if (side.azs !== undefined && cidrs.length !== side.azs)
      errors.push(
        new ConfigError(
          key,
          `${cidrs.length} CIDRs for ${side.azs} zones`,
          "give one attachment subnet per zone of the VPC (a zone without one cannot reach the Transit Gateway)",
        ),
      );
    const vpc = side.vpc ? tryParseCidr(side.vpc) : undefined;
    cidrs.forEach((text, i) => {
      const c = tryParseCidr(text);
      if (typeof c === "string") {
        errors.push(new ConfigError(`${key}[${i}]`, c, "give an IPv4 CIDR such as 10.0.255.0/28"));
        return;
      }
      if (c.prefix !== 28)
        errors.push(
          new ConfigError(
            `${key}[${i}]`,
            `${text} is a /${c.prefix}`,
            "use a /28: the attachment needs one address per zone, the rest of the VPC stays free",
          ),
        );
      if (vpc && typeof vpc !== "string" && !cidrContains(vpc, c))
        errors.push(
          new ConfigError(`${key}[${i}]`, `${text} is outside the VPC ${vpc.text}`, `choose a /28 inside ${vpc.text}`),
        );
      const clash = [...side.taken, ...cidrs.slice(0, i)].find((o) => {
        const oc = tryParseCidr(o);
        return typeof oc !== "string" && cidrsOverlap(oc, c);
      });
      if (clash)
        errors.push(new ConfigError(`${key}[${i}]`, `${text} overlaps ${clash}`, "choose a free /28 of the VPC"));
    });
  }
}

/**
 * `transitGateway.existing` and `existingAttachments`: id shapes (EC2's prefixes), attachment names
 * known, and nothing asked of the kit that only the TGW's creator can do here (route tables, a share).
 */
function checkExisting(cfg: EnvConfigInput, errors: ConfigError[]): void {
  const tg = cfg.transitGateway;
  const k = (s: string) => `${P}:transitGateway.${s}`;
  const names = [OWNER_VPC, PEER_VPC];
  const ex = tg.existing;
  for (const [name, id] of Object.entries(tg.existingAttachments)) {
    const unknown = unknownAttachmentErrors(name, k(`existingAttachments.${name}`), names);
    if (unknown.length > 0) errors.push(...unknown);
    else if (!TGW_ATTACH_ID_RE.test(id))
      errors.push(
        new ConfigError(
          k(`existingAttachments.${name}`),
          `"${id}" is not a Transit Gateway attachment id`,
          "give an id such as tgw-attach-0123456789abcdef0",
        ),
      );
    else if (name === OWNER_VPC && !ex)
      errors.push(
        new ConfigError(
          k(`existingAttachments.${name}`),
          "the kit creates this Transit Gateway, so no attachment to it exists yet",
          `remove it, or set ${P}:transitGateway.existing to the TGW it is attached to`,
        ),
      );
  }
  if (!ex) return;
  errors.push(
    ...patternErrors(
      k("existing.id"),
      ex.id,
      TGW_ID_RE,
      "a Transit Gateway id",
      "give an id such as tgw-0123456789abcdef0",
    ),
  );
  for (const [name, id] of Object.entries(ex.routeTableIds)) {
    const unknown = unknownAttachmentErrors(name, k(`existing.routeTableIds.${name}`), names);
    if (unknown.length > 0) errors.push(...unknown);
    else if (!TGW_RTB_ID_RE.test(id))
      errors.push(
        new ConfigError(
          k(`existing.routeTableIds.${name}`),
          `"${id}" is not a Transit Gateway route table id`,
          "give an id such as tgw-rtb-0123456789abcdef0",
        ),
      );
  }
  errors.push(
    ...patternErrors(
      k("existing.ownerId"),
      ex.ownerId,
      ACCOUNT_ID_RE,
      "an AWS account id",
      "give the 12-digit id of the account that owns the Transit Gateway (getTransitGateway's ownerId)",
    ),
  );
  if (ex.ownerId !== undefined) {
    // Whether an attachment is cross-account decides what the kit may do, so each attaching account must be known.
    for (const [side, role] of [
      ["a", "network"],
      ["b", "data"],
    ] as const)
      if (cfg.roles.includes(role) && !accountIdOf(cfg.accounts[side]))
        errors.push(
          new ConfigError(
            `${P}:accounts.${side}.accountId`,
            `transitGateway.existing.ownerId is set, but account ${side.toUpperCase()}'s id is not known, so the kit cannot tell whether its attachment is cross-account`,
            `set ${P}:accounts.${side}.accountId`,
          ),
        );
  }
  errors.push(
    ...patternErrors(
      k("existing.shareArn"),
      ex.shareArn,
      SHARE_ARN_RE,
      "a RAM resource share ARN",
      "give arn:aws:ram:<region>:<owner account>:resource-share/<uuid>",
    ),
  );
  if (tg.acceptShare && ex.shareArn === undefined)
    errors.push(
      new ConfigError(
        k("acceptShare"),
        "true, but the existing Transit Gateway's share is not the kit's, and no existing.shareArn names the share to accept",
        `set ${P}:transitGateway.existing.shareArn, or acceptShare to false (inside an Organization with RAM sharing enabled, shares are accepted automatically)`,
      ),
    );
  if (tg.principals !== undefined)
    errors.push(
      new ConfigError(
        k("principals"),
        "the kit creates no RAM share for an existing Transit Gateway",
        "remove principals; the TGW's owner shares it",
      ),
    );
  if (tg.routeTables.length > 0)
    errors.push(
      new ConfigError(
        k("routeTables"),
        "the kit creates route tables only in a Transit Gateway it creates",
        `remove routeTables and name the existing tables in ${P}:transitGateway.existing.routeTableIds`,
      ),
    );
  if (tg.amazonSideAsn !== undefined)
    errors.push(
      new ConfigError(k("amazonSideAsn"), "the ASN belongs to the existing Transit Gateway", "remove amazonSideAsn"),
    );
}

/** The segmentation part of `transitGateway` (route tables, isolated pairs, attachment options). */
export function segmentsOf(cfg: EnvConfigInput): TgwSegments {
  const tg = cfg.transitGateway;
  return {
    routeTables: tg.routeTables.map((t) => ({
      name: t.name,
      associate: t.associate,
      propagate: t.propagate,
      routes: t.routes,
    })),
    isolate: tg.isolate as [string, string][],
    attachmentOptions: tg.attachmentOptions,
  };
}

/** Account A (network role): the TGW, its RAM share, the egress VPC's attachment and routes to the data VPC. */
export function tgwOwnerSide(cfg: EnvConfig, provider: aws.Provider, vpc: FixedEgressVpc): TgwOwnerOutputs {
  const plan = cfg.tgw;
  if (!plan)
    return { transitGatewayId: pulumi.output(""), tgwShareArn: pulumi.output(""), tgwRouteTableId: pulumi.output("") };
  // The egress VPC's attachment subnets, for a new TGW or an existing one.
  const ownerSubnetIds = () =>
    attachmentSubnets(
      cfg,
      provider,
      OWNER_VPC,
      vpc.vpcId,
      vpcZones(vpc, cfg.networkAzs, provider, `${P}:network.availabilityZones`),
      vpc.privateSubnetIds,
      vpc,
    );
  const existing = cfg.transitGateway.existing;
  if (existing) {
    const rtb = existing.routeTableIds[OWNER_VPC];
    // Account A attaches the egress VPC to the existing TGW (or adopts its attachment) and routes to the data VPC.
    const side = new TgwPeer(
      NAME,
      {
        transitGatewayId: existing.id,
        shareArn: existing.shareArn,
        acceptShare: plan.acceptShare,
        vpcId: vpc.vpcId,
        cidrBlocks: [vpc.cidrBlock],
        vpcName: OWNER_VPC,
        subnetIds: ownerSubnetIds(),
        routeTableIds: networkRouteTables(cfg, vpc),
        ownerCidrBlocks: plan.peers.flatMap((p) => p.cidrBlocks),
        ownerName: PEER_VPC,
        existingAttachmentId: cfg.transitGateway.existingAttachments[OWNER_VPC],
        // Associated explicitly in a TGW of its own account: kept out of the default tables.
        defaultRouteTables: rtb && ownsExisting(cfg, "a") ? false : undefined,
      },
      { provider },
    );
    // Only the TGW's owner may do this: when account A owns it; else its owner does (tgwOwnerActions).
    if (rtb && ownsExisting(cfg, "a"))
      tgwRouteTableMembership(
        `${NAME}-${OWNER_VPC}`,
        { transitGatewayRouteTableId: rtb, transitGatewayAttachmentId: side.attachmentId },
        { provider, parent: side },
      );
    noteOwnerActions(cfg, provider, "a", OWNER_VPC, side.attachmentId);
    return {
      transitGatewayId: pulumi.output(existing.id),
      tgwShareArn: pulumi.output(existing.shareArn ?? ""),
      tgwRouteTableId: pulumi.output(existing.routeTableIds[PEER_VPC] ?? ""),
    };
  }
  const owner = new TgwOwner(
    NAME,
    {
      vpcId: vpc.vpcId,
      cidrBlocks: [vpc.cidrBlock],
      vpcName: OWNER_VPC,
      // The usual recipe attaches the private subnet: one per AZ, where the functions run (or dedicated ones).
      subnetIds: ownerSubnetIds(),
      routeTableIds: networkRouteTables(cfg, vpc),
      peers: plan.peers.map(({ name, cidrBlocks }) => ({ name, cidrBlocks })),
      principals: (plan.principals ?? []).map((p) => p.value),
      allowExternalPrincipals: plan.allowExternalPrincipals,
      acceptShare: plan.acceptShare,
      defaultRouteTableAssociation: plan.defaultRouteTables,
      defaultRouteTablePropagation: plan.defaultRouteTables,
      amazonSideAsn: plan.amazonSideAsn,
      segments: segmentsOf(cfg),
      shareName: `${cfg.project}-${cfg.stack}-tgw`,
      flowLogs: cfg.transitGateway.flowLogs,
    },
    { provider },
  );
  const segmented = Object.keys(owner.routeTableIds).length > 0;
  return {
    // Carries the share's associations as dependencies: a peer in this same stack attaches after them.
    transitGatewayId: owner.sharedTransitGatewayId,
    tgwShareArn: owner.shareArn,
    // Segmented: every table's id by name, as JSON (the apps stack admits the data attachment to them).
    tgwRouteTableId: segmented ? pulumi.jsonStringify(owner.routeTableIds) : (owner.routeTableId ?? pulumi.output("")),
  };
}

/**
 * The subnets an attachment uses: the dedicated attachment subnets when config gives them (created here,
 * one per zone, with a route table of their own holding only the local route), else the workload subnets.
 */
function attachmentSubnets(
  cfg: EnvConfig,
  provider: aws.Provider,
  vpcName: string,
  vpcId: pulumi.Input<string>,
  zones: pulumi.Input<string>[],
  fallback: pulumi.Input<string>[],
  parent?: pulumi.Resource,
): pulumi.Input<string>[] {
  const cidrs = cfg.transitGateway.attachmentSubnetCidrs[vpcName];
  if (!cidrs) return fallback;
  const name = `${NAME}-${vpcName}-attach`;
  const opts = { provider, parent };
  const rt = new aws.ec2.RouteTable(`${name}-rt`, { vpcId, tags: nameTags(name, cfg.tags)("rt") }, opts);
  return cidrs.map(
    (cidrBlock, i) =>
      subnetIn(
        `${name}-${i}`,
        { vpcId, cidrBlock, availabilityZone: zones[i], routeTableId: rt.id, tags: cfg.tags },
        opts,
      ).id,
  );
}

/** The zones of a role's VPC, in subnet order: the adopted VPC's lookups, or the config's zones. */
function vpcZones(vpc: object, azs: string[] | number, provider: aws.Provider, key: string): pulumi.Input<string>[] {
  const adopted = (vpc as { availabilityZones?: pulumi.Output<string>[] }).availabilityZones;
  return adopted ?? zoneNames(azs, provider, key);
}

/**
 * The route tables the kit may add its Transit Gateway routes to: its own VPC's, or an adopted VPC's
 * only with `existingVpc.manageRoutes` (each distinct table once: EC2 refuses a second route for the
 * same destination). Otherwise none: the routes are reported by {@link tgwRoutesToAdd}.
 */
function adoptedTables(
  existing: { manageRoutes: boolean; routeTableIds?: string[]; privateSubnetIds?: string[] } | undefined,
  cidrs: string[],
  tables: pulumi.Output<string>[],
): pulumi.Output<string>[] {
  if (!existing) return tables;
  if (!existing.manageRoutes) return [];
  const labels = adoptedTableLabels({ ...existing, privateSubnetCidrs: cidrs });
  return tables.filter((_, i) => labels.indexOf(labels[i]) === i);
}

function networkRouteTables(cfg: EnvConfig, vpc: FixedEgressVpc): pulumi.Output<string>[] {
  return adoptedTables(cfg.network.existingVpc, cfg.networkPlan.privateSubnetCidrs, vpc.privateRouteTableIds);
}

function dataRouteTables(cfg: EnvConfig, vpc: PrivateVpc): pulumi.Output<string>[] {
  return adoptedTables(cfg.data.existingVpc, cfg.dataPlan.subnetCidrs, vpc.routeTableIds);
}

/**
 * The Transit Gateway routes the kit needs in adopted route tables, per role (plain, before deploy):
 * the egress VPC's tables to the data VPC, the data VPC's tables to the egress VPC. Empty for a
 * VPC the kit creates (it owns those tables) and when the TGW is off.
 */
export function tgwRoutesToAdd(cfg: EnvConfig): { network: RouteToAdd[]; data: RouteToAdd[] } {
  const plan = cfg.tgw;
  if (!plan) return { network: [], data: [] };
  const target = `transit gateway ${cfg.transitGateway.existing?.id ?? NAME}`;
  const routes = (tables: string[], destinations: string[]) =>
    [...new Set(tables)].flatMap((t) => destinations.map((d) => ({ routeTableId: t, destination: d, target })));
  const net = cfg.network.existingVpc;
  const data = cfg.data.existingVpc;
  const ownerCidrs = cfg.roles.includes("network")
    ? plan.owner.cidrBlocks
    : [`the vpcCidr of stack ${cfg.upstream.network}`];
  return {
    network: net
      ? routes(
          adoptedTableLabels({ ...net, privateSubnetCidrs: cfg.networkPlan.privateSubnetCidrs }),
          plan.peers.flatMap((p) => p.cidrBlocks),
        )
      : [],
    data: data ? routes(adoptedTableLabels({ ...data, privateSubnetCidrs: cfg.dataPlan.subnetCidrs }), ownerCidrs) : [],
  };
}

/** Fails with the stack to fix when an upstream output the TGW needs is empty. */
function required(value: pulumi.Output<string>, what: string, where: string, fix: string): pulumi.Output<string> {
  return value.apply((v) => {
    if (!v) throw new Error(`${where} exports no ${what}. Fix: ${fix}`);
    return String(v);
  });
}

function networkSource(cfg: EnvConfig): string {
  return cfg.roles.includes("network") ? "the network role" : `stack ${cfg.upstream.network}`;
}

/**
 * Account B (data role): accept the share when it comes by invitation, attach the data VPC once the
 * share is usable, route the data route table to the egress VPC through the TGW. `network` is the
 * network role's outputs, produced in this stack or read from the network stack by StackReference.
 */
export function tgwPeerSide(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: TgwNetworkView | undefined,
  vpc: PrivateVpc,
): { tgwAttachmentId: pulumi.Output<string> } {
  const plan = cfg.tgw;
  if (!plan || !network) return { tgwAttachmentId: pulumi.output("") };
  const where = networkSource(cfg);
  const fix = `set ${P}:transitGateway.enabled to true in the network stack and deploy it first (network → data → apps)`;
  const peer = new TgwPeer(
    `${PEER_VPC}-${NAME}`,
    {
      transitGatewayId: required(network.transitGatewayId, "Transit Gateway (transitGatewayId)", where, fix),
      shareArn: plan.acceptShare
        ? (cfg.transitGateway.existing?.shareArn ??
          required(network.tgwShareArn, "RAM share (tgwShareArn)", where, fix))
        : undefined,
      existingAttachmentId: cfg.transitGateway.existingAttachments[PEER_VPC],
      acceptShare: plan.acceptShare,
      vpcId: vpc.vpcId,
      cidrBlocks: [vpc.cidrBlock],
      vpcName: PEER_VPC,
      subnetIds: attachmentSubnets(
        cfg,
        provider,
        PEER_VPC,
        vpc.vpcId,
        vpcZones(vpc, cfg.dataAzs, provider, `${P}:data.availabilityZones`),
        vpc.subnetIds,
        vpc,
      ),
      routeTableIds: dataRouteTables(cfg, vpc),
      ownerCidrBlocks: [network.vpcCidr],
      ownerName: OWNER_VPC,
      segments: segmentsOf(cfg),
      // An existing TGW of account B's own, associated explicitly (by account A, which then is B): no defaults.
      defaultRouteTables:
        cfg.transitGateway.existing?.routeTableIds[PEER_VPC] && ownsExisting(cfg, "a") && ownsExisting(cfg, "b")
          ? false
          : undefined,
      // Under the data VPC: the attachment and its routes belong to that VPC, in account B.
    },
    { provider, parent: vpc },
  );
  noteOwnerActions(cfg, provider, "b", PEER_VPC, peer.attachmentId);
  return { tgwAttachmentId: peer.attachmentId };
}

/**
 * Explicit route table mode only, in account A: associate the data VPC's attachment with the TGW
 * route table and propagate its CIDR there. Only the TGW's owner may manage its route tables, so
 * this runs in the combined stack, or in split mode in the apps stack (account A, after data).
 */
export function tgwAdmitPeer(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: Pick<NetworkOutputs, "tgwRouteTableId">,
  data: Pick<DataOutputs, "tgwAttachmentId">,
): void {
  if (!cfg.tgw) return;
  const dataWhere = cfg.roles.includes("data") ? "the data role" : `stack ${cfg.upstream.data}`;
  const peerAttachmentId = () =>
    required(
      data.tgwAttachmentId,
      "TGW attachment (tgwAttachmentId)",
      dataWhere,
      `enable ${P}:transitGateway there and deploy it first`,
    );
  const existing = cfg.transitGateway.existing;
  if (existing) {
    const rtb = existing.routeTableIds[PEER_VPC];
    // Account A associates only in a TGW it owns; a network account's TGW: tgwOwnerActions.
    if (rtb && ownsExisting(cfg, "a"))
      tgwRouteTableMembership(
        `${NAME}-${PEER_VPC}`,
        {
          transitGatewayRouteTableId: rtb,
          transitGatewayAttachmentId: peerAttachmentId(),
        },
        { provider },
      );
    return;
  }
  if (cfg.tgw.defaultRouteTables) return;
  const segments = segmentsOf(cfg);
  if (segments.routeTables.length > 0) {
    const ids = required(
      network.tgwRouteTableId,
      "TGW route tables (tgwRouteTableId)",
      networkSource(cfg),
      `set the same ${P}:transitGateway.routeTables there and deploy it`,
    );
    const tableIds: Record<string, pulumi.Output<string>> = {};
    for (const t of segments.routeTables) {
      tableIds[t.name] = ids.apply((text) => {
        const id = text.startsWith("{") ? (JSON.parse(text) as Record<string, string>)[t.name] : undefined;
        if (!id)
          throw new Error(
            `${networkSource(cfg)} exports no Transit Gateway route table "${t.name}". Fix: set the same ${P}:transitGateway.routeTables there and deploy it`,
          );
        return id;
      });
    }
    const attachmentId = required(
      data.tgwAttachmentId,
      "TGW attachment (tgwAttachmentId)",
      dataWhere,
      `enable ${P}:transitGateway there and deploy it first`,
    );
    tgwSegmentMembership(NAME, segments, tableIds, PEER_VPC, attachmentId, { provider });
    return;
  }
  tgwRouteTableMembership(
    `${NAME}-${PEER_VPC}`,
    {
      transitGatewayRouteTableId: required(
        network.tgwRouteTableId,
        "TGW route table (tgwRouteTableId)",
        networkSource(cfg),
        `set ${P}:transitGateway.defaultRouteTableAssociation/Propagation to false there too and deploy it`,
      ),
      transitGatewayAttachmentId: peerAttachmentId(),
    },
    { provider },
  );
}

/**
 * Whether account `side` owns the existing Transit Gateway: `existing.ownerId` unset means account A's (the
 * kit then associates and accepts with account A's provider, as before).
 */
function ownsExisting(cfg: Pick<EnvConfigInput, "transitGateway" | "accounts">, side: "a" | "b"): boolean {
  const owner = cfg.transitGateway.existing?.ownerId;
  if (owner === undefined) return side === "a" || accountIdOf(cfg.accounts.b) === accountIdOf(cfg.accounts.a);
  return accountIdOf(cfg.accounts[side]) === owner;
}

/** Something only the existing Transit Gateway's owner can do for an attachment of the kit (stack output tgwOwnerActions). */
export interface TgwOwnerAction {
  /** accept: AcceptTransitGatewayVpcAttachment; associate / propagate: with or to the route table. */
  action: "accept" | "associate" | "propagate";
  /** The attachment (egress or data) and its id. */
  attachment: string;
  transitGatewayAttachmentId: string;
  transitGatewayRouteTableId?: string;
  why: string;
}

export interface TgwOwnerActions {
  managedByKit: false;
  /** The account that must act (the Transit Gateway's owner, a network account). */
  ownerId: string;
  transitGatewayId: string;
  actions: TgwOwnerAction[];
}

const pendingOwnerActions = new WeakMap<EnvConfig, pulumi.Output<TgwOwnerAction[]>[]>();

/**
 * For an existing TGW owned by another account (`existing.ownerId`): reads it with the attaching account's
 * provider (a RAM-shared TGW is visible there), requires the owner the config states, and notes what its owner
 * must do for this attachment: accept it when the TGW does not auto-accept shared attachments (a new attachment
 * only), associate and propagate it when `existing.routeTableIds` names a table (the kit has no provider there).
 */
function noteOwnerActions(
  cfg: EnvConfig,
  provider: aws.Provider,
  side: "a" | "b",
  attachment: string,
  attachmentId: pulumi.Output<string>,
): void {
  const existing = cfg.transitGateway.existing;
  if (!existing?.ownerId) return;
  const ownerId = existing.ownerId;
  const tgw = aws.ec2transitgateway.getTransitGatewayOutput({ id: existing.id }, { provider });
  const isNew = cfg.transitGateway.existingAttachments[attachment] === undefined;
  const rtb = existing.routeTableIds[attachment];
  const actions = pulumi.all([tgw, attachmentId]).apply(([t, id]) => {
    if (t.ownerId !== ownerId)
      throw new ConfigError(
        `${P}:transitGateway.existing.ownerId`,
        `states ${ownerId}, but getTransitGateway(${existing.id}) answers ownerId ${t.ownerId}`,
        `set it to ${t.ownerId}`,
      );
    const out: TgwOwnerAction[] = [];
    const cross = !ownsExisting(cfg, side);
    if (cross && isNew && t.autoAcceptSharedAttachments !== "enable")
      out.push({
        action: "accept",
        attachment,
        transitGatewayAttachmentId: id,
        why: `${existing.id} does not auto-accept shared attachments; the attachment from account ${accountIdOf(cfg.accounts[side])} stays pendingAcceptance until account ${ownerId} accepts it`,
      });
    if (rtb && !ownsExisting(cfg, "a"))
      for (const action of ["associate", "propagate"] as const)
        out.push({
          action,
          attachment,
          transitGatewayAttachmentId: id,
          transitGatewayRouteTableId: rtb,
          why: `only the Transit Gateway's owner (account ${ownerId}) manages its route tables (transitGateway.existing.routeTableIds.${attachment})`,
        });
    return out;
  });
  const list = pendingOwnerActions.get(cfg) ?? [];
  list.push(actions);
  pendingOwnerActions.set(cfg, list);
}

/** The stack output tgwOwnerActions: undefined unless the existing TGW is another account's. */
export function tgwOwnerActions(cfg: EnvConfig): pulumi.Output<TgwOwnerActions> | undefined {
  const existing = cfg.transitGateway.existing;
  const lists = pendingOwnerActions.get(cfg);
  if (!existing?.ownerId || !lists) return undefined;
  return pulumi.all(lists).apply((all) => ({
    managedByKit: false as const,
    ownerId: existing.ownerId as string,
    transitGatewayId: existing.id,
    actions: all.flat(),
  }));
}

/** docs/designs.md §3's Transit Gateway: owner side in the network role, attachment in the data role. */
export const tgwFeature: Feature = {
  name: "tgw",
  configErrors({ cfg, failed, plans, region }) {
    if (failed.has("transitGateway") || failed.has("accounts")) return [];
    const errors: ConfigError[] = [];
    plans.tgw = collectConfigErrors(errors, () =>
      planTgwConfig(cfg, plans.network?.cidrBlock, plans.data?.cidrBlock, region),
    );
    return errors;
  },
  network: ({ cfg, provider, vpc }) => tgwOwnerSide(cfg, provider, vpc),
  data: ({ cfg, provider, network, vpc }) => tgwPeerSide(cfg, provider, network, vpc),
};
