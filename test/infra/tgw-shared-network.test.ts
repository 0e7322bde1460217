import * as path from "path";
import * as aws from "@pulumi/aws";
import { KitMocks, resolveOutputs } from "../../ops/mocks";
import { ConfigError, ConfigErrors } from "../../components/errors";
import {
  planTgw,
  TgwOwner,
  TgwPeer,
  TgwSharedNetwork,
  TgwSharedNetworkArgs,
} from "../../components/tgw-shared-network";
import { GraphView } from "../support/graph";
import { loadConfig } from "../../stacks/config/load";
import { readStackConfig } from "../../ops/stack-config";
import { REPO_ROOT } from "../../components/bundle";

// docs/designs.md §3 at component level: both sides in one program with two providers, as a combined stack does.
const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "111111111111" });
/** Dependencies (URNs) each resource was registered with, by name: what the engine orders by. */
const deps = new Map<string, string[]>();
let providerA: aws.Provider;
let providerB: aws.Provider;

beforeAll(async () => {
  await mocks.install("vpc-lambda-kit", "tgw");

  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    deps.set(req.getName(), req.getDependenciesList());
    return register(req, callback);
  };
  providerA = new aws.Provider("account-a", { region: "ap-northeast-1", allowedAccountIds: ["111111111111"] });
  providerB = new aws.Provider("account-b", { region: "ap-northeast-1", allowedAccountIds: ["222222222222"] });
  // Registered before any network, so each network's slice of the records holds only its own.
  await resolveOutputs([providerA.id, providerB.id]);
  await mocks.settle();
});

const TGW = "aws:ec2transitgateway/transitGateway:TransitGateway";
const ATTACH = "aws:ec2transitgateway/vpcAttachment:VpcAttachment";
const ROUTE = "aws:ec2/route:Route";
const ACCEPTER = "aws:ram/resourceShareAccepter:ResourceShareAccepter";

function args(over: Partial<TgwSharedNetworkArgs> = {}): TgwSharedNetworkArgs {
  return {
    owner: {
      name: "egress",
      vpcId: "vpc-a",
      cidrBlocks: ["10.0.0.0/16"],
      subnetIds: ["subnet-a1", "subnet-a2"],
      routeTableIds: ["rtb-a1", "rtb-a2"],
      provider: providerA,
    },
    peers: [
      {
        name: "data",
        vpcId: "vpc-b",
        cidrBlocks: ["10.1.0.0/16"],
        subnetIds: ["subnet-b1", "subnet-b2"],
        routeTableIds: ["rtb-b"],
        provider: providerB,
      },
    ],
    principals: ["222222222222"],
    peerAccountIds: ["222222222222"],
    ...over,
  };
}

/** Builds one network and returns a view of the resources it registered. */
async function build(
  name: string,
  over: Partial<TgwSharedNetworkArgs> = {},
): Promise<{ g: GraphView; net: TgwSharedNetwork }> {
  const before = mocks.resources.length;
  const net = new TgwSharedNetwork(name, args(over));
  await resolveOutputs([net.owner.shareArn, ...Object.values(net.peers).map((p) => p.attachmentId)]);
  await mocks.settle();
  const mine = mocks.resources.slice(before);
  return { g: new GraphView({ project: "p", stack: "s", resources: mine, outputs: {} }), net };
}

const urnOf = (g: GraphView, type: string, name: string) => g.one(type, name).urn;

