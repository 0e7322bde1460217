/**
 * Transit Gateway: which route table an attachment is associated with (explicit association, else
 * the gateway's default table unless disabled on the gateway or the attachment/accepter), the
 * routes in it (static routes, and the VPC CIDRs propagated into it; a static route wins over a
 * propagated one of the same length), the zones an attachment serves (traffic enters and leaves
 * only through an attachment's subnets' zones), and whether a cross-account attachment can be used
 * at all (RAM share naming the account or its organization, accepted outside an organization, and
 * the attachment accepted unless the gateway auto-accepts). Sources: AWS docs, "Transit gateway
 * route tables" and "Share your transit gateway".
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { asBool, Cidr, cidrContains, cidrOf } from "../model/values";

const usableCache = new WeakMap<GraphModel, Map<string, string | undefined>>();
const attachmentsCache = new WeakMap<GraphModel, Map<string, Res[]>>();
const zonesCache = new WeakMap<GraphModel, Map<string, Set<string>>>();

export function tgwAttachments(ix: GraphModel, tgw: Res): Res[] {
  let perGraph = attachmentsCache.get(ix);
  if (!perGraph) attachmentsCache.set(ix, (perGraph = new Map()));
  let list = perGraph.get(tgw.id);
  if (!list) perGraph.set(tgw.id, (list = ix.all(T.tgwAttachment).filter((a) => a.inputs.transitGatewayId === tgw.id)));
  return list;
}

/** Zones an attachment has a subnet in: traffic enters and leaves the Transit Gateway only there. */
export function attachmentZones(ix: GraphModel, att: Res): Set<string> {
  let perGraph = zonesCache.get(ix);
  if (!perGraph) zonesCache.set(ix, (perGraph = new Map()));
  let zones = perGraph.get(att.id);
  if (!zones)
    perGraph.set(
      att.id,
      (zones = new Set(
        ix
          .subnetIdsOf(att)
          .map((id) => ix.subnet(id))
          .filter((s): s is Res => !!s)
          .map((s) => ix.az(s)),
      )),
    );
  return zones;
}

export interface TgwTable {
  id: string;
  name: string;
  isDefault: boolean;
  /** For sentences: "the default route table of transit gateway x" / "transit gateway route table y". */ label: string;
}

export function tgwAccepterOf(ix: GraphModel, att: Res): Res | undefined {
  return ix.all(T.tgwAttachmentAccepter).find((a) => a.inputs.transitGatewayAttachmentId === att.id);
}

/** An attachment by its id, or by its accepter's id (the accepter stands for the attachment in the owner's account). */
function attachmentById(ix: GraphModel, id: unknown): Res | undefined {
  const att = ix.byId(id, T.tgwAttachment);
  if (att) return att;
  const acc = ix.byId(id, T.tgwAttachmentAccepter);
  return acc ? ix.byId(acc.inputs.transitGatewayAttachmentId, T.tgwAttachment) : undefined;
}

/** Option on the accepter (owner side) when there is one, else on the attachment; AWS defaults it on. */
function attachmentOption(ix: GraphModel, att: Res, key: string): boolean {
  const acc = tgwAccepterOf(ix, att);
  if (acc && acc.inputs[key] !== undefined) return asBool(acc.inputs[key], true);
  return asBool(att.inputs[key], true);
}

export function tgwRouteTableOf(ix: GraphModel, att: Res, tgw: Res): TgwTable | undefined {
  const accId = tgwAccepterOf(ix, att)?.id;
  const explicit = ix
    .all(T.tgwRtAssociation)
    .find(
      (a) => a.inputs.transitGatewayAttachmentId === att.id || (accId && a.inputs.transitGatewayAttachmentId === accId),
    );
  if (explicit) {
    const rt = ix.byId(explicit.inputs.transitGatewayRouteTableId, T.tgwRouteTable);
    return rt ? namedTable(rt, tgw) : defaultTgwTable(tgw);
  }
  // An adopted attachment's associations are the inventory's, listed explicitly: no default applies to it.
  if (att.existing) return undefined;
  if (tgw.inputs.defaultRouteTableAssociation === "disable") return undefined;
  if (!attachmentOption(ix, att, "transitGatewayDefaultRouteTableAssociation")) return undefined;
  const named = ix.byId(tgw.inputs.associationDefaultRouteTableId, T.tgwRouteTable);
  return named ? namedTable(named, tgw) : defaultTgwTable(tgw);
}

