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
const cases: (OracleCase & { expected: Expect })[] = [
  // cross-account secret + CMK chain
  {
    name: "cross-account secret: identity and resource policy allow",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_B, resourceAccount: B },
    policies: { identity: [readerIdentity], resource: secretPolicy },
  },
  {
    name: "cross-account secret: resource policy names another role",
    expected: "ImplicitlyDenied",
    request: { principal: OTHER_ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_B, resourceAccount: B },
    policies: { identity: [readerIdentity], resource: secretPolicy },
  },
  {
    name: "cross-account secret: no identity allow",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_B, resourceAccount: B },
    policies: { identity: [], resource: secretPolicy },
  },
  {
    name: "cross-account secret: no resource policy",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_B, resourceAccount: B },
    policies: { identity: [readerIdentity] },
  },
  {
    name: "cross-account KMS decrypt via Secrets Manager",
    expected: "Allowed",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_B, resourceAccount: B, context: VIA_SM },
    policies: { identity: [readerIdentity], resource: keyPolicy },
  },
  {
    name: "cross-account KMS decrypt directly (no kms:ViaService)",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_B, resourceAccount: B },
    policies: { identity: [readerIdentity], resource: keyPolicy },
  },
  {
    name: "cross-account KMS decrypt via another service",
    expected: "ImplicitlyDenied",
    request: {
      principal: ROLE,
      action: "kms:Decrypt",
      resource: KEY_B,
      resourceAccount: B,
      context: { "kms:ViaService": "s3.ap-northeast-1.amazonaws.com" },
    },
    policies: { identity: [readerIdentity], resource: keyPolicy },
  },
  {
    name: "cross-account KMS: key policy lacks the reader statement",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_B, resourceAccount: B, context: VIA_SM },
    policies: { identity: [readerIdentity], resource: doc(grant({ AWS: `arn:aws:iam::${B}:root` }, "kms:*")) },
  },
  {
    name: "cross-account KMS: identity lacks kms:Decrypt",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_B, resourceAccount: B, context: VIA_SM },
    policies: { identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_B))], resource: keyPolicy },
  },
  {
    name: "cross-account KMS Encrypt not granted",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "kms:Encrypt", resource: KEY_B, resourceAccount: B, context: VIA_SM },
    policies: { identity: [readerIdentity], resource: keyPolicy },
  },
  // same-account KMS
  {
    name: "same-account KMS: root in key policy + identity allow",
    expected: "Allowed",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_A, resourceAccount: A },
    policies: {
      identity: [doc(allow("kms:Decrypt", KEY_A))],
      resource: doc(grant({ AWS: `arn:aws:iam::${A}:root` }, "kms:*")),
    },
  },
  {
    name: "same-account KMS: key policy without the account, identity allows",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_A, resourceAccount: A },
    policies: { identity: [doc(allow("kms:Decrypt", KEY_A))], resource: doc(grant({ AWS: OTHER_ROLE }, "kms:*")) },
  },
  {
    name: "same-account KMS: key policy names the role, no identity",
    expected: "Allowed",
    request: { principal: ROLE, action: "kms:Decrypt", resource: KEY_A, resourceAccount: A },
    policies: { identity: [], resource: doc(grant({ AWS: ROLE }, "kms:Decrypt")) },
  },
  // same-account identity / resource
  {
    name: "same-account secret by identity only",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: { identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_A))] },
  },
  {
    name: "same-account another secret",
    expected: "ImplicitlyDenied",
    request: {
      principal: ROLE,
      action: "secretsmanager:GetSecretValue",
      resource: SECRET_A.replace("token", "other"),
      resourceAccount: A,
    },
    policies: { identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_A))] },
  },
  {
    name: "same-account resource policy naming the role suffices",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: { identity: [], resource: doc(grant({ AWS: ROLE }, "secretsmanager:GetSecretValue")) },
  },
  {
    name: "explicit deny in identity wins over allow",
    expected: "ExplicitlyDenied",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: { identity: [doc(allow("secretsmanager:*", "*"), deny("secretsmanager:GetSecretValue", SECRET_A))] },
  },
  {
    name: "explicit deny in resource policy wins",
    expected: "ExplicitlyDenied",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: {
      identity: [doc(allow("secretsmanager:GetSecretValue", SECRET_A))],
      resource: doc({ Effect: "Deny", Principal: "*", Action: "secretsmanager:*", Resource: "*" }),
    },
  },
  {
    name: "wildcard action and case-insensitive action match",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: { identity: [doc(allow("SecretsManager:get*", SECRET_A))] },
  },
  {
    name: "NotAction allow",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: { identity: [doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })] },
  },
  {
    name: "NotAction excludes iam:PassRole",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "iam:PassRole", resource: `arn:aws:iam::${A}:role/x`, resourceAccount: A },
    policies: { identity: [doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })] },
  },
  // S3 prefixes and TLS
  {
    name: "s3 object under the prefix",
    expected: "Allowed",
    request: {
      principal: ROLE,
      action: "s3:PutObject",
      resource: `${BUCKET}/raw/saas/dt=1/p.ndjson`,
      resourceAccount: A,
    },
    policies: { identity: [doc(allow("s3:PutObject", `${BUCKET}/raw/saas/*`))] },
  },
  {
    name: "s3 object under another prefix",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "s3:PutObject", resource: `${BUCKET}/other/p.ndjson`, resourceAccount: A },
    policies: { identity: [doc(allow("s3:PutObject", `${BUCKET}/raw/saas/*`))] },
  },
  {
    name: "s3:ListBucket with StringLike s3:prefix",
    expected: "Allowed",
    request: {
      principal: ROLE,
      action: "s3:ListBucket",
      resource: BUCKET,
      resourceAccount: A,
      context: { "s3:prefix": "raw/saas/dt=1/" },
    },
    policies: { identity: [doc(allow("s3:ListBucket", BUCKET, { StringLike: { "s3:prefix": ["raw/saas/*"] } }))] },
  },
  {
    name: "s3:ListBucket of another prefix",
    expected: "ImplicitlyDenied",
    request: {
      principal: ROLE,
      action: "s3:ListBucket",
      resource: BUCKET,
      resourceAccount: A,
      context: { "s3:prefix": "other/" },
    },
    policies: { identity: [doc(allow("s3:ListBucket", BUCKET, { StringLike: { "s3:prefix": ["raw/saas/*"] } }))] },
  },
  {
    name: "bucket policy denies plain HTTP (Bool aws:SecureTransport false)",
    expected: "ExplicitlyDenied",
    request: {
      principal: ROLE,
      action: "s3:PutObject",
      resource: `${BUCKET}/raw/x`,
      resourceAccount: A,
      context: { "aws:SecureTransport": "false" },
    },
    policies: {
      identity: [doc(allow("s3:PutObject", `${BUCKET}/*`))],
      resource: doc({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [BUCKET, `${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    },
  },
  {
    name: "bucket policy TLS deny does not hit HTTPS",
    expected: "Allowed",
    request: {
      principal: ROLE,
      action: "s3:PutObject",
      resource: `${BUCKET}/raw/x`,
      resourceAccount: A,
      context: { "aws:SecureTransport": "true" },
    },
    policies: {
      identity: [doc(allow("s3:PutObject", `${BUCKET}/*`))],
      resource: doc({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [BUCKET, `${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    },
  },
  // API Gateway private API: endpoint allowlist with StringNotEquals deny
  ...(["vpce-1", "vpce-2"] as const).map((vpce) => ({
    name: `private API invoked through ${vpce}`,
    expected: (vpce === "vpce-1" ? "Allowed" : "ExplicitlyDenied") as Expect,
    request: {
      principal: ROLE,
      action: "execute-api:Invoke",
      resource: API,
      resourceAccount: A,
      context: { "aws:SourceVpce": vpce },
    },
    policies: {
      identity: [],
      resource: doc(
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
      ),
    },
  })),
  {
    name: "private API invoked without an endpoint (StringNotEquals on a missing key)",
    expected: "ExplicitlyDenied",
    request: { principal: ROLE, action: "execute-api:Invoke", resource: API, resourceAccount: A },
    policies: {
      identity: [],
      resource: doc(
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
      ),
    },
  },
  // Conditions: ArnLike wildcard, IpAddress, IfExists
  {
    name: "ArnLike on aws:PrincipalArn with a wildcard",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_B, resourceAccount: B },
    policies: {
      identity: [readerIdentity],
      resource: doc(
        grant({ AWS: A }, "secretsmanager:GetSecretValue", {
          ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/wr*` },
        }),
      ),
    },
  },
  {
    name: "IpAddress in range",
    expected: "Allowed",
    request: {
      principal: ROLE,
      action: "secretsmanager:GetSecretValue",
      resource: SECRET_A,
      resourceAccount: A,
      context: { "aws:SourceIp": "203.0.113.7" },
    },
    policies: {
      identity: [
        doc(allow("secretsmanager:GetSecretValue", SECRET_A, { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } })),
      ],
    },
  },
  {
    name: "IpAddress out of range",
    expected: "ImplicitlyDenied",
    request: {
      principal: ROLE,
      action: "secretsmanager:GetSecretValue",
      resource: SECRET_A,
      resourceAccount: A,
      context: { "aws:SourceIp": "198.51.100.7" },
    },
    policies: {
      identity: [
        doc(allow("secretsmanager:GetSecretValue", SECRET_A, { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } })),
      ],
    },
  },
  {
    name: "StringEqualsIfExists on a missing key",
    expected: "Allowed",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: {
      identity: [
        doc(allow("secretsmanager:GetSecretValue", SECRET_A, { StringEqualsIfExists: { "aws:SourceVpce": "vpce-1" } })),
      ],
    },
  },
  {
    name: "StringEquals on a missing key",
    expected: "ImplicitlyDenied",
    request: { principal: ROLE, action: "secretsmanager:GetSecretValue", resource: SECRET_A, resourceAccount: A },
    policies: {
      identity: [
        doc(allow("secretsmanager:GetSecretValue", SECRET_A, { StringEquals: { "aws:SourceVpce": "vpce-1" } })),
      ],
    },
  },
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
