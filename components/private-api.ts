import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ACCOUNT_ID_RE } from "./arns";
import { collectConfigErrors, ConfigError, throwIfAny } from "./errors";
import { retentionErrors, serviceTrustPolicy } from "./defaults";
import { checkVpcEndpointsArgs, VpcEndpoints } from "./vpc-endpoints";
import { PlannedComponent } from "./planned";

/** Methods a route may use. ANY sends every method to the function (which can then answer 405 itself). */
export const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** A Lambda function by reference: its name or ARN (for the invoke permission) and its invoke ARN (for the integration). */
export interface LambdaRef {
  functionName: pulumi.Input<string>;
  invokeArn: pulumi.Input<string>;
}

export interface PrivateApiRoute {
  /** HTTP method, or ANY. */
  method: string;
  /** Resource path: "/", "/pets", "/pets/{id}", "/files/{proxy+}" (a greedy parameter only last). */
  path: string;
  /** The Lambda behind the route (AWS_PROXY integration). */
  function: aws.lambda.Function | LambdaRef;
  /** "NONE" or "AWS_IAM" (SigV4-signed callers). Default the API's `authorization`. */
  authorization?: "NONE" | "AWS_IAM";
}

export interface PrivateApiEndpointArgs {
  /** The VPC the execute-api interface endpoint goes in. */
  vpcId: pulumi.Input<string>;
  /** Subnets for the endpoint's ENIs, one per AZ (the usual recipe: all of them). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The region (com.amazonaws.<region>.execute-api). */
  region: string;
  /** The VPC's DNS attributes, as the VPC component set them (private DNS needs both on). */
  vpcDns: { hostnames: boolean; support: boolean };
  /**
   * Private DNS on the endpoint. Default true: `https://{api-id}.execute-api.{region}.amazonaws.com`
   * resolves to the endpoint inside the VPC. It also sends *every* execute-api name there, so public
   * (regional/edge) APIs become unreachable from this VPC; see the README.
   */
  privateDns?: boolean;
}

export interface PrivateApiThrottling {
  /** Steady-state requests per second for the whole stage. Default 100. */
  rateLimit?: number;
  /** Burst bucket size. Default 200. */
  burstLimit?: number;
}

