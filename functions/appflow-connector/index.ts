/**
 * appflow-connector: an Amazon AppFlow custom connector (docs/designs.md §4) for a PostgreSQL source (an Aurora cluster in a
 * private subnet), speaking the AppFlow Custom Connector Lambda protocol (./protocol.ts): AppFlow invokes it with a
 * request object whose `type` is one of ValidateConnectorRuntimeSettingsRequest, ValidateCredentialsRequest,
 * DescribeConnectorConfigurationRequest, ListEntitiesRequest, DescribeEntityRequest, QueryDataRequest,
 * RetrieveDataRequest or WriteDataRequest, and gets the matching response. It never throws: a malformed or unknown
 * request, a failure to reach Secrets Manager or the database, refused credentials, all come back as
 * `{isSuccess: false, errorDetails: {errorCode, errorMessage}}`, which AppFlow shows to the user.
 *
 * Network flows this function needs (its security group's egress; nothing else):
 *   - TCP 443 to Secrets Manager, to read the connection's credentials from the secret AppFlow created: through a
 *     secretsmanager interface endpoint with private DNS (egress to the endpoint's security group, which admits 443
 *     from this function's), or a NAT route. Without either, reads fail fast with a message naming the endpoint
 *     (./secrets.ts) instead of AppFlow's opaque "Client execution did not complete before the specified timeout".
 *   - TCP 5432 (the profile's port) to the database: its security group, or the data VPC's CIDR across the Transit
 *     Gateway.
 *   The function never calls AppFlow.
 * IAM: secretsmanager:GetSecretValue on arn:aws:secretsmanager:<region>:<account>:secret:appflow!<account>-<connector
 * label>-* (the secrets AppFlow creates for this connector's connections).
 *
 * Environment (no secrets; ./config.ts): LOG_LEVEL, PG_CONNECT_TIMEOUT_MS (5000), PG_STATEMENT_TIMEOUT_MS (25000),
 * SECRETS_CONNECT_TIMEOUT_MS (2000), SECRETS_REQUEST_TIMEOUT_MS (3000), SECRETS_MAX_ATTEMPTS (2),
 * RESPONSE_MAX_BYTES (5500000), MAX_PAGE_ROWS (10000), METADATA_CACHE_SECONDS (60), ALLOWED_DB_HOSTS (optional
 * comma-separated host names the profile may name), PG_EXTRA_CA_FILE (tests only: a PEM CA trusted besides the RDS
 * CAs).
 */
import { ConnectorConfig, loadConfigParts } from "./config";
import { closeAll, Db, withReadOnly } from "./db";
import { entityDefinition, listEntities, METADATA_CACHE_CONTROL, tableInfo } from "./metadata";
import { AnyRequest, ConnectorContext, ConnectorError, errorResponse, parseRequest, RequestType } from "./protocol";
import { queryData, retrieveData } from "./query";
import {
  API_VERSION,
  CONNECTOR_NAME,
  CONNECTOR_OWNER,
  CONNECTOR_VERSION,
  dbTarget,
  describeConnectorConfiguration,
  validateSettings,
} from "./settings";
import { createLogger, errorFields, Logger } from "../shared/log";

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
}

export type ConnectorResponse = Record<string, unknown> & { isSuccess: boolean };

let loaded: { config: ConnectorConfig; problems: Record<string, string> } | undefined;

/**
 * The environment variables each request needs. DescribeConnectorConfiguration (what AppFlow calls to register the
 * connector) and WriteData (always refused) need none, so a bad variable never stops registration; the others need
 * every variable, and fail naming the bad ones.
 */
const NEEDS_NO_CONFIG = new Set<RequestType>(["DescribeConnectorConfigurationRequest", "WriteDataRequest"]);

