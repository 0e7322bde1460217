/**
 * vpc-lambda-kit policy pack. Run from the repository root:
 *
 *   pulumi preview -s dev --policy-pack ./policy-pack
 *
 * The same rules run offline over graph.json with `npm run check -- <stack>`.
 */
import { PolicyPack } from "@pulumi/policy";
import { kitPolicies } from "./policies";

new PolicyPack("vpc-lambda-kit", {
  description: "vpc-lambda-kit: every network path and IAM grant the kit's designs depend on.",
  enforcementLevel: "mandatory",
  policies: kitPolicies,
});
