/**
 * The command line of `npm run check` and `npm run synth`: `--name <value>` options, bare flags, -h/--help (prints
 * the usage, exits 0) and positional arguments. A missing value or an unknown option prints the usage and exits 2
 * (`exitWithError`). Imports nothing, so the commands load it before anything heavy.
 */

/** Prints `msg` and exits 2: the commands' code for usage and configuration errors. */
export function exitWithError(msg: string): never {
  console.error(msg);
  process.exit(2);
}

/** `valued`: option names without the dashes that take a value; `ignored`: flags accepted and dropped. */
export function parseCommandLine<K extends string>(
  argv: string[],
  usage: string,
  valued: readonly K[],
  ignored: readonly string[] = [],
): { options: Partial<Record<K, string>>; positional: string[] } {
  const options: Partial<Record<K, string>> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.slice(2) as K;
    if (a.startsWith("--") && valued.includes(name)) {
      const v = argv[++i];
      if (!v) exitWithError(`${a} needs a value\n${usage}`);
      options[name] = v;
    } else if (a === "-h" || a === "--help") {
      console.log(usage);
      process.exit(0);
    } else if (ignored.includes(a)) {
      continue;
    } else if (a.startsWith("-")) {
      exitWithError(`unknown option ${a}\n${usage}`);
    } else positional.push(a);
  }
  return { options, positional };
}
