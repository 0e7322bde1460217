import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { readStackConfig } from "../../ops/stack-config";

/**
 * The config patch that puts dev's db-writer on the RDS Data API: both roles in one account (the Data API does not
 * cross accounts), the Transit Gateway shared within it, an rds-data interface endpoint added to dev's list.
 */
export function devOnDataApi(): Record<string, unknown> {
  const devNetwork = JSON.parse(
    readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).config["vpc-lambda-kit:network"],
  ) as {
    interfaceEndpoints: string[];
  };
  return {
    "vpc-lambda-kit:accounts": { a: { accountId: "111111111111" }, b: { accountId: "111111111111" } },
    "vpc-lambda-kit:transitGateway": { principals: ["111111111111"] },
    "vpc-lambda-kit:network": { ...devNetwork, interfaceEndpoints: [...devNetwork.interfaceEndpoints, "rds-data"] },
    "vpc-lambda-kit:dbWriter": { access: "data-api" },
  };
}
