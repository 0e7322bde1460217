import * as path from "path";
import { bundleFunction, writeBundle, REPO_ROOT, BundleOptions } from "../../components/bundle";

/**
 * Bundles `functions/<name>` exactly as a deployment does, writes it under out/test-bundles and
 * requires it, so handler tests exercise the deployed bytes rather than the TypeScript sources.
 * A fresh require each call (the cache entry is dropped) gives a fresh "cold start".
 */
export function loadBundledHandler<T = any>(name: string, opts: BundleOptions = {}): T {
  const bundle = bundleFunction(name, opts);
  const dir = path.join(REPO_ROOT, "out", "test-bundles", `${name}-${bundle.sha256.slice(0, 12)}`);
  const file = writeBundle(bundle, dir);
  delete require.cache[require.resolve(file)];
  return require(file) as T;
}
