import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { ConfigErrors } from "../../components/errors";
import { readStackConfig } from "../../ops/stack-config";
import { exitCodeOf, parseDeployArgs, planDeploy } from "../../ops/deploy-core";
import { auroraVersionProblem, hiveTypeProblem } from "../../stacks/config/rules";
import { secretShapeProblem } from "../../stacks/config/secrets";
import { configErrorsOf } from "../support/config-errors";
import { expectRefused, runOps, writeStackFile } from "../support/ops-cli";

const P = "vpc-lambda-kit";
const ks = (extra: Record<string, unknown>) => ({
  [`${P}:kintoneSync`]: {
    baseUrl: "https://example.cybozu.com",
    appId: "1",
    transformOptions: { rules: [] },
    ...extra,
  },
});
const dev = YAML_DEV();
function YAML_DEV(): Record<string, unknown> {
  return JSON.parse(readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).config[`${P}:saasExport`]);
}
const saas = (extra: Record<string, unknown>) => ({ [`${P}:saasExport`]: { ...dev, ...extra } });
const net = (extra: Record<string, unknown>) => ({
  [`${P}:network`]: {
    cidrBlock: "10.0.0.0/16",
    availabilityZones: 2,
    interfaceEndpoints: ["secretsmanager", "execute-api"],
    gatewayEndpoints: ["s3", "dynamodb"],
    ...extra,
  },
});

test.each([
  [
    "a kintone URL on another host",
    ks({ baseUrl: "https://evil.example.com" }),
    /^vpc-lambda-kit:kintoneSync\.baseUrl: must be https:\/\/<subdomain>\.cybozu\.com .*got "https:\/\/evil\.example\.com"\. Fix: /,
  ],
  [
    "a kintone URL whose host only begins like kintone's",
    ks({ baseUrl: "https://example.cybozu.com.evil.net" }),
    /^vpc-lambda-kit:kintoneSync\.baseUrl: must be https:\/\/<subdomain>\.cybozu\.com/,
  ],
  [
    "a kintone URL with a port",
    ks({ baseUrl: "https://example.cybozu.com:8443" }),
    /^vpc-lambda-kit:kintoneSync\.baseUrl: /,
  ],
  ["app id 0", ks({ appId: "0" }), /^vpc-lambda-kit:kintoneSync\.appId: a kintone app id is a positive number/],
  [
    "a transform module outside the project",
    ks({ transformModule: "./../../../etc/passwd" }),
    /^vpc-lambda-kit:kintoneSync\.transformModule: "\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" resolves outside the project .*Fix: give the path of a \.ts or \.js file inside the repository/,
  ],
  [
    "a transform module that does not build",
    ks({ transformModule: "./test/fixtures/transforms/broken.js" }),
    /^vpc-lambda-kit:kintoneSync\.transformModule: the transform does not build: test\/fixtures\/transforms\/broken\.js:3:\d+ /,
  ],
  [
    "one EIP given three times",
    net({
      availabilityZones: 3,
      natGateways: "onePerAz",
      eipAllocationIds: ["eipalloc-0123456789abcdef0", "eipalloc-0123456789abcdef0", "eipalloc-0123456789abcdef0"],
    }),
    /^vpc-lambda-kit:network\.eipAllocationIds\.1: "eipalloc-0123456789abcdef0" is listed twice; an Elastic IP can be associated with one NAT gateway only/,
  ],
  [
    "an unknown pagination style",
    saas({ pagination: "bogus" }),
    /^vpc-lambda-kit:saasExport\.pagination: pagination "bogus" is not a pagination style/,
  ],
  [
    "a records path the handler cannot read",
    saas({ recordsPath: "data[[" }),
    /^vpc-lambda-kit:saasExport\.recordsPath: not a records path the handler reads/,
  ],
  [
    "a column type Athena cannot read",
    saas({ columns: [{ name: "id", type: "strin g)" }] }),
    /^vpc-lambda-kit:saasExport\.columns\.0\.type: "strin g\)" is not a Glue\/Athena column type/,
  ],
  [
    "a column named like the partition",
    saas({ columns: [{ name: "dt", type: "string" }] }),
    /^vpc-lambda-kit:saasExport\.columns\.0\.name: dt is the table's partition column/,
  ],
  [
    "a misspelt interface endpoint",
    net({ interfaceEndpoints: ["secretsmanagr", "execute-api"] }),
    /^vpc-lambda-kit:network\.interfaceEndpoints\.0: "secretsmanagr" is not an interface endpoint service/,
  ],
  [
    "an unknown region",
    { "aws:region": "mars-north-1" },
    /^aws:region: "mars-north-1" is not an AWS region .*Fix: pulumi config set aws:region/,
  ],
  [
    "zones of another region",
    net({ availabilityZones: ["us-east-1a", "us-east-1b"] }),
    /^vpc-lambda-kit:network\.availabilityZones\[0\]: "us-east-1a" is not an availability zone of ap-northeast-1/,
  ],
  [
    "a role in another account",
    {
      [`${P}:accounts`]: {
        a: { accountId: "111111111111" },
        b: { accountId: "222222222222", assumeRoleArn: "arn:aws:iam::333333333333:role/deployer" },
      },
    },
    /^vpc-lambda-kit:accounts\.b\.assumeRoleArn: the role is in account 333333333333, but accounts\.b\.accountId is 222222222222/,
  ],
  [
    "an Aurora version RDS does not offer",
    { [`${P}:data`]: { cidrBlock: "10.1.0.0/16", database: { engineVersion: "99.9" } } },
    /^vpc-lambda-kit:data\.database\.engineVersion: "99\.9" is not an Aurora PostgreSQL version RDS offers/,
  ],
  [
    "an instance type that does not exist",
    { [`${P}:proxyTier`]: { allowedDomains: ["api.example-saas.com"], instanceType: "t4g.gigantic" } },
    /^vpc-lambda-kit:proxyTier\.instanceType: "t4g\.gigantic" is not a Graviton/,
  ],
  [
    "a cron with both day fields",
    ks({ schedule: "cron(0 18 1 * MON *)" }),
    /^vpc-lambda-kit:kintoneSync\.schedule: .*exactly one of day-of-month \("1"\) and day-of-week \("MON"\) must be "\?"/,
  ],
  [
    "a cron hour out of range",
    ks({ schedule: "cron(0 25 * * ? *)" }),
    /^vpc-lambda-kit:kintoneSync\.schedule: .*hours "25" is outside 0-23/,
  ],
  [
    "a plain-text secret",
    { [`${P}:proxyHeaderValue`]: "abcdefabcdefabcdefabcdef" },
    /^vpc-lambda-kit:proxyHeaderValue: is a secret given as plain text, so it would be committed with the stack file\. Fix: pulumi config set --secret/,
  ],
  [
    "a plain secret of the wrong shape, allowed for an experiment",
    { [`${P}:allowPlainSecrets`]: "true", [`${P}:proxyHeaderValue`]: "has a space in it, sixteen+" },
    /^vpc-lambda-kit:proxyHeaderValue: contains a space at position 3/,
  ],
  [
    "a public Transit Gateway ASN (also with dbWriter and appflowConnector reading the Transit Gateway)",
    {
      [`${P}:transitGateway`]: {
        principals: ["222222222222"],
        acceptShare: true,
        allowExternalPrincipals: true,
        amazonSideAsn: 16509,
      },
    },
    /^vpc-lambda-kit:transitGateway\.amazonSideAsn: the Amazon-side ASN must be private/,
  ],
  [
    "a client CIDR of the proxy tier",
    { [`${P}:proxyTier`]: { allowedDomains: ["api.example-saas.com"], extraClientCidrs: ["10.9.0.0/33"] } },
    /^vpc-lambda-kit:proxyTier\.extraClientCidrs\[0\]: /,
  ],
])("%s is refused with the key and the fix", (_label, patch, expected) => {
  const errors = configErrorsOf(patch);
  expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  for (const e of errors) expect(e).toMatch(/\. Fix: /);
});