export async function handler(event: unknown, context?: LambdaContextLike): Promise<ConnectorResponse> {
  const started = Date.now();
  let log: Logger = createLogger("info", { requestId: context?.awsRequestId });
  const type = event !== null && typeof event === "object" ? String((event as { type?: unknown }).type ?? "") : "";
  const fields: Record<string, unknown> = {};
  try {
    loaded ??= loadConfigParts();
    const { config, problems } = loaded;
    log = createLogger(config.logLevel, { requestId: context?.awsRequestId });
    const request = parseRequest(event);
    const bad = Object.values(problems);
    if (bad.length > 0) {
      if (!NEEDS_NO_CONFIG.has(request.type))
        throw new ConnectorError("ServerError", `the connector function is misconfigured: ${bad.join("; ")}`);
      log.warn("the connector function is misconfigured; this request needs none of the bad variables", {
        problems: bad,
      });
    }
    const response = await dispatch(request, config, log, fields);
    log.info("request answered", { type, ...fields, durationMs: Date.now() - started });
    return response;
  } catch (err) {
    const e =
      err instanceof ConnectorError
        ? err
        : new ConnectorError(
            "UnknownError",
            `the connector failed unexpectedly: ${(err as Error)?.message ?? String(err)}`,
          );
    log.warn("request failed", {
      type: type || undefined,
      ...fields,
      ...errorFields(e),
      errorCode: e.code,
      durationMs: Date.now() - started,
    });
    return failure(type, e);
  }
}

/**
 * An error response AppFlow can read as the requested type: the AppFlow Custom Connector SDK's response classes
 * (Java `custom-connector-sdk`, model/*Response.java) require `isSuccess`, and DescribeConnectorConfigurationResponse
 * also connectorOwner, connectorName, connectorVersion, connectorModes and supportedApiVersions (everything else is
 * @Nullable or has a default); ErrorDetails requires errorCode and errorMessage. The nullable fields are sent as null
 * so every response type has its full shape.
 */
export function failure(type: string, e: ConnectorError): ConnectorResponse {
  const base = errorResponse(e);
  switch (type as RequestType) {
    case "DescribeConnectorConfigurationRequest":
      return {
        ...base,
        connectorOwner: CONNECTOR_OWNER,
        connectorName: CONNECTOR_NAME,
        connectorVersion: CONNECTOR_VERSION,
        connectorModes: ["SOURCE"],
        supportedApiVersions: [API_VERSION],
        authenticationConfig: null,
        connectorRuntimeSetting: null,
        logoURL: null,
      };
    case "ValidateConnectorRuntimeSettingsRequest":
      return { errorsByInputField: null, ...base };
    case "ListEntitiesRequest":
      return { ...base, entities: null, nextToken: null, cacheControl: null };
    case "DescribeEntityRequest":
      return { ...base, entityDefinition: null, cacheControl: null };
    case "QueryDataRequest":
      return { ...base, records: null, nextToken: null };
    case "RetrieveDataRequest":
      return { ...base, records: null };
    case "WriteDataRequest":
      return { ...base, writeRecordResults: null };
    default:
      return base;
  }
}

