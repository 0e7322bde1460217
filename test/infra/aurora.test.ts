import * as path from "path";
import { KitMocks, resolveOutputs, RecordedResource } from "../../ops/mocks";
import { AuroraPostgres, DEFAULT_AURORA_POSTGRES_VERSION, planAuroraPostgres } from "../../components/aurora-postgres";
import { ConfigError, ConfigErrors } from "../../components/errors";
import { loadConfig } from "../../stacks/config/load";
import { readStackConfig } from "../../ops/stack-config";
import { REPO_ROOT } from "../../components/bundle";
import { kmsKeyArn, secretKeyStatements, secretPolicyStatements } from "../support/db-secret";

// AuroraPostgres used directly under strict mocks, and the data.database / dbWriter config rules.
const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "222222222222" });
beforeAll(() => mocks.install("vpc-lambda-kit", "aurora"));

const CLUSTER = "aws:rds/cluster:Cluster";
const INSTANCE = "aws:rds/clusterInstance:ClusterInstance";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const base = { vpcId: "vpc-0data", subnetGroupName: "data-db-subnets" };

async function build(
  make: () => AuroraPostgres,
): Promise<{ db: AuroraPostgres; mine: RecordedResource[]; of: (type: string) => RecordedResource[] }> {
  const before = mocks.resources.length;
  const db = make();
  await resolveOutputs([db.clusterArn, db.masterSecretArn, db.securityGroupId, db.secretKmsKeyArn]);
  await mocks.settle();
  const mine = mocks.resources.slice(before);
  return { db, mine, of: (type) => mine.filter((r) => r.type === type) };
}

