// The logic behind `npm run deploy`: which stacks, in which order, with which config; progress from the
// engine's events; stop at the first failure. The Pulumi CLI is reached only through a WorkspaceFactory,
// so everything here runs in tests against a scripted fake.
import * as fs from "fs";
import * as path from "path";
import {
  LocalWorkspace,
  PulumiCommand,
  type DestroyResult,
  type EngineEvent,
  type OpMap,
  type OpType,
  type OutputMap,
  type PreviewResult,
  type UpResult,
  type UpdateSummary,
} from "@pulumi/pulumi/automation";
import { ConfigError, configErrorsIn } from "../components/errors";
import { EnvConfig, PROJECT, Role, ROLES } from "../stacks/config/schema";
import { loadConfig } from "../stacks/config/load";
import { readStackConfig } from "./stack-config";

export type Action = "up" | "preview" | "destroy";

export interface DeployArgs {
  /** Environment name: the stack in combined mode, the `<env>-` prefix of the role stacks in split mode. */
  env: string;
  /** Split mode: `<env>-network` → `<env>-data` → `<env>-apps`. Default false (one stack `<env>`). */
  split: boolean;
  /** Default "up". */
  action: Action;
  /** Split mode only: run this role's stack alone. Default every role. */
  role?: Role;
  /** Required for up/destroy on prod. Default false. */
  yes: boolean;
}

export const USAGE =
  "usage: npm run deploy -- <env> [--split] [--preview | --destroy] [--role network|data|apps] [--yes]";

export const INSTALL_HINT = [
  "the Pulumi CLI is not installed or not on PATH; the Automation API drives it to deploy.",
  "  install it:  curl -fsSL https://get.pulumi.com | sh   (then add ~/.pulumi/bin to PATH)",
  "  log in:      pulumi login   (or `pulumi login --local` for a state directory on this machine)",
  "  offline:     npm run synth -- <stack> evaluates any stack without the CLI, credentials or network.",
].join("\n");

/** Bad command line. Exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = "UsageError";
  }
}

/** One or more stack config files are missing or invalid; nothing was run. Exit 2. */
export class DeployConfigError extends Error {
  constructor(public readonly problems: { file: string; errors: string[] }[]) {
    super(
      "invalid stack configuration, nothing was run:\n" +
        problems
          .map((p) => `  ${p.file}:\n` + p.errors.map((e) => `    - ${e.replace(/\n\s*/g, " ")}`).join("\n"))
          .join("\n"),
    );
    this.name = "DeployConfigError";
  }
}

/** up/destroy on prod without --yes. Exit 2. */
export class DeployRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployRefused";
  }
}

/** The Pulumi CLI cannot be spawned. Exit 3. */
export class CliMissingError extends Error {
  constructor(public readonly spawnError?: unknown) {
    super(INSTALL_HINT);
    this.name = "CliMissingError";
  }
}

export interface ResourceRef {
  urn: string;
  type: string;
  name: string;
}

/** A stack's operation failed; the stacks after it were not run. Exit 1. */
export class StackFailedError extends Error {
  constructor(
    public readonly stackName: string,
    public readonly action: Action,
    public readonly resource: ResourceRef | undefined,
    public readonly detail: string,
    public readonly completed: string[],
    public readonly notRun: string[],
  ) {
    const where = resource ? ` at ${resource.type} "${resource.name}"` : "";
    super(
      `${action} of stack ${stackName} failed${where}:\n` +
        indent(detail) +
        (completed.length ? `\n  completed: ${completed.join(", ")}` : "") +
        (notRun.length ? `\n  not run: ${notRun.join(", ")}` : ""),
    );
    this.name = "StackFailedError";
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliMissingError) return 3;
  if (err instanceof UsageError || err instanceof DeployConfigError || err instanceof DeployRefused) return 2;
  return 1;
}

export function parseDeployArgs(argv: string[]): DeployArgs | "help" {
  const positional: string[] = [];
  let split = false;
  let yes = false;
  let role: Role | undefined;
  const actions: Action[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") return "help";
    else if (a === "--split") split = true;
    else if (a === "--yes" || a === "-y") yes = true;
    else if (a === "--preview") actions.push("preview");
    else if (a === "--destroy") actions.push("destroy");
    else if (a === "--role" || a.startsWith("--role=")) {
      const v = a === "--role" ? argv[++i] : a.slice("--role=".length);
      if (!v) throw new UsageError("--role needs a value: network, data or apps");
      if (!(ROLES as readonly string[]).includes(v))
        throw new UsageError(`--role ${v}: not a role; use network, data or apps`);
      role = v as Role;
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 1)
    throw new UsageError(
      positional.length === 0
        ? "name the environment, e.g. dev"
        : `one environment at a time, got ${positional.join(" ")}`,
    );
  const env = positional[0];
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(env))
    throw new UsageError(`"${env}" is not a stack name (letters, digits, - _ .)`);
  if (actions.length > 1) throw new UsageError("--preview and --destroy exclude each other");
  if (role && !split)
    throw new UsageError(`--role ${role} needs --split: combined mode runs every role in the one stack ${env}`);
  return { env, split, action: actions[0] ?? "up", role, yes };
}

