/**
 * A private REST API's consumer path, hop by hop, as one flow per caller: caller → the execute-api
 * interface endpoint's security group on 443 → private DNS for execute-api (endpoint privateDnsEnabled
 * and the VPC's DNS support and hostnames) → the API's resource policy admitting that endpoint
 * (aws:SourceVpce, eval/api-policy.ts) → every method with its integration → the Lambda permission for
 * apigateway.amazonaws.com covering the method's ARN → the function. A missing hop is BROKEN, naming
 * the hop and the fix. Callers are the sources the endpoint's security group admits on 443 (security
 * groups or CIDRs in the VPC); an endpoint that admits nobody is itself a broken path.
 *
 * Sources: API Gateway Developer Guide, "Private REST APIs" (endpoint, private DNS, resource policy
 * with aws:SourceVpce) and "Lambda proxy integrations" (Lambda permission with execute-api SourceArn).
 */
import type { FlowResult } from "../flows";
import { GraphModel, mockAutoName, Res } from "../model/graph";
import { T } from "../model/types";
import { strings } from "../model/values";
import { isPrivateApi, privateApiVerdict } from "./api-policy";
import { rulePeers, rulePermits, sgRules } from "./security-groups";

const METHOD = "aws:apigateway/method:Method";
const INTEGRATION = "aws:apigateway/integration:Integration";
const RESOURCE = "aws:apigateway/resource:Resource";
const LAMBDA_PERMISSION_TYPE = "aws:lambda/permission:Permission";

/** IAM-style glob (`*`) match, for a permission's SourceArn against a method ARN. */
function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(s);
}

/** `/pets/{id}` for an API Gateway resource, walking parentId up to the root. */
function resourcePath(m: GraphModel, id: unknown): string {
  const parts: string[] = [];
  let cur = m.byId(id, RESOURCE);
  for (let depth = 0; cur && depth < 50; depth++) {
    parts.unshift(String(cur.inputs.pathPart ?? ""));
    cur = m.byId(cur.inputs.parentId, RESOURCE);
  }
  return `/${parts.join("/")}`;
}

/** The Lambda function an integration URI invokes (…/functions/<arn>/invocations). */
function integrationTarget(m: GraphModel, uri: string): Res | undefined {
  const arn = /functions\/(arn:[^/]+)\/invocations/.exec(uri)?.[1];
  if (!arn) return undefined;
  const name = arn.split(":function:")[1]?.split(":")[0];
  return m
    .all(T.lambda)
    .find(
      (f) =>
        f.id === arn ||
        (name !== undefined && (f.id === name || f.inputs.name === name || mockAutoName(T.lambda, f.name) === name)),
    );
}

interface Hop {
  step: string;
  problem?: string;
}

