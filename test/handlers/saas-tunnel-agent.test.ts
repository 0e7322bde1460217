/**
 * The SaaS client's CONNECT agent (functions/saas-export/tunnel-agent.ts) against a scripted proxy on loopback: the
 * answers Squid's tier does not give in test/handlers/saas-export.test.ts (407, 502, an answer split across packets,
 * a proxy that hangs up), each turned into the client's error with its message. The tunnelled TLS itself is covered
 * by the handler suites, through real Squid.
 */
import * as net from "net";
import { SaasClient } from "../../functions/saas-export/saas-client";
import { proxyUrl } from "../../functions/saas-export/settings";
import type { Logger } from "../../functions/shared/log";

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Proxy {
  url: string;
  /** Every request head the proxy received (up to the blank line). */
  heads: string[];
  /** Bytes that arrived after a head (must stay empty: nothing follows a refused CONNECT). */
  after: Buffer[];
  close(): Promise<void>;
}

/** A proxy that answers every CONNECT with `answer` (written in the given pieces), then closes unless told not to. */
async function scriptedProxy(pieces: string[], opts: { hangUp?: boolean } = {}): Promise<Proxy> {
  const heads: string[] = [];
  const after: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    sock.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      heads.push(buf.toString("latin1", 0, end));
      if (buf.length > end + 4) after.push(buf.subarray(end + 4));
      buf = Buffer.alloc(0);
      if (opts.hangUp) return void sock.end();
      let i = 0;
      const next = () => {
        if (i < pieces.length) {
          sock.write(pieces[i++]);
          setTimeout(next, 5);
        } else sock.end();
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    heads,
    after,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function client(proxyUrl: string, maxAttempts = 1): SaasClient {
  return new SaasClient({
    proxyUrl,
    proxyHeader: { name: "X-Proxy-Key", value: "proxy-secret" },
    proxyHeaderSecretId: "proxy/header",
    auth: { name: "Authorization", value: "Bearer saas-token" },
    authSecretId: "saas/token",
    timeoutMs: 5_000,
    proxyConnectTimeoutMs: 2_000,
    retry: { maxAttempts, baseMs: 1, maxMs: 5 },
    log: quiet,
  });
}

const URL_ = new URL("https://api.example.com:8443/v1/items");

let proxy: Proxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

test("the CONNECT names the SaaS host and port and carries the proxy header; the SaaS credential never reaches the proxy", async () => {
  proxy = await scriptedProxy(["HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"]);
  const c = client(proxy.url);
  const err = await c.getJson(URL_, "page 1").catch((e: Error) => e);
  c.close();
  expect(proxy.heads).toHaveLength(1);
  const [line, ...headers] = proxy.heads[0].split("\r\n");
  expect(line).toBe("CONNECT api.example.com:8443 HTTP/1.1");
  expect(headers).toEqual(expect.arrayContaining(["X-Proxy-Key: proxy-secret", "Host: api.example.com:8443"]));
  expect(proxy.heads[0]).not.toContain("saas-token");
  expect(proxy.after).toEqual([]);
  expect((err as { kind?: string }).kind).toBe("proxy-refused");
  expect((err as Error).message).toMatch(
    /^the proxy refused the request: the header secret or domain whitelist is wrong \(CONNECT api\.example\.com:8443 via PROXY_URL=http:\/\/127\.0\.0\.1:\d+ answered 403\)/,
  );
});

test("a 407 (a proxy that wants Proxy-Authorization) is not retried and says PROXY_URL is not the kit's tier", async () => {
  proxy = await scriptedProxy([
    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
  ]);
  const c = client(proxy.url, 3);
  const err = await c.getJson(URL_, "page 1").catch((e: Error) => e);
  c.close();
  expect((err as { kind?: string; status?: number }).kind).toBe("proxy");
  expect((err as { status?: number }).status).toBe(407);
  expect((err as Error).message).toBe(
    `the proxy at PROXY_URL=${proxy.url} asks for Proxy-Authorization (407): that is not the vpc-lambda-kit Squid tier, which admits by the X-Proxy-Key header; check PROXY_URL.`,
  );
  expect(c.requests).toBe(1);
});

test("a 502 answer split across packets is read whole, retried, and named after the attempts", async () => {
  proxy = await scriptedProxy(["HTTP/1.1 50", "2 Bad Gateway\r\nContent-Le", "ngth: 0\r\n", "\r\n"]);
  const c = client(proxy.url, 2);
  const err = await c.getJson(URL_, "page 1").catch((e: Error) => e);
  c.close();
  expect(c.requests).toBe(2);
  expect(proxy.heads).toHaveLength(2);
  expect((err as { kind?: string }).kind).toBe("proxy");
  expect((err as Error).message).toContain(
    `the proxy at PROXY_URL=${proxy.url} could not open a tunnel to api.example.com:8443 (CONNECT answered 502) after 2 attempts`,
  );
});

test("a proxy that hangs up without answering is a proxy-unreachable error, retried", async () => {
  proxy = await scriptedProxy([], { hangUp: true });
  const c = client(proxy.url, 2);
  const err = await c.getJson(URL_, "page 1").catch((e: Error) => e);
  c.close();
  expect(c.requests).toBe(2);
  expect((err as { kind?: string }).kind).toBe("proxy-unreachable");
  expect((err as Error).message).toContain(
    `could not connect to the proxy at PROXY_URL=${proxy.url} (ECONNRESET: the proxy closed the connection before answering the CONNECT) after 2 attempts`,
  );
});

test("PROXY_URL must be http:// (the agent speaks plain HTTP to the proxy): https:// is refused with the fix", () => {
  expect(proxyUrl("https://proxy.internal:3128")).toEqual({
    problem:
      'must start with http:// (Squid\'s port speaks plain HTTP; HTTPS is tunnelled through it); got "https://proxy.internal:3128"',
  });
  expect(proxyUrl("http://proxy.internal:3128")).toBe("http://proxy.internal:3128");
});

test("an answer that is not HTTP is named as the proxy's, not as a TLS failure", async () => {
  proxy = await scriptedProxy(["SSH-2.0-OpenSSH_9.6\r\n\r\n"]);
  const c = client(proxy.url);
  const err = await c.getJson(URL_, "page 1").catch((e: Error) => e);
  c.close();
  expect((err as { kind?: string }).kind).toBe("proxy-unreachable");
  expect((err as Error).message).toContain(
    `could not connect to the proxy at PROXY_URL=${proxy.url} (EBADPROXYANSWER: the proxy's answer to the CONNECT is not HTTP)`,
  );
});
