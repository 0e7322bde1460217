import { flowLogsBucketPolicy, s3BucketArnProblem } from "../../components/flow-logs";
import { configErrorsOf } from "../support/config-errors";

// Flow-log settings are checked with the rest of the config, before anything is registered.
const net = {
  cidrBlock: "10.0.0.0/16",
  availabilityZones: 2,
  natGateways: "single",
  interfaceEndpoints: ["secretsmanager", "execute-api"],
};

test("a bad bucket ARN names the key and the expected shape", () => {
  const errors = configErrorsOf({
    "vpc-lambda-kit:network": {
      ...net,
      flowLogs: { enabled: true, destination: "s3", s3BucketArn: "org-log-archive" },
    },
  });
  expect(errors).toEqual([
    expect.stringMatching(/^vpc-lambda-kit:network\.flowLogs\.s3BucketArn: .*not an S3 bucket ARN/),
  ]);
});

test("a bucket with the CloudWatch destination, and a traffic type on the Transit Gateway, are refused", () => {
  const errors = configErrorsOf({
    "vpc-lambda-kit:network": { ...net, flowLogs: { enabled: true, s3BucketArn: "arn:aws:s3:::org-log-archive" } },
    "vpc-lambda-kit:transitGateway": {
      principals: ["222222222222"],
      acceptShare: true,
      allowExternalPrincipals: true,
      flowLogs: { enabled: true, trafficType: "ALL" },
    },
  });
  expect(errors).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.flowLogs\.s3BucketArn: a bucket is given but the destination is cloudwatch/,
      ),
      expect.stringMatching(/^vpc-lambda-kit:transitGateway\.flowLogs\.trafficType: unknown key/),
    ]),
  );
});

test("flow logs on an existing Transit Gateway are refused: only its owner creates them", () => {
  const errors = configErrorsOf({
    "vpc-lambda-kit:transitGateway": {
      existing: { id: "tgw-0a1b2c3d4e5f60799" },
      acceptShare: false,
      flowLogs: { enabled: true },
    },
  });
  expect(errors).toContainEqual(expect.stringMatching(/^vpc-lambda-kit:transitGateway\.flowLogs: .*does not create/));
});

test("S3 bucket naming rules and the reserved AWSLogs folder", () => {
  expect(s3BucketArnProblem("arn:aws:s3:::org-log-archive/vpc/")).toBeUndefined();
  expect(s3BucketArnProblem("arn:aws-cn:s3:::org-log-archive")).toBeUndefined();
  expect(s3BucketArnProblem("arn:aws:s3:::Org_Logs")).toMatch(/lower-case letters/);
  expect(s3BucketArnProblem("arn:aws:s3:::ab")).toMatch(/3 to 63/);
  expect(s3BucketArnProblem("arn:aws:s3:::192.168.5.4")).toMatch(/IP address/);
  expect(s3BucketArnProblem("arn:aws:s3:::logs..archive")).toMatch(/two adjacent dots/);
  expect(s3BucketArnProblem("arn:aws:s3:::xn--logs")).toMatch(/reserves/);
  expect(s3BucketArnProblem("arn:aws:s3:::org-logs/AWSLogs")).toMatch(/AWSLogs/);
  expect(s3BucketArnProblem("arn:aws:s3:us-east-1::org-logs")).toMatch(/not an S3 bucket ARN/);
});

test("the statements follow the partition and keep the folder", () => {
  const doc = flowLogsBucketPolicy("arn:aws-cn:s3:::archive/flows/", "123456789012", "cn-north-1");
  expect(doc.Statement[0].Resource).toBe("arn:aws-cn:s3:::archive/flows/AWSLogs/123456789012/*");
  expect(doc.Statement[1].Resource).toBe("arn:aws-cn:s3:::archive");
  expect(doc.Statement[1].Condition.ArnLike["aws:SourceArn"]).toBe("arn:aws-cn:logs:cn-north-1:123456789012:*");
});