test("a bad network CIDR is reported once, with no fix that repeats it", () => {
  const errors = configErrorsOf(net({ cidrBlock: "10.0.0.0/33" }));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^vpc-lambda-kit:network\.cidrBlock: /);
  expect(errors.join("\n")).not.toMatch(/Fix: .*10\.0\.0\.0\/33/);
});

test("several problems are reported together, each with its own key", () => {
  const errors = configErrorsOf({
    ...ks({ baseUrl: "https://evil.example.com", appId: "0" }),
    ...net({ interfaceEndpoints: ["secretsmanagr"] }),
    "aws:region": "mars-north-1",
  });
  for (const key of ["kintoneSync.baseUrl", "kintoneSync.appId", "network.interfaceEndpoints.0"])
    expect(errors.some((e) => e.startsWith(`${P}:${key}: `))).toBe(true);
  expect(errors.some((e) => e.startsWith("aws:region: "))).toBe(true);
});

test("the checked-in stacks stay valid", () => {
  for (const stack of ["dev", "prod", "dev-network", "dev-data", "dev-apps"])
    expect([stack, configErrorsOf({}, stack)]).toEqual([stack, []]);
});

test.each([
  ["string", undefined],
  ["decimal(10,2)", undefined],
  ["varchar(20)", undefined],
  ["array<struct<a:int,b:map<string,double>>>", undefined],
  ["strin g)", /not a Glue\/Athena column type/],
  ["decimal(40,2)", /precision 1-38/],
  ["map<array<int>,int>", /map key must be a primitive/],
  ["struct<a int>", /expected ":"/],
])("Hive type %s", (type, problem) => {
  const p = hiveTypeProblem(type);
  if (problem) expect(p).toMatch(problem);
  else expect(p).toBeUndefined();
});

