/**
 * renderSquidConf against a real Squid (`squid -N`), entirely on loopback.
 *
 * Test names resolve through a temp hosts_file to 127.0.0.1, where a fake HTTP origin and a TCP
 * echo target (the CONNECT destination) listen; `dns_nameservers 127.0.0.1` keeps Squid away from
 * any real resolver. Three Squids run side by side:
 *   main   – plain port, clients 127.0.0.1/32, header X-Lambda-Test: test
 *   proxy  – require-proxy-header from 127.0.0.1/32, clients 10.0.1.0/24, a header value made of
 *            every visible ASCII character (the regex-escaping worst case)
 *   strict – like main but with the default blockLocalDestinations (loopback destinations denied)
 */
import * as fs from "fs";
import { renderSquidConf, SquidConfOptions } from "../../components/squid-conf";
import { startHttpUpstream, startTcpEcho, HttpUpstream, TcpEcho } from "../fakes/upstream";
import {
  connectRequest,
  findSquid,
  LoopbackSquid,
  loopbackSquidOptions,
  proxyGet,
  proxyRequest,
  proxyV1,
  proxyV2,
  RunningSquid,
  sleep,
  squidParse,
  SquidSandbox,
  squidVersion,
  startLoopbackSquid,
  TEST_HEADER,
} from "../support/squid";

jest.setTimeout(60_000);

const SECRET = "test";
let NASTY = "";
for (let c = 0x21; c <= 0x7e; c++) NASTY += String.fromCharCode(c);
NASTY += "${process_number}#end\\"; // Squid macro syntax, a '#' and a trailing backslash

const HOSTS = Object.fromEntries(
  [
    "api.example.org",
    "other.example.org",
    "example.org",
    "example.com",
    "sub.example.com",
    "deep.sub.example.com",
    "evil-example.com",
    "example.com.evil.net",
    "api.example.org.evil.net",
    "notexample.com",
    "saas.not-listed.net",
  ].map((h) => [h, "127.0.0.1"]),
);
const DOMAINS = [".example.com", "api.example.org"];

let upstream: HttpUpstream;
let echo: TcpEcho;
const started: LoopbackSquid[] = [];
let main: RunningSquid;
let proxied: RunningSquid;
let strict: RunningSquid;
let proxiedSandbox: SquidSandbox;
const confs: Record<string, string> = {};

const baseOptions = (port: number, sb: SquidSandbox): SquidConfOptions =>
  loopbackSquidOptions(port, sb, {
    headerValue: SECRET,
    allowedDomains: DOMAINS,
    connectPorts: [echo.port],
    safePorts: [upstream.port],
  });

async function launch(
  name: string,
  make: (port: number, sb: SquidSandbox) => SquidConfOptions,
): Promise<[RunningSquid, SquidSandbox]> {
  const s = await startLoopbackSquid(HOSTS, `vlk-squid-${name}-`, make);
  started.push(s);
  confs[name] = s.conf;
  return [s.squid, s.sandbox];
}

beforeAll(async () => {
  findSquid(); // throws "squid not found: run apt-get update && apt-get install -y squid"
  upstream = await startHttpUpstream();
  echo = await startTcpEcho();
  [[main], [proxied, proxiedSandbox], [strict]] = await Promise.all([
    launch("main", baseOptions),
    launch("proxy", (port, sb) => ({
      ...baseOptions(port, sb),
      headerValue: NASTY,
      clientCidrs: ["10.0.1.0/24"],
      proxyProtocolFrom: ["127.0.0.1/32"],
    })),
    launch("strict", (port, sb) => {
      const o = baseOptions(port, sb);
      delete o.blockLocalDestinations;
      return o;
    }),
  ]);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await Promise.all([upstream?.close(), echo?.close()]);
});

