/**
 * A twin run: model → network → services → real traffic for every declared flow from every ENI of its
 * function → the real handlers with canned events → outcomes asserted where they land (kintone, moto's S3,
 * PostgreSQL, the private API) → teardown.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Host, need } from "./host";
import { runtimeNode as lambdaNode } from "../runtime-node";
import { buildModel, DECOY_HOST, EniM, FlowM, FunctionM, GraphFile, TwinModel } from "./model";
import { buildNetwork, Layout } from "./network";
import { lambdaEnv, prepareServices, Services, startServices, KINTONE_SEED, SAAS_RECORDS } from "./services";
import type { Check } from "./agents/probe";

export interface FlowVerdict {
  fn: string;
  index: number;
  flow: string;
  ok: boolean;
  /** One line per ENI (subnet) the flow was sent from. */
  details: string[];
}

export interface Outcome {
  fn: string;
  what: string;
  ok: boolean;
  detail: string;
}

export interface TwinResult {
  stack: string;
  prefix: string;
  flows: FlowVerdict[];
  outcomes: Outcome[];
  warnings: string[];
  timings: Record<string, number>;
}

export interface TwinOptions {
  /** Run the handlers and assert their outcomes (default true); false: flows only. */
  handlers?: boolean;
  log?: (line: string) => void;
}

const REPO = path.resolve(__dirname, "..", "..");

export async function runTwin(graph: GraphFile, graphDir: string, opts: TwinOptions = {}): Promise<TwinResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const m = buildModel(graph, graphDir);
  for (const f of m.functions)
    if (!fs.existsSync(f.bundle))
      throw new Error(
        `bundle ${f.bundle} is missing: run \`npm run synth -- ${graph.stack}\` (it writes the bundles next to graph.json)`,
      );
  for (const b of ["ip", "nft", "dnsmasq", "haproxy", "squid", "openssl", "setpriv"]) need(b);
  const host = new Host();
  log(
    `twin ${host.prefix}: ${m.vpcs.length} VPCs, ${m.subnets.length} subnets, ${m.enis.length} ENIs, ${m.functions.length} functions`,
  );
  try {
    const early = await prepareServices(host, m);
    const L = buildNetwork(host, m);
    timings.network = Date.now() - t0;
    log(`network up in ${timings.network} ms`);
    const S = await startServices(host, m, L, early);
    timings.services = Date.now() - t0 - timings.network;
    log(`services up in ${timings.services} ms`);
    const flows = await runFlows(m, L, S);
    timings.flows = Date.now() - t0 - timings.network - timings.services;
    const outcomes = opts.handlers === false ? [] : await runHandlers(m, L, S, log);
    timings.handlers = Date.now() - t0 - timings.network - timings.services - timings.flows;
    return { stack: graph.stack, prefix: host.prefix, flows, outcomes, warnings: m.warnings, timings };
  } finally {
    const td = Date.now();
    host.teardown();
    timings.teardown = Date.now() - td;
    timings.total = Date.now() - t0;
  }
}

function execIn(
  ns: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(need("ip"), ["netns", "exec", ns, cmd, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on("exit", (code) => (clearTimeout(t), resolve({ code, stdout, stderr })));
  });
}

