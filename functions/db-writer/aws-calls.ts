/**
 * The AWS calls db-writer makes (read by the offline check, never bundled): those of every database client,
 * see functions/shared/db/aws-calls.ts.
 */
import { dbClientAwsCalls } from "../shared/db/aws-calls";

export const awsCalls = dbClientAwsCalls("db-writer", "wraps a batch in a transaction");
