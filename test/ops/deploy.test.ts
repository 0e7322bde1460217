import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  ConcurrentUpdateError,
  EngineEvent,
  OpMap,
  OpType,
  OutputMap,
  StepEventMetadata,
} from "@pulumi/pulumi/automation";
import {
  CliMissingError,
  DeployArgs,
  DeployConfigError,
  DeployRefused,
  DeployStack,
  exitCodeOf,
  localWorkspaceFactory,
  OpHooks,
  parseDeployArgs,
  planDeploy,
  runDeploy,
  StackFailedError,
  UsageError,
  WorkspaceFactory,
} from "../../ops/deploy-core";

const ROOT = path.resolve(__dirname, "../..");
const PROVIDER_A = "urn:pulumi:dev::vpc-lambda-kit::pulumi:providers:aws::account-a::0a1b2c3d";

// ---------------------------------------------------------------------------------------------
// A scripted workspace: emits the engine events the CLI would (pre → outputs per step, diagnostics,
// failed step, summary, cancel), advancing a fake clock so durations are known, and records calls.

interface FakeResource {
  /** Qualified type chain as in a URN, e.g. `vpc-lambda-kit:network:FixedEgressVpc$aws:ec2/vpc:Vpc`. */
  type: string;
  name: string;
  /** Op in an up; default create. */
  op?: OpType;
  /** Milliseconds the step takes on the fake clock. Default 1200. */
  ms?: number;
}

interface FakeScript {
  resources: FakeResource[];
  outputs?: OutputMap;
  /** The step on this resource fails with this provider message. */
  failOn?: { name: string; message: string };
  /** The operation rejects with this before any event (e.g. a lock held by another update). */
  reject?: Error;
}

class FakeWorkspace implements WorkspaceFactory {
  readonly calls: string[] = [];
  t = 0;
  readonly now = (): number => this.t;
  private seq = 0;

  constructor(private readonly scripts: Record<string, FakeScript>) {}

  async checkCli(): Promise<void> {
    this.calls.push("checkCli");
  }

  async createOrSelectStack(stackName: string): Promise<DeployStack> {
    this.calls.push(`select ${stackName}`);
    const script = this.scripts[stackName];
    if (!script) throw new Error(`fake: no script for ${stackName}`);
    return {
      name: stackName,
      up: async (h) => {
        this.calls.push(`up ${stackName}`);
        const changes = this.play(stackName, script, h, "up");
        return { summary: { resourceChanges: changes }, outputs: script.outputs ?? {} };
      },
      preview: async (h) => {
        this.calls.push(`preview ${stackName}`);
        return { changeSummary: this.play(stackName, script, h, "preview") };
      },
      destroy: async (h) => {
        this.calls.push(`destroy ${stackName}`);
        return { summary: { resourceChanges: this.play(stackName, script, h, "destroy") } };
      },
      outputs: async () => {
        this.calls.push(`outputs ${stackName}`);
        return script.outputs ?? {};
      },
    };
  }

