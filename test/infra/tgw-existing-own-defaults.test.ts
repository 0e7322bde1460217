import { runCheck } from "../../ops/check/report";
import { synthForTest } from "../support/graph";
import { inventoryVariant } from "../support/brownfield";

/**
 * transitGateway.existing without ownerId, on a TGW of account A's own with default association and
 * propagation on (the brownfield inventory without its owner and share): the kit associates and propagates
 * the data attachment to the named table itself and turns the TGW's defaults off on that attachment (AWS
 * would otherwise associate it with the default table first and refuse the second association).
 */
const TGW = "tgw-0c1d2e3f4a5b60731";
const RTB = "tgw-rtb-0c1d2e3f4a5b60732";
const ASSOC = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation";
const ATTACH = "aws:ec2transitgateway/vpcAttachment:VpcAttachment";

describe("the TGW is account A's own: the kit associates, and keeps its attachment out of the default tables", () => {
  let result: Awaited<ReturnType<typeof synthForTest>>["result"];
  beforeAll(async () => {
    result = (
      await synthForTest("brownfield", {
        "vpc-lambda-kit:transitGateway": {
          acceptShare: false,
          existing: { id: TGW, routeTableIds: { data: RTB } },
          existingAttachments: { egress: "tgw-attach-0c1d2e3f4a5b60733" },
        },
        "vpc-lambda-kit:inventory": inventoryVariant((inv) => {
          delete inv.transitGateways[0].ownerId;
          inv.resourceShares = [];
        }),
      })
    ).result;
  });

  test("association and propagation in account A; default association and propagation off on the attachment", () => {
    const att = result.graph.resources.find((r) => r.type === ATTACH && r.name === "data-transit-attachment")!;
    expect(att.inputs).toMatchObject({
      transitGatewayDefaultRouteTableAssociation: false,
      transitGatewayDefaultRouteTablePropagation: false,
    });
    const assoc = result.graph.resources.filter((r) => r.type === ASSOC && !("existing" in r));
    expect(assoc.map((a) => [a.inputs.transitGatewayRouteTableId, a.inputs.transitGatewayAttachmentId])).toEqual([
      [RTB, att.id],
    ]);
    expect(result.graph.outputs.tgwOwnerActions).toBeUndefined();
  });

  test("the checker proves the database flow through the explicit table", async () => {
    const { report } = await runCheck(result.graph, { diagram: false });
    expect(report.flows.find((f) => f.fn === "db-writer" && f.flow.startsWith("tcp/5432"))?.status).toBe("OK");
  });
});
