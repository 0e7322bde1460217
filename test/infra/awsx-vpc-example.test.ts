import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { runCheck } from "../../ops/check/report";
import { toDot } from "../../ops/check/diagram";
import { Graph, synthesize, writeSynthOutput } from "../../ops/synth-core";

// examples/awsx-vpc: the kit's proxy tier, endpoints, a function and a Transit Gateway on an awsx.ec2.Vpc.
// awsx builds its VPC in its own provider plugin, which does not run offline: the mocks answer the awsx
// component's outputs from examples/awsx-vpc/inventory.json (ops/awsx-mock.ts), and graph.json records the
// inventory's resources under the awsx component. The checker then proves the example's flows from graph.json.
const EXAMPLE = path.join(REPO_ROOT, "examples/awsx-vpc");
let graph: Graph;
let outDir: string;

beforeAll(async () => {
  const result = await synthesize({
    stack: "dev",
    configFile: path.join(EXAMPLE, "Pulumi.dev.yaml"),
    program: path.join(EXAMPLE, "index.ts"),
    inventoryFile: path.join(EXAMPLE, "inventory.json"),
  });
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-awsx-"));
  writeSynthOutput(result, outDir);
  // What the checker reads is the written file, as `npm run check -- --graph` would.
  graph = JSON.parse(fs.readFileSync(path.join(outDir, "graph.json"), "utf8"));
});

afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

const of = (type: string) => graph.resources.filter((r) => r.type === type);
const named = (name: string) => graph.resources.find((r) => r.name === name);
const PRIVATE = ["subnet-0b1c2d3e4f5a60811", "subnet-0b1c2d3e4f5a60812"];
const PRIVATE_TABLES = ["rtb-0b1c2d3e4f5a60821", "rtb-0b1c2d3e4f5a60822"];

test("the awsx VPC is one component; its network is the inventory's, marked awsx and parented to it", () => {
  const awsx = of("awsx:ec2:Vpc");
  expect(awsx.map((r) => [r.name, r.inputs.cidrBlock])).toEqual([["workload", "10.40.0.0/16"]]);
  const children = graph.resources.filter((r) => (r as { origin?: string }).origin === "awsx");
  expect(children.every((r) => r.parent === awsx[0].urn && (r as { existing?: boolean }).existing === true)).toBe(true);
  expect(
    children
      .filter((r) => r.type === "aws:ec2/subnet:Subnet")
      .map((r) => r.id)
      .sort(),
  ).toEqual([...PRIVATE, "subnet-0b1c2d3e4f5a60813", "subnet-0b1c2d3e4f5a60814"]);
  // The kit creates no network of its own here.
  for (const t of ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway"])
    expect(of(t).filter((r) => !(r as { existing?: boolean }).existing)).toEqual([]);
});

test("every component gets its network from the adapter: awsx's private subnets, tables and NAT address", () => {
  const fn = of("aws:lambda/function:Function").find((r) => r.name === "saas-client-fn");
  expect((fn?.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual(PRIVATE);
  const nlb = of("aws:lb/loadBalancer:LoadBalancer")[0];
  expect(nlb.inputs.subnets).toEqual(PRIVATE);
  const asg = of("aws:autoscaling/group:Group")[0];
  expect(asg.inputs.vpcZoneIdentifiers).toEqual(PRIVATE);
  const s3 = of("aws:ec2/vpcEndpoint:VpcEndpoint").find((r) => r.inputs.vpcEndpointType === "Gateway");
  expect(s3?.inputs.routeTableIds).toEqual(PRIVATE_TABLES);
  const sm = of("aws:ec2/vpcEndpoint:VpcEndpoint").find((r) => r.inputs.vpcEndpointType === "Interface");
  expect(sm?.inputs.subnetIds).toEqual(PRIVATE);
  expect(sm?.inputs.vpcId).toBe("vpc-0b1c2d3e4f5a60801");
  // The Transit Gateway attaches in the private subnets and routes the data VPC from both private tables.
  const att = of("aws:ec2transitgateway/vpcAttachment:VpcAttachment")[0];
  expect(att.inputs.subnetIds).toEqual(PRIVATE);
  const routes = of("aws:ec2/route:Route").filter((r) => r.inputs.destinationCidrBlock === "10.60.0.0/16");
  expect(routes.map((r) => r.inputs.routeTableId).sort()).toEqual(PRIVATE_TABLES);
});

test("the checker proves the proxy flow through the awsx NAT and the endpoint flows", async () => {
  const { report, text } = await runCheck(graph, { diagram: false });
  expect(report.ok).toBe(true);
  const flows = report.flows.map((f) => [f.fn, f.flow.split(" (")[0], f.status]);
  expect(flows).toEqual([
    ["saas-client", "tcp/3128 to security group proxy", "OK"],
    ["saas-client", "tcp/443 to AWS s3", "OK"],
    ["saas-client", "tcp/443 to AWS secretsmanager", "OK"],
  ]);
  const proxy = report.flows[0];
  expect(proxy.path).toContain("awsx-nat-0b1c2d3e4f5a60832");
  // The report and the diagram mark awsx's hops as built outside the kit.
  expect(proxy.existingHops?.["awsx-nat-0b1c2d3e4f5a60832"]).toBe("built by awsx");
  expect(text).toContain("awsx-nat-0b1c2d3e4f5a60832 [built by awsx]");
  expect(toDot(graph, report.flows)).toMatch(/VPC awsx-vpc-0b1c2d3e4f5a60801 \(built by awsx\)/);
  expect(proxy.egressIps?.join(" ")).toContain("awsx-eipalloc-0b1c2d3e4f5a60833");
});

test("a private awsx route table without its NAT route breaks the proxy flow there", async () => {
  const broken: Graph = JSON.parse(JSON.stringify(graph));
  const rt = broken.resources.find(
    (r) => r.id === "rtb-0b1c2d3e4f5a60821" && r.type === "aws:ec2/routeTable:RouteTable",
  );
  (rt!.inputs as { routes: unknown[] }).routes = [];
  const { report } = await runCheck(broken, { diagram: false });
  const proxy = report.flows.find((f) => f.flow.startsWith("tcp/3128"));
  expect(proxy?.status).toBe("BROKEN");
  expect(proxy?.reason).toContain("awsx-rtb-0b1c2d3e4f5a60821");
  expect(named("saas-client")).toBeDefined();
});
