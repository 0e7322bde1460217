/**
 * The twin against the dev stack and the checker's mutations: real namespaces, real Squid, PostgreSQL, moto,
 * haproxy, dnsmasq. Needs root (network namespaces); as another user every test here fails with that message.
 *
 * 1. dev as synthesized: every flow gets through from every subnet, and every handler's outcome lands.
 * 2. A representative subset of the checker's mutations (all of them with TWIN_ALL_MUTATIONS=1), including every
 *    mutation where AWS still delivers the traffic (an endpoint detour through the NAT, no final deny all, an open
 *    private API policy, DNS resolution off): for every flow, checker OK ⇔ twin traffic got through; where every
 *    flow works, the checker's forbidden-path or policy finding for the mutation (mutations.ts `finding`) is there.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Graph } from "../../ops/synth-core";
import { writeSynthOutput } from "../../ops/synth-core";
import { listNamespaces } from "../../ops/twin/host";
import { runTwin, TwinResult } from "../../ops/twin/run";
import { synthForTest } from "../support/graph";
import { check, copy } from "../check/mutate";
import { checkPolicies } from "../../ops/check/policies";
import { MUTATIONS, mutated } from "./mutations";

jest.setTimeout(240_000);

let dev: Graph;
let devDir: string;
/** One README-style table row per mutation run: checker verdicts, the checker's finding, twin verdicts, agreement. */
const rows = new Map<string, string>();

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error("the twin tests need root (network namespaces, veth, nftables): run jest as root");
  const r = await synthForTest("dev");
  dev = r.result.graph;
  devDir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-test-"));
  writeSynthOutput(r.result, devDir);
});

afterAll(() => {
  if (rows.size) {
    fs.mkdirSync(path.join(__dirname, "..", "..", "out", "twin"), { recursive: true });
    fs.writeFileSync(
      path.join(__dirname, "..", "..", "out", "twin", "agreement.md"),
      [
        "| mutation (test/twin/mutations.ts) | checker: BROKEN flows | checker: finding | twin: FAILED flows | agree |",
        "|---|---|---|---|---|",
        ...MUTATIONS.filter((m) => rows.has(m.name)).map((m) => rows.get(m.name)!),
      ].join("\n") + "\n",
    );
  }
  if (devDir) fs.rmSync(devDir, { recursive: true, force: true });
});

test("dev: every declared flow gets through from every subnet, and every handler's outcome lands", async () => {
  // kintone-sync keeps its position in the DynamoDB table KINTONE_CHECKPOINT_TABLE names. Until the stack
  // declares that table, the run adds one to the graph (as the stack will) so moto serves and pre-creates it;
  // DynamoDB is then reached at its regional name (through a gateway endpoint if the graph has one, else the NAT).
  const g = withCheckpointTable(dev);
  fs.writeFileSync(path.join(devDir, "graph.json"), JSON.stringify(g));
  const r = await runTwin(g, devDir, { handlers: true });
  const failed = [
    ...r.flows.filter((f) => !f.ok).map((f) => `${f.fn}: ${f.flow}: ${f.details.join("; ")}`),
    ...r.outcomes.filter((o) => !o.ok).map((o) => `${o.fn}: ${o.what}: ${o.detail}`),
  ];
  expect(failed).toEqual([]);
  // Every checker flow has its twin counterpart, and the outcomes that matter were asserted.
  expect(r.flows.length).toBe(check(dev).flows.length);
  const what = r.outcomes.map((o) => `${o.fn}: ${o.what}`);
  for (const expected of [
    /kintone-sync: kintone records changed/,
    /kintone-sync: kintone saw every request coming from the NAT's EIP/,
    /saas-export: NDJSON parts and the manifest in moto's S3/,
    /saas-export: the SaaS saw the proxies' requests coming from the allowlisted egress IP/,
    /db-writer: rows in PostgreSQL/,
    /appflow-connector: ListEntities from egress-private-0/,
    /appflow-connector: QueryData reads customers from egress-private-1/,
    /pets-api: the caller lists pets through the private API/,
    // The Athena connector's real bundle answers a federated query: inline from one subnet, spilled to moto's S3
    // (encrypted blocks, read back and decoded) from the other, the SaaS reached through the real Squid.
    /athena-connector\S*: a query from egress-private-0 reads every SaaS record inline/,
    /athena-connector\S*: a query from egress-private-1 reads every SaaS record through spilled S3 blocks/,
    /athena-connector\S*: the SaaS saw the connector's requests coming from the proxy tier's egress IPs/,
  ])
    expect(what.some((w) => expected.test(w))).toBe(true);
  // The proxy flow proved the gate both ways.
  const proxy = r.flows.find((f) => f.fn === "saas-export" && /3128/.test(f.flow))!;
  for (const d of proxy.details)
    expect(d).toMatch(
      /2× CONNECT api\.example-saas\.com 200 → HTTPS \d+; refused: without the header → 403, with a wrong header value → 403, to not-allowlisted\S* \(not allowlisted\) → 403/,
    );
  // Everything the run created is gone (only this run's prefix: other twins may be running on the machine).
  expect(listNamespaces().filter((n) => n.startsWith(r.prefix))).toEqual([]);
});

