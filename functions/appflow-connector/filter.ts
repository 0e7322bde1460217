/**
 * AppFlow's filter-expression language (the SDK's CustomConnectorQueryFilter grammar), parsed by hand and compiled to
 * a parameterised SQL condition. Values only ever travel as bind parameters, cast to the column's own type; field
 * names must be columns of the table and are quoted. Supported:
 *
 *   field = v | != | < | > | <= | >=        comparison; `= null` / `!= null` test for NULL; `= true|false` on booleans
 *   field CONTAINS v                          substring (case-sensitive) of the column's text
 *   field BETWEEN v1 AND v2                   inclusive range
 *   field IN (v1, v2, …)                      membership
 *   a AND b, a OR b, NOT a, ( … )             NOT binds tighter than AND, AND tighter than OR (the grammar's order)
 *   … LIMIT n                                 at most n records over all pages
 *
 * Values: 'single' or "double" quoted strings (with \" \' \\ \t \n \r escapes), numbers, ISO dates (2021-04-20) and
 * date-times (2021-04-20T12:30:45.123Z), null, true/false. A number compared with a Date/DateTime field is epoch
 * milliseconds (how AppFlow sends incremental-pull bounds). Anything else (a bare field or value as a condition,
 * operators a field's type does not support, unknown fields) is an InvalidArgument error naming the problem.
 */
import type { Column, TableInfo } from "./metadata";
import { Binds, ident } from "./db";
import { ConnectorError } from "./protocol";

type TokenType =
  | "AND"
  | "OR"
  | "NOT"
  | "TRUE"
  | "FALSE"
  | "GE"
  | "LE"
  | "NE"
  | "GT"
  | "LT"
  | "EQ"
  | "CONTAINS"
  | "BETWEEN"
  | "LPAREN"
  | "RPAREN"
  | "NULL"
  | "IN"
  | "LIMIT"
  | "COMMA"
  | "IDENT"
  | "NUMBER"
  | "STRING"
  | "DATE"
  | "DATETIME"
  | "EOF";

interface Token {
  type: TokenType;
  text: string;
  /** Unescaped string content, for STRING. */
  value?: string;
  pos: number;
}

export type Literal =
  | { kind: "string"; value: string }
  | { kind: "number"; value: string }
  | { kind: "date"; value: string }
  | { kind: "datetime"; value: string }
  | { kind: "null" }
  | { kind: "bool"; value: boolean };

export type CompareOp = "=" | "!=" | "<" | ">" | "<=" | ">=";

export type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "not"; inner: Condition }
  | { kind: "compare"; field: string; op: CompareOp; value: Literal }
  | { kind: "contains"; field: string; value: Literal }
  | { kind: "between"; field: string; low: Literal; high: Literal }
  | { kind: "in"; field: string; values: Literal[] };

export interface ParsedFilter {
  condition?: Condition;
  limit?: number;
}

// Keywords exactly as the grammar spells them (it accepts these spellings and no others).
const KEYWORDS: Record<string, TokenType> = {
  AND: "AND",
  and: "AND",
  OR: "OR",
  or: "OR",
  NOT: "NOT",
  not: "NOT",
  TRUE: "TRUE",
  True: "TRUE",
  true: "TRUE",
  FALSE: "FALSE",
  False: "FALSE",
  false: "FALSE",
  CONTAINS: "CONTAINS",
  contains: "CONTAINS",
  BETWEEN: "BETWEEN",
  between: "BETWEEN",
  null: "NULL",
  IN: "IN",
  in: "IN",
  LIMIT: "LIMIT",
  limit: "LIMIT",
};

const DATE = "\\d{4}-(0[1-9]|1[0-2])-(0\\d|1\\d|2\\d|3[01])";
const TIME = "(0\\d|1\\d|2[0-4]):[0-5]\\d:[0-5]\\d(\\.\\d+)?Z";
const DATETIME_RE = new RegExp(`${DATE}T${TIME}`, "y");
const DATE_RE = new RegExp(DATE, "y");
const NUMBER_RE = /-?\d+(\.\d+)?/y;
const IDENT_RE = /[a-zA-Z][A-Za-z0-9_.-]*/y;
const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", t: "\t", n: "\n", r: "\r" };

