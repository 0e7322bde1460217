import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { check, copy, one } from "./mutate";

/**
 * transitGateway.isolate: the dev stack's two attachments in their own route tables, neither
 * propagating the other, declared isolated. The forbidden-path report proves the pair closed both
 * ways, and a propagation added to the graph opens it. (One synth per file: Pulumi's runtime is global.)
 */
let iso: Graph;
beforeAll(async () => {
  // Two spokes that must never meet: each table propagates nothing of the other.
  const r = await synthForTest("dev", {
    "vpc-lambda-kit:transitGateway": {
      principals: ["222222222222"],
      acceptShare: true,
      allowExternalPrincipals: true,
      routeTables: [
        { name: "egress", associate: ["egress"] },
        { name: "data", associate: ["data"] },
      ],
      isolate: [["egress", "data"]],
    },
  });
  iso = r.result.graph;
});

test("an isolated pair is a forbidden path, proven closed both ways", () => {
  const fb = check(iso).forbidden.filter((f) => f.check === "tgw-isolation");
  expect(fb).toEqual([
    {
      check: "tgw-isolation",
      subject: "egress → data",
      status: "OK",
      detail: "transit gateway route table transit-rt-egress has no route to 10.1.0.0/16",
    },
    {
      check: "tgw-isolation",
      subject: "data → egress",
      status: "OK",
      detail: "transit gateway route table transit-rt-data has no route to 10.0.0.0/16",
    },
  ]);
});

test("a propagation added behind the config's back opens the forbidden path", () => {
  const g = copy(iso);
  g.resources.push({
    urn: "urn:pulumi:dev::vpc-lambda-kit::aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation::leak",
    id: "leak",
    type: "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
    name: "leak",
    parent: null,
    provider: null,
    inputs: {
      transitGatewayRouteTableId: one(g, "RouteTable", "transit-rt-egress").id,
      transitGatewayAttachmentId: one(g, "VpcAttachment", "data-transit-attachment").id,
    },
  });
  const fb = check(g).forbidden.filter((f) => f.check === "tgw-isolation");
  expect(fb.map((f) => [f.subject, f.status])).toEqual([
    ["egress → data", "VIOLATED"],
    ["data → egress", "OK"],
  ]);
  expect(fb[0].detail).toBe(
    "attachment transit-attachment (egress) must not reach data-transit-attachment (data), but transit gateway route table transit-rt-egress sends 10.1.0.0/16 to attachment data-transit-attachment (propagated)",
  );
});
