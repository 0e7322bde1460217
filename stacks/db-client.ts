import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { EnvConfig } from "./config";

/**
 * What every function that reads the data role's database needs, shared by db-writer and pets-api:
 * upstream outputs checked for presence, the IAM statements for the RDS-managed master secret, and a
 * pinned role name (account B's key and secret policies name the role before it exists).
 */

/** An upstream data output, failing with the stack to fix when it is empty. */
export function requiredDataOutput(value: pulumi.Output<unknown>, key: string, cfg: EnvConfig, fix = "deploy the data role with data.database enabled first (network → data → apps)"): pulumi.Output<string> {
  const where = cfg.roles.includes("data") ? "the data role" : `stack ${cfg.upstream.data}`;
  return value.apply((v) => {
    if (!v) throw new Error(`${where} exports no data.${key}. Fix: ${fix}`);
    return String(v);
  });
}

/**
 * Read the master secret; across accounts also decrypt with the secret's customer-managed key, and
 * only through Secrets Manager in the database's region (the key cannot be used directly).
 */
export function dbSecretReadStatements(secretArn: pulumi.Input<string>, dbRegion: string, crossAccountKeyArn?: pulumi.Input<string>): aws.iam.PolicyStatement[] {
  const statements: aws.iam.PolicyStatement[] = [
    { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArn },
  ];
  if (crossAccountKeyArn !== undefined) {
    statements.push({
      Sid: "DecryptDbSecret",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: crossAccountKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${dbRegion}.amazonaws.com` } },
    });
  }
  return statements;
}

/**
 * Gives the role a VpcFunction creates (`<fn>-role`) a fixed physical name. A fixed name cannot be
 * created before the old role is deleted, hence deleteBeforeReplace.
 */
export function pinRoleName(functionName: string, physicalName: string): pulumi.ResourceTransformation {
  return (r) => r.type === "aws:iam/role:Role" && r.name === `${functionName}-role`
    ? { props: { ...r.props, name: physicalName }, opts: pulumi.mergeOptions(r.opts, { deleteBeforeReplace: true }) }
    : undefined;
}
