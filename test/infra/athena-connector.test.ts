/**
 * AthenaFederatedCatalog under the kit's strict mocks: the catalog points at the connector, only Athena may invoke
 * it and only for that catalog, the bucket is private, encrypted, TLS-only and short-lived, the workgroup writes its
 * results there, the function's IAM and egress are exactly what it needs, and bad input fails before anything is
 * registered.
 */
import * as aws from "@pulumi/aws";
import { KitMocks, resolveOutputs } from "../../ops/mocks";
import { AthenaFederatedCatalog, AthenaFederatedCatalogArgs } from "../../components/athena-connector";
import { GraphView, policyDoc } from "../support/graph";

const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "123456789012" });
beforeAll(() => mocks.install("vpc-lambda-kit", "athena"));

const view = () => new GraphView({ project: "p", stack: "s", resources: mocks.resources, outputs: {} });

const TABLES: AthenaFederatedCatalogArgs["tables"] = [
  {
    name: "customers",
    url: "https://api.example.com/v1/customers?limit=100",
    pagination: "page:page",
    recordsPath: "data.items",
    splits: 4,
    columns: [
      { name: "id", type: "bigint", filter: { min: "id_min" } },
      { name: "email", type: "string" },
      { name: "updated_at", type: "timestamp", path: "meta.updatedAt", filter: { min: "updated_since" } },
    ],
  },
];

function args(over: Partial<AthenaFederatedCatalogArgs> = {}): AthenaFederatedCatalogArgs {
  return {
    catalogName: "saas_live",
    tables: TABLES,
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    proxy: {
      flow: {
        to: { kind: "securityGroup", securityGroupId: "sg-proxy", name: "proxy tier" },
        port: 3128,
        purpose: "SaaS API through the Squid proxy tier",
      },
      proxyUrl: "http://internal-egress-proxy-1.ap-northeast-1.elb.amazonaws.com:3128",
      headerName: "X-Lambda-Proxy-Token",
      headerSecretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:proxy-header-abcdef",
    },
    secretsManagerFlow: {
      to: { kind: "awsService", service: "secretsmanager", endpointSecurityGroupId: "sg-endpoints" },
      port: 443,
      purpose: "read the proxy header and SaaS credential",
    },
    s3PrefixListId: "pl-s3",
    authSecretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-token-123456",
    ...over,
  };
}

