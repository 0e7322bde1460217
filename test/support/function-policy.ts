import type { Res } from "../../ops/check/model/graph";
import { VPC_ENI_ACTIONS } from "../../components/vpc-function";
import type { GraphView } from "./graph";

/** A VPC function's role and log group as the stack tests read them from a synthesized graph. */

/** The inline policies on `role`. */
export function rolePoliciesOf(g: GraphView, role: Res): Res[] {
  return g.all("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.id);
}

/** The log group the function resource `fnName` writes to (its loggingConfig). */
export function logGroupOf(g: GraphView, fnName: string): string {
  return (g.one("aws:lambda/function:Function", fnName).inputs.loggingConfig as { logGroup: string }).logGroup;
}

/** The statements every VPC function's policy starts with: the ENI actions, then writing to its own log group. */
export function vpcFunctionBaseStatements(logGroup: string, account = "111111111111", region = "ap-northeast-1") {
  return [
    { Sid: "VpcEni", Effect: "Allow", Action: VPC_ENI_ACTIONS, Resource: "*" },
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `arn:aws:logs:${region}:${account}:log-group:${logGroup}:*`,
    },
  ];
}
