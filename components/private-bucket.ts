/**
 * The pieces every private bucket of the kit gets: no public access, SSE-S3 with a bucket key, and a policy
 * statement refusing any request not made over TLS. Callers pass the bucket's resource name (the guards are named
 * `${bucketName}-…` after it) and the provider.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** Denies every S3 action on the bucket and its objects unless the request came over TLS. */
export function denyInsecureTransport(bucketArn: string) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** Which optional guards a bucket gets besides no public access and SSE-S3. */
export interface BucketGuards {
  /** `-owner`: ACLs off, the bucket owner owns every object (BucketOwnerEnforced). */
  ownerEnforced?: boolean;
  /** `-tls`: a bucket policy holding only the TLS-only statement; off when the caller writes its own policy. */
  tlsOnlyPolicy?: boolean;
}

/**
 * Every guard of a private bucket, each a child of the bucket named `${bucketName}-<part>`: `-pab` (no public
 * access), `-sse` (SSE-S3 with a bucket key), then the optional `-owner` and `-tls`. `opts` carries the provider.
 */
export function guardPrivateBucket(
  bucketName: string,
  bucket: aws.s3.Bucket,
  opts: pulumi.CustomResourceOptions,
  guards: BucketGuards = {},
): void {
  const child = { ...opts, parent: bucket };
  new aws.s3.BucketPublicAccessBlock(
    `${bucketName}-pab`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${bucketName}-sse`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    },
    child,
  );
  if (guards.ownerEnforced)
    new aws.s3.BucketOwnershipControls(
      `${bucketName}-owner`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
  if (guards.tlsOnlyPolicy)
    new aws.s3.BucketPolicy(
      `${bucketName}-tls`,
      {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: [denyInsecureTransport(arn)] }),
        ),
      },
      child,
    );
}
