import * as http from "http";
import type { AddressInfo, Server } from "net";

/** A server listening on a loopback port. */
export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Listens on a random port of `host` (127.0.0.1 unless told); resolves with the port, rejects if the bind fails. */
export async function listenOnFreePort(server: Server, host = "127.0.0.1"): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Ends the open connections (`dropConnections`), then closes the server. */
export function closeServer(server: Server, dropConnections: () => void): Promise<void> {
  dropConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An HTTP fake on 127.0.0.1 (random port): subclasses implement `handle`; start/stop are shared. */
export abstract class LoopbackHttpServer {
  private server: http.Server | undefined;
  url = "";

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    this.url = `http://127.0.0.1:${await listenOnFreePort(server)}`;
    this.server = server;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server, () => server.closeAllConnections());
  }
}
