/**
 * The private API's resource policy when only VPC endpoints may call it (docs/designs.md §5): invoke allowed from
 * the listed endpoints, denied from every other source. `resource` is what the statements name (the API's ARN/*).
 */
export function endpointOnlyStatements(resource: string, endpointIds: string[]): unknown[] {
  const statement = (Sid: string, Effect: string, operator: string) => ({
    Sid,
    Effect,
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: resource,
    Condition: { [operator]: { "aws:SourceVpce": endpointIds } },
  });
  return [
    statement("AllowListedVpcEndpoints", "Allow", "StringEquals"),
    statement("DenyUnlistedSources", "Deny", "StringNotEquals"),
  ];
}
