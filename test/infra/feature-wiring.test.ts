/**
 * The dev stack's wiring of the Athena connector, kintone-sync's position table and saas-export's publishing, under
 * the kit's strict mocks (synthForTest), plus the config errors each feature raises before anything is registered.
 */
import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { configErrorsOf } from "../support/config-errors";
import { admittedPorts, egressOf, egressTargets } from "../support/sg-rules";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const FN = "aws:lambda/function:Function";
const POLICY = "aws:iam/rolePolicy:RolePolicy";

let g: GraphView;
beforeAll(async () => {
  g = (await synthForTest("dev")).view;
});

const network = () => g.graph.outputs.network as Record<string, string>;
const apps = () => g.graph.outputs.apps as Record<string, Record<string, string>>;

describe("Athena connector in the dev stack", () => {
  test("the catalog is created from config and its names, bucket and analysts' policy are exported", () => {
    const catalog = g.one("aws:athena/dataCatalog:DataCatalog", "athena-connector-catalog");
    expect(catalog.inputs).toMatchObject({ name: "saas_live", type: "LAMBDA" });
    const out = apps().athenaConnector;
    expect(out.catalogName).toBe("saas_live");
    expect(out.workgroupName).toBe("saas_live");
    // A bucket's id is its name.
    expect(out.bucketName).toBe(g.one("aws:s3/bucket:Bucket", "athena-connector-bucket").id);
    const doc = JSON.parse(out.queryPolicy) as { Statement: { Sid: string; Action: string[] }[] };
    expect(doc.Statement.find((s) => s.Sid === "InvokeConnector")!.Action).toEqual(["lambda:InvokeFunction"]);
  });

  test("the connector's tables, schema and proxy come from config", () => {
    const fn = g.one(FN, "athena-connector-connector-fn");
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    const tables = JSON.parse(env.ATHENA_TABLES);
    expect(tables.map((t: { name: string }) => t.name)).toEqual(["items"]);
    expect(tables[0].url).toBe("https://api.example-saas.com/v1/items");
    expect(env.SCHEMA_NAME).toBe("saas");
    expect(env.PROXY_URL).toBe(apps().proxyTier.proxyUrl);
    expect(env.SAAS_AUTH_SECRET_ID).toBe(g.one("aws:secretsmanager/secret:Secret", "athena-connector-auth").id);
  });

  test("egress: the proxy, Secrets Manager's endpoint and S3's prefix list, nothing else; the proxy and endpoints admit it", () => {
    const sg = g.one(SG, "athena-connector-connector-sg");
    const lbSg = g.byId(apps().proxyTier.securityGroupId);
    const endpointsSg = g.one(SG, "endpoints-sg");
    expect(egressTargets(g, sg)).toEqual(
      [
        [3128, lbSg.id],
        [443, network().s3PrefixListId],
        [443, endpointsSg.id],
      ].sort(),
    );
    expect(admittedPorts(g, lbSg, sg)).toEqual([3128]);
    expect(admittedPorts(g, endpointsSg, sg)).toEqual([443]);
  });
});

describe("kintone-sync's position table", () => {
  test("a DynamoDB table keyed by id (String), on demand, encrypted; no point-in-time recovery in dev", () => {
    const t = g.one("aws:dynamodb/table:Table", "kintone-sync-positions");
    expect(t.inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: false },
    });
  });

  test("the function gets the table's name and GetItem/PutItem on that table only", () => {
    const t = g.one("aws:dynamodb/table:Table", "kintone-sync-positions");
    const env = (g.one(FN, "kintone-sync-fn").inputs.environment as { variables: Record<string, string> }).variables;
    // DynamoDB names a table by its id (ops/mocks.ts keeps that).
    expect(env.KINTONE_CHECKPOINT_TABLE).toBe(t.id);
    expect(env.KINTONE_CHECKPOINT_TABLE).toMatch(/^kintone-sync-positions-[0-9a-f]{7}$/);
    const doc = policyDoc(g.one(POLICY, "kintone-sync-policy"));
    const dynamo = doc.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith("dynamodb:")));
    expect(dynamo).toHaveLength(1);
    expect([dynamo[0].Action].flat().sort()).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
    expect(dynamo[0].Resource).toBe(`arn:aws:dynamodb:ap-northeast-1:111111111111:table/${t.id}`);
  });

  test("a DynamoDB gateway endpoint on the private route tables, and egress 443 to its prefix list", () => {
    const ep = g
      .all("aws:ec2/vpcEndpoint:VpcEndpoint")
      .find((e) => e.inputs.vpcEndpointType === "Gateway" && String(e.inputs.serviceName).endsWith(".dynamodb"));
    expect(ep).toBeDefined();
    expect([...(ep!.inputs.routeTableIds as string[])].sort()).toEqual(
      [...(network().privateRouteTableIds as unknown as string[])].sort(),
    );
    expect(network().dynamodbPrefixListId).toMatch(/^pl-/);
    const sg = g.one(SG, "kintone-sync-sg");
    const toDynamo = egressOf(g, sg).filter((r) => r.inputs.prefixListId === network().dynamodbPrefixListId);
    expect(toDynamo.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort])).toEqual([["tcp", 443, 443]]);
  });
});

