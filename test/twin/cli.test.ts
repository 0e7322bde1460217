/**
 * `npm run twin` on bad input: a clear error and exit 2 before anything is created; `--clean` removes a
 * leftover namespace by the twin's prefix and leaves other namespaces alone (needs root).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listNamespaces } from "../../ops/twin/host";

const ROOT = path.resolve(__dirname, "..", "..");
const twin = (args: string[]) =>
  spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(ROOT, "ops/twin/cli.ts"), ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );

test("a stack that does not exist: exit 2, the stack named", () => {
  const r = twin(["no-such-stack"]);
  expect(r.stderr).toMatch(
    /twin: stack "no-such-stack" does not exist \(no Pulumi\.no-such-stack\.yaml, no out\/no-such-stack\/graph\.json\)/,
  );
  expect(r.status).toBe(2);
});

test("a --graph file that is not a graph: exit 2, the file named, no stack trace", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-cli-"));
  const f = path.join(dir, "graph.json");
  fs.writeFileSync(f, JSON.stringify({ resources: "nope" }));
  const r = twin(["--graph", f]);
  expect(r.stderr).toContain(`twin: ${f} is not a synthesized graph`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(2);
  const u = twin(["dev", "--frobnicate"]);
  expect(u.stderr).toMatch(/unknown option --frobnicate/);
  expect(u.status).toBe(2);
});

test("--clean removes a leftover twin namespace (and its /etc/netns entry), nothing else", () => {
  if (process.getuid?.() !== 0) throw new Error("--clean needs root: run jest as root");
  const leftover = "vtfff0-r0";
  const other = `vlk-not-twin-${process.pid}`;
  spawnSync("ip", ["netns", "add", leftover]);
  spawnSync("ip", ["netns", "add", other]);
  fs.mkdirSync(`/etc/netns/${leftover}`, { recursive: true });
  try {
    expect(listNamespaces()).toEqual(expect.arrayContaining([leftover, other]));
    const r = twin(["--clean"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(leftover);
    expect(listNamespaces()).not.toContain(leftover);
    expect(listNamespaces()).toContain(other);
    expect(fs.existsSync(`/etc/netns/${leftover}`)).toBe(false);
  } finally {
    spawnSync("ip", ["netns", "del", other]);
    spawnSync("ip", ["netns", "del", leftover]);
  }
});
