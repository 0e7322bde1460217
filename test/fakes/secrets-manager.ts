/**
 * A fake AWS Secrets Manager on 127.0.0.1 speaking the JSON 1.1 protocol the SDK v3 client uses:
 * `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue` and `{"SecretId": "..."}`. Point the SDK at it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER=<url> (plus dummy AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION).
 * Signatures are not checked. Unknown secrets answer ResourceNotFoundException, as the service does.
 */
import * as http from "http";
import { LoopbackHttpServer } from "./loopback-server";

const REGION = "ap-northeast-1";
const ACCOUNT = "123456789012";

interface Secret {
  name: string;
  arn: string;
  value: string;
  versionId: string;
}

export class FakeSecretsManager extends LoopbackHttpServer {
  private readonly secrets = new Map<string, Secret>();
  /** GetSecretValue calls per SecretId as sent (found or not). */
  readonly calls = new Map<string, number>();

  /** Creates or replaces a secret; returns its ARN. */
  setSecret(name: string, value: string): string {
    const existing = this.secrets.get(name);
    const arn = existing?.arn ?? `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomSuffix()}`;
    this.secrets.set(name, { name, arn, value, versionId: `v-${Date.now()}-${Math.random().toString(16).slice(2)}` });
    return arn;
  }

  deleteSecret(name: string): void {
    this.secrets.delete(name);
  }

  callsFor(secretId: string): number {
    return this.calls.get(secretId) ?? 0;
  }

  get totalCalls(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  resetCalls(): void {
    this.calls.clear();
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown, errorType?: string): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "content-length": Buffer.byteLength(text),
        "x-amzn-requestid": `req-${Math.random().toString(16).slice(2)}`,
        ...(errorType ? { "x-amzn-errortype": errorType } : {}),
      });
      res.end(text);
    };
    const target = String(req.headers["x-amz-target"] ?? "");
    if (req.method !== "POST" || target !== "secretsmanager.GetSecretValue") {
      return send(
        400,
        {
          __type: "UnknownOperationException",
          message: `fake Secrets Manager does not implement ${target || req.method}`,
        },
        "UnknownOperationException",
      );
    }
    let secretId = "";
    try {
      secretId = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { SecretId?: unknown }).SecretId ?? "");
    } catch {
      return send(400, { __type: "SerializationException", message: "bad JSON" }, "SerializationException");
    }
    this.calls.set(secretId, (this.calls.get(secretId) ?? 0) + 1);
    const secret = [...this.secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret) {
      return send(
        400,
        { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." },
        "ResourceNotFoundException",
      );
    }
    send(200, {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ["AWSCURRENT"],
      CreatedDate: Math.floor(Date.now() / 1000),
    });
  }
}

function randomSuffix(): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 6; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}
