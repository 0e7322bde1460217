/**
 * Shapes of AWS identifiers that components and the config schema both check, written once. Sources: the IAM
 * User Guide's IAM identifiers page (role ARNs: path and name characters `[\w+=,.@/-]`) and the AWS account
 * identifiers page (12 digits).
 */
export const ACCOUNT_ID_RE = /^\d{12}$/;
export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
