import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../stacks/config/load";
import { readStackConfig } from "../../ops/stack-config";
import { REPO_ROOT } from "../../components/bundle";
import { configErrorsOf } from "../support/config-errors";
import { expectRefused, runOps, stackDoc, writeStackFile } from "../support/ops-cli";

const errorsOf = (patch: Record<string, unknown>) => configErrorsOf(patch);

test("the checked-in dev and prod configs are valid", () => {
  expect(errorsOf({})).toEqual([]);
  const prod = readStackConfig(path.join(REPO_ROOT, "Pulumi.prod.yaml"));
  expect(() => loadConfig(prod.config, prod.secretKeys)).not.toThrow();
});

test("secure: values are present-but-secret, never missing", () => {
  const { config, secretKeys } = readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml"));
  expect(secretKeys).toEqual([
    "vpc-lambda-kit:kintoneApiToken",
    "vpc-lambda-kit:proxyHeaderValue",
    "vpc-lambda-kit:saasApiToken",
    "vpc-lambda-kit:appflowDbPassword",
  ]);
  expect(config["vpc-lambda-kit:kintoneApiToken"]).toBe("synth-placeholder-secret");
  expect(loadConfig(config, secretKeys).secretsPresent.kintoneApiToken).toBe(true);
});

test.each([
  [
    "an invalid VPC CIDR",
    { "vpc-lambda-kit:network": { cidrBlock: "10.0.0.0/33" } },
    /^vpc-lambda-kit:network\.cidrBlock: "10\.0\.0\.0\/33" has a prefix length above 32\. Fix: /,
  ],
  [
    "a subnet outside its VPC",
    { "vpc-lambda-kit:network": { privateSubnetCidrs: ["10.5.1.0/24"] } },
    /^vpc-lambda-kit:network\.privateSubnetCidrs\[0\]: subnet 10\.5\.1\.0\/24 is outside the VPC 10\.0\.0\.0\/16\. Fix: choose a CIDR inside 10\.0\.0\.0\/16/,
  ],
  [
    "overlapping subnets",
    { "vpc-lambda-kit:network": { publicSubnetCidrs: ["10.0.1.0/25"] } },
    /^vpc-lambda-kit:network\.privateSubnetCidrs\[0\]: subnet 10\.0\.1\.0\/24 overlaps vpc-lambda-kit:network\.publicSubnetCidrs\[0\]/,
  ],
  [
    "an EIP count that does not match the NAT strategy",
    {
      "vpc-lambda-kit:network": {
        availabilityZones: 3,
        natGateways: "onePerAz",
        eipAllocationIds: ["eipalloc-0123456789abcdef0"],
      },
    },
    /^vpc-lambda-kit:network\.eipAllocationIds: natGateways "onePerAz" over 3 availability zone\(s\) needs 3 EIP allocation id\(s\), got 1/,
  ],
  [
    "an unknown key",
    { "vpc-lambda-kit:natGateway": "single" },
    /^vpc-lambda-kit:natGateway: unknown key\. Fix: remove the key or fix its spelling/,
  ],
  [
    "an unknown nested key",
    { "vpc-lambda-kit:network": { natgateways: "single" } },
    /^vpc-lambda-kit:network\.natgateways: unknown key/,
  ],
  [
    "a missing environment",
    { "vpc-lambda-kit:environment": undefined },
    /^vpc-lambda-kit:environment: .*Fix: set it: pulumi config set vpc-lambda-kit:environment <value>/,
  ],
  [
    "a missing region",
    { "aws:region": undefined },
    /^aws:region: not set\. Fix: pulumi config set aws:region ap-northeast-1/,
  ],
  [
    "a missing kintone token",
    { "vpc-lambda-kit:kintoneApiToken": undefined },
    /^vpc-lambda-kit:kintoneApiToken: kintoneSync is enabled but no API token is set\. Fix: pulumi config set --secret/,
  ],
  [
    "a query with paging clauses",
    { "vpc-lambda-kit:kintoneSync": { baseUrl: "https://x.cybozu.com", appId: "1", query: "a = 1 order by $id" } },
    /^vpc-lambda-kit:kintoneSync\.query: the query contains order by/,
  ],
  [
    "a bad schedule",
    { "vpc-lambda-kit:kintoneSync": { baseUrl: "https://x.cybozu.com", appId: "1", schedule: "every 5 minutes" } },
    /^vpc-lambda-kit:kintoneSync\.schedule: "every 5 minutes" is not an EventBridge schedule/,
  ],
  [
    "overlapping network and data VPCs",
    { "vpc-lambda-kit:data": { cidrBlock: "10.0.0.0/16", subnetCidrs: ["10.0.128.0/28", "10.0.128.16/28"] } },
    /^vpc-lambda-kit:data\.cidrBlock: 10\.0\.0\.0\/16 overlaps network\.cidrBlock/,
  ],
  [
    "a non-https kintone URL",
    { "vpc-lambda-kit:kintoneSync": { baseUrl: "http://x.cybozu.com", appId: "1" } },
    /^vpc-lambda-kit:kintoneSync\.baseUrl: must be https:\/\//,
  ],
  [
    "a sync without rules for the shipped transform",
    { "vpc-lambda-kit:kintoneSync": { baseUrl: "https://x.cybozu.com", appId: "1" } },
    /^vpc-lambda-kit:kintoneSync\.transformOptions: not valid for the shipped transform: .*Fix: give \{"rules": \[\.\.\.\]\}/,
  ],
  [
    "an unknown transform rule",
    {
      "vpc-lambda-kit:kintoneSync": {
        baseUrl: "https://x.cybozu.com",
        appId: "1",
        transformOptions: { rules: [{ op: "shout", fields: ["a"] }] },
      },
    },
    /^vpc-lambda-kit:kintoneSync\.transformOptions: not valid for the shipped transform/,
  ],
  [
    "a malformed role ARN",
    { "vpc-lambda-kit:accounts": { a: { assumeRoleArn: "arn:aws:iam::12:role/x" } } },
    /^vpc-lambda-kit:accounts\.a\.assumeRoleArn: not an IAM role ARN/,
  ],
])("%s is refused with the key and the fix", (_label, patch, expected) => {
  const errors = errorsOf(patch);
  expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
});

test("synth exits non-zero before registering anything, printing every problem with its key", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-bad-"));
  const doc = stackDoc("dev");
  doc.config["vpc-lambda-kit:network"] = {
    cidrBlock: "10.0.0.0/16",
    availabilityZones: 2,
    natGateways: "onePerAz",
    eipAllocationIds: ["eipalloc-0123456789abcdef0"],
  };
  doc.config["vpc-lambda-kit:colour"] = "blue";
  const r = runOps("ops/synth.ts", "bad", writeStackFile(dir, "bad", doc), path.join(dir, "out"));
  expect(r.stderr).toContain("vpc-lambda-kit:colour: unknown key");
  expect(r.stderr).toContain(
    'vpc-lambda-kit:network.eipAllocationIds: natGateways "onePerAz" over 2 availability zone(s) needs 2 EIP allocation id(s), got 1',
  );
  expectRefused(r); // exit 2, a sentence rather than a stack trace, no graph
});
