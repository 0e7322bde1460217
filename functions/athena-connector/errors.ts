/**
 * The error the connector throws. The Lambda runtime reports a thrown error as {errorType, errorMessage, trace};
 * Athena reads errorType and errorMessage (the SDK's LambdaFunctionException shape) and shows the message to the
 * person who ran the query, so messages say what to fix and never contain a secret.
 */
import type { SaasFailureKind } from "../saas-export/errors";

export type ConnectorErrorKind =
  | "config"
  /** The request is not one the connector understands (type, SerDe shape, unknown table). */
  | "request"
  | SaasFailureKind
  | "spill";

export class ConnectorError extends Error {
  override readonly name = "AthenaConnectorError";
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
  ) {
    super(message);
  }
}
