// @ts-check
// Lint for correctness, not layout (prettier owns layout): ESLint's and typescript-eslint's recommended rules,
// without type information so `npm test` stays fast. Each rule turned off says why.
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

module.exports = tseslint.config(
  { ignores: ["node_modules/", "out/", "bin/", "**/*.d.ts", "bench/results/", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // tsc already fails on unused names (noUnusedLocals / noUnusedParameters).
      "@typescript-eslint/no-unused-vars": "off",
      // Deliberate: handlers and scripts require some modules lazily (cold start, start-up time), and the
      // JavaScript files here are CommonJS.
      "@typescript-eslint/no-require-imports": "off",
      // Deliberate: input validators look for control characters (NUL, escapes) on purpose.
      "no-control-regex": "off",
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        exports: "writable",
        __dirname: "readonly",
        __filename: "readonly",
        process: "readonly",
        console: "readonly",
      },
    },
  },
  {
    // Code that reads untyped JSON (graph.json inputs, Pulumi mock payloads, policy documents, test doubles and
    // fixtures) narrows `any` at the point of use.
    files: [
      "test/**",
      "bench/**",
      "ops/mocks.ts",
      "ops/synth-core.ts",
      "ops/inventory.ts",
      "ops/twin/**",
      "ops/check/**",
    ],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
