import { runCheck } from "../../ops/check/report";
import { synthForTest } from "../support/graph";
import { brownfieldSynthErrors, inventoryVariant } from "../support/brownfield";
import { configErrorsOf } from "../support/config-errors";

/**
 * transitGateway.existing with ownerId: the brownfield TGW (tgw-…31) belongs to the network account
 * 222222222222; accounts A and B are 111111111111. What the kit may do there, what it leaves to the owner
 * (tgwOwnerActions), and the bad input refused before anything is registered.
 */
const TGW = "tgw-0c1d2e3f4a5b60731";
const RTB = "tgw-rtb-0c1d2e3f4a5b60732";
const SHARE = "arn:aws:ram:ap-northeast-1:222222222222:resource-share/5f0c2a1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b";
const ASSOC = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation";
const PROP = "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation";
const ATTACH = "aws:ec2transitgateway/vpcAttachment:VpcAttachment";

const tgwConfig = (existing: Record<string, unknown>) => ({
  "vpc-lambda-kit:transitGateway": {
    acceptShare: false,
    existing: { id: TGW, ...existing },
    existingAttachments: { egress: "tgw-attach-0c1d2e3f4a5b60733" },
  },
});
const tgwOf = (inv: any) => inv.transitGateways[0];

/** The network account's TGW as many landing zones run it: no auto-accept, no default tables. */
const strictTgw = (inv: any) => {
  Object.assign(tgwOf(inv), {
    autoAcceptSharedAttachments: "disable",
    defaultRouteTableAssociation: "disable",
    defaultRouteTablePropagation: "disable",
  });
};

const synthErrors = brownfieldSynthErrors;

describe("another account's TGW without auto-accept or default tables, a table named for the data attachment", () => {
  let result: Awaited<ReturnType<typeof synthForTest>>["result"];
  beforeAll(async () => {
    result = (
      await synthForTest("brownfield", {
        ...tgwConfig({ ownerId: "222222222222", shareArn: SHARE, routeTableIds: { data: RTB } }),
        "vpc-lambda-kit:inventory": inventoryVariant(strictTgw),
      })
    ).result;
  });
  const created = (type: string) => result.graph.resources.filter((r) => r.type === type && !("existing" in r));

  test("the kit creates the attachment but no association or propagation in the owner's tables", () => {
    expect(created(ATTACH).map((a) => a.name)).toEqual(["data-transit-attachment"]);
    expect(created(ASSOC)).toEqual([]);
    expect(created(PROP)).toEqual([]);
    // The option cannot be set on an attachment to a RAM-shared TGW.
    expect(created(ATTACH)[0].inputs.transitGatewayDefaultRouteTableAssociation).toBeUndefined();
  });

  test("each side reads the TGW with its own account's provider", () => {
    const reads = result.mocks.invokes.filter(
      (i) => i.token === "aws:ec2transitgateway/getTransitGateway:getTransitGateway",
    );
    expect(reads.map((i) => i.provider).sort()).toEqual(["account-a", "account-b"]);
  });

  test("tgwOwnerActions lists the acceptance, association and propagation for the network account", () => {
    const id = created(ATTACH)[0].id;
    const out = result.graph.outputs.tgwOwnerActions as { actions: Record<string, unknown>[] };
    expect(out).toMatchObject({ managedByKit: false, ownerId: "222222222222", transitGatewayId: TGW });
    expect(
      out.actions.map((a) => [a.action, a.attachment, a.transitGatewayAttachmentId, a.transitGatewayRouteTableId]),
    ).toEqual([
      ["accept", "data", id, undefined],
      ["associate", "data", id, RTB],
      ["propagate", "data", id, RTB],
    ]);
    expect(out.actions[0].why).toContain("until account 222222222222 accepts it");
  });

  test("the checker reports the database flow broken until the owner acts", async () => {
    const { report } = await runCheck(result.graph, { diagram: false });
    const db = report.flows.find((f) => f.fn === "db-writer" && f.flow.startsWith("tcp/5432"))!;
    // Nothing propagates the data VPC's CIDR into the table until the owner does (its acceptance is missing too:
    // test/check/tgw-existing-owner.test.ts breaks that alone).
    expect(db.status).toBe("BROKEN");
    expect(db.reason).toContain(`transit gateway route table existing-${RTB} blackholes 0.0.0.0/0`);
  });
});

