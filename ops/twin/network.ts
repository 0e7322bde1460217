/**
 * The twin's model → kernel state: one router namespace per VPC (a bridge per subnet, one Linux routing table
 * per subnet chosen by the incoming bridge), one namespace per ENI (its security groups as nftables), a NAT
 * namespace per NAT gateway, a Transit Gateway namespace, an "internet" and an "aws" (public service
 * addresses) namespace. Every address lives only inside namespaces this run created.
 */
import { Host, need } from "./host";
import { contains, parseCidr } from "./ip";
import { dynamodbAddress, EniM, OUTSIDE, peerAddresses, SgRuleM, SubnetM, TwinModel } from "./model";

export interface Layout {
  router: Map<string, string>; // vpcId → namespace
  eniNs: Map<string, string>; // eni key → namespace
  natNs: Map<string, string>; // nat id → namespace
  tgwNs: Map<string, string>; // tgw id → namespace
  internet: string;
  aws: string;
  /** Public service addresses in the aws namespace. */
  s3Ip: string;
}

const LINK_NET = (a: number, b: number) => `100.${64 + a}.${b}`;

export function buildNetwork(host: Host, m: TwinModel): Layout {
  const ip = need("ip");
  void ip;
  const layout: Layout = {
    router: new Map(),
    eniNs: new Map(),
    natNs: new Map(),
    tgwNs: new Map(),
    internet: "",
    aws: "",
    s3Ip: "",
  };
  const subnetIdx = new Map(m.subnets.map((s, i) => [s.id, i]));
  const subnetById = new Map(m.subnets.map((s) => [s.id, s]));
  const forward = {
    "net.ipv4.ip_forward": 1,
    "net.ipv4.conf.all.rp_filter": 0,
    "net.ipv4.conf.default.rp_filter": 0,
    "net.ipv4.conf.all.send_redirects": 0,
    "net.ipv4.conf.default.send_redirects": 0,
  };

  // Outside: the internet and AWS's public service addresses.
  layout.internet = host.addNamespace("inet");
  layout.aws = host.addNamespace("aws");
  host.sysctl(layout.internet, forward);
  host.sysctl(layout.aws, forward);
  const inetLines: string[] = [];
  for (const addr of m.internetHosts.values()) inetLines.push(`addr add ${addr}/32 dev lo`);
  host.ipBatch(layout.internet, inetLines);
  host.veth(layout.internet, "ia", layout.aws, "ai");
  host.ipBatch(layout.internet, [
    "addr add 100.127.0.1/30 dev ia",
    "link set ia up",
    "route add 198.51.100.0/24 via 100.127.0.2 dev ia",
  ]);
  const awsLines = ["addr add 100.127.0.2/30 dev ai", "link set ai up", "route add default via 100.127.0.1 dev ai"];
  const s3 = parseCidr(OUTSIDE.prefixLists.s3);
  layout.s3Ip = `198.51.100.${(s3.base & 255) + 10}`;
  awsLines.push(`addr add ${layout.s3Ip}/32 dev lo`, `addr add ${dynamodbAddress()}/32 dev lo`);
  for (let i = 0; i < 24; i++) awsLines.push(`addr add 198.51.100.${130 + i}/32 dev lo`);
  host.ipBatch(layout.aws, awsLines);

  // VPC routers.
  m.vpcs.forEach((vpc, v) => {
    const r = host.addNamespace(`r${v}`);
    layout.router.set(vpc.id, r);
    host.sysctl(r, forward);
    const lines: string[] = [`addr add ${vpc.resolver}/32 dev lo`];
    for (const s of m.subnets.filter((x) => x.vpcId === vpc.id)) {
      const b = `b${subnetIdx.get(s.id)}`;
      lines.push(`link add ${b} type bridge`, `addr add ${gw(s)}/${s.cidr.bits} dev ${b}`, `link set ${b} up`);
    }
    host.ipBatch(r, lines);
    host.sysctl(r, { "net.ipv4.conf.all.send_redirects": 0 });
  });

  // Internet gateway links (router ↔ internet) and gateway-endpoint links (router ↔ aws).
  const igwVpc = new Set(m.igws.map((g) => g.vpcId));
  m.vpcs.forEach((vpc, v) => {
    const r = layout.router.get(vpc.id)!;
    const base = LINK_NET(0, v);
    if (igwVpc.has(vpc.id)) {
      host.veth(r, "igw", layout.internet, `g${v}`);
      host.ipBatch(r, [`addr add ${base}.1/30 dev igw`, "link set igw up"]);
      const eips = [
        ...m.nats.filter((n) => subnetById.get(n.subnetId)?.vpcId === vpc.id).map((n) => n.eip),
        ...m.publicEnis.filter((p) => p.eni.vpcId === vpc.id).map((p) => p.eip),
      ];
      host.ipBatch(layout.internet, [
        `addr add ${base}.2/30 dev g${v}`,
        `link set g${v} up`,
        ...eips.map((e) => `route add ${e}/32 via ${base}.1 dev g${v}`),
      ]);
    }
    const gep = LINK_NET(1, v);
    host.veth(r, "gwe", layout.aws, `e${v}`);
    host.ipBatch(r, [`addr add ${gep}.1/30 dev gwe`, "link set gwe up"]);
    host.ipBatch(layout.aws, [
      `addr add ${gep}.2/30 dev e${v}`,
      `link set e${v} up`,
      ...vpc.cidrs.map((c) => `route add ${c} via ${gep}.1 dev e${v}`),
    ]);
  });

  // ENIs: a namespace each, a veth into the subnet's bridge (created in batches: spawns dominate the set-up time).
  let link = 0;
  const plugAll = (
    items: {
      short: string;
      eni: { ip: string; prefixLen: number; gateway: string; subnetId: string; vpcId: string };
    }[],
  ): string[] => {
    const names = host.addNamespaces(items.map((i) => i.short));
    const root: string[] = [];
    const routerLines = new Map<string, string[]>();
    items.forEach(({ eni }, i) => {
      const r = layout.router.get(eni.vpcId)!;
      const peer = `v${link++}`;
      root.push(`link add eth0 netns ${names[i]} type veth peer name ${peer} netns ${r}`);
      const lines = routerLines.get(r) ?? [];
      lines.push(`link set ${peer} master b${subnetIdx.get(eni.subnetId)}`, `link set ${peer} up`);
      routerLines.set(r, lines);
    });
    host.rootBatch(root);
    for (const [r, lines] of routerLines) host.ipBatch(r, lines);
    items.forEach(({ eni }, i) =>
      host.ipBatch(names[i], [
        "link set lo up",
        `addr add ${eni.ip}/${eni.prefixLen} dev eth0`,
        "link set eth0 up",
        `route add default via ${eni.gateway} dev eth0`,
      ]),
    );
    return names;
  };
  const plug = (
    short: string,
    eni: { ip: string; prefixLen: number; gateway: string; subnetId: string; vpcId: string },
  ) => plugAll([{ short, eni }])[0];
  const hosted = m.enis.filter((e) => e.kind !== "nat");
  const eniNames = plugAll(hosted.map((e) => ({ short: e.key, eni: e })));
  hosted.forEach((e, i) => {
    const ns = eniNames[i];
    layout.eniNs.set(e.key, ns);
    host.nft(ns, securityGroupRules(m, e));
    const vpc = m.vpcs.find((x) => x.id === e.vpcId);
    host.netnsEtc(ns, vpc?.resolver);
  });

  // NAT gateways: source NAT to the EIP; the router sends the EIP's return traffic to the NAT's ENI.
  for (const n of m.nats) {
    const ns = plug(n.eni.key, n.eni);
    layout.natNs.set(n.id, ns);
    host.sysctl(ns, forward);
    host.nft(
      ns,
      [
        "table ip twin_nat {",
        "  chain post { type nat hook postrouting priority srcnat; policy accept;",
        `    oifname "eth0" ip saddr != ${n.eni.ip} snat to ${n.eip}`,
        "  }",
        "}",
      ].join("\n"),
    );
    const r = layout.router.get(n.eni.vpcId)!;
    host.ipBatch(r, [`route add ${n.eip}/32 via ${n.eni.ip}`]);
  }

  // Transit Gateways: a namespace each, a veth per attachment subnet into that subnet's bridge.
  const attIface = new Map<string, { iface: string; subnet: SubnetM; ip: string }[]>();
  m.tgws.forEach((t, ti) => {
    const ns = host.addNamespace(`t${ti}`);
    layout.tgwNs.set(t.id, ns);
    host.sysctl(ns, forward);
    let k = 0;
    for (const a of m.attachments.filter((x) => x.tgwId === t.id && !x.unusable)) {
      const list: { iface: string; subnet: SubnetM; ip: string }[] = [];
      for (const [sid, addr] of Object.entries(a.enis)) {
        const s = subnetById.get(sid)!;
        const iface = `a${k}`;
        const r = layout.router.get(s.vpcId)!;
        host.veth(ns, iface, r, `t${ti}x${k}`);
        host.ipBatch(r, [`link set t${ti}x${k} master b${subnetIdx.get(sid)}`, `link set t${ti}x${k} up`]);
        host.ipBatch(ns, [`addr add ${addr}/${s.cidr.bits} dev ${iface}`, `link set ${iface} up`]);
        list.push({ iface, subnet: s, ip: addr });
        k++;
      }
      attIface.set(a.id, list);
    }
    // One Linux table per (TGW route table, ingress zone): delivery prefers the attachment ENI in that zone.
    const lines: string[] = [];
    let tableNo = 100;
    for (const rt of t.tables) {
      const zones = new Set<string>();
      for (const aid of rt.associations) for (const x of attIface.get(aid) ?? []) zones.add(x.subnet.az);
      for (const az of zones) {
        const tid = tableNo++;
        for (const aid of rt.associations)
          for (const x of attIface.get(aid) ?? [])
            if (x.subnet.az === az) lines.push(`rule add iif ${x.iface} lookup ${tid} pref 100`);
        for (const route of rt.routes) {
          if (route.blackhole) {
            lines.push(`route add blackhole ${route.dest} table ${tid}`);
            continue;
          }
          const targets = attIface.get(route.attachmentId ?? "") ?? [];
          const to = targets.find((x) => x.subnet.az === az) ?? targets[0];
          if (to) lines.push(`route replace ${route.dest} via ${gw(to.subnet)} dev ${to.iface} table ${tid}`);
          else lines.push(`route replace blackhole ${route.dest} table ${tid}`);
        }
        lines.push(`route add unreachable default table ${tid}`);
      }
    }
    // Traffic from an attachment whose zone/table has no rule is dropped (never the main table's connected routes).
    for (const list of attIface.values())
      for (const x of list) lines.push(`rule add iif ${x.iface} unreachable pref 200`);
    host.ipBatch(ns, lines);
  });

  // Per-subnet routing tables in each VPC router, selected by the incoming bridge.
  for (const vpc of m.vpcs) {
    const r = layout.router.get(vpc.id)!;
    const lines: string[] = [];
    const vpcSubnets = m.subnets.filter((s) => s.vpcId === vpc.id);
    for (const s of vpcSubnets) {
      const tid = 100 + subnetIdx.get(s.id)!;
      const table = m.tables.find((t) => t.key === s.tableKey);
      lines.push(`rule add iif b${subnetIdx.get(s.id)} lookup ${tid} pref 100`);
      let hasDefault = false;
      for (const route of table?.routes ?? []) {
        const dest = route.dest;
        if (dest === "0.0.0.0/0") hasDefault = true;
        const t = route.target;
        switch (t.kind) {
          case "local":
            lines.push(`route replace unreachable ${dest} table ${tid}`);
            for (const o of vpcSubnets)
              if (contains(parseCidr(dest), o.cidr.text.split("/")[0]))
                lines.push(`route replace ${o.cidr.text} dev b${subnetIdx.get(o.id)} table ${tid}`);
            break;
          case "igw":
            if (m.igws.some((g) => g.id === t.id && g.vpcId === vpc.id))
              lines.push(`route replace ${dest} via ${LINK_NET(0, m.vpcs.indexOf(vpc))}.2 dev igw table ${tid}`);
            else lines.push(`route replace blackhole ${dest} table ${tid}`);
            break;
          case "nat": {
            const n = m.nats.find((x) => x.id === t.id);
            if (n && n.eni.vpcId === vpc.id)
              lines.push(`route replace ${dest} via ${n.eni.ip} dev b${subnetIdx.get(n.subnetId)} table ${tid}`);
            else lines.push(`route replace blackhole ${dest} table ${tid}`);
            break;
          }
          case "tgw": {
            const att = m.attachments.find((a) => a.tgwId === t.id && a.vpcId === vpc.id && !a.unusable);
            const sameZone = att
              ? Object.entries(att.enis).find(([sid]) => subnetById.get(sid)?.az === s.az)
              : undefined;
            if (sameZone)
              lines.push(`route replace ${dest} via ${sameZone[1]} dev b${subnetIdx.get(sameZone[0])} table ${tid}`);
            else lines.push(`route replace blackhole ${dest} table ${tid}`);
            break;
          }
          case "gatewayEndpoint":
            lines.push(`route replace ${dest} via ${LINK_NET(1, m.vpcs.indexOf(vpc))}.2 dev gwe table ${tid}`);
            break;
          case "blackhole":
            lines.push(`route replace blackhole ${dest} table ${tid}`);
            break;
        }
      }
      if (!hasDefault) lines.push(`route replace unreachable default table ${tid}`);
    }
    host.ipBatch(r, lines);
    // The internet gateway only passes traffic whose source is an EIP of this VPC, or an ENI that has its own EIP,
    // which it translates 1:1 (AWS's public IPv4 mapping at the gateway); it translates nothing else.
    const eips = m.nats.filter((n) => n.eni.vpcId === vpc.id).map((n) => n.eip);
    const mapped = m.publicEnis.filter((p) => p.eni.vpcId === vpc.id);
    const passes = [...eips, ...mapped.map((p) => p.eni.ip)];
    host.nft(
      r,
      [
        "table ip twin_igw {",
        "  chain igw_out { type filter hook forward priority 0; policy accept;",
        passes.length ? `    oifname "igw" ip saddr != { ${passes.join(", ")} } drop` : `    oifname "igw" drop`,
        "  }",
        ...(mapped.length
          ? [
              "  chain igw_snat { type nat hook postrouting priority 100; policy accept;",
              ...mapped.map((p) => `    oifname "igw" ip saddr ${p.eni.ip} snat to ${p.eip}`),
              "  }",
              "  chain igw_dnat { type nat hook prerouting priority -100; policy accept;",
              ...mapped.map((p) => `    iifname "igw" ip daddr ${p.eip} dnat to ${p.eni.ip}`),
              "  }",
            ]
          : []),
        "}",
      ].join("\n"),
    );
  }
  return layout;
}