export interface PrivateApiArgs {
  /** Method + path → function. At least one. */
  routes: PrivateApiRoute[];
  /**
   * execute-api VPC endpoint ids (this or any other account) that may invoke the API; each is also
   * associated with the API, which gives it the endpoint-specific host name. Default none (then
   * `endpoint` must be given). Wildcards are refused.
   */
  vpcEndpointIds?: pulumi.Input<string>[];
  /** Creates an execute-api interface endpoint (through `VpcEndpoints`) and allows it. Default none. */
  endpoint?: PrivateApiEndpointArgs;
  /**
   * Accounts whose IAM principals may invoke the API through any VPC endpoint (their own). Only
   * SigV4-signed requests carry an account, so every route must use AWS_IAM authorization. Default none.
   */
  consumerAccountIds?: string[];
  /**
   * Who inside the VPC calls the API (recorded on the component for the offline check, which proves
   * each one's whole path: security groups both ways on 443, private DNS, the resource policy, methods,
   * integrations and the Lambda permission). Admitting them to the endpoint is the caller's job.
   */
  callers?: PrivateApiCallers;
  /** Default authorization of routes that do not set one. Default "NONE" (the resource policy is the gate). */
  authorization?: "NONE" | "AWS_IAM";
  /** Stage name. Default "v1". */
  stageName?: string;
  /** Stage-wide throttling. Defaults: 100 requests/s, burst 200. */
  throttling?: PrivateApiThrottling;
  /** JSON access logs to the API's own log group. Default true (needs the account's API Gateway CloudWatch role). */
  accessLogs?: boolean;
  /** Retention of the access (and execution) log groups. Default 30 days. */
  logRetentionInDays?: number;
  /** Execution logging: "OFF", "ERROR" or "INFO" (never full request/response bodies). Default "OFF". */
  executionLogging?: "OFF" | "ERROR" | "INFO";
  /** Per-method CloudWatch metrics. Default true. */
  metricsEnabled?: boolean;
  /**
   * Sets the region's API Gateway account CloudWatch role (`aws.apigateway.Account`), which access and
   * execution logs require. It is one setting per account and region shared by every API there, so
   * only one stack should manage it. Default false (the account must already have one).
   */
  manageAccountCloudWatchRole?: boolean;
  /** Description of the REST API. */
  description?: string;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/** One route after validation. */
export interface PlannedRoute {
  method: RouteMethod;
  path: string;
  authorization: "NONE" | "AWS_IAM";
  /** Index into args.routes. */
  index: number;
  /** Path with `{param}` segments as `*`, as it appears in execute-api ARNs (method ANY appears as `*`). */
  arnPath: string;
  /** Slug for child resource names. */
  slug: string;
}

/** One API Gateway resource (path segment) to create, parents before children. */
export interface PlannedResource {
  path: string;
  parentPath: string;
  pathPart: string;
  slug: string;
}

export interface PrivateApiPlan {
  routes: PlannedRoute[];
  resources: PlannedResource[];
  stageName: string;
  throttling: Required<PrivateApiThrottling>;
  logRetentionInDays: number;
  accessLogs: boolean;
  executionLogging: "OFF" | "ERROR" | "INFO";
  metricsEnabled: boolean;
  consumerAccountIds: string[];
}

export const DEFAULT_THROTTLING: Required<PrivateApiThrottling> = { rateLimit: 100, burstLimit: 200 };

const SEGMENT_RE = /^[A-Za-z0-9._~-]+$/;
const PARAM_RE = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
const VPCE_RE = /^vpce-[0-9a-f]{8,17}$/;
const ACCOUNT_RE = ACCOUNT_ID_RE;
const STAGE_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** A wildcard-looking consumer value: "*", empty, or any glob character. */
function isWildcard(v: string): boolean {
  return v.trim() === "" || /[*?]/.test(v);
}

/** Checks one plain endpoint id; returns the problem or undefined. Used up front and again for values known only at deploy time. */
export function endpointIdProblem(key: string, id: string): ConfigError | undefined {
  if (isWildcard(id)) {
    return new ConfigError(
      key,
      `"${id}" is a wildcard consumer: one execute-api endpoint can reach every private API in the region, from any account, so a wildcard would let any VPC in AWS call this API`,
      "list each allowed VPC endpoint by its id (vpce-0123456789abcdef0), or allow an account with consumerAccountIds",
    );
  }
  if (!VPCE_RE.test(id))
    return new ConfigError(
      key,
      `"${id}" is not a VPC endpoint id`,
      "give the execute-api interface endpoint's id, e.g. vpce-0123456789abcdef0",
    );
  return undefined;
}

/**
 * The endpoint ids once resolved (created ones first, `created` of them): every one checked as the
 * plain ones were before registration, duplicates dropped.
 */
export function checkResolvedEndpointIds(name: string, ids: string[], created = 0): string[] {
  const problems = ids
    .map((id, i) => endpointIdProblem(i < created ? `${name}.endpoint` : `${name}.vpcEndpointIds[${i - created}]`, id))
    .filter((e): e is ConfigError => !!e);
  if (ids.length === 0)
    problems.push(
      new ConfigError(
        `${name}.vpcEndpointIds`,
        "the list is empty, so nothing could ever invoke the API",
        "list at least one execute-api endpoint id",
      ),
    );
  throwIfAny(problems);
  return [...new Set(ids)];
}

function slugOf(path: string): string {
  if (path === "/") return "root";
  return path
    .slice(1)
    .split("/")
    .map((s) => {
      const p = PARAM_RE.exec(s);
      return p ? `${p[1]}${p[2] ? "-greedy" : ""}` : s.replace(/[^A-Za-z0-9-]/g, "-");
    })
    .join("-");
}

/**
 * Validates the arguments and plans the resource tree, before anything is registered. Every problem
 * is reported at once, each naming `<name>.<arg>` and the fix.
 */
export function planPrivateApi(name: string, args: PrivateApiArgs): PrivateApiPlan {
  const errors: ConfigError[] = [];
  const defaultAuth = args.authorization ?? "NONE";
  if (defaultAuth !== "NONE" && defaultAuth !== "AWS_IAM")
    errors.push(
      new ConfigError(`${name}.authorization`, `"${defaultAuth}" is not supported`, `use "NONE" or "AWS_IAM"`),
    );

  // Routes.
  const routes: PlannedRoute[] = [];
  const resources = new Map<string, PlannedResource>();
  const seen = new Map<string, number>();
  const slugs = new Map<string, string>();
  if (!Array.isArray(args.routes) || args.routes.length === 0) {
    errors.push(
      new ConfigError(
        `${name}.routes`,
        "no routes given (a deployment needs at least one method)",
        'add routes such as { method: "GET", path: "/pets", function: fn }',
      ),
    );
  }
  (args.routes ?? []).forEach((route, i) => {
    const at = `${name}.routes[${i}]`;
    const method = String(route.method ?? "").toUpperCase();
    let ok = true;
    if (!(ROUTE_METHODS as readonly string[]).includes(method)) {
      errors.push(
        new ConfigError(
          `${at}.method`,
          `"${route.method}" is not an HTTP method API Gateway routes`,
          `use one of ${ROUTE_METHODS.join(", ")}`,
        ),
      );
      ok = false;
    }
    const path = route.path;
    const pathProblem = checkPath(path);
    if (pathProblem) {
      errors.push(
        new ConfigError(
          `${at}.path`,
          `"${path}" ${pathProblem}`,
          "write paths like /pets or /pets/{id}: a leading slash, no trailing slash, letters, digits, . _ ~ - and {param} segments",
        ),
      );
      ok = false;
    }
    const auth = route.authorization ?? defaultAuth;
    if (auth !== "NONE" && auth !== "AWS_IAM") {
      errors.push(new ConfigError(`${at}.authorization`, `"${auth}" is not supported`, `use "NONE" or "AWS_IAM"`));
      ok = false;
    }
    if (!route.function) {
      errors.push(
        new ConfigError(
          `${at}.function`,
          "no function given",
          "pass an aws.lambda.Function or { functionName, invokeArn }",
        ),
      );
      ok = false;
    }
    if (!ok) return;
    const key = `${method} ${path}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      errors.push(new ConfigError(`${at}`, `${key} is already routes[${prev}]`, "route each method and path once"));
      return;
    }
    seen.set(key, i);
    // Plan the resources along the path, and catch siblings API Gateway would refuse.
    const segments = path === "/" ? [] : path.slice(1).split("/");
    let parent = "/";
    for (const seg of segments) {
      const here = parent === "/" ? `/${seg}` : `${parent}/${seg}`;
      if (!resources.has(here)) {
        const clash = [...resources.values()].find(
          (r) => r.parentPath === parent && PARAM_RE.test(r.pathPart) && PARAM_RE.test(seg) && r.pathPart !== seg,
        );
        if (clash) {
          errors.push(
            new ConfigError(
              `${at}.path`,
              `"${path}" puts {param} segment ${seg} beside ${clash.pathPart} under ${parent}; API Gateway allows one variable segment per parent`,
              `use the same parameter name at that level (${clash.pathPart})`,
            ),
          );
          return;
        }
        let slug = slugOf(here);
        const owner = slugs.get(slug);
        if (owner !== undefined && owner !== here)
          slug = `${slug}-${crypto.createHash("sha256").update(here).digest("hex").slice(0, 6)}`;
        slugs.set(slug, here);
        resources.set(here, { path: here, parentPath: parent, pathPart: seg, slug });
      }
      parent = here;
    }
    const arnPath = segments.map((s) => (PARAM_RE.test(s) ? "*" : s)).join("/");
    routes.push({
      method: method as RouteMethod,
      path,
      authorization: auth,
      index: i,
      arnPath: `/${arnPath}`,
      slug: `${method}-${path === "/" ? "root" : (resources.get(path)?.slug ?? slugOf(path))}`,
    });
  });

  // Who may call.
  const ids = args.vpcEndpointIds;
  if (ids === undefined && !args.endpoint) {
    errors.push(
      new ConfigError(
        `${name}.vpcEndpointIds`,
        "no VPC endpoint given: a private API is reachable only through execute-api interface endpoints",
        "list the execute-api endpoint ids, or pass `endpoint` to create one",
      ),
    );
  } else if (ids !== undefined && ids.length === 0 && !args.endpoint) {
    errors.push(
      new ConfigError(
        `${name}.vpcEndpointIds`,
        "the list is empty, so nothing could ever invoke the API",
        "list at least one execute-api endpoint id, or pass `endpoint` to create one",
      ),
    );
  }
  const plainIds = new Set<string>();
  (ids ?? []).forEach((id, i) => {
    if (typeof id !== "string") return; // known at deploy time; checked then
    const problem = endpointIdProblem(`${name}.vpcEndpointIds[${i}]`, id);
    if (problem) errors.push(problem);
    else if (plainIds.has(id))
      errors.push(new ConfigError(`${name}.vpcEndpointIds[${i}]`, `${id} is listed twice`, "list each endpoint once"));
    plainIds.add(id);
  });
  const accounts = args.consumerAccountIds ?? [];
  accounts.forEach((a, i) => {
    const key = `${name}.consumerAccountIds[${i}]`;
    if (typeof a !== "string" || isWildcard(a)) {
      errors.push(
        new ConfigError(
          key,
          `"${a}" is a wildcard consumer: it would let every AWS account call this API`,
          "list each consumer account by its 12-digit id",
        ),
      );
    } else if (!ACCOUNT_RE.test(a)) {
      errors.push(
        new ConfigError(key, `"${a}" is not an AWS account id`, "give the 12-digit account id, e.g. 111122223333"),
      );
    } else if (accounts.indexOf(a) !== i) {
      errors.push(new ConfigError(key, `${a} is listed twice`, "list each account once"));
    }
  });
  if (accounts.length > 0) {
    const unsigned = routes.filter((r) => r.authorization !== "AWS_IAM").map((r) => `${r.method} ${r.path}`);
    if (unsigned.length > 0) {
      errors.push(
        new ConfigError(
          `${name}.consumerAccountIds`,
          `accounts can only be recognised on SigV4-signed requests, and ${unsigned.join(", ")} use${unsigned.length === 1 ? "s" : ""} authorization NONE`,
          `set authorization: "AWS_IAM" (on the API or on those routes), or allow the consumers' VPC endpoints by id in vpcEndpointIds instead`,
        ),
      );
    }
  }
  if (args.endpoint) {
    const endpoint = args.endpoint;
    collectConfigErrors(errors, () =>
      checkVpcEndpointsArgs(`${name}.endpoint`, {
        vpcId: endpoint.vpcId,
        region: endpoint.region,
        vpcDns: endpoint.vpcDns,
        interfaceServices: ["execute-api"],
        subnetIds: endpoint.subnetIds,
        privateDns: endpoint.privateDns ?? true,
        gatewayServices: [],
      }),
    );
    if (Array.isArray(args.endpoint.subnetIds) && args.endpoint.subnetIds.length === 0)
      errors.push(
        new ConfigError(
          `${name}.endpoint.subnetIds`,
          "no subnets given",
          "pass the VPC's private subnet ids, one per availability zone",
        ),
      );
  }

  // Stage.
  const stageName = args.stageName ?? "v1";
  const throttling = { ...DEFAULT_THROTTLING, ...(args.throttling ?? {}) };
  errors.push(...stageSettingsErrors(name, stageName, throttling));
  const retention = args.logRetentionInDays ?? 30;
  errors.push(...retentionErrors(`${name}.logRetentionInDays`, retention));
  const executionLogging = args.executionLogging ?? "OFF";
  if (!["OFF", "ERROR", "INFO"].includes(executionLogging))
    errors.push(
      new ConfigError(
        `${name}.executionLogging`,
        `"${executionLogging}" is not a logging level`,
        `use "OFF", "ERROR" or "INFO"`,
      ),
    );
  throwIfAny(errors);
  return {
    routes,
    resources: [...resources.values()],
    stageName,
    throttling,
    logRetentionInDays: retention,
    accessLogs: args.accessLogs ?? true,
    executionLogging,
    metricsEnabled: args.metricsEnabled ?? true,
    consumerAccountIds: [...accounts],
  };
}

