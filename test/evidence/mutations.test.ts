import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { evaluate } from "../../ops/check/iam/evaluate";
import { functionFacts } from "../../ops/check/iam/calls";
import { allCallFindings, cloneResources, graphContext, limitFindings, orderFindings, policyFindings } from "./support";
import { oracleDecision } from "./oracle";

// Each mutation breaks the real dev graph the way a careless edit would; each check must catch it,
// naming the resource(s). The unmutated graph is clean (stack-dev.test.ts).

type Res = Graph["resources"][number];
let clean: Res[];

beforeAll(async () => {
  clean = (await synthForTest("dev")).result.graph.resources;
});

function mutate(edit: (rs: Res[]) => void): Res[] {
  const rs = cloneResources(clean);
  edit(rs);
  return rs;
}

function named(rs: Res[], name: string): Res {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

function editPolicy(r: Res, key: string, edit: (doc: any) => void): void {
  const doc = JSON.parse(String(r.inputs[key]));
  edit(doc);
  r.inputs[key] = JSON.stringify(doc);
}

function dropDependency(rs: Res[], from: string, to: string): void {
  const r = named(rs, from);
  const urn = named(rs, to).urn;
  expect(r.dependencies).toContain(urn);
  r.dependencies = (r.dependencies ?? []).filter((u) => u !== urn);
}

describe("IAM policy validation", () => {
  test("a misspelled action is caught with its statement and a suggestion", () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "kintone-sync-policy"), "policy", (d) => {
        d.Statement[2].Action = ["secretsmanager:GetSecretValues"];
      }),
    );
    const found = policyFindings(rs).filter((f) => f.severity === "error");
    expect(found).toEqual([
      expect.objectContaining({
        label: "kintone-sync-policy",
        statement: 2,
        sid: "ReadKintoneToken",
        rule: "action-unknown",
        fix: expect.stringContaining("secretsmanager:GetSecretValue"),
      }),
    ]);
  });

  test("a resource ARN of the wrong type is caught (kms:Decrypt on the secret's ARN)", () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "db-writer-policy"), "policy", (d) => {
        d.Statement[3].Resource = d.Statement[2].Resource;
      }),
    );
    const rules = policyFindings(rs)
      .filter((f) => f.label === "db-writer-policy")
      .map((f) => `${f.statement} ${f.rule}`);
    expect(rules).toEqual(["3 resource-type", "3 grants-nothing"]);
  });

  test("s3:ListBucket written against objects grants nothing", () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "saas-export-policy"), "policy", (d) => {
        const list = d.Statement.find((st: { Sid?: string }) => st.Sid === "ListPartitions");
        list.Resource = `${list.Resource}/*`;
      }),
    );
    expect(policyFindings(rs).map((f) => `${f.label} ${f.sid} ${f.rule}`)).toEqual(
      expect.arrayContaining(["saas-export-policy ListPartitions grants-nothing"]),
    );
  });

  test("a Principal in an identity policy and a missing Principal in the secret policy are refused shapes", () => {
    const rs = mutate((x) => {
      editPolicy(named(x, "pets-api-policy"), "policy", (d) => {
        d.Statement[0].Principal = "*";
      });
      editPolicy(named(x, "data-db-secret-policy"), "policy", (d) => {
        delete d.Statement[0].Principal;
      });
    });
    expect(policyFindings(rs).map((f) => `${f.label} ${f.rule}`)).toEqual([
      "pets-api-policy principal",
      "data-db-secret-policy principal",
    ]);
  });
});

describe("least privilege by simulation", () => {
  test("without the key policy's reader statement, the cross-account kms:Decrypt is denied (ours and iam-simulate)", async () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "data-db-secret-key"), "policy", (d) => {
        d.Statement = d.Statement.filter((s: any) => s.Sid !== "ReadersDecryptThroughSecretsManager");
      }),
    );
    const found = allCallFindings(rs);
    expect(found.map((f) => `${f.functionName} ${f.kind} ${f.action}`)).toEqual([
      "db-writer denied-call kms:Decrypt",
      "pets-api denied-call kms:Decrypt",
    ]);
    const facts = functionFacts(rs, "db-writer", graphContext(rs));
    const key = facts.keyOf(facts.env.DB_SECRET_ARN) as string;
    const c = {
      name: "decrypt",
      request: {
        principal: facts.roleArn,
        action: "kms:Decrypt",
        resource: key,
        resourceAccount: key.split(":")[4],
        context: { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" },
      },
      policies: { identity: facts.identityPolicies, resource: facts.resourcePolicyFor(key) },
    };
    expect([evaluate(c.request, c.policies).decision, await oracleDecision(c)]).toEqual([
      "ImplicitlyDenied",
      "ImplicitlyDenied",
    ]);
  });

  test("without kms:Decrypt in the role policy, the chain breaks on the caller's side", () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "db-writer-policy"), "policy", (d) => {
        d.Statement = d.Statement.filter((s: any) => s.Sid !== "DecryptDbSecret");
      }),
    );
    expect(allCallFindings(rs).map((f) => `${f.functionName} ${f.kind} ${f.action}`)).toEqual([
      "db-writer denied-call kms:Decrypt",
    ]);
  });

  test("a widened S3 grant lets saas-export write another prefix: a must-deny finding", () => {
    const rs = mutate((x) =>
      editPolicy(named(x, "saas-export-policy"), "policy", (d) => {
        d.Statement[3].Resource = d.Statement[3].Resource.replace("/raw/saas/*", "/*");
      }),
    );
    expect(
      allCallFindings(rs).map((f) => `${f.functionName} ${f.kind} ${f.action} ${f.resource.split(":::")[1]}`),
    ).toEqual(["saas-export allowed-must-deny s3:PutObject saas-export-bucket-e4292b1/other/dt=2026-01-01/x.ndjson"]);
  });
});

