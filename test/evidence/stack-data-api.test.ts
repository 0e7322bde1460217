import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { devOnDataApi } from "../support/data-api";
import { allCallFindings, callOutcomes, policyFindings } from "./support";

// db-writer on the Data API (one account, as the Data API requires): its declared rds-data calls apply
// (DB_ACCESS=data-api) and are allowed; the secret keeps the AWS managed key, so the CMK calls do not apply.
describe("dev with db-writer on the Data API", () => {
  let resources: Graph["resources"];
  beforeAll(async () => {
    resources = (await synthForTest("dev", devOnDataApi())).result.graph.resources;
  });

  test("the rds-data calls are evaluated and allowed; every policy validates", () => {
    expect(allCallFindings(resources)).toEqual([]);
    const db = callOutcomes(resources).find((o) => o.decl.functionName === "db-writer");
    const dataApi = (db?.outcomes ?? []).filter((o) => o.declared.action.startsWith("rds-data:"));
    expect(dataApi.map((o) => [o.declared.action, o.result?.decision])).toEqual([
      ["rds-data:ExecuteStatement", "Allowed"],
      ["rds-data:BeginTransaction", "Allowed"],
    ]);
    const kms = (db?.outcomes ?? []).filter((o) => o.declared.action.startsWith("kms:"));
    expect(kms.map((o) => [o.notApplicable, o.skipped])).toEqual(
      kms.map(() => [true, "the secret in DB_SECRET_ARN uses the AWS managed key"]),
    );
    expect(kms.length).toBe(3);
    expect(policyFindings(resources).filter((f) => f.severity !== "info")).toEqual([]);
  });
});
