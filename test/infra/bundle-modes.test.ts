/**
 * What goes into each function bundle (components/bundle.ts): one database access path per deployed bundle, one
 * region's RDS CA certificates on the pg path, kintone-sync without axios, qs, form-data or zod (and so without Node's
 * fetch implementation), saas-export and the Athena connector on zod/mini and without https-proxy-agent, and every bundle under 400 KB. Cold-start times themselves are measured in bench/bundles.bench.ts, never asserted here.
 */
import { spawnSync } from "child_process";
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as path from "path";
import { BundleOptions, bundleFunction, REPO_ROOT, writeBundle } from "../../components/bundle";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";
import { runtimeNode } from "../../ops/runtime-node";
import { synthForTest } from "../support/graph";

const sdkClients = (code: string) =>
  [...new Set([...code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]))].sort();
const certificates = (code: string) => (code.match(/-----BEGIN CERTIFICATE-----\s*MII/g) ?? []).length;
/** `contents` bundled and minified as a function bundle is, for the markers' controls. */
const bundleOf = (contents: string) =>
  esbuild.buildSync({
    stdin: { contents, resolveDir: REPO_ROOT },
    bundle: true,
    write: false,
    platform: "node",
    minify: true,
    logLevel: "silent",
  }).outputFiles[0].text;
const TOKYO_PG: BundleOptions = { dbAccess: "pg", rdsCaRegion: "ap-northeast-1" };

describe("one access path per bundle", () => {
  test.each(["db-writer", "pets-api"])(
    "%s: the pg bundle has no Data API client, the Data API bundle no pg, CA or Secrets Manager",
    (name) => {
      const both = bundleFunction(name);
      const pg = bundleFunction(name, TOKYO_PG);
      const dataApi = bundleFunction(name, { dbAccess: "data-api" });
      expect(sdkClients(both.code)).toEqual(["@aws-sdk/client-rds-data", "@aws-sdk/client-secrets-manager"]);
      expect(sdkClients(pg.code)).toEqual(["@aws-sdk/client-secrets-manager"]);
      expect(sdkClients(dataApi.code)).toEqual(["@aws-sdk/client-rds-data"]);
      // The pg driver (its SCRAM authentication) and the CA bundle are in the pg bundle only.
      expect(pg.code.includes("SCRAM-SHA-256")).toBe(true);
      expect(dataApi.code.includes("SCRAM-SHA-256")).toBe(false);
      expect(certificates(pg.code)).toBeGreaterThan(0);
      expect(certificates(dataApi.code)).toBe(0);
      for (const b of [pg, dataApi]) expect(b.bytes).toBeLessThan(both.bytes);
    },
  );

  test("the pg bundle keeps only its region's RDS CA certificates and the region-independent roots", () => {
    const all = certificates(bundleFunction("db-writer").code);
    const tokyo = bundleFunction("db-writer", TOKYO_PG).code;
    expect(all).toBeGreaterThan(100);
    // ap-northeast-1: 2019 CA, RSA2048/RSA4096/ECC384 G1 roots; region-free: RDS 2019 roots (3), Amazon Root CA 1-4, Starfield.
    expect(certificates(tokyo)).toBe(12);
    expect(
      certificates(bundleFunction("db-writer", { dbAccess: "pg", rdsCaRegion: "us-east-1" }).code),
    ).toBeGreaterThan(12); // its own + the Beta endpoint's
    expect(bundleFunction("db-writer", { dbAccess: "pg", rdsCaRegion: "us-east-1" }).sha256).not.toBe(
      bundleFunction("db-writer", TOKYO_PG).sha256,
    );
  });

  test("bad bundle options are refused naming the option and the fix", () => {
    expect(() => bundleFunction("db-writer", { dbAccess: "mysql" as never })).toThrow(
      /dbAccess for "db-writer" is "mysql": use pg or data-api/,
    );
    expect(() => bundleFunction("db-writer", { rdsCaRegion: "tokyo" })).toThrow(
      /rdsCaRegion for "db-writer" is "tokyo": use a region name/,
    );
    expect(() => bundleFunction("db-writer", { dbAccess: "pg", rdsCaRegion: "xx-nowhere-9" })).toThrow(
      /no Amazon RDS CA for region xx-nowhere-9/,
    );
  });

  test("the dev stack deploys db-writer and pets-api bundled for their access path and the database's region", async () => {
    const { view } = await synthForTest("dev");
    for (const name of ["db-writer", "pets-api"]) {
      const env = (
        view.one("aws:lambda/function:Function", `${name}-fn`).inputs.environment as {
          variables: Record<string, string>;
        }
      ).variables;
      const expected = env.DB_ACCESS === "pg" ? TOKYO_PG : { dbAccess: "data-api" as const };
      expect(view.one("vpc-lambda-kit:functions:VpcFunction", name).inputs.bundleSha256).toBe(
        bundleFunction(name, expected).sha256,
      );
    }
  });
});