export interface PlannedStack {
  stackName: string;
  /** The one role this stack runs (split mode); undefined for the combined stack. */
  role?: Role;
  /** `Pulumi.<stack>.yaml`, the file the CLI reads the stack's config from. */
  configFile: string;
  config: EnvConfig;
}

/**
 * The stacks to run, in run order (destroy: reverse dependency order), each with its config file
 * validated offline by the program's own loadConfig, so a bad key stops everything before the CLI starts.
 */
export function planDeploy(args: DeployArgs, root: string): PlannedStack[] {
  const roles: readonly Role[] = args.role ? [args.role] : ROLES;
  const targets: { stackName: string; role?: Role }[] = args.split
    ? roles.map((r) => ({ stackName: `${args.env}-${r}`, role: r }))
    : [{ stackName: args.env }];
  if (args.action === "destroy") targets.reverse();

  const problems: { file: string; errors: string[] }[] = [];
  const planned: PlannedStack[] = [];
  for (const t of targets) {
    const configFile = path.join(root, `Pulumi.${t.stackName}.yaml`);
    const file = path.basename(configFile);
    if (!fs.existsSync(configFile)) {
      const fix = t.role
        ? `split mode reads one file per role stack; create it with roles: [${t.role}] (see Pulumi.dev-${t.role}.yaml)`
        : `create it (see Pulumi.dev.yaml), or pass --split for the ${args.env}-network/-data/-apps stacks`;
      problems.push({ file, errors: [`not found in ${root}. Fix: ${fix}`] });
      continue;
    }
    const errors: string[] = [];
    let config: EnvConfig | undefined;
    try {
      const stackFile = readStackConfig(configFile);
      config = loadConfig(stackFile.config, stackFile.secretKeys);
    } catch (e) {
      errors.push(...messagesOf(e));
    }
    if (config && t.role) errors.push(...splitRules(config, t.role, args.env, file).map((e) => e.message));
    if (errors.length > 0) problems.push({ file, errors });
    else planned.push({ stackName: t.stackName, role: t.role, configFile, config: config as EnvConfig });
  }
  if (problems.length > 0) throw new DeployConfigError(problems);
  return planned;
}

/** A split stack runs exactly its role and reads only stacks that run before it, by their split names. */
function splitRules(cfg: EnvConfig, role: Role, env: string, file: string): ConfigError[] {
  const errors: ConfigError[] = [];
  if (cfg.roles.length !== 1 || cfg.roles[0] !== role) {
    errors.push(
      new ConfigError(
        `${PROJECT}:roles`,
        `is [${cfg.roles.join(", ")}], but the split stack ${env}-${role} runs only the ${role} role`,
        `set roles: [${role}] in ${file}`,
      ),
    );
  }
  for (const r of ["network", "data"] as const) {
    const named = cfg.upstream[r];
    if (!named) continue;
    const expected = `${env}-${r}`;
    if (ROLES.indexOf(r) >= ROLES.indexOf(role)) {
      errors.push(
        new ConfigError(
          `${PROJECT}:upstream.${r}`,
          `the ${role} stack runs before ${expected} in split mode, so it cannot read its outputs`,
          `remove upstream.${r} from ${file}`,
        ),
      );
    } else if (named.split("/").pop() !== expected) {
      errors.push(
        new ConfigError(
          `${PROJECT}:upstream.${r}`,
          `names "${named}", but split mode deploys the ${r} role as ${expected}`,
          `set upstream.${r}: ${expected} in ${file}`,
        ),
      );
    }
  }
  return errors;
}

function messagesOf(e: unknown): string[] {
  const found = configErrorsIn(e);
  if (found) return found.map((x) => x.message);
  if (e instanceof Error) return [e.message];
  return [String(e)];
}

