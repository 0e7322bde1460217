import type { TwinResult } from "./run";

/** The run as text: one line per flow (with a line per ENI), then the handlers' outcomes. */
export function formatResult(r: TwinResult): string {
  const out: string[] = [`twin of ${r.stack} (run ${r.prefix}): real traffic from every ENI of every function`, ""];
  for (const f of r.flows) {
    out.push(`  ${f.ok ? "OK    " : "FAILED"} ${f.fn}: ${f.flow}`);
    for (const d of f.details) out.push(`           · ${d}`);
  }
  if (r.outcomes.length) {
    out.push("", "handlers (the deployable bundles, canned events, outcomes checked where they land):");
    for (const o of r.outcomes)
      out.push(`  ${o.ok ? "OK    " : "FAILED"} ${o.fn}: ${o.what}`, `           · ${o.detail}`);
  }
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  const t = r.timings;
  out.push(
    "",
    `timings (ms): network ${t.network ?? "-"}, services ${t.services ?? "-"}, flows ${t.flows ?? "-"}, handlers ${t.handlers ?? "-"}, teardown ${t.teardown ?? "-"}, total ${t.total ?? "-"}`,
  );
  return out.join("\n");
}