/** Stage name and throttling checks, shared with the stack config (keys `<prefix>.stageName`, `<prefix>.throttling.*`). */
export function stageSettingsErrors(
  prefix: string,
  stageName: string,
  throttling: Required<PrivateApiThrottling>,
): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!STAGE_RE.test(stageName))
    errors.push(
      new ConfigError(
        `${prefix}.stageName`,
        `"${stageName}" is not a valid stage name`,
        "use letters, digits, - and _ (at most 128), e.g. v1",
      ),
    );
  if (!Number.isFinite(throttling.rateLimit) || throttling.rateLimit <= 0 || throttling.rateLimit > 10000)
    errors.push(
      new ConfigError(
        `${prefix}.throttling.rateLimit`,
        `${throttling.rateLimit} requests/s is outside API Gateway's range`,
        "use a number above 0 and at most 10000 (the default account quota)",
      ),
    );
  if (!Number.isInteger(throttling.burstLimit) || throttling.burstLimit < 1 || throttling.burstLimit > 5000)
    errors.push(
      new ConfigError(
        `${prefix}.throttling.burstLimit`,
        `${throttling.burstLimit} is outside API Gateway's range`,
        "use an integer from 1 to 5000 (the default account burst quota)",
      ),
    );
  return errors;
}

function checkPath(path: unknown): string | undefined {
  if (typeof path !== "string" || !path.startsWith("/")) return "does not start with /";
  if (path === "/") return undefined;
  if (path.endsWith("/")) return "ends with /";
  const segments = path.slice(1).split("/");
  const params = new Set<string>();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === "") return "has an empty segment (//)";
    const p = PARAM_RE.exec(s);
    if (p) {
      if (params.has(p[1])) return `uses the parameter {${p[1]}} twice`;
      params.add(p[1]);
      if (p[2] && i !== segments.length - 1) return "has a greedy {param+} segment that is not the last";
      continue;
    }
    if (/[{}]/.test(s)) return `has a malformed parameter segment "${s}"`;
    if (!SEGMENT_RE.test(s)) return `has a segment "${s}" with characters API Gateway does not allow`;
  }
  return undefined;
}