describe("outside an Organization (acceptShare: the usual recipe's two accounts)", () => {
  let g: GraphView;
  beforeAll(async () => {
    g = (await build("net")).g;
  });

  test("the owner's TGW auto-accepts shared attachments, has DNS support, and uses its default route table", () => {
    expect(g.one(TGW, "net-owner-tgw").inputs).toMatchObject({
      autoAcceptSharedAttachments: "enable",
      dnsSupport: "enable",
      defaultRouteTableAssociation: "enable",
      defaultRouteTablePropagation: "enable",
    });
    expect(g.all("aws:ec2transitgateway/routeTable:RouteTable")).toEqual([]);
    expect(g.all("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")).toEqual([]);
  });

  test("the RAM share holds the TGW, names account B as principal and allows external principals", () => {
    const tgw = g.one(TGW, "net-owner-tgw");
    const share = g.one("aws:ram/resourceShare:ResourceShare", "net-owner-share");
    expect(share.id).toMatch(/^arn:aws:ram:ap-northeast-1:111111111111:resource-share\/[0-9a-f-]{36}$/);
    expect(share.inputs.allowExternalPrincipals).toBe(true);
    expect(g.one("aws:ram/resourceAssociation:ResourceAssociation", "net-owner-share-tgw").inputs).toEqual({
      resourceArn: `arn:aws:ec2:ap-northeast-1:111111111111:transit-gateway/${tgw.id}`,
      resourceShareArn: share.id,
    });
    expect(g.all("aws:ram/principalAssociation:PrincipalAssociation").map((p) => p.inputs)).toEqual([
      { principal: "222222222222", resourceShareArn: share.id },
    ]);
  });

  test("the owner attaches its private subnets and routes every private route table to the peer CIDR via the TGW", () => {
    const tgw = g.one(TGW, "net-owner-tgw");
    const attachment = g.one(ATTACH, "net-owner-attachment");
    expect(attachment.inputs).toEqual({
      transitGatewayId: tgw.id,
      vpcId: "vpc-a",
      subnetIds: ["subnet-a1", "subnet-a2"],
      dnsSupport: "enable",
      tags: { Name: "net-owner-attachment" },
    });
    const ownerRoutes = g.all(ROUTE).filter((r) => r.name.startsWith("net-owner-"));
    expect(
      ownerRoutes.map((r) => r.inputs).sort((a, b) => String(a.routeTableId).localeCompare(String(b.routeTableId))),
    ).toEqual([
      { routeTableId: "rtb-a1", destinationCidrBlock: "10.1.0.0/16", transitGatewayId: tgw.id },
      { routeTableId: "rtb-a2", destinationCidrBlock: "10.1.0.0/16", transitGatewayId: tgw.id },
    ]);
    for (const r of ownerRoutes) expect(deps.get(r.name)).toContain(attachment.urn);
  });

  test("account B accepts the share, attaches its VPC to the shared TGW and routes to the owner CIDR via the TGW", () => {
    const tgw = g.one(TGW, "net-owner-tgw");
    const share = g.one("aws:ram/resourceShare:ResourceShare", "net-owner-share");
    expect(g.one(ACCEPTER, "net-data-accepter").inputs).toEqual({ shareArn: share.id });
    // No default-route-table arguments: they cannot be set on an attachment to a RAM-shared TGW.
    expect(g.one(ATTACH, "net-data-attachment").inputs).toEqual({
      transitGatewayId: tgw.id,
      vpcId: "vpc-b",
      subnetIds: ["subnet-b1", "subnet-b2"],
      dnsSupport: "enable",
      tags: { Name: "net-data-attachment" },
    });
    expect(
      g
        .all(ROUTE)
        .filter((r) => r.name.startsWith("net-data-"))
        .map((r) => r.inputs),
    ).toEqual([{ routeTableId: "rtb-b", destinationCidrBlock: "10.0.0.0/16", transitGatewayId: tgw.id }]);
  });

  test("the peer attaches only after the share is usable: after the accepter, the TGW's share association and the principal", () => {
    const attachmentDeps = deps.get("net-data-attachment") ?? [];
    expect(attachmentDeps).toEqual(
      expect.arrayContaining([
        urnOf(g, ACCEPTER, "net-data-accepter"),
        urnOf(g, "aws:ram/resourceAssociation:ResourceAssociation", "net-owner-share-tgw"),
        urnOf(g, "aws:ram/principalAssociation:PrincipalAssociation", "net-owner-share-principal-0"),
      ]),
    );
    // The invitation exists only once the principal is associated: the accepter waits for it.
    expect(deps.get("net-data-accepter")).toContain(
      urnOf(g, "aws:ram/principalAssociation:PrincipalAssociation", "net-owner-share-principal-0"),
    );
    expect(deps.get("net-data-rt0-to-egress")).toContain(urnOf(g, ATTACH, "net-data-attachment"));
  });

  test("every peer-side resource is on account B's provider, every owner-side one on account A's", () => {
    const custom = g.graph.resources.filter((r) => r.type.startsWith("aws:"));
    const peerSide = custom.filter((r) => g.ancestors(r).includes("net-data"));
    expect(peerSide.map((r) => r.type).sort()).toEqual([ROUTE, ACCEPTER, ATTACH].sort());
    for (const r of peerSide) expect([r.name, g.providerName(r)]).toEqual([r.name, "account-b"]);
    for (const r of custom.filter((x) => !peerSide.includes(x)))
      expect([r.name, g.providerName(r)]).toEqual([r.name, "account-a"]);
  });

  test("every child is named after the network and parented under it", () => {
    expect(g.graph.resources.length).toBeGreaterThan(10);
    for (const r of g.graph.resources) {
      expect(r.name === "net" || r.name.startsWith("net-")).toBe(true);
      if (r.name !== "net") expect(g.ancestors(r)).toContain("net");
    }
  });
});