function bad(message: string): never {
  throw new ConnectorError("InvalidArgument", `filterExpression: ${message}`);
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const at = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    return m ? m[0] : undefined;
  };
  while (i < text.length) {
    const ch = text[i];
    if (/[ \r\t\f\n]/.test(ch)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    const op = two === ">=" ? "GE" : two === "<=" ? "LE" : two === "!=" ? "NE" : undefined;
    if (op) {
      out.push({ type: op, text: two, pos: i });
      i += 2;
      continue;
    }
    const single: Record<string, TokenType> = {
      ">": "GT",
      "<": "LT",
      "=": "EQ",
      "(": "LPAREN",
      ")": "RPAREN",
      ",": "COMMA",
    };
    if (single[ch]) {
      out.push({ type: single[ch], text: ch, pos: i });
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const s = scanString(text, i);
      out.push({ type: "STRING", text: text.slice(i, s.end), value: s.value, pos: i });
      i = s.end;
      continue;
    }
    // Longest match wins, as in the grammar's lexer: a date-time over a date over a number.
    const dt = at(DATETIME_RE);
    const d = at(DATE_RE);
    const n = at(NUMBER_RE);
    if (dt && !/[A-Za-z0-9_]/.test(text[i + dt.length] ?? "")) {
      out.push({ type: "DATETIME", text: dt, pos: i });
      i += dt.length;
      continue;
    }
    if (d && !/[A-Za-z0-9_]/.test(text[i + d.length] ?? "")) {
      out.push({ type: "DATE", text: d, pos: i });
      i += d.length;
      continue;
    }
    if (n) {
      out.push({ type: "NUMBER", text: n, pos: i });
      i += n.length;
      continue;
    }
    const word = at(IDENT_RE);
    if (word) {
      out.push({ type: KEYWORDS[word] ?? "IDENT", text: word, pos: i });
      i += word.length;
      continue;
    }
    bad(`unexpected character ${JSON.stringify(ch)} at position ${i}`);
  }
  out.push({ type: "EOF", text: "", pos: text.length });
  return out;
}