const url = (host: string, p = "/records") => `http://${host}:${upstream.port}${p}`;
const get = (
  s: RunningSquid,
  host: string,
  headers: Array<[string, string]>,
  extra: { localAddress?: string; preamble?: string } = {},
) => proxyGet(s.port, url(host), headers, extra);
const withSecret: Array<[string, string]> = [[TEST_HEADER, SECRET]];

/** Runs `fn` and returns the upstream requests it caused. */
async function upstreamHits(fn: () => Promise<unknown>) {
  const before = upstream.requests.length;
  await fn();
  return upstream.requests.slice(before);
}

// The proxied Squid: PROXY protocol accepted from the load balancer's address only, the all-ASCII header value.
const lb = "127.0.0.1";
const nasty: Array<[string, string]> = [[TEST_HEADER, NASTY]];

/** A CONNECT to the echo target through the proxied Squid, from the load balancer with `preamble`; `data` goes through. */
const connectFromLb = (preamble: string, data: string) =>
  proxyRequest({
    port: proxied.port,
    localAddress: lb,
    preamble,
    request: connectRequest(`api.example.org:${echo.port}`, nasty),
    tunnelData: data,
  });

/** The proxied Squid's access log, once a line matches `entry` (Squid writes it shortly after the reply; bounded wait). */
async function proxiedAccessLog(entry: RegExp): Promise<string> {
  let log = "";
  for (let i = 0; i < 40 && !entry.test(log); i++) {
    await sleep(100);
    log = fs.existsSync(proxiedSandbox.accessLogPath) ? fs.readFileSync(proxiedSandbox.accessLogPath, "utf8") : "";
  }
  return log;
}

describe("real squid: environment", () => {
  it("squid is installed", () => {
    expect(findSquid()).toMatch(/squid$/);
    expect(squidVersion()).toMatch(/^\d+\./);
  });

  it("every rendered config parses without errors or ACL warnings (squid -k parse)", () => {
    for (const [name, conf] of Object.entries(confs)) {
      const r = squidParse(conf);
      expect({ name, status: r.status, problems: r.problems }).toEqual({ name, status: 0, problems: [] });
    }
  });

  it("a 600-domain whitelist parses cleanly (one domain per line keeps lines under Squid's 2048-byte limit)", () => {
    const allowedDomains: string[] = [];
    for (let i = 0; i < 300; i++)
      allowedDomains.push(`.tenant${i}.saas-${i % 7}.example.net`, `api${i}.vendor-${i % 11}.example.io`);
    const conf = renderSquidConf({
      port: 3128,
      headerName: TEST_HEADER,
      headerValue: NASTY,
      allowedDomains,
      clientCidrs: ["10.0.0.0/16"],
      proxyProtocolFrom: ["10.0.10.0/24", "10.0.11.0/24"],
    });
    const r = squidParse(conf);
    expect(r.status).toBe(0);
    expect(r.problems).toEqual([]);
    expect(r.output).toContain("api299.vendor-2.example.io");
  });

  it("Squid itself complains about the overlaps renderSquidConf rejects (why validation refuses them)", () => {
    const r = squidParse(
      [
        "http_port 127.0.0.1:3999",
        "acl d dstdomain .example.com api.example.com",
        "acl s src 10.0.0.0/16 10.0.1.0/24",
        "http_access allow d s",
        "http_access deny all",
        "",
      ].join("\n"),
    );
    expect(r.problems.join("\n")).toMatch(/'api\.example\.com' is a subdomain of '\.example\.com'/);
    expect(r.problems.join("\n")).toMatch(/'10\.0\.1\.0\/24' is a subnetwork of/);
  });
});