test("inside an Organization (acceptShare false): no accepter, no external principals, the attachment still waits for the share", async () => {
  const ou = "arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-ab12-cdefgh34";
  const { g } = await build("org", { acceptShare: false, principals: [ou], peerAccountIds: [] });
  expect(g.all(ACCEPTER)).toEqual([]);
  expect(g.one("aws:ram/resourceShare:ResourceShare", "org-owner-share").inputs.allowExternalPrincipals).toBe(false);
  expect(g.all("aws:ram/principalAssociation:PrincipalAssociation").map((p) => p.inputs.principal)).toEqual([ou]);
  expect(deps.get("org-data-attachment")).toEqual(
    expect.arrayContaining([
      urnOf(g, "aws:ram/resourceAssociation:ResourceAssociation", "org-owner-share-tgw"),
      urnOf(g, "aws:ram/principalAssociation:PrincipalAssociation", "org-owner-share-principal-0"),
    ]),
  );
  expect(
    g
      .all(ROUTE)
      .filter((r) => r.name.startsWith("org-data-"))
      .map((r) => r.inputs.destinationCidrBlock),
  ).toEqual(["10.0.0.0/16"]);
});

test("explicit route table mode: the owner's table, and both attachments associated and propagated by account A", async () => {
  const { g, net } = await build("rtb", { defaultRouteTableAssociation: false, defaultRouteTablePropagation: false });
  const tgw = g.one(TGW, "rtb-owner-tgw");
  expect(tgw.inputs).toMatchObject({
    defaultRouteTableAssociation: "disable",
    defaultRouteTablePropagation: "disable",
    autoAcceptSharedAttachments: "enable",
  });
  const table = g.one("aws:ec2transitgateway/routeTable:RouteTable", "rtb-owner-rt");
  expect(table.id).toMatch(/^tgw-rtb-[0-9a-f]{17}$/);
  expect(table.inputs.transitGatewayId).toBe(tgw.id);
  expect(await resolveOutputs(net.owner.routeTableId)).toBe(table.id);
  const owner = g.one(ATTACH, "rtb-owner-attachment");
  const peer = g.one(ATTACH, "rtb-data-attachment");
  expect(owner.inputs).toMatchObject({
    transitGatewayDefaultRouteTableAssociation: false,
    transitGatewayDefaultRouteTablePropagation: false,
  });
  expect(peer.inputs.transitGatewayDefaultRouteTableAssociation).toBeUndefined();
  for (const type of [
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
  ]) {
    const members = g.all(type);
    expect(members.map((m) => m.inputs.transitGatewayAttachmentId).sort()).toEqual([owner.id, peer.id].sort());
    for (const m of members) {
      expect(m.inputs.transitGatewayRouteTableId).toBe(table.id);
      // A RAM-shared TGW's route tables belong to its owner: account A admits B's attachment too.
      expect(g.providerName(m)).toBe("account-a");
    }
  }
  // Routes in the VPCs are the same as with the default route table.
  expect(
    g
      .all(ROUTE)
      .map((r) => [r.inputs.routeTableId, r.inputs.destinationCidrBlock])
      .sort(),
  ).toEqual([
    ["rtb-a1", "10.1.0.0/16"],
    ["rtb-a2", "10.1.0.0/16"],
    ["rtb-b", "10.0.0.0/16"],
  ]);
});

