/**
 * The dev twin end to end: up (namespaces, routes, nftables, moto, dnsmasq, Squid, haproxy, PostgreSQL,
 * stand-ins) → every declared flow from every ENI → every handler with its outcome checks → down. Goal: ≤ 60 s
 * on this machine. Baseline in the same run: the offline checker's flow proof of the same graph, so the result
 * also reads as "the twin costs N× the checker". Needs root; reads out/dev/graph.json (run `npm run synth -- dev`).
 *
 *   npx ts-node --transpile-only bench/twin.bench.ts        env: BENCH_TWIN_ROUNDS (2)
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";
import { analyze } from "../ops/check/flows";
import { GraphModel } from "../ops/check/model/graph";
import type { Graph } from "../ops/synth-core";
import { readGraph } from "../ops/twin/model";
import { runTwin } from "../ops/twin/run";
import { machine, median, runBench, writeResult } from "./common";

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the twin bench needs root");
  const file = path.join(REPO_ROOT, "out", "dev", "graph.json");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run synth -- dev`);
  const graph = readGraph(file);
  const rounds = Number(process.env.BENCH_TWIN_ROUNDS ?? 2);
  const checker: number[] = [];
  const twin: number[] = [];
  const phases: Record<string, number>[] = [];
  let allOk = true;
  for (let i = 0; i < rounds; i++) {
    const c0 = process.hrtime.bigint();
    analyze(GraphModel.of(graph as unknown as Graph));
    checker.push(Number(process.hrtime.bigint() - c0) / 1e6);
    const t0 = process.hrtime.bigint();
    const r = await runTwin(graph, path.dirname(file), { handlers: true });
    twin.push(Number(process.hrtime.bigint() - t0) / 1e6);
    phases.push(r.timings);
    allOk &&= r.flows.every((f) => f.ok) && r.outcomes.every((o) => o.ok);
  }
  const result = {
    machine: machine(),
    loadAverage: require("os").loadavg(),
    rounds,
    checkerMsMedian: median(checker),
    twinMsMedian: median(twin),
    twinOverChecker: median(twin) / median(checker),
    goalMs: 60_000,
    withinGoal: median(twin) <= 60_000,
    everyFlowAndOutcomeOk: allOk,
    phases,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${writeResult("twin", result)}`);
  if (!allOk) process.exit(1);
}

runBench(main);
