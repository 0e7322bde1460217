/**
 * An SVG of a synthesized stack: accounts (one per provider) → VPCs → subnets, with the internet
 * and NAT gateways, endpoints, functions, load balancers and proxy instances, the Transit Gateway,
 * databases and APIs, and every analysed flow as a chain of edges (proven green, broken red).
 * Graphviz runs in process, compiled to WebAssembly (@viz-js/viz): no binary to install.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Viz } from "@viz-js/viz";
import { writeCacheFile } from "../cache-file";
import type { Graph } from "../synth-core";
import { GraphModel, Res } from "./model/graph";
import { T } from "./model/types";
import { declaredRouteTableOf, declaredRoutesOf } from "./eval/routes";

/**
 * What the diagram needs of an analysed flow: the fields of ops/check/flows.ts's FlowResult it
 * draws (that type, with its extra fields, is assignable to this one).
 */
export interface FlowResult {
  fn: string;
  flow: string;
  status: "OK" | "BROKEN";
  /** Hops: resource names, or sentences that name them, ending at the destination. */
  path: string[];
  egressIps?: string[];
  reason?: string;
}

export const FLOW_OK_COLOR = "#2e7d32";
export const FLOW_BROKEN_COLOR = "#c62828";
/** Resources the stack reads but does not create (adopted from a landing zone, or built by awsx): dashed grey. */
export const EXISTING_COLOR = "#9e9e9e";

/** "existing", or who built it ("awsx"), for a resource the stack does not create; undefined for its own. */
export function existingLabel(r: { existing?: boolean; origin?: string }): string | undefined {
  if (r.existing !== true) return undefined;
  return r.origin === "awsx" ? "built by awsx" : "existing";
}

interface Kind {
  match: RegExp;
  /** Prefix in the node label. */
  label: string;
  shape: string;
  fill: string;
}

/** What the diagram draws, and how; resources of other types appear only when a flow passes them. */
const KINDS: Kind[] = [
  { match: /^aws:ec2\/internetGateway:/, label: "IGW", shape: "box", fill: "#fff3e0" },
  { match: /^aws:ec2\/natGateway:/, label: "NAT", shape: "box", fill: "#ffe0b2" },
  { match: /^aws:ec2\/vpcEndpoint:/, label: "endpoint", shape: "box", fill: "#e1f5fe" },
  { match: /^aws:lambda\/function:/, label: "λ", shape: "box", fill: "#ede7f6" },
  { match: /^aws:(elb|lb|alb)\/loadBalancer:/, label: "LB", shape: "box", fill: "#e8f5e9" },
  { match: /^aws:lb\/targetGroup:/, label: "target group", shape: "box", fill: "#e8f5e9" },
  { match: /^aws:autoscaling\/group:/, label: "proxies", shape: "box3d", fill: "#e8f5e9" },
  { match: /^aws:ec2\/instance:/, label: "EC2", shape: "box3d", fill: "#e8f5e9" },
  { match: /^aws:ec2transitgateway\/transitGateway:/, label: "TGW", shape: "hexagon", fill: "#fce4ec" },
  { match: /^aws:rds\/(cluster|instance|proxy):/, label: "DB", shape: "cylinder", fill: "#e0f2f1" },
  { match: /^aws:apigateway\/restApi:/, label: "API", shape: "box", fill: "#fffde7" },
];

const ATTACHMENT = /^aws:ec2transitgateway\/vpcAttachment:/;
/** Account cluster of resources created with the default provider. */
const DEFAULT_ACCOUNT = "default";

let vizPromise: Promise<Viz> | undefined;

/** Where `npm run synth|check` keep rendered diagrams (see renderDiagram); VLK_DIAGRAM_CACHE=off turns it off. */
export function defaultDiagramCache(): string | undefined {
  return process.env.VLK_DIAGRAM_CACHE === "off"
    ? undefined
    : path.resolve(__dirname, "..", "..", "out", "diagram-cache");
}

/**
 * Renders the stack and its flows as SVG text. With `cacheDir`, the SVG is kept there under a hash of the
 * Graphviz source and of @viz-js/viz's version, and read back when both are unchanged: Graphviz (WebAssembly
 * compile plus layout) was the largest single part of a check of an unchanged stack. Same input, same SVG, so
 * the cache can never be stale; a missing or unwritable directory only means rendering anew.
 */
