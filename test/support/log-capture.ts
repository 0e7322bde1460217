/**
 * Handlers log one JSON object per line to stdout. Inside a test, `captureJsonLogs()` (in beforeEach;
 * `jest.restoreAllMocks()` undoes it) keeps those lines in the returned array instead of printing
 * them, and lets every other write through.
 */
export function captureJsonLogs(): string[] {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  jest.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.startsWith('{"time"')) {
      lines.push(...text.split("\n").filter((l) => l.length > 0));
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  return lines;
}
