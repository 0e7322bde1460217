/**
 * components/ingress.ts: the one allowFrom helper behind the proxy tier, the VPC endpoints and
 * Aurora. Rule names come from the peer and the port, so a reworded description updates a rule in
 * place (same URN) instead of replacing it; earlier description-based names become aliases.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KitMocks, resolveOutputs } from "../../ops/mocks";
import { IngressRules, resolvePeer, ruleDescription } from "../../components/ingress";
import { VpcEndpoints } from "../../components/vpc-endpoints";
import { AuroraPostgres } from "../../components/aurora-postgres";
import { ConfigError } from "../../components/errors";

const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "123456789012" });
beforeAll(() => mocks.install("vpc-lambda-kit", "ingress"));

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const lastName = (urn: string) => urn.split("::").pop();

class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:ingress:Holder", name, {});
  }
}

test("peers: explicit { securityGroupId, name }, a literal sg id, one security group's id Output, a CIDR; anything else is refused with the fix", () => {
  expect(resolvePeer("x.allowFrom", { securityGroupId: pulumi.output("sg-1"), name: "Saas Export" }).key).toBe(
    "sg-saas-export",
  );
  expect(resolvePeer("x.allowFrom", "sg-0abc").key).toBe("sg-0abc");
  expect(resolvePeer("x.allowFrom", { cidr: "10.1.0.0/16" })).toEqual({
    key: "cidr-10-1-0-0-16",
    source: { cidrIpv4: "10.1.0.0/16" },
  });
  const sg = new aws.ec2.SecurityGroup("peer-sg", { vpcId: "vpc-1" });
  expect(resolvePeer("x.allowFrom", sg.id).key).toBe("sg-peer-sg");
  expect(() =>
    resolvePeer(
      "x.allowFrom",
      sg.id.apply((id) => `${id}`),
    ),
  ).not.toThrow();
  expect(() => resolvePeer("x.allowFrom", pulumi.output("sg-1"))).toThrow(ConfigError);
  expect(() => resolvePeer("x.allowFrom", { cidr: "10.1.0.1/16" })).toThrow(
    /^x\.allowFrom: "10\.1\.0\.1\/16" has host bits set/,
  );
  expect(() => resolvePeer("x.allowFrom", "default")).toThrow(
    /^x\.allowFrom: "default" is neither a security group id/,
  );
  expect(() => resolvePeer("x.allowFrom", { securityGroupId: "sg-1", name: "--" })).toThrow(
    /^x\.allowFrom\.name: "--" has no letters or digits/,
  );
  expect(ruleDescription("Lambda → proxy ✓")).toBe("Lambda   proxy  ");
  expect(ruleDescription("x".repeat(300))).toHaveLength(255);
});

test("rewording a description keeps the rule's URN; only the description input changes", async () => {
  const urns: string[] = [];
  const descriptions: unknown[] = [];
  for (const [i, description] of ["appflow connector", "AppFlow custom connector (reworded)"].entries()) {
    const holder = new Holder(`h${i}`);
    const rules = new IngressRules({ owner: "db", namePrefix: "db", securityGroupId: "sg-target", parent: holder });
    const rule = rules.allow(
      { securityGroupId: pulumi.output("sg-0connector"), name: "appflow-connector" },
      5432,
      description,
    );
    urns.push((await resolveOutputs(rule.urn)) as string);
    await mocks.settle();
    descriptions.push(mocks.resources.filter((r) => r.type === INGRESS).pop()!.inputs.description);
  }
  expect(lastName(urns[0])).toBe("db-from-sg-appflow-connector-5432");
  // Same name and type; only the (test-only) parent differs.
  expect(urns[0].replace("h0", "h1")).toBe(urns[1]);
  expect(descriptions).toEqual(["appflow connector", "AppFlow custom connector (reworded)"]);
});

test("the VPC endpoints and Aurora name rules the same way, after the peer and their port", async () => {
  const eps = new VpcEndpoints("eps", {
    vpcId: "vpc-1",
    region: "ap-northeast-1",
    vpcDns: { hostnames: true, support: true },
    interfaceServices: ["secretsmanager"],
    subnetIds: ["subnet-a"],
    routeTableIds: ["rtb-1"],
  });
  const db = new AuroraPostgres("db", { vpcId: "vpc-1", subnetGroupName: "db-subnets" });
  const a = eps.allowFrom({ securityGroupId: "sg-fn", name: "saas-export" }, "saas export");
  const b = db.allowFrom({ securityGroupId: "sg-fn", name: "saas-export" }, "saas export");
  const c = db.allowFromCidr("10.9.0.0/16", "account A");
  const names = ((await resolveOutputs([a.urn, b.urn, c.urn])) as string[]).map(lastName);
  expect(names).toEqual([
    "eps-from-sg-saas-export-443",
    "db-from-sg-saas-export-5432",
    "db-from-cidr-10-9-0-0-16-5432",
  ]);
  expect(() => db.allowFrom({ securityGroupId: "sg-other", name: "saas-export" }, "again")).toThrow(
    /^db\.allowFrom: sg-saas-export is already allowed on port 5432/,
  );
  expect(() => eps.allowFrom("sg-fn2", "  ")).toThrow(/^eps\.allowFrom: description " {2}" has no letters or digits/);
});
