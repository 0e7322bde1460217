/**
 * The services inside the twin's namespaces: a test CA, moto (Secrets Manager, S3, DynamoDB) behind TLS on the
 * interface endpoint ENIs and on S3's and DynamoDB's gateway-endpoint addresses, dnsmasq per VPC, the real Squid on
 * every proxy instance behind haproxy sending the PROXY protocol like the load balancer (v2 NLB, v1 CLB), PostgreSQL with TLS at the cluster address, the
 * internet stand-ins (kintone, the SaaS) and the private API stand-in.
 */
import { ChildProcess, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { build } from "esbuild";
import { exactHeaderRegex } from "../../components/squid-conf";
import { Certificates, makeCertificates } from "../../test/fakes/saas";
import { freePort } from "../../test/support/local";
import { findPostgresBin } from "../../test/support/postgres";
import { Host, need, TwinSetupError } from "./host";
import { Layout } from "./network";
import { dynamodbAddress, servicePublicAddress, TwinModel } from "./model";

export interface Services {
  caFile: string;
  motoPort: number;
  motoUrl: string;
  pgSocketDir: string;
  pgPort: number;
  secretValues: Map<string, string>;
  appflowSecretArn: string;
  appflowPassword: string;
  proxyHeaderValue: string;
  kintoneToken: string;
  agents: Record<"invoke" | "probe" | "internet" | "api", string>;
  internet: ChildProcess;
  internetState(): Promise<InternetState>;
  apiSocket: string;
}

export interface InternetState {
  kintone: { id: number; revision: number; values: Record<string, unknown> }[];
  seen: { host: string; source: string; status: number }[];
  saasRequests: number;
}

export const KINTONE_APP_FIELDS: Record<string, string> = {
  company: "SINGLE_LINE_TEXT",
  customerNo: "SINGLE_LINE_TEXT",
  tel: "SINGLE_LINE_TEXT",
  status: "DROP_DOWN",
};
export const KINTONE_SEED = [
  { company: "Acme   Trading  Co.", customerNo: "１２３", tel: "０３-１２３４-５６７８", status: "Open" },
  { company: "Blue  Sky Ltd", customerNo: "4567", tel: "06-1111-2222", status: "Open" },
  { company: "Closed   Corp", customerNo: "99", tel: "011-000-0000", status: "Closed" },
];
export const SAAS_RECORDS = Array.from({ length: 7 }, (_, i) => ({
  id: i + 1,
  name: `item ${i + 1}`,
  updated_at: "2026-11-21T03:00:00Z",
}));

const rand = (n = 24) => crypto.randomBytes(n).toString("hex");

export function findMotoPython(): string {
  const root = path.join(os.homedir(), ".pyenv", "versions");
  const candidates: string[] = [];
  if (fs.existsSync(root))
    for (const v of fs.readdirSync(root).sort().reverse()) candidates.push(path.join(root, v, "bin", "python3"));
  for (const d of (process.env.PATH ?? "").split(path.delimiter)) if (d) candidates.push(path.join(d, "python3"));
  for (const py of candidates) {
    if (py === "/usr/bin/python3" || !fs.existsSync(py)) continue;
    if (spawnSync(py, ["-c", "import moto.server"], { timeout: 20_000 }).status === 0) return py;
  }
  throw new TwinSetupError(
    "no Python with moto found (looked in ~/.pyenv/versions/*/bin/python3 and PATH): pip install 'moto[server]'",
  );
}

async function waitFor(
  what: string,
  ms: number,
  ok: () => boolean | Promise<boolean>,
  output?: () => string,
): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await ok()) return;
    if (Date.now() > until)
      throw new TwinSetupError(
        `${what} did not become ready in ${ms} ms${output ? `:\n${output().slice(-2000)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

function collect(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  return () => out;
}

/** The test CA and one server certificate for every name the twin serves over TLS, plus haproxy's combined file. */
function makeCerts(
  dir: string,
  names: string[],
): { caFile: string; certFile: string; keyFile: string; pemFile: string } {
  const openssl = need("openssl");
  let certs: Certificates;
  try {
    certs = makeCertificates(dir, names, { openssl, caName: "vpc-lambda-kit twin CA" });
  } catch (err) {
    throw new TwinSetupError((err as Error).message);
  }
  const pemFile = path.join(dir, "haproxy.pem");
  fs.writeFileSync(pemFile, certs.cert + certs.key);
  return { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile, pemFile };
}

let agentCache: { dir: string; agents: Promise<Services["agents"]> } | undefined;

/** The agents, bundled once per process (a twin test runs several twins) into a directory removed at exit. */
function bundleAgentsOnce(): Promise<Services["agents"]> {
  if (!agentCache) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-twin-agents-"));
    fs.chmodSync(dir, 0o755);
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    agentCache = { dir, agents: bundleAgents(dir) };
  }
  return agentCache.agents;
}

async function bundleAgents(dir: string): Promise<Services["agents"]> {
  const out = {} as Services["agents"];
  await Promise.all(
    (["invoke", "probe", "internet", "api"] as const).map(async (name) => {
      const file = path.join(dir, `agent-${name}.js`);
      // The IAM simulator reads its data files relative to its own package: loaded from node_modules, not bundled.
      await build({
        entryPoints: [path.join(__dirname, "agents", `${name}.ts`)],
        bundle: true,
        platform: "node",
        target: "node20",
        outfile: file,
        logLevel: "error",
        format: "cjs",
        external: ["@cloud-copilot/*"],
      });
      out[name] = file;
    }),
  );
  return out;
}

/** Every DNS answer a VPC's resolver gives (dnsmasq `address=` lines match the name and its subdomains). */
export function dnsRecords(m: TwinModel, vpcId: string): [string, string][] {
  const vpc = m.vpcs.find((v) => v.id === vpcId)!;
  const rec: [string, string][] = [];
  const region = m.region;
  const withEndpoint = new Set<string>();
  for (const ep of m.interfaceEndpoints.filter((e) => e.vpcId === vpcId)) {
    if (ep.privateDns && vpc.dnsSupport && vpc.dnsHostnames) {
      withEndpoint.add(ep.service);
      for (const e of ep.enis) rec.push([`${ep.service}.${region}.amazonaws.com`, e.ip]);
    }
  }
  for (const svc of ["secretsmanager", "execute-api", "sts", "kms", "logs", "ssm", "rds-data", "appflow"]) {
    if (!withEndpoint.has(svc)) rec.push([`${svc}.${region}.amazonaws.com`, servicePublicAddress(svc)]);
  }
  rec.push([`s3.${region}.amazonaws.com`, "198.51.100.10"], ["s3.amazonaws.com", "198.51.100.10"]);
  rec.push([`dynamodb.${region}.amazonaws.com`, dynamodbAddress()]);
  for (const [h, ip] of m.internetHosts) rec.push([h, ip]);
  if (m.db) {
    rec.push([m.db.endpoint, m.db.eni.ip]);
    if (m.db.readerEndpoint) rec.push([m.db.readerEndpoint, m.db.eni.ip]);
  }
  if (m.proxy) for (const e of m.proxy.lbEnis) rec.push([m.proxy.lbDns, e.ip]);
  return rec;
}

export interface Early {
  certs: ReturnType<typeof makeCerts>;
  agents: Services["agents"];
  motoPort: number;
  motoReady: Promise<void>;
  pgInit?: Promise<PgInit>;
}

interface PgInit {
  bin: string;
  pgDir: string;
  password: string;
}

/** initdb (as the postgres user) while the network is being built. */
async function initPostgres(host: Host, m: TwinModel): Promise<PgInit> {
  const bin = findPostgresBin();
  const pgDir = path.join(host.runDir, "pg");
  const password = rand(16);
  fs.mkdirSync(pgDir);
  fs.writeFileSync(path.join(pgDir, "pwfile"), `${password}\n`);
  const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new TwinSetupError("no postgres user: run apt-get install -y postgresql");
  fs.chownSync(pgDir, uid, gid);
  fs.chownSync(path.join(pgDir, "pwfile"), uid, gid);
  const child = host.spawn(
    path.join(bin, "initdb"),
    [
      "-D",
      path.join(pgDir, "data"),
      "-U",
      m.db!.masterUsername,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${path.join(pgDir, "pwfile")}`,
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ],
    { uid, gid, detached: false },
  );
  const out = collect(child);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  if (code !== 0) throw new TwinSetupError(`initdb failed:\n${out()}`);
  return { bin, pgDir, password };
}

/** What needs no namespace (certificates, agent bundles, moto's slow start) begins before the network is built. */
export async function prepareServices(host: Host, m: TwinModel): Promise<Early> {
  const dir = host.runDir;
  const region = m.region;
  const names = [
    `*.${region}.amazonaws.com`,
    `s3.${region}.amazonaws.com`,
    `*.s3.${region}.amazonaws.com`,
    "s3.amazonaws.com",
    "*.s3.amazonaws.com",
    `*.execute-api.${region}.amazonaws.com`,
    ...m.internetHosts.keys(),
    ...(m.db ? [m.db.endpoint, ...(m.db.readerEndpoint ? [m.db.readerEndpoint] : [])] : []),
  ];
  const certs = makeCerts(dir, [...new Set(names)]);
  const motoPort = await freePort();
  const moto = host.spawn(findMotoPython(), ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(motoPort)], {
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
  });
  const motoOut = collect(moto);
  const motoReady = waitFor("moto", 60_000, () => accepts(motoPort), motoOut);
  motoReady.catch(() => undefined);
  const pgInit = m.db ? initPostgres(host, m) : undefined;
  pgInit?.catch(() => undefined);
  const agents = await bundleAgentsOnce();
  return { certs, agents, motoPort, motoReady, pgInit };
}

export async function startServices(host: Host, m: TwinModel, L: Layout, early: Early): Promise<Services> {
  const dir = host.runDir;
  const region = m.region;
  const { certs, agents, motoPort } = early;

  // Secret values the twin seeds (the graph only says "[secret]").
  const secretValues = new Map<string, string>();
  const envArn = (k: string) => m.functions.map((f) => f.env[k]).find((v) => v);
  const proxyHeaderValue = rand(24);
  const kintoneToken = rand(16);
  const saasToken = rand(16);
  const dbPassword = early.pgInit ? (await early.pgInit).password : rand(16);
  const appflowPassword = rand(16);
  for (const s of m.secrets) secretValues.set(s.arn, rand(16));
  const set = (arn: string | undefined, v: string) => arn && secretValues.set(arn, v);
  // Every function that names the secret by that variable gets the same value (saas-export and the Athena
  // connector each hold their own copy of the SaaS credential).
  const setAll = (k: string, v: string) => m.functions.forEach((f) => set(f.env[k], v));
  setAll("KINTONE_TOKEN_SECRET_ID", kintoneToken);
  setAll("PROXY_HEADER_SECRET_ID", proxyHeaderValue);
  set(m.proxy?.headerSecretArn, proxyHeaderValue);
  setAll("SAAS_AUTH_SECRET_ID", saasToken);
  const dbSecret = JSON.stringify({
    username: m.db?.masterUsername ?? "postgres",
    password: dbPassword,
    engine: "postgres",
  });
  set(m.db?.masterSecretArn, dbSecret);
  set(envArn("DB_SECRET_ARN"), dbSecret);
  const appflowSecretArn = `arn:aws:secretsmanager:${region}:${m.functions[0]?.account ?? "000000000000"}:secret:twin-appflow-connection-AbCdEf`;
  secretValues.set(appflowSecretArn, JSON.stringify({ username: "appflow_reader", password: appflowPassword }));

  // moto runs on loopback in the host namespace (started early); only haproxy reaches it, from the endpoint ENIs
  // and S3's addresses.
  const waits: Promise<void>[] = [early.motoReady];

  // PostgreSQL at the cluster address, inside the database's ENI namespace, as the postgres user.
  const pgSocketDir = path.join(dir, "pgsock");
  const pgPort = m.db?.port ?? 5432;
  if (m.db && early.pgInit) {
    const { bin, pgDir } = await early.pgInit;
    fs.mkdirSync(pgSocketDir);
    fs.copyFileSync(certs.keyFile, path.join(pgDir, "server.key"));
    fs.copyFileSync(certs.certFile, path.join(pgDir, "server.pem"));
    fs.chmodSync(path.join(pgDir, "server.key"), 0o600);
    const { uid, gid } = fs.statSync(pgDir);
    for (const p of [pgSocketDir, path.join(pgDir, "server.key"), path.join(pgDir, "server.pem")])
      fs.chownSync(p, uid, gid);
    fs.writeFileSync(
      path.join(pgDir, "data", "pg_hba.conf"),
      "local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\n",
    );
    const settings = {
      listen_addresses: m.db.eni.ip,
      port: pgPort,
      unix_socket_directories: pgSocketDir,
      ssl: "on",
      ssl_cert_file: path.join(pgDir, "server.pem"),
      ssl_key_file: path.join(pgDir, "server.key"),
      fsync: "off",
      full_page_writes: "off",
      max_connections: 50,
    };
    const args = [
      "--reuid=postgres",
      "--regid=postgres",
      "--init-groups",
      path.join(bin, "postgres"),
      "-D",
      path.join(pgDir, "data"),
    ];
    for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
    const pg = host.spawn(need("setpriv"), args, { ns: L.eniNs.get(m.db.eni.key) });
    const pgOut = collect(pg);
    waits.push(waitFor("postgres", 30_000, () => /ready to accept connections/.test(pgOut()), pgOut));
  }

  // dnsmasq per VPC with DNS resolution on, at the VPC's base + 2.
  for (const vpc of m.vpcs) {
    if (!vpc.dnsSupport) continue;
    const conf = path.join(dir, `dnsmasq-${vpc.id}.conf`);
    const lines = [
      "no-resolv",
      "no-hosts",
      "bind-interfaces",
      `listen-address=${vpc.resolver}`,
      "no-negcache",
      ...dnsRecords(m, vpc.id).map(([n, ip]) => `address=/${n}/${ip}`),
    ];
    fs.writeFileSync(conf, lines.join("\n") + "\n");
    const d = host.spawn(
      need("dnsmasq"),
      ["-k", "-C", conf, "--pid-file=" + path.join(dir, `dnsmasq-${vpc.id}.pid`), "--log-facility=-", "--user=root"],
      { ns: L.router.get(vpc.id) },
    );
    const out = collect(d);
    waits.push(
      waitFor(`dnsmasq in ${vpc.name}`, 10_000, () => /started, version/.test(out()) || d.exitCode !== null, out).then(
        () => {
          if (d.exitCode !== null) throw new TwinSetupError(`dnsmasq in ${vpc.name} exited: ${out()}`);
        },
      ),
    );
  }

  // Squid on each proxy instance, with the squid.conf the launch template carries (renderSquidConf's output).
  if (m.proxy && m.proxy.squidTemplate) {
    for (const inst of m.proxy.instances) {
      const sdir = path.join(dir, `squid-${inst.key}`);
      fs.mkdirSync(sdir);
      fs.chmodSync(sdir, 0o777);
      let conf = m.proxy.headerToken
        ? m.proxy.squidTemplate.split(`^${m.proxy.headerToken}$`).join(exactHeaderRegex(proxyHeaderValue))
        : m.proxy.squidTemplate;
      conf = conf
        .replace(/^pid_filename .*$/m, `pid_filename ${sdir}/squid.pid`)
        .replace(/^access_log .*$/m, `access_log stdio:${sdir}/access.log squid`)
        .replace(/^cache_log .*$/m, `cache_log ${sdir}/cache.log`)
        .replace(/^coredump_dir .*$/m, `coredump_dir ${sdir}`)
        .replace(/^shutdown_lifetime .*$/m, "shutdown_lifetime 0 seconds");
      fs.writeFileSync(path.join(sdir, "squid.conf"), conf);
      // A service name of the run's own (alphanumeric, as Squid wants it) names the instance's shared-memory segments
      // in /dev/shm: with Squid's default ("squid") a segment left by a killed instance of an earlier run makes the
      // next one fail with "File exists". Host.teardown removes the run's segments.
      const service = host.shmName(`sq${inst.key.replace(/[^A-Za-z0-9]/g, "")}`);
      const sq = host.spawn(need("squid"), ["-N", "-d1", "-n", service, "-f", path.join(sdir, "squid.conf")], {
        ns: L.eniNs.get(inst.key),
        cwd: sdir,
      });
      const out = collect(sq);
      waits.push(
        waitFor(
          `squid on ${inst.ip}`,
          20_000,
          () => /Accepting (HTTP|PROXY).* connections at/.test(out()) || sq.exitCode !== null,
          out,
        ).then(() => {
          if (sq.exitCode !== null) throw new TwinSetupError(`squid on ${inst.ip} exited:\n${out().slice(-1500)}`);
        }),
      );
    }
  }

  // Internet stand-ins.
  const inetCfg = path.join(dir, "internet.json");
  const envOf = (k: string) => m.functions.map((f) => f.env[k]).find((v) => v);
  const saasUrl = envOf("SAAS_URL");
  // The SaaS answers saas-export's SAAS_URL and every table URL of the Athena connector, each in its own
  // pagination style and records path.
  const saasRoutes: { host: string; path: string; pagination: string; recordsPath: string }[] = [];
  if (saasUrl)
    saasRoutes.push({
      host: new URL(saasUrl).hostname,
      path: new URL(saasUrl).pathname,
      pagination: envOf("SAAS_PAGINATION") ?? "none",
      recordsPath: envOf("SAAS_RECORDS_PATH") ?? "$",
    });
  for (const f of m.functions) {
    let tables: { url?: string; pagination?: string; recordsPath?: string }[];
    try {
      tables = f.env.ATHENA_TABLES ? JSON.parse(f.env.ATHENA_TABLES) : [];
    } catch {
      tables = []; // the model already warned that ATHENA_TABLES is not JSON
    }
    for (const t of Array.isArray(tables) ? tables : []) {
      if (typeof t.url !== "string") continue;
      const u = new URL(t.url);
      if (saasRoutes.some((r) => r.host === u.hostname && r.path === u.pathname)) continue;
      saasRoutes.push({
        host: u.hostname,
        path: u.pathname,
        pagination: t.pagination ?? "none",
        recordsPath: t.recordsPath ?? "$",
      });
    }
  }
  const saasHosts = new Set(saasRoutes.map((r) => r.host));
  const kintoneHost = (() => {
    const u = m.functions.map((f) => f.env.KINTONE_BASE_URL).find((v) => v);
    return u ? new URL(u).hostname : undefined;
  })();
  const kintoneApp = Number(m.functions.map((f) => f.env.KINTONE_APP_ID).find((v) => v) ?? 1);
  fs.writeFileSync(
    inetCfg,
    JSON.stringify({
      cert: certs.certFile,
      key: certs.keyFile,
      allowlist: m.egressIps,
      // The SaaS allowlists the proxy tier's egress addresses (its instances' EIPs with placement "public").
      saasAllowlist: m.proxy?.egressIps.length ? m.proxy.egressIps : m.egressIps,
      hosts: [...m.internetHosts].map(([name, ip]) => ({
        name,
        ip,
        role: name === kintoneHost ? "kintone" : saasHosts.has(name) ? "saas" : "other",
      })),
      kintone: { appId: kintoneApp, token: kintoneToken, fields: KINTONE_APP_FIELDS, records: KINTONE_SEED },
      saas: {
        auth: { header: "authorization", value: `Bearer ${saasToken}` },
        records: SAAS_RECORDS,
        pageSize: 3,
        routes: saasRoutes,
      },
    }),
  );
  const internet = host.spawn(process.execPath, [agents.internet, inetCfg], {
    ns: L.internet,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const inetOut = collect(internet);
  let inetReady = false;
  internet.on("message", (msg: { type: string }) => msg.type === "ready" && (inetReady = true));
  waits.push(
    waitFor("internet stand-ins", 20_000, () => inetReady || internet.exitCode !== null, inetOut).then(() => {
      if (internet.exitCode !== null) throw new TwinSetupError(`internet stand-ins exited:\n${inetOut()}`);
    }),
  );

  // Private API stand-in (a unix socket; haproxy is its only client).
  const apiSocket = path.join(dir, "api.sock");
  if (m.api) {
    const fn = m.functions.find((f) => f.name === m.api!.fn);
    const apiCfg = path.join(dir, "api.json");
    const apiRes = m.api;
    const routes = apiRes.routes;
    fs.writeFileSync(
      apiCfg,
      JSON.stringify({
        socket: apiSocket,
        apiId: apiRes.id,
        region,
        account: apiRes.account,
        stage: apiRes.stage,
        routes,
        policy: apiRes.policy,
        invoke: fn
          ? {
              namespaces: fn.enis.map((e) => L.eniNs.get(e.key)),
              node: lambdaNodeLazy(),
              agent: agents.invoke,
              bundle: fn.bundle,
              handler: fn.handler.split(".").pop(),
              env: lambdaEnv(m, fn, certs.caFile),
              timeoutMs: Math.min(fn.timeoutSeconds, 20) * 1000,
              fn: fn.name,
              dir,
            }
          : undefined,
      }),
    );
    const api = host.spawn(process.execPath, [agents.api, apiCfg], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, NODE_PATH: path.resolve(__dirname, "..", "..", "node_modules") },
    });
    const apiOut = collect(api);
    let apiReady = false;
    api.on("message", (msg: { type: string }) => msg.type === "ready" && (apiReady = true));
    waits.push(
      waitFor("private API stand-in", 20_000, () => apiReady || api.exitCode !== null, apiOut).then(() => {
        if (api.exitCode !== null) throw new TwinSetupError(`private API stand-in exited:\n${apiOut()}`);
      }),
    );
  }

  await Promise.all(waits);

  // haproxy: TLS on every interface endpoint ENI and S3/public service address, the CLB nodes, the API.
  const hp: string[] = [
    "global",
    "  maxconn 4000",
    "defaults",
    "  timeout connect 3s",
    "  timeout client 120s",
    "  timeout server 120s",
    "  timeout check 2s",
    "backend moto",
    "  mode http",
    `  server moto 127.0.0.1:${motoPort}`,
    "backend api",
    "  mode http",
    `  server api unix@${apiSocket}`,
  ];
  for (const ep of m.interfaceEndpoints) {
    for (const e of ep.enis) {
      const ns = L.eniNs.get(e.key)!;
      hp.push(`frontend ep_${e.key}`, `  bind ${e.ip}:443 namespace ${ns} ssl crt ${certs.pemFile}`, "  mode http");
      if (ep.service === "execute-api")
        hp.push(
          `  http-request set-header X-Twin-Vpce ${ep.id}`,
          "  http-request set-header X-Twin-Source %[src]",
          "  default_backend api",
        );
      else if (ep.service === "secretsmanager" || ep.service === "s3") hp.push("  default_backend moto");
      else hp.push("  http-request return status 200 content-type text/plain string twin-endpoint");
    }
  }
  hp.push(
    "frontend aws_public",
    `  bind ${L.s3Ip}:443 namespace ${L.aws} ssl crt ${certs.pemFile}`,
    `  bind ${servicePublicAddress("secretsmanager")}:443 namespace ${L.aws} ssl crt ${certs.pemFile}`,
    `  bind ${dynamodbAddress()}:443 namespace ${L.aws} ssl crt ${certs.pemFile}`,
    "  mode http",
    "  default_backend moto",
  );
  hp.push(
    "frontend aws_public_api",
    `  bind ${servicePublicAddress("execute-api")}:443 namespace ${L.aws} ssl crt ${certs.pemFile}`,
    "  mode http",
    '  http-request return status 403 content-type application/json string \'{"message":"Forbidden"}\'',
  );
  if (m.proxy) {
    for (const lb of m.proxy.lbEnis) {
      const ns = L.eniNs.get(lb.key)!;
      hp.push(
        `listen clb_${lb.key}`,
        `  bind ${lb.ip}:${m.proxy.lbPort} namespace ${ns}`,
        "  mode tcp",
        "  balance roundrobin",
      );
      // CLB: PROXY protocol v1 (proxy protocol policy); NLB: v2 (target group proxyProtocolV2), client IP preservation off.
      const send =
        m.proxy.proxyProtocolVersion === 2 ? " send-proxy-v2" : m.proxy.proxyProtocolVersion === 1 ? " send-proxy" : "";
      m.proxy.instances.forEach((inst, i) =>
        hp.push(
          `  server p${i} ${inst.ip}:${m.proxy!.instancePort} namespace ${ns}${send} check inter 1s fall 2 rise 1`,
        ),
      );
    }
  }
  const hpFile = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(hpFile, hp.join("\n") + "\n");
  const haproxy = host.spawn(need("haproxy"), ["-db", "-f", hpFile]);
  const hpOut = collect(haproxy);
  await new Promise((r) => setTimeout(r, 300));
  if (haproxy.exitCode !== null) throw new TwinSetupError(`haproxy exited:\n${hpOut()}`);

  // Seed moto (secrets, buckets) and PostgreSQL.
  await seedMoto(m, motoPort, secretValues);
  if (m.db) await seedPostgres(m, pgSocketDir, pgPort, appflowPassword);
  // Give the CLB health checks a round so an unreachable proxy is out of rotation, as with a real CLB.
  if (m.proxy) await new Promise((r) => setTimeout(r, 2200));

  return {
    caFile: certs.caFile,
    motoPort,
    motoUrl: `http://127.0.0.1:${motoPort}`,
    pgSocketDir,
    pgPort,
    secretValues,
    appflowSecretArn,
    appflowPassword,
    proxyHeaderValue,
    kintoneToken,
    agents,
    internet,
    apiSocket,
    internetState: () =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("internet stand-ins did not answer")), 5000);
        const on = (msg: InternetState & { type: string }) => {
          if (msg.type !== "state") return;
          clearTimeout(t);
          internet.off("message", on);
          resolve(msg);
        };
        internet.on("message", on);
        internet.send({ type: "state" });
      }),
  };
}

