/**
 * db-writer benchmark: rows/s writing 10,000 and 100,000 users into a local PostgreSQL 15 (test/support/postgres.ts,
 * TLS on, fsync off) through the bundled handler (the deployed bytes, warm: schema and connection in place), beside
 *
 *   naive    the usual recipe's way: one INSERT … ON CONFLICT DO NOTHING per user (prepared), all in one transaction
 *   unnest   the alternative the handler could have used: one INSERT … SELECT FROM unnest($1::text[], …)
 *   COPY     COPY straight into users: no conflict handling, no batch record; the ceiling
 *   temp + ON CONFLICT   the statement shape db-writer used before: COPY into a temp table, then INSERT … SELECT …
 *            ON CONFLICT DO NOTHING (what it still does when the batch overlaps stored users)
 *
 * each into an emptied users table, and the connections the handler opens across 100 warm invocations (target 1).
 * The handler's time includes what the others skip: checking the event, hashing it for the idempotency record,
 * claiming the batch id, probing for stored users. Where its time goes is printed beside it, from the timings the
 * handler logs with every batch ("batch written"): the event check, then the transaction's steps (claim, probe,
 * COPY, counts + commit). Making each user's attributes JSON and the payload hash happens inside COPY, as the rows
 * stream; it is timed alone on the same event and shown beside COPY, as is zod's reading of the event (the
 * handler's reader before the hand-written check; now it only words errors). Everything shares one 2-core machine
 * with the server, so the ratios matter more than the absolute figures; over a Transit Gateway each round trip costs
 * ~1 ms more, which widens the gap to naive.
 *
 *   npm run bench -- db-writer        (on Node 24, ops/runtime-node.ts)
 *
 * Writes bench/results/db-writer.json and prints a markdown table.
 */
import * as path from "path";
import { Readable } from "stream";
import { pipeline } from "stream/promises";
import { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { REPO_ROOT } from "../components/bundle";
import type { WriteSummary } from "../functions/db-writer/index";
import { parseEvent, payloadHash, readers } from "../functions/db-writer/event";
import { loadBundledHandler } from "../test/support/bundled";
import { startPostgres, PgServer } from "../test/support/postgres";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { machine, median, writeResult } from "./common";

const SIZES = [10_000, 100_000];
const REPEATS = 3;
/** The naive insert at 100k takes tens of seconds; once is enough to see its rate. */
const NAIVE_REPEATS: Record<number, number> = { 10_000: 3, 100_000: 1 };
const WARM_INVOCATIONS = 100;
/** The bundle a pg deployment in Tokyo gets. */
const PG_BUNDLE = { dbAccess: "pg", rdsCaRegion: "ap-northeast-1" } as const;

type Handler = (event: unknown) => Promise<WriteSummary>;
interface User {
  externalId: string;
  email: string;
  name: string;
  [k: string]: unknown;
}

function users(n: number, prefix: string): User[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `${prefix}${i}`,
    email: `${prefix}${i}@example.com`,
    name: i % 100 === 0 ? `Customer ${i}, "quoted"\ttab 日本語` : `Customer ${i}`,
    ...(i % 3 === 0 ? { plan: "pro", seats: i % 50, tags: ["bench", `t${i % 7}`] } : {}),
  }));
}

const attributes = (u: User) => {
  const { externalId: _e, email: _m, name: _n, ...rest } = u;
  return JSON.stringify(rest);
};

/** The handler's timings, as it logs them with every batch written (functions/db-writer/index.ts). */
interface BatchTimings {
  reader: string;
  validateMs: number;
  claimMs: number;
  probeMs: number;
  insertMs: number;
  commitMs: number;
  path: string;
}