test("secret shapes: reported by position, never echoing the value", () => {
  expect(secretShapeProblem("proxyHeaderValue", "abc def ghi jkl mno")).toBe(
    "contains a space at position 3; Squid and HTTP cannot match it exactly",
  );
  expect(secretShapeProblem("proxyHeaderValue", "0123456789abcdef0123")).toBeUndefined();
  expect(secretShapeProblem("kintoneApiToken", "not a token!")).toMatch(/is not a kintone API token/);
  expect(secretShapeProblem("saasApiToken", "Bearer x\r\nX-Evil: 1")).toMatch(/control character at position 8/);
  expect(secretShapeProblem("proxyHeaderValue", 12345)).toBe("must be a string (got number)");
});

describe("stack files the engine would refuse", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-yaml-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const devText = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
  const cases: [string, string, RegExp][] = [
    [
      "a YAML syntax error",
      devText.replace("  vpc-lambda-kit:logRetentionInDays: 14", "  vpc-lambda-kit:logRetentionInDays: [14"),
      /Pulumi\.bad\.yaml:\d+:\d+: YAML syntax: .*Fix: fix the YAML at that line/,
    ],
    [
      "tab indentation",
      devText.replace("  vpc-lambda-kit:logRetentionInDays: 14", "\tvpc-lambda-kit:logRetentionInDays: 14"),
      /Pulumi\.bad\.yaml:\d+:1: indented with a tab.*Fix: replace the tab with spaces/,
    ],
    [
      "a duplicate key",
      devText.replace(
        "  vpc-lambda-kit:logRetentionInDays: 14",
        "  vpc-lambda-kit:logRetentionInDays: 14\n  vpc-lambda-kit:logRetentionInDays: 7",
      ),
      /Pulumi\.bad\.yaml:\d+:3: a key is given twice.*Fix: keep one/,
    ],
    [
      "config that is not a map",
      "config: [1, 2]\n",
      /Pulumi\.bad\.yaml:1:9: "config" must be a map of keys to values\. Fix: /,
    ],
    [
      "a secure: value that is not a string",
      devText.replace(/(vpc-lambda-kit:proxyHeaderValue:\n {4}secure: )\S+/, "$112345"),
      /Pulumi\.bad\.yaml:\d+:13: vpc-lambda-kit:proxyHeaderValue: a secure: value must be the encrypted text/,
    ],
  ];
  test.each(cases)("%s: readStackConfig names file, line and column", (_label, text, expected) => {
    const file = path.join(dir, "Pulumi.bad.yaml");
    fs.writeFileSync(file, text);
    let message = "";
    try {
      readStackConfig(file);
    } catch (e) {
      message = e instanceof ConfigErrors ? e.message : (e as Error).message;
      expect(["ConfigError", "ConfigErrors"]).toContain((e as Error).name);
    }
    expect(message).toMatch(expected);
  });

  test("deploy refuses a tab-indented file with exit code 2, naming file, line and column", () => {
    const root = fs.mkdtempSync(path.join(dir, "deploy-"));
    fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), cases[1][1]);
    let err: unknown;
    try {
      planDeploy(parseDeployArgs(["dev", "--preview"]) as Exclude<ReturnType<typeof parseDeployArgs>, "help">, root);
    } catch (e) {
      err = e;
    }
    expect(exitCodeOf(err)).toBe(2);
    expect((err as Error).message).toMatch(/Pulumi\.dev\.yaml:\d+:1: indented with a tab/);
  });

  test("synth and check exit 2 on a tab-indented file, with no stack trace and nothing written", () => {
    const file = writeStackFile(dir, "tabs", cases[1][1]);
    for (const cmd of ["ops/synth.ts", "ops/check.ts"] as const) {
      const r = runOps(cmd, "tabs", file, path.join(dir, `out-${path.basename(cmd, ".ts")}`));
      expect(r.stderr).toMatch(/Pulumi\.tabs\.yaml:\d+:1: indented with a tab/);
      expectRefused(r);
    }
  });
});

test("Aurora versions: the dated table refuses what it proves wrong and lets newer releases through to RDS", () => {
  // In the table, and newer than the table knows (a later minor of a known major, the next major).
  for (const v of ["16.6", "16.12", "17.9", "18.1"]) expect([v, auroraVersionProblem(v)]).toEqual([v, undefined]);
  // Malformed, past standard support, a minor RDS never offered or has retired, a major too far ahead.
  expect(auroraVersionProblem("16")).toMatch(/give <major>\.<minor>/);
  expect(auroraVersionProblem("12.20")).toMatch(/major 12 is past standard support/);
  expect(auroraVersionProblem("16.5")).toMatch(/"16\.5" is not an Aurora PostgreSQL version RDS offers/);
  expect(auroraVersionProblem("99.9")).toMatch(/not an Aurora PostgreSQL version RDS offers/);
});
