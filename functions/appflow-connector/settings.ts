/**
 * What the connector tells AppFlow about itself (DescribeConnectorConfiguration) and the connection-profile settings
 * it needs (host, port, database, schema), with their validation.
 */
import type { ConnectorConfig } from "./config";
import { CONNECTOR_OPERATORS, ConnectorError, SettingScope } from "./protocol";

export const CONNECTOR_NAME = "vpc-lambda-kit-postgresql";
export const CONNECTOR_OWNER = "vpc-lambda-kit";
export const CONNECTOR_VERSION = "1.0.0";
export const API_VERSION = "v1";
/** The custom authentication type a connection profile names (aws.appflow.ConnectorProfile customAuthenticationType). */
export const CUSTOM_AUTH_TYPE = "PostgresPassword";

/** Where the connector reads from: the profile's runtime settings, validated. */
export interface DbTarget {
  host: string;
  port: number;
  database: string;
  schema: string;
}

type Setting = {
  key: keyof DbTarget;
  dataType: "String" | "Integer";
  required: boolean;
  label: string;
  description: string;
};

const SETTINGS: Setting[] = [
  {
    key: "host",
    dataType: "String",
    required: true,
    label: "Database host",
    description:
      "Host name of the PostgreSQL endpoint (an Aurora cluster endpoint), without scheme or port. TLS is always on and verified against the RDS certificate authorities.",
  },
  { key: "port", dataType: "Integer", required: false, label: "Port", description: "PostgreSQL port. Default 5432." },
  {
    key: "database",
    dataType: "String",
    required: true,
    label: "Database",
    description: "Database name to connect to.",
  },
  {
    key: "schema",
    dataType: "String",
    required: false,
    label: "Schema",
    description: "Schema whose tables are offered as entities. Default public.",
  },
];

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function describeConnectorConfiguration(): Record<string, unknown> {
  return {
    isSuccess: true,
    connectorOwner: CONNECTOR_OWNER,
    connectorName: CONNECTOR_NAME,
    connectorVersion: CONNECTOR_VERSION,
    connectorModes: ["SOURCE"],
    authenticationConfig: {
      isBasicAuthSupported: true,
      isApiKeyAuthSupported: false,
      isOAuth2Supported: false,
      isCustomAuthSupported: true,
      customAuthConfig: [
        {
          authenticationType: CUSTOM_AUTH_TYPE,
          authParameters: [
            {
              key: "username",
              required: true,
              label: "User name",
              description: "PostgreSQL role to log in as (give it SELECT on the schema's tables only).",
              sensitiveField: false,
            },
            {
              key: "password",
              required: true,
              label: "Password",
              description:
                "The role's password. AppFlow stores it in a Secrets Manager secret; the connector reads it from there.",
              sensitiveField: true,
            },
          ],
        },
      ],
    },
    supportedApiVersions: [API_VERSION],
    connectorRuntimeSetting: SETTINGS.map((s) => ({
      ...s,
      scope: "CONNECTOR_PROFILE",
      connectorSuppliedValueOptions: null,
    })),
    // Row filters are translated to SQL here; the other operators are AppFlow's own flow tasks (mapping, masking,
    // validation, arithmetic), which it applies to the records the connector returns.
    operatorsSupported: [...CONNECTOR_OPERATORS],
    supportedTriggerTypes: ["SCHEDULED", "ONDEMAND"],
    triggerFrequenciesSupported: ["BYMINUTE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "ONCE"],
    supportedWriteOperations: [],
    supportedDataTransferTypes: ["RECORD"],
  };
}

/**
 * Checks the settings of one scope. All of this connector's settings are CONNECTOR_PROFILE settings; the other
 * scopes have none to check. Keys this connector does not know are left alone (AppFlow aggregates settings).
 */
export function validateSettings(
  scope: SettingScope,
  settings: Record<string, unknown>,
  cfg: ConnectorConfig,
): Record<string, string> {
  if (scope !== "CONNECTOR_PROFILE") return {};
  return checkTarget(settings, cfg).errors;
}

/** The profile settings as a DbTarget, or ConnectorError(InvalidArgument) naming every bad setting. */
export function dbTarget(settings: Record<string, unknown> | null | undefined, cfg: ConnectorConfig): DbTarget {
  const { target, errors } = checkTarget(settings ?? {}, cfg);
  if (Object.keys(errors).length > 0 || !target) {
    throw new ConnectorError(
      "InvalidArgument",
      `the connection's settings are invalid: ${Object.entries(errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; ")}`,
      undefined,
      errors,
    );
  }
  return target;
}

function checkTarget(
  settings: Record<string, unknown>,
  cfg: ConnectorConfig,
): { target?: DbTarget; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const str = (k: string): string | undefined => {
    const v = settings[k];
    if (v === undefined || v === null) return undefined;
    const s = String(v).trim();
    return s === "" ? undefined : s;
  };
  for (const s of SETTINGS) if (s.required && str(s.key) === undefined) errors[s.key] = `required: ${s.description}`;

  const hostRaw = str("host");
  let host = "";
  if (hostRaw !== undefined) {
    host = hostRaw.toLowerCase();
    if (/^[a-z]+:\/\//.test(host) || host.includes("/") || host.includes(":")) {
      errors.host = `"${hostRaw}" is not a bare host name: give the endpoint without scheme, port or path`;
    } else if (!HOST_RE.test(host) && !IPV4_RE.test(host)) {
      errors.host = `"${hostRaw}" is not a DNS host name or IPv4 address`;
    } else if (cfg.allowedHosts && !cfg.allowedHosts.includes(host)) {
      errors.host = `"${hostRaw}" is not a database this connector may reach; allowed: ${cfg.allowedHosts.join(", ")} (ALLOWED_DB_HOSTS, set by the stack)`;
    }
  }
  let port = 5432;
  const portRaw = str("port");
  if (portRaw !== undefined) {
    if (!/^\d{1,5}$/.test(portRaw) || Number(portRaw) < 1 || Number(portRaw) > 65535)
      errors.port = `"${portRaw}" is not a TCP port (1 to 65535)`;
    else port = Number(portRaw);
  }
  const database = str("database") ?? "";
  if (database && (Buffer.byteLength(database) > 63 || database.includes("\0")))
    errors.database = "a PostgreSQL database name is 1 to 63 bytes";
  const schema = str("schema") ?? "public";
  if (Buffer.byteLength(schema) > 63 || schema.includes("\0"))
    errors.schema = "a PostgreSQL schema name is 1 to 63 bytes";
  if (Object.keys(errors).length > 0) return { errors };
  return { target: { host, port, database, schema }, errors };
}