describe("saas-export publishing", () => {
  test("the Glue table reads current/ through symlink files, SerDe unchanged", () => {
    const t = g.one("aws:glue/catalogTable:CatalogTable", "saas-export-table");
    const bucket = apps().saasExport.bucket;
    const sd = t.inputs.storageDescriptor as Record<string, any>;
    expect(sd.location).toBe(`s3://${bucket}/raw/saas/current/`);
    expect(sd.inputFormat).toBe("org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat");
    expect(sd.serDeInfo.serializationLibrary).toBe("org.openx.data.jsonserde.JsonSerDe");
    expect((t.inputs.parameters as Record<string, string>)["storage.location.template"]).toBe(
      `s3://${bucket}/raw/saas/current/dt=\${dt}/`,
    );
  });

  test("the role reads (GetObject) and writes under the prefix only; the publishing knobs reach the function", () => {
    const bucket = apps().saasExport.bucket;
    const doc = policyDoc(g.one(POLICY, "saas-export-policy"));
    const get = doc.Statement.filter((s) => [s.Action].flat().includes("s3:GetObject"));
    expect(get.map((s) => s.Resource)).toEqual([`arn:aws:s3:::${bucket}/raw/saas/*`]);
    const env = (g.one(FN, "saas-export-fn").inputs.environment as { variables: Record<string, string> }).variables;
    expect(env).toMatchObject({ PUBLISH_MIN_SHARE: "0.9", SAAS_EMPTY_LAST_PAGE: "anomaly" });
  });
});

describe("config errors name the key and the fix", () => {
  const DEV_TABLE = {
    name: "items",
    url: "https://api.example-saas.com/v1/items",
    columns: [{ name: "id", type: "string" }],
  };
  const athena = (over: Record<string, unknown>) => ({
    "vpc-lambda-kit:athenaConnector": { catalogName: "saas_live", tables: [DEV_TABLE], ...over },
  });

  test.each([
    [
      "the connector without a proxy tier",
      { ...athena({}), "vpc-lambda-kit:proxyTier": undefined, "vpc-lambda-kit:saasExport": undefined },
      /^vpc-lambda-kit:proxyTier: athenaConnector reads the SaaS through the proxy tier, which is not configured\. Fix: add proxyTier/,
    ],
    [
      "a table host the proxy refuses",
      athena({ tables: [{ ...DEV_TABLE, url: "https://other.example.net/x" }] }),
      /^vpc-lambda-kit:athenaConnector\.tables\[0\]\.url: host other\.example\.net is not on proxyTier\.allowedDomains.*Fix: add "other\.example\.net" to vpc-lambda-kit:proxyTier\.allowedDomains/,
    ],
    [
      "an unknown column type",
      athena({ tables: [{ ...DEV_TABLE, columns: [{ name: "id", type: "uuid" }] }] }),
      /^vpc-lambda-kit:athenaConnector\.tables\[0\]\.columns\[0\]\.type: "uuid" is not a supported column type: use one of string, int/,
    ],
    [
      "an upper-case table name",
      athena({ tables: [{ ...DEV_TABLE, name: "Items" }] }),
      /^vpc-lambda-kit:athenaConnector\.tables\[0\]\.name: "Items" is not a name Athena can query: use lower case/,
    ],
    [
      "a table without columns",
      athena({ tables: [{ ...DEV_TABLE, columns: [] }] }),
      /^vpc-lambda-kit:athenaConnector\.tables\[0\]\.columns: is empty/,
    ],
    [
      "a catalog name Athena rejects",
      athena({ catalogName: "saas live!" }),
      /^vpc-lambda-kit:athenaConnector\.catalogName: "saas live!" is not a data catalog name Athena accepts\. Fix: use 1-127 letters/,
    ],
    [
      "the built-in catalog's name",
      athena({ catalogName: "AwsDataCatalog" }),
      /^vpc-lambda-kit:athenaConnector\.catalogName: "AwsDataCatalog" is not a data catalog name/,
    ],
    [
      "kintone-sync without the DynamoDB gateway endpoint",
      {
        "vpc-lambda-kit:network": {
          cidrBlock: "10.0.0.0/16",
          availabilityZones: 2,
          interfaceEndpoints: ["secretsmanager", "execute-api"],
          gatewayEndpoints: ["s3"],
        },
      },
      /^vpc-lambda-kit:network\.gatewayEndpoints: kintoneSync keeps its sync position in DynamoDB.*Fix: add dynamodb to network\.gatewayEndpoints/,
    ],
    [
      "a publish share above 1",
      {
        "vpc-lambda-kit:saasExport": {
          url: "https://api.example-saas.com/v1/items",
          columns: [{ name: "id", type: "string" }],
          publishMinShare: 1.5,
        },
      },
      /^vpc-lambda-kit:saasExport\.publishMinShare: .*Fix: /,
    ],
    [
      "an unknown empty-last-page mode",
      {
        "vpc-lambda-kit:saasExport": {
          url: "https://api.example-saas.com/v1/items",
          columns: [{ name: "id", type: "string" }],
          emptyLastPage: "ignore",
        },
      },
      /^vpc-lambda-kit:saasExport\.emptyLastPage: .*Fix: use one of the allowed values/,
    ],
  ])("%s", (_label, patch, expected) => {
    expect(configErrorsOf(patch as Record<string, unknown>)).toEqual(
      expect.arrayContaining([expect.stringMatching(expected)]),
    );
  });

  test("a valid connector table on an allowed subdomain entry passes", () => {
    const patch = {
      ...athena({ tables: [{ ...DEV_TABLE, url: "https://eu.api.example-saas.com/v1/items" }] }),
      "vpc-lambda-kit:proxyTier": { allowedDomains: [".example-saas.com"] },
    };
    expect(configErrorsOf(patch)).toEqual([]);
  });
});
