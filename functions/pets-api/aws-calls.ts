/**
 * The AWS calls pets-api makes (read by the offline check, never bundled): those of every database client,
 * see functions/shared/db/aws-calls.ts.
 */
import { dbClientAwsCalls } from "../shared/db/aws-calls";

export const awsCalls = dbClientAwsCalls("pets-api", "wraps a write in a transaction");
