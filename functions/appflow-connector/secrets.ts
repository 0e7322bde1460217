/**
 * The database credentials, from the Secrets Manager secret AppFlow created for the connection (its ARN comes in
 * every request: `connectorContext.credentials.secretArn`, or `credentials.secretArn` in ValidateCredentials). The
 * secret holds the profile's credentials as key/value pairs: `username` and `password` (BASIC, and CUSTOM with this
 * connector's auth parameters). `userName` (the SDK's BasicAuthCredentials spelling) and one level of nesting under
 * `customCredentials` / `credentialsMap` / `basicAuthCredentials` are accepted too.
 *
 * Values are cached per secret ARN for warm invocations, never logged, and never repeated in an error message. A
 * failed read is not cached; `forgetCredentials(arn)` drops a pair the database refused, so a corrected or rotated
 * password is picked up by the next invocation.
 *
 * Without a network path to Secrets Manager (a VPC function with neither a secretsmanager interface endpoint nor a
 * NAT route) the SDK call would hang until the Lambda timeout and AppFlow would show only "Client execution did not
 * complete before the specified timeout". Short connect/request timeouts and few attempts turn that into a fast
 * error that names the missing endpoint.
 */
import { getSecretString, jsonObject, ReadCache, secretFailure } from "../shared/secrets";
import type { ConnectorConfig } from "./config";
import { ConnectorError } from "./protocol";
import { CUSTOM_AUTH_TYPE } from "./settings";

export interface DbCredentials {
  username: string;
  password: string;
}

const cache = new ReadCache<DbCredentials>();

export function getCredentials(secretArn: string, cfg: ConnectorConfig): Promise<DbCredentials> {
  return cache.get(secretArn, () => readCredentials(secretArn, cfg));
}

export function forgetCredentials(secretArn: string): void {
  cache.forget(secretArn);
}

async function readCredentials(secretArn: string, cfg: ConnectorConfig): Promise<DbCredentials> {
  let secretString: string | undefined;
  try {
    secretString = await getSecretString(secretArn, {
      maxAttempts: cfg.secretsMaxAttempts,
      connectionTimeoutMs: cfg.secretsConnectTimeoutMs,
      requestTimeoutMs: cfg.secretsRequestTimeoutMs,
    });
  } catch (err) {
    throw secretReadError(err, secretArn, cfg);
  }
  if (secretString === undefined) {
    throw new ConnectorError(
      "InvalidCredentials",
      `the connection's secret ${secretArn} has no SecretString; recreate the connection so that AppFlow stores its credentials again`,
    );
  }
  return parseSecret(secretString, secretArn);
}

export function parseSecret(secretString: string, secretArn: string): DbCredentials {
  const top = jsonObject(secretString);
  if (!top) {
    throw new ConnectorError(
      "InvalidCredentials",
      `the connection's secret ${secretArn} is not a JSON object of credentials: AppFlow stores username and password as key/value pairs; recreate the connection`,
    );
  }
  const candidates = [
    top,
    ...["customCredentials", "credentialsMap", "basicAuthCredentials"]
      .map((k) => top[k])
      .filter((v): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v)),
  ];
  for (const c of candidates) {
    const username = [c.username, c.userName, c.user].find((v) => typeof v === "string" && v !== "") as
      string | undefined;
    const password = typeof c.password === "string" ? c.password : undefined;
    if (username !== undefined && password !== undefined) return { username, password };
  }
  // Key names only: never a value.
  const keys = candidates.flatMap((c) => Object.keys(c)).filter((k, i, a) => a.indexOf(k) === i);
  throw new ConnectorError(
    "InvalidCredentials",
    `the connection's secret ${secretArn} holds no username and password (keys present: ${keys.join(", ") || "none"}); create the connection with BASIC or the ${CUSTOM_AUTH_TYPE} custom authentication`,
  );
}

function secretReadError(err: unknown, secretArn: string, cfg: ConnectorConfig): ConnectorError {
  const { kind, detail } = secretFailure(err);
  const region = process.env.AWS_REGION ?? "<region>";
  if (kind === "notFound") {
    return new ConnectorError(
      "ResourceNotFoundError",
      `the connection's secret ${secretArn} does not exist (${detail}); recreate the AppFlow connection`,
    );
  }
  if (kind === "accessDenied") {
    return new ConnectorError(
      "AccessDenied",
      `the connector function's role may not read the connection's secret ${secretArn} (${detail}): allow secretsmanager:GetSecretValue on ` +
        `arn:aws:secretsmanager:${region}:<account>:secret:appflow!<account>-<connector label>-* (and kms:Decrypt when AppFlow encrypts with a customer managed key)`,
    );
  }
  if (kind === "unreachable") {
    const endpoint =
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ??
      process.env.AWS_ENDPOINT_URL ??
      `https://secretsmanager.${region}.amazonaws.com`;
    return new ConnectorError(
      "ServiceUnavailable",
      `could not reach Secrets Manager (${endpoint}) within ${cfg.secretsConnectTimeoutMs} ms connect / ${cfg.secretsRequestTimeoutMs} ms request, ` +
        `${cfg.secretsMaxAttempts} attempt(s), to read the connection's secret ${secretArn}: ${detail}. The connector runs in a VPC: it needs a ` +
        `secretsmanager interface endpoint (com.amazonaws.${region}.secretsmanager) with private DNS on (and the VPC's DNS hostnames and DNS ` +
        "resolution on) whose security group admits TCP 443 from the function's security group, or a NAT route from the function's subnets. " +
        'Without it AppFlow reports only "Client execution did not complete before the specified timeout".',
      5,
    );
  }
  return new ConnectorError(
    "ServerError",
    `Secrets Manager failed to return the connection's secret ${secretArn}: ${detail}`,
  );
}