describe("real squid: header AND domain AND source (plain HTTP)", () => {
  it("header + whitelisted host → 200; upstream sees neither the secret nor the client address", async () => {
    const hits = await upstreamHits(async () => {
      const r = await get(main, "api.example.org", [
        ...withSecret,
        ["X-Forwarded-For", "203.0.113.9"],
        ["Forwarded", "for=203.0.113.9"],
      ]);
      expect(r.status).toBe(200);
      expect(r.body).toContain("upstream-ok host=api.example.org");
    });
    expect(hits).toHaveLength(1);
    const h = hits[0].headers;
    expect(h["x-lambda-test"]).toBeUndefined();
    expect(h["x-forwarded-for"]).toBeUndefined();
    expect(h.via).toBeUndefined();
    expect(JSON.stringify(h)).not.toContain("127.0.0.1");
  });

  it.each(["sub.example.com", "deep.sub.example.com", "example.com", "API.EXAMPLE.ORG"])(
    "header + %s (covered by the whitelist) → 200",
    async (host) => {
      const r = await get(main, host, withSecret);
      expect(r.status).toBe(200);
    },
  );

  it("header name is case-insensitive, as HTTP requires (and is stripped in any case)", async () => {
    const hits = await upstreamHits(async () => {
      expect((await get(main, "api.example.org", [["x-LAMBDA-test", SECRET]])).status).toBe(200);
    });
    expect(hits).toHaveLength(1);
    expect(Object.keys(hits[0].headers)).not.toContain("x-lambda-test");
  });

  it("header only (domain not whitelisted) → 403", async () => {
    const hits = await upstreamHits(async () => {
      expect((await get(main, "saas.not-listed.net", withSecret)).status).toBe(403);
    });
    expect(hits).toHaveLength(0);
  });

  it("domain only (no header) → 403", async () => {
    expect((await get(main, "api.example.org", [])).status).toBe(403);
  });

  it.each(["xtestx", "test2", "Test", "tes", " test2", "test, test", ".est"])(
    "wrong header value %j → 403",
    async (value) => {
      expect((await get(main, "api.example.org", [[TEST_HEADER, value]])).status).toBe(403);
    },
  );

  it("the header sent twice (Squid joins them to 'test, test') → 403", async () => {
    expect(
      (
        await get(main, "api.example.org", [
          [TEST_HEADER, SECRET],
          [TEST_HEADER, SECRET],
        ])
      ).status,
    ).toBe(403);
  });

  it.each([
    "evil-example.com",
    "example.com.evil.net",
    "api.example.org.evil.net",
    "notexample.com",
    "other.example.org",
    "example.org",
  ])("look-alike or not-listed host %s → 403", async (host) => {
    const hits = await upstreamHits(async () => {
      expect((await get(main, host, withSecret)).status).toBe(403);
    });
    expect(hits).toHaveLength(0);
  });

  it("the IP address of a whitelisted host → 403 (dstdomain -n: no reverse lookup)", async () => {
    expect((await get(main, "127.0.0.1", withSecret)).status).toBe(403);
  });

  it("source outside clientCidrs (127.0.0.2 while only 127.0.0.1/32 is listed) → 403", async () => {
    const hits = await upstreamHits(async () => {
      expect((await get(main, "api.example.org", withSecret, { localAddress: "127.0.0.2" })).status).toBe(403);
    });
    expect(hits).toHaveLength(0);
  });

  it("plain HTTP to a port outside safePorts → 403", async () => {
    const r = await proxyGet(main.port, `http://api.example.org:${echo.port}/`, withSecret);
    expect(r.status).toBe(403);
  });

  it("non-HTTP schemes (ftp://) → 403", async () => {
    const r = await proxyGet(main.port, `ftp://api.example.org:${upstream.port}/`, withSecret);
    expect(r.status).toBe(403);
  });
});

