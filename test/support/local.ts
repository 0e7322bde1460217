/**
 * What the local stand-ins (Squid, PostgreSQL, moto, the twin's services) share: a free loopback port and the test
 * for an executable file. Imports nothing of the kit, so every runner may use it.
 */
import * as fs from "fs";
import * as net from "net";

/** A free TCP port on the loopback address: bound, then released (a tiny race window; fine for tests). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** True when `p` exists and this process may execute it. */
export function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