function scanString(text: string, start: number): { end: number; value: string } {
  const quote = text[start];
  // First with escapes honoured; a string ending in a backslash falls back to a literal backslash (as the
  // grammar's lexer would take the longer of the two readings).
  for (const escapes of [true, false]) {
    let value = "";
    let j = start + 1;
    while (j < text.length) {
      const c = text[j];
      if (escapes && c === "\\" && j + 1 < text.length && ESCAPES[text[j + 1]] !== undefined) {
        value += ESCAPES[text[j + 1]];
        j += 2;
        continue;
      }
      if (c === quote) return { end: j + 1, value };
      value += c;
      j++;
    }
  }
  return bad(`unterminated string starting at position ${start}`);
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private expect(type: TokenType, what: string): Token {
    const t = this.next();
    if (t.type !== type)
      bad(`expected ${what} at position ${t.pos}, found ${t.type === "EOF" ? "the end" : JSON.stringify(t.text)}`);
    return t;
  }

  parse(): ParsedFilter {
    const out: ParsedFilter = {};
    if (this.peek().type !== "LIMIT") out.condition = this.or();
    if (this.peek().type === "LIMIT") {
      this.next();
      const n = this.expect("NUMBER", "a record count after LIMIT");
      if (!/^[1-9]\d*$/.test(n.text)) bad(`LIMIT needs a positive whole number, got ${n.text}`);
      out.limit = Number(n.text);
    }
    const t = this.peek();
    if (t.type !== "EOF") bad(`unexpected ${JSON.stringify(t.text)} at position ${t.pos}`);
    return out;
  }

  private or(): Condition {
    return this.leftAssociative("OR", "or", () => this.and());
  }

  private and(): Condition {
    return this.leftAssociative("AND", "and", () => this.unary());
  }

  /** `operand (op operand)*`, grouped from the left: a OR b OR c is (a OR b) OR c. */
  private leftAssociative(op: "OR" | "AND", kind: "or" | "and", operand: () => Condition): Condition {
    let left = operand();
    while (this.peek().type === op) {
      this.next();
      left = { kind, left, right: operand() };
    }
    return left;
  }

  private unary(): Condition {
    const t = this.peek();
    if (t.type === "NOT") {
      this.next();
      return { kind: "not", inner: this.unary() };
    }
    if (t.type === "LPAREN") {
      this.next();
      const inner = this.or();
      this.expect("RPAREN", '")"');
      return inner;
    }
    if (t.type !== "IDENT") {
      bad(
        `expected a field name at position ${t.pos}, found ${t.type === "EOF" ? "the end" : JSON.stringify(t.text)} (a condition is <field> <operator> <value>)`,
      );
    }
    this.next();
    const field = t.text;
    const op = this.next();
    switch (op.type) {
      case "EQ":
      case "NE": {
        const v = this.peek();
        if (v.type === "TRUE" || v.type === "FALSE") {
          this.next();
          return {
            kind: "compare",
            field,
            op: op.type === "EQ" ? "=" : "!=",
            value: { kind: "bool", value: v.type === "TRUE" },
          };
        }
        return { kind: "compare", field, op: op.type === "EQ" ? "=" : "!=", value: this.value() };
      }
      case "GT":
        return { kind: "compare", field, op: ">", value: this.value() };
      case "GE":
        return { kind: "compare", field, op: ">=", value: this.value() };
      case "LT":
        return { kind: "compare", field, op: "<", value: this.value() };
      case "LE":
        return { kind: "compare", field, op: "<=", value: this.value() };
      case "CONTAINS":
        return { kind: "contains", field, value: this.value() };
      case "BETWEEN": {
        const low = this.value();
        this.expect("AND", "AND between the two BETWEEN bounds");
        return { kind: "between", field, low, high: this.value() };
      }
      case "IN": {
        this.expect("LPAREN", '"(" after IN');
        const values = [this.value()];
        while (this.peek().type === "COMMA") {
          this.next();
          values.push(this.value());
        }
        this.expect("RPAREN", '")" closing the IN list');
        return { kind: "in", field, values };
      }
      default:
        return bad(
          `expected an operator (=, !=, <, >, <=, >=, CONTAINS, BETWEEN, IN) after "${field}" at position ${op.pos}, found ${op.type === "EOF" ? "the end" : JSON.stringify(op.text)}`,
        );
    }
  }

  private value(): Literal {
    const t = this.next();
    switch (t.type) {
      case "STRING":
        return { kind: "string", value: t.value ?? "" };
      case "NUMBER":
        return { kind: "number", value: t.text };
      case "DATE":
        return { kind: "date", value: t.text };
      case "DATETIME":
        return { kind: "datetime", value: t.text };
      case "NULL":
        return { kind: "null" };
      default:
        return bad(
          `expected a value (a quoted string, number, date, date-time or null) at position ${t.pos}, found ${t.type === "EOF" ? "the end" : JSON.stringify(t.text)}`,
        );
    }
  }
}

/** Parses a filter expression; empty or blank means no filter. */
export function parseFilter(expression: string | null | undefined): ParsedFilter {
  if (expression === null || expression === undefined || expression.trim() === "") return {};
  if (expression.length > 20_000) bad("longer than 20000 characters");
  return new Parser(tokenize(expression)).parse();
}

const OPERATOR_NAME: Record<CompareOp, string> = {
  "=": "EQUAL_TO",
  "!=": "NOT_EQUAL_TO",
  "<": "LESS_THAN",
  ">": "GREATER_THAN",
  "<=": "LESS_THAN_OR_EQUAL_TO",
  ">=": "GREATER_THAN_OR_EQUAL_TO",
};

/**
 * Compiles a condition to SQL over the table alias `t`, its values added to `binds`. Fields and operators are checked
 * against the table's columns.
 */
