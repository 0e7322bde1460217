// npm run deploy -- <env> [--split] [--preview | --destroy] [--role <role>] [--yes]
// Drives the stacks through the Pulumi Automation API (needs the Pulumi CLI); see ops/deploy-core.ts.
// Exit codes: 0 done, 1 a stack failed, 2 bad arguments/config or refused, 3 Pulumi CLI missing.
import * as path from "path";
import { exitCodeOf, localWorkspaceFactory, parseDeployArgs, runDeploy, USAGE } from "./deploy-core";

async function main(): Promise<number> {
  const root = path.resolve(__dirname, "..");
  try {
    const args = parseDeployArgs(process.argv.slice(2));
    if (args === "help") {
      console.log(USAGE);
      return 0;
    }
    await runDeploy(args, { factory: localWorkspaceFactory(root), root });
    return 0;
  } catch (e) {
    const code = exitCodeOf(e);
    const err = e as Error;
    // Expected failures carry their own complete message; anything else gets its stack trace.
    const known = ["UsageError", "DeployConfigError", "DeployRefused", "CliMissingError", "StackFailedError"].includes(
      err?.name,
    );
    console.error(known ? err.message : `deploy failed: ${err?.stack ?? String(e)}`);
    return code;
  }
}

// Pulumi's modules keep handles open; the outcome is decided.
void main().then((code) => process.exit(code));