async function dispatch(
  request: AnyRequest,
  cfg: ConnectorConfig,
  log: Logger,
  fields: Record<string, unknown>,
): Promise<ConnectorResponse> {
  switch (request.type) {
    case "DescribeConnectorConfigurationRequest":
      return describeConnectorConfiguration() as ConnectorResponse;

    case "ValidateConnectorRuntimeSettingsRequest": {
      const errors = validateSettings(request.scope, request.connectorRuntimeSettings, cfg);
      const bad = Object.keys(errors);
      fields.scope = request.scope;
      if (bad.length === 0) return { isSuccess: true, errorsByInputField: null };
      return {
        ...errorResponse(
          new ConnectorError(
            "InvalidArgument",
            `invalid ${request.scope} settings: ${bad.map((k) => `${k}: ${errors[k]}`).join("; ")}`,
          ),
        ),
        errorsByInputField: errors,
      };
    }

    case "ValidateCredentialsRequest": {
      // The secret must be readable (what AppFlow's own check amounts to) and the database must accept it.
      const target = dbTarget(request.connectorRuntimeSettings, cfg);
      fields.host = target.host;
      await withReadOnly(request.credentials.secretArn, target, cfg, log, async (db) => {
        const rows = await db.query<{ exists: boolean; usable: boolean }>(
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :schema) AS exists, " +
            "COALESCE((SELECT has_schema_privilege(oid, 'USAGE') FROM pg_catalog.pg_namespace WHERE nspname = :schema), false) AS usable",
          { schema: target.schema },
        );
        if (!rows[0]?.exists)
          throw new ConnectorError(
            "InvalidArgument",
            `schema "${target.schema}" does not exist in database "${target.database}"; fix the connection's schema setting`,
            undefined,
            { schema: "no such schema" },
          );
        if (!rows[0]?.usable)
          throw new ConnectorError(
            "AccessDenied",
            `the connection's user may not use schema "${target.schema}": GRANT USAGE ON SCHEMA ${target.schema} TO <user>`,
          );
      });
      return { isSuccess: true };
    }

    case "ListEntitiesRequest": {
      const maxResult = request.maxResult ?? 1000;
      if (!Number.isInteger(maxResult) || maxResult < 1)
        throw new ConnectorError("InvalidArgument", `maxResult must be a positive whole number; got ${maxResult}`);
      const page = await withContext(request.connectorContext, cfg, log, fields, (db) =>
        listEntities(db, Math.min(maxResult, 10_000), request.nextToken ?? undefined),
      );
      fields.entities = page.entities.length;
      return {
        isSuccess: true,
        entities: page.entities,
        nextToken: page.nextToken ?? null,
        cacheControl: METADATA_CACHE_CONTROL,
      };
    }

    case "DescribeEntityRequest": {
      fields.entity = request.entityIdentifier;
      const info = await withContext(request.connectorContext, cfg, log, fields, (db) =>
        tableInfo(db, request.entityIdentifier, cfg),
      );
      return { isSuccess: true, entityDefinition: entityDefinition(info), cacheControl: METADATA_CACHE_CONTROL };
    }

    case "QueryDataRequest": {
      fields.entity = request.entityIdentifier;
      fields.filterLength = request.filterExpression?.length ?? 0;
      fields.continued = Boolean(request.nextToken);
      const page = await withContext(request.connectorContext, cfg, log, fields, (db) =>
        queryData(
          db,
          {
            entity: request.entityIdentifier,
            selectedFieldNames: request.selectedFieldNames,
            filterExpression: request.filterExpression,
            nextToken: request.nextToken,
            maxResults: request.maxResults,
          },
          cfg,
        ),
      );
      fields.records = page.records.length;
      fields.bytes = page.bytes;
      return { isSuccess: true, records: page.records, nextToken: page.nextToken ?? null };
    }

    case "RetrieveDataRequest": {
      fields.entity = request.entityIdentifier;
      fields.ids = request.ids?.length ?? 0;
      const page = await withContext(request.connectorContext, cfg, log, fields, (db) =>
        retrieveData(
          db,
          {
            entity: request.entityIdentifier,
            selectedFieldNames: request.selectedFieldNames,
            idFieldName: request.idFieldName,
            ids: request.ids,
          },
          cfg,
        ),
      );
      fields.records = page.records.length;
      return { isSuccess: true, records: page.records };
    }

    case "WriteDataRequest":
      return {
        ...errorResponse(
          new ConnectorError(
            "InvalidArgument",
            "this connector is a source only (connectorModes: SOURCE): it does not write records; sessions are read-only",
          ),
        ),
        writeRecordResults: null,
      };
  }
}

/** Runs `fn` on the database named by the request's connector context, with the credentials from its secret. */
function withContext<T>(
  ctx: ConnectorContext,
  cfg: ConnectorConfig,
  log: Logger,
  fields: Record<string, unknown>,
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  const secretArn = ctx.credentials?.secretArn;
  if (!secretArn) {
    throw new ConnectorError(
      "InvalidArgument",
      "connectorContext.credentials.secretArn is missing: the request must name the connection's secret",
    );
  }
  const target = dbTarget(ctx.connectorRuntimeSettings, cfg);
  fields.host = target.host;
  return withReadOnly(secretArn, target, cfg, log, fn);
}

/** Closes every database connection (tests and benchmarks; the Lambda runtime keeps them for warm invocations). */
export async function shutdown(): Promise<void> {
  await closeAll();
}