describe("AuroraPostgres", () => {
  test("defaults: Serverless v2 0.5–4 ACU, encrypted, TLS-only, 7 days of backups, Data API on, RDS-managed master password", async () => {
    const { db, of } = await build(() => new AuroraPostgres("db", base));
    const [cluster] = of(CLUSTER);
    const sg = of(SG)[0];
    const params = of("aws:rds/clusterParameterGroup:ClusterParameterGroup")[0];
    expect(cluster.inputs).toEqual({
      clusterIdentifier: "vpc-lambda-kit-aurora-db",
      engine: "aurora-postgresql",
      engineMode: "provisioned",
      engineVersion: DEFAULT_AURORA_POSTGRES_VERSION,
      databaseName: "app",
      masterUsername: "postgres",
      manageMasterUserPassword: true,
      port: 5432,
      dbSubnetGroupName: "data-db-subnets",
      vpcSecurityGroupIds: [sg.id],
      dbClusterParameterGroupName: expect.stringMatching(/^db-params-[0-9a-f]{7}$/),
      storageEncrypted: true,
      backupRetentionPeriod: 7,
      copyTagsToSnapshot: true,
      deletionProtection: false,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "vpc-lambda-kit-aurora-db-final",
      enableHttpEndpoint: true,
      iamDatabaseAuthenticationEnabled: false,
      enabledCloudwatchLogsExports: ["postgresql"],
      serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 },
      allowMajorVersionUpgrade: false,
      tags: { Name: "vpc-lambda-kit-aurora-db" },
    });
    expect(cluster.inputs.masterPassword).toBeUndefined();
    expect(cluster.inputs.masterUserSecretKmsKeyId).toBeUndefined();
    expect(params.inputs).toMatchObject({
      family: "aurora-postgresql16",
      parameters: [{ name: "rds.force_ssl", value: "1" }],
    });
    expect(of(INSTANCE).map((i) => i.inputs)).toEqual([
      {
        clusterIdentifier: "vpc-lambda-kit-aurora-db",
        instanceClass: "db.serverless",
        engine: "aurora-postgresql",
        engineVersion: "16.6",
        dbSubnetGroupName: "data-db-subnets",
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        promotionTier: 0,
        tags: { Name: "vpc-lambda-kit-aurora-db-0" },
      },
    ]);
    // RDS would create this log group with no expiry; it exists first, with a retention.
    expect(of("aws:cloudwatch/logGroup:LogGroup").map((l) => l.inputs)).toEqual([
      { name: "/aws/rds/cluster/vpc-lambda-kit-aurora-db/postgresql", retentionInDays: 30, tags: {} },
    ]);
    const out = (await resolveOutputs({
      arn: db.clusterArn,
      endpoint: db.endpoint,
      reader: db.readerEndpoint,
      port: db.port,
      name: db.databaseName,
      secret: db.masterSecretArn,
      key: db.secretKmsKeyArn,
    })) as Record<string, unknown>;
    expect(out).toEqual({
      arn: "arn:aws:rds:ap-northeast-1:222222222222:cluster:vpc-lambda-kit-aurora-db",
      endpoint: expect.stringMatching(
        /^vpc-lambda-kit-aurora-db\.cluster-[0-9a-f]{12}\.ap-northeast-1\.rds\.amazonaws\.com$/,
      ),
      reader: expect.stringMatching(
        /^vpc-lambda-kit-aurora-db\.cluster-ro-[0-9a-f]{12}\.ap-northeast-1\.rds\.amazonaws\.com$/,
      ),
      port: 5432,
      name: "app",
      secret: expect.stringMatching(
        /^arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:rds!cluster-[0-9a-f-]{36}-[0-9a-f]{6}$/,
      ),
      key: "",
    });
  });

  test("its security group admits nothing until told, then exactly the database port from each allowed source", async () => {
    const { db, mine } = await build(() => new AuroraPostgres("closed", base));
    const sg = mine.find((r) => r.type === SG)!;
    expect(sg.inputs.ingress ?? []).toEqual([]);
    expect(sg.inputs.egress ?? []).toEqual([]);
    expect(mine.filter((r) => r.type === INGRESS)).toEqual([]);
    const before = mocks.resources.length;
    db.allowFromCidr("10.0.0.0/16", "PostgreSQL from account A");
    db.allowFrom("sg-0connector", "appflow connector");
    await mocks.settle();
    const rules = mocks.resources.slice(before).filter((r) => r.type === INGRESS);
    expect(rules.map((r) => [r.name, r.inputs])).toEqual([
      // Named after the peer and the port (components/ingress.ts); earlier names are aliases.
      [
        "closed-from-cidr-10-0-0-0-16-5432",
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          cidrIpv4: "10.0.0.0/16",
          description: "PostgreSQL from account A",
        },
      ],
      [
        "closed-from-sg-0connector-5432",
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          referencedSecurityGroupId: "sg-0connector",
          description: "appflow connector",
        },
      ],
    ]);
    expect(() => db.allowFromCidr("0.0.0.0/0", "everyone")).toThrow(
      /closed\.allowFromCidr: 0\.0\.0\.0\/0 would admit every address/,
    );
    expect(() => db.allowFromCidr("10.0.0.1/16", "bad")).toThrow(
      /closed\.allowFromCidr: "10\.0\.0\.1\/16" has host bits set/,
    );
    expect(() => db.allowFromCidr("10.0.0.0/16", "again")).toThrow(/already allowed/);
  });

  test("a provisioned class gets no ACU range; instances, port and protection follow the arguments", async () => {
    const { of, db } = await build(
      () =>
        new AuroraPostgres("prov", {
          ...base,
          instanceClass: "db.r7g.large",
          instanceCount: 3,
          port: 5433,
          deletionProtection: true,
          backupRetentionDays: 35,
          iamDatabaseAuthentication: true,
          clusterIdentifier: "orders",
        }),
    );
    const cluster = of(CLUSTER)[0];
    expect(cluster.inputs.serverlessv2ScalingConfiguration).toBeUndefined();
    expect(cluster.inputs).toMatchObject({
      port: 5433,
      deletionProtection: true,
      backupRetentionPeriod: 35,
      iamDatabaseAuthenticationEnabled: true,
      finalSnapshotIdentifier: "orders-final",
    });
    expect(
      of(INSTANCE).map((i) => [i.name, i.inputs.instanceClass, i.inputs.promotionTier, i.inputs.publiclyAccessible]),
    ).toEqual([
      ["prov-instance-0", "db.r7g.large", 0, false],
      ["prov-instance-1", "db.r7g.large", 1, false],
      ["prov-instance-2", "db.r7g.large", 2, false],
    ]);
    db.allowFromCidr("10.0.1.0/24", "app subnet");
    await mocks.settle();
    const rule = mocks.resources.filter((r) => r.type === INGRESS && r.name === "prov-from-cidr-10-0-1-0-24-5433")[0];
    expect([rule.inputs.fromPort, rule.inputs.toPort]).toEqual([5433, 5433]);
  });

  test("skipFinalSnapshot drops the final snapshot identifier; minCapacity 0 pauses after 300 s by default", async () => {
    const { of } = await build(
      () => new AuroraPostgres("zero", { ...base, minCapacity: 0, maxCapacity: 2, skipFinalSnapshot: true }),
    );
    const cluster = of(CLUSTER)[0];
    expect(cluster.inputs).toMatchObject({
      skipFinalSnapshot: true,
      serverlessv2ScalingConfiguration: { minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 300 },
    });
    expect(cluster.inputs.finalSnapshotIdentifier).toBeUndefined();
  });

  test("secret readers in another account: a rotating key of its own, decrypt only through Secrets Manager, and a secret policy naming exactly those roles", async () => {
    const reader = "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer";
    const { db, of } = await build(() => new AuroraPostgres("shared", { ...base, secretReaders: [reader] }));
    const [key] = of("aws:kms/key:Key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const sharing = { owner: "222222222222", readerAccounts: ["111111111111"], readers: [reader] };
    expect(JSON.parse(key.inputs.policy as string).Statement).toEqual(secretKeyStatements(sharing));
    const keyArn = kmsKeyArn("222222222222", key.id);
    expect(of(CLUSTER)[0].inputs.masterUserSecretKmsKeyId).toBe(keyArn);
    expect(await resolveOutputs(db.secretKmsKeyArn)).toBe(keyArn);
    const [policy] = of("aws:secretsmanager/secretPolicy:SecretPolicy");
    expect(policy.inputs.secretArn).toBe(await resolveOutputs(db.masterSecretArn));
    expect(policy.inputs.blockPublicPolicy).toBe(true);
    expect(JSON.parse(policy.inputs.policy as string).Statement).toEqual(secretPolicyStatements(sharing));
  });

  test("a key of the caller's own replaces the created one", async () => {
    const { of } = await build(
      () =>
        new AuroraPostgres("byok", {
          ...base,
          secretReaders: ["arn:aws:iam::111111111111:role/x"],
          secretKmsKeyArn: "arn:aws:kms:ap-northeast-1:222222222222:key/mine",
        }),
    );
    expect(of("aws:kms/key:Key")).toEqual([]);
    expect(of(CLUSTER)[0].inputs.masterUserSecretKmsKeyId).toBe("arn:aws:kms:ap-northeast-1:222222222222:key/mine");
    expect(of("aws:secretsmanager/secretPolicy:SecretPolicy")).toHaveLength(1);
  });

  test.each([
    [
      { minCapacity: 0.3 },
      /^bad\.minCapacity: 0\.3 ACU is not a Serverless v2 capacity\. Fix: use 0 to 256 in steps of 0\.5/,
    ],
    [{ maxCapacity: 300 }, /^bad\.maxCapacity: 300 ACU is not a Serverless v2 maximum\. Fix: use 1 to 256/],
    [{ maxCapacity: 0.5 }, /^bad\.maxCapacity: 0\.5 ACU is not a Serverless v2 maximum/],
    [
      { minCapacity: 8, maxCapacity: 4 },
      /^bad\.minCapacity: minimum 8 ACU is above maximum 4 ACU\. Fix: make minCapacity ≤ maxCapacity/,
    ],
    [
      { minCapacity: 0, engineVersion: "15.4" },
      /^bad\.minCapacity: 0 ACU \(automatic pause\) needs Aurora PostgreSQL 15\.7 or later, and the engine is 15\.4/,
    ],
    [{ minCapacity: 0, secondsUntilAutoPause: 60 }, /^bad\.secondsUntilAutoPause: 60 s is outside 300–86400/],
    [{ secondsUntilAutoPause: 600 }, /^bad\.secondsUntilAutoPause: the cluster never pauses with minCapacity 0\.5/],
    [
      { instanceClass: "db.r7g.large", maxCapacity: 8 },
      /^bad\.maxCapacity: capacity in ACUs applies to Serverless v2 only, and instanceClass is db\.r7g\.large/,
    ],
    [
      { instanceClass: "db.t4g.medium" },
      /^bad\.instanceClass: the Data API does not run on T instance classes \(db\.t4g\.medium\)/,
    ],
    [
      { engineVersion: "16" },
      /^bad\.engineVersion: "16" is not an Aurora PostgreSQL version\. Fix: give <major>\.<minor>/,
    ],
    [
      { engineVersion: "13.4" },
      /^bad\.engineVersion: Aurora PostgreSQL 13\.4 cannot run Serverless v2 \(db\.serverless\)\. Fix: use 13\.6 or later/,
    ],
    [{ engineVersion: "12.22" }, /^bad\.engineVersion: Aurora PostgreSQL 12 is past its end of standard support/],
    [{ databaseName: "postgres" }, /^bad\.databaseName: "postgres" is not a usable database name/],
    [
      { backupRetentionDays: 0 },
      /^bad\.backupRetentionDays: 0 days\. Fix: Aurora keeps automated backups for 1 to 35 days/,
    ],
    [
      { secretReaders: ["arn:aws:iam::111:role/x"] },
      /^bad\.secretReaders\[0\]: "arn:aws:iam::111:role\/x" is not an IAM role ARN/,
    ],
  ])("%j is refused before anything is registered", (args, message) => {
    const before = mocks.resources.length;
    let err: unknown;
    try {
      new AuroraPostgres("bad", { ...base, ...args });
    } catch (e) {
      err = e;
    }
    const messages = err instanceof ConfigErrors ? err.errors.map((e) => e.message) : [(err as Error)?.message];
    expect(err instanceof ConfigError || err instanceof ConfigErrors).toBe(true);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    expect(mocks.resources.length).toBe(before);
  });

  test("several argument mistakes are reported together", () => {
    expect(() => planAuroraPostgres({ minCapacity: 1000, engineVersion: "x", port: 80 }, "k.")).toThrow(ConfigErrors);
    try {
      planAuroraPostgres({ minCapacity: 1000, engineVersion: "x", port: 80 }, "k.");
    } catch (e) {
      expect((e as ConfigErrors).errors.map((x) => x.key)).toEqual(["k.engineVersion", "k.minCapacity", "k.port"]);
    }
  });
});

