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
import { Cidr, cidrOf, strings } from "../model/values";
import { isPrivateApi, privateApiVerdict } from "./api-policy";
import { rulePeers, rulePermits, sgAllows, sgRules } from "./security-groups";

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
  let cur = m.byId(id, T.apiResource);
  for (let depth = 0; cur && depth < 50; depth++) {
    parts.unshift(String(cur.inputs.pathPart ?? ""));
    cur = m.byId(cur.inputs.parentId, T.apiResource);
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

const PRIVATE_API_COMPONENT = "vpc-lambda-kit:api:PrivateApi";

interface DeclaredCaller {
  /** How the report names the caller. */
  who: string;
  /** The flow's `fn`: the caller function's component name, else `caller <who>`. */
  fn: string;
  sgId?: string;
  cidr?: string;
}

/**
 * The callers the stack declares for `api` (config privateApi.consumers, recorded as `callers` on the
 * PrivateApi component): security groups (a caller function by its group) and address blocks.
 * Undefined when the component declares none: then the callers are read from the endpoint's rules.
 */
function declaredCallers(m: GraphModel, api: Res): DeclaredCaller[] | undefined {
  const comp = m.byUrn(api.parent);
  if (!comp || comp.type !== PRIVATE_API_COMPONENT) return undefined;
  const c = comp.inputs.callers as { securityGroupIds?: unknown; cidrs?: unknown; functions?: unknown } | undefined;
  const sgs = strings(c?.securityGroupIds);
  const cidrs = strings(c?.cidrs);
  if (sgs.length === 0 && cidrs.length === 0) return undefined;
  const fnNames = strings(c?.functions);
  const fnOfSg = (id: string): string | undefined =>
    fnNames.find((n) => {
      const comp = m.all("vpc-lambda-kit:functions:VpcFunction").find((v) => v.name === n);
      return m.all(T.sg).some((g) => g.id === id && (g.name === `${n}-sg` || (comp && g.parent === comp.urn)));
    });
  return [
    ...sgs.map((id) => {
      const fn = fnOfSg(id);
      return {
        who: fn ? `function ${fn} (security group ${m.label(id, T.sg)})` : `security group ${m.label(id, T.sg)}`,
        fn: fn ?? `caller security group ${m.label(id, T.sg)}`,
        sgId: id,
      };
    }),
    ...cidrs.map((cidr) => ({ who: `addresses in ${cidr}`, fn: `caller ${cidr}`, cidr })),
  ];
}

/** Addresses of the endpoint's subnets (for CIDR egress rules towards it). */
function endpointCidrs(m: GraphModel, ep: Res): Cidr[] {
  return strings(ep.inputs.subnetIds)
    .map((id) => m.byId(id, T.subnet))
    .map((s) => (s ? m.subnetCidr(s) : undefined))
    .filter((c): c is Cidr => c !== undefined);
}

/**
 * The first hop of a declared caller: its own group lets it out on 443 to the endpoint (by the
 * endpoint's group or CIDRs covering the endpoint's subnets), in the endpoint's VPC, and the
 * endpoint's group admits it on 443 (by group reference or a CIDR covering the caller's block).
 */
function callerHops(m: GraphModel, ep: Res, epSgs: string[], c: DeclaredCaller): Hop[] {
  const hops: Hop[] = [];
  const vpcId = String(ep.inputs.vpcId ?? "");
  if (c.sgId) {
    const g = m.sg(c.sgId);
    if (!g) {
      hops.push({
        step: `caller group ${c.sgId} is not in this stack: its egress to the endpoint is its owner's to allow (not proven here)`,
      });
    } else if (g.inputs.vpcId !== undefined && String(g.inputs.vpcId) !== vpcId) {
      hops.push({
        step: "caller security group",
        problem: `${c.who} is in VPC ${m.label(g.inputs.vpcId, T.vpc)}, but ${ep.name} is in VPC ${m.label(vpcId, T.vpc)}: a caller reaches an interface endpoint only from its VPC; put the caller in ${m.label(vpcId, T.vpc)} or give its VPC an execute-api endpoint`,
      });
    } else {
      const out = sgAllows(
        m,
        [c.sgId],
        "egress",
        { protocol: "tcp", port: 443 },
        { sgIds: epSgs, cidrs: endpointCidrs(m, ep) },
      );
      hops.push(
        out
          ? { step: `${c.who}: egress tcp/443 to ${ep.name} by ${out.name}` }
          : {
              step: "caller security group",
              problem: `${c.who} does not allow egress tcp/443 to ${ep.name} (its security group or subnets); add an egress rule to the endpoint's security group`,
            },
      );
    }
    const into = sgAllows(m, epSgs, "ingress", { protocol: "tcp", port: 443 }, { sgIds: [c.sgId] });
    hops.push(
      into
        ? { step: `${ep.name} security group: ingress tcp/443 from ${c.who} by ${into.name}` }
        : {
            step: "endpoint security group",
            problem: `the security group of ${ep.name} does not admit ${c.who} on tcp/443; add an ingress rule from it (privateApi.consumers.securityGroupIds)`,
          },
    );
    return hops;
  }
  const block = cidrOf(c.cidr);
  const into = block ? sgAllows(m, epSgs, "ingress", { protocol: "tcp", port: 443 }, { cidrs: [block] }) : undefined;
  hops.push({
    step: `callers in ${c.cidr}: their own egress and their route to ${ep.name}'s subnets are outside the graph (not proven here)`,
  });
  hops.push(
    into
      ? { step: `${ep.name} security group: ingress tcp/443 from ${c.cidr} by ${into.name}` }
      : {
          step: "endpoint security group",
          problem: `the security group of ${ep.name} does not admit ${c.cidr} on tcp/443; add an ingress rule for the block (privateApi.consumers.cidrs)`,
        },
  );
  return hops;
}

/** Without declared callers: every source the endpoint's group admits on 443 (security groups or CIDRs). */
function undeclaredCallers(m: GraphModel, ep: Res, epSgs: string[]): { who: string; fn: string; hops: Hop[] }[] {
  const rules = epSgs.flatMap((id) => sgRules(m, id, "ingress")).filter((r) => rulePermits(r, "tcp", 443));
  if (rules.length === 0)
    return [
      {
        who: "(no caller)",
        fn: "caller (no caller)",
        hops: [
          {
            step: "endpoint security group",
            problem: `the security group of ${ep.name} admits nobody on tcp/443; add an ingress rule from the caller's security group or CIDR (privateApi.consumers)`,
          },
        ],
      },
    ];
  return rules.map((r) => {
    const who = rulePeers(r, m);
    return {
      who,
      fn: `caller ${who}`,
      hops: [{ step: `${who} → ${ep.name} security group: ingress tcp/443 by ${r.name}` }],
    };
  });
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
        m.all(T.lambdaPermission).find((p) => String(p.inputs.sourceArn ?? "").includes(`:${api.id}/`))?.inputs
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
    const methods = m.all(T.apiMethod).filter((x) => x.inputs.restApi === api.id);
    if (methods.length === 0) backend.push({ step: "methods", problem: `private API ${api.name} has no method` });
    for (const meth of methods) {
      const path = resourcePath(m, meth.inputs.resourceId);
      const verb = String(meth.inputs.httpMethod);
      const integ = m
        .all(T.apiIntegration)
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
      const perm = m.all(T.lambdaPermission).find((p) => {
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
    const walk = (ep: Res, caller: { fn: string; hops: Hop[] }) => {
      const vpcId = String(ep.inputs.vpcId ?? "");
      const vpc = m.byId(vpcId, T.vpc);
      {
        const hops: Hop[] = [...caller.hops];
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
          fn: caller.fn,
          flow: `tcp/443 to private API ${api.name} through ${ep.name} (consumer path)`,
          status: bad ? "BROKEN" : "OK",
          path: [ep.name, api.name, ...[...targets]],
          steps: hops.map((h) => (h.problem ? `✗ ${h.problem}` : h.step)),
          ...(bad ? { reason: `${bad.step}: ${bad.problem}` } : {}),
        });
      }
    };
    const declared = declaredCallers(m, api);
    if (declared) {
      for (const c of declared) {
        // A caller group reaches the endpoints of its own VPC; a block, every endpoint.
        const g = c.sgId ? m.sg(c.sgId) : undefined;
        const own = endpoints.filter(
          (ep) => g?.inputs.vpcId === undefined || String(g.inputs.vpcId) === String(ep.inputs.vpcId),
        );
        for (const ep of own.length > 0 ? own : endpoints)
          walk(ep, { fn: c.fn, hops: callerHops(m, ep, strings(ep.inputs.securityGroupIds), c) });
      }
    } else {
      for (const ep of endpoints)
        for (const u of undeclaredCallers(m, ep, strings(ep.inputs.securityGroupIds))) walk(ep, u);
    }
  }
  return out;
}
