import * as fs from "fs";
import * as path from "path";
import { BundleOptions, REPO_ROOT } from "../../components/bundle";

/** The bare module specifier the handler imports its transform from. */
export const TRANSFORM_SPECIFIER = "kintone-sync-transform";

/** The transform shipped with the handler: declarative rules from KINTONE_TRANSFORM_OPTIONS. */
export const DEFAULT_TRANSFORM_MODULE = path.join(REPO_ROOT, "functions", "kintone-sync", "transform.ts");

/** Where the modules the bundle uses in place of axios, qs and form-data live. */
export const STAND_INS = path.join(REPO_ROOT, "functions", "kintone-sync", "stand-ins");

/**
 * Bundle options for `bundleFunction("kintone-sync", …)`: binds the transform at bundle time, so a custom transform
 * is compiled into the deployed code (and changes its hash) instead of being loaded from somewhere at run time.
 *
 * @param transformModule a file exporting `transform(record, options)` and optionally `parseOptions(raw)` and
 *   `fields(options)` (see `TransformModule` in ./types.ts), relative to the repository root or absolute; or a
 *   package name. Default: the shipped ./transform.ts.
 */
export function kintoneSyncBundleOptions(transformModule?: string): BundleOptions {
  let target = DEFAULT_TRANSFORM_MODULE;
  if (transformModule !== undefined) {
    const isPath = transformModule.startsWith(".") || path.isAbsolute(transformModule);
    target = isPath ? path.resolve(REPO_ROOT, transformModule) : transformModule;
    if (isPath && !fs.existsSync(target)) {
      throw new Error(
        `kintone-sync transform module ${transformModule} does not exist (resolved against the repository root to ${target}): ` +
          `give the path of a file that exports transform(record, options)`,
      );
    }
  }
  return {
    alias: {
      [TRANSFORM_SPECIFIER]: target,
      // @kintone/rest-api-client builds every request itself and hands it to axios; these stand-ins take the place of
      // axios (and with it follow-redirects, proxy agents, form-data → mime-types → mime-db and the fetch probe that
      // loads undici), qs and form-data. See ./stand-ins/ and README "Benchmarks".
      axios: path.join(STAND_INS, "http.ts"),
      qs: path.join(STAND_INS, "query-string.ts"),
      "form-data": path.join(STAND_INS, "form-data.ts"),
    },
  };
}