describe("what a pg bundle leaves out", () => {
  // Strings only the left-out code holds: zod's classic API names its schema classes ("ZodString"; zod/mini's are
  // "ZodMiniString"), pg's index reads NODE_PG_FORCE_NATIVE, pg-pool and pg-copy-streams' buffer (COPY TO) have
  // their own error messages.
  const CLASSIC_ZOD = '"ZodString"';
  const MINI_ZOD = '"ZodMiniString"';
  const PG_INDEX = "NODE_PG_FORCE_NATIVE";
  const PG_POOL = "Release called on client which has already been released to the pool.";
  const COPY_TO = "Unsupported offset in .copy()";

  test("the markers are found where that code is bundled", () => {
    const whole = bundleOf('require("pg"); require("pg-copy-streams"); require("zod").string();');
    for (const marker of [CLASSIC_ZOD, PG_INDEX, PG_POOL, COPY_TO]) expect(whole).toContain(marker);
  });

  test("saas-export and the Athena connector: zod/mini, no classic zod; the connector without saas-export's schema", () => {
    // saas-export's environment schema alone holds this message; the connector shares only ./settings.ts with it.
    const SAAS_EXPORT_SCHEMA = "PUBLISH_MIN_SHARE must be a number from 0 to 1";
    const saasExport = bundleFunction("saas-export").code;
    const connector = bundleFunction("athena-connector").code;
    expect(saasExport).toContain(SAAS_EXPORT_SCHEMA);
    expect(connector).not.toContain(SAAS_EXPORT_SCHEMA);
    for (const code of [saasExport, connector]) {
      expect(code).toContain(MINI_ZOD);
      expect(code).not.toContain(CLASSIC_ZOD);
    }
  });

  test("the Athena connector takes Arrow from its modules: no WHATWG stream adapters, which the package index adds", () => {
    const WHATWG_STREAMS = "toDOMStream() must be called with an Iterable or AsyncIterable";
    const index = bundleOf('module.exports = require("apache-arrow").tableFromIPC;');
    expect(index).toContain(WHATWG_STREAMS);
    const connector = bundleFunction("athena-connector").code;
    expect(connector).toContain("FlatBuffers: struct must be serialized inline."); // Arrow IPC is there
    expect(connector).not.toContain(WHATWG_STREAMS);
  });

  test.each(["db-writer", "pets-api", "appflow-connector"])(
    "%s: no classic zod, pg's Client without its index, pg-pool or COPY TO",
    (name) => {
      const code = bundleFunction(name, name === "appflow-connector" ? {} : TOKYO_PG).code;
      // The AppFlow connector validates without zod; the two handlers with zod/mini.
      expect(code.includes(MINI_ZOD)).toBe(name !== "appflow-connector");
      expect(code).toContain("SCRAM-SHA-256"); // pg's Client is there
      for (const marker of [CLASSIC_ZOD, PG_INDEX, PG_POOL, COPY_TO]) expect(code).not.toContain(marker);
    },
  );

  test("the RDS CA roots are plain strings until the first connection: loading a pg bundle parses no certificate", () => {
    const dir = path.join(REPO_ROOT, "out", "test-bundles", "pets-api-pg-loadlist");
    const file = writeBundle(bundleFunction("pets-api", TOKYO_PG), dir);
    // X509Certificate and createSecureContext counted while the bundle loads; both are what a TLS trust store needs.
    const script = `const crypto = require("crypto"), tls = require("tls"); let parsed = 0;
const X = crypto.X509Certificate; crypto.X509Certificate = class extends X { constructor(...a) { super(...a); parsed++; } };
const c = tls.createSecureContext; tls.createSecureContext = (...a) => { parsed++; return c(...a); };
require(${JSON.stringify(file)}); console.log(parsed);`;
    const r = spawnSync(runtimeNode(), ["-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("0");
    expect(certificates(fs.readFileSync(file, "utf8"))).toBe(12);
  });
});

describe("every bundle as deployed", () => {
  const bundles: [string, string, BundleOptions][] = [
    ["appflow-connector", "appflow-connector", {}],
    ["db-writer (pg)", "db-writer", TOKYO_PG],
    ["db-writer (data-api)", "db-writer", { dbAccess: "data-api" }],
    ["pets-api (pg)", "pets-api", TOKYO_PG],
    ["pets-api (data-api)", "pets-api", { dbAccess: "data-api" }],
    ["kintone-sync", "kintone-sync", kintoneSyncBundleOptions()],
    ["saas-export", "saas-export", {}],
    ["athena-connector", "athena-connector", {}],
  ];
  test.each(bundles)("%s is at most 400 KB", (_label, name, opts) => {
    expect(bundleFunction(name, opts).bytes).toBeLessThanOrEqual(400 * 1024);
  });

  test("kintone-sync carries none of axios, qs, form-data or zod: the client runs on the kit's stand-ins", () => {
    // A string each package's minified code keeps, shown present where the package is bundled.
    const markers: Record<string, string> = {
      axios: "follow-redirects",
      qs: "RFC3986",
      "form-data": "multipart/form-data",
      zod: "$ZodType",
    };
    const { axios: _a, qs: _q, "form-data": _f, ...withoutStandIns } = kintoneSyncBundleOptions().alias!;
    const plain = bundleFunction("kintone-sync", { alias: withoutStandIns }).code;
    const zod = bundleOf('const z = require("zod"); module.exports = z.object({ a: z.string() });');
    const code = bundleFunction("kintone-sync", kintoneSyncBundleOptions()).code;
    for (const [pkg, marker] of Object.entries(markers)) {
      expect([pkg, (pkg === "zod" ? zod : plain).includes(marker)]).toEqual([pkg, true]);
      expect([pkg, code.includes(marker)]).toEqual([pkg, false]);
    }
  });

  test("saas-export and the Athena connector carry none of https-proxy-agent, agent-base or debug: the SaaS client tunnels with the kit's own agent", () => {
    // A string each package's minified code keeps, shown present where https-proxy-agent (which brings the other two)
    // is bundled.
    const markers: Record<string, string> = {
      "https-proxy-agent": "Proxy connection ended before receiving CONNECT response",
      "agent-base": "AgentBaseInternalState",
      debug: "inspectOpts",
    };
    const control = bundleOf('module.exports = require("https-proxy-agent").HttpsProxyAgent;');
    const handlers = {
      "saas-export": bundleFunction("saas-export").code,
      "athena-connector": bundleFunction("athena-connector").code,
    };
    for (const [pkg, marker] of Object.entries(markers)) {
      expect([pkg, control.includes(marker)]).toEqual([pkg, true]);
      for (const [name, code] of Object.entries(handlers))
        expect([name, pkg, code.includes(marker)]).toEqual([name, pkg, false]);
    }
    for (const code of Object.values(handlers)) expect(code).toContain("the proxy answered the CONNECT with"); // the kit's agent is there
  });

  test("kintone-sync loads without Node's fetch implementation", () => {
    const code = bundleFunction("kintone-sync", kintoneSyncBundleOptions()).code;
    expect(code.includes("duplex")).toBe(false);
    // The bundle beside an empty stand-in for the SDK client, on the runtime's Node: which internals did loading it pull in?
    const dir = path.join(REPO_ROOT, "out", "test-bundles", "kintone-sync-loadlist");
    fs.mkdirSync(path.join(dir, "node_modules", "@aws-sdk", "client-secrets-manager"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "node_modules", "@aws-sdk", "client-secrets-manager", "index.js"),
      "module.exports = new Proxy({}, { get: () => class {} });\n",
    );
    const file = writeBundle(bundleFunction("kintone-sync", kintoneSyncBundleOptions()), dir);
    const probe = (script: string) => spawnSync(runtimeNode(), ["-e", script], { cwd: dir, encoding: "utf8" });
    const loaded = probe(`require(${JSON.stringify(file)}); console.log(process.moduleLoadList.join("\\n"))`);
    expect(loaded.status).toBe(0);
    const modules = loaded.stdout.split("\n");
    expect(modules).toContain("NativeModule https"); // it did load the HTTP stand-in
    expect(modules).not.toContain("NativeModule internal/deps/undici/undici");
    // The check can see undici when something loads it.
    expect(probe(`globalThis.Request; console.log(process.moduleLoadList.join("\\n"))`).stdout.split("\n")).toContain(
      "NativeModule internal/deps/undici/undici",
    );
  });
});