/** The JSON access-log line: one object per request, the fields an operator filters on. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  sourceIp: "$context.identity.sourceIp",
  vpceId: "$context.identity.vpceId",
  callerAccountId: "$context.identity.accountId",
  userArn: "$context.identity.userArn",
  userAgent: "$context.identity.userAgent",
  errorMessage: "$context.error.message",
  errorType: "$context.error.responseType",
});

/**
 * The resource policy, as a document: allow execute-api:Invoke from the listed VPC endpoints (and the
 * listed accounts' principals), and an explicit deny for any request that came through another
 * endpoint and from no listed account. `apiArn` is the API's execution ARN.
 */
export function privateApiPolicy(
  apiArn: string,
  vpcEndpointIds: string[],
  consumerAccountIds: string[] = [],
): Record<string, unknown> {
  const resource = `${apiArn}/*`;
  const statements: Record<string, unknown>[] = [
    {
      Sid: "AllowListedVpcEndpoints",
      Effect: "Allow",
      Principal: "*",
      Action: "execute-api:Invoke",
      Resource: resource,
      Condition: { StringEquals: { "aws:SourceVpce": vpcEndpointIds } },
    },
  ];
  if (consumerAccountIds.length > 0) {
    statements.push({
      Sid: "AllowListedAccounts",
      Effect: "Allow",
      Principal: { AWS: consumerAccountIds.map((a) => `arn:aws:iam::${a}:root`) },
      Action: "execute-api:Invoke",
      Resource: resource,
    });
  }
  // Keys in one condition block are ANDed: denied unless the endpoint is listed or the signed caller's account is.
  const notListed: Record<string, string[]> = { "aws:SourceVpce": vpcEndpointIds };
  if (consumerAccountIds.length > 0) notListed["aws:PrincipalAccount"] = consumerAccountIds;
  statements.push({
    Sid: "DenyUnlistedSources",
    Effect: "Deny",
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: resource,
    Condition: { StringNotEquals: notListed },
  });
  return { Version: "2012-10-17", Statement: statements };
}

