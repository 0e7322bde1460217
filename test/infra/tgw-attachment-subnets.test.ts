import { runCheck } from "../../ops/check/report";
import { GraphView } from "../support/graph";
import type { Graph } from "../../ops/synth-core";
import { configErrorsOf } from "../support/config-errors";
import { devTgw, synthDevWithTgw } from "../support/tgw";

// Dedicated Transit Gateway attachment subnets: one /28 per zone in each VPC, a route table of their own,
// and the attachments use them instead of the workload subnets.
const CIDRS = { egress: ["10.0.255.0/28", "10.0.255.16/28"], data: ["10.1.255.0/28", "10.1.255.16/28"] };
const TGW = { ...devTgw(), attachmentSubnetCidrs: CIDRS };

describe("dev with attachment subnets", () => {
  let view: GraphView;
  let graph: Graph;
  beforeAll(async () => {
    ({ view, graph } = await synthDevWithTgw(TGW));
  });

  test("each attachment uses only its dedicated subnets, one per zone of its VPC", () => {
    const subnet = (n: string) => view.one("aws:ec2/subnet:Subnet", n);
    for (const [att, side, cidrs] of [
      ["transit-attachment", "egress", CIDRS.egress],
      ["data-transit-attachment", "data", CIDRS.data],
    ] as const) {
      const a = view.all("aws:ec2transitgateway/vpcAttachment:VpcAttachment").find((x) => x.name === att);
      expect(a).toBeDefined();
      const used = (a!.inputs.subnetIds as string[]).map((id) => view.byId(id));
      expect(used.map((s) => [s.name, s.inputs.cidrBlock])).toEqual([
        [`transit-${side}-attach-0`, cidrs[0]],
        [`transit-${side}-attach-1`, cidrs[1]],
      ]);
      expect(new Set(used.map((s) => s.inputs.availabilityZone)).size).toBe(2);
      // Their own table: the local route only, nothing the workload tables route.
      const rt = view.routeTableOf(subnet(`transit-${side}-attach-0`));
      expect(rt.name).toBe(`transit-${side}-attach-rt`);
      expect(view.routesOf(rt)).toEqual([]);
      expect(view.routeTableOf(subnet(`transit-${side}-attach-1`)).id).toBe(rt.id);
    }
  });

  test("the checker still proves db-writer to the data VPC across the Transit Gateway", async () => {
    const { report } = await runCheck(graph, { diagram: false });
    const db = report.flows.find((f) => f.fn === "db-writer" && f.flow.startsWith("tcp/5432"));
    expect(db?.status).toBe("OK");
    expect(report.summary.flowsBroken).toBe(0);
  });
});

describe("attachment subnet config errors", () => {
  const errs = (cidrs: Record<string, string[]>, extra: Record<string, unknown> = {}) =>
    configErrorsOf({ "vpc-lambda-kit:transitGateway": { ...TGW, ...extra, attachmentSubnetCidrs: cidrs } });

  test("the valid pair passes", () => {
    expect(errs(CIDRS)).toEqual([]);
  });

  test("wrong count, size, outside the VPC, overlapping a planned subnet, unknown attachment", () => {
    expect(
      errs({ egress: ["10.0.255.0/24", "10.9.0.0/28"], data: ["10.1.128.0/28"], other: ["10.0.254.0/28"] }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /transitGateway\.attachmentSubnetCidrs\.egress\[0\]: 10\.0\.255\.0\/24 is a \/24.*Fix: use a \/28/,
        ),
        expect.stringMatching(
          /transitGateway\.attachmentSubnetCidrs\.egress\[1\]: 10\.9\.0\.0\/28 is outside the VPC 10\.0\.0\.0\/16/,
        ),
        expect.stringMatching(/transitGateway\.attachmentSubnetCidrs\.data: 1 CIDRs for 2 zones/),
        expect.stringMatching(
          /transitGateway\.attachmentSubnetCidrs\.data\[0\]: 10\.1\.128\.0\/28 overlaps 10\.1\.128\.0\/28/,
        ),
        expect.stringMatching(/transitGateway\.attachmentSubnetCidrs\.other: "other" is not an attachment/),
      ]),
    );
  });
});