/** The real traffic that stands for a declared flow. */
export function checkFor(m: TwinModel, fn: FunctionM, flow: FlowM, S: Services): Check {
  const id = String(flow.index);
  const to = flow.to;
  if (to.kind === "awsService") {
    const svc = to.service ?? "";
    if (svc === "s3")
      return {
        id,
        kind: "https",
        host: `s3.${m.region}.amazonaws.com`,
        port: flow.port,
        path: `/${fn.env.BUCKET ?? m.buckets[0] ?? ""}`,
      };
    if (svc === "execute-api" && m.api) {
      const url = Object.values(fn.env).find((v) => /\.execute-api\./.test(v));
      const host = url ? new URL(url).hostname : `${m.api.id}.execute-api.${m.region}.amazonaws.com`;
      const route = (m.api.routes[0] ?? "GET /")
        .split(" ")
        .pop()!
        .replace(/\{[^}]+\}/g, "x");
      return {
        id,
        kind: "https",
        host,
        port: flow.port,
        path: `/${m.api.stage}${route}`,
        failStatuses: [403],
        answerTimeoutMs: 20_000,
      };
    }
    return { id, kind: "https", host: `${svc}.${m.region}.amazonaws.com`, port: flow.port, path: "/" };
  }
  if (to.kind === "internet")
    return { id, kind: "https", host: to.host!, port: flow.port, path: "/", failStatuses: [403] };
  if (to.kind === "securityGroup") {
    const spec = fnSpec(m, fn, flow);
    const lbSgs = new Set(m.proxy?.lbEnis.flatMap((e) => e.sgIds) ?? []);
    if (m.proxy && (!spec?.securityGroupId || lbSgs.has(spec.securityGroupId))) {
      const proxyUrl = fn.env.PROXY_URL ? new URL(fn.env.PROXY_URL) : undefined;
      const target = proxyTargetHost(fn.env) ?? [...m.internetHosts.keys()][0];
      const header = fn.env.PROXY_HEADER_NAME ?? "X-Lambda-Proxy-Token";
      return {
        id,
        kind: "proxy",
        host: proxyUrl?.hostname ?? m.proxy.lbDns,
        port: Number(proxyUrl?.port || flow.port),
        target,
        headers: { [header]: S.proxyHeaderValue },
        failStatuses: [403],
        // One tunnel per instance per CLB node: round robin reaches every proxy (a CLB's TCP health check does
        // not notice a proxy that cannot reach the SaaS, so neither may the twin).
        repeat: m.proxy.instances.length,
        mustRefuse: [
          { target, headers: {}, why: "without the header" },
          { target, headers: { [header]: `${S.proxyHeaderValue}x` }, why: "with a wrong header value" },
          { target: DECOY_HOST, headers: { [header]: S.proxyHeaderValue }, why: `to ${DECOY_HOST} (not allowlisted)` },
        ],
      };
    }
    const member = m.enis.find((e) => spec?.securityGroupId && e.sgIds.includes(spec.securityGroupId));
    return { id, kind: "tcp", host: member?.ip ?? "192.0.2.254", port: flow.port };
  }
  if (to.kind === "cidr" && to.cidr) {
    if (m.db && flow.port === m.db.port && inCidr(m.db.eni.ip, to.cidr))
      return { id, kind: "pg", host: fn.env.DB_HOST || m.db.endpoint, port: flow.port };
    const member = m.enis.find((e) => inCidr(e.ip, to.cidr!));
    return { id, kind: "tcp", host: member?.ip ?? to.cidr.split("/")[0], port: flow.port };
  }
  return { id, kind: "tcp", host: "192.0.2.254", port: flow.port };
}

