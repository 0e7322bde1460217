/**
 * Where the sync stands between runs: the `$id` after which the next run reads, kept in one DynamoDB item per
 * (kintone domain, app, record condition). A run that stops for its time budget saves the last `$id` it finished;
 * the next run reads from there, and a run that reaches the end of the app saves 0, so the next cycle starts over.
 * Without it, an app larger than one run's budget would have its first records processed on every run and the
 * rest never.
 *
 * Every save is a conditional PutItem on the version the run loaded (`attribute_not_exists(id) OR version = :seen`),
 * so two overlapping runs (a slow run and the next scheduled one) cannot move the position backwards: the later
 * save is refused and reported as superseded, and that run's records are simply read again by a later run (writes
 * carry revisions and the transform is idempotent, so a repeat changes nothing).
 *
 * The item: `{ id: S, afterId: N, version: N, cycles: N, updatedAt: S }`; `id` is the table's partition key (string).
 * The condition is part of the key (as a hash), so changing KINTONE_QUERY starts a fresh position instead of
 * resuming one that belonged to another set of records.
 */
import { createHash } from "crypto";
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { secretFailure } from "../shared/secrets";
import { SyncError } from "./errors";

export interface Position {
  /** Read records with `$id` greater than this (0 = from the start). */
  afterId: number;
  /** Version of the stored item (0 = none stored yet). */
  version: number;
  /** Full passes over the app finished so far. */
  cycles: number;
}

export interface CheckpointStore {
  readonly table: string;
  readonly key: string;
  load(): Promise<Position>;
  /** Stores `afterId` if nobody saved since `seen`; returns the new position, or "superseded". */
  save(afterId: number, seen: Position, cycleDone: boolean): Promise<Position | "superseded">;
}

export function checkpointKey(baseUrl: string, appId: number, condition: string): string {
  const host = new URL(baseUrl).host;
  const cond = createHash("sha256").update(condition).digest("hex").slice(0, 16);
  return `${host}/app/${appId}/query/${cond}`;
}

let client: DynamoDBClient | undefined;

function dynamo(): DynamoDBClient {
  // Short timeouts: without a route to DynamoDB (no gateway endpoint, no NAT) the call would hang until the
  // Lambda timeout instead of failing with the message below.
  client ??= new DynamoDBClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
  });
  return client;
}

export class DynamoCheckpoint implements CheckpointStore {
  constructor(
    readonly table: string,
    readonly key: string,
  ) {}

  async load(): Promise<Position> {
    let item: Record<string, { N?: string; S?: string }> | undefined;
    try {
      item = (
        await dynamo().send(
          new GetItemCommand({ TableName: this.table, Key: { id: { S: this.key } }, ConsistentRead: true }),
        )
      ).Item as typeof item;
    } catch (err) {
      throw checkpointError(err, this.table, "read");
    }
    if (!item) return { afterId: 0, version: 0, cycles: 0 };
    const afterId = Number(item.afterId?.N);
    const version = Number(item.version?.N);
    const cycles = Number(item.cycles?.N ?? "0");
    if (!Number.isSafeInteger(afterId) || afterId < 0 || !Number.isSafeInteger(version) || version < 1) {
      throw new SyncError(
        "checkpoint",
        `the position item "${this.key}" in DynamoDB table "${this.table}" (KINTONE_CHECKPOINT_TABLE) is not one this function wrote ` +
          `(afterId and version must be non-negative integers): delete the item to start the next run from the first record`,
      );
    }
    return { afterId, version, cycles: Number.isSafeInteger(cycles) ? cycles : 0 };
  }

  async save(afterId: number, seen: Position, cycleDone: boolean): Promise<Position | "superseded"> {
    const next: Position = { afterId, version: seen.version + 1, cycles: seen.cycles + (cycleDone ? 1 : 0) };
    try {
      await dynamo().send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            id: { S: this.key },
            afterId: { N: String(next.afterId) },
            version: { N: String(next.version) },
            cycles: { N: String(next.cycles) },
            updatedAt: { S: new Date().toISOString() },
          },
          ConditionExpression: "attribute_not_exists(id) OR version = :seen",
          ExpressionAttributeValues: { ":seen": { N: String(seen.version) } },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error)?.name === "ConditionalCheckFailedException")
        return "superseded";
      throw checkpointError(err, this.table, "write");
    }
    return next;
  }
}

function checkpointError(err: unknown, table: string, action: "read" | "write"): SyncError {
  const { kind, name, detail } = secretFailure(err);
  const op = action === "read" ? "dynamodb:GetItem" : "dynamodb:PutItem";
  if (name === "ResourceNotFoundException") {
    return new SyncError(
      "checkpoint",
      `DynamoDB table "${table}" (KINTONE_CHECKPOINT_TABLE) was not found (${detail}): create it with partition key "id" (String) ` +
        `in the function's region, or point KINTONE_CHECKPOINT_TABLE at the right table`,
    );
  }
  if (kind === "accessDenied") {
    return new SyncError(
      "checkpoint",
      `the function's role may not ${action} the sync position in DynamoDB table "${table}" (${detail}): allow dynamodb:GetItem and ` +
        `dynamodb:PutItem on that table's ARN`,
    );
  }
  if (kind === "unreachable") {
    return new SyncError(
      "checkpoint",
      `could not reach DynamoDB to ${action} the sync position in table "${table}" (${detail}): give the function's private subnets ` +
        `a DynamoDB gateway endpoint on their route tables (or a NAT route) and let its security group send 443 to the DynamoDB prefix list`,
    );
  }
  return new SyncError(
    "checkpoint",
    `could not ${action} the sync position in DynamoDB table "${table}" (${op}, KINTONE_CHECKPOINT_TABLE): ${detail}`,
  );
}