/** A real table; labelled as the default when getTransitGateway names it so (an existing TGW's default tables). */
function namedTable(rt: Res, tgw: Res): TgwTable {
  const uses = (["association", "propagation"] as const).filter(
    (u) =>
      tgw.inputs[`${u}DefaultRouteTableId`] === rt.id &&
      tgw.inputs[`defaultRouteTable${u[0].toUpperCase()}${u.slice(1)}`] === "enable",
  );
  const note = uses.length > 0 ? ` (the default ${uses.join(" and ")} table of transit gateway ${tgw.name})` : "";
  return { id: rt.id, name: rt.name, isDefault: false, label: `transit gateway route table ${rt.name}${note}` };
}

/** Whether a new attachment propagates into `rt` by the gateway's default (the default table, or the one getTransitGateway names). */
function propagatesByDefault(ix: GraphModel, att: Res, rt: TgwTable, tgw: Res): boolean {
  if (att.existing || tgw.inputs.defaultRouteTablePropagation === "disable") return false;
  const named = ix.byId(tgw.inputs.propagationDefaultRouteTableId, T.tgwRouteTable);
  if (named ? rt.id !== named.id : !rt.isDefault) return false;
  return attachmentOption(ix, att, "transitGatewayDefaultRouteTablePropagation");
}

function defaultTgwTable(tgw: Res): TgwTable {
  return {
    id: `default:${tgw.id}`,
    name: "default",
    isDefault: true,
    label: `the default route table of transit gateway ${tgw.name}`,
  };
}

export interface TgwMatch {
  dest: Cidr;
  destText: string;
  attachment?: Res;
  blackhole: boolean;
  propagated: boolean;
  /** The static route resource; undefined when propagated. */ route?: Res;
}

const tgwRouteCache = new WeakMap<GraphModel, Map<string, TgwMatch[]>>();

export function tgwLookup(ix: GraphModel, rt: TgwTable, tgw: Res, dest: Cidr): TgwMatch | undefined {
  let perGraph = tgwRouteCache.get(ix);
  if (!perGraph) tgwRouteCache.set(ix, (perGraph = new Map()));
  let routes = perGraph.get(`${tgw.id}|${rt.id}`);
  if (!routes) perGraph.set(`${tgw.id}|${rt.id}`, (routes = tgwRoutes(ix, rt, tgw)));
  let best: TgwMatch | undefined;
  for (const r of routes) {
    if (!cidrContains(r.dest, dest)) continue;
    // Static routes win over propagated ones of the same length.
    if (
      !best ||
      r.dest.prefix > best.dest.prefix ||
      (r.dest.prefix === best.dest.prefix && best.propagated && !r.propagated)
    )
      best = r;
  }
  return best;
}

/** Static routes of a Transit Gateway route table, and the VPC CIDRs propagated into it. */
function tgwRoutes(ix: GraphModel, rt: TgwTable, tgw: Res): TgwMatch[] {
  const routes: TgwMatch[] = [];
  const tgwCount = ix.all(T.tgw).length;
  for (const r of ix.all(T.tgwRoute)) {
    const tableId = r.inputs.transitGatewayRouteTableId;
    const inTable = tableId === rt.id || (rt.isDefault && !ix.byId(tableId, T.tgwRouteTable) && tgwCount === 1);
    if (!inTable) continue;
    const c = cidrOf(r.inputs.destinationCidrBlock);
    if (!c) continue;
    routes.push({
      dest: c,
      destText: c.text,
      attachment: attachmentById(ix, r.inputs.transitGatewayAttachmentId),
      blackhole: asBool(r.inputs.blackhole, false),
      propagated: false,
      route: r,
    });
  }
  for (const att of tgwAttachments(ix, tgw)) {
    const accId = tgwAccepterOf(ix, att)?.id;
    const explicit = ix
      .all(T.tgwRtPropagation)
      .some(
        (p) =>
          (p.inputs.transitGatewayAttachmentId === att.id ||
            (accId && p.inputs.transitGatewayAttachmentId === accId)) &&
          (p.inputs.transitGatewayRouteTableId === rt.id ||
            (rt.isDefault && !ix.byId(p.inputs.transitGatewayRouteTableId, T.tgwRouteTable))),
      );
    const byDefault = propagatesByDefault(ix, att, rt, tgw);
    if (!explicit && !byDefault) continue;
    for (const c of ix.vpcCidrs(String(att.inputs.vpcId ?? "")))
      routes.push({ dest: c, destText: c.text, attachment: att, blackhole: false, propagated: true });
  }
  return routes;
}