const selected = MUTATIONS.filter(
  (m) => m.name !== "unchanged dev graph" && (process.env.TWIN_ALL_MUTATIONS === "1" || m.representative),
);

test.each(selected.map((m) => [m.name, m] as const))("agreement with the checker: %s", async (_name, m) => {
  const g = mutated(dev, m);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-mut-"));
  try {
    fs.writeFileSync(path.join(dir, "graph.json"), JSON.stringify(g));
    fs.symlinkSync(path.join(devDir, "functions"), path.join(dir, "functions"));
    const verdict = check(g);
    const checker = verdict.flows;
    const twin: TwinResult = await runTwin(g, dir, { handlers: false });
    const disagreements: string[] = [];
    let brokenSeen = 0;
    for (const cf of checker) {
      const tf = twin.flows.find((t) => t.fn === cf.fn && (cf.flow === t.flow || cf.flow.startsWith(`${t.flow} (`)));
      if (!tf) {
        disagreements.push(`${cf.fn}: ${cf.flow}: no twin flow`);
        continue;
      }
      if (cf.status !== "OK") brokenSeen++;
      const known = m.twinDiffers?.find((d) => d.fn === cf.fn && d.flow.test(cf.flow));
      const expected = known ? known.twinOk : cf.status === "OK";
      if (tf.ok !== expected)
        disagreements.push(
          `${cf.fn}: ${cf.flow}: checker ${cf.status}${cf.reason ? ` (${cf.reason})` : ""}, twin ${tf.ok ? "OK" : "FAILED"}: ${tf.details.join("; ")}`,
        );
    }
    // What the checker reports beyond flows for this mutation.
    const findings = [
      ...verdict.forbidden
        .filter((f) => f.status === "VIOLATED")
        .map((f) => ({ kind: "forbidden", id: f.check, where: f.subject, text: `${f.subject}: ${f.detail}` })),
      ...checkPolicies(g).map((v) => ({ kind: "policy", id: v.policy, where: v.resource, text: v.message })),
    ];
    const named = m.finding
      ? findings.filter((f) => f.kind === m.finding!.kind && f.id === m.finding!.id && m.finding!.match.test(f.text))
      : [];
    const list = (xs: string[]) => (xs.length ? xs.join("<br>") : "none");
    rows.set(
      m.name,
      `| ${m.name} | ${list(checker.filter((f) => f.status !== "OK").map((f) => `${f.fn}: ${f.flow.replace(/ \(.*$/, "")}`))} | ${named.length ? named.map((f) => `${f.kind} ${f.id} (${f.where.replace(/ \(.*$/, "")})`).join("<br>") : "—"} | ${list(twin.flows.filter((f) => !f.ok).map((f) => `${f.fn}: ${f.flow}`))} | ${disagreements.length ? "NO" : "yes"} |`,
    );
    expect(twin.flows.length).toBe(checker.length);
    expect(disagreements).toEqual([]);
    if (m.finding) expect(named.map((f) => f.id)).toEqual([m.finding.id]);
    // A mutation that breaks something is seen broken by both, or (where AWS still delivers) flagged by the checker.
    if (!m.harmless)
      expect(brokenSeen + twin.flows.filter((f) => !f.ok).length + (m.finding ? 1 : 0)).toBeGreaterThan(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** dev, plus a checkpoint table for kintone-sync when the graph has none the function's environment names. */
function withCheckpointTable(graph: Graph): Graph {
  const fn = graph.resources.find(
    (r) => r.type === "aws:lambda/function:Function" && r.name.startsWith("kintone-sync"),
  )!;
  const vars = (fn.inputs.environment as { variables: Record<string, string> }).variables;
  if (
    graph.resources.some(
      (r) => r.type === "aws:dynamodb/table:Table" && String(r.inputs.name) === vars.KINTONE_CHECKPOINT_TABLE,
    )
  )
    return graph;
  const g = copy(graph);
  const gfn = g.resources.find((r) => r.urn === fn.urn)!;
  (gfn.inputs.environment as { variables: Record<string, string> }).variables.KINTONE_CHECKPOINT_TABLE =
    "twin-kintone-checkpoint";
  g.resources.push({
    urn: "urn:pulumi:dev::vpc-lambda-kit::aws:dynamodb/table:Table::twin-kintone-checkpoint",
    id: "twin-kintone-checkpoint",
    type: "aws:dynamodb/table:Table",
    name: "twin-kintone-checkpoint",
    parent: null,
    inputs: {
      name: "twin-kintone-checkpoint",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      billingMode: "PAY_PER_REQUEST",
    },
  } as never);
  return g;
}