describe("real squid: CONNECT (HTTPS tunnels see only the CONNECT request's headers)", () => {
  const tunnel = (
    s: RunningSquid,
    authority: string,
    headers: Array<[string, string]>,
    extra: { localAddress?: string } = {},
  ) =>
    proxyRequest({
      port: s.port,
      request: connectRequest(authority, headers),
      tunnelData: "ping-through-tunnel\n",
      ...extra,
    });

  it("CONNECT with the header to a whitelisted host on a connect port → 200 Connection established; only client bytes reach the target", async () => {
    const before = echo.received.length;
    const r = await tunnel(main, `api.example.org:${echo.port}`, withSecret);
    expect(r.status).toBe(200);
    expect(r.head).toMatch(/Connection established/i);
    expect(r.tunnelReply).toBe("ping-through-tunnel\n");
    const got = echo.received.slice(before).map((b) => b.toString("latin1"));
    expect(got).toEqual(["ping-through-tunnel\n"]);
  });

  it("CONNECT to a subdomain of .example.com → 200", async () => {
    expect((await tunnel(main, `sub.example.com:${echo.port}`, withSecret)).status).toBe(200);
  });

  it("CONNECT without the header → 403", async () => {
    expect((await tunnel(main, `api.example.org:${echo.port}`, [])).status).toBe(403);
  });

  it("CONNECT with a wrong header value → 403", async () => {
    expect((await tunnel(main, `api.example.org:${echo.port}`, [[TEST_HEADER, "xtestx"]])).status).toBe(403);
  });

  it("CONNECT to a look-alike domain → 403", async () => {
    expect((await tunnel(main, `evil-example.com:${echo.port}`, withSecret)).status).toBe(403);
  });

  it("CONNECT to a port outside connectPorts (even an open, safe one) → 403", async () => {
    const before = echo.received.length;
    expect((await tunnel(main, `api.example.org:${upstream.port}`, withSecret)).status).toBe(403);
    expect(echo.received.length).toBe(before);
  });

  it("CONNECT from a source outside clientCidrs → 403", async () => {
    expect((await tunnel(main, `api.example.org:${echo.port}`, withSecret, { localAddress: "127.0.0.2" })).status).toBe(
      403,
    );
  });
});

describe("real squid: PROXY protocol from the load balancer", () => {
  const pp = (src: string) => proxyV1(src, "127.0.0.1", 40000, proxied.port);

  it("PROXY v1 from the LB claiming a client in clientCidrs + exact (all-ASCII) header → 200; the log shows the real client", async () => {
    const hits = await upstreamHits(async () => {
      const r = await get(proxied, "api.example.org", nasty, { preamble: pp("10.0.1.5"), localAddress: lb });
      expect(r.status).toBe(200);
    });
    expect(hits).toHaveLength(1);
    expect(hits[0].headers["x-lambda-test"]).toBeUndefined();
    expect(hits[0].headers["x-forwarded-for"]).toBeUndefined();
    const entry = / 10\.0\.1\.5 TCP_\w+\/200 .*api\.example\.org/;
    expect(await proxiedAccessLog(entry)).toMatch(entry);
  });

  it("a request without the PROXY header is refused (connection closed, nothing forwarded)", async () => {
    const hits = await upstreamHits(async () => {
      const r = await get(proxied, "api.example.org", nasty, { localAddress: lb });
      expect(r.status === null || r.status >= 400).toBe(true);
    });
    expect(hits).toHaveLength(0);
  });

  it("a PROXY header from an address outside proxyProtocolFrom is refused", async () => {
    const r = await get(proxied, "api.example.org", nasty, { preamble: pp("10.0.1.5"), localAddress: "127.0.0.2" });
    expect(r.status === null || r.status >= 400).toBe(true);
  });

  it("PROXY header claiming a client outside clientCidrs → 403", async () => {
    expect((await get(proxied, "api.example.org", nasty, { preamble: pp("10.0.2.5"), localAddress: lb })).status).toBe(
      403,
    );
  });

  it("the LB's own address is not a client: header + domain without PROXY-claimed client in clientCidrs → 403", async () => {
    expect((await get(proxied, "api.example.org", nasty, { preamble: pp("127.0.0.1"), localAddress: lb })).status).toBe(
      403,
    );
  });

  it.each([
    ["one character more at the start", "x" + NASTY],
    ["one character more at the end", NASTY + "x"],
    ["'.' replaced (an unescaped '.' would match it)", NASTY.replace(".", "Q")],
    ["'*' dropped (an unescaped '*' would allow it)", NASTY.replace("*", "")],
    ["'\\' dropped", NASTY.replace("\\", "")],
    ["case changed", NASTY.toLowerCase()],
  ])("all-ASCII secret with %s → 403", async (_what, value) => {
    expect(
      (await get(proxied, "api.example.org", [[TEST_HEADER, value]], { preamble: pp("10.0.1.5"), localAddress: lb }))
        .status,
    ).toBe(403);
  });

  it("CONNECT through PROXY protocol with the exact header → 200", async () => {
    const r = await connectFromLb(pp("10.0.1.7"), "x\n");
    expect(r.status).toBe(200);
    expect(r.tunnelReply).toBe("x\n");
  });
});