/** What a route contributes to the deployment's content: everything API Gateway snapshots into a deployment. */
export interface RouteSnapshot {
  method: string;
  path: string;
  authorization: string;
  integration: { type: "AWS_PROXY"; httpMethod: "POST"; uri: string };
}

/**
 * The deployment trigger: sha256 of the routes, their integrations and the resource policy. A
 * deployment is a snapshot; without a new one, changed routes or a changed policy never reach the
 * stage. Route order does not matter.
 */
export function deploymentTrigger(routes: RouteSnapshot[], policy: unknown): string {
  const sorted = [...routes].sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
  return crypto
    .createHash("sha256")
    .update(JSON.stringify({ routes: sorted, policy }))
    .digest("hex");
}

/** `arn:aws:execute-api:<region>:<account>:<api-id>` → its parts. */
export function parseExecutionArn(arn: string): { partition: string; region: string; account: string; apiId: string } {
  const m = /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):(\d{12}):([a-z0-9]+)$/.exec(arn);
  if (!m) throw new Error(`not an API Gateway execution ARN: ${arn}`);
  return { partition: m[1], region: m[2], account: m[3], apiId: m[4] };
}

/** Declared in-VPC callers of a private API. */
export interface PrivateApiCallers {
  /** Security groups whose members call through the execute-api endpoint. */
  securityGroupIds?: pulumi.Input<string>[];
  /** Address blocks whose hosts call through the execute-api endpoint. */
  cidrs?: string[];
  /** Names of VpcFunction components among the callers (their groups are in securityGroupIds). */
  functions?: string[];
}