/** JSON log lines of the handler are counted and kept off the terminal. */
const logLines: string[] = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  if (text.startsWith('{"time"')) {
    logLines.push(...text.split("\n").filter(Boolean));
    return true;
  }
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const pg: PgServer = await startPostgres();
  const secrets = new FakeSecretsManager();
  await secrets.start();
  try {
    const arn = secrets.setSecret("bench/db", JSON.stringify({ username: pg.user, password: pg.password }));
    await pg.sql("CREATE DATABASE bench");
    Object.assign(process.env, {
      DB_ACCESS: "pg",
      DB_HOST: "localhost",
      DB_PORT: String(pg.port),
      DB_NAME: "bench",
      DB_SECRET_ARN: arn,
      DB_TLS_CA_PEM_FILE: pg.caFile,
      LOG_LEVEL: "info",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_REGION: "ap-northeast-1",
      AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
      AWS_SECRET_ACCESS_KEY: "fake",
      AWS_EC2_METADATA_DISABLED: "true",
    });

    const handler = loadBundledHandler<{ handler: Handler }>("db-writer", PG_BUNDLE).handler;
    await handler({ batchId: "warmup", users: users(10, "warmup-") }); // schema + connection

    const client = new Client(pg.pgConfig({ database: "bench" }) as never);
    await client.connect();
    const reset = () => client.query("TRUNCATE users, user_batches");

    const rows = [];
    for (const n of SIZES) {
      const data = users(n, `n${n}-`);
      // The fast variants run round-robin, one repeat of each in turn, so a change in the machine's load falls on
      // all of them alike; the naive insert (far slower) runs on its own after them.
      const writer: number[] = [];
      const handlerMs: number[] = [];
      const timings: BatchTimings[] = [];
      const serializeAndHashMs: number[] = [];
      const schemaReaderMs: number[] = [];
      const unnest: number[] = [];
      const copy: number[] = [];
      const tempOnConflict: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        await reset();
        const event = { batchId: `bench-${n}-${r}`, users: data };
        let res: WriteSummary | undefined;
        logLines.length = 0;
        writer.push(await time(async () => (res = await handler(event))));
        if (res!.inserted !== n) throw new Error(`db-writer inserted ${res!.inserted} of ${n}`);
        handlerMs.push(res!.durationMs);
        const written = logLines
          .map((l) => JSON.parse(l) as { msg?: string; timings?: BatchTimings })
          .find((l) => l.msg === "batch written");
        if (!written?.timings) throw new Error("db-writer logged no timings with its batch");
        timings.push(written.timings);
        // The work the handler does as the rows stream, timed alone on a freshly checked copy of the event: each
        // user's attributes JSON and the payload hash. And, for comparison, the zod schema reading the same event
        // (the handler's only reader before the hand-written one; now it words errors).
        const checked = parseEvent(event);
        serializeAndHashMs.push((await time(async () => payloadHash(checked))) * 1000);
        schemaReaderMs.push((await time(async () => readers.schema(event))) * 1000);
        const rerun = await handler(event);
        if (!rerun.replayed || rerun.inserted !== n) throw new Error("rerun was not a replay");

        await reset();
        unnest.push(
          await time(async () => {
            await client.query("BEGIN");
            const res = await client.query(
              `INSERT INTO users (external_id, email, name, attributes, batch_id)
               SELECT e, m, nm, a, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS u(e, m, nm, a)
               ON CONFLICT (external_id) DO NOTHING`,
              [
                data.map((u) => u.externalId),
                data.map((u) => u.email),
                data.map((u) => u.name),
                data.map(attributes),
                `unnest-${n}-${r}`,
              ],
            );
            await client.query("COMMIT");
            if (res.rowCount !== n) throw new Error(`unnest inserted ${res.rowCount}`);
          }),
        );

        await reset();
        copy.push(
          await time(async () => {
            const stream = client.query(
              copyFrom("COPY users (external_id, email, name, attributes, batch_id) FROM STDIN"),
            );
            await pipeline(Readable.from(copyText(data, `copy-${n}-${r}`)), stream);
            if (stream.rowCount !== n) throw new Error(`COPY wrote ${stream.rowCount}`);
          }),
        );

        await reset();
        tempOnConflict.push(
          await time(async () => {
            await client.query("BEGIN");
            await client.query(
              "CREATE TEMP TABLE IF NOT EXISTS bench_incoming (external_id text, email text, name text, attributes jsonb) ON COMMIT DELETE ROWS",
            );
            const stream = client.query(
              copyFrom("COPY bench_incoming (external_id, email, name, attributes) FROM STDIN"),
            );
            await pipeline(Readable.from(copyText(data, null)), stream);
            const res = await client.query(
              `INSERT INTO users (external_id, email, name, attributes, batch_id) SELECT external_id, email, name, attributes, $1 FROM bench_incoming ON CONFLICT (external_id) DO NOTHING`,
              [`temp-${n}-${r}`],
            );
            await client.query("COMMIT");
            if (res.rowCount !== n) throw new Error(`temp + ON CONFLICT inserted ${res.rowCount}`);
          }),
        );
      }

      const naive: number[] = [];
      for (let r = 0; r < NAIVE_REPEATS[n]; r++) {
        await reset();
        naive.push(
          await time(async () => {
            await client.query("BEGIN");
            await client.query("INSERT INTO user_batches (batch_id, payload_sha256, received) VALUES ($1, '', $2)", [
              `naive-${n}-${r}`,
              n,
            ]);
            for (const u of data) {
              await client.query({
                name: "naive-insert",
                text: "INSERT INTO users (external_id, email, name, attributes, batch_id) VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (external_id) DO NOTHING",
                values: [u.externalId, u.email, u.name, attributes(u), `naive-${n}-${r}`],
              });
            }
            await client.query("COMMIT");
          }),
        );
      }

      const rate = (xs: number[]) => Math.round(n / median(xs));
      /** Rows/s and median of one variant's timed runs, with the runs. */
      const timed = (xs: number[]) => ({
        rowsPerSecond: rate(xs),
        medianSeconds: +median(xs).toFixed(3),
        runs: xs.map((x) => +x.toFixed(3)),
      });
      const ms = (k: keyof BatchTimings) => Math.round(median(timings.map((t) => Number(t[k]))));
      const breakdownMs = {
        validate: ms("validateMs"),
        claim: ms("claimMs"),
        probe: ms("probeMs"),
        copy: ms("insertMs"),
        serializeAndHashDuringCopy: Math.round(median(serializeAndHashMs)),
        countsAndCommit: ms("commitMs"),
      };
      rows.push({
        users: n,
        dbWriter: {
          rowsPerSecond: rate(writer),
          medianSeconds: +median(writer).toFixed(3),
          handlerDurationMs: Math.round(median(handlerMs)),
          breakdownMs,
          // zod's reading of the same event, timed alone (not part of the handler's time).
          schemaReaderMs: Math.round(median(schemaReaderMs)),
          readers: [...new Set(timings.map((t) => t.reader))],
          paths: [...new Set(timings.map((t) => t.path))],
          runs: writer.map((x) => +x.toFixed(3)),
        },
        naive: timed(naive),
        unnest: timed(unnest),
        copy: timed(copy),
        tempOnConflict: timed(tempOnConflict),
        tempOnConflictVsCopy: +(rate(tempOnConflict) / rate(copy)).toFixed(2),
        // The write path alone (the handler's time without checking the event) against COPY.
        writePathVsCopy: +((median(copy) * 1000) / Math.max(1, median(handlerMs) - breakdownMs.validate)).toFixed(2),
        dbWriterVsNaive: +(rate(writer) / rate(naive)).toFixed(2),
        dbWriterVsCopy: +(rate(writer) / rate(copy)).toFixed(2),
        unnestVsCopy: +(rate(unnest) / rate(copy)).toFixed(2),
      });
    }

    // Connections: a fresh container, then warm invocations; count opened connections three ways.
    await reset();
    logLines.length = 0;
    const smBefore = secrets.callsFor(arn);
    const sessionsBefore = await backends(pg);
    const warm = loadBundledHandler<{ handler: Handler }>("db-writer", PG_BUNDLE).handler;
    const pids = new Set<number>();
    for (let i = 0; i < WARM_INVOCATIONS; i++) {
      await warm({ batchId: `warm-${i}`, users: users(10, `warm-${i}-`) });
      for (const b of await backends(pg)) if (!sessionsBefore.has(b)) pids.add(b);
    }
    const opened = logLines.filter(
      (l) => (JSON.parse(l) as { msg?: string }).msg === "database connection opened",
    ).length;
    const connections = {
      invocations: WARM_INVOCATIONS,
      connectionsOpened: opened,
      distinctServerBackends: pids.size,
      secretsManagerReads: secrets.callsFor(arn) - smBefore,
      target: 1,
    };
    await client.end();

    const result = {
      benchmark: "db-writer",
      machine: machine(),
      setup: {
        handler:
          "bundled functions/db-writer (esbuild, as deployed), warm (schema and connection in place); DB_ACCESS=pg",
        server: "PostgreSQL 15 on 127.0.0.1 (test/support/postgres.ts), TLS verified, fsync off, same 2-core machine",
        table: "users emptied (TRUNCATE) before every run; unique external_id, index on batch_id",
        dbWriter:
          "check the event (hand-written, zod only to word errors) + claim batch id + probe 64 ids + COPY into users under a savepoint, making each user's attributes JSON and the payload sha256 as the rows stream + record hash and counts, one transaction",
        tempOnConflict:
          "COPY into a temp table + INSERT … SELECT … ON CONFLICT DO NOTHING, one transaction (db-writer's previous shape; still its path for batches overlapping stored users)",
        naive: "one prepared INSERT … ON CONFLICT DO NOTHING per user, one transaction",
        unnest: "one INSERT … SELECT FROM unnest(text[], text[], text[], jsonb[]) … ON CONFLICT DO NOTHING",
        copy: "COPY users FROM STDIN (no conflict handling, no batch record): the ceiling",
        repeats: REPEATS,
        naiveRepeats: NAIVE_REPEATS,
      },
      results: rows,
      connections,
    };
    const file = writeResult("db-writer", result);

    const fmt = (x: number) => x.toLocaleString("en");
    process.stdout.write(
      [
        `db-writer — ${result.machine.date}, node ${result.machine.node}, ${result.machine.cpus} x ${result.machine.cpuModel}`,
        "",
        "| users | db-writer rows/s | its time (ms): validate · claim + probe · COPY (of which serialize + hash) · counts + commit, of total | naive rows/s | unnest rows/s | temp + ON CONFLICT rows/s | COPY rows/s (ceiling) | db-writer ÷ naive | db-writer ÷ COPY | its write path alone ÷ COPY |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...rows.map(
          (r) =>
            `| ${fmt(r.users)} | ${fmt(r.dbWriter.rowsPerSecond)} | ${breakdown(r.dbWriter.breakdownMs, r.dbWriter.handlerDurationMs)} | ${fmt(r.naive.rowsPerSecond)} | ` +
            `${fmt(r.unnest.rowsPerSecond)} | ${fmt(r.tempOnConflict.rowsPerSecond)} | ${fmt(r.copy.rowsPerSecond)} | ${r.dbWriterVsNaive.toFixed(2)} | ${r.dbWriterVsCopy.toFixed(2)} | ${r.writePathVsCopy.toFixed(2)} |`,
        ),
        "",
        `of the handler's COPY time, making the attributes JSON and the payload hash (timed alone): ${rows.map((r) => `${fmt(r.dbWriter.breakdownMs.serializeAndHashDuringCopy)} ms at ${fmt(r.users)}`).join(", ")}; ` +
          `zod reading the same event, for comparison: ${rows.map((r) => `${fmt(r.dbWriter.schemaReaderMs)} ms`).join(", ")}`,
        "",
        `connections opened across ${connections.invocations} warm invocations: ${connections.connectionsOpened} (server backends seen: ${connections.distinctServerBackends}; Secrets Manager reads: ${connections.secretsManagerReads}; target 1)`,
        "",
        `written to ${path.relative(REPO_ROOT, file)}`,
        "",
      ].join("\n"),
    );
  } finally {
    await pg.stop();
    await secrets.stop();
  }
}

/** One line of where the handler's time went (medians, so the parts need not add up to the total exactly). */
function breakdown(b: Record<string, number>, total: number): string {
  const f = (x: number) => x.toLocaleString("en");
  return (
    `${f(b.validate)} · ${f(b.claim + b.probe)} · ${f(b.copy)} (${f(b.serializeAndHashDuringCopy)}) · ` +
    `${f(b.countsAndCommit)}, of ${f(total)}`
  );
}

/** COPY text lines for the users (batch_id column appended when given), in 64 KiB chunks. */
function* copyText(data: User[], batchId: string | null): Generator<string> {
  const esc = (s: string) =>
    s.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
  let buf = "";
  for (const u of data) {
    buf += `${esc(u.externalId)}\t${esc(u.email)}\t${esc(u.name)}\t${esc(attributes(u))}${batchId === null ? "" : `\t${batchId}`}\n`;
    if (buf.length >= 65_536) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}

async function backends(pg: PgServer): Promise<Set<number>> {
  const rows = (await pg.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'db-writer'")) as Array<{
    pid: number;
  }>;
  return new Set(rows.map((r) => r.pid));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
