import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "./graph";
import { graphContext } from "../../ops/check/evidence";
import { LogicalTarget, logicalFromEnv, Recorded, recordConnections, uncoveredConnections } from "./connections";

/**
 * For the real handler suites (test/handlers/*): record every connection, CONNECT and AWS request the
 * bundle makes while the suite runs, and check them, as the suite's last test, against the same
 * function in the dev stack: every connection covered by a declared flow, every CONNECT admitted by
 * the proxy tier's whitelist, every AWS call declared in functions/<fn>/aws-calls.ts and allowed by
 * the function's role for the resource it targets. Loopback servers map back to the deployed
 * destination through the variable that named them (logicalFromEnv in ./connections.ts).
 */
export function recordBundleConnections(): Recorded[] {
  const recorded: Recorded[] = [];
  let stop: (() => void) | undefined;
  beforeAll(() => {
    stop = recordConnections(recorded);
  });
  afterAll(() => stop?.());
  return recorded;
}

type Res = Graph["resources"][number];

const SYNTH_INPUTS = [
  "components",
  "stacks",
  "functions",
  "ops",
  "examples",
  "index.ts",
  "Pulumi.dev.yaml",
  "package-lock.json",
];

function hashInputs(): string {
  const h = createHash("sha256");
  const visit = (p: string) => {
    const full = path.join(REPO_ROOT, p);
    if (!fs.existsSync(full)) return;
    const st = fs.statSync(full);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(full).sort()) if (e !== "node_modules") visit(path.join(p, e));
    } else {
      h.update(p);
      h.update(fs.readFileSync(full));
    }
  };
  SYNTH_INPUTS.forEach(visit);
  return h.digest("hex").slice(0, 16);
}

/**
 * The dev stack's graph resources. Synthesizing takes tens of seconds, so the first suite to need it
 * writes it to out/test-graphs/dev-<hash of every synth input>.json and the others read it; any change
 * to the program, the functions or the config changes the hash.
 */
export async function devGraphResources(): Promise<Res[]> {
  const file = path.join(REPO_ROOT, "out", "test-graphs", `dev-${hashInputs()}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as Res[];
  const resources = (await synthForTest("dev")).result.graph.resources;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(resources));
  fs.renameSync(tmp, file);
  return resources;
}

/**
 * The last test of a handler suite: what the bundle `fn` did is covered in the dev stack. Fails when
 * nothing of `fn` was recorded (a filtered run: run the whole file).
 */
export function testBundleConnectionsDeclared(
  fn: string,
  recorded: Recorded[],
  expected: string[],
  opts: {
    /** Addresses no variable names (the suite says what they stand for, e.g. a host the event carries). */
    logical?: (host: string, port: number) => LogicalTarget | undefined;
    /** Resource values no variable names (matched), and the template each stands for (see callTemplate). */
    stands?: [RegExp, string][];
  } = {},
): void {
  const { logical, stands } = opts;
  test(`every connection and AWS call the ${fn} bundle made is a declared flow and an allowed IAM statement in dev`, async () => {
    const mine = recorded.filter((r) => r.fn === fn);
    const resources = await devGraphResources();
    // Not vacuous: the suite made the connections and calls this function is known for.
    expect(summarize(resources, mine, logical)).toEqual(expect.arrayContaining(expected));
    expect(uncoveredConnections(resources, mine, logical, stands)).toEqual([]);
  }, 180_000);
}

/**
 * One line per distinct thing recorded: "aws <action>", "connect <variable that named it>",
 * "tunnel <variable>" (a CONNECT through the proxy), or the raw address when nothing maps it.
 */
export function summarize(
  resources: Res[],
  recorded: Recorded[],
  logical?: (host: string, port: number) => LogicalTarget | undefined,
): string[] {
  const ctx = graphContext(resources);
  const out = new Set<string>();
  for (const r of recorded) {
    if (r.kind === "aws") {
      out.add(`aws ${r.action}`);
      continue;
    }
    const lambda = resources.find(
      (x) =>
        x.type === "aws:lambda/function:Function" && (x.name === `${r.fn}-fn` || x.name === `${r.fn}-connector-fn`),
    );
    const env = (lambda?.inputs.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {};
    const t = logicalFromEnv(r, env, ctx.region) ?? logical?.(r.host, r.port);
    out.add(`${r.kind} ${t?.env ?? `${r.host}:${r.port}`}`);
  }
  return [...out].sort();
}
