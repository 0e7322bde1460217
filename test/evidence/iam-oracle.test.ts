import { evaluate } from "../../ops/check/iam/evaluate";
import { OracleCase, oracleDecision } from "./oracle";

// Edge cases of IAM evaluation the kit's policies rely on, each decided by our evaluator and by
// iam-simulate; the two must agree, and the expected decision pins what both should say.

const A = "111111111111";
const B = "222222222222";
const ROLE = `arn:aws:iam::${A}:role/writer`;
const OTHER_ROLE = `arn:aws:iam::${A}:role/other`;
const SECRET_B = `arn:aws:secretsmanager:ap-northeast-1:${B}:secret:db-AbCdEf`;
const SECRET_A = `arn:aws:secretsmanager:ap-northeast-1:${A}:secret:token-AbCdEf`;
const KEY_B = `arn:aws:kms:ap-northeast-1:${B}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const KEY_A = `arn:aws:kms:ap-northeast-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BUCKET = "arn:aws:s3:::exports";
const API = `arn:aws:execute-api:ap-northeast-1:${A}:abc123/prod/GET/pets`;
const VIA_SM = { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" };

const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
const allow = (Action: string | string[], Resource: string | string[], Condition?: object) => ({
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const deny = (Action: string | string[], Resource: string | string[], Condition?: object) => ({
  Effect: "Deny",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const grant = (
  Principal: unknown,
  Action: string | string[],
  Condition?: object,
  Resource: string | string[] = "*",
) => ({ Effect: "Allow", Principal, Action, Resource, ...(Condition ? { Condition } : {}) });

const secretPolicy = doc(
  grant({ AWS: `arn:aws:iam::${A}:root` }, "secretsmanager:GetSecretValue", {
    ArnEquals: { "aws:PrincipalArn": [ROLE] },
  }),
);
const keyPolicy = doc(
  grant({ AWS: `arn:aws:iam::${B}:root` }, "kms:*"),
  grant({ AWS: [`arn:aws:iam::${A}:root`] }, "kms:Decrypt", {
    StringEquals: VIA_SM,
    ArnEquals: { "aws:PrincipalArn": [ROLE] },
  }),
);
const readerIdentity = doc(
  allow("secretsmanager:GetSecretValue", SECRET_B),
  allow("kms:Decrypt", KEY_B, { StringEquals: VIA_SM }),
);

type Expect = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
type Case = OracleCase & { expected: Expect };

/**
 * One request tried once per row: the row's name, the decision expected, what differs in the request, and the
 * policies when they differ from the group's.
 */
type Row = [name: string, expected: Expect, request?: Partial<Case["request"]>, policies?: Case["policies"]];
const variants = (request: Case["request"], policies: Case["policies"], rows: Row[]): Case[] =>
  rows.map(([name, expected, changes, own]) => ({
    name,
    expected,
    request: { ...request, ...changes },
    policies: own ?? policies,
  }));

const privateApiPolicy = doc(
  grant(
    "*",
    "execute-api:Invoke",
    { StringEquals: { "aws:SourceVpce": ["vpce-1"] } },
    `arn:aws:execute-api:ap-northeast-1:${A}:abc123/*`,
  ),
  {
    Effect: "Deny",
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: `arn:aws:execute-api:ap-northeast-1:${A}:abc123/*`,
    Condition: { StringNotEquals: { "aws:SourceVpce": ["vpce-1"] } },
  },
);
const tlsOnlyBucketPolicy = doc({
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: [BUCKET, `${BUCKET}/*`],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
});
const readSecretA = doc(allow("secretsmanager:GetSecretValue", SECRET_A));
const getSecret = (resource: string, resourceAccount: string) => ({
  principal: ROLE,
  action: "secretsmanager:GetSecretValue",
  resource,
  resourceAccount,
});

const cases: Case[] = [
  // cross-account secret + CMK chain
  ...variants(getSecret(SECRET_B, B), { identity: [readerIdentity], resource: secretPolicy }, [
    ["cross-account secret: identity and resource policy allow", "Allowed"],
    ["cross-account secret: resource policy names another role", "ImplicitlyDenied", { principal: OTHER_ROLE }],
    ["cross-account secret: no identity allow", "ImplicitlyDenied", {}, { identity: [], resource: secretPolicy }],
    ["cross-account secret: no resource policy", "ImplicitlyDenied", {}, { identity: [readerIdentity] }],
  ]),
  ...variants(
    { principal: ROLE, action: "kms:Decrypt", resource: KEY_B, resourceAccount: B, context: VIA_SM },
    { identity: [readerIdentity], resource: keyPolicy },
    [
      ["cross-account KMS decrypt via Secrets Manager", "Allowed"],
      ["cross-account KMS decrypt directly (no kms:ViaService)", "ImplicitlyDenied", { context: undefined }],
      [
        "cross-account KMS decrypt via another service",
        "ImplicitlyDenied",
        { context: { "kms:ViaService": "s3.ap-northeast-1.amazonaws.com" } },
      ],
      [
        "cross-account KMS: key policy lacks the reader statement",
        "ImplicitlyDenied",
        {},
        { identity: [readerIdentity], resource: doc(grant({ AWS: `arn:aws:iam::${B}:root` }, "kms:*")) },
      ],
      [
        "cross-account KMS: identity lacks kms:Decrypt",
        "ImplicitlyDenied",
        {},
        { identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_B))], resource: keyPolicy },
      ],
      ["cross-account KMS Encrypt not granted", "ImplicitlyDenied", { action: "kms:Encrypt" }],
    ],
  ),
  // same-account KMS
  ...variants(
    { principal: ROLE, action: "kms:Decrypt", resource: KEY_A, resourceAccount: A },
    { identity: [doc(allow("kms:Decrypt", KEY_A))], resource: doc(grant({ AWS: `arn:aws:iam::${A}:root` }, "kms:*")) },
    [
      ["same-account KMS: root in key policy + identity allow", "Allowed"],
      [
        "same-account KMS: key policy without the account, identity allows",
        "ImplicitlyDenied",
        {},
        { identity: [doc(allow("kms:Decrypt", KEY_A))], resource: doc(grant({ AWS: OTHER_ROLE }, "kms:*")) },
      ],
      [
        "same-account KMS: key policy names the role, no identity",
        "Allowed",
        {},
        { identity: [], resource: doc(grant({ AWS: ROLE }, "kms:Decrypt")) },
      ],
    ],
  ),
  // same-account identity / resource
  ...variants(getSecret(SECRET_A, A), { identity: [readSecretA] }, [
    ["same-account secret by identity only", "Allowed"],
    ["same-account another secret", "ImplicitlyDenied", { resource: SECRET_A.replace("token", "other") }],
    [
      "same-account resource policy naming the role suffices",
      "Allowed",
      {},
      { identity: [], resource: doc(grant({ AWS: ROLE }, "secretsmanager:GetSecretValue")) },
    ],
    [
      "explicit deny in identity wins over allow",
      "ExplicitlyDenied",
      {},
      { identity: [doc(allow("secretsmanager:*", "*"), deny("secretsmanager:GetSecretValue", SECRET_A))] },
    ],
    [
      "explicit deny in resource policy wins",
      "ExplicitlyDenied",
      {},
      {
        identity: [readSecretA],
        resource: doc({ Effect: "Deny", Principal: "*", Action: "secretsmanager:*", Resource: "*" }),
      },
    ],
    [
      "wildcard action and case-insensitive action match",
      "Allowed",
      {},
      { identity: [doc(allow("SecretsManager:get*", SECRET_A))] },
    ],
    ["NotAction allow", "Allowed", {}, { identity: [doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })] }],
    [
      "NotAction excludes iam:PassRole",
      "ImplicitlyDenied",
      { action: "iam:PassRole", resource: `arn:aws:iam::${A}:role/x` },
      { identity: [doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })] },
    ],
  ]),
  // S3 prefixes and TLS
  ...variants(
    { principal: ROLE, action: "s3:PutObject", resource: `${BUCKET}/raw/saas/dt=1/p.ndjson`, resourceAccount: A },
    { identity: [doc(allow("s3:PutObject", `${BUCKET}/raw/saas/*`))] },
    [
      ["s3 object under the prefix", "Allowed"],
      ["s3 object under another prefix", "ImplicitlyDenied", { resource: `${BUCKET}/other/p.ndjson` }],
    ],
  ),
  ...variants(
    { principal: ROLE, action: "s3:ListBucket", resource: BUCKET, resourceAccount: A },
    { identity: [doc(allow("s3:ListBucket", BUCKET, { StringLike: { "s3:prefix": ["raw/saas/*"] } }))] },
    [
      ["s3:ListBucket with StringLike s3:prefix", "Allowed", { context: { "s3:prefix": "raw/saas/dt=1/" } }],
      ["s3:ListBucket of another prefix", "ImplicitlyDenied", { context: { "s3:prefix": "other/" } }],
    ],
  ),
  ...variants(
    { principal: ROLE, action: "s3:PutObject", resource: `${BUCKET}/raw/x`, resourceAccount: A },
    { identity: [doc(allow("s3:PutObject", `${BUCKET}/*`))], resource: tlsOnlyBucketPolicy },
    [
      [
        "bucket policy denies plain HTTP (Bool aws:SecureTransport false)",
        "ExplicitlyDenied",
        { context: { "aws:SecureTransport": "false" } },
      ],
      ["bucket policy TLS deny does not hit HTTPS", "Allowed", { context: { "aws:SecureTransport": "true" } }],
    ],
  ),
  // API Gateway private API: endpoint allowlist with StringNotEquals deny
  ...variants(
    { principal: ROLE, action: "execute-api:Invoke", resource: API, resourceAccount: A },
    { identity: [], resource: privateApiPolicy },
    [
      ["private API invoked through vpce-1", "Allowed", { context: { "aws:SourceVpce": "vpce-1" } }],
      ["private API invoked through vpce-2", "ExplicitlyDenied", { context: { "aws:SourceVpce": "vpce-2" } }],
      ["private API invoked without an endpoint (StringNotEquals on a missing key)", "ExplicitlyDenied"],
    ],
  ),
  // Conditions: ArnLike wildcard, IpAddress, IfExists
  {
    name: "ArnLike on aws:PrincipalArn with a wildcard",
    expected: "Allowed",
    request: getSecret(SECRET_B, B),
    policies: {
      identity: [readerIdentity],
      resource: doc(
        grant({ AWS: A }, "secretsmanager:GetSecretValue", {
          ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/wr*` },
        }),
      ),
    },
  },
  ...variants(
    getSecret(SECRET_A, A),
    {
      identity: [
        doc(allow("secretsmanager:GetSecretValue", SECRET_A, { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } })),
      ],
    },
    [
      ["IpAddress in range", "Allowed", { context: { "aws:SourceIp": "203.0.113.7" } }],
      ["IpAddress out of range", "ImplicitlyDenied", { context: { "aws:SourceIp": "198.51.100.7" } }],
    ],
  ),
  ...(["StringEqualsIfExists", "StringEquals"] as const).map((operator): Case => ({
    name: `${operator} on a missing key`,
    expected: operator === "StringEqualsIfExists" ? "Allowed" : "ImplicitlyDenied",
    request: getSecret(SECRET_A, A),
    policies: {
      identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_A, { [operator]: { "aws:SourceVpce": "vpce-1" } }))],
    },
  })),
];

describe("our IAM evaluator agrees with iam-simulate", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const ours = evaluate(c.request, c.policies).decision;
    const oracle = await oracleDecision(c);
    expect({ ours, oracle }).toEqual({ ours: c.expected, oracle: c.expected });
  });
});

describe("the AGPL oracle stays test-only", () => {
  test("no file outside test/ and the network twin (a test tool) imports @cloud-copilot/iam-simulate", () => {
    const { spawnSync } = require("child_process") as typeof import("child_process");

    const { REPO_ROOT } = require("../../components/bundle") as typeof import("../../components/bundle");
    // git grep exits 1 when nothing matches, 0 with the matching files.
    const r = spawnSync(
      "git",
      [
        "grep",
        "-l",
        "@cloud-copilot/iam-simulate",
        "--",
        "ops",
        "components",
        "stacks",
        "functions",
        "index.ts",
        "policy-pack",
        "bench",
        ":(exclude)ops/twin",
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    expect({ status: r.status, files: r.stdout.trim() }).toEqual({ status: 1, files: "" });
  });
});
