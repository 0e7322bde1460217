import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { readStackConfig } from "../../ops/stack-config";
import { loadConfig } from "../../stacks/config/load";
import { configMessages } from "./config-messages";

/**
 * The config errors `Pulumi.<stack>.yaml` with `patch` applied produces ([] when valid). A patch value of
 * undefined removes the key; objects are set as Pulumi stores them (JSON text); patched values are plain (not secure:).
 */
export function configErrorsOf(patch: Record<string, unknown>, stack = "dev"): string[] {
  const { config: all, secretKeys } = readStackConfig(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`));
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete all[k];
    else all[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  // A patched key is a plain value now, no longer the file's secure: one.
  return configMessages(() =>
    loadConfig(
      all,
      secretKeys.filter((k) => !(k in patch)),
    ),
  );
}
