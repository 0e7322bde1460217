// The Pulumi program. `pulumi up -s <stack>`; see README for the stacks and their roles.
import { runProgram } from "./stacks/program";

const out = runProgram();

export const environment = out.environment;
export const roles = out.roles;
export const egressIps = out.egressIps;
export const network = out.network;
export const data = out.data;
export const apps = out.apps;
/** Adopted VPC only (docs/landing-zone.md): routes the kit needs in the existing route tables. */
export const routesToAdd = out.routesToAdd;
export const dataRoutesToAdd = out.dataRoutesToAdd;
export const tgwOwnerActions = out.tgwOwnerActions;
/** Flow logs to a given S3 bucket: the bucket policy its owner adds, per bucket (docs/flow-logs.md). */
export const flowLogsBucketPolicy = out.flowLogsBucketPolicy;
