/**
 * The twin's reading of prod's proxy tier (placement "public", no root needed): each instance gets an EIP of the
 * tier's pool, mapped 1:1 at the internet gateway, and the SaaS allowlists that pool (not the NAT's EIPs). In its own
 * file: prod is synthesized in a fresh module registry (a second synth in test/twin/model.test.ts's process would
 * share the mocks' state with dev's). The kernel side is proven by `npm run twin -- prod` and test/twin/agreement.
 */
import { buildModel, GraphFile } from "../../ops/twin/model";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { copy, drop } from "../check/mutate";

const model = (g: Graph) => buildModel(g as unknown as GraphFile, "/nonexistent");

test('proxy placement "public": each instance gets a pool EIP (1:1 at the internet gateway), and that pool is what the SaaS allowlists', async () => {
  const prod = (await synthForTest("prod")).result.graph;
  const p = model(prod);
  const pool = (prod.outputs.apps as { proxyTier: { egressIps: string[] } }).proxyTier.egressIps;
  // The pool holds one EIP per instance the group may run (scaling.max 4); the twin runs the desired 2, each on one
  // of the pool's addresses, and the SaaS allowlists the whole pool.
  expect(pool).toHaveLength(4);
  expect(p.proxy!.instances).toHaveLength(2);
  expect(p.publicEnis.map((x) => [x.eni.ip, x.eip])).toEqual(p.proxy!.instances.map((e, i) => [e.ip, pool[i]]));
  expect(p.proxy!.egressIps).toEqual(pool);
  // The NAT's EIPs are not the tier's.
  expect(p.egressIps.some((ip) => pool.includes(ip))).toBe(false);
  // A graph whose pool has no EIPs left gives the instances none, and says so.
  const q = copy(prod);
  for (const e of q.resources.filter((r) => /proxy-eip-/.test(r.name))) drop(q, "Eip", e.name);
  const pq = model(q);
  expect(pq.publicEnis).toEqual([]);
  expect(pq.warnings).toEqual(
    expect.arrayContaining([expect.stringMatching(/EIP pool has 0 addresses for 2 instances/)]),
  );
});