describe("AthenaFederatedCatalog", () => {
  let catalog: AthenaFederatedCatalog;
  let mine: typeof mocks.resources;

  beforeAll(async () => {
    const provider = new aws.Provider("athena-provider", { region: "ap-northeast-1" });
    const before = mocks.resources.length;
    catalog = new AthenaFederatedCatalog(
      "live",
      args({ forceDestroy: true, bytesScannedCutoffPerQuery: 1_073_741_824 }),
      { provider },
    );
    await resolveOutputs([catalog.catalogArn, catalog.queryPolicy, catalog.workgroupName]);
    await mocks.settle();
    mine = mocks.resources.slice(before).filter((r) => r.type !== "pulumi:providers:aws");
  });

  test("every child is named live-…, parented under the component, with its provider", () => {
    const v = view();
    expect(mine.length).toBeGreaterThan(12);
    for (const r of mine) {
      expect(r.name.startsWith("live")).toBe(true);
      if (r.type === "vpc-lambda-kit:athena:AthenaFederatedCatalog") continue;
      expect(r.name.startsWith("live-")).toBe(true);
      expect(v.ancestors(r)).toContain("live");
      if (r.custom) expect(v.providerName(r)).toBe("athena-provider");
    }
  });

  test("a LAMBDA data catalog points at the connector function", async () => {
    const c = view().one("aws:athena/dataCatalog:DataCatalog", "live-catalog");
    const fn = view().one("aws:lambda/function:Function", "live-connector-fn");
    expect(c.inputs).toMatchObject({ name: "saas_live", type: "LAMBDA" });
    expect((c.inputs.parameters as Record<string, string>).function).toMatch(
      /^arn:aws:lambda:ap-northeast-1:123456789012:function:live-connector-fn-/,
    );
    expect((c.inputs.parameters as Record<string, string>).function).toContain(
      String(fn.inputs.name ?? "live-connector-fn"),
    );
    expect(await resolveOutputs(catalog.catalogArn)).toBe(
      "arn:aws:athena:ap-northeast-1:123456789012:datacatalog/saas_live",
    );
  });

  test("only athena.amazonaws.com may invoke, and only for this catalog", () => {
    const perms = mine.filter((r) => r.type === "aws:lambda/permission:Permission");
    expect(perms).toHaveLength(1);
    expect(perms[0].inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "athena.amazonaws.com",
      sourceArn: "arn:aws:athena:ap-northeast-1:123456789012:datacatalog/saas_live",
    });
    expect(String(perms[0].inputs.function)).toMatch(/^live-connector-fn-/);
  });

  test("the bucket: public access blocked, SSE by default, TLS-only policy, spill and results expire", () => {
    const v = view();
    expect(v.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "live-bucket-pab").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      v.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "live-bucket-sse")
        .inputs.rules,
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    const policy = policyDoc(v.one("aws:s3/bucketPolicy:BucketPolicy", "live-bucket-tls"));
    const bucket = v.one("aws:s3/bucket:Bucket", "live-bucket");
    expect(bucket.inputs.forceDestroy).toBe(true);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
        Resource: [
          expect.stringMatching(/^arn:aws:s3:::live-bucket-/),
          expect.stringMatching(/^arn:aws:s3:::live-bucket-.*\/\*$/),
        ],
      }),
    ]);
    expect(
      v.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "live-bucket-lifecycle").inputs.rules,
    ).toEqual([
      {
        id: "expire-spill",
        status: "Enabled",
        filter: { prefix: "athena-spill/" },
        expiration: { days: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
      {
        id: "expire-results",
        status: "Enabled",
        filter: { prefix: "athena-results/" },
        expiration: { days: 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ]);
  });

  test("the workgroup enforces its configuration and writes encrypted results to the bucket", () => {
    const wg = view().one("aws:athena/workgroup:Workgroup", "live-workgroup");
    expect(wg.inputs).toMatchObject({ name: "saas_live", forceDestroy: true });
    expect(wg.inputs.configuration).toMatchObject({
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: 1_073_741_824,
      resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_S3" } },
    });
    expect(
      (wg.inputs.configuration as { resultConfiguration: { outputLocation: string } }).resultConfiguration
        .outputLocation,
    ).toMatch(/^s3:\/\/live-bucket-[0-9a-f]+\/athena-results\/$/);
  });

  test("the function: least-privilege inline policy, exactly three egress rules, tables and spill location in its environment", () => {
    const v = view();
    const doc = policyDoc(v.one("aws:iam/rolePolicy:RolePolicy", "live-connector-policy"));
    const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid)).toEqual(["VpcEni", "Logs", "ReadSecrets", "WriteSpill"]);
    expect(bySid.ReadSecrets).toMatchObject({
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [args().proxy.headerSecretArn, args().authSecretArn],
    });
    expect(bySid.WriteSpill.Action).toEqual(["s3:PutObject"]);
    expect(bySid.WriteSpill.Resource).toMatch(/^arn:aws:s3:::live-bucket-[0-9a-f]+\/athena-spill\/\*$/);
    const egress = mine.filter((r) => r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    expect(egress.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId ?? r.inputs.prefixListId])).toEqual(
      [
        [3128, "sg-proxy"],
        [443, "sg-endpoints"],
        [443, "pl-s3"],
      ],
    );
    const fn = v.one("aws:lambda/function:Function", "live-connector-fn");
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(JSON.parse(env.ATHENA_TABLES)).toEqual(TABLES);
    expect(env).toMatchObject({
      SCHEMA_NAME: "saas",
      SPILL_PREFIX: "athena-spill/",
      PROXY_HEADER_NAME: "X-Lambda-Proxy-Token",
      SAAS_AUTH_SECRET_ID: args().authSecretArn,
    });
    expect(env.SPILL_BUCKET).toMatch(/^live-bucket-/);
    expect(JSON.stringify(env)).not.toMatch(/secretString|headerValue/);
    expect(fn.inputs).toMatchObject({ memorySize: 1024, timeout: 900 });
  });

  test("the query policy lets an analyst use only this workgroup, catalog, function and prefixes", async () => {
    const doc = JSON.parse((await resolveOutputs(catalog.queryPolicy)) as string) as {
      Statement: { Sid: string; Resource: string }[];
    };
    const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s.Resource]));
    expect(bySid.RunQueries).toBe("arn:aws:athena:ap-northeast-1:123456789012:workgroup/saas_live");
    expect(bySid.UseCatalog).toBe("arn:aws:athena:ap-northeast-1:123456789012:datacatalog/saas_live");
    expect(bySid.InvokeConnector).toMatch(/:function:live-connector-fn-/);
    expect(bySid.ReadSpill).toMatch(/\/athena-spill\/\*$/);
    expect(bySid.Results).toMatch(/\/athena-results\/\*$/);
  });
});