/** up/destroy change real accounts; on prod that takes an explicit --yes. preview never changes anything. */
export function guardProd(args: DeployArgs, plan: PlannedStack[]): void {
  if (args.action === "preview" || args.yes) return;
  const prod = plan.filter((p) => args.env === "prod" || p.config.environment === "prod").map((p) => p.stackName);
  if (prod.length === 0) return;
  const flags = [args.split ? "--split" : "", args.role ? `--role ${args.role}` : ""].filter(Boolean).join(" ");
  const again = `npm run deploy -- ${args.env}${flags ? " " + flags : ""}`;
  throw new DeployRefused(
    `refusing to ${args.action} ${prod.join(", ")}: environment prod changes production and needs --yes.\n` +
      `  check first:  ${again} --preview\n` +
      `  then:         ${again}${args.action === "destroy" ? " --destroy" : ""} --yes`,
  );
}

// ---------------------------------------------------------------------------------------------
// The workspace seam: the real one wraps LocalWorkspace; tests inject a fake that emits engine events.

export interface OpHooks {
  /** Engine events, the same objects the Automation API hands to `onEvent`. */
  onEvent: (event: EngineEvent) => void;
  /** The CLI's own text output; kept for the failure message, not printed. */
  onOutput: (text: string) => void;
}

export type StackUpResult = Pick<UpResult, "outputs"> & { summary: Pick<UpdateSummary, "resourceChanges"> };
export type StackPreviewResult = Pick<PreviewResult, "changeSummary">;
export type StackDestroyResult = { summary: Pick<DestroyResult["summary"], "resourceChanges"> };

export interface DeployStack {
  readonly name: string;
  up(hooks: OpHooks): Promise<StackUpResult>;
  preview(hooks: OpHooks): Promise<StackPreviewResult>;
  destroy(hooks: OpHooks): Promise<StackDestroyResult>;
  outputs(): Promise<OutputMap>;
}

export interface WorkspaceFactory {
  /** Resolves when the Pulumi CLI can be run; throws CliMissingError when it cannot. */
  checkCli(): Promise<void>;
  createOrSelectStack(stackName: string): Promise<DeployStack>;
}

/** The spawn of `pulumi` failed because there is no such executable (as the Automation API reports it). */
export function isCliMissing(e: unknown): boolean {
  if (e instanceof CliMissingError) return true;
  const err = e as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown } | undefined;
  if (
    err?.code === "ENOENT" &&
    typeof err.syscall === "string" &&
    err.syscall.startsWith("spawn") &&
    /pulumi/.test(String(err.path ?? ""))
  )
    return true;
  return typeof err?.message === "string" && /(spawn \S*pulumi\S* ENOENT|ENOENT: \S*pulumi\S* )/.test(err.message);
}

