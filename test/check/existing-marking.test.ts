import { runCheck } from "../../ops/check/report";
import { toDot, EXISTING_COLOR } from "../../ops/check/diagram";
import { synthForTest } from "../support/graph";
import type { Graph } from "../../ops/synth-core";

// brownfield: the adopted VPC, its subnets and NAT are proven but not created by the stack. The diagram draws
// them dashed and grey, labelled "existing"; the report marks the hops through them.
let graph: Graph;

beforeAll(async () => {
  graph = (await synthForTest("brownfield")).result.graph;
});

test("the report marks each hop through an adopted resource, and says what the mark means", async () => {
  const { report, text } = await runCheck(graph, { diagram: false });
  const internet = report.flows.find((f) => f.fn === "kintone-sync" && f.flow.includes("internet"))!;
  expect(internet.existingHops).toEqual({
    "existing-nat-0a1b2c3d4e5f60713": "existing",
    "existing-igw-0a1b2c3d4e5f60719": "existing",
  });
  expect(text).toContain("existing-nat-0a1b2c3d4e5f60713 [existing] → existing-igw-0a1b2c3d4e5f60719 [existing]");
  expect(text).toContain("a hop marked [existing] or [built by awsx] is proven but not created by this stack");
  // A flow through the kit's own endpoint only carries no mark.
  const endpoint = report.flows.find((f) => f.flow.includes("secretsmanager"))!;
  expect(endpoint.existingHops).toBeUndefined();
});

test("the diagram draws adopted clusters, nodes and the hops into them dashed grey, and the kit's own solid", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  const dot = toDot(graph, report.flows);
  expect(dot).toMatch(
    new RegExp(
      `label="VPC existing-vpc-0a1b2c3d4e5f60718 \\(existing\\)\\\\n10\\.20\\.0\\.0/16"; style="rounded,filled,dashed"; fillcolor="#fafafa"; color="${EXISTING_COLOR}"`,
    ),
  );
  expect(dot).toMatch(
    /label="subnet existing-subnet-0a1b2c3d4e5f60702\\n[^"]*· existing"; style="rounded,filled,dashed"/,
  );
  const nat = dot.split("\n").find((l) => l.includes('label="NAT existing-nat-0a1b2c3d4e5f60713'))!;
  expect(nat).toMatch(/\\n\(existing\)", shape=box, style="rounded,filled,dashed"/);
  const natId = nat.trim().split(" ")[0];
  const into = dot.split("\n").filter((l) => l.includes(`-> ${natId} [`));
  expect(into.length).toBeGreaterThan(0);
  for (const e of into) expect(e).toMatch(/class="flow-ok hop-existing".*style=dashed/);
  const endpoint = dot.split("\n").find((l) => l.includes("interface endpoint secretsmanager"))!;
  expect(endpoint).not.toContain("dashed");
  expect(dot).toContain("dashed grey: existing (not created by this stack)");
});
