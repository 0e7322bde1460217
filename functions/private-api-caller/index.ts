/**
 * private-api-caller: the sample consumer of the private API (config `privateApi.consumers.sampleCaller`).
 * It sits in the network VPC's private subnets with a security group allowed 443 to the execute-api
 * endpoint, and calls `GET <API_URL>/pets?limit=1`: the API's own hostname resolves to the endpoint
 * through private DNS, and the resource policy admits the request because it arrives through that
 * endpoint (aws:SourceVpce). A working answer proves the consumer path end to end after a deploy.
 *
 * API_URL  the invoke URL, https://<api-id>.execute-api.<region>.amazonaws.com/<stage>
 * CALL_TIMEOUT_MS  default 5000
 * Returns {status, ok, url}; throws with the hop to look at when the endpoint cannot be reached.
 */
import * as https from "https";
import { createLogger } from "../shared/log";

const log = createLogger("info", { fn: "private-api-caller" });

export interface CallResult {
  url: string;
  status: number;
  ok: boolean;
}

export async function handler(): Promise<CallResult> {
  const base = process.env.API_URL ?? "";
  let url: URL;
  try {
    url = new URL(`${base.replace(/\/+$/, "")}/pets?limit=1`);
  } catch {
    throw new Error(
      `API_URL is not a URL ("${base}"): set it to the private API's invoke URL, https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`,
    );
  }
  if (url.protocol !== "https:") throw new Error(`API_URL must be https (got ${url.protocol})`);
  const timeoutMs = Number(process.env.CALL_TIMEOUT_MS ?? 5000);
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(url, { method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () =>
      req.destroy(
        new Error(
          `no answer from ${url.host} within ${timeoutMs} ms: check that the execute-api endpoint's security group admits this function on 443 and that its private DNS is on`,
        ),
      ),
    );
    req.on("error", (e) =>
      reject(
        new Error(
          `${url.host} could not be reached (${(e as Error).message}): the name must resolve to the execute-api endpoint (private DNS on) and its security group must admit this function on 443`,
        ),
      ),
    );
    req.end();
  });
  const result = { url: url.toString(), status, ok: status >= 200 && status < 300 };
  // 403 from a private API: the resource policy does not admit this endpoint (aws:SourceVpce).
  log.info("called the private API", result);
  return result;
}