test("overlapping CIDRs are refused naming both VPCs and both CIDRs, before anything is registered", () => {
  const before = mocks.resources.length;
  const over = args({});
  over.peers[0].cidrBlocks = ["10.0.128.0/17"];
  expect(() => new TgwSharedNetwork("clash", over)).toThrow(
    /^peers\[0\]\.cidrBlocks: VPC "data" \(10\.0\.128\.0\/17\) overlaps VPC "egress" \(10\.0\.0\.0\/16, owner\.cidrBlocks\); both attach to the Transit Gateway.*Fix: give the attached VPCs disjoint CIDRs/,
  );
  // Each side alone checks the same.
  expect(
    () =>
      new TgwPeer(
        "clash-peer",
        {
          transitGatewayId: "tgw-1",
          acceptShare: false,
          vpcId: "vpc-b",
          cidrBlocks: ["10.0.0.0/24"],
          subnetIds: ["s"],
          routeTableIds: ["r"],
          ownerCidrBlocks: ["10.0.0.0/16"],
        },
        { provider: providerB },
      ),
  ).toThrow(
    /cidrBlocks: VPC "clash-peer" \(10\.0\.0\.0\/24\) overlaps VPC "owner" \(10\.0\.0\.0\/16, ownerCidrBlocks\)/,
  );
  expect(
    () =>
      new TgwOwner(
        "clash-owner",
        {
          vpcId: "vpc-a",
          cidrBlocks: ["10.0.0.0/16"],
          subnetIds: ["s"],
          routeTableIds: ["r"],
          peers: [{ name: "data", cidrBlocks: ["10.0.0.0/16"] }],
          principals: ["222222222222"],
        },
        { provider: providerA },
      ),
  ).toThrow(/data\.cidrBlocks: VPC "data" \(10\.0\.0\.0\/16\) overlaps VPC "owner" \(10\.0\.0\.0\/16, cidrBlocks\)/);
  expect(mocks.resources.length).toBe(before);
});

test("share mistakes are all reported at once, each naming its argument and the fix", () => {
  let err: unknown;
  try {
    planTgw({
      owner: { name: "egress", cidrBlocks: ["10.0.0.0/16"] },
      peers: [{ name: "data", cidrBlocks: ["10.1.0.0/16"] }],
      principals: [
        "12345",
        "arn:aws:organizations::999999999999:organization/o-abcdefghij",
        "333333333333",
        "333333333333",
      ],
      acceptShare: true,
      allowExternalPrincipals: false,
      peerAccountIds: ["222222222222"],
      defaultRouteTableAssociation: true,
      defaultRouteTablePropagation: false,
      amazonSideAsn: 65535,
    });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigErrors);
  const msgs = (err as ConfigErrors).errors.map((e) => e.message);
  expect(msgs).toEqual([
    expect.stringMatching(
      /^principals\[0\]: "12345" is not a RAM principal for a Transit Gateway share\. Fix: give a 12-digit account id, an OU ARN/,
    ),
    expect.stringMatching(/^principals\[3\]: "333333333333" is listed twice/),
    expect.stringMatching(
      /^principals: arn:aws:organizations::999999999999:organization\/o-abcdefghij: OU and organization principals work only with RAM sharing through AWS Organizations.*Fix: share with account ids/,
    ),
    expect.stringMatching(
      /^allowExternalPrincipals: false, but acceptShare is true.*Fix: set allowExternalPrincipals to true/,
    ),
    expect.stringMatching(
      /^principals: peer account 222222222222 is not among the principals .* receives no invitation to accept\. Fix: add "222222222222"/,
    ),
    expect.stringMatching(
      /^defaultRouteTablePropagation: defaultRouteTableAssociation is true and defaultRouteTablePropagation is false.*Fix: set both true .* or both false/,
    ),
    expect.stringMatching(/^amazonSideAsn: 65535 is not a private ASN/),
  ]);
  // Well-formed principals of every kind pass.
  const ok = planTgw({
    owner: { name: "egress", cidrBlocks: ["10.0.0.0/16"] },
    peers: [{ name: "data", cidrBlocks: ["10.1.0.0/16"] }],
    principals: ["222222222222", "arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-ab12-cdefgh34"],
    acceptShare: false,
  });
  expect(ok.principals).toEqual([
    { value: "222222222222", kind: "account" },
    { value: "arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-ab12-cdefgh34", kind: "organizationalUnit" },
  ]);
  expect(ok.allowExternalPrincipals).toBe(false);
});

test("a peer that must accept the share but is given no share ARN is refused", () => {
  expect(
    () =>
      new TgwPeer("no-arn", {
        transitGatewayId: "tgw-1",
        vpcId: "vpc-b",
        cidrBlocks: ["10.1.0.0/16"],
        subnetIds: ["s"],
        routeTableIds: ["r"],
        ownerCidrBlocks: ["10.0.0.0/16"],
      }),
  ).toThrow(ConfigError);
});

