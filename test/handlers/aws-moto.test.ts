/**
 * The handlers' AWS calls against moto, an independent implementation of the AWS APIs with AWS's own request
 * handling and error shapes (test/support/moto.ts), instead of our fakes:
 *   - Secrets Manager reads (kintone-sync's token, saas-export's proxy header and SaaS credential): values, a new
 *     version picked up after a refused value is forgotten, a missing secret, a binary secret, a deleted secret;
 *   - S3 writes of saas-export: PutObject with a SHA-256 checksum and user metadata, GetObject of a missing key, ListObjectsV2 over more than one page, DeleteObjects, a missing bucket,
 *     and the whole run/publish layout (parts, manifest, symlink switch, clean-up) on real S3 semantics;
 * Fakes remain where a test needs what moto cannot do: failing the k-th request, counting calls, truncating a SaaS
 * listing (saas-export.test.ts, kintone-sync.test.ts say so), verifying a PutObject's x-amz-checksum-sha256 against
 * its body (moto 5.2 accepts any digest), and S3 access errors: moto's IAM-enforcing mode (INITIAL_NO_AUTH_ACTION_COUNT)
 * answers SignatureDoesNotMatch to the JavaScript SDK v3's S3 requests (boto3's pass), so the denied PutObject is
 * proven with FakeS3's injected 403 in saas-export.test.ts. Multipart uploads are not used by any handler (a part
 * is one PutObject of at most PART_MAX_BYTES), so they are not exercised here.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { MotoServer, startMoto } from "../support/moto";
import { captureJsonLogs } from "../support/log-capture";

const BUCKET = "export-bucket";
const PREFIX = "raw/saas/";
let moto: MotoServer;
let sm: SecretsManagerClient;
let s3: S3Client;
const savedEnv = { ...process.env };

beforeAll(async () => {
  moto = await startMoto();
  moto.applyEnv();
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  sm = new SecretsManagerClient(moto.clientConfig());
  s3 = new S3Client(moto.clientConfig());
});

afterAll(async () => {
  sm?.destroy();
  s3?.destroy();
  await moto?.stop();
  process.env = savedEnv;
});

beforeEach(async () => {
  captureJsonLogs();
  await moto.reset();
});

afterEach(() => jest.restoreAllMocks());

describe("Secrets Manager reads against moto", () => {
  test("kintone-sync reads the token, and a new version after forgetting the refused one", async () => {
    const { getApiToken, forgetApiToken } = await import("../../functions/kintone-sync/secret");
    forgetApiToken();
    await sm.send(new CreateSecretCommand({ Name: "kintone/dev/api-token", SecretString: "FirstToken123" }));
    await expect(getApiToken("kintone/dev/api-token")).resolves.toBe("FirstToken123");
    await sm.send(
      new PutSecretValueCommand({ SecretId: "kintone/dev/api-token", SecretString: '{"apiToken": "SecondToken456"}' }),
    );
    await expect(getApiToken("kintone/dev/api-token")).resolves.toBe("FirstToken123"); // kept for warm invocations
    forgetApiToken();
    await expect(getApiToken("kintone/dev/api-token")).resolves.toBe("SecondToken456");
  });

  test("a missing, a binary and a deleted secret each get the message that says what to fix", async () => {
    const { getApiToken, forgetApiToken } = await import("../../functions/kintone-sync/secret");
    forgetApiToken();
    await expect(getApiToken("kintone/nope")).rejects.toThrow(
      /Secrets Manager secret "kintone\/nope" was not found \(ResourceNotFoundException: .*\)\. Create it .*KINTONE_TOKEN_SECRET_ID/,
    );
    await sm.send(new CreateSecretCommand({ Name: "kintone/binary", SecretBinary: Buffer.from([1, 2, 3]) }));
    await expect(getApiToken("kintone/binary")).rejects.toThrow(
      /secret "kintone\/binary" \(KINTONE_TOKEN_SECRET_ID\) has no SecretString/,
    );
    await sm.send(new CreateSecretCommand({ Name: "kintone/deleted", SecretString: "Tok" }));
    await sm.send(new DeleteSecretCommand({ SecretId: "kintone/deleted", RecoveryWindowInDays: 7 }));
    // AWS answers InvalidRequestException for a secret scheduled for deletion; the message keeps its explanation.
    await expect(getApiToken("kintone/deleted")).rejects.toThrow(
      /could not read Secrets Manager secret "kintone\/deleted" \(KINTONE_TOKEN_SECRET_ID\): InvalidRequestException.*deleted/i,
    );
  });

  test("saas-export reads the proxy header and a JSON credential by ARN", async () => {
    const { getProxyHeaderValue, getSaasCredential } = await import("../../functions/saas-export/secrets");
    const proxyArn = (
      await sm.send(new CreateSecretCommand({ Name: "proxy/header", SecretString: "hdr-value-0123456789" }))
    ).ARN!;
    const authArn = (
      await sm.send(
        new CreateSecretCommand({
          Name: "saas/token",
          SecretString: JSON.stringify({ header: "X-Api-Key", value: "k-1" }),
        }),
      )
    ).ARN!;
    expect(proxyArn).toMatch(/^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:proxy\/header-/);
    await expect(getProxyHeaderValue(proxyArn)).resolves.toBe("hdr-value-0123456789");
    await expect(getSaasCredential(authArn)).resolves.toEqual({ name: "X-Api-Key", value: "k-1" });
  });
});

describe("S3 writes of saas-export against moto", () => {
  const log = () => {
    const { createLogger } = require("../../functions/shared/log") as typeof import("../../functions/shared/log");
    return createLogger("error");
  };
  const retry = { maxAttempts: 2, baseMs: 1, maxMs: 5 };

  beforeEach(async () => {
    await s3.send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "ap-northeast-1" } }),
    );
  });

  test("PutObject with a SHA-256 checksum and user metadata is stored and read back; a missing key reads as absent", async () => {
    // moto 5.2 accepts x-amz-checksum-sha256 without comparing it with the body, and stores none; that S3 verifies
    // the digest every put carries is proven with FakeS3 in saas-export.test.ts (putsVerified).
    const crypto = await import("crypto");
    const { S3Store } = await import("../../functions/saas-export/s3-store");
    const store = new S3Store(BUCKET, retry, log());
    const body = Buffer.from('{"id":1}\n');
    const sha = crypto.createHash("sha256").update(body).digest("base64");
    await store.put("raw/a.ndjson", body, sha, "application/x-ndjson", { run: "r1" });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "raw/a.ndjson" }));
    expect(head).toMatchObject({
      ContentType: "application/x-ndjson",
      ContentLength: body.length,
      Metadata: { run: "r1" },
    });
    await expect(store.get("raw/a.ndjson")).resolves.toEqual({ body, metadata: { run: "r1" } });
    await expect(store.get("raw/missing")).resolves.toBeUndefined();
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "raw/missing" }))).rejects.toMatchObject({
      name: "NoSuchKey",
    });
  });

  test("listing follows continuation tokens past 1,000 keys, and DeleteObjects removes them in batches", async () => {
    const { S3Store } = await import("../../functions/saas-export/s3-store");
    const store = new S3Store(BUCKET, retry, log());
    const keys = Array.from({ length: 1_012 }, (_, i) => `raw/many/k-${String(i).padStart(5, "0")}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }))),
      );
    }
    expect(await store.list("raw/many/")).toEqual(keys);
    await store.deleteMany(keys.slice(0, 1_005));
    expect(await store.list("raw/many/")).toEqual(keys.slice(1_005));
  });

  test("a bucket that does not exist is named with the fix", async () => {
    const { S3Store } = await import("../../functions/saas-export/s3-store");
    const store = new S3Store("no-such-bucket-here", retry, log());
    await expect(store.put("k", Buffer.from("x"), "", "text/plain")).rejects.toThrow(
      /bucket "no-such-bucket-here" \(BUCKET\) does not exist/,
    );
  });

  test("runs, manifests and the symlink switch on S3 itself: a refused run changes nothing Athena reads", async () => {
    const { S3Store } = await import("../../functions/saas-export/s3-store");
    const { PartitionWriter } = await import("../../functions/saas-export/partition");
    const run = async (runId: string, n: number, anomalies: string[] = []) => {
      const w = new PartitionWriter(new S3Store(BUCKET, retry, log()), {
        prefix: PREFIX,
        date: "2026-11-21",
        runId,
        maxBytes: 1 << 20,
        maxRecords: 300,
        minShare: 0.9,
        log: log(),
      });
      for (let i = 0; i < n; i++) await w.add({ id: i, run: runId });
      return w.finish({
        source: "https://api.example.com/v1",
        startedAt: new Date(),
        pages: 1,
        anomalies,
        force: false,
      });
    };
    const symlink = async () => {
      const o = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}current/dt=2026-11-21/symlink.txt` }),
      );
      return { text: await o.Body!.transformToString(), run: o.Metadata?.run };
    };
    const first = await run("20261121T000000Z-a", 1_000);
    expect(first).toMatchObject({ published: true, records: 1_000 });
    const s1 = await symlink();
    expect(s1.run).toBe("20261121T000000Z-a");
    expect(s1.text.trim().split("\n")).toEqual(
      [0, 1, 2, 3].map((i) => `s3://${BUCKET}/${PREFIX}data/dt=2026-11-21/run=20261121T000000Z-a/part-0000${i}.ndjson`),
    );

    const refused = await run("20261121T010000Z-b", 720, ["page 19 had no records"]);
    expect(refused).toMatchObject({ published: false, records: 720 });
    expect(refused.refusedBecause).toEqual([
      "page 19 had no records",
      expect.stringMatching(/^720 records is less than PUBLISH_MIN_SHARE=0.9 of the 1000 records/),
    ]);
    expect(await symlink()).toEqual(s1);

    const second = await run("20261121T020000Z-c", 1_010);
    expect(second).toMatchObject({
      published: true,
      previous: { runId: "20261121T000000Z-a", records: 1_000 },
      deletedOldObjects: 4,
    }); // the refused run's 3 parts and manifest
    expect((await symlink()).run).toBe("20261121T020000Z-c");
  });
});
