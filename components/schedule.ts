/**
 * EventBridge schedule expressions, from the EventBridge User Guide "Schedule expressions for rules":
 * rate(N unit) or cron(min hour day-of-month month day-of-week year), exactly one of the two day fields
 * `?`, each field within its range.
 */
export function scheduleProblem(expression: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1 || (n === 1) !== !rate[2].endsWith("s"))
      return `"${expression}" is not a valid rate: singular unit for 1, plural otherwise, e.g. rate(1 hour) or rate(5 minutes)`;
    return undefined;
  }
  const cron = /^cron\(([^)]*)\)$/.exec(expression);
  if (!cron)
    return `"${expression}" is not an EventBridge schedule: use rate(15 minutes) or cron(0 * * * ? *) (six fields)`;
  const f = cron[1].trim().split(/\s+/);
  if (f.length !== 6)
    return `"${expression}" has ${f.length} cron fields; EventBridge needs six: minutes hours day-of-month month day-of-week year`;
  const [min, hour, dom, month, dow, year] = f;
  const problems: string[] = [];
  const months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
  const days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
  const field = (name: string, v: string, lo: number, hi: number, names: string[] = [], extra?: RegExp) => {
    if (v === "*" || v === "?") return;
    for (const part of v.split(",")) {
      if (extra && extra.test(part)) continue;
      const m = /^([^/-]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part);
      const num = (x: string): number =>
        names.includes(x.toUpperCase()) ? names.indexOf(x.toUpperCase()) + lo : /^\d+$/.test(x) ? Number(x) : NaN;
      if (
        !m ||
        (m[1] !== "*" && !(num(m[1]) >= lo && num(m[1]) <= hi)) ||
        (m[2] !== undefined && !(num(m[2]) >= lo && num(m[2]) <= hi)) ||
        (m[3] !== undefined && Number(m[3]) < 1)
      ) {
        problems.push(
          `${name} "${v}" is outside ${lo}-${hi}${names.length ? ` (or ${names[0]}-${names[names.length - 1]})` : ""}`,
        );
        return;
      }
    }
  };
  field("minutes", min, 0, 59);
  field("hours", hour, 0, 23);
  field("day-of-month", dom, 1, 31, [], /^(L|LW|\d{1,2}W)$/);
  field("month", month, 1, 12, months);
  field("day-of-week", dow, 1, 7, days, /^(L|\d+L|[A-Za-z]{3}L|\d#[1-5]|[A-Za-z]{3}#[1-5])$/);
  field("year", year, 1970, 2199);
  if ((dom === "?") === (dow === "?"))
    problems.push(`exactly one of day-of-month ("${dom}") and day-of-week ("${dow}") must be "?"`);
  return problems.length ? `"${expression}" is not a valid EventBridge cron: ${problems.join("; ")}` : undefined;
}