/** How callers that do not resolve the private DNS name (on-premises over Direct Connect/VPN, VPCs with private DNS off) call the API. */
export interface NoPrivateDnsAccess {
  /** `https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/{stage}`: public DNS names that resolve to each endpoint's private IPs. */
  endpointInvokeUrls: string[];
  /** Header to send when calling the endpoint's own DNS name (https://vpce-….execute-api.{region}.vpce.amazonaws.com/{stage}/…). */
  apiIdHeader: { "x-apigw-api-id": string };
  /** Alternatively, the Host header to send to the endpoint's DNS name. */
  hostHeader: string;
  howTo: string;
}

function isLambdaRef(f: PrivateApiRoute["function"]): f is LambdaRef {
  return (
    !pulumi.CustomResource.isInstance(f) &&
    typeof (f as LambdaRef).invokeArn !== "undefined" &&
    typeof (f as LambdaRef).functionName !== "undefined"
  );
}

/**
 * An API Gateway REST API of endpoint type PRIVATE (docs/designs.md §5): reachable only through execute-api
 * interface endpoints, and, because one endpoint can reach every private API in the region from any
 * account, gated by a resource policy that names the allowed endpoints (or accounts) and denies the
 * rest. Lambda proxy routes, a deployment re-created whenever routes or the policy change, and a
 * stage with JSON access logs, throttling and metrics.
 */
export class PrivateApi extends PlannedComponent<PrivateApiPlan> {
  /** The REST API id. */
  public readonly restApiId: pulumi.Output<string>;
  /** `arn:aws:execute-api:<region>:<account>:<api-id>`. */
  public readonly executionArn: pulumi.Output<string>;
  /** The stage name. */
  public readonly stageName: string;
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: works where the endpoint's private DNS resolves. */
  public readonly invokeUrl: pulumi.Output<string>;
  /** Every VPC endpoint allowed and associated (created one first). */
  public readonly vpcEndpointIds: pulumi.Output<string[]>;
  /** `{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com` per endpoint: resolvable anywhere, no private DNS needed. */
  public readonly endpointHostnames: pulumi.Output<string[]>;
  /** How callers without private DNS reach the API. */
  public readonly withoutPrivateDns: pulumi.Output<NoPrivateDnsAccess>;
  /** The resource policy document (JSON). */
  public readonly policy: pulumi.Output<string>;
  /** The content hash that re-creates the deployment. */
  public readonly deploymentTrigger: pulumi.Output<string>;
  /** The access log group (undefined with accessLogs false). */
  public readonly accessLogGroupName: pulumi.Output<string> | undefined;
  /** The endpoint this component created, if any (`allowFrom` admits callers to it). */
  public readonly endpoints: VpcEndpoints | undefined;

