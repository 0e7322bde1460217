/**
 * An `https.Agent` whose connections are tunnels through an HTTP proxy: each new socket is a `CONNECT host:port` to
 * the proxy (node:net), carrying the proxy tier's header, and TLS to the SaaS over the tunnel once the proxy answers
 * 200 (node:tls, SNI and certificate checks on the SaaS's host name). Keep-alive and pooling are https.Agent's own.
 *
 * Replaces https-proxy-agent (with agent-base and debug: ~15 M instructions of cold init, README "Benchmarks") for
 * the one thing saas-export and the Athena connector need from it. Differences, on purpose: a CONNECT answered with
 * anything but 200 fails the request with a `ProxyStatusError` (status code, no headers or body) instead of replaying
 * the proxy's answer as if the SaaS had sent it; no HTTP(S)_PROXY or NO_PROXY variables are read (PROXY_URL is the
 * proxy); only http:// proxies (the Squid tier listens on plain TCP behind its load balancer); no credentials in the
 * proxy URL (the tier admits by header, not by Proxy-Authorization).
 */
import type * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";

/** The proxy answered the CONNECT with `status` instead of 200; nothing was sent to the SaaS. */
export class ProxyStatusError extends Error {
  readonly code = "EPROXYSTATUS";
  constructor(readonly status: number) {
    super(`the proxy answered the CONNECT with ${status}`);
  }
}

export interface TunnelAgentOptions extends https.AgentOptions {
  /** Headers sent on every CONNECT request (and never inside the tunnel). */
  proxyHeaders: Record<string, string>;
}

type Callback = (err: Error | null, stream: Duplex) => void;

export class TunnelAgent extends https.Agent {
  private readonly proxy: URL;
  private readonly proxyHeaders: Record<string, string>;
  /** Connections to the proxy whose CONNECT is not answered yet: https.Agent does not know of them, `destroy()` must. */
  private readonly pending = new Set<net.Socket>();

  constructor(proxyUrl: string, { proxyHeaders, ...opts }: TunnelAgentOptions) {
    super(opts);
    this.proxy = new URL(proxyUrl);
    if (this.proxy.protocol !== "http:") throw new TypeError(`TunnelAgent: ${proxyUrl} is not an http:// proxy URL`);
    this.proxyHeaders = proxyHeaders;
  }

  // https.Agent calls this for every new socket; answering through `cb` (returning nothing) makes it asynchronous.
  override createConnection(args: http.ClientRequestArgs, cb?: Callback): undefined {
    // https.Agent hands over the request's options with its own TLS options and the servername it derived.
    const options = args as tls.ConnectionOptions & { host?: string; port?: number; path?: string };
    const host = options.host ?? "localhost";
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${options.port ?? 443}`;
    const socket = net.connect({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(this.proxy.port) || 80,
    });
    this.pending.add(socket);
    let done = false;
    const once = (err: Error | null, tunnel?: tls.TLSSocket) => {
      this.pending.delete(socket);
      socket.removeListener("data", onData);
      socket.removeListener("error", onError);
      socket.removeListener("end", onEnd);
      if (done) return;
      done = true;
      cb?.(err, tunnel as Duplex);
    };
    // The proxy's answer, up to its end of headers (a few hundred bytes, usually one chunk).
    let answer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf("\r\n\r\n");
      // A malformed answer gets a code of its own (EBADPROXYANSWER): saas-client reads EPROTO as a TLS failure, and
      // this one is the proxy's.
      if (end === -1) {
        if (answer.length > 16_384) {
          socket.destroy();
          once(
            Object.assign(new Error("the proxy's answer to the CONNECT has no end of headers"), {
              code: "EBADPROXYANSWER",
            }),
          );
        }
        return;
      }
      socket.pause();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.toString("latin1", 0, end));
      if (!status || Number(status[1]) !== 200) {
        socket.destroy();
        if (!status)
          return once(
            Object.assign(new Error("the proxy's answer to the CONNECT is not HTTP"), { code: "EBADPROXYANSWER" }),
          );
        return once(new ProxyStatusError(Number(status[1])));
      }
      const rest = answer.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      const { path: _path, port: _port, ...tlsOptions } = options;
      once(
        null,
        tls.connect({ ...tlsOptions, socket, servername: options.servername || (net.isIP(host) ? undefined : host) }),
      );
    };
    // No answer at all: refused, reset. The caller's deadline covers a silent proxy.
    const onError = (err: Error) => once(err);
    const onEnd = () =>
      once(
        Object.assign(new Error("the proxy closed the connection before answering the CONNECT"), {
          code: "ECONNRESET",
        }),
      );
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("end", onEnd);
    const lines = Object.entries({ ...this.proxyHeaders, Host: target }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`CONNECT ${target} HTTP/1.1\r\n${lines.join("")}\r\n`);
    return undefined;
  }

  override destroy(): void {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    super.destroy();
  }
}