function fnSpec(_m: TwinModel, _fn: FunctionM, flow: FlowM): { securityGroupId?: string } {
  return { securityGroupId: flow.securityGroupId };
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const n = (s: string) => s.split(".").reduce((a, x) => a * 256 + Number(x), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

async function probe(
  ns: string,
  checks: Check[],
  S: Services,
  env: Record<string, string> = {},
): Promise<{ id: string; ok: boolean; detail: string }[]> {
  if (!checks.length) return [];
  const run = (timeoutMs: number) =>
    execIn(
      ns,
      lambdaNode(),
      [S.agents.probe, JSON.stringify(checks)],
      { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: S.caFile, ...env },
      timeoutMs,
    );
  let r = await run(30_000);
  // A probe that printed nothing was killed at its deadline (a loaded machine), not refused: one more try,
  // with twice the time. A refused connection always prints its verdict.
  if (!r.stdout.trim()) r = await run(60_000);
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    return checks.map((c) => ({ id: c.id, ok: false, detail: `probe failed: ${(r.stderr || r.stdout).slice(-300)}` }));
  }
}

async function runFlows(m: TwinModel, L: Layout, S: Services): Promise<FlowVerdict[]> {
  const verdicts: FlowVerdict[] = [];
  await Promise.all(
    m.functions.map(async (fn) => {
      const checks = fn.flows.map((f) => checkFor(m, fn, f, S));
      const perEni = await Promise.all(
        fn.enis.map(async (e) => ({ eni: e, results: await probe(L.eniNs.get(e.key)!, checks, S) })),
      );
      for (const f of fn.flows) {
        const details = perEni.map(({ eni, results }) => {
          const r = results.find((x) => x.id === String(f.index));
          return {
            ok: !!r?.ok,
            line: `${subnetName(m, eni)} ${eni.ip}: ${r ? (r.ok ? "ok" : "FAIL") + " " + r.detail : "no result"}`,
          };
        });
        verdicts.push({
          fn: fn.name,
          index: f.index,
          flow: f.label,
          ok: details.length > 0 && details.every((d) => d.ok),
          details: details.map((d) => d.line),
        });
      }
    }),
  );
  return verdicts.sort((a, b) => a.fn.localeCompare(b.fn) || a.index - b.index);
}

function subnetName(m: TwinModel, e: EniM): string {
  return m.subnets.find((s) => s.id === e.subnetId)?.name ?? e.subnetId;
}

interface Invocation {
  ok: boolean;
  result?: any;
  error?: string;
  node?: string;
  ms?: number;
}

async function invoke(
  m: TwinModel,
  L: Layout,
  S: Services,
  fn: FunctionM,
  eni: EniM,
  event: unknown,
  capMs = 45_000,
): Promise<Invocation> {
  const dir = path.join(path.dirname(S.caFile), "invocations");
  fs.mkdirSync(dir, { recursive: true });
  const tag = `${fn.name}-${eni.key}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  const eventFile = path.join(dir, `${tag}.event.json`);
  const outFile = path.join(dir, `${tag}.result.json`);
  fs.writeFileSync(eventFile, JSON.stringify(event));
  const cap = Math.min(fn.timeoutSeconds * 1000, capMs);
  const r = await execIn(
    L.eniNs.get(eni.key)!,
    lambdaNode(),
    [S.agents.invoke, fn.bundle, fn.handler.split(".").pop()!, eventFile, outFile, String(cap), fn.resourceName],
    lambdaEnv(m, fn, S.caFile),
    cap + 10_000,
  );
  try {
    return JSON.parse(fs.readFileSync(outFile, "utf8")) as Invocation;
  } catch {
    return { ok: false, error: `no result (exit ${r.code}): ${(r.stderr || r.stdout).slice(-400)}` };
  }
}

const short = (x: unknown) => JSON.stringify(x).slice(0, 240);

async function runHandlers(m: TwinModel, L: Layout, S: Services, log: (l: string) => void): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const add = (fn: string, what: string, ok: boolean, detail: string) => {
    outcomes.push({ fn, what, ok, detail });
    log(`${ok ? "ok  " : "FAIL"} ${fn}: ${what} — ${detail}`);
  };
  const byName = (n: string) => m.functions.find((f) => f.name === n);
  const today = "2026-11-21";
  const jobs: Promise<void>[] = [];

  const kintone = byName("kintone-sync");
  if (kintone)
    jobs.push(
      (async () => {
        for (const e of kintone.enis) {
          const r = await invoke(m, L, S, kintone, e, {
            source: "aws.events",
            "detail-type": "Scheduled Event",
            detail: {},
          });
          add(
            "kintone-sync",
            `handler run from ${subnetName(m, e)} (${r.node ?? "?"})`,
            r.ok,
            r.ok ? short(r.result) : String(r.error),
          );
        }
        const st = await S.internetState();
        const open = st.kintone.filter((x) => x.values.status === "Open");
        const cleaned = open.every((x) => !/\s{2,}/.test(String(x.values.company)) && x.revision > 1);
        add(
          "kintone-sync",
          "kintone records changed (Open records normalized, revision bumped; Closed untouched)",
          open.length === KINTONE_SEED.filter((s) => s.status === "Open").length &&
            cleaned &&
            st.kintone.filter((x) => x.values.status !== "Open").every((x) => x.revision === 1),
          short(
            st.kintone.map((x) => ({
              id: x.id,
              rev: x.revision,
              company: x.values.company,
              customerNo: x.values.customerNo,
              tel: x.values.tel,
            })),
          ),
        );
        const kHost = new URL(kintone.env.KINTONE_BASE_URL ?? "https://x").hostname;
        const sources = [...new Set(st.seen.filter((s) => s.host === kHost).map((s) => s.source))];
        add(
          "kintone-sync",
          "kintone saw every request coming from the NAT's EIP",
          sources.length > 0 && sources.every((s) => m.egressIps.includes(s)),
          `sources seen: ${sources.join(", ") || "none"}; allowlist (stack output egressIps): ${m.egressIps.join(", ")}`,
        );
      })(),
    );

  const saas = byName("saas-export");
  if (saas)
    jobs.push(
      (async () => {
        for (const e of saas.enis) {
          const r = await invoke(m, L, S, saas, e, { date: today });
          add(
            "saas-export",
            `handler run from ${subnetName(m, e)} (${r.node ?? "?"})`,
            r.ok,
            r.ok ? short(r.result) : String(r.error),
          );
        }
        const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import("@aws-sdk/client-s3");
        const s3 = new S3Client({
          region: m.region,
          endpoint: S.motoUrl,
          forcePathStyle: true,
          credentials: { accessKeyId: "AKIDTWINTWINTWIN", secretAccessKey: "twin" },
        });
        try {
          const list = await s3.send(
            new ListObjectsV2Command({ Bucket: saas.env.BUCKET, Prefix: saas.env.PREFIX ?? "" }),
          );
          const keys = (list.Contents ?? []).map((o) => o.Key ?? "");
          const parts = keys.filter((k) => /\.ndjson(\.gz)?$/.test(k));
          const manifest = keys.filter((k) => /(manifest|_SUCCESS)/i.test(k));
          // Each handler run writes under its own run= prefix (with its manifest): every run must hold every SaaS
          // record once.
          const runOf = (k: string) => /\/run=[^/]+\//.exec(k)?.[0] ?? "";
          const lines = new Map<string, number>();
          for (const k of parts) {
            const body = await (
              await s3.send(new GetObjectCommand({ Bucket: saas.env.BUCKET, Key: k }))
            ).Body!.transformToString();
            lines.set(
              runOf(k),
              (lines.get(runOf(k)) ?? 0) + body.split("\n").filter((l) => l.trim() && JSON.parse(l)).length,
            );
          }
          const runs = [...lines.keys()];
          const ok =
            runs.length > 0 &&
            runs.every((r) => lines.get(r) === SAAS_RECORDS.length && manifest.some((k) => runOf(k) === r));
          add(
            "saas-export",
            "NDJSON parts and the manifest in moto's S3 (every SaaS record once per run)",
            ok,
            `${keys.length} objects under s3://${saas.env.BUCKET}/${saas.env.PREFIX ?? ""}: ${keys.slice(0, 6).join(", ")}; NDJSON lines per run: ${runs.map((r) => `${r.replace(/\//g, "")} ${lines.get(r)}`).join(", ")}`,
          );
        } catch (err) {
          add("saas-export", "NDJSON parts and the manifest in moto's S3", false, (err as Error).message);
        } finally {
          s3.destroy();
        }
        const st = await S.internetState();
        const host = saas.env.SAAS_URL ? new URL(saas.env.SAAS_URL).hostname : "";
        const sources = [...new Set(st.seen.filter((s) => s.host === host).map((s) => s.source))];
        const allow = proxyEgressIps(m);
        add(
          "saas-export",
          "the SaaS saw the proxies' requests coming from the allowlisted egress IP",
          sources.length > 0 && sources.every((s) => allow.includes(s)),
          `sources seen: ${sources.join(", ") || "none"}; allowlist (the proxy tier's egressIps): ${allow.join(", ")}; ${st.saasRequests} requests answered; ${SAAS_RECORDS.length} records served`,
        );
      })(),
    );

  const athena = m.functions.find((f) => f.env.ATHENA_TABLES && f.enis.length);
  if (athena) jobs.push(athenaQueries(m, L, S, athena, add));

  const dbw = byName("db-writer");
  const pets = byName("pets-api");
  const appflow = byName("appflow-connector");
  // db-writer, then pets-api, then the connector: they share one database, keep the order simple.
  jobs.push(
    (async () => {
      if (dbw && m.db) {
        const ids: string[] = [];
        for (const e of dbw.enis) {
          const batchId = `twin-${e.key}`;
          ids.push(batchId);
          const users = Array.from({ length: 3 }, (_, i) => ({
            externalId: `${batchId}-${i}`,
            email: `u${i}@${batchId}.example.com`,
            name: `User ${i}`,
          }));
          const r = await invoke(m, L, S, dbw, e, { batchId, users });
          add(
            "db-writer",
            `handler run from ${subnetName(m, e)} (${r.node ?? "?"})`,
            r.ok,
            r.ok ? short(r.result) : String(r.error),
          );
        }
        const rows = await pgQuery(
          m,
          S,
          "SELECT batch_id, count(*)::int AS n FROM users GROUP BY batch_id ORDER BY batch_id",
        ).catch((e) => [{ error: String(e.message) }]);
        const got = Object.fromEntries(rows.map((x: any) => [x.batch_id, x.n]));
        add(
          "db-writer",
          "rows in PostgreSQL (3 users per batch, one batch per subnet)",
          ids.every((id) => got[id] === 3),
          short(rows),
        );
      }
      if (pets && m.api) {
        const caller =
          m.functions.find(
            (f) =>
              f.enis.length &&
              f.name !== pets.name &&
              f.sgIds.some((sg) =>
                m.sgs.get(sg)?.rules.some((r) => r.direction === "egress" && r.to >= 443 && r.from <= 443),
              ),
          ) ?? pets;
        const eni = caller.enis[0];
        const host = `${m.api.id}.execute-api.${m.region}.amazonaws.com`;
        const stage = m.api.stage;
        const post = await httpsFrom(L.eniNs.get(eni.key)!, S, host, "POST", `/${stage}/pets`, {
          name: "Twin the cat",
          species: "cat",
        });
        add(
          "pets-api",
          `a caller in the VPC (${caller.name}'s ENI in ${subnetName(m, eni)}) creates a pet through the private API`,
          post.status === 201 || post.status === 200,
          `POST https://${host}/${stage}/pets → ${post.status} ${post.body.slice(0, 200)}`,
        );
        const get = await httpsFrom(L.eniNs.get(eni.key)!, S, host, "GET", `/${stage}/pets`);
        add(
          "pets-api",
          "the caller lists pets through the private API and gets the one it created",
          get.status === 200 && get.body.includes("Twin the cat"),
          `GET → ${get.status} ${get.body.slice(0, 200)}`,
        );
      }
      if (appflow && m.db) {
        const fixture = (name: string) =>
          JSON.parse(
            fs
              .readFileSync(path.join(REPO, "test", "fixtures", "appflow", `${name}.json`), "utf8")
              .replace(/\$\{HOST\}/g, m.db!.endpoint)
              .replace(/\$\{PORT\}/g, String(m.db!.port))
              .replace(/\$\{DATABASE\}/g, m.db!.databaseName)
              .replace(/\$\{SECRET_ARN\}/g, S.appflowSecretArn),
          );
        for (const e of appflow.enis) {
          const list = await invoke(m, L, S, appflow, e, fixture("list-entities"));
          const names = (list.result?.entities ?? []).map((x: { entityIdentifier: string }) => x.entityIdentifier);
          add(
            "appflow-connector",
            `ListEntities from ${subnetName(m, e)} (${list.node ?? "?"})`,
            list.ok && list.result?.isSuccess === true && names.includes("customers"),
            list.ok
              ? `entities: ${names.join(", ")}${list.result?.errorDetails ? " " + short(list.result.errorDetails) : ""}`
              : String(list.error),
          );
          const q = await invoke(m, L, S, appflow, e, fixture("query-data"));
          const records = q.result?.records ?? [];
          add(
            "appflow-connector",
            `QueryData reads customers from ${subnetName(m, e)}`,
            q.ok && q.result?.isSuccess === true && records.length === 5,
            q.ok
              ? `${records.length} records: ${short(records.slice(0, 2))}${q.result?.errorDetails ? " " + short(q.result.errorDetails) : ""}`
              : String(q.error),
          );
        }
      }
    })(),
  );
  await Promise.all(jobs);
  return outcomes;
}

