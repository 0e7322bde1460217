/**
 * Shapes of AWS identifiers that components and the config schema both check, written once. Sources: the IAM
 * User Guide's IAM identifiers page (role ARNs: path and name characters `[\w+=,.@/-]`) and the AWS account
 * identifiers page (12 digits).
 */
export const ACCOUNT_ID_RE = /^\d{12}$/;
export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
/** AWS Organizations ARNs (Organizations API reference: `o-` and 10–32, `ou-` and 4–32 then 8–32 characters). */
export const ORG_ARN_RE = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
export const OU_ARN_RE =
  /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;
/** An IPAM pool id (EC2 API reference: `ipam-pool-` and 17 hex digits). */
/** A RAM resource share ARN; group 1 is the owning account. */
export const SHARE_ARN_RE = /^arn:aws[a-z-]*:ram:[a-z0-9-]+:(\d{12}):resource-share\/[0-9a-f-]{36}$/;
export const IPAM_POOL_ID_RE = /^ipam-pool-[0-9a-f]{17}$/;
