/**
 * The twin against prod as synthesized (needs root, like test/twin/agreement.test.ts): three subnets per function,
 * an NLB in front of two Squid instances in public subnets that leave from their own pool EIPs (placement "public"),
 * one NAT per zone. Every flow from every subnet and every handler outcome must pass, and the SaaS must see only the
 * proxy tier's pool EIPs. In its own file: prod is synthesized in a fresh module registry (a second synth in the dev
 * test's process would reuse dev's config).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeSynthOutput } from "../../ops/synth-core";
import { listNamespaces } from "../../ops/twin/host";
import { runTwin } from "../../ops/twin/run";
import { synthForTest } from "../support/graph";
import { check } from "../check/mutate";

jest.setTimeout(300_000);

beforeAll(() => {
  if (process.getuid?.() !== 0)
    throw new Error("the twin tests need root (network namespaces, veth, nftables): run jest as root");
});

test("prod: every flow and outcome, with the proxies in public subnets behind their own pool EIPs", async () => {
  const r0 = await synthForTest("prod");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-prod-"));
  try {
    writeSynthOutput(r0.result, dir);
    const g = r0.result.graph;
    const r = await runTwin(g, dir, { handlers: true });
    const failed = [
      ...r.flows.filter((f) => !f.ok).map((f) => `${f.fn}: ${f.flow}: ${f.details.join("; ")}`),
      ...r.outcomes.filter((o) => !o.ok).map((o) => `${o.fn}: ${o.what}: ${o.detail}`),
    ];
    expect(failed).toEqual([]);
    expect(listNamespaces().filter((n) => n.startsWith(r.prefix))).toEqual([]);
    expect(r.flows.length).toBe(check(g).flows.length);
    // Three subnets per function; the SaaS saw only the proxy tier's pool EIPs, kintone only the NATs'.
    const pool = (g.outputs.apps as { proxyTier: { egressIps: string[] } }).proxyTier.egressIps;
    const saas = r.outcomes.find((o) => /the SaaS saw the proxies' requests/.test(o.what))!;
    expect(saas.detail).toMatch(
      new RegExp(
        `^sources seen: (${pool.join("|").replace(/\./g, "\\.")})(, (${pool.join("|").replace(/\./g, "\\.")}))*;`,
      ),
    );
    for (const what of [
      /kintone records changed/,
      /rows in PostgreSQL/,
      /NDJSON parts and the manifest/,
      /QueryData reads customers from egress-private-2/,
    ])
      expect(r.outcomes.some((o) => what.test(o.what))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