/** The addresses the SaaS allowlists: the proxy tier's (its instances' EIPs with placement "public"), else the NAT's. */
function proxyEgressIps(m: TwinModel): string[] {
  return m.proxy?.egressIps.length ? m.proxy.egressIps : m.egressIps;
}

/**
 * The Athena connector, driven the way Athena's federation drives it for `SELECT * FROM <catalog>.<schema>.<table>`
 * (Ping → ListSchemas → ListTables → GetTable → GetTableLayout → GetSplits → ReadRecords per split), one invocation
 * per request, each in its own process as separate Lambda invocations are. From the first subnet every split is
 * read inline; from the others Athena's inline limit is one byte, so every split spills: encrypted Arrow blocks in
 * moto's S3 (through the S3 gateway endpoint) that the twin reads back, decrypts with the split's key and decodes.
 * Outcome: every SaaS record, once per query, with the SaaS seeing only the proxy tier's egress addresses.
 */
async function athenaQueries(
  m: TwinModel,
  L: Layout,
  S: Services,
  fn: FunctionM,
  add: (fn: string, what: string, ok: boolean, detail: string) => void,
): Promise<void> {
  const { decodeBlock, decodeBatch } = await import("../../functions/athena-connector/arrow");
  const { decrypt } = await import("../../functions/athena-connector/spill");
  const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = new S3Client({
    region: m.region,
    endpoint: S.motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDTWINTWINTWIN", secretAccessKey: "twin" },
  });
  const tables = JSON.parse(fn.env.ATHENA_TABLES) as { name: string; url: string }[];
  const schemaName = fn.env.SCHEMA_NAME || "saas";
  const identity = {
    id: "UNKNOWN",
    principal: "UNKNOWN",
    account: "111111111111",
    arn: "arn:aws:iam::111111111111:user/analyst",
    tags: {},
    groups: [],
    configOptions: {},
  };
  try {
    for (const [i, e] of fn.enis.entries()) {
      const where = subnetName(m, e);
      const spill = i > 0;
      const queryId = `twin-${e.key}-${Date.now()}`;
      const base = (type: string) => ({ "@type": type, identity, queryId, catalogName: "twin_catalog" });
      const call = async (event: Record<string, unknown>): Promise<Record<string, any>> => {
        const r = await invoke(m, L, S, fn, e, event);
        if (!r.ok) throw new Error(`${String(event["@type"])}: ${r.error}`);
        return r.result as Record<string, any>;
      };
      try {
        const schemas = await call(base("ListSchemasRequest"));
        const listed = await call({ ...base("ListTablesRequest"), schemaName, nextToken: null, pageSize: 50 });
        const tableNames = (listed.tables ?? []).map((t: { tableName: string }) => t.tableName);
        const table = tables[0].name;
        const tableName = { schemaName, tableName: table };
        const got = await call({ ...base("GetTableRequest"), tableName });
        const constraints = { summary: {} };
        const layout = await call({
          ...base("GetTableLayoutRequest"),
          tableName,
          constraints,
          schema: got.schema,
          partitionColumns: [],
        });
        const splits = await call({
          ...base("GetSplitsRequest"),
          tableName,
          partitions: layout.partitions,
          partitionColumns: [],
          constraints,
          continuationToken: null,
        });
        const rows: Record<string, unknown>[] = [];
        const spilled: string[] = [];
        for (const split of splits.splits ?? []) {
          const res = await call({
            ...base("ReadRecordsRequest"),
            tableName,
            schema: got.schema,
            split,
            constraints,
            maxBlockSize: "16000000",
            maxInlineBlockSize: spill ? "1" : "5000000",
          });
          if (res["@type"] === "ReadRecordsResponse") rows.push(...decodeBlock(res.records).rows);
          else
            for (const block of res.remoteBlocks ?? []) {
              spilled.push(`s3://${block.bucket}/${block.key}`);
              const obj = await s3.send(new GetObjectCommand({ Bucket: block.bucket, Key: block.key }));
              const sealed = Buffer.from(await obj.Body!.transformToByteArray());
              rows.push(...decodeBatch(res.schema, decrypt(res.encryptionKey, sealed)));
            }
        }
        const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
        const want = SAAS_RECORDS.map((r) => r.id);
        const names = new Map(SAAS_RECORDS.map((r) => [r.id, r.name]));
        add(
          fn.name,
          `a query from ${where} reads every SaaS record ${spill ? "through spilled S3 blocks" : "inline"} (ListSchemas → ListTables → GetTable → GetTableLayout → GetSplits → ReadRecords)`,
          (schemas.schemas ?? []).includes(schemaName) &&
            tableNames.includes(table) &&
            JSON.stringify(ids) === JSON.stringify(want) &&
            rows.every((r) => names.get(Number(r.id)) === r.name) &&
            (!spill || spilled.length > 0),
          `schemas ${JSON.stringify(schemas.schemas)}; tables ${JSON.stringify(tableNames)}; ${(splits.splits ?? []).length} split(s); ${rows.length} rows, ids ${ids.join(",")} (SaaS has ${want.length})${spill ? `; ${spilled.length} spilled block(s): ${spilled.slice(0, 2).join(", ")}` : ""}`,
        );
      } catch (err) {
        add(fn.name, `a query from ${where} reads every SaaS record`, false, (err as Error).message.slice(0, 400));
      }
    }
    const st = await S.internetState();
    const hosts = new Set(tables.map((t) => new URL(t.url).hostname));
    const sources = [...new Set(st.seen.filter((s) => hosts.has(s.host)).map((s) => s.source))];
    const allow = proxyEgressIps(m);
    add(
      fn.name,
      "the SaaS saw the connector's requests coming from the proxy tier's egress IPs",
      sources.length > 0 && sources.every((s) => allow.includes(s)),
      `sources seen: ${sources.join(", ") || "none"}; allowlist: ${allow.join(", ")}`,
    );
  } finally {
    s3.destroy();
  }
}