  private event(e: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent {
    return { sequence: this.seq++, timestamp: Math.floor(this.t / 1000), ...e };
  }

  private play(stack: string, script: FakeScript, h: OpHooks, mode: "up" | "preview" | "destroy"): OpMap {
    if (script.reject) throw script.reject;
    const urnOf = (type: string, name: string) => `urn:pulumi:${stack}::vpc-lambda-kit::${type}::${name}`;
    const planning = mode === "preview" ? { planning: true } : {};
    const resources: FakeResource[] = [
      { type: "pulumi:pulumi:Stack", name: `vpc-lambda-kit-${stack}`, op: "same", ms: 0 },
      ...script.resources,
    ];
    const steps =
      mode === "destroy" ? [...resources].reverse().map((r) => ({ ...r, op: "delete" as OpType })) : resources;
    const changes: OpMap = {};
    h.onEvent(this.event({ preludeEvent: { config: { "aws:region": "ap-northeast-1" } } }));
    h.onOutput(
      `${mode === "preview" ? "Previewing update" : mode === "destroy" ? "Destroying" : "Updating"} (${stack})\n`,
    );
    for (const r of steps) {
      const op = r.op ?? "create";
      const type = r.type.split("$").pop() as string;
      const metadata: StepEventMetadata = {
        op,
        urn: urnOf(r.type, r.name),
        type,
        provider: r.type.startsWith("pulumi:") ? "" : PROVIDER_A,
      };
      h.onEvent(this.event({ resourcePreEvent: { metadata, ...planning } }));
      if (mode !== "preview") this.t += r.ms ?? 1200;
      if (mode !== "preview" && script.failOn?.name === r.name) {
        h.onEvent(
          this.event({
            diagnosticEvent: {
              urn: metadata.urn,
              prefix: "error: ",
              message: `<{%reset%}>${script.failOn.message}<{%reset%}>\n`,
              color: "never",
              severity: "error",
            },
          }),
        );
        h.onEvent(this.event({ resOpFailedEvent: { metadata, status: 1, steps: 1 } }));
        h.onEvent(
          this.event({
            diagnosticEvent: {
              urn: urnOf("pulumi:pulumi:Stack", `vpc-lambda-kit-${stack}`),
              prefix: "error: ",
              message: "update failed\n",
              color: "never",
              severity: "error",
            },
          }),
        );
        h.onEvent(
          this.event({
            summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: changes, policyPacks: {} },
          }),
        );
        h.onEvent(this.event({ cancelEvent: {} }));
        throw new Error(`code: 255\n stdout: Updating (${stack})\n stderr: error: update failed\n`);
      }
      h.onEvent(this.event({ resOutputsEvent: { metadata, ...planning } }));
      changes[op] = (changes[op] ?? 0) + 1;
    }
    h.onEvent(
      this.event({
        diagnosticEvent: { message: "a warning the program logged\n", color: "never", severity: "warning" },
      }),
    );
    h.onEvent(
      this.event({
        summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: changes, policyPacks: {} },
      }),
    );
    h.onEvent(this.event({ cancelEvent: {} }));
    return changes;
  }
}

const NETWORK: FakeScript = {
  resources: [
    { type: "vpc-lambda-kit:network:FixedEgressVpc", name: "egress" },
    { type: "vpc-lambda-kit:network:FixedEgressVpc$aws:ec2/vpc:Vpc", name: "egress-vpc", ms: 1200 },
    { type: "vpc-lambda-kit:network:FixedEgressVpc$aws:ec2/eip:Eip", name: "egress-eip-0", ms: 2500 },
    { type: "vpc-lambda-kit:network:FixedEgressVpc$aws:ec2/natGateway:NatGateway", name: "egress-nat-0", ms: 95_000 },
    {
      type: "vpc-lambda-kit:network:FixedEgressVpc$aws:ec2/routeTable:RouteTable",
      name: "egress-private-0",
      op: "update",
      ms: 800,
    },
  ],
  outputs: {
    egressIps: { value: ["203.0.113.10"], secret: false },
    environment: { value: "dev", secret: false },
    proxyHeader: { value: "s3cr3t-value", secret: true },
  },
};
const DATA: FakeScript = {
  resources: [
    { type: "vpc-lambda-kit:data:PrivateVpc$aws:ec2/vpc:Vpc", name: "data-vpc" },
    { type: "vpc-lambda-kit:data:AuroraPostgres$aws:rds/cluster:Cluster", name: "data-aurora" },
  ],
  outputs: { environment: { value: "dev", secret: false } },
};
const APPS: FakeScript = {
  resources: [{ type: "vpc-lambda-kit:index:VpcFunction$aws:lambda/function:Function", name: "kintone-sync-fn" }],
};

