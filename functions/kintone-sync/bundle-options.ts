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
      // axios without its fetch adapter (see axiosWithoutFetch).
      axios: axiosWithoutFetch(),
    },
  };
}

/**
 * axios probes the fetch API when it is imported (its fetch adapter builds a `Request` with a `ReadableStream` body
 * and a `Response` to test streaming), which makes Node load its whole fetch implementation (undici) during cold
 * start, although @kintone/rest-api-client only ever uses axios's `http` adapter. esbuild's synchronous API has no
 * plugins to replace one file inside a package, so the bundle takes axios from a copy of its sources under
 * out/bundle-vendor/ whose `adapters/fetch.js` reports "not supported" (as axios itself does where no fetch
 * exists). The copy is keyed by axios's version and rewritten when missing; the bundle's bytes do not depend on
 * where it lives. Returns the copy's entry file.
 */
export function axiosWithoutFetch(): string {
  const kintoneDir = path.dirname(require.resolve("@kintone/rest-api-client/package.json", { paths: [REPO_ROOT] }));
  const axiosDir = path.dirname(require.resolve("axios/package.json", { paths: [kintoneDir] }));
  const { version } = JSON.parse(fs.readFileSync(path.join(axiosDir, "package.json"), "utf8")) as { version: string };
  const dir = path.join(REPO_ROOT, "out", "bundle-vendor", `axios-${version}-nofetch-2`);
  const entry = path.join(dir, "index.js");
  const stub = path.join(dir, "lib", "adapters", "fetch.js");
  if (!fs.existsSync(entry) || !fs.existsSync(stub) || !fs.readFileSync(stub, "utf8").includes(FETCH_STUB_MARK)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(axiosDir, "lib"), path.join(tmp, "lib"), { recursive: true });
    fs.copyFileSync(path.join(axiosDir, "index.js"), path.join(tmp, "index.js"));
    fs.writeFileSync(path.join(tmp, "package.json"), JSON.stringify({ name: "axios", version, type: "module" }) + "\n");
    // utils.js reads globalThis.FormData at import (the same fetch implementation); read it when first needed.
    const utils = path.join(tmp, "lib", "utils.js");
    let src = fs.readFileSync(utils, "utf8");
    for (const [from, to] of UTILS_PATCH) {
      if (!src.includes(from))
        throw new Error(
          `axios ${version} changed lib/utils.js: update UTILS_PATCH in functions/kintone-sync/bundle-options.ts (missing: ${from})`,
        );
      src = src.replace(from, to);
    }
    fs.writeFileSync(utils, src);
    fs.writeFileSync(
      path.join(tmp, "lib", "adapters", "fetch.js"),
      `// ${FETCH_STUB_MARK}: the kintone-sync bundle uses the http adapter only.\nexport const getFetch = () => false;\nexport default false;\n`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Another process wrote the same copy first.
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(entry)) throw e;
    }
  }
  return entry;
}

const FETCH_STUB_MARK = "axios fetch adapter removed by vpc-lambda-kit";
const UTILS_PATCH: [string, string][] = [
  [
    "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;",
    "const formDataCtor = () => (typeof G.FormData !== 'undefined' ? G.FormData : undefined);",
  ],
  [
    "if (FormDataCtor && thing instanceof FormDataCtor) return true;",
    "const FormDataCtor = formDataCtor();\n  if (FormDataCtor && thing instanceof FormDataCtor) return true;",
  ],
];
