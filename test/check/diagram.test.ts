import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FLOW_BROKEN_COLOR, FLOW_OK_COLOR, FlowResult, renderDiagram, toDot } from "../../ops/check/diagram";
import { analyzeFlows } from "../../ops/check/flows";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";

// --- A strict little XML reader: enough to prove the SVG is well formed and to query it.

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g;
function decode(s: string): string {
  if (/&(?!(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);)/.test(s))
    throw new Error(`bad entity in ${JSON.stringify(s.slice(0, 60))}`);
  return s.replace(ENTITY, (_m, dec, hex, named) =>
    dec
      ? String.fromCodePoint(Number(dec))
      : hex
        ? String.fromCodePoint(parseInt(hex, 16))
        : ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[named],
  );
}

function parseXml(xml: string): El {
  let i = 0;
  const root: El = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: El[] = [root];
  const top = () => stack[stack.length - 1];
  while (i < xml.length) {
    if (xml.startsWith("<?", i)) i = xml.indexOf("?>", i) + 2;
    else if (xml.startsWith("<!--", i)) i = xml.indexOf("-->", i) + 3;
    else if (xml.startsWith("<!DOCTYPE", i)) i = xml.indexOf(">", i) + 1;
    else if (xml.startsWith("</", i)) {
      const end = xml.indexOf(">", i);
      const name = xml.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name}> at ${i}`);
      i = end + 1;
    } else if (xml[i] === "<") {
      const m = /^<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>/.exec(
        xml.slice(i, i + 20000),
      );
      if (!m) throw new Error(`malformed tag at ${i}: ${xml.slice(i, i + 60)}`);
      const attrs: Record<string, string> = {};
      for (const a of m[2].matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*"([^"]*)"/g)) {
        if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
        attrs[a[1]] = decode(a[2]);
      }
      const el: El = { name: m[1], attrs, children: [], text: "" };
      top().children.push(el);
      if (!m[3]) stack.push(el);
      i += m[0].length;
    } else {
      const next = xml.indexOf("<", i);
      const end = next < 0 ? xml.length : next;
      top().text += decode(xml.slice(i, end));
      i = end;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${top().name}>`);
  if (root.children.length !== 1) throw new Error(`${root.children.length} root elements`);
  return root.children[0];
}

function all(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}

// ---------------------------------------------------------------------------------------------

let graph: Graph;
let flows: FlowResult[];
let svg: El;
let svgText: string;

beforeAll(async () => {
  graph = (await synthForTest("dev")).view.graph;
  flows = [
    ...analyzeFlows(graph),
    {
      fn: "kintone-sync",
      flow: "tcp/5432 to data VPC 10.1.0.0/16 (the database)",
      status: "BROKEN",
      path: ["egress-private-rt-0"],
      reason: "route table egress-private-rt-0 has no route to 10.1.0.0/16",
    },
  ];
  svgText = await renderDiagram(graph, flows);
  svg = parseXml(svgText);
});

const texts = () => all(svg, (e) => e.name === "text").map((e) => e.text);
const edgesOf = (cls: string) => all(svg, (e) => e.name === "g" && (e.attrs.class ?? "").split(" ").includes(cls));
const strokeOf = (edge: El) => all(edge, (e) => e.name === "path")[0]?.attrs.stroke;

test("the XML reader refuses malformed markup (so the next test can fail)", () => {
  expect(() => parseXml("<svg><g></svg>")).toThrow(/closes/);
  expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/duplicate attribute/);
  expect(() => parseXml("<svg>a & b</svg>")).toThrow(/bad entity/);
  expect(() => parseXml("<svg><g>")).toThrow(/unclosed/);
});

test("the SVG is well-formed XML with an <svg> root", () => {
  expect(svg.name).toBe("svg");
  expect(svg.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
  expect(Number.parseFloat(svg.attrs.width)).toBeGreaterThan(100);
});

test("every account, VPC, subnet and function of the stack is labelled", () => {
  const lines = texts();
  const has = (s: string) => lines.some((l) => l.includes(s));
  const names = (type: string) => graph.resources.filter((r) => r.type === type).map((r) => r.name);
  expect(names("aws:ec2/vpc:Vpc").length).toBeGreaterThanOrEqual(2);
  for (const vpc of names("aws:ec2/vpc:Vpc")) expect([vpc, has(`VPC ${vpc}`)]).toEqual([vpc, true]);
  for (const subnet of names("aws:ec2/subnet:Subnet"))
    expect([subnet, has(`subnet ${subnet}`)]).toEqual([subnet, true]);
  for (const fn of names("aws:lambda/function:Function")) expect([fn, has(`λ ${fn}`)]).toEqual([fn, true]);
  expect(has("account-a (111111111111)")).toBe(true);
  expect(has("account-b (222222222222)")).toBe(true);
  for (const nat of names("aws:ec2/natGateway:NatGateway")) expect(has(`NAT ${nat}`)).toBe(true);
  expect(has("interface endpoint secretsmanager")).toBe(true);
});

test("clusters nest account → VPC → subnet", () => {
  const dot = toDot(graph, flows);
  let depth = 0;
  const depthOf: Record<string, number> = {};
  for (const line of dot.split("\n")) {
    const label = /label="([^"\\]*)/.exec(line)?.[1];
    if (label && line.trim().startsWith("label=")) depthOf[label] = depth;
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
  }
  const acct = depthOf[Object.keys(depthOf).find((k) => k.startsWith("account-a"))!];
  expect(depthOf["VPC egress-vpc"]).toBe(acct + 1);
  expect(depthOf["subnet egress-public-0"]).toBe(acct + 2);
  expect(depthOf["VPC data-vpc"]).toBe(depthOf[Object.keys(depthOf).find((k) => k.startsWith("account-b"))!] + 1);
});