function gw(s: SubnetM): string {
  const n = s.cidr.base + 1;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function matchProto(r: SgRuleM): string {
  const ports = r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;
  if (r.proto === "all") return "";
  if (r.proto === "tcp" || r.proto === "udp")
    return r.from <= 0 && r.to >= 65535 ? `meta l4proto ${r.proto}` : `${r.proto} dport ${ports}`;
  if (r.proto === "icmp") return "meta l4proto icmp";
  return `meta l4proto ${r.proto}`;
}

/** The ENI's security groups as a stateful nftables ruleset: egress on output, ingress on input, default drop. */
export function securityGroupRules(m: TwinModel, e: EniM): string {
  const vpc = m.vpcs.find((v) => v.id === e.vpcId);
  const egress: string[] = [];
  const ingress: string[] = [];
  for (const sgId of e.sgIds) {
    const sg = m.sgs.get(sgId);
    if (!sg) continue;
    for (const rule of sg.rules) {
      const peers = peerAddresses(m, rule, sgId);
      if (!peers.length) continue;
      const line = `    ip ${rule.direction === "egress" ? "daddr" : "saddr"} { ${peers.join(", ")} } ${matchProto(rule)} accept comment "${rule.name.replace(/"/g, "'").slice(0, 120)}"`;
      (rule.direction === "egress" ? egress : ingress).push(line);
    }
  }
  return [
    "table inet twin_sg {",
    "  chain egress { type filter hook output priority 0; policy drop;",
    "    ct state established,related accept",
    '    oifname "lo" accept',
    // The Amazon DNS server is never filtered by security groups.
    vpc ? `    ip daddr ${vpc.resolver} meta l4proto { tcp, udp } th dport 53 accept` : "",
    ...egress,
    "  }",
    "  chain ingress { type filter hook input priority 0; policy drop;",
    "    ct state established,related accept",
    '    iifname "lo" accept',
    ...ingress,
    "  }",
    "}",
    "",
  ]
    .filter(Boolean)
    .join("\n");
}