export function compileCondition(cond: Condition, table: TableInfo, binds: Binds): string {
  const column = (name: string): Column => {
    const c = table.byName.get(name);
    if (!c) bad(`"${name}" is not a field of ${table.name}`);
    return c;
  };
  const allow = (c: Column, operator: string) => {
    if (!(c.filterOperators as string[]).includes(operator)) {
      bad(
        `${operator} is not supported on field "${c.name}" (${c.dataType}); it supports ${c.filterOperators.length ? c.filterOperators.join(", ") : "no filters"}`,
      );
    }
  };
  const bind = (c: Column, v: Literal, role: string): string => {
    switch (v.kind) {
      case "null":
        return bad(`null can only be compared with = or != (field "${c.name}")`);
      case "bool":
        if (c.dataType !== "Boolean")
          bad(`field "${c.name}" is ${c.dataType}, not Boolean: compare it with a ${c.dataType} value`);
        return `CAST(${binds.add(v.value)} AS boolean)`;
      case "number":
        if (c.dataType === "Date" || c.dataType === "DateTime") {
          // Epoch milliseconds, as AppFlow sends incremental-pull bounds.
          const ts = `to_timestamp(CAST(${binds.add(v.value)} AS double precision) / 1000.0)`;
          return c.dataType === "Date" ? `CAST(${ts} AS date)` : `CAST(${ts} AS ${c.castType})`;
        }
        if (c.dataType === "Boolean") bad(`field "${c.name}" is Boolean: compare it with true or false`);
        return `CAST(${binds.add(v.value)} AS ${c.castType})`;
      case "date":
      case "datetime":
        if (c.dataType !== "Date" && c.dataType !== "DateTime" && c.dataType !== "String") {
          bad(
            `field "${c.name}" is ${c.dataType}; a ${v.kind === "date" ? "date" : "date-time"} ${role} fits only Date, DateTime or String fields`,
          );
        }
        return `CAST(${binds.add(v.value)} AS ${c.castType})`;
      case "string":
        if (c.dataType === "Boolean" && !/^(true|false|t|f)$/i.test(v.value))
          bad(`field "${c.name}" is Boolean: compare it with true or false`);
        return `CAST(${binds.add(v.value)} AS ${c.castType})`;
    }
  };
  const walk = (x: Condition): string => {
    switch (x.kind) {
      case "and":
        return `(${walk(x.left)} AND ${walk(x.right)})`;
      case "or":
        return `(${walk(x.left)} OR ${walk(x.right)})`;
      case "not":
        return `(NOT ${walk(x.inner)})`;
      case "compare": {
        const c = column(x.field);
        const col = `t.${ident(c.name)}`;
        // A NULL test works on every field, filterable type or not.
        if (x.value.kind === "null" && x.op === "=") return `(${col} IS NULL)`;
        if (x.value.kind === "null" && x.op === "!=") return `(${col} IS NOT NULL)`;
        allow(c, OPERATOR_NAME[x.op]);
        // != keeps SQL's meaning (NULLs do not match), as a database-side filter would.
        return `(${col} ${x.op === "!=" ? "<>" : x.op} ${bind(c, x.value, "value")})`;
      }
      case "contains": {
        const c = column(x.field);
        allow(c, "CONTAINS");
        if (x.value.kind === "null" || x.value.kind === "bool") bad(`CONTAINS needs a text value (field "${c.name}")`);
        return `(strpos(CAST(t.${ident(c.name)} AS text), CAST(${binds.add(x.value.value)} AS text)) > 0)`;
      }
      case "between": {
        const c = column(x.field);
        allow(c, "BETWEEN");
        return `(t.${ident(c.name)} BETWEEN ${bind(c, x.low, "lower bound")} AND ${bind(c, x.high, "upper bound")})`;
      }
      case "in": {
        const c = column(x.field);
        allow(c, "EQUAL_TO");
        if (x.values.length > 1000) bad(`IN lists at most 1000 values (field "${c.name}" has ${x.values.length})`);
        return `(t.${ident(c.name)} IN (${x.values.map((v) => bind(c, v, "IN value")).join(", ")}))`;
      }
    }
  };
  return walk(cond);
}
