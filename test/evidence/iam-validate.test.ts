import { validatePolicy, resourceFitsPattern } from "../../ops/check/iam/validate";
import { lambdaPermissionStatement } from "../../ops/check/iam/graph-policies";

const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
const rules = (d: unknown, kind: "identity" | "trust" | "resource" = "identity", resourceArn?: string) =>
  validatePolicy(d, { kind, resourceArn }).map((f) => `${f.severity} ${f.statement ?? "-"} ${f.rule}`);

describe("document shape (what AWS refuses as MalformedPolicyDocument)", () => {
  test.each([
    ["missing Effect", doc({ Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }), "identity", ["error 0 effect"]],
    [
      "lower-case Effect",
      doc({ Effect: "allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }),
      "identity",
      ["error 0 effect"],
    ],
    [
      "both Action and NotAction",
      doc({ Effect: "Allow", Action: "s3:GetObject", NotAction: "s3:PutObject", Resource: "arn:aws:s3:::b/*" }),
      "identity",
      ["error 0 action"],
    ],
    ["neither Action nor NotAction", doc({ Effect: "Allow", Resource: "*" }), "identity", ["error 0 action"]],
    [
      "bad Version",
      { Version: "2012-10-18", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] },
      "identity",
      ["error - version"],
    ],
    [
      "no Version (warning)",
      { Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] },
      "identity",
      ["warning - version"],
    ],
    [
      "Principal in an identity policy",
      doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }),
      "identity",
      ["error 0 principal"],
    ],
    [
      "missing Principal in a resource policy",
      doc({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }),
      "resource",
      ["error 0 principal"],
    ],
    [
      "missing Resource in an identity policy",
      doc({ Effect: "Allow", Action: "s3:GetObject" }),
      "identity",
      ["error 0 resource"],
    ],
    [
      "Resource in a trust policy",
      doc({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole", Resource: "*" }),
      "trust",
      ["error 0 resource"],
    ],
    [
      "trust policy allowing a non-sts action",
      doc({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "s3:GetObject" }),
      "trust",
      ["error 0 trust-action"],
    ],
    [
      "unknown statement element",
      doc({ Effect: "Allow", Actions: "s3:GetObject", Resource: "*" }),
      "identity",
      ["error 0 unknown-element", "error 0 action"],
    ],
    [
      "duplicate Sid",
      doc(
        { Sid: "A", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
        { Sid: "A", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" },
      ),
      "identity",
      ["error 1 sid"],
    ],
    [
      "unknown condition operator",
      doc({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { StringEqual: { "aws:SourceVpce": "v" } },
      }),
      "identity",
      ["error 0 condition-operator"],
    ],
    [
      "invalid AWS principal",
      doc({
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::1234:root" },
        Action: "secretsmanager:GetSecretValue",
        Resource: "*",
      }),
      "resource",
      ["error 0 principal"],
    ],
    [
      "resource that is not an ARN",
      doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "b/*" }),
      "identity",
      ["error 0 resource-syntax"],
    ],
  ] as [string, unknown, "identity" | "trust" | "resource", string[]][])("%s", (_n, d, kind, expected) => {
    expect(rules(d, kind)).toEqual(expected);
  });

  test("text that is not JSON is one finding, not an exception", () => {
    expect(rules("{not json")).toEqual(["error - json"]);
  });
});

