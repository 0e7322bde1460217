/**
 * Local stand-ins for the SaaS behind the Squid proxy, bound to 127.0.0.1 only:
 * - an HTTP origin that records every request it receives (to prove what Squid forwards), and
 * - a TCP echo target for CONNECT tunnels (records the bytes that came through the tunnel).
 */
import * as http from "http";
import * as net from "net";
import { closeServer, listenOnFreePort, Listening } from "./loopback-server";

export interface RecordedRequest {
  method: string;
  url: string;
  /** Lower-cased header names. */
  headers: http.IncomingHttpHeaders;
  remoteAddress: string;
}

export interface HttpUpstream extends Listening {
  requests: RecordedRequest[];
}

export async function startHttpUpstream(host = "127.0.0.1"): Promise<HttpUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress ?? "",
    });
    const body = `upstream-ok host=${req.headers.host ?? ""} path=${req.url ?? ""}`;
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
  return {
    port: await listenOnFreePort(server, host),
    requests,
    close: () => closeServer(server, () => server.closeAllConnections()),
  };
}

export interface TcpEcho extends Listening {
  /** Bytes received, one entry per accepted connection. */
  received: Buffer[];
}

export async function startTcpEcho(host = "127.0.0.1"): Promise<TcpEcho> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    const idx = received.push(Buffer.alloc(0)) - 1;
    sockets.add(sock);
    sock.on("data", (d) => {
      received[idx] = Buffer.concat([received[idx], d]);
      sock.write(d);
    });
    sock.on("error", () => undefined);
    sock.on("close", () => sockets.delete(sock));
  });
  return {
    port: await listenOnFreePort(server, host),
    received,
    close: () => closeServer(server, () => sockets.forEach((s) => s.destroy())),
  };
}
