import type { Graph } from "../../ops/synth-core";
import { GraphView } from "../support/graph";
import { devTgw, synthDevWithTgw } from "../support/tgw";
import { check, copy, drop, flowOf, one } from "./mutate";

/**
 * The dev stack with a segmented Transit Gateway: one route table per attachment (egress, data),
 * each propagating the other, a blackhole for a range nobody may reach, appliance mode on the egress
 * attachment. The checker proves the database flow over the tables, and catches each of three
 * mutations: a blackhole on the data CIDR, a missing propagation, a wrong association.
 */
const TGW = devTgw({
  routeTables: [
    { name: "egress", associate: ["egress"], propagate: ["data"], routes: [{ cidr: "10.9.0.0/16", blackhole: true }] },
    { name: "data", associate: ["data"], propagate: ["egress"] },
  ],
  attachmentOptions: { egress: { applianceMode: true } },
});

let view: GraphView;
let seg: Graph;
beforeAll(async () => {
  ({ view, graph: seg } = await synthDevWithTgw(TGW));
});

const DB_FLOW = /^tcp\/5432 /;

test("the stack registers one TGW route table per segment, with its associations, propagations and blackhole", () => {
  const tgw = view.one("aws:ec2transitgateway/transitGateway:TransitGateway", "transit-tgw");
  expect(tgw.inputs.defaultRouteTableAssociation).toBe("disable");
  expect(tgw.inputs.defaultRouteTablePropagation).toBe("disable");
  const egressRt = view.one("aws:ec2transitgateway/routeTable:RouteTable", "transit-rt-egress");
  const dataRt = view.one("aws:ec2transitgateway/routeTable:RouteTable", "transit-rt-data");
  const egressAtt = view.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "transit-attachment");
  const dataAtt = view.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "data-transit-attachment");
  expect(egressAtt.inputs.applianceModeSupport).toBe("enable");
  expect(dataAtt.inputs.applianceModeSupport).toBeUndefined();
  expect(dataAtt.inputs.dnsSupport).toBe("enable");
  expect(egressAtt.inputs.transitGatewayDefaultRouteTableAssociation).toBe(false);

  // The associations and the propagations as [name, route table, attachment]: exactly these two of each.
  const links = (type: string) =>
    view.all(type).map((a) => [a.name, a.inputs.transitGatewayRouteTableId, a.inputs.transitGatewayAttachmentId]);
  const expected: [string, unknown[][]][] = [
    [
      "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
      [
        ["transit-egress-egress-association", egressRt.id, egressAtt.id],
        ["transit-data-data-association", dataRt.id, dataAtt.id],
      ],
    ],
    [
      "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
      [
        ["transit-egress-data-propagation", egressRt.id, dataAtt.id],
        ["transit-data-egress-propagation", dataRt.id, egressAtt.id],
      ],
    ],
  ];
  for (const [type, rows] of expected) {
    expect(links(type)).toEqual(expect.arrayContaining(rows));
    expect([type, links(type).length]).toEqual([type, 2]);
  }
  const bh = view.one("aws:ec2transitgateway/route:Route", "transit-rt-egress-blackhole-10-9-0-0-16");
  expect(bh.inputs).toMatchObject({
    transitGatewayRouteTableId: egressRt.id,
    destinationCidrBlock: "10.9.0.0/16",
    blackhole: true,
  });
});

test("the checker proves the database flow over the segment route tables", () => {
  const f = flowOf(check(seg).flows, "db-writer", DB_FLOW);
  expect(f.status).toBe("OK");
  expect(f.steps.join("\n")).toMatch(
    /transit gateway transit-tgw: route table transit-rt-egress: 10\.1\.0\.0\/16 → attachment data-transit-attachment/,
  );
});

test("mutation: a blackhole on the data CIDR breaks the flow, naming the blackhole route", () => {
  const g = copy(seg);
  const rt = one(g, "RouteTable", "transit-rt-egress");
  g.resources.push({
    urn: "urn:pulumi:dev::vpc-lambda-kit::aws:ec2transitgateway/route:Route::bh-data",
    id: "tgw-route-bh-data",
    type: "aws:ec2transitgateway/route:Route",
    name: "bh-data",
    parent: null,
    provider: null,
    inputs: { transitGatewayRouteTableId: rt.id, destinationCidrBlock: "10.1.0.0/16", blackhole: true },
  });
  const f = flowOf(check(g).flows, "db-writer", DB_FLOW);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toBe("transit gateway route table transit-rt-egress blackholes 10.1.0.0/16 (route bh-data)");
});

test("mutation: a missing propagation leaves the egress table without a route to the data VPC", () => {
  const g = copy(seg);
  drop(g, "RouteTablePropagation", "transit-egress-data-propagation");
  const f = flowOf(check(g).flows, "db-writer", DB_FLOW);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toMatch(/^transit gateway route table transit-rt-egress has no route to 10\.1\./);
});

test("mutation: the data attachment associated with the wrong table has no return route", () => {
  const g = copy(seg);
  const a = one(g, "RouteTableAssociation", "transit-data-data-association");
  a.inputs.transitGatewayRouteTableId = one(g, "RouteTable", "transit-rt-egress").id;
  const f = flowOf(check(g).flows, "db-writer", DB_FLOW);
  expect(f.status).toBe("BROKEN");
  expect(f.reason).toMatch(
    /^transit gateway route table transit-rt-egress has no route to 10\.0\.\S+ \(the return route/,
  );
});