/** One consumer-path flow per (private API, execute-api endpoint, caller). */
export function privateApiPaths(m: GraphModel): FlowResult[] {
  const out: FlowResult[] = [];
  for (const api of m.all(T.restApi).filter(isPrivateApi)) {
    const ec = api.inputs.endpointConfiguration as Record<string, unknown> | undefined;
    const listed = strings(ec?.vpcEndpointIds);
    const endpoints = m.all(T.endpoint).filter((e) => /\.execute-api$/.test(String(e.inputs.serviceName ?? "")));
    const regionAccount = /arn:aws:execute-api:([a-z0-9-]+):(\d{12}):/.exec(
      String(
        m.all(LAMBDA_PERMISSION_TYPE).find((p) => String(p.inputs.sourceArn ?? "").includes(`:${api.id}/`))?.inputs
          .sourceArn ?? "",
      ),
    );
    if (endpoints.length === 0) {
      out.push({
        fn: "private API consumer",
        flow: `tcp/443 to private API ${api.name}`,
        status: "BROKEN",
        path: [],
        steps: [],
        reason: `no execute-api interface endpoint in the graph: nothing can reach private API ${api.name} (create one with privateApi endpoint, or list an existing one in privateApi.consumers.vpcEndpointIds)`,
      });
      continue;
    }
    // Methods, integrations and permissions are the same for every caller: check them once.
    const backend: Hop[] = [];
    const targets = new Set<string>();
    const methods = m.all(METHOD).filter((x) => x.inputs.restApi === api.id);
    if (methods.length === 0) backend.push({ step: "methods", problem: `private API ${api.name} has no method` });
    for (const meth of methods) {
      const path = resourcePath(m, meth.inputs.resourceId);
      const verb = String(meth.inputs.httpMethod);
      const integ = m
        .all(INTEGRATION)
        .find(
          (i) =>
            i.inputs.restApi === api.id &&
            i.inputs.resourceId === meth.inputs.resourceId &&
            i.inputs.httpMethod === verb,
        );
      if (!integ) {
        backend.push({
          step: `${verb} ${path}`,
          problem: `method ${verb} ${path} (${meth.name}) has no integration; add one (type AWS_PROXY to the function)`,
        });
        continue;
      }
      const fn = integrationTarget(m, String(integ.inputs.uri ?? ""));
      if (!fn) {
        backend.push({
          step: `${verb} ${path}`,
          problem: `integration ${integ.name} invokes ${String(integ.inputs.uri)}, which is no function in the graph`,
        });
        continue;
      }
      targets.add(fn.name);
      const physical = typeof fn.inputs.name === "string" ? fn.inputs.name : mockAutoName(T.lambda, fn.name);
      const methodArn = `arn:aws:execute-api:${regionAccount?.[1] ?? "*"}:${regionAccount?.[2] ?? "*"}:${api.id}/stage/${verb === "ANY" ? "GET" : verb}${path.replace(/\{[^}]+\}/g, "x")}`;
      const perm = m.all(LAMBDA_PERMISSION_TYPE).find((p) => {
        const fnRef = String(p.inputs.function ?? "");
        const sameFn = fnRef === physical || fnRef === fn.id || fnRef.endsWith(`:function:${physical}`);
        return (
          sameFn &&
          p.inputs.principal === "apigateway.amazonaws.com" &&
          String(p.inputs.action ?? "") === "lambda:InvokeFunction" &&
          (p.inputs.sourceArn === undefined || globMatch(String(p.inputs.sourceArn), methodArn))
        );
      });
      if (!perm) {
        backend.push({
          step: `${verb} ${path}`,
          problem: `no Lambda permission lets apigateway.amazonaws.com invoke ${fn.name} for ${verb} ${path} of ${api.name}; add aws.lambda.Permission with sourceArn arn:aws:execute-api:<region>:<account>:${api.id}/*/*${path.replace(/\{[^}]+\}/g, "*")}`,
        });
        continue;
      }
      backend.push({
        step: `method ${verb} ${path} → integration ${integ.name} (${String(integ.inputs.type)}) → permission ${perm.name} (${String(perm.inputs.sourceArn ?? "any source")}) → ${fn.name}`,
      });
    }
    for (const ep of endpoints) {
      const vpcId = String(ep.inputs.vpcId ?? "");
      const vpc = m.byId(vpcId, T.vpc);
      const sgIds = strings(ep.inputs.securityGroupIds);
      const rules = sgIds.flatMap((id) => sgRules(m, id, "ingress")).filter((r) => rulePermits(r, "tcp", 443));
      const callers =
        rules.length > 0
          ? rules.map((r) => ({ who: rulePeers(r, m), rule: r.name }))
          : [{ who: "(no caller)", rule: undefined as string | undefined }];
      for (const caller of callers) {
        const hops: Hop[] = [];
        hops.push(
          caller.rule
            ? { step: `${caller.who} → ${ep.name} security group: ingress tcp/443 by ${caller.rule}` }
            : {
                step: "endpoint security group",
                problem: `the security group of ${ep.name} admits nobody on tcp/443; add an ingress rule from the caller's security group or CIDR`,
              },
        );
        const dnsOk =
          ep.inputs.privateDnsEnabled === true &&
          (vpc === undefined || (vpc.inputs.enableDnsSupport !== false && vpc.inputs.enableDnsHostnames === true));
        hops.push(
          dnsOk
            ? {
                step: `private DNS: ${api.id}.execute-api.<region>.amazonaws.com resolves to ${ep.name} (privateDnsEnabled, VPC DNS support and hostnames on)`,
              }
            : {
                step: "private DNS",
                problem:
                  ep.inputs.privateDnsEnabled !== true
                    ? `${ep.name} has private DNS off, so ${api.id}.execute-api.<region>.amazonaws.com does not resolve to it; turn privateDnsEnabled on (or call the endpoint-specific name with a Host header)`
                    : `VPC ${vpc?.name ?? vpcId} has DNS support or DNS hostnames off, so the endpoint's private DNS name does not resolve; turn both on`,
              },
        );
        const listedOk = listed.length === 0 || listed.includes(String(ep.id));
        const verdict = privateApiVerdict(m, api, String(ep.id), vpcId);
        hops.push(
          !listedOk
            ? {
                step: "endpoint configuration",
                problem: `${api.name} does not list ${ep.name} (${ep.id}) in endpointConfiguration.vpcEndpointIds; add it (privateApi.consumers.vpcEndpointIds)`,
              }
            : verdict.problem
              ? { step: "resource policy", problem: verdict.problem }
              : { step: `resource policy of ${api.name} admits ${ep.id} (aws:SourceVpce)` },
        );
        hops.push(...backend);
        const bad = hops.find((h) => h.problem);
        out.push({
          fn: `caller ${caller.who}`,
          flow: `tcp/443 to private API ${api.name} through ${ep.name} (consumer path)`,
          status: bad ? "BROKEN" : "OK",
          path: [ep.name, api.name, ...[...targets]],
          steps: hops.map((h) => (h.problem ? `✗ ${h.problem}` : h.step)),
          ...(bad ? { reason: bad.problem } : {}),
        });
      }
    }
  }
  return out;
}
