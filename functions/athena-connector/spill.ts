/**
 * Spilled blocks: results too large to return inline are written to the spill bucket, one S3 object per block, at
 * `<split's spill key>.<n>` (the SDK's naming, which lets Athena start reading block 0 while later ones are written).
 * Each object is one Arrow RecordBatch message in the legacy IPC framing, encrypted with AES-256-GCM under the
 * split's key and nonce when the split carries one (ciphertext followed by the 16-byte tag, as Java's
 * AES/GCM/NoPadding produces and Athena decrypts), plain otherwise. The bucket's default encryption applies on top.
 */
import * as crypto from "crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConnectorError } from "./errors";

export interface EncryptionKeyJson {
  /** base64, 32 bytes. */
  key: string;
  /** base64, 12 bytes. */
  nonce: string;
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A fresh key for one split, as the SDK's local key factory makes them. */
export function makeEncryptionKey(): EncryptionKeyJson {
  return {
    key: crypto.randomBytes(KEY_BYTES).toString("base64"),
    nonce: crypto.randomBytes(NONCE_BYTES).toString("base64"),
  };
}

function cipherParts(k: EncryptionKeyJson): { key: Buffer; nonce: Buffer } {
  const key = Buffer.from(k.key, "base64");
  const nonce = Buffer.from(k.nonce, "base64");
  if (key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES) {
    throw new ConnectorError(
      "request",
      `the split's encryption key must be ${KEY_BYTES} bytes with a ${NONCE_BYTES}-byte nonce; got ${key.length} and ${nonce.length}`,
    );
  }
  return { key, nonce };
}

export function encrypt(k: EncryptionKeyJson, plain: Buffer): Buffer {
  const { key, nonce } = cipherParts(k);
  const c = crypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

export function decrypt(k: EncryptionKeyJson, sealed: Buffer): Buffer {
  const { key, nonce } = cipherParts(k);
  const d = crypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
}

let client: S3Client | undefined;
function s3(): S3Client {
  // Path-style addressing only when a test points the SDK at a local S3 (moto); AWS uses the bucket's host name.
  client ??= new S3Client({ maxAttempts: 3, forcePathStyle: process.env.S3_FORCE_PATH_STYLE === "true" });
  return client;
}

export async function putBlock(bucket: string, key: string, body: Buffer): Promise<void> {
  try {
    await s3().send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/octet-stream" }),
    );
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const hint =
      status === 403 || e.name === "AccessDenied"
        ? "the function's role needs s3:PutObject on the spill prefix, and the bucket policy must not deny it"
        : status === undefined
          ? "the function reaches S3 through the VPC's S3 gateway endpoint: its route tables must include the endpoint and its security group must allow 443 to the S3 prefix list"
          : "check the spill bucket exists in the function's region";
    throw new ConnectorError(
      "spill",
      `could not write spilled block s3://${bucket}/${key} (${e.name ?? "error"}${status ? ` ${status}` : ""}: ${e.message ?? ""}): ${hint}.`,
    );
  }
}
