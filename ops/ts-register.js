// Runs the kit's TypeScript (ops/, stacks/, components/, functions/) in Node without a type-checking compiler:
// `node -r ./ops/ts-register.js ops/synth.ts …` (what `npm run synth|check|deploy|bench` do).
//
// Each .ts file is transpiled on its own by esbuild (types are erased, nothing is checked: `npm run build` and
// `npm test` type-check) and the JavaScript is kept under out/ts-cache/, keyed by a hash of the file's path and
// contents, of esbuild's version and of this file. A changed source gets a new key, so the cache is never stale;
// an unchanged one is read back instead of transpiled. Modules keep their own paths, so __dirname and error
// locations are those of the .ts files. Stale entries are harmless; `rm -rf out/ts-cache` clears them, and
// VLK_TS_CACHE=off transpiles every file anew (the benchmark's cold runs). ops/lazy-modules.js (loaded at the end)
// defers the parts of @pulumi/pulumi the offline commands never call.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { writeCacheFile } = require("./cache-file");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, "out", "ts-cache");
const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"));
const esbuildVersion = JSON.parse(
  fs.readFileSync(require.resolve("esbuild/package.json", { paths: [ROOT] }), "utf8"),
).version;
// What else decides the output: the transform options below (this file) and the compiler options esbuild reads.
const SALT = crypto
  .createHash("sha256")
  .update(esbuildVersion)
  .update(fs.readFileSync(__filename))
  .update(JSON.stringify(tsconfig.compilerOptions))
  .digest("hex");

let esbuild; // loaded on the first cache miss only

function transpile(source, filename) {
  esbuild ??= require(require.resolve("esbuild", { paths: [ROOT] }));
  return esbuild.transformSync(source, {
    loader: "ts",
    format: "cjs",
    target: "node24",
    platform: "node",
    sourcefile: filename,
    // Class fields, decorators and the like as tsc would emit them for this tsconfig.
    tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
    // `await import("./x")` becomes a require, as tsc emits it for "module": "commonjs".
    supported: { "dynamic-import": false },
    logLevel: "silent",
  }).code;
}

function compileTs(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(SALT).update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE, key.slice(0, 2), `${key}.js`);
  let code;
  try {
    if (process.env.VLK_TS_CACHE === "off") throw new Error("cache off");
    code = fs.readFileSync(cached, "utf8");
  } catch {
    code = transpile(source, filename);
    writeCacheFile(cached, code);
  }
  module._compile(code, filename);
}

require.extensions[".ts"] = compileTs;

// V8's code cache for every module loaded from here on (node_modules included: @pulumi/aws alone is thousands of
// files), kept under out/node-compile-cache/ and checked by Node against each file's contents.
const nodeModule = require("module");
if (typeof nodeModule.enableCompileCache === "function" && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  nodeModule.enableCompileCache(path.join(ROOT, "out", "node-compile-cache"));
}

require("./lazy-modules");
