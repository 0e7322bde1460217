/**
 * The pieces every private bucket of the kit gets: no public access, SSE-S3 with a bucket key, and a policy
 * statement refusing any request not made over TLS. Callers pass the full resource names (`${name}-…`) and the
 * options (parent, provider), so each keeps its own names and registration order.
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

export function blockPublicAccess(
  resourceName: string,
  bucket: aws.s3.Bucket,
  opts: pulumi.CustomResourceOptions,
): aws.s3.BucketPublicAccessBlock {
  return new aws.s3.BucketPublicAccessBlock(
    resourceName,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
}

export function encryptWithS3Keys(
  resourceName: string,
  bucket: aws.s3.Bucket,
  opts: pulumi.CustomResourceOptions,
): aws.s3.BucketServerSideEncryptionConfiguration {
  return new aws.s3.BucketServerSideEncryptionConfiguration(
    resourceName,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    },
    opts,
  );
}

/** A bucket policy holding only the TLS-only statement. */
export function tlsOnlyPolicy(
  resourceName: string,
  bucket: aws.s3.Bucket,
  opts: pulumi.CustomResourceOptions,
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    resourceName,
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        JSON.stringify({ Version: "2012-10-17", Statement: [denyInsecureTransport(arn)] }),
      ),
    },
    opts,
  );
}