/**
 * Why a cross-account attachment cannot use the gateway, in one sentence (the RAM share and its
 * acceptance, the attachment's acceptance); undefined when it can. Cached per model.
 */
export function attachmentProblem(ix: GraphModel, att: Res, tgw: Res): string | undefined {
  let perGraph = usableCache.get(ix);
  if (!perGraph) usableCache.set(ix, (perGraph = new Map()));
  const key = `${att.id}|${tgw.id}`;
  if (!perGraph.has(key)) perGraph.set(key, attachmentProblemUncached(ix, att, tgw));
  return perGraph.get(key);
}

function attachmentProblemUncached(ix: GraphModel, att: Res, tgw: Res): string | undefined {
  const tgwAccount = ix.accountOf(tgw);
  const attAccount = ix.accountOf(att);
  if (!tgwAccount || !attAccount || tgwAccount === attAccount) return undefined;
  const shares = ix
    .all(T.ramResource)
    .filter((a) => ix.resolve(a.inputs.resourceArn, [T.tgw]) === tgw)
    .map((a) => ({
      arn: String(a.inputs.resourceShareArn),
      share: ix.resolve(a.inputs.resourceShareArn, [T.ramShare]),
    }));
  const needs = `account ${tgwAccount} (the Transit Gateway's owner) must share ${tgw.id} through RAM with account ${attAccount}, or with an organization or OU that contains it`;
  if (shares.length === 0)
    return `transit gateway ${tgw.name} (account ${tgwAccount}) is not shared through RAM, so account ${attAccount} cannot attach to it with ${att.name}; ${needs}`;
  const principalsOf = (share: Res | undefined) =>
    ix.all(T.ramPrincipal).filter((p) => share && ix.resolve(p.inputs.resourceShareArn, [T.ramShare]) === share);
  // An organization or OU principal covers the account when the graph says it is a member (an adopted share's
  // organization, from the inventory); a share the kit creates names whatever config gave it.
  const covers = (p: Res) => {
    const principal = String(p.inputs.principal ?? "");
    if (principal === attAccount) return true;
    if (!/^arn:aws[a-z-]*:organizations::/.test(principal)) return false;
    const members = p.inputs.memberAccountIds;
    return Array.isArray(members) ? members.includes(attAccount) : true;
  };
  const covering = shares.filter((s) => principalsOf(s.share).some(covers));
  if (covering.length === 0) {
    const names = shares
      .map(
        (s) =>
          `${s.share ? s.share.name : s.arn} (${
            principalsOf(s.share)
              .map((p) => String(p.inputs.principal))
              .join(", ") || "no principals"
          })`,
      )
      .join("; ");
    return `no RAM share of transit gateway ${tgw.name} covers account ${attAccount} (shares: ${names}), so attachment ${att.name} cannot use it; ${needs}`;
  }
  const active = covering.filter((s) => s.share && (s.share.inputs.status ?? "ACTIVE") === "ACTIVE");
  if (active.length === 0)
    return `RAM share ${covering.map((s) => (s.share ? s.share.name : s.arn)).join(", ")} of transit gateway ${tgw.name} is not ACTIVE, so attachment ${att.name} cannot use it`;
  const { share } = active[0];
  const shareName = share ? share.name : active[0].arn;
  const viaOrg = principalsOf(share).some((p) => covers(p) && String(p.inputs.principal) !== attAccount);
  if (!viaOrg && share && asBool(share.inputs.allowExternalPrincipals, false)) {
    const accepted = ix
      .all(T.ramAccepter)
      .some(
        (a) => ix.resolve(a.inputs.shareArn, [T.ramShare]) === share && (ix.accountOf(a) ?? attAccount) === attAccount,
      );
    if (!accepted)
      return `RAM share ${shareName} is offered to account ${attAccount} outside the organization and nothing accepts it (no aws:ram/resourceShareAccepter in that account), so attachment ${att.name} cannot use transit gateway ${tgw.name}`;
  }
  // An adopted attachment exists, so it was accepted; a new one waits for the owner unless the gateway auto-accepts.
  const auto = tgw.inputs.autoAcceptSharedAttachments === "enable";
  if (!auto && !att.existing && !tgwAccepterOf(ix, att))
    return `transit gateway ${tgw.name} does not auto-accept shared attachments and no VpcAttachmentAccepter accepts ${att.name}${tgw.existing ? `: account ${tgwAccount} must accept it (the stack output tgwOwnerActions lists it)` : ""}`;
  return undefined;
}