function lambdaNodeLazy(): string {
  return require("../runtime-node").runtimeNode();
}

/** The environment a function runs with: the graph's variables plus what Lambda sets, and the twin's CA. */
export function lambdaEnv(m: TwinModel, fn: TwinModel["functions"][number], caFile: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...fn.env,
    AWS_REGION: m.region,
    AWS_DEFAULT_REGION: m.region,
    AWS_ACCESS_KEY_ID: "AKIDTWINTWINTWIN",
    AWS_SECRET_ACCESS_KEY: "twin-secret-access-key",
    AWS_SESSION_TOKEN: "twin-session",
    AWS_LAMBDA_FUNCTION_NAME: fn.resourceName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    // The twin's CA stands in for Amazon's public CAs (NODE_EXTRA_CA_CERTS) and for the RDS CA bundle.
    NODE_EXTRA_CA_CERTS: caFile,
    DB_TLS_CA_PEM_FILE: caFile,
    PG_EXTRA_CA_FILE: caFile,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    // Bundles leave the AWS SDK v3 to the runtime (Lambda's nodejs runtimes ship it); the repo's copy stands in.
    NODE_PATH: path.resolve(__dirname, "..", "..", "node_modules"),
  };
}

async function seedMoto(m: TwinModel, port: number, secrets: Map<string, string>): Promise<void> {
  const { SecretsManagerClient, CreateSecretCommand } = await import("@aws-sdk/client-secrets-manager");
  const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
  const creds = { accessKeyId: "AKIDTWINTWINTWIN", secretAccessKey: "twin" };
  const sm = new SecretsManagerClient({ region: m.region, endpoint: `http://127.0.0.1:${port}`, credentials: creds });
  // moto resolves a full ARN by its last segment, so each secret is named exactly that: any account, same ARN.
  for (const [arn, value] of secrets)
    await sm.send(new CreateSecretCommand({ Name: arn.split(":").pop()!, SecretString: value }));
  const s3 = new S3Client({
    region: m.region,
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: creds,
  });
  for (const b of m.buckets)
    await s3.send(
      new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: m.region as never } }),
    );
  sm.destroy();
  s3.destroy();
  if (m.dynamoTables.length) {
    const { DynamoDBClient, CreateTableCommand } = await import("@aws-sdk/client-dynamodb");
    const ddb = new DynamoDBClient({ region: m.region, endpoint: `http://127.0.0.1:${port}`, credentials: creds });
    for (const t of m.dynamoTables) {
      const keys = [
        { AttributeName: t.hashKey, KeyType: "HASH" as const },
        ...(t.rangeKey ? [{ AttributeName: t.rangeKey, KeyType: "RANGE" as const }] : []),
      ];
      const defs = keys.map((k) => ({
        AttributeName: k.AttributeName,
        AttributeType: (t.attributes.find((a) => a.name === k.AttributeName)?.type ?? "S") as "S" | "N" | "B",
      }));
      await ddb.send(
        new CreateTableCommand({
          TableName: t.name,
          KeySchema: keys,
          AttributeDefinitions: defs,
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
    }
    ddb.destroy();
  }
}

async function seedPostgres(m: TwinModel, socketDir: string, port: number, appflowPassword: string): Promise<void> {
  const { Client } = await import("pg");
  const admin = new Client({ host: socketDir, port, user: m.db!.masterUsername, database: "postgres" });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${m.db!.databaseName}"`);
  await admin.end();
  const c = new Client({ host: socketDir, port, user: m.db!.masterUsername, database: m.db!.databaseName });
  await c.connect();
  await c.query(`
    CREATE ROLE appflow_reader LOGIN PASSWORD '${appflowPassword}';
    CREATE SCHEMA sales;
    CREATE TABLE sales.customers (id int PRIMARY KEY, name text NOT NULL, score int NOT NULL, active boolean NOT NULL);
    INSERT INTO sales.customers SELECT i, 'Customer ' || i, (i * 7) % 100, i % 3 <> 0 FROM generate_series(1, 40) i;
    GRANT USAGE ON SCHEMA sales TO appflow_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA sales TO appflow_reader;`);
  await c.end();
}
