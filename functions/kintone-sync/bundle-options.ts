import * as fs from "fs";
import * as path from "path";
import { BundleOptions, REPO_ROOT } from "../../components/bundle";

/** The bare module specifier the handler imports its transform from. */
export const TRANSFORM_SPECIFIER = "kintone-sync-transform";

/** The transform shipped with the handler: declarative rules from KINTONE_TRANSFORM_OPTIONS. */
export const DEFAULT_TRANSFORM_MODULE = path.join(REPO_ROOT, "functions", "kintone-sync", "transform.ts");

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
      // mime-db (133 KB, ~40 ms of cold init) reaches the bundle only through axios → form-data → mime-types,
      // which name the content type of multipart file uploads. The sync never uploads files; an empty
      // database makes form-data fall back to application/octet-stream, should it ever be asked.
      "mime-db": path.join(REPO_ROOT, "functions", "kintone-sync", "mime-db.stub.json"),
    },
  };
}
