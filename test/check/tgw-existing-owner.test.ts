import { synthForTest } from "../support/graph";
import type { Graph } from "../../ops/synth-core";
import { GraphModel } from "../../ops/check/model/graph";
import { T } from "../../ops/check/model/types";
import { tgwRouteTableOf } from "../../ops/check/eval/tgw";
import { brokenLines, check, copy, drop, flowOf, one } from "./mutate";

// brownfield: the landing zone's TGW belongs to the network account 222222222222 and is shared with the
// organization; account 111111111111 attaches to it. Its default tables (association and propagation both
// tgw-rtb-…32) take the kit's new data attachment. Each mutation breaks one piece of that and the checker
// must name it.
const TGW = "existing-tgw-0c1d2e3f4a5b60731";
const TABLE = "existing-tgw-rtb-0c1d2e3f4a5b60732";
const SHARE = "existing-share-5f0c2a1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b";
let graph: Graph;

beforeAll(async () => {
  graph = (await synthForTest("brownfield")).result.graph;
});

const dbFlow = (g: Graph) => flowOf(check(g).flows, "db-writer", /tcp\/5432/);

test("the adopted TGW and its share are the network account's; the path across them is proven", () => {
  const ix = GraphModel.of(graph);
  expect(ix.accountOf(ix.byId("tgw-0c1d2e3f4a5b60731", T.tgw)!)).toBe("222222222222");
  const att = ix.all(T.tgwAttachment).find((a) => a.name === "data-transit-attachment")!;
  expect(ix.accountOf(att)).toBe("111111111111");
  expect(brokenLines(check(graph).flows)).toEqual([]);
  expect(dbFlow(graph).status).toBe("OK");
});

test("the kit's new attachment is associated with the TGW's named default table, not a virtual one", () => {
  const ix = GraphModel.of(graph);
  const tgw = ix.byId("tgw-0c1d2e3f4a5b60731", T.tgw)!;
  const att = ix.all(T.tgwAttachment).find((a) => a.name === "data-transit-attachment")!;
  expect(tgwRouteTableOf(ix, att, tgw)).toMatchObject({
    id: "tgw-rtb-0c1d2e3f4a5b60732",
    isDefault: false,
    label: `transit gateway route table ${TABLE} (the default association and propagation table of transit gateway ${TGW})`,
  });
});

test("no RAM share of the TGW: broken, naming what the network account must share", () => {
  const g = copy(graph);
  g.resources = g.resources.filter((r) => !r.type.startsWith("aws:ram/"));
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(
    `transit gateway ${TGW} (account 222222222222) is not shared through RAM, so account 111111111111 cannot attach to it`,
  );
  expect(f.reason).toContain(
    "account 222222222222 (the Transit Gateway's owner) must share tgw-0c1d2e3f4a5b60731 through RAM with account 111111111111",
  );
});

test("the share names an organization the attaching account is not in: broken, naming the share", () => {
  const g = copy(graph);
  one(g, "PrincipalAssociation", `${SHARE}-principal-0`).inputs.memberAccountIds = ["222222222222"];
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toMatch(
    new RegExp(
      `no RAM share of transit gateway ${TGW} covers account 111111111111 \\(shares: ${SHARE} \\(arn:aws:organizations::999999999999:organization/o-a1b2c3d4e5\\)\\)`,
    ),
  );
});

test("a share naming the attaching account directly covers it again", () => {
  const g = copy(graph);
  const p = one(g, "PrincipalAssociation", `${SHARE}-principal-0`);
  p.inputs.principal = "111111111111";
  delete p.inputs.memberAccountIds;
  expect(dbFlow(g).status).toBe("OK");
});

test("a TGW that does not auto-accept: the kit's new attachment waits for the owner's acceptance", () => {
  const g = copy(graph);
  one(g, "TransitGateway", TGW).inputs.autoAcceptSharedAttachments = "disable";
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(
    `transit gateway ${TGW} does not auto-accept shared attachments and no VpcAttachmentAccepter accepts data-transit-attachment: account 222222222222 must accept it (the stack output tgwOwnerActions lists it)`,
  );
});

test("the default table without the propagated data route: broken at that table, named as the default", () => {
  const g = copy(graph);
  one(g, "TransitGateway", TGW).inputs.defaultRouteTablePropagation = "disable";
  drop(g, "aws:ec2transitgateway/route:Route", `${TABLE}-route-0`);
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(
    `transit gateway route table ${TABLE} (the default association table of transit gateway ${TGW}) has no route to 10.21.0.0/16`,
  );
});

test("the propagation default is another table: the association default lacks the route", () => {
  const g = copy(graph);
  const other = copy({ ...graph, resources: [one(graph, "aws:ec2transitgateway/routeTable:RouteTable", TABLE)] })
    .resources[0];
  other.id = "tgw-rtb-0c1d2e3f4a5b60799";
  other.name = "existing-tgw-rtb-0c1d2e3f4a5b60799";
  other.urn = other.urn.replace("60732", "60799");
  g.resources.push(other);
  one(g, "TransitGateway", TGW).inputs.propagationDefaultRouteTableId = other.id;
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(`(the default association table of transit gateway ${TGW}) blackholes 0.0.0.0/0`);
});

test("an adopted attachment gets no default association: without its listed association it has no table", () => {
  const g = copy(graph);
  drop(g, "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", `${TABLE}-tgw-attach-0c1d2e3f4a5b60733`);
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(
    "transit gateway attachment existing-tgw-attach-0c1d2e3f4a5b60733 is associated with no transit gateway route table",
  );
});

test("a new attachment to a TGW without default association and no table named: broken, saying what to name", () => {
  const g = copy(graph);
  one(g, "TransitGateway", TGW).inputs.defaultRouteTableAssociation = "disable";
  // The workload VPC's attachment as the kit would create it: not adopted, not associated.
  delete (one(g, "VpcAttachment", "existing-tgw-attach-0c1d2e3f4a5b60733") as { existing?: boolean }).existing;
  drop(g, "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", `${TABLE}-tgw-attach-0c1d2e3f4a5b60733`);
  const f = dbFlow(g);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toContain(
    `(transit gateway ${TGW} associates new attachments with no default table: name one in transitGateway.existing.routeTableIds, or have its owner associate it)`,
  );
});