describe("data.database and dbWriter config", () => {
  const file = (stack: string) => readStackConfig(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)).config;
  const patched = (patch: Record<string, unknown>, stack = "dev") => {
    const all = file(stack);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete all[k];
      else all[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return all;
  };
  const errorsOf = (patch: Record<string, unknown>, stack = "dev"): string[] => {
    try {
      loadConfig(patched(patch, stack));
    } catch (e) {
      if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
      return [(e as Error).message];
    }
    return [];
  };
  const dataWith = (database: Record<string, unknown>) => ({
    "vpc-lambda-kit:data": {
      cidrBlock: "10.1.0.0/16",
      availabilityZones: 2,
      subnetCidrs: ["10.1.128.0/28", "10.1.128.16/28"],
      database,
    },
  });
  const sameAccount = {
    "vpc-lambda-kit:accounts": { a: { accountId: "111111111111" }, b: { accountId: "111111111111" } },
  };

  test("deletion protection and the final snapshot are on in prod only, by default", () => {
    const dev = loadConfig(file("dev")).database!;
    const prod = loadConfig(file("prod")).database!;
    expect([dev.aurora.deletionProtection, dev.aurora.skipFinalSnapshot]).toEqual([false, true]);
    expect([prod.aurora.deletionProtection, prod.aurora.skipFinalSnapshot]).toEqual([true, false]);
    expect(loadConfig(patched(dataWith({ deletionProtection: true }))).database!.aurora.deletionProtection).toBe(true);
  });

  test("cross-account, the database shares its secret with the pinned client roles in account A; in one account with no one", () => {
    expect(loadConfig(patched({ "vpc-lambda-kit:privateApi": undefined })).database).toMatchObject({
      crossAccount: true,
      allowedCidrs: ["10.0.0.0/16"],
      secretReaderArns: ["arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer"],
    });
    // Other account-A clients reading the secret over pg (pets-api) are added after db-writer.
    expect(loadConfig(file("dev")).database!.secretReaderArns).toEqual([
      "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer",
      "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-pets-api",
    ]);
    // The split data stack grants the same roles: its privateApi.petsApi.access (pg) says pets-api reads it too.
    expect(loadConfig(file("dev-data")).database).toMatchObject({
      crossAccount: true,
      secretReaderArns: [
        "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer",
        "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-pets-api",
      ],
    });
    expect(
      loadConfig(patched({ ...sameAccount, "vpc-lambda-kit:transitGateway": { principals: ["111111111111"] } }))
        .database,
    ).toMatchObject({ crossAccount: false, secretReaderArns: [] });
  });

  test("narrower client networks (account A's private subnets) are accepted", () => {
    expect(
      loadConfig(patched(dataWith({ allowedCidrs: ["10.0.1.0/24", "10.0.2.0/24"] }))).database!.allowedCidrs,
    ).toEqual(["10.0.1.0/24", "10.0.2.0/24"]);
  });

  test.each([
    [
      "an ACU below the step",
      { minCapacity: 0.25 },
      /^vpc-lambda-kit:data\.database\.minCapacity: 0\.25 ACU is not a Serverless v2 capacity\. Fix: /,
    ],
    [
      "a maximum above 256",
      { maxCapacity: 512 },
      /^vpc-lambda-kit:data\.database\.maxCapacity: 512 ACU is not a Serverless v2 maximum\. Fix: use 1 to 256/,
    ],
    [
      "a minimum above the maximum",
      { minCapacity: 8, maxCapacity: 2 },
      /^vpc-lambda-kit:data\.database\.minCapacity: minimum 8 ACU is above maximum 2 ACU/,
    ],
    [
      "a CIDR outside account A's network",
      { allowedCidrs: ["10.1.0.0/16"] },
      /^vpc-lambda-kit:data\.database\.allowedCidrs\[0\]: 10\.1\.0\.0\/16 is outside every network attached to the Transit Gateway \(10\.0\.0\.0\/16\).*Fix: use 10\.0\.0\.0\/16 or a subnet of it/,
    ],
    [
      "the whole internet",
      { allowedCidrs: ["0.0.0.0/0"] },
      /^vpc-lambda-kit:data\.database\.allowedCidrs\[0\]: 0\.0\.0\.0\/0 is outside every network attached/,
    ],
    [
      "a malformed CIDR",
      { allowedCidrs: ["10.0.0.0/8x"] },
      /^vpc-lambda-kit:data\.database\.allowedCidrs\[0\]: "10\.0\.0\.0\/8x" is not an IPv4 CIDR/,
    ],
    ["no CIDR at all", { allowedCidrs: [] }, /^vpc-lambda-kit:data\.database\.allowedCidrs: no network is admitted/],
    ["an unknown key", { maxAcu: 4 }, /^vpc-lambda-kit:data\.database\.maxAcu: unknown key/],
  ])("%s is refused with the key and the fix", (_label, database, expected) => {
    expect(errorsOf(dataWith(database))).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test("the Data API across accounts is refused with the reason; in one account it is accepted", () => {
    expect(errorsOf({ "vpc-lambda-kit:dbWriter": { access: "data-api" } })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:dbWriter\.access: the Data API only authorizes identities of the cluster's own account \(an RDS cluster takes no resource policy\).*Fix: use access "pg"/,
      ),
    ]);
    expect(
      errorsOf({
        ...sameAccount,
        "vpc-lambda-kit:transitGateway": { principals: ["111111111111"] },
        "vpc-lambda-kit:dbWriter": { access: "data-api" },
      }),
    ).toEqual([]);
    expect(
      errorsOf({
        ...sameAccount,
        "vpc-lambda-kit:transitGateway": { principals: ["111111111111"] },
        ...dataWith({ dataApi: false }),
        "vpc-lambda-kit:dbWriter": { access: "data-api" },
      }),
    ).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:dbWriter\.access: access is data-api but the cluster's Data API is off/),
    ]);
  });

  test("unsupported combinations name the key and the fix", () => {
    expect(errorsOf({ ...dataWith({ enabled: false }) })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:dbWriter: db-writer writes to the data role's Aurora database, which is off/,
        ),
      ]),
    );
    expect(errorsOf({ "vpc-lambda-kit:dbWriter": { timeoutSeconds: 3, connectTimeoutMs: 5000 } })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:dbWriter\.connectTimeoutMs: 5000 ms is not shorter than the function timeout \(3 s\)/,
      ),
    ]);
    // One side names its account, the other does not: whether the secret crosses accounts is unknowable.
    expect(
      errorsOf({
        "vpc-lambda-kit:accounts": { a: {}, b: { accountId: "222222222222" } },
        "vpc-lambda-kit:transitGateway": {
          principals: ["222222222222"],
          acceptShare: true,
          allowExternalPrincipals: true,
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:accounts: one of accounts\.a \/ accounts\.b names its account and the other does not.*Fix: set both vpc-lambda-kit:accounts\.a\.accountId and vpc-lambda-kit:accounts\.b\.accountId/,
        ),
      ]),
    );
    expect(errorsOf({ "vpc-lambda-kit:dbWriter": { access: "mysql" } })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:dbWriter\.access: /),
    ]);
    expect(errorsOf({ "vpc-lambda-kit:transitGateway": { enabled: false } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:dbWriter\.access: pg reaches the database on 5432 across the Transit Gateway, which is off/,
        ),
      ]),
    );
  });
});