/** The real factory: one LocalWorkspace per stack over the repository (Pulumi.yaml, Pulumi.<stack>.yaml). */
export function localWorkspaceFactory(workDir: string): WorkspaceFactory {
  let command: Promise<PulumiCommand> | undefined;
  const cli = (): Promise<PulumiCommand> => {
    command ??= PulumiCommand.get().catch((e: unknown) => {
      throw isCliMissing(e) ? new CliMissingError(e) : e;
    });
    return command;
  };
  return {
    checkCli: async () => {
      await cli();
    },
    async createOrSelectStack(stackName) {
      const pulumiCommand = await cli();
      const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { pulumiCommand });
      // Colour codes off: the messages end up in our own lines. destroy keeps the stack and its
      // Pulumi.<stack>.yaml (no `remove`), so a later up finds its config again.
      return {
        name: stackName,
        up: (h) => stack.up({ onEvent: h.onEvent, onOutput: h.onOutput, color: "never" }),
        preview: (h) => stack.preview({ onEvent: h.onEvent, onOutput: h.onOutput, color: "never" }),
        destroy: (h) => stack.destroy({ onEvent: h.onEvent, onOutput: h.onOutput, color: "never" }),
        outputs: () => stack.outputs(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running the plan.

export interface DeployDeps {
  factory: WorkspaceFactory;
  /** Repository root holding Pulumi.yaml and the Pulumi.<stack>.yaml files. */
  root: string;
  /** Progress and summary lines. Default console.log. */
  log?: (line: string) => void;
  /** Milliseconds, for durations. Default Date.now. */
  now?: () => number;
}

export interface StackReport {
  stack: string;
  action: Action;
  changes: OpMap;
  durationMs: number;
  /** up: the stack's new outputs; preview: its current outputs (before the change); destroy: none. */
  outputs: OutputMap;
}

export async function runDeploy(args: DeployArgs, deps: DeployDeps): Promise<StackReport[]> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const now = deps.now ?? Date.now;
  const plan = planDeploy(args, deps.root);
  guardProd(args, plan);
  await deps.factory.checkCli();

  const width = Math.max(...plan.map((p) => p.stackName.length));
  const reports: StackReport[] = [];
  const started = now();
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    const progress = new StackProgress(p.stackName, width, args.action, log, now);
    const stackStarted = now();
    let changes: OpMap | undefined;
    let outputs: OutputMap = {};
    try {
      const stack = await deps.factory.createOrSelectStack(p.stackName);
      if (args.action === "up") {
        const r = await stack.up(progress.hooks);
        changes = r.summary.resourceChanges;
        outputs = r.outputs;
      } else if (args.action === "preview") {
        changes = (await stack.preview(progress.hooks)).changeSummary;
        outputs = await stack.outputs().catch(() => ({}));
      } else {
        changes = (await stack.destroy(progress.hooks)).summary.resourceChanges;
      }
    } catch (e) {
      if (isCliMissing(e)) throw e instanceof CliMissingError ? e : new CliMissingError(e);
      throw new StackFailedError(
        p.stackName,
        args.action,
        progress.failedResource(),
        progress.failureDetail(e),
        reports.map((r) => r.stack),
        plan.slice(i + 1).map((s) => s.stackName),
      );
    }
    const report: StackReport = {
      stack: p.stackName,
      action: args.action,
      changes: nonEmpty(changes) ?? progress.summaryChanges(),
      durationMs: now() - stackStarted,
      outputs,
    };
    reports.push(report);
    log(formatSummary(report));
  }
  log(`${verb(args.action)} ${reports.map((r) => r.stack).join(" → ")} in ${seconds(now() - started)}`);
  return reports;
}

function nonEmpty(m: OpMap | undefined): OpMap | undefined {
  return m && Object.keys(m).length > 0 ? m : undefined;
}

function verb(action: Action): string {
  return action === "up" ? "deployed" : action === "preview" ? "previewed" : "destroyed";
}

// ---------------------------------------------------------------------------------------------
// Engine events → progress lines.

const ROOT_TYPE = "pulumi:pulumi:Stack";

/** `urn:pulumi:<stack>::<project>::<parent types$>type::<name>` → the resource's own type and name. */
export function parseUrn(urn: string): ResourceRef {
  const parts = urn.split("::");
  if (parts.length < 4) return { urn, type: "?", name: urn };
  return { urn, type: parts[2].split("$").pop() as string, name: parts.slice(3).join("::") };
}

/** Engine messages carry colour directives like `<{%reset%}>`, even with colour off. */
function plain(text: string): string {
  return text
    .replace(/<\{%[^%]*%\}>/g, "")
    .replace(/\u001b\[[0-9;]*m/g, "")
    .trim();
}

class StackProgress {
  private readonly startedAt = new Map<string, number>();
  private readonly counted: OpMap = {};
  private readonly errors: { urn?: string; message: string }[] = [];
  private readonly output: string[] = [];
  private failedUrn: string | undefined;
  private summaryEvent: OpMap | undefined;

  readonly hooks: OpHooks = {
    onEvent: (e) => this.onEvent(e),
    onOutput: (text) => {
      this.output.push(text);
    },
  };

  constructor(
    private readonly stack: string,
    private readonly width: number,
    private readonly action: Action,
    private readonly log: (line: string) => void,
    private readonly now: () => number,
  ) {}

  private line(op: string, ref: ResourceRef, tail = ""): void {
    this.log(`${this.stack.padEnd(this.width)}  ${op.padEnd(7)}  ${ref.type}  ${ref.name}${tail ? "  " + tail : ""}`);
  }

  private count(op: OpType): void {
    this.counted[op] = (this.counted[op] ?? 0) + 1;
  }

  private onEvent(e: EngineEvent): void {
    if (e.resourcePreEvent) {
      const m = e.resourcePreEvent.metadata;
      if (this.action === "preview") {
        // A preview's steps are all planned: one line per planned change, at the step itself.
        this.count(m.op);
        if (m.op !== "same") this.line(m.op, parseUrn(m.urn), "(planned)");
      } else if (!e.resourcePreEvent.planning) {
        this.startedAt.set(`${m.op} ${m.urn}`, this.now());
      }
    } else if (e.resOutputsEvent) {
      if (this.action === "preview" || e.resOutputsEvent.planning) return;
      const m = e.resOutputsEvent.metadata;
      this.count(m.op);
      if (m.op === "same") return;
      const t0 = this.startedAt.get(`${m.op} ${m.urn}`);
      this.line(m.op, parseUrn(m.urn), t0 === undefined ? "" : `(${seconds(this.now() - t0)})`);
    } else if (e.resOpFailedEvent) {
      const m = e.resOpFailedEvent.metadata;
      this.failedUrn ??= m.urn;
      const t0 = this.startedAt.get(`${m.op} ${m.urn}`);
      this.line("failed", parseUrn(m.urn), `${m.op}${t0 === undefined ? "" : ` (${seconds(this.now() - t0)})`}`);
    } else if (e.diagnosticEvent) {
      const d = e.diagnosticEvent;
      if (d.severity !== "error" && d.severity !== "warning") return;
      const message = plain(d.message);
      if (d.severity === "error") this.errors.push({ urn: d.urn, message });
      const ref = d.urn ? parseUrn(d.urn) : { urn: "", type: "", name: "" };
      this.log(
        `${this.stack.padEnd(this.width)}  ${d.severity.padEnd(7)}  ${ref.type ? `${ref.type}  ${ref.name}  ` : ""}${message.split("\n")[0]}`,
      );
    } else if (e.summaryEvent) {
      this.summaryEvent = e.summaryEvent.resourceChanges;
    }
  }

  /** The resource to blame: the failed step, else the first resource with an error diagnostic, else the stack. */
  failedResource(): ResourceRef | undefined {
    if (this.failedUrn) return parseUrn(this.failedUrn);
    const urns = this.errors.map((x) => x.urn).filter((u): u is string => !!u);
    const own = urns.find((u) => parseUrn(u).type !== ROOT_TYPE) ?? urns[0];
    return own ? parseUrn(own) : undefined;
  }

  failureDetail(e: unknown): string {
    const name = (e as Error)?.name;
    if (name === "ConcurrentUpdateError") {
      return `another update holds the lock on ${this.stack}: wait for it to finish, or run \`pulumi cancel -s ${this.stack}\` if it died`;
    }
    const blamed = this.failedResource()?.urn;
    const own = this.errors.filter((x) => x.urn === blamed).map((x) => x.message);
    const messages = own.length > 0 ? own : this.errors.map((x) => x.message);
    if (messages.length > 0) return clip(messages.join("\n"), 30);
    // No engine diagnostics (the CLI failed before the engine ran): the CLI's own words.
    const text = plain((e as Error)?.message ?? String(e)) || plain(this.output.join(""));
    return clip(text, 15);
  }

  summaryChanges(): OpMap {
    return this.summaryEvent ?? this.counted;
  }
}

function clip(text: string, lines: number): string {
  const all = text.split("\n").filter((l) => l.trim().length > 0);
  return all.length <= lines
    ? all.join("\n")
    : [...all.slice(0, lines), `… ${all.length - lines} more lines`].join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

export function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

// ---------------------------------------------------------------------------------------------
// The per-stack summary table.

const OP_ORDER: OpType[] = [
  "create",
  "update",
  "replace",
  "create-replacement",
  "delete-replaced",
  "delete",
  "import",
  "read",
  "same",
];

export function formatSummary(r: StackReport): string {
  const lines: string[] = [];
  const ops = Object.entries(r.changes)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)) as [string, number][];
  const total = ops.reduce((s, [, n]) => s + n, 0);
  lines.push(`┌ ${r.stack}: ${r.action} ${r.action === "preview" ? "planned" : "done"} in ${seconds(r.durationMs)}`);
  const opWidth = Math.max(6, ...ops.map(([op]) => op.length));
  lines.push(`│ ${"op".padEnd(opWidth)}  resources`);
  for (const [op, n] of ops) lines.push(`│ ${op.padEnd(opWidth)}  ${String(n).padStart(9)}`);
  lines.push(`│ ${"total".padEnd(opWidth)}  ${String(total).padStart(9)}`);
  const outs = Object.entries(r.outputs);
  if (outs.length > 0) {
    lines.push(`│ ${r.action === "preview" ? "outputs (current, before this change)" : "outputs"}`);
    const keyWidth = Math.max(...outs.map(([k]) => k.length));
    for (const [k, v] of outs.sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(
        `│   ${k.padEnd(keyWidth)}  ${v.secret ? "[secret]" : truncate(JSON.stringify(v.value) ?? "undefined", 120)}`,
      );
    }
  }
  lines.push("└");
  return lines.join("\n");
}

function rank(op: string): number {
  const i = OP_ORDER.indexOf(op as OpType);
  return i < 0 ? OP_ORDER.length : i;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}