  constructor(name: string, args: PrivateApiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planPrivateApi(name, args);
    super(
      "vpc-lambda-kit:api:PrivateApi",
      name,
      plan,
      {
        stageName: plan.stageName,
        routes: plan.routes.map((r) => `${r.method} ${r.path}`),
        consumerAccountIds: plan.consumerAccountIds,
        callers: {
          securityGroupIds: args.callers?.securityGroupIds ?? [],
          cidrs: args.callers?.cidrs ?? [],
          functions: args.callers?.functions ?? [],
        },
      },
      opts,
    );
    this.stageName = plan.stageName;
    const child = { parent: this };
    const tags = args.tags ?? {};

    if (args.endpoint) {
      this.endpoints = new VpcEndpoints(
        `${name}-endpoint`,
        {
          vpcId: args.endpoint.vpcId,
          region: args.endpoint.region,
          vpcDns: args.endpoint.vpcDns,
          interfaceServices: ["execute-api"],
          subnetIds: args.endpoint.subnetIds,
          privateDns: args.endpoint.privateDns ?? true,
          gatewayServices: [],
          tags,
        },
        child,
      );
    }
    const created = this.endpoints ? [this.endpoints.interfaceEndpointIds["execute-api"]] : [];
    // Ids known only at deploy time (another stack's endpoint) get the same checks as plain ones.
    const endpointIds = pulumi
      .all([...created, ...(args.vpcEndpointIds ?? [])])
      .apply((ids) => checkResolvedEndpointIds(name, ids, created.length));
    this.vpcEndpointIds = endpointIds;

    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        description: args.description ?? `${name}: private REST API (reachable only through listed VPC endpoints)`,
        endpointConfiguration: { types: "PRIVATE", vpcEndpointIds: endpointIds },
        tags,
      },
      child,
    );
    this.restApiId = api.id;
    this.executionArn = api.executionArn;

    // Separate policy resource, not RestApi's `policy` argument: API Gateway stores the shorthand
    // `execute-api:/*` expanded to the full ARN, so an inline policy shows a change on every run, and
    // the full ARN needs the API id, which only a separate resource can reference. The ordering bug
    // that comes with it (CreateDeployment on a private API with no policy fails, and a deployment
    // made while the policy is being updated snapshots the old one) is closed by the deployment's
    // dependsOn on this resource and the policy in its trigger.
    const policyDoc = pulumi
      .all([api.executionArn, endpointIds])
      .apply(([arn, ids]) => privateApiPolicy(arn, ids, plan.consumerAccountIds));
    this.policy = policyDoc.apply((d) => JSON.stringify(d));
    const policy = new aws.apigateway.RestApiPolicy(
      `${name}-policy`,
      { restApiId: api.id, policy: this.policy },
      { parent: api },
    );

    const resourceIds = new Map<string, pulumi.Output<string>>([["/", api.rootResourceId]]);
    for (const r of plan.resources) {
      const parentId = resourceIds.get(r.parentPath);
      if (!parentId) throw new Error(`internal: resource ${r.parentPath} planned after its child ${r.path}`);
      const res = new aws.apigateway.Resource(
        `${name}-res-${r.slug}`,
        { restApi: api.id, parentId, pathPart: r.pathPart },
        { parent: api },
      );
      resourceIds.set(r.path, res.id);
    }

    const dependsOn: pulumi.Resource[] = [policy];
    const snapshots: pulumi.Output<RouteSnapshot>[] = [];
    for (const r of plan.routes) {
      const route = args.routes[r.index];
      const target = route.function;
      const invokeArn = isLambdaRef(target) ? pulumi.output(target.invokeArn) : target.invokeArn;
      const functionName = isLambdaRef(target) ? target.functionName : target.name;
      const resourceId = resourceIds.get(r.path) as pulumi.Output<string>;
      const method = new aws.apigateway.Method(
        `${name}-method-${r.slug}`,
        {
          restApi: api.id,
          resourceId,
          httpMethod: r.method,
          authorization: r.authorization,
        },
        { parent: api },
      );
      const integration = new aws.apigateway.Integration(
        `${name}-integration-${r.slug}`,
        {
          restApi: api.id,
          resourceId,
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          // Lambda is always invoked with POST, whatever the client's method.
          integrationHttpMethod: "POST",
          uri: invokeArn,
        },
        { parent: method },
      );
      // Scoped to this method and path on any stage: `/*/*` would let every route of the API (and any
      // route added later) invoke this function.
      new aws.lambda.Permission(
        `${name}-invoke-${r.slug}`,
        {
          action: "lambda:InvokeFunction",
          function: functionName,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${api.executionArn}/*/${r.method === "ANY" ? "*" : r.method}${r.arnPath}`,
        },
        { parent: method },
      );
      dependsOn.push(method, integration);
      snapshots.push(
        invokeArn.apply((uri) => ({
          method: r.method,
          path: r.path,
          authorization: r.authorization,
          integration: { type: "AWS_PROXY" as const, httpMethod: "POST" as const, uri },
        })),
      );
    }

    // The policy's content without the API's own ARN, which never changes for this API.
    const trigger = pulumi
      .all([pulumi.all(snapshots), endpointIds])
      .apply(([routes, ids]) => deploymentTrigger(routes, privateApiPolicy("<api>", ids, plan.consumerAccountIds)));
    this.deploymentTrigger = trigger;
    // A changed trigger replaces the deployment; Pulumi creates the replacement first (its default),
    // the stage moves to it, and only then is the old one deleted, so the stage is never without one.
    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        restApi: api.id,
        description: pulumi.interpolate`${name} routes+policy sha256 ${trigger}`,
        triggers: { redeployment: trigger },
      },
      { parent: api, dependsOn },
    );

    let accountSetting: aws.apigateway.Account | undefined;
    if (args.manageAccountCloudWatchRole) {
      const parts = api.executionArn.apply(parseExecutionArn);
      const role = new aws.iam.Role(
        `${name}-apigw-logs-role`,
        {
          description: "API Gateway account-level role: writes access and execution logs to CloudWatch Logs",
          assumeRolePolicy: parts.apply((p) => serviceTrustPolicy("apigateway.amazonaws.com", p.account)),
          tags,
        },
        child,
      );
      const rolePolicy = new aws.iam.RolePolicy(
        `${name}-apigw-logs-policy`,
        {
          role: role.id,
          // Every API in this account and region logs through this one role, to groups it names itself.
          policy: parts.apply((p) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "ApiGatewayLogs",
                  Effect: "Allow",
                  Action: [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                  ],
                  Resource: `arn:${p.partition}:logs:${p.region}:${p.account}:*`,
                },
              ],
            }),
          ),
        },
        { parent: role },
      );
      accountSetting = new aws.apigateway.Account(
        `${name}-apigw-account`,
        { cloudwatchRoleArn: role.arn },
        { parent: this, dependsOn: [rolePolicy] },
      );
    }

    // Both of the API's log groups keep their logs logRetentionInDays.
    const logGroup = (role: string, logGroupName?: pulumi.Input<string>) =>
      new aws.cloudwatch.LogGroup(
        `${name}-${role}`,
        { ...(logGroupName ? { name: logGroupName } : {}), retentionInDays: plan.logRetentionInDays, tags },
        child,
      );
    const accessLogGroup = plan.accessLogs ? logGroup("access-logs") : undefined;
    this.accessLogGroupName = accessLogGroup?.name;
    // API Gateway writes execution logs to this fixed name; creating it first gives it a retention.
    if (plan.executionLogging !== "OFF")
      logGroup("execution-logs", pulumi.interpolate`API-Gateway-Execution-Logs_${api.id}/${plan.stageName}`);
    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName: plan.stageName,
        accessLogSettings: accessLogGroup
          ? { destinationArn: accessLogGroup.arn, format: ACCESS_LOG_FORMAT }
          : undefined,
        tags,
      },
      { parent: api, dependsOn: accountSetting ? [accountSetting] : [] },
    );
    new aws.apigateway.MethodSettings(
      `${name}-method-settings`,
      {
        restApi: api.id,
        stageName: stage.stageName,
        methodPath: "*/*",
        settings: {
          metricsEnabled: plan.metricsEnabled,
          throttlingRateLimit: plan.throttling.rateLimit,
          throttlingBurstLimit: plan.throttling.burstLimit,
          loggingLevel: plan.executionLogging,
          // Full request/response bodies would put callers' data in the logs.
          dataTraceEnabled: false,
        },
      },
      { parent: stage },
    );

    const parts = api.executionArn.apply(parseExecutionArn);
    this.invokeUrl = pulumi
      .all([parts, stage.stageName])
      .apply(([p, s]) => `https://${p.apiId}.execute-api.${p.region}.amazonaws.com/${s}`);
    this.endpointHostnames = pulumi
      .all([parts, endpointIds])
      .apply(([p, ids]) => ids.map((id) => `${p.apiId}-${id}.execute-api.${p.region}.amazonaws.com`));
    this.withoutPrivateDns = pulumi.all([parts, this.endpointHostnames, stage.stageName]).apply(([p, hosts, s]) => ({
      endpointInvokeUrls: hosts.map((h) => `https://${h}/${s}`),
      apiIdHeader: { "x-apigw-api-id": p.apiId },
      hostHeader: `${p.apiId}.execute-api.${p.region}.amazonaws.com`,
      howTo:
        `Without the endpoint's private DNS (on-premises over Direct Connect or VPN, or a VPC whose execute-api endpoint has private DNS off), ` +
        `call an endpoint-specific URL (${hosts.map((h) => `https://${h}/${s}`).join(", ")}), whose public DNS name resolves to that endpoint's private IPs; ` +
        `or call the endpoint's own DNS name (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids <id> --query 'VpcEndpoints[0].DnsEntries[0].DnsName') ` +
        `as https://<that name>/${s}/… with the header "x-apigw-api-id: ${p.apiId}" (or "Host: ${p.apiId}.execute-api.${p.region}.amazonaws.com").`,
    }));

    this.registerOutputs({
      restApiId: this.restApiId,
      invokeUrl: this.invokeUrl,
      vpcEndpointIds: this.vpcEndpointIds,
      endpointHostnames: this.endpointHostnames,
      withoutPrivateDns: this.withoutPrivateDns,
      deploymentTrigger: this.deploymentTrigger,
    });
  }

  /** Lets a security group (a caller's) reach the execute-api endpoint this component created, on 443. */
  public allowFrom(securityGroupId: pulumi.Input<string>, description: string): void {
    if (!this.endpoints)
      throw new ConfigError(
        `${this.name}.allowFrom`,
        "this API did not create its endpoint",
        "admit callers to the endpoint you passed in vpcEndpointIds on its own security group",
      );
    this.endpoints.allowFrom(securityGroupId, description);
  }
}