export async function renderDiagram(
  graph: Graph,
  flows: FlowResult[],
  opts: { cacheDir?: string } = {},
): Promise<string> {
  const dot = toDot(graph, flows);
  const file = opts.cacheDir && path.join(opts.cacheDir, `${diagramKey(dot)}.svg`);
  if (file) {
    try {
      return fs.readFileSync(file, "utf8");
    } catch {
      // not rendered yet
    }
  }
  vizPromise ??= import("@viz-js/viz").then((v) => v.instance());
  const viz = await vizPromise;
  const svg = viz.renderString(dot, { format: "svg", engine: "dot" });
  if (file) writeCacheFile(file, svg);
  return svg;
}

let vizVersion: string | undefined;

function diagramKey(dot: string): string {
  // The package exports no package.json; it sits one level above the entry point (dist/viz.cjs).
  const manifest = path.join(path.dirname(require.resolve("@viz-js/viz")), "..", "package.json");
  vizVersion ??= (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
  return crypto.createHash("sha256").update(`viz ${vizVersion} dot svg\0`).update(dot).digest("hex");
}

/** The Graphviz source renderDiagram draws. */
export function toDot(graph: Graph, flows: FlowResult[]): string {
  const m = GraphModel.of(graph);
  const d = new DotBuilder(m);
  return d.build(graph, flows);
}

interface Placement {
  account?: string;
  vpc?: string;
  subnet?: string;
}

class DotBuilder {
  private readonly ids = new Map<string, string>();
  private readonly nodeLines = new Map<string, string>();
  /** Cluster key ("account", "vpc", "subnet", "top") → node ids placed there. */
  private readonly placed = new Map<string, string[]>();
  private readonly edges: string[] = [];
  private readonly byName = new Map<string, Res>();
  private readonly byId = new Map<string, Res>();
  /** Node ids of existing resources: flow edges into them are dashed. */
  private readonly existingNodes = new Set<string>();
  private next = 0;

  constructor(private readonly m: GraphModel) {
    for (const r of m.resources) {
      if (!this.byName.has(r.name)) this.byName.set(r.name, r);
      if (r.id && !this.byId.has(r.id)) this.byId.set(r.id, r);
    }
  }

  build(graph: Graph, flows: FlowResult[]): string {
    const m = this.m;
    const vpcs = m.all(T.vpc);
    const subnets = m.all(T.subnet);
    // Anchors make every VPC and subnet cluster render, even with nothing else inside.
    for (const vpc of vpcs)
      this.node(
        `anchor:${vpc.urn}`,
        { account: vpc.provider ?? DEFAULT_ACCOUNT, vpc: vpc.urn },
        `shape=point, style=invis, width=0.01`,
      );
    for (const s of subnets) {
      const vpc = m.ref(s, "vpcId", s.inputs.vpcId, [T.vpc]);
      this.node(
        `anchor:${s.urn}`,
        { account: s.provider ?? vpc?.provider ?? DEFAULT_ACCOUNT, vpc: vpc?.urn, subnet: s.urn },
        `shape=point, style=invis, width=0.01`,
      );
    }
    for (const r of m.resources) {
      const kind = KINDS.find((k) => k.match.test(r.type));
      if (kind) this.resourceNode(r, kind);
    }
    for (const att of m.all(ATTACHMENT)) {
      const vpc = m.ref(att, "vpcId", att.inputs.vpcId, [T.vpc]);
      const tgw = m.ref(att, "transitGatewayId", att.inputs.transitGatewayId, [T.tgw]);
      const tgwNode = tgw ? this.ids.get(tgw.urn) : this.external(`TGW ${String(att.inputs.transitGatewayId)}`);
      if (vpc && tgwNode)
        this.edges.push(
          `${this.ids.get(`anchor:${vpc.urn}`)} -> ${tgwNode} [ltail="${this.clusterId("vpc", vpc.urn)}", arrowhead=none, style=dashed, color="#880e4f", label="${esc(att.name)}", fontcolor="#880e4f"]`,
        );
    }
    flows.forEach((f, i) => this.flowEdges(f, i));

    const L: string[] = [];
    L.push("digraph vpc_lambda_kit {");
    L.push(
      `  graph [rankdir=LR, compound=true, newrank=true, fontname="Helvetica", fontsize=11, labelloc=t, label="${esc(`vpc-lambda-kit · ${graph.stack} · flows: green proven, red broken${m.resources.some((r) => r.existing === true) ? " · dashed grey: existing (not created by this stack)" : ""}`)}", nodesep=0.25, ranksep=0.6];`,
    );
    L.push(
      `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=9, margin="0.08,0.04"];`,
    );
    L.push(`  edge [fontname="Helvetica", fontsize=8, color="#607d8b"];`);
    for (const line of this.cluster("top", undefined)) L.push(`  ${line}`);
    const accounts = [
      ...new Set(
        [...this.placed.keys()].filter((k) => k.startsWith("account|")).map((k) => k.slice("account|".length)),
      ),
    ];
    for (const acct of accounts) L.push(...this.accountCluster(acct).map((l) => `  ${l}`));
    for (const e of this.edges) L.push(`  ${e};`);
    L.push("}");
    return L.join("\n") + "\n";
  }

  private accountCluster(acct: string): string[] {
    const provider = this.m.byUrn(acct);
    const L: string[] = [];
    L.push(`subgraph "${this.clusterId("account", acct)}" {`);
    L.push(`  label="${esc(accountLabel(provider, acct))}"; style="rounded"; color="#455a64"; fontsize=10;`);
    L.push(...this.cluster("account", acct).map((l) => `  ${l}`));
    for (const vpc of this.vpcsOfAccount(acct)) {
      L.push(`  subgraph "${this.clusterId("vpc", vpc.urn)}" {`);
      const vpcExisting = existingLabel(vpc);
      L.push(
        vpcExisting
          ? `    label="${esc(`VPC ${vpc.name} (${vpcExisting})\n${String(vpc.inputs.cidrBlock ?? "")}`)}"; style="rounded,filled,dashed"; fillcolor="#fafafa"; color="${EXISTING_COLOR}"; fontcolor="#616161";`
          : `    label="${esc(`VPC ${vpc.name}\n${String(vpc.inputs.cidrBlock ?? "")}`)}"; style="rounded,filled"; fillcolor="#f5f9ff"; color="#1565c0";`,
      );
      L.push(...this.cluster("vpc", vpc.urn).map((l) => `    ${l}`));
      const subnetsByVpc = this.m.referrers(T.subnet, [T.vpc], (x) => ["vpcId", x.inputs.vpcId], "vpcId", "first");
      for (const s of subnetsByVpc.get(vpc.urn) ?? []) {
        const isPublic = this.subnetIsPublic(s);
        L.push(`    subgraph "${this.clusterId("subnet", s.urn)}" {`);
        const subnetExisting = existingLabel(s);
        L.push(
          `      label="${esc(`subnet ${s.name}\n${String(s.inputs.cidrBlock ?? "")} · ${String(s.inputs.availabilityZone ?? "")} · ${isPublic ? "public" : "private"}${subnetExisting ? ` · ${subnetExisting}` : ""}`)}"; style="${subnetExisting ? "rounded,filled,dashed" : "rounded,filled"}"; fillcolor="${isPublic ? "#fff8e1" : "#eceff1"}"; color="${subnetExisting ? EXISTING_COLOR : "#90a4ae"}";`,
        );
        L.push(...this.cluster("subnet", s.urn).map((l) => `      ${l}`));
        L.push("    }");
      }
      L.push("  }");
    }
    L.push("}");
    return L;
  }

  private vpcsOfAccount(acct: string): Res[] {
    const byAccount = this.m.cached("diagram:vpcsByAccount", () => {
      const out = new Map<string, Res[]>();
      for (const v of this.m.all(T.vpc)) {
        const acct = v.provider ?? DEFAULT_ACCOUNT;
        const list = out.get(acct);
        if (list) list.push(v);
        else out.set(acct, [v]);
      }
      return out;
    });
    return byAccount.get(acct) ?? [];
  }

  private cluster(kind: "top" | "account" | "vpc" | "subnet", key: string | undefined): string[] {
    return (this.placed.get(`${kind}|${key ?? ""}`) ?? []).map((id) => this.nodeLines.get(id) as string);
  }

  private clusterId(kind: string, urn: string): string {
    return `cluster_${kind}_${this.idFor(`${kind}:${urn}`)}`;
  }

  private idFor(key: string): string {
    let id = this.ids.get(key);
    if (!id) {
      id = `n${this.next++}`;
      this.ids.set(key, id);
    }
    return id;
  }

  private node(key: string, where: Placement, attrs: string): string {
    const existing = this.ids.get(key);
    if (existing && this.nodeLines.has(existing)) return existing;
    const id = this.idFor(key);
    this.nodeLines.set(id, `${id} [${attrs}];`);
    const slot = where.subnet
      ? `subnet|${where.subnet}`
      : where.vpc
        ? `vpc|${where.vpc}`
        : where.account
          ? `account|${where.account}`
          : "top|";
    const list = this.placed.get(slot) ?? [];
    list.push(id);
    this.placed.set(slot, list);
    // A node inside a VPC or subnet also needs its account cluster to exist.
    if ((where.vpc || where.subnet) && where.account && !this.placed.has(`account|${where.account}`))
      this.placed.set(`account|${where.account}`, []);
    return id;
  }

  private resourceNode(r: Res, kind: Kind): string {
    const where = this.placement(r);
    const existing = existingLabel(r);
    const id = this.node(
      r.urn,
      where,
      existing
        ? `label="${esc(`${this.label(r, kind)}\n(${existing})`)}", shape=${kind.shape}, style="rounded,filled,dashed", fillcolor="#f5f5f5", color="${EXISTING_COLOR}", fontcolor="#616161", class="existing"`
        : `label="${esc(this.label(r, kind))}", shape=${kind.shape}, fillcolor="${kind.fill}"`,
    );
    if (existing) this.existingNodes.add(id);
    return id;
  }

  private label(r: Res, kind: Kind): string {
    const p = r.inputs;
    switch (kind.label) {
      case "NAT": {
        const eip = this.m.ref(r, "allocationId", p.allocationId, [T.eip]);
        return `NAT ${r.name}${eip ? `\nEIP ${eip.name}` : typeof p.allocationId === "string" ? `\n${p.allocationId}` : ""}`;
      }
      case "endpoint": {
        const service = String(p.serviceName ?? "")
          .split(".")
          .pop();
        return `${p.vpcEndpointType === "Gateway" ? "gateway" : "interface"} endpoint ${service}\n${r.name}`;
      }
      case "λ": {
        const subnets = this.m.refs(r, "vpcConfig", (p.vpcConfig as Record<string, unknown> | undefined)?.subnetIds, [
          T.subnet,
        ]);
        return `λ ${r.name}${subnets.length > 1 ? `\n${subnets.length} subnets: ${subnets.map((s) => s.name).join(", ")}` : ""}`;
      }
      case "proxies": {
        const spec = (p.launchTemplate ?? {}) as Record<string, unknown>;
        const lt = this.m.ref(r, "launchTemplate", spec.id, [T.launchTemplate]);
        return `proxies ${r.name}\n${String(p.desiredCapacity ?? "?")} × ${String(lt?.inputs.instanceType ?? "instance")}`;
      }
      case "LB":
        return `${p.internal === true ? "internal " : ""}${p.loadBalancerType === "network" ? "NLB" : "LB"} ${r.name}`;
      case "target group":
        return `target group ${r.name}\n${String(p.protocol ?? "TCP")} ${String(p.port ?? "?")}${p.proxyProtocolV2 === true ? ", PROXY v2" : ""}`;
      case "DB":
        return `${r.type.includes("proxy") ? "DB proxy" : "DB"} ${r.name}${p.engine ? `\n${String(p.engine)}` : ""}`;
      default:
        return `${kind.label} ${r.name}`;
    }
  }

  /** Subnet, VPC and account a resource sits in, from its own properties. */
  private placement(r: Res): Placement {
    const m = this.m;
    const account = r.provider ?? undefined;
    const subnetProps = ["subnetId", "subnetIds", "subnets", "vpcZoneIdentifiers", "vpcSubnetIds"];
    let subnets: Res[] = [];
    for (const k of subnetProps)
      if (r.inputs[k] !== undefined) subnets = subnets.concat(m.refs(r, k, r.inputs[k], [T.subnet]));
    const vc = r.inputs.vpcConfig as Record<string, unknown> | undefined;
    if (vc?.subnetIds !== undefined) subnets = subnets.concat(m.refs(r, "vpcConfig", vc.subnetIds, [T.subnet]));
    if (r.inputs.dbSubnetGroupName !== undefined) {
      const group = m.ref(r, "dbSubnetGroupName", r.inputs.dbSubnetGroupName, [T.rdsSubnetGroup]);
      if (group) subnets = subnets.concat(m.refs(group, "subnetIds", group.inputs.subnetIds, [T.subnet]));
    }
    const unique = [...new Map(subnets.map((s) => [s.urn, s])).values()];
    const vpc =
      r.inputs.vpcId !== undefined
        ? m.ref(r, "vpcId", r.inputs.vpcId, [T.vpc])
        : unique[0]
          ? m.ref(unique[0], "vpcId", unique[0].inputs.vpcId, [T.vpc])
          : undefined;
    return {
      account: account ?? vpc?.provider ?? DEFAULT_ACCOUNT,
      vpc: vpc?.urn,
      subnet: unique.length === 1 ? unique[0].urn : undefined,
    };
  }

  private subnetIsPublic(s: Res): boolean {
    const table = declaredRouteTableOf(this.m, s);
    return table ? declaredRoutesOf(this.m, table).some((r) => r.toInternetGateway) : false;
  }

  /**
   * The nodes a hop passes, in the order the hop's sentence names them: drawn resources (NAT,
   * internet gateway, endpoints, load balancer, proxies, Transit Gateway, databases, APIs) mentioned
   * by name, then the hop's external destination (the internet host, the AWS service, a network).
   * Hops that name none (DNS, security-group and local-route checks) draw nothing.
   */
  private hopNodes(text: string): string[] {
    const out: string[] = [];
    const tokens = text.split(/[\s(),;→]+/).map((t) => t.replace(/[:.]+$/, ""));
    for (const t of tokens) {
      const r = this.byName.get(t) ?? this.byId.get(t);
      if (!r || r.type === T.lambda || !KINDS.some((k) => k.match.test(r.type))) continue;
      const id = this.ids.get(r.urn);
      if (id && !out.includes(id)) out.push(id);
    }
    const internet = /^internet: (\S+)/.exec(text);
    const aws = /^AWS ([\w.-]+)/.exec(text);
    const network = /^network (\S+)/.exec(text);
    if (internet) out.push(this.external(`internet\n${internet[1]}`));
    else if (aws) out.push(this.external(`AWS ${aws[1]}`));
    else if (network) out.push(this.external(`network ${network[1]}`));
    else if (out.length === 0) {
      // A bare name: a resource (drawn on demand when its kind is not), or an external destination.
      const r = this.byName.get(text) ?? this.byId.get(text);
      if (r && (r.type === T.vpc || r.type === T.subnet)) out.push(this.ids.get(`anchor:${r.urn}`) as string);
      else if (r && r.type !== T.lambda) {
        const existing = this.ids.get(r.urn);
        out.push(existing && this.nodeLines.has(existing) ? existing : this.onDemandNode(r));
      } else if (!r && !/\s/.test(text) && text !== "") out.push(this.external(text));
    }
    return out;
  }

  /** A resource of a kind the diagram does not draw by itself, drawn because a flow passes it. */
  private onDemandNode(r: Res): string {
    const existing = existingLabel(r);
    const id = this.node(
      r.urn,
      this.placement(r),
      existing
        ? `label="${esc(`${r.type.split(":").pop()} ${r.name}\n(${existing})`)}", shape=box, style="rounded,filled,dashed", fillcolor="#f5f5f5", color="${EXISTING_COLOR}", fontsize=8, class="existing"`
        : `label="${esc(`${r.type.split(":").pop()} ${r.name}`)}", shape=box, fillcolor="#fafafa", fontsize=8`,
    );
    if (existing) this.existingNodes.add(id);
    return id;
  }

  private external(name: string): string {
    return this.node(
      `external:${name}`,
      {},
      `label="${esc(name)}", shape=ellipse, style="filled", fillcolor="#ffffff", color="#78909c"`,
    );
  }

  private fnNode(fn: string): string {
    // One lookup per flow: the function by its name, else by its component's name, else `<fn>-fn`.
    const { byName, byParentName } = this.m.cached("diagram:lambdas", () => {
      const names = new Map<string, Res>();
      const parents = new Map<string, Res>();
      for (const l of this.m.all(T.lambda)) {
        if (!names.has(l.name)) names.set(l.name, l);
        const parent = this.m.byUrn(l.parent)?.name;
        if (parent !== undefined && !parents.has(parent)) parents.set(parent, l);
      }
      return { byName: names, byParentName: parents };
    });
    const r = byName.get(fn) ?? byParentName.get(fn) ?? byName.get(`${fn}-fn`);
    return r ? (this.ids.get(r.urn) as string) : this.external(`λ ${fn}`);
  }

  private flowEdges(f: FlowResult, i: number): void {
    const broken = f.status !== "OK";
    const color = broken ? FLOW_BROKEN_COLOR : FLOW_OK_COLOR;
    const chain = [this.fnNode(f.fn)];
    for (const h of f.path) for (const id of this.hopNodes(h)) if (!chain.includes(id)) chain.push(id);
    // A broken flow ends at a red mark carrying the first missing piece.
    if (broken)
      chain.push(
        this.node(
          `broken:${i}`,
          {},
          `label="${esc(wrap(`✗ ${f.reason ?? "broken"}`, 40))}", shape=note, style="filled", fillcolor="#ffebee", color="${FLOW_BROKEN_COLOR}", fontcolor="${FLOW_BROKEN_COLOR}"`,
        ),
      );
    else if (chain.length === 1) chain.push(this.external(f.flow));
    const ips = f.egressIps && f.egressIps.length > 0 ? `\negress ${f.egressIps.join(", ")}` : "";
    for (let j = 1; j < chain.length; j++) {
      const last = j === chain.length - 1;
      // A hop into an existing resource is dashed: the stack proves it but does not create it.
      const intoExisting = this.existingNodes.has(chain[j]);
      const attrs = [
        `id="flow-${i}-${j - 1}"`,
        `class="${broken ? "flow-broken" : "flow-ok"}${intoExisting ? " hop-existing" : ""}"`,
        `color="${color}"`,
        `fontcolor="${color}"`,
        "penwidth=1.6",
        (broken && last) || intoExisting ? "style=dashed" : "",
        j === 1 ? `label="${esc(wrap(shortFlow(f.flow), 40) + ips)}"` : "",
        `tooltip="${esc(`${f.fn}: ${f.flow}: ${f.status}${f.reason ? ` (${f.reason})` : ""}`)}"`,
      ].filter(Boolean);
      this.edges.push(`${chain[j - 1]} -> ${chain[j]} [${attrs.join(", ")}]`);
    }
  }
}

/** "tcp/443 to internet host x (purpose)" → "tcp/443 to internet host x": the purpose stays in the tooltip. */
function shortFlow(flow: string): string {
  const cut = flow.indexOf(" (");
  return cut > 0 ? flow.slice(0, cut) : flow;
}

function accountLabel(provider: Res | undefined, urn: string): string {
  const name = provider?.name ?? urn.split("::").pop() ?? urn;
  let account = "";
  const allowed = provider?.inputs.allowedAccountIds;
  try {
    const ids = typeof allowed === "string" ? JSON.parse(allowed) : allowed;
    if (Array.isArray(ids) && typeof ids[0] === "string") account = ids[0];
  } catch {
    // not JSON: no account id to show
  }
  const region = typeof provider?.inputs.region === "string" ? provider.inputs.region : "";
  return `${/^account/i.test(name) ? name : `account ${name}`}${account ? ` (${account})` : ""}${region ? ` · ${region}` : ""}`;
}

function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function wrap(s: string, width: number): string {
  const words = s.split(" ");
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if (cur && cur.length + w.length + 1 > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join("\n");
}
