/**
 * The AppFlow custom connector Lambda protocol: request and response shapes as the AppFlow Custom Connector SDK
 * (Python `custom_connector_sdk`, Java `custom-connector-sdk`) defines them. AppFlow invokes the function with a JSON
 * object whose `type` names the request; the function answers with the matching response object. Every response
 * carries `isSuccess` and, when false, `errorDetails` { errorCode, errorMessage, retryAfterSeconds }.
 *
 * Request validation is deliberately loose about extra keys (AppFlow adds fields over time: flowName, executionId,
 * connectorProfileLabel…) and strict about the keys this connector reads. It is written out by hand rather than with
 * zod, which would be a quarter of the bundle.
 */
/** The SDK's normalized error codes (ErrorCode enum); AppFlow shows the code and message to the user. */
export const ERROR_CODES = [
  "InvalidArgument",
  "InvalidCredentials",
  "AccessDenied",
  "RequestTimeout",
  "RateLimitExceeded",
  "ServiceUnavailable",
  "ClientError",
  "ServerError",
  "UnknownError",
  "PartialWriteFailure",
  "ResourceNotFoundError",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  errorCode: ErrorCode;
  errorMessage: string;
  retryAfterSeconds?: number;
}

/** The one error type the connector's operations throw; the handler turns it into `errorDetails`. */
export class ConnectorError extends Error {
  override readonly name = "ConnectorError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
    /** Per-field problems (ValidateConnectorRuntimeSettings' errorsByInputField). */
    readonly fieldErrors?: Record<string, string>,
  ) {
    super(message);
  }
}

