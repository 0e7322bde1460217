import * as path from "path";
import { bundleFunction, writeBundle, REPO_ROOT, BundleOptions } from "../../components/bundle";

/**
 * Bundles `functions/<name>` exactly as a deployment does, writes it under out/test-bundles and
 * requires it, so handler tests exercise the deployed bytes rather than the TypeScript sources.
 * Outside jest a call drops the require-cache entry, so each call is a fresh "cold start"; jest keeps
 * its own module registry, so tests wrap the call in `jest.isolateModules` for the same effect.
 */
export function loadBundledHandler<T = any>(name: string, opts: BundleOptions = {}): T {
  const bundle = bundleFunction(name, opts);
  const dir = path.join(REPO_ROOT, "out", "test-bundles", `${name}-${bundle.sha256.slice(0, 12)}`);
  const file = writeBundle(bundle, dir);
  delete require.cache[require.resolve(file)];
  return require(file) as T;
}