describe("create order", () => {
  test.each([
    ["kintone-sync-fn", "kintone-sync-policy", "vpc-function-after-eni-policy", []],
    ["data-transit-attachment", "data-transit-accepter", "tgw-attachment-after-share-accepted", []],
    // The integration is the only path from the deployment to it (the method is reached through it too).
    [
      "private-api-deployment",
      "private-api-integration-ANY-pets",
      "apigw-deployment-after-methods-integrations-policy",
      [],
    ],
    ["private-api-deployment", "private-api-policy", "apigw-deployment-after-methods-integrations-policy", []],
    // The connector profile waited for the permission only through the registration: both are reported.
    [
      "appflow-connector-registration",
      "appflow-connector-appflow-invoke",
      "appflow-after-lambda-permission",
      ["appflow-connector-connection"],
    ],
  ] as [string, string, string, string[]][])(
    "dropping %s -> %s is a finding naming both",
    (from, to, rule, alsoLate) => {
      const rs = mutate((x) => dropDependency(x, from, to));
      const found = orderFindings(rs);
      expect(found.map((f) => [f.rule, f.resource.name, f.waitsFor?.name])).toEqual([
        [rule, from, to],
        ...alsoLate.map((n) => [rule, n, to]),
      ]);
      expect(found[0].awsError.length).toBeGreaterThan(10);
    },
  );

  test("a deployment still reaches a method through its integration (transitive order counts)", () => {
    const rs = mutate((x) => dropDependency(x, "private-api-deployment", "private-api-method-ANY-pets"));
    expect(orderFindings(rs)).toEqual([]);
  });

  test("a TGW route without its attachment dependency is a finding", () => {
    const rs = mutate((x) => {
      for (const r of x.filter(
        (y) =>
          y.type === "aws:ec2/route:Route" &&
          y.inputs.transitGatewayId !== undefined &&
          y.name.startsWith("data-transit-"),
      )) {
        r.dependencies = (r.dependencies ?? []).filter((u) => !u.endsWith("::data-transit-attachment"));
      }
    });
    const found = orderFindings(rs);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => `${f.rule} ${f.waitsFor?.name}`))).toEqual(
      new Set(["tgw-route-after-attachment data-transit-attachment"]),
    );
  });

  test("a graph without recorded dependencies is reported, not passed", () => {
    const rs = mutate((x) => x.forEach((r) => delete r.dependencies));
    expect(orderFindings(rs).map((f) => f.rule)).toEqual(["dependencies-recorded"]);
  });
});

describe("limits", () => {
  test("a role name over 64 characters and a Lambda timeout of 901 are caught with their source", () => {
    const rs = mutate((x) => {
      named(x, "db-writer-role").inputs.name = `vpc-lambda-kit-${"x".repeat(50)}`;
      named(x, "saas-export-fn").inputs.timeout = 901;
    });
    const known = new Set(limitFindings(clean).map((f) => f.urn + f.property));
    const found = limitFindings(rs).filter((f) => !known.has(f.urn + f.property));
    expect(found.map((f) => `${f.resource} ${f.property}`)).toEqual(["db-writer-role name", "saas-export-fn timeout"]);
    expect(found.every((f) => f.source.length > 0 && f.severity === "error")).toBe(true);
  });

  test("an auto-named load balancer whose logical name is too long is caught", () => {
    const rs = mutate((x) => {
      named(x, "proxy-nlb").name = "proxy-network-load-balancer-xyz";
    });
    expect(
      limitFindings(rs)
        .filter((f) => f.type === "aws:lb/loadBalancer:LoadBalancer")
        .map((f) => f.property),
    ).toEqual(["name"]);
  });

  test("environment variables over 4 KB and a log retention AWS does not offer are caught", () => {
    const rs = mutate((x) => {
      const fn = named(x, "kintone-sync-fn");
      (fn.inputs.environment as any).variables.KINTONE_TRANSFORM_OPTIONS = "x".repeat(4100);
      for (const lg of x.filter((r) => r.name === "kintone-sync-logs")) lg.inputs.retentionInDays = 10;
    });
    const known = new Set(limitFindings(clean).map((f) => f.urn + f.property));
    expect(
      limitFindings(rs)
        .filter((f) => !known.has(f.urn + f.property))
        .map((f) => `${f.resource} ${f.property}`)
        .sort(),
    ).toEqual(["kintone-sync-fn environment.variables", "kintone-sync-logs retentionInDays"]);
  });

  test("the config-key hook names the key that sets a property", () => {
    const rs = mutate((x) => {
      named(x, "saas-export-fn").inputs.memorySize = 64;
    });
    const { checkLimits } = jest.requireActual("../../ops/check/limits") as typeof import("../../ops/check/limits");
    const found = checkLimits(rs, {
      configKeyFor: (r, p) =>
        r.name === "saas-export-fn" && p === "memorySize" ? "vpc-lambda-kit:saasExport.memorySize" : undefined,
    }).filter((f) => f.property === "memorySize");
    expect(found.map((f) => f.configKey)).toEqual(["vpc-lambda-kit:saasExport.memorySize"]);
  });
});