test("a BROKEN flow is drawn red (dashed into the missing piece), proven flows green", () => {
  const broken = edgesOf("flow-broken");
  expect(broken.length).toBeGreaterThanOrEqual(1);
  for (const e of broken) expect(strokeOf(e)).toBe(FLOW_BROKEN_COLOR);
  const ok = edgesOf("flow-ok");
  expect(ok.length).toBeGreaterThanOrEqual(flows.filter((f) => f.status === "OK").length);
  for (const e of ok) expect(strokeOf(e)).toBe(FLOW_OK_COLOR);
  expect(texts().some((t) => t.startsWith("✗ route table egress-private-rt-0 has no"))).toBe(true);
  expect(all(broken[broken.length - 1], (e) => e.name === "path")[0].attrs["stroke-dasharray"]).toBeDefined();
});

test("a proven internet flow runs function → NAT → internet gateway → the host, labelled with its egress IP", () => {
  const dot = toDot(graph, flows);
  const idOf = (label: string) =>
    new RegExp(`^\\s*(n\\d+) \\[label="${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m").exec(dot)?.[1];
  const [fn, nat, igw, host] = [
    idOf("λ kintone-sync-fn"),
    idOf("NAT egress-nat-0"),
    idOf("IGW egress-igw"),
    idOf("example.cybozu.com:443"),
  ];
  expect([fn, nat, igw, host].every(Boolean)).toBe(true);
  const i = flows.findIndex((f) => f.fn === "kintone-sync" && f.flow.includes("example.cybozu.com"));
  const chain = [...dot.matchAll(new RegExp(`^\\s*(n\\d+) -> (n\\d+) \\[id="flow-${i}-\\d+"`, "gm"))].map((m) => [
    m[1],
    m[2],
  ]);
  expect(chain).toEqual([
    [fn, nat],
    [nat, igw],
    [igw, host],
  ]);
  expect(dot).toMatch(
    new RegExp(`id="flow-${i}-0".*label="[^"]*egress ${flows[i].egressIps![0].replace(/\./g, "\\.")}`),
  );
});

test("rendering is deterministic", async () => {
  expect(await renderDiagram(graph, flows)).toBe(svgText);
});

test("with a cache directory the SVG is kept under its Graphviz source's hash and read back; a new source renders anew", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-diagram-cache-"));
  try {
    expect(await renderDiagram(graph, flows, { cacheDir: dir })).toBe(svgText);
    const kept = fs.readdirSync(dir);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^[0-9a-f]{64}\.svg$/);
    // A second call reads the file: what it returns is what the file holds.
    fs.writeFileSync(path.join(dir, kept[0]), "<svg>kept</svg>");
    expect(await renderDiagram(graph, flows, { cacheDir: dir })).toBe("<svg>kept</svg>");
    // Another flow list is another source: rendered, and kept beside the first.
    const fewer = await renderDiagram(graph, flows.slice(1), { cacheDir: dir });
    expect(fewer).toContain("<svg");
    expect(fewer).not.toBe(svgText);
    expect(fs.readdirSync(dir)).toHaveLength(2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("saas-export's proxy flow is drawn through the NLB and its target group to the proxies", () => {
  const dot = toDot(graph, flows);
  const nodeId = (label: RegExp) => {
    const line = dot.split("\n").find((l) => label.test(l) && /^\s*"?[\w:-]+"?\s*\[/.test(l));
    expect(line).toBeDefined();
    return /^\s*("?[\w:-]+"?)\s*\[/.exec(line as string)![1];
  };
  const nlb = nodeId(/label="internal NLB proxy-nlb/);
  const tg = nodeId(/label="target group proxy-tg\\nTCP 3128, PROXY v2/);
  const asg = nodeId(/label="proxies proxy-asg/);
  expect(dot).toContain(`${nlb} -> ${tg}`);
  expect(dot).toContain(`${tg} -> ${asg}`);
});
