/**
 * The Node binary the twin runs bundles with: the Lambda runtime's major (nodejs24.x).
 *
 * LEAD: swap this for ops/runtime-node.ts (the pinned Node 24 path) once that is merged; this is the only
 * place the twin picks a Node for handlers. Until then: $VLK_LAMBDA_NODE, else the Node running the twin.
 */
export function lambdaNode(): string {
  return process.env.VLK_LAMBDA_NODE || process.execPath;
}
