import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as esbuild from "esbuild";

/** Repository root: components/ sits directly below it. */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** The Lambda runtime every function uses, and the esbuild target that matches it. */
export const LAMBDA_RUNTIME = "nodejs24.x";
export const BUNDLE_TARGET = "node24";
export const LAMBDA_ARCHITECTURE = "arm64";

export interface BundleOptions {
  /** Entry file; default `functions/<name>/index.ts`. */
  entry?: string;
  /** Module aliases resolved at bundle time (e.g. a user-supplied transform module). */
  alias?: Record<string, string>;
  /** Extra externals besides `@aws-sdk/*`, which the Lambda runtime ships. */
  external?: string[];
}

export interface FunctionBundle {
  /** Function folder name under `functions/`. */
  name: string;
  /** The bundled CommonJS source, exactly what is deployed as `index.js`. */
  code: string;
  /** Size in bytes of `code`. */
  bytes: number;
  /** sha256 of `code`: changes exactly when the deployed code changes. */
  sha256: string;
}

const cache = new Map<string, FunctionBundle>();

/** A function's code does not build: each error as file:line:column and esbuild's message. */
export class BundleError extends Error {
  constructor(public readonly functionName: string, public readonly errors: esbuild.Message[]) {
    const where = (m: esbuild.Message) => (m.location ? `${path.relative(REPO_ROOT, path.resolve(REPO_ROOT, m.location.file))}:${m.location.line}:${m.location.column + 1}` : "?");
    super(`bundling function "${functionName}" failed:\n  ${errors.map((m) => `${where(m)}: ${m.text}`).join("\n  ")}`);
    this.name = "BundleError";
  }
}

/**
 * Bundles `functions/<name>/` for the Lambda runtime with esbuild, synchronously so that it can run
 * while the Pulumi program registers resources. `@aws-sdk/*` stays external because the Node.js
 * Lambda runtime ships SDK v3; everything else (pg, @kintone/rest-api-client, zod…) is inlined, so
 * the archive has no node_modules tree to load at cold start. The output is deterministic: the same
 * sources give the same bytes, hence the same asset hash and no spurious Lambda updates.
 */
export function bundleFunction(name: string, opts: BundleOptions = {}): FunctionBundle {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new Error(`function name "${name}" is invalid: use lower-case letters, digits and dashes (a folder under functions/)`);
  }
  const entry = opts.entry ?? path.join(REPO_ROOT, "functions", name, "index.ts");
  if (!fs.existsSync(entry)) {
    throw new Error(`function "${name}" has no entry file at ${path.relative(REPO_ROOT, entry)}: create it, exporting \`handler\``);
  }
  const key = JSON.stringify([name, entry, opts.alias ?? {}, opts.external ?? []]);
  const hit = cache.get(key);
  if (hit) return hit;

  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    target: BUNDLE_TARGET,
    minify: true,
    legalComments: "none",
    charset: "utf8",
    external: ["@aws-sdk/*", ...(opts.external ?? [])],
    alias: opts.alias ?? {},
    // Some dependencies ship an ESM build with `import.meta`; the CJS output must not reference it.
    mainFields: ["module", "main"],
    logLevel: "silent",
    absWorkingDir: REPO_ROOT,
  });
  } catch (e) {
    // buildSync throws on errors; report them as file:line:column and the message, never esbuild's stack.
    const errors = (e as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw e;
    throw new BundleError(name, errors);
  }
  if (result.errors.length > 0) throw new BundleError(name, result.errors);
  const code = result.outputFiles[0].text;
  const bundle: FunctionBundle = {
    name,
    code,
    bytes: Buffer.byteLength(code),
    sha256: crypto.createHash("sha256").update(code).digest("hex"),
  };
  cache.set(key, bundle);
  return bundle;
}

/**
 * Writes a bundle to `<dir>/index.js`. Used by `synth` (the deployable artifact) and by the handler
 * tests, which load the very same bytes that get deployed. Place `dir` inside the repository so
 * the external `@aws-sdk/*` modules resolve from its node_modules, as they do from the runtime's.
 */
export function writeBundle(bundle: FunctionBundle, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "index.js");
  fs.writeFileSync(file, bundle.code);
  return file;
}

/** Every bundle built in this process so far (synth writes them out as the deployable artifacts). */
export function builtBundles(): FunctionBundle[] {
  return [...cache.values()];
}