function fakeFor(overrides: Record<string, Partial<FakeScript>> = {}): FakeWorkspace {
  const base: Record<string, FakeScript> = {
    "dev-network": NETWORK,
    "dev-data": DATA,
    "dev-apps": APPS,
    dev: NETWORK,
    prod: NETWORK,
    "prod-network": NETWORK,
    "prod-data": DATA,
    "prod-apps": APPS,
    live: NETWORK,
  };
  for (const [k, v] of Object.entries(overrides)) base[k] = { ...base[k], ...v };
  return new FakeWorkspace(base);
}

function args(env: string, extra: Partial<DeployArgs> = {}): DeployArgs {
  return { env, split: false, action: "up", yes: false, ...extra };
}

async function run(a: DeployArgs, fake: FakeWorkspace, root = ROOT): Promise<{ lines: string[]; error?: unknown }> {
  const lines: string[] = [];
  try {
    await runDeploy(a, { factory: fake, root, log: (l) => lines.push(...l.split("\n")), now: fake.now });
    return { lines };
  } catch (error) {
    return { lines, error };
  }
}

/** A scratch repository root holding copies of the checked-in stack files, optionally edited. */
function scratchRoot(
  files: Record<string, string>,
  edit: Record<string, (config: Record<string, unknown>) => void> = {},
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-deploy-"));
  for (const [target, source] of Object.entries(files)) {
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${source}.yaml`), "utf8"));
    edit[target]?.(doc.config);
    fs.writeFileSync(path.join(dir, `Pulumi.${target}.yaml`), YAML.stringify(doc));
  }
  return dir;
}

const SPLIT_DEV = { "dev-network": "dev-network", "dev-data": "dev-data", "dev-apps": "dev-apps" };

// ---------------------------------------------------------------------------------------------

describe("order", () => {
  /** The calls a run makes: the CLI check, then each stack selected before `action` runs on it, in this order. */
  const callsFor = (action: string, stacks: string[]) => [
    "checkCli",
    ...stacks.flatMap((s) => [`select ${s}`, `${action} ${s}`]),
  ];

  test("split up runs network → data → apps, each selected before its update", async () => {
    const fake = fakeFor();
    const { error } = await run(args("dev", { split: true }), fake);
    expect(error).toBeUndefined();
    expect(fake.calls).toEqual(callsFor("up", ["dev-network", "dev-data", "dev-apps"]));
  });

  test("split preview runs in the same order and changes nothing", async () => {
    const fake = fakeFor();
    const { error } = await run(args("dev", { split: true, action: "preview" }), fake);
    expect(error).toBeUndefined();
    expect(fake.calls.filter((c) => !c.startsWith("outputs"))).toEqual(
      callsFor("preview", ["dev-network", "dev-data", "dev-apps"]),
    );
    expect(fake.calls.some((c) => /^(up|destroy) /.test(c))).toBe(false);
  });

  test("split destroy runs in reverse: apps → data → network", async () => {
    const fake = fakeFor();
    const { error } = await run(args("dev", { split: true, action: "destroy" }), fake);
    expect(error).toBeUndefined();
    expect(fake.calls).toEqual(callsFor("destroy", ["dev-apps", "dev-data", "dev-network"]));
  });

  test("combined mode runs the one stack named after the environment", async () => {
    const fake = fakeFor();
    await run(args("dev"), fake);
    expect(fake.calls).toEqual(["checkCli", "select dev", "up dev"]);
  });
});

describe("failure", () => {
  test("a failed resource in dev-data stops the run: apps never starts, the error names the stack and the resource", async () => {
    const fake = fakeFor({
      "dev-data": {
        failOn: {
          name: "data-aurora",
          message:
            "creating RDS Cluster (data-aurora): InvalidParameterCombination: The engine version is not available in ap-northeast-1",
        },
      },
    });
    const { lines, error } = await run(args("dev", { split: true }), fake);
    expect(fake.calls).toEqual(["checkCli", "select dev-network", "up dev-network", "select dev-data", "up dev-data"]);
    expect(error).toBeInstanceOf(StackFailedError);
    const e = error as StackFailedError;
    expect(e.stackName).toBe("dev-data");
    expect(e.resource).toEqual({
      urn: "urn:pulumi:dev-data::vpc-lambda-kit::vpc-lambda-kit:data:AuroraPostgres$aws:rds/cluster:Cluster::data-aurora",
      type: "aws:rds/cluster:Cluster",
      name: "data-aurora",
    });
    expect(e.completed).toEqual(["dev-network"]);
    expect(e.notRun).toEqual(["dev-apps"]);
    expect(e.message.split("\n")).toEqual([
      `up of stack dev-data failed at aws:rds/cluster:Cluster "data-aurora":`,
      "  creating RDS Cluster (data-aurora): InvalidParameterCombination: The engine version is not available in ap-northeast-1",
      "  completed: dev-network",
      "  not run: dev-apps",
    ]);
    expect(exitCodeOf(error)).toBe(1);
    // The progress stream shows the failing step where it happened, colour codes stripped.
    expect(lines).toContain(
      "dev-data     error    aws:rds/cluster:Cluster  data-aurora  creating RDS Cluster (data-aurora): InvalidParameterCombination: The engine version is not available in ap-northeast-1",
    );
    expect(lines).toContain("dev-data     failed   aws:rds/cluster:Cluster  data-aurora  create (1.2s)");
    // dev-network's summary was printed; dev-data's was not.
    expect(lines.filter((l) => l.startsWith("┌ "))).toEqual([expect.stringMatching(/^┌ dev-network: up done in /)]);
  });

  test("a failure in a destroy stops before the stacks it depends on", async () => {
    const fake = fakeFor({
      "dev-apps": {
        failOn: { name: "kintone-sync-fn", message: "deleting Lambda Function: ResourceConflictException" },
      },
    });
    const { error } = await run(args("dev", { split: true, action: "destroy" }), fake);
    expect(fake.calls).toEqual(["checkCli", "select dev-apps", "destroy dev-apps"]);
    expect((error as StackFailedError).message).toMatch(
      /^destroy of stack dev-apps failed at aws:lambda\/function:Function "kintone-sync-fn":\n {2}deleting Lambda Function: ResourceConflictException\n {2}not run: dev-data, dev-network$/,
    );
  });

  test("a stack locked by another update says how to recover", async () => {
    const locked = new (ConcurrentUpdateError as unknown as new (r: { toString(): string }) => Error)({
      toString: () => "code: 255\n stderr: error: [409] Conflict: Another update is currently in progress.",
    });
    const fake = fakeFor({ "dev-network": { reject: locked } });
    const { error } = await run(args("dev", { split: true }), fake);
    expect((error as Error).message).toBe(
      "up of stack dev-network failed:\n  another update holds the lock on dev-network: wait for it to finish, or run `pulumi cancel -s dev-network` if it died\n  not run: dev-data, dev-apps",
    );
  });
});

describe("prod guard", () => {
  test.each(["up", "destroy"] as const)(
    "%s on prod is refused without --yes, before the CLI is touched",
    async (action) => {
      const fake = fakeFor();
      const { error } = await run(args("prod", { action }), fake);
      expect(error).toBeInstanceOf(DeployRefused);
      expect((error as Error).message).toMatch(
        new RegExp(`^refusing to ${action} prod: environment prod changes production and needs --yes`),
      );
      expect((error as Error).message).toContain(
        `npm run deploy -- prod${action === "destroy" ? " --destroy" : ""} --yes`,
      );
      expect(fake.calls).toEqual([]);
      expect(exitCodeOf(error)).toBe(2);
    },
  );

  test("preview on prod is always allowed; --yes lets up through", async () => {
    const previewed = fakeFor();
    expect((await run(args("prod", { action: "preview" }), previewed)).error).toBeUndefined();
    expect(previewed.calls).toContain("preview prod");
    const deployed = fakeFor();
    expect((await run(args("prod", { yes: true }), deployed)).error).toBeUndefined();
    expect(deployed.calls).toEqual(["checkCli", "select prod", "up prod"]);
  });

  test("environment prod in the config is guarded whatever the stack is called, and so is the env name prod", async () => {
    const root = scratchRoot(
      { live: "prod", "prod-network": "dev-network", "prod-data": "dev-data", "prod-apps": "dev-apps" },
      {
        "prod-data": (c) => {
          c["vpc-lambda-kit:upstream"] = { network: "prod-network" };
        },
        "prod-apps": (c) => {
          c["vpc-lambda-kit:upstream"] = { network: "prod-network", data: "prod-data" };
        },
      },
    );
    const live = await run(args("live"), fakeFor(), root);
    expect((live.error as Error).message).toMatch(/^refusing to up live:/);
    // Named prod but configured as dev: still production by name, refused, and the whole split set is listed.
    const byName = await run(args("prod", { split: true, action: "destroy" }), fakeFor(), root);
    expect((byName.error as Error).message).toMatch(/^refusing to destroy prod-apps, prod-data, prod-network:/);
    expect((byName.error as Error).message).toContain("npm run deploy -- prod --split --destroy --yes");
  });
});

describe("config mapping", () => {
  test("each stack reads its own Pulumi.<stack>.yaml; --role picks one split stack", () => {
    const files = (a: DeployArgs) =>
      planDeploy(a, ROOT).map((p) => [
        p.stackName,
        path.relative(ROOT, p.configFile),
        p.role,
        p.config.roles.join(","),
      ]);
    expect(files(args("dev"))).toEqual([["dev", "Pulumi.dev.yaml", undefined, "network,data,apps"]]);
    expect(files(args("dev", { split: true }))).toEqual([
      ["dev-network", "Pulumi.dev-network.yaml", "network", "network"],
      ["dev-data", "Pulumi.dev-data.yaml", "data", "data"],
      ["dev-apps", "Pulumi.dev-apps.yaml", "apps", "apps"],
    ]);
    expect(files(args("dev", { split: true, role: "data" }))).toEqual([
      ["dev-data", "Pulumi.dev-data.yaml", "data", "data"],
    ]);
  });

  test("--role runs only that stack", async () => {
    const fake = fakeFor();
    await run(args("dev", { split: true, role: "apps" }), fake);
    expect(fake.calls).toEqual(["checkCli", "select dev-apps", "up dev-apps"]);
  });

  test("bad config in any stack stops everything before a single stack call, naming file and key", async () => {
    const root = scratchRoot(SPLIT_DEV, {
      "dev-data": (c) => {
        c["vpc-lambda-kit:data"] = {
          cidrBlock: "10.1.0.0/16",
          subnetCidrs: ["10.1.128.0/28", "10.1.128.16/28"],
          availabilityZone: 2,
        };
      },
      "dev-apps": (c) => {
        c["vpc-lambda-kit:upstream"] = { network: "stg-network", data: "dev-data" };
      },
    });
    const fake = fakeFor();
    const { error } = await run(args("dev", { split: true }), fake, root);
    expect(fake.calls).toEqual([]);
    expect(error).toBeInstanceOf(DeployConfigError);
    expect((error as DeployConfigError).problems).toEqual([
      {
        file: "Pulumi.dev-data.yaml",
        errors: [expect.stringMatching(/^vpc-lambda-kit:data\.availabilityZone: unknown key\. Fix: /)],
      },
      {
        file: "Pulumi.dev-apps.yaml",
        errors: [
          'vpc-lambda-kit:upstream.network: names "stg-network", but split mode deploys the network role as dev-network. Fix: set upstream.network: dev-network in Pulumi.dev-apps.yaml',
        ],
      },
    ]);
    expect((error as Error).message).toMatch(
      /^invalid stack configuration, nothing was run:\n {2}Pulumi\.dev-data\.yaml:\n {4}- vpc-lambda-kit:data\.availabilityZone: unknown key/,
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  test("a split stack must run exactly its role and read only stacks deployed before it", () => {
    const root = scratchRoot(SPLIT_DEV, {
      // network runs first, so it cannot read data; data may read network (it runs before data).
      "dev-network": (c) => {
        c["vpc-lambda-kit:upstream"] = { data: "dev-data" };
      },
      "dev-data": (c) => {
        c["vpc-lambda-kit:roles"] = ["network", "data"];
        delete c["vpc-lambda-kit:upstream"]; // it runs the network role itself now
      },
      // A fully qualified name (org/project/stack) passes when its stack part is the split name.
      "dev-apps": (c) => {
        c["vpc-lambda-kit:upstream"] = { network: "acme/vpc-lambda-kit/dev-network", data: "dev-data" };
      },
    });
    let problems: DeployConfigError["problems"] = [];
    try {
      planDeploy(args("dev", { split: true }), root);
    } catch (e) {
      problems = (e as DeployConfigError).problems;
    }
    expect(problems).toEqual([
      {
        file: "Pulumi.dev-network.yaml",
        errors: [
          "vpc-lambda-kit:upstream.data: the network stack runs before dev-data in split mode, so it cannot read its outputs. Fix: remove upstream.data from Pulumi.dev-network.yaml",
        ],
      },
      {
        file: "Pulumi.dev-data.yaml",
        errors: [
          "vpc-lambda-kit:roles: is [network, data], but the split stack dev-data runs only the data role. Fix: set roles: [data] in Pulumi.dev-data.yaml",
        ],
      },
    ]);
  });

  test("a missing stack file says which file and how to create it", async () => {
    const fake = fakeFor();
    const { error } = await run(args("stg", { split: true, role: "network" }), fake);
    expect(fake.calls).toEqual([]);
    expect((error as DeployConfigError).problems).toEqual([
      {
        file: "Pulumi.stg-network.yaml",
        errors: [
          expect.stringMatching(
            /^not found in .*\. Fix: split mode reads one file per role stack; create it with roles: \[network\]/,
          ),
        ],
      },
    ]);
  });

  test("the command line is parsed strictly", () => {
    expect(parseDeployArgs(["dev", "--split", "--destroy", "--role", "data", "--yes"])).toEqual({
      env: "dev",
      split: true,
      action: "destroy",
      role: "data",
      yes: true,
    });
    expect(parseDeployArgs(["prod"])).toEqual({ env: "prod", split: false, action: "up", role: undefined, yes: false });
    expect(parseDeployArgs(["--help"])).toBe("help");
    const refused = (argv: string[]) => {
      try {
        parseDeployArgs(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message.split("\n")[0];
      }
      return "accepted";
    };
    expect(refused(["dev", "--role", "data"])).toBe(
      "--role data needs --split: combined mode runs every role in the one stack dev",
    );
    expect(refused(["dev", "--split", "--role", "db"])).toBe("--role db: not a role; use network, data or apps");
    expect(refused(["dev", "--preview", "--destroy"])).toBe("--preview and --destroy exclude each other");
    expect(refused([])).toBe("name the environment, e.g. dev");
    expect(refused(["dev", "prod"])).toBe("one environment at a time, got dev prod");
    expect(refused(["dev", "--force"])).toBe("unknown option --force");
  });
});

describe("Pulumi CLI missing", () => {
  test("the real factory turns the failed spawn into the install hint", async () => {
    const saved = process.env.PATH;
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-nopulumi-"));
    try {
      const error = await localWorkspaceFactory(ROOT)
        .checkCli()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(CliMissingError);
      expect((error as Error).message).toContain("curl -fsSL https://get.pulumi.com | sh");
      expect((error as Error).message).toContain("npm run synth -- <stack>");
      expect(exitCodeOf(error)).toBe(3);
    } finally {
      process.env.PATH = saved;
    }
  });

  test("an ENOENT spawn from the workspace mid-run is reported the same way, not as a stack failure", async () => {
    const fake = fakeFor();
    fake.createOrSelectStack = async () => {
      throw new Error(
        "code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi stack select\nspawn pulumi ENOENT\n",
      );
    };
    const { error } = await run(args("dev"), fake);
    expect(error).toBeInstanceOf(CliMissingError);
  });
});

describe("progress and summary", () => {
  test("one line per resource operation with its duration; unchanged resources print nothing", async () => {
    const fake = fakeFor();
    const { lines } = await run(args("dev", { split: true, role: "network" }), fake);
    const progress = lines.filter((l) => l.startsWith("dev-network  "));
    expect(progress).toEqual([
      "dev-network  create   vpc-lambda-kit:network:FixedEgressVpc  egress  (1.2s)",
      "dev-network  create   aws:ec2/vpc:Vpc  egress-vpc  (1.2s)",
      "dev-network  create   aws:ec2/eip:Eip  egress-eip-0  (2.5s)",
      "dev-network  create   aws:ec2/natGateway:NatGateway  egress-nat-0  (1m35s)",
      "dev-network  update   aws:ec2/routeTable:RouteTable  egress-private-0  (0.8s)",
      "dev-network  warning  a warning the program logged",
    ]);
  });

  test("a summary table per stack: counts by op, duration, outputs with secrets masked", async () => {
    const fake = fakeFor();
    const { lines } = await run(args("dev", { split: true }), fake);
    const start = lines.indexOf(lines.find((l) => l.startsWith("┌ dev-network")) as string);
    expect(lines.slice(start, lines.indexOf("└", start) + 1)).toEqual([
      "┌ dev-network: up done in 1m41s",
      "│ op      resources",
      "│ create          4",
      "│ update          1",
      "│ same            1",
      "│ total           6",
      "│ outputs",
      '│   egressIps    ["203.0.113.10"]',
      '│   environment  "dev"',
      "│   proxyHeader  [secret]",
      "└",
    ]);
    expect(lines.join("\n")).not.toContain("s3cr3t-value");
    expect(lines.filter((l) => l.startsWith("┌ "))).toEqual([
      "┌ dev-network: up done in 1m41s",
      "┌ dev-data: up done in 2.4s",
      "┌ dev-apps: up done in 1.2s",
    ]);
    expect(lines[lines.length - 1]).toBe("deployed dev-network → dev-data → dev-apps in 1m44s");
  });

  test("preview prints planned changes and the stack's current outputs", async () => {
    const fake = fakeFor();
    const { lines } = await run(args("dev", { split: true, role: "data", action: "preview" }), fake);
    expect(lines.filter((l) => l.startsWith("dev-data  "))).toEqual([
      "dev-data  create   aws:ec2/vpc:Vpc  data-vpc  (planned)",
      "dev-data  create   aws:rds/cluster:Cluster  data-aurora  (planned)",
      "dev-data  warning  a warning the program logged",
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "┌ dev-data: preview planned in 0.0s",
        "│ create          2",
        "│ outputs (current, before this change)",
        '│   environment  "dev"',
      ]),
    );
  });
});

describe("npm run deploy as a process", () => {
  // PATH holds node and nothing else, so the Pulumi CLI cannot be found whatever this machine has.
  const nodeOnly = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-path-"));
  fs.symlinkSync(process.execPath, path.join(nodeOnly, "node"));
  const deploy = (...argv: string[]) =>
    spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "ops/deploy.ts", ...argv], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: nodeOnly },
    });

  test("without the Pulumi CLI it exits 3 with the install hint, after validating config", () => {
    const r = deploy("dev", "--split", "--preview");
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("the Pulumi CLI is not installed or not on PATH");
    expect(r.stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(r.stderr).toContain("npm run synth -- <stack>");
    expect(r.status).toBe(3);
  });

  test("prod without --yes exits 2 before looking for the CLI", () => {
    const r = deploy("prod");
    expect(r.stderr).toMatch(/^refusing to up prod: environment prod changes production and needs --yes/);
    expect(r.status).toBe(2);
  });
});