export const REQUEST_TYPES = [
  "ValidateConnectorRuntimeSettingsRequest",
  "ValidateCredentialsRequest",
  "DescribeConnectorConfigurationRequest",
  "ListEntitiesRequest",
  "DescribeEntityRequest",
  "QueryDataRequest",
  "RetrieveDataRequest",
  "WriteDataRequest",
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** ConnectorRuntimeSettingScope. */
export const SETTING_SCOPES = ["CONNECTOR_PROFILE", "SOURCE", "DESTINATION", "SOURCE_AND_DESTINATION"] as const;
export type SettingScope = (typeof SETTING_SCOPES)[number];

/** FieldDataType. */
export type FieldDataType =
  | "String"
  | "Integer"
  | "Float"
  | "Double"
  | "Long"
  | "Short"
  | "BigInteger"
  | "BigDecimal"
  | "ByteArray"
  | "Boolean"
  | "Date"
  | "DateTime"
  | "Struct"
  | "Map"
  | "List";

/** ConnectorOperator. */
export const CONNECTOR_OPERATORS = [
  "PROJECTION",
  "LESS_THAN",
  "GREATER_THAN",
  "BETWEEN",
  "LESS_THAN_OR_EQUAL_TO",
  "GREATER_THAN_OR_EQUAL_TO",
  "EQUAL_TO",
  "CONTAINS",
  "NOT_EQUAL_TO",
  "ADDITION",
  "SUBTRACTION",
  "MULTIPLICATION",
  "DIVISION",
  "MASK_ALL",
  "MASK_FIRST_N",
  "MASK_LAST_N",
  "VALIDATE_NON_NULL",
  "VALIDATE_NON_ZERO",
  "VALIDATE_NON_NEGATIVE",
  "VALIDATE_NUMERIC",
  "NO_OP",
] as const;
export type ConnectorOperator = (typeof CONNECTOR_OPERATORS)[number];

export interface Entity {
  entityIdentifier: string;
  hasNestedEntities: boolean;
  isWritable: boolean;
  label?: string;
  description?: string;
}

export interface FieldDefinition {
  fieldName: string;
  dataType: FieldDataType;
  dataTypeLabel: string;
  label?: string;
  description?: string;
  isPrimaryKey: boolean;
  defaultValue?: string;
  isDeprecated: boolean;
  readProperties: {
    isRetrievable: boolean;
    isNullable: boolean;
    isQueryable: boolean;
    isTimestampFieldForIncrementalQueries: boolean;
  };
  filterOperators: ConnectorOperator[];
  customProperties?: Record<string, string>;
}

export interface EntityDefinition {
  entity: Entity;
  fields: FieldDefinition[];
  customProperties?: Record<string, string>;
}

/** How long AppFlow may cache metadata (the SDK's minimum is 600 seconds). */
export interface CacheControl {
  timeToLive: number;
  timeToLiveUnit: "SECONDS" | "MINUTES" | "HOURS" | "DAYS";
}

export interface BaseResponse {
  isSuccess: boolean;
  errorDetails?: ErrorDetails;
}

// ---- requests ------------------------------------------------------------------------------------------------

/** Runtime settings: values arrive as strings (the Java SDK's Map<String, String>); numbers and booleans are tolerated. */
export type RuntimeSettings = Record<string, string | number | boolean | null>;

export interface Credentials {
  secretArn: string;
  authenticationType?: string;
}

export interface ConnectorContext {
  apiVersion?: string;
  connectorRuntimeSettings?: RuntimeSettings;
  credentials?: Credentials;
  entityDefinition?: unknown;
  flowName?: string;
  executionId?: string;
  connectorProfileLabel?: string;
}

export interface Requests {
  ValidateConnectorRuntimeSettingsRequest: {
    type: "ValidateConnectorRuntimeSettingsRequest";
    scope: SettingScope;
    connectorRuntimeSettings: RuntimeSettings;
  };
  ValidateCredentialsRequest: {
    type: "ValidateCredentialsRequest";
    credentials: Credentials;
    connectorRuntimeSettings?: RuntimeSettings;
  };
  DescribeConnectorConfigurationRequest: { type: "DescribeConnectorConfigurationRequest"; locale?: string };
  ListEntitiesRequest: {
    type: "ListEntitiesRequest";
    connectorContext: ConnectorContext;
    entitiesPath?: string;
    nextToken?: string;
    maxResult?: number;
  };
  DescribeEntityRequest: {
    type: "DescribeEntityRequest";
    entityIdentifier: string;
    connectorContext: ConnectorContext;
  };
  QueryDataRequest: {
    type: "QueryDataRequest";
    entityIdentifier: string;
    connectorContext: ConnectorContext;
    selectedFieldNames?: string[];
    filterExpression?: string;
    nextToken?: string;
    maxResults?: number;
  };
  RetrieveDataRequest: {
    type: "RetrieveDataRequest";
    entityIdentifier: string;
    connectorContext: ConnectorContext;
    selectedFieldNames?: string[];
    idFieldName?: string;
    ids?: string[];
  };
  WriteDataRequest: {
    type: "WriteDataRequest";
    entityIdentifier: string;
    connectorContext: ConnectorContext;
    operation?: string;
    idFieldNames?: string[];
    records?: string[];
    allOrNone?: boolean;
  };
}
export type AnyRequest = Requests[RequestType];

/**
 * Field-by-field reading with every problem collected (path and what was expected). Unknown keys are ignored;
 * null counts as absent, as the SDKs serialize absent optionals as null.
 */
class Reader {
  readonly problems: string[] = [];

  private fail(path: string, expected: string, v: unknown): undefined {
    this.problems.push(`${path}: expected ${expected}, got ${describe(v)}`);
    return undefined;
  }
  object(
    o: Record<string, unknown>,
    key: string,
    path: string,
    required: boolean,
  ): Record<string, unknown> | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "an object", v) : undefined;
    if (typeof v !== "object" || Array.isArray(v)) return this.fail(path, "an object", v);
    return v as Record<string, unknown>;
  }
  string(o: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "a non-empty string", v) : undefined;
    if (typeof v !== "string" || (required && v === "")) return this.fail(path, "a non-empty string", v);
    return v;
  }
  strings(o: Record<string, unknown>, key: string, path: string, allowNumbers = false): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string" || (allowNumbers && typeof x === "number"))) {
      return this.fail(path, `an array of strings${allowNumbers ? " or numbers" : ""}`, v);
    }
    return v.map(String);
  }
  /** A count Java serializes as a number; numeric strings are tolerated. */
  count(o: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
    return this.fail(path, "a number", v);
  }
  boolean(o: Record<string, unknown>, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.fail(path, "true or false", v);
    return v;
  }
  settings(o: Record<string, unknown>, key: string, path: string, required: boolean): RuntimeSettings | undefined {
    const m = this.object(o, key, path, required);
    if (!m) return undefined;
    for (const [k, v] of Object.entries(m)) {
      if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
        this.fail(`${path}.${k}`, "a string", v);
    }
    return m as RuntimeSettings;
  }
  credentials(o: Record<string, unknown>, key: string, path: string, required: boolean): Credentials | undefined {
    const c = this.object(o, key, path, required);
    if (!c) return undefined;
    const secretArn = this.string(c, "secretArn", `${path}.secretArn`, true);
    const authenticationType = this.string(c, "authenticationType", `${path}.authenticationType`, false);
    return secretArn === undefined
      ? undefined
      : { secretArn, ...(authenticationType !== undefined ? { authenticationType } : {}) };
  }
  context(o: Record<string, unknown>): ConnectorContext {
    const c = this.object(o, "connectorContext", "connectorContext", true) ?? {};
    const out: ConnectorContext = {};
    const apiVersion = this.string(c, "apiVersion", "connectorContext.apiVersion", false);
    if (apiVersion !== undefined) out.apiVersion = apiVersion;
    const settings = this.settings(c, "connectorRuntimeSettings", "connectorContext.connectorRuntimeSettings", false);
    if (settings) out.connectorRuntimeSettings = settings;
    const credentials = this.credentials(c, "credentials", "connectorContext.credentials", false);
    if (credentials) out.credentials = credentials;
    if (c.entityDefinition !== undefined && c.entityDefinition !== null) out.entityDefinition = c.entityDefinition;
    for (const k of ["flowName", "executionId", "connectorProfileLabel"] as const) {
      const v = this.string(c, k, `connectorContext.${k}`, false);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
}

/** Drops undefined values, so a parsed request has only the keys that were given. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads the request type and validates the request's shape. Anything AppFlow would never send (not an object, no
 * or an unknown `type`, a wrong field type) is an InvalidArgument naming the field.
 */
export function parseRequest(event: unknown): AnyRequest {
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    throw new ConnectorError(
      "InvalidArgument",
      `the request must be a JSON object with a "type" field (one of ${REQUEST_TYPES.join(", ")}); got ${describe(event)}`,
    );
  }
  const o = event as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== "string" || !(REQUEST_TYPES as readonly string[]).includes(type)) {
    throw new ConnectorError(
      "InvalidArgument",
      `unknown request type ${JSON.stringify(type ?? null)}: this connector answers ${REQUEST_TYPES.join(", ")}`,
    );
  }
  const r = new Reader();
  // The entity a request is about, read (and checked) in the same order by every request that names one.
  const entity = () => ({
    entityIdentifier: r.string(o, "entityIdentifier", "entityIdentifier", true) ?? "",
    connectorContext: r.context(o),
  });
  let request: AnyRequest;
  switch (type as RequestType) {
    case "ValidateConnectorRuntimeSettingsRequest": {
      const scope = o.scope;
      if (typeof scope !== "string" || !(SETTING_SCOPES as readonly string[]).includes(scope))
        r.problems.push(`scope: expected one of ${SETTING_SCOPES.join(", ")}, got ${JSON.stringify(scope ?? null)}`);
      request = {
        type: "ValidateConnectorRuntimeSettingsRequest",
        scope: scope as SettingScope,
        connectorRuntimeSettings: r.settings(o, "connectorRuntimeSettings", "connectorRuntimeSettings", true) ?? {},
      };
      break;
    }
    case "ValidateCredentialsRequest":
      request = defined({
        type: "ValidateCredentialsRequest" as const,
        credentials: r.credentials(o, "credentials", "credentials", true) as Credentials,
        connectorRuntimeSettings: r.settings(o, "connectorRuntimeSettings", "connectorRuntimeSettings", false),
      });
      break;
    case "DescribeConnectorConfigurationRequest":
      request = defined({
        type: "DescribeConnectorConfigurationRequest" as const,
        locale: r.string(o, "locale", "locale", false),
      });
      break;
    case "ListEntitiesRequest":
      request = defined({
        type: "ListEntitiesRequest" as const,
        connectorContext: r.context(o),
        entitiesPath: r.string(o, "entitiesPath", "entitiesPath", false),
        nextToken: r.string(o, "nextToken", "nextToken", false),
        maxResult: r.count(o, "maxResult", "maxResult"),
      });
      break;
    case "DescribeEntityRequest":
      request = {
        type: "DescribeEntityRequest",
        ...entity(),
      };
      break;
    case "QueryDataRequest":
      request = defined({
        type: "QueryDataRequest" as const,
        ...entity(),
        selectedFieldNames: r.strings(o, "selectedFieldNames", "selectedFieldNames"),
        filterExpression: r.string(o, "filterExpression", "filterExpression", false),
        nextToken: r.string(o, "nextToken", "nextToken", false),
        maxResults: r.count(o, "maxResults", "maxResults"),
      });
      break;
    case "RetrieveDataRequest":
      request = defined({
        type: "RetrieveDataRequest" as const,
        ...entity(),
        selectedFieldNames: r.strings(o, "selectedFieldNames", "selectedFieldNames"),
        idFieldName: r.string(o, "idFieldName", "idFieldName", false),
        ids: r.strings(o, "ids", "ids", true),
      });
      break;
    case "WriteDataRequest":
      request = defined({
        type: "WriteDataRequest" as const,
        ...entity(),
        operation: r.string(o, "operation", "operation", false),
        idFieldNames: r.strings(o, "idFieldNames", "idFieldNames"),
        records: r.strings(o, "records", "records"),
        allOrNone: r.boolean(o, "allOrNone", "allOrNone"),
      });
      break;
  }
  if (r.problems.length > 0) throw new ConnectorError("InvalidArgument", `malformed ${type}: ${r.problems.join("; ")}`);
  return request;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? "a string" : typeof v;
}

/** The error response for any request type: the common part every response shape has. */
export function errorResponse(err: ConnectorError): Record<string, unknown> & BaseResponse {
  const details: ErrorDetails = { errorCode: err.code, errorMessage: err.message };
  if (err.retryAfterSeconds !== undefined) details.retryAfterSeconds = err.retryAfterSeconds;
  return {
    isSuccess: false,
    errorDetails: details,
    ...(err.fieldErrors ? { errorsByInputField: err.fieldErrors } : {}),
  };
}