describe("actions, resource types and condition keys against the catalogue", () => {
  test("a misspelled action suggests the documented spelling", () => {
    const [f] = validatePolicy(doc({ Effect: "Allow", Action: "secretsmanager:GetSecretValues", Resource: "*" }), {
      kind: "identity",
    });
    expect([f.rule, f.fix]).toEqual([
      "action-unknown",
      expect.stringContaining("did you mean secretsmanager:GetSecretValue?"),
    ]);
  });

  test("wrong case is a warning naming the documented spelling", () => {
    expect(
      validatePolicy(doc({ Effect: "Allow", Action: "kms:decrypt", Resource: "*" }), { kind: "identity" }).map((f) => [
        f.severity,
        f.rule,
        f.fix,
      ]),
    ).toEqual([["warning", "action-case", 'write "kms:Decrypt"']]);
  });

  test("a wildcard that matches no action, and an unknown service prefix", () => {
    expect(
      rules(doc({ Effect: "Allow", Action: ["s3:Frobnicate*", "secretmanager:GetSecretValue"], Resource: "*" })),
    ).toEqual(["error 0 action-unknown", "error 0 action-service"]);
  });

  test("ARN patterns: bucket vs object, log group with :* vs log stream, wildcards and Pulumi unknowns", () => {
    const bucket = "arn:${Partition}:s3:::${BucketName}";
    const object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const stream = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
    expect([
      resourceFitsPattern("arn:aws:s3:::b", bucket),
      resourceFitsPattern("arn:aws:s3:::b/*", bucket),
      resourceFitsPattern("arn:aws:s3:::b/*", object),
      resourceFitsPattern("arn:aws:s3:::b", object),
      resourceFitsPattern("arn:aws:logs:ap-northeast-1:111111111111:log-group:g:*", stream),
      resourceFitsPattern("arn:aws:logs:ap-northeast-1:111111111111:log-group:g", stream),
      resourceFitsPattern("arn:aws:s3:::04da6b54-80e4-46f7-96ec-b56ff0331ba9/raw/*", object),
    ]).toEqual([true, false, true, false, true, false, true]);
  });

  // One Allow statement of an identity policy each; every case differs only by the statement and its findings.
  test.each([
    [
      "a wildcard-only action with a specific ARN grants nothing",
      {
        Action: "ec2:DescribeNetworkInterfaces",
        Resource: "arn:aws:ec2:ap-northeast-1:111111111111:network-interface/eni-1",
      },
      ["error 0 resource-type", "error 0 grants-nothing"],
    ],
    [
      "a Pulumi unknown in a resource is reported as info, not as an error",
      { Action: "s3:PutObject", Resource: "arn:aws:s3:::04da6b54-80e4-46f7-96ec-b56ff0331ba9/raw/*" },
      ["info 0 resource-unknown"],
    ],
    [
      "condition keys: a service key of another action is an error",
      {
        Action: "secretsmanager:GetSecretValue",
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": "x" } },
      },
      ["error 0 condition-key"],
    ],
    [
      "condition keys: a key only some of the actions support is a warning",
      {
        Action: ["s3:ListBucket", "s3:PutObject"],
        Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        Condition: { StringLike: { "s3:prefix": "raw/*" } },
      },
      ["warning 0 condition-key-partial"],
    ],
    [
      "condition keys: an unknown global key is an error",
      { Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*", Condition: { Bool: { "aws:SecureTransports": "true" } } },
      ["error 0 condition-key"],
    ],
    [
      "condition keys: a resource tag key and a known global key are accepted",
      {
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { StringEquals: { "aws:ResourceTag/Team": "x", "aws:SourceVpce": "v" } },
      },
      [],
    ],
  ] as [string, object, string[]][])("%s", (_n, statement, expected) => {
    expect(rules(doc({ Effect: "Allow", ...statement }))).toEqual(expected);
  });

  test("a bucket policy naming another bucket is refused", () => {
    const d = doc({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::other", "arn:aws:s3:::mine/*"],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(rules(d, "resource", "arn:aws:s3:::mine")).toEqual(["error 0 bucket-resource"]);
  });

  test("a Lambda permission becomes the statement Lambda stores, and validates", () => {
    const d = lambdaPermissionStatement(
      {
        action: "lambda:InvokeFunction",
        function: "fn-1",
        principal: "appflow.amazonaws.com",
        sourceAccount: "111111111111",
        sourceArn: "arn:aws:appflow:ap-northeast-1:111111111111:*",
      },
      "ap-northeast-1",
      "111111111111",
    );
    expect(d).toEqual(
      doc({
        Effect: "Allow",
        Principal: { Service: "appflow.amazonaws.com" },
        Action: "lambda:InvokeFunction",
        Resource: "arn:aws:lambda:ap-northeast-1:111111111111:function:fn-1",
        Condition: {
          ArnLike: { "aws:SourceArn": "arn:aws:appflow:ap-northeast-1:111111111111:*" },
          StringEquals: { "aws:SourceAccount": "111111111111" },
        },
      }),
    );
    expect(rules(d, "resource")).toEqual([]);
    expect(
      rules(
        lambdaPermissionStatement(
          { action: "lambda:InvokeFunctions", function: "fn-1", principal: "events.amazonaws.com" },
          "ap-northeast-1",
          "111111111111",
        ),
        "resource",
      ),
    ).toEqual(["error 0 action-unknown"]);
  });
});