describe("real squid: PROXY protocol v2 (binary), as a Network Load Balancer target group sends it", () => {
  const v2 = (src: string, tlvs: Array<{ type: number; value: Buffer }> = []) =>
    proxyV2(src, "127.0.0.1", 41000, proxied.port, tlvs);

  it("the v2 header is the binary form (signature, 0x21, 0x11, 12-byte IPv4 block)", () => {
    const b = Buffer.from(v2("10.0.1.9"), "latin1");
    expect(b.subarray(0, 12).toString("hex")).toBe("0d0a0d0a000d0a515549540a");
    expect([b[12], b[13], b.readUInt16BE(14), b.length]).toEqual([0x21, 0x11, 12, 28]);
    expect([...b.subarray(16, 20)]).toEqual([10, 0, 1, 9]);
  });

  it("v2 from the load balancer claiming a client in clientCidrs + exact header → 200; the access log shows the real client", async () => {
    const hits = await upstreamHits(async () => {
      const r = await get(proxied, "api.example.org", nasty, { preamble: v2("10.0.1.9"), localAddress: lb });
      expect(r.status).toBe(200);
    });
    expect(hits).toHaveLength(1);
    const entry = / 10\.0\.1\.9 TCP_\w+\/200 .*api\.example\.org/;
    expect(await proxiedAccessLog(entry)).toMatch(entry);
  });

  it("v2 with a TLV (the AWS type 0xEA an NLB adds for PrivateLink) is accepted the same way", async () => {
    const tlv = { type: 0xea, value: Buffer.concat([Buffer.from([0x01]), Buffer.from("vpce-0123456789abcdef0")]) };
    expect(
      (await get(proxied, "api.example.org", nasty, { preamble: v2("10.0.1.10", [tlv]), localAddress: lb })).status,
    ).toBe(200);
  });

  it("v2 claiming a client outside clientCidrs → 403", async () => {
    expect((await get(proxied, "api.example.org", nasty, { preamble: v2("10.0.2.9"), localAddress: lb })).status).toBe(
      403,
    );
  });

  it("v2 from an address outside proxyProtocolFrom is refused (a client cannot claim another address)", async () => {
    const hits = await upstreamHits(async () => {
      const r = await get(proxied, "api.example.org", nasty, { preamble: v2("10.0.1.9"), localAddress: "127.0.0.2" });
      expect(r.status === null || r.status >= 400).toBe(true);
    });
    expect(hits).toHaveLength(0);
  });

  it("CONNECT through v2 with the exact header → 200 and the tunnel carries data", async () => {
    const r = await connectFromLb(v2("10.0.1.11"), "v2\n");
    expect(r.status).toBe(200);
    expect(r.tunnelReply).toBe("v2\n");
  });
});

describe("real squid: default blockLocalDestinations", () => {
  it("a request that passes every ACL is still denied when the destination resolves to loopback", async () => {
    const hits = await upstreamHits(async () => {
      expect((await get(strict, "api.example.org", withSecret)).status).toBe(403);
    });
    expect(hits).toHaveLength(0);
  });
});