describe("bad input, refused naming the key", () => {
  test("an owner id of the wrong shape", () => {
    // The program runs once per process, so its config checks are asked directly.
    expect(configErrorsOf(tgwConfig({ ownerId: "22222" }), "brownfield")).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:transitGateway\.existing\.ownerId: "22222" is not an AWS account id/),
    ]);
  });

  test("an owner stated while account B's id is unknown", () => {
    expect(
      configErrorsOf(
        { ...tgwConfig({ ownerId: "222222222222" }), "vpc-lambda-kit:accounts": { a: { accountId: "111111111111" } } },
        "brownfield",
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vpc-lambda-kit:accounts\.b\.accountId: transitGateway\.existing\.ownerId is set/),
      ]),
    );
  });

  test("config and inventory disagree on the owner, or config leaves it out", async () => {
    expect(await synthErrors(tgwConfig({ ownerId: "333333333333", shareArn: SHARE }))).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.existing\.ownerId: states 333333333333, but the inventory's tgw-0c1d2e3f4a5b60731 is owned by 222222222222.*Fix: set it to 222222222222/,
      ),
    ]);
    expect(await synthErrors(tgwConfig({}))).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.existing\.ownerId: not set, .* the inventory says account 222222222222 owns it/,
      ),
    ]);
  });

  test("a share that does not contain the TGW", async () => {
    const other = SHARE.replace("5f0c2a1e", "6f0c2a1e");
    const errs = await synthErrors(tgwConfig({ ownerId: "222222222222", shareArn: other }), (inv) => {
      inv.resourceShares.push({
        ...inv.resourceShares[0],
        arn: other,
        name: "lz-other",
        resourceArns: ["arn:aws:ec2:ap-northeast-1:222222222222:transit-gateway/tgw-0c1d2e3f4a5b60799"],
      });
    });
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.existing\.shareArn: share lz-other .* does not contain tgw-0c1d2e3f4a5b60731.*Fix: name the share that lists tgw-0c1d2e3f4a5b60731 \(arn:aws:ram:ap-northeast-1:222222222222:resource-share\/5f0c2a1e/,
      ),
    ]);
  });

  test("the inventory contradicting itself: owner, share account, default tables", async () => {
    const errs = await synthErrors({}, (inv) => {
      inv.resourceShares[0].owningAccountId = "333333333333";
      inv.resourceShares[0].resourceArns = ["arn:aws:ec2:ap-northeast-1:444444444444:transit-gateway/" + TGW];
      tgwOf(inv).associationDefaultRouteTableId = "";
      tgwOf(inv).propagationDefaultRouteTableId = "tgw-rtb-0c1d2e3f4a5b60799";
      inv.transitGateways.push({ id: "tgw-0c1d2e3f4a5b60741", ownerId: "2222" });
    });
    expect(errs).toEqual([
      expect.stringMatching(/inventory\.json: transitGateways\.1\.ownerId: not an AWS account id/),
    ]);
    const more = await synthErrors({}, (inv) => {
      inv.resourceShares[0].owningAccountId = "333333333333";
      inv.resourceShares[0].resourceArns = ["arn:aws:ec2:ap-northeast-1:444444444444:transit-gateway/" + TGW];
      tgwOf(inv).associationDefaultRouteTableId = "";
      tgwOf(inv).propagationDefaultRouteTableId = "tgw-rtb-0c1d2e3f4a5b60799";
    });
    expect(more).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /transitGateways\.0\.associationDefaultRouteTableId: transit gateway tgw-0c1d2e3f4a5b60731 has defaultRouteTableAssociation enable but no associationDefaultRouteTableId/,
        ),
        expect.stringMatching(
          /transitGateways\.0\.propagationDefaultRouteTableId: default route table tgw-rtb-0c1d2e3f4a5b60799 is not in the inventory/,
        ),
        expect.stringMatching(
          /resourceShares\.0\.owningAccountId: share arn:aws:ram:ap-northeast-1:222222222222:resource-share\/\S+ is in account 222222222222, not 333333333333/,
        ),
        expect.stringMatching(
          /resourceShares\.0\.resourceArns\.0: \S+ names account 444444444444, but transitGateways says tgw-0c1d2e3f4a5b60731 is owned by 222222222222/,
        ),
      ]),
    );
    expect(more).toHaveLength(4);
  });

  test("a table named for a cross-account attachment the TGW associates by default", async () => {
    expect(
      await synthErrors(
        tgwConfig({ ownerId: "222222222222", routeTableIds: { data: "tgw-rtb-0c1d2e3f4a5b60742" } }),
        (inv) => {
          inv.transitGatewayRouteTables.push({ id: "tgw-rtb-0c1d2e3f4a5b60742", transitGatewayId: TGW });
        },
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.existing\.routeTableIds\.data: tgw-0c1d2e3f4a5b60731 associates new attachments with its default table tgw-rtb-0c1d2e3f4a5b60732, .*cannot also be associated with tgw-rtb-0c1d2e3f4a5b60742/,
      ),
    ]);
  });
});