describe("AthenaFederatedCatalog validation", () => {
  const refused = (over: Partial<AthenaFederatedCatalogArgs>) => {
    const before = mocks.resources.length;
    let message = "";
    try {
      new AthenaFederatedCatalog("bad", args(over));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(mocks.resources.length).toBe(before);
    return message;
  };

  test("a catalog name AWS rejects, or the built-in one", () => {
    expect(refused({ catalogName: "saas live!" })).toMatch(
      /^bad\.catalogName: "saas live!" is not a data catalog name Athena accepts\. Fix: use 1-127 letters, digits, '_', '@' or '-'/,
    );
    expect(refused({ catalogName: "x".repeat(128) })).toMatch(/bad\.catalogName/);
    expect(refused({ catalogName: "AwsDataCatalog" })).toMatch(/not awsdatacatalog, the built-in Glue catalog/);
  });

  test("table names Athena cannot query, tables without columns, unknown column types — all at once", () => {
    const msg = refused({
      tables: [
        { ...TABLES[0], name: "Customers" },
        { ...TABLES[0], name: "orders", columns: [] },
        { ...TABLES[0], name: "plans", columns: [{ name: "price", type: "decimal" as never }] },
      ],
    });
    expect(msg).toMatch(/^invalid configuration \(3 problems\)/);
    expect(msg).toContain('bad.tables[0].name: "Customers" is not a name Athena can query: use lower case letters');
    expect(msg).toContain("bad.tables[1].columns: is empty: declare the columns Athena should see");
    expect(msg).toContain(
      'bad.tables[2].columns[0].type: "decimal" is not a supported column type: use one of string, int, bigint, double, boolean, timestamp, date',
    );
  });

  test("pagination, splits and filters that cannot work are named", () => {
    const msg = refused({
      tables: [
        { ...TABLES[0], pagination: "cursor:next:cursor", splits: 4 },
        { ...TABLES[0], name: "b", url: "https://api.example.com/v1/b?id_min=3" },
        { ...TABLES[0], name: "c", pagination: "pages" },
      ],
    });
    expect(msg).toContain("bad.tables[0].splits: is 4, but only page:<param> pagination can be read in parallel");
    expect(msg).toContain('bad.tables[1].columns[0].filter.min: "id_min" is already set in bad.tables[1].url');
    expect(msg).toContain('bad.tables[2].pagination: "pages" is not a pagination style');
    expect(msg).toMatch(/^invalid configuration \(3 problems\)/);
  });

  test("prefixes, expirations, workgroup name and scan cutoff", () => {
    expect(refused({ spillPrefix: "/spill" })).toMatch(/bad\.spillPrefix: "\/spill" is not a key prefix/);
    expect(refused({ spillPrefix: "athena/", resultPrefix: "athena/results/" })).toMatch(
      /bad\.resultPrefix: spill prefix "athena\/" and result prefix "athena\/results\/" overlap/,
    );
    expect(refused({ spillExpirationDays: 0 })).toMatch(/bad\.spillExpirationDays: 0 is not a number of days/);
    expect(refused({ workgroupName: "my workgroup" })).toMatch(
      /bad\.workgroupName: "my workgroup" is not a workgroup name/,
    );
    expect(refused({ bytesScannedCutoffPerQuery: 1000 })).toMatch(
      /bad\.bytesScannedCutoffPerQuery: 1000 is below Athena's minimum/,
    );
    expect(refused({ schemaName: "SaaS" })).toMatch(/bad\.schemaName: "SaaS" is not a lower-case Athena database name/);
  });
});
