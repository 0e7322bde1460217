/**
 * Runs inside a function's ENI namespace, on the Lambda runtime's Node: loads the deployable bundle, calls its
 * handler once with a canned event and a Lambda-like context, and writes the outcome as JSON to a file.
 * argv: <bundle> <handler export> <event file> <result file> <timeout ms> <function name>
 */
import * as fs from "fs";
import { createRequire } from "module";
import { randomUUID } from "crypto";

const [bundle, exportName, eventFile, outFile, timeoutText, fnName] = process.argv.slice(2);
const timeoutMs = Number(timeoutText);
const deadline = Date.now() + timeoutMs;
const write = (o: Record<string, unknown>) =>
  fs.writeFileSync(outFile, JSON.stringify({ node: process.version, ms: Date.now() - started, ...o }));
const started = Date.now();
const timer = setTimeout(() => {
  write({ ok: false, error: `no answer within ${timeoutMs} ms (the twin's cap on one invocation)` });
  process.exit(0);
}, timeoutMs);

(async () => {
  const mod = createRequire(__filename)(bundle) as Record<string, (e: unknown, c: unknown) => Promise<unknown>>;
  const event = JSON.parse(fs.readFileSync(eventFile, "utf8"));
  const context = {
    awsRequestId: randomUUID(),
    functionName: fnName,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${fnName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "128",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: false,
  };
  try {
    const result = await mod[exportName](event, context);
    write({ ok: true, result });
  } catch (err) {
    const e = err as Error & { kind?: string; code?: string };
    write({ ok: false, error: `${e.name}: ${e.message}`, kind: e.kind ?? e.code });
  }
  clearTimeout(timer);
  process.exit(0);
})();