describe("config: vpc-lambda-kit:transitGateway", () => {
  const cfgOf = (stack: string, patch: Record<string, unknown> = {}) => {
    const all = readStackConfig(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)).config;
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete all[k];
      else all[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return all;
  };
  const messages = (all: Record<string, string>): string[] => {
    try {
      loadConfig(all);
    } catch (e) {
      return e instanceof ConfigErrors ? e.errors.map((x) => x.message) : [(e as Error).message];
    }
    return [];
  };

  test("dev shares with account B, which accepts the invitation; the default route tables are used", () => {
    const tgw = loadConfig(cfgOf("dev")).tgw;
    expect(tgw).toMatchObject({
      principals: [{ value: "222222222222", kind: "account" }],
      acceptShare: true,
      allowExternalPrincipals: true,
      defaultRouteTables: true,
    });
  });

  test("on by default when the stack has both sides; principals default to account B; off for a network stack that does not ask", () => {
    const dev = loadConfig(cfgOf("dev", { "vpc-lambda-kit:transitGateway": undefined })).tgw;
    expect(dev?.principals).toEqual([{ value: "222222222222", kind: "account" }]);
    expect(dev?.allowExternalPrincipals).toBe(true);
    expect(loadConfig(cfgOf("dev-network", { "vpc-lambda-kit:transitGateway": undefined })).tgw).toBeUndefined();
    expect(loadConfig(cfgOf("dev-data")).tgw?.acceptShare).toBe(true);
    // Off only when nothing needs the path: db-writer over pg and the AppFlow connector on the data role's DB do.
    expect(
      loadConfig(
        cfgOf("dev", {
          "vpc-lambda-kit:transitGateway": { enabled: false },
          "vpc-lambda-kit:dbWriter": undefined,
          "vpc-lambda-kit:appflowConnector": undefined,
          "vpc-lambda-kit:appflowDbPassword": undefined,
        }),
      ).tgw,
    ).toBeUndefined();
  });

  test("mistakes name the config key: principals, external principals, a data stack without its network upstream", () => {
    expect(messages(cfgOf("dev", { "vpc-lambda-kit:transitGateway": { principals: ["2222"] } }))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vpc-lambda-kit:transitGateway\.principals\[0\]: "2222" is not a RAM principal/),
      ]),
    );
    expect(messages(cfgOf("dev", { "vpc-lambda-kit:transitGateway": { allowExternalPrincipals: false } }))).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:transitGateway\.allowExternalPrincipals: false, but acceptShare is true/),
    ]);
    expect(
      messages(
        cfgOf("dev-data", { "vpc-lambda-kit:upstream": undefined, "vpc-lambda-kit:transitGateway": { enabled: true } }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:upstream\.network: the data role attaches its VPC to the network stack's Transit Gateway.*Fix: set upstream\.network/,
      ),
    ]);
    expect(
      messages(
        cfgOf("dev", {
          "vpc-lambda-kit:accounts": {
            a: { accountId: "111111111111" },
            b: { accountId: "222222222222", region: "us-east-1" },
          },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:accounts\.b\.region: account A's region \(ap-northeast-1\) and account B's \(us-east-1\) differ/,
      ),
    ]);
    expect(
      messages(
        cfgOf("dev-network", {
          "vpc-lambda-kit:accounts": { a: { accountId: "111111111111" } },
          "vpc-lambda-kit:transitGateway": { enabled: true },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.principals: the Transit Gateway is on but there is no principal.*Fix: set vpc-lambda-kit:accounts\.b\.accountId/,
      ),
    ]);
  });

  test("overlapping network and data CIDRs are refused at config time, naming both keys", () => {
    expect(
      messages(
        cfgOf("dev", {
          "vpc-lambda-kit:data": { cidrBlock: "10.0.0.0/16", subnetCidrs: ["10.0.128.0/28", "10.0.128.16/28"] },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.cidrBlock: 10\.0\.0\.0\/16 overlaps network\.cidrBlock 10\.0\.0\.0\/16 \(vpc-lambda-kit:network\.cidrBlock\); both VPCs attach to the Transit Gateway/,
      ),
    ]);
  });
});