async function pgQuery(m: TwinModel, S: Services, sql: string): Promise<any[]> {
  const { Client } = await import("pg");
  const c = new Client({
    host: S.pgSocketDir,
    port: S.pgPort,
    user: m.db!.masterUsername,
    database: m.db!.databaseName,
  });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

async function httpsFrom(
  ns: string,
  S: Services,
  host: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const script = `
    const https = require("https");
    const body = process.argv[5] ? process.argv[5] : undefined;
    const req = https.request({ host: process.argv[1], path: process.argv[3], method: process.argv[2], timeout: 20000,
      headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {} }, (res) => {
      let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => { console.log(JSON.stringify({ status: res.statusCode, body: b })); process.exit(0); });
    });
    req.on("error", (e) => { console.log(JSON.stringify({ status: 0, body: e.message })); process.exit(0); });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    if (body) req.write(body);
    req.end();`;
  const r = await execIn(
    ns,
    lambdaNode(),
    ["-e", script, host, method, p, "", body ? JSON.stringify(body) : ""],
    { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: S.caFile },
    40_000,
  );
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    return { status: 0, body: (r.stderr || r.stdout).slice(-300) };
  }
}

/** The SaaS host a proxy client's canned request names: saas-export's SAAS_URL, or the Athena connector's first table. */
function proxyTargetHost(env: Record<string, string>): string | undefined {
  if (env.SAAS_URL) return new URL(env.SAAS_URL).hostname;
  if (env.ATHENA_TABLES) {
    const tables = JSON.parse(env.ATHENA_TABLES) as { url?: string }[];
    if (tables[0]?.url) return new URL(tables[0].url).hostname;
  }
  return undefined;
}