/** An attachment's name for segmentation (its vlk:attachment tag), if the kit tagged it. */
function segmentName(att: Res): string | undefined {
  const tags = att.inputs.tags as Record<string, unknown> | undefined;
  const v = tags?.["vlk:attachment"];
  return typeof v === "string" ? v : undefined;
}

export interface IsolationVerdict {
  from: Res;
  to: Res;
  fromName: string;
  toName: string;
  open: boolean;
  detail: string;
}

/**
 * Isolated pairs (the vlk:isolated-from tag on an attachment, written from transitGateway.isolate):
 * for each direction, the route table associated with the source attachment must send none of the
 * other attachment's VPC CIDRs to it (no route, or a blackhole). One verdict per direction.
 */
export function tgwIsolation(ix: GraphModel): IsolationVerdict[] {
  const out: IsolationVerdict[] = [];
  for (const tgw of ix.all(T.tgw)) {
    const atts = tgwAttachments(ix, tgw);
    for (const from of atts) {
      const fromName = segmentName(from);
      const tags = from.inputs.tags as Record<string, unknown> | undefined;
      const others =
        typeof tags?.["vlk:isolated-from"] === "string"
          ? String(tags["vlk:isolated-from"]).split(/\s+/).filter(Boolean)
          : [];
      for (const toName of others) {
        const to = atts.find((a) => segmentName(a) === toName);
        if (!fromName || !to) continue;
        const base = { from, to, fromName, toName };
        const rt = tgwRouteTableOf(ix, from, tgw);
        if (!rt) {
          out.push({
            ...base,
            open: false,
            detail: `attachment ${from.name} is associated with no transit gateway route table`,
          });
          continue;
        }
        const cidrs = ix.vpcCidrs(String(to.inputs.vpcId ?? ""));
        const reasons: string[] = [];
        let leak: string | undefined;
        for (const c of cidrs) {
          const m = tgwLookup(ix, rt, tgw, c);
          if (m && !m.blackhole && m.attachment === to) {
            leak = `${rt.label} sends ${c.text} to attachment ${to.name} (${m.propagated ? "propagated" : `static route ${m.route?.name}`})`;
            break;
          }
          if (!m) reasons.push(`${rt.label} has no route to ${c.text}`);
          else if (m.blackhole) reasons.push(`${rt.label} blackholes ${c.text} (route ${m.route?.name})`);
          else reasons.push(`${rt.label} sends ${c.text} to attachment ${m.attachment?.name ?? "unknown"}`);
        }
        out.push(
          leak
            ? {
                ...base,
                open: true,
                detail: `attachment ${from.name} (${fromName}) must not reach ${to.name} (${toName}), but ${leak}`,
              }
            : { ...base, open: false, detail: reasons.join("; ") || `VPC of ${to.name} has no CIDR in the graph` },
        );
      }
    }
  }
  return out;
}
