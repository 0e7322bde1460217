// Defers the parts of @pulumi/pulumi that the kit's offline commands never call, loaded by ops/ts-register.js.
//
// Importing @pulumi/pulumi loads its closure serializer eagerly (runtime/index.js reads two functions off
// runtime/closure/serializeClosure.js and runtime/closure/codePaths.js at load). Those two pull in the
// TypeScript compiler and @npmcli/arborist: about two thirds of @pulumi/pulumi's load time, for
// `pulumi.runtime.serializeFunction` / `computeCodePaths`, which only closure-serialized Lambdas use. The kit
// bundles its functions with esbuild and never serializes a closure, so synth, check and the benchmarks
// would pay for them on every start.
//
// For each such module this puts a stand-in into Node's module cache under the module's own path. The
// stand-in's known functions load the real module on their first call and forward to it; reading any other
// property loads it as well. Nothing changes for a program that does serialize a closure: it only loads the
// real module a little later. The list is checked against the installed package: a module that is missing,
// or whose exports are not the functions named, is left alone (Node loads it as usual).
//
// Likewise @pulumi/aws's index requires all of its ~240 service namespaces at load (about 0.2 s), of which a stack
// uses a dozen. Its `const ec2 = __importStar(require("./ec2")); exports.ec2 = ec2;` pairs are compiled as getters
// that require the namespace on first access and then keep it, so `aws.ec2.Vpc` works as before and an unused
// namespace is never loaded. Only that exact pair is rewritten, and only when the name is used nowhere else in the
// file; anything else in the file runs as shipped.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");

/** Module (relative to the package) → the functions its importers read off it at load. */
const DEFERRED = {
  "@pulumi/pulumi/runtime/closure/serializeClosure.js": ["serializeFunction", "serializeFunctionAsync"],
  "@pulumi/pulumi/runtime/closure/codePaths.js": ["computeCodePaths", "findWorkspaceRoot", "packageArchivePath"],
  // The Automation API (`pulumi.automation`, used by `npm run deploy` only): the index stores the namespace at load
  // and reads nothing off it, so every property loads the real module on first access.
  "@pulumi/pulumi/automation/index.js": [],
};

function exportsNamed(source, names) {
  // The compiled module assigns each as `exports.<name> = <name>;` (tsc's CommonJS output).
  return names.every((n) => source.includes(`exports.${n} = ${n};`));
}

function defer(file, names) {
  let real;
  const load = () => {
    if (!real) {
      const m = new Module(file, null);
      m.filename = file;
      m.paths = Module._nodeModulePaths(path.dirname(file));
      m.load(file);
      real = m.exports;
    }
    return real;
  };
  const known = Object.fromEntries(
    names.map((n) => [
      n,
      function (...args) {
        return load()[n].apply(this, args);
      },
    ]),
  );
  const stand = new Proxy(Object.create(null), {
    get: (_, key) => (key === "__esModule" ? true : key in known ? known[key] : load()[key]),
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Object.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  const m = new Module(file, null);
  m.filename = file;
  m.loaded = true;
  m.exports = stand;
  require.cache[file] = m;
}

/** Package file → how its source is rewritten before it is compiled. */
const REWRITTEN = {
  "@pulumi/aws/index.js": lazyNamespaces,
};

function lazyNamespaces(source) {
  const pair = /^const (\w+) = __importStar\(require\("\.\/([\w-]+)"\)\);\nexports\.\1 = \1;$/gm;
  const rest = source.replace(pair, "");
  return source.replace(pair, (whole, name, dir) =>
    new RegExp(`(?<!exports\\.)\\b${name}\\b`).test(rest)
      ? whole
      : `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, configurable: true, get() {` +
        ` const v = __importStar(require(${JSON.stringify(`./${dir}`)}));` +
        ` Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, value: v }); return v; } });`,
  );
}

function rewriteOnLoad(files) {
  const js = require.extensions[".js"];
  require.extensions[".js"] = function (module, filename) {
    const rewrite = files.get(filename);
    if (!rewrite) return js(module, filename);
    module._compile(rewrite(fs.readFileSync(filename, "utf8")), filename);
  };
}

function install() {
  if (process.env.VLK_LAZY_MODULES === "off") return;
  const rewritten = new Map();
  for (const [rel, rewrite] of Object.entries(REWRITTEN)) {
    try {
      rewritten.set(require.resolve(rel, { paths: [ROOT] }), rewrite);
    } catch {
      // not installed here
    }
  }
  if (rewritten.size > 0) rewriteOnLoad(rewritten);
  for (const [rel, names] of Object.entries(DEFERRED)) {
    let file;
    try {
      file = require.resolve(rel, { paths: [ROOT] });
    } catch {
      continue; // not installed here: nothing to defer
    }
    if (require.cache[file]) continue;
    try {
      if (!exportsNamed(fs.readFileSync(file, "utf8"), names)) continue;
    } catch {
      continue;
    }
    defer(file, names);
  }
}

install();
