import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError } from "../../components/errors";
import {
  endpointIdProblem,
  NoPrivateDnsAccess,
  PrivateApi,
  PrivateApiCallers,
  stageSettingsErrors,
} from "../../components/private-api";
import { VpcFunction } from "../../components/vpc-function";
import { ACCOUNT_ID_RE, EnvConfig, EnvConfigInput, PROJECT as P, sameAccount } from "../config/schema";
import type { DataOutputs, NetworkOutputs } from "../config/outputs";
import { allowToEndpoints, serviceFlow } from "../endpoints";
import { assertDataOutputs, clientRoleArn, DbAccess, dbClientAccess, dbClientConfigErrors } from "../db-client";
import type { Feature } from "./feature";
import { cidrContains, parseCidr, tryParseCidr } from "../../components/cidr";

export interface PrivateApiAppOutputs {
  privateApi?: {
    restApiId: pulumi.Output<string>;
    /** Works inside a VPC whose execute-api endpoint has private DNS on. */
    invokeUrl: pulumi.Output<string>;
    vpcEndpointIds: pulumi.Output<string[]>;
    endpointHostnames: pulumi.Output<string[]>;
    withoutPrivateDns: pulumi.Output<NoPrivateDnsAccess>;
    stageName: string;
    petsFunctionName: pulumi.Output<string>;
    petsAccess: DbAccess;
  };
}

/**
 * Roles in account A that must be able to read the database's master secret for pets-api: its pinned
 * role when it uses pg across accounts, else none. For the data side's secretReaders.
 */
export function petsApiSecretReaders(cfg: EnvConfigInput): string[] {
  const pa = cfg.privateApi;
  if (!pa || !pa.enabled || pa.petsApi.access !== "pg" || sameAccount(cfg.accounts) !== false) return [];
  return [clientRoleArn(cfg, "pets-api")];
}

/**
 * Config-time checks of `privateApi` against the rest of the environment: consumers are listed ids
 * (never wildcards), a VPC endpoint exists to bind the API to, and the pets service's database path
 * is one that can work. Nothing is registered before these pass.
 */
export function privateApiConfigErrors(cfg: EnvConfigInput): ConfigError[] {
  const pa = cfg.privateApi;
  if (!pa || !pa.enabled || !cfg.roles.includes("apps")) return [];
  const errors: ConfigError[] = [];
  const k = (s: string) => `${P}:privateApi.${s}`;
  errors.push(...stageSettingsErrors(`${P}:privateApi`, pa.stageName, pa.throttling));
  const ids = pa.consumers.vpcEndpointIds;
  ids.forEach((id, i) => {
    const problem = endpointIdProblem(k(`consumers.vpcEndpointIds[${i}]`), id);
    if (problem) errors.push(problem);
    else if (ids.indexOf(id) !== i)
      errors.push(
        new ConfigError(k(`consumers.vpcEndpointIds[${i}]`), `${id} is listed twice`, "list each endpoint once"),
      );
  });
  pa.consumers.accountIds.forEach((a, i) => {
    if (a.trim() === "" || /[*?]/.test(a))
      errors.push(
        new ConfigError(
          k(`consumers.accountIds[${i}]`),
          `"${a}" is a wildcard consumer: it would let every AWS account call this API`,
          "list each consumer account by its 12-digit id",
        ),
      );
    else if (!ACCOUNT_ID_RE.test(a))
      errors.push(
        new ConfigError(
          k(`consumers.accountIds[${i}]`),
          `"${a}" is not an AWS account id`,
          "give the 12-digit account id, e.g. 111122223333",
        ),
      );
  });
  if (pa.consumers.accountIds.length > 0 && pa.authorization !== "AWS_IAM") {
    errors.push(
      new ConfigError(
        k("consumers.accountIds"),
        "accounts can only be recognised on SigV4-signed requests, and the API's authorization is NONE",
        `set ${P}:privateApi.authorization to AWS_IAM, or list the consumers' VPC endpoints in consumers.vpcEndpointIds instead`,
      ),
    );
  }
  errors.push(...consumerErrors(cfg));
  if (!cfg.network.interfaceEndpoints.includes("execute-api") && ids.length === 0) {
    errors.push(
      new ConfigError(
        k("enabled"),
        "a private API is reachable only through execute-api VPC endpoints, and the network has none and no consumer endpoint is listed",
        `add execute-api to ${P}:network.interfaceEndpoints (in a split apps stack too), or list endpoints in ${P}:privateApi.consumers.vpcEndpointIds`,
      ),
    );
  }
  const access = pa.petsApi.access;
  errors.push(
    ...dbClientConfigErrors(cfg, access, {
      fn: "pets-api",
      enabledKey: k("petsApi"),
      usesDb: "keeps its pets in",
      disableFix: `${P}:privateApi.enabled`,
      needs: "the database's cluster ARN, endpoint and secret",
      inAnotherAccount: "the database",
      accountsFixNote: "",
      accessKey: k("petsApi.access"),
      pgNote: "",
    }),
  );
  return errors;
}

const SG_ID_RE = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * The in-VPC consumers (`privateApi.consumers.securityGroupIds`, `cidrs`, `sampleCaller`): each is
 * admitted to the network's execute-api endpoint on 443, so the network must have that endpoint; groups
 * are listed by id, blocks are private IPv4 networks (never 0.0.0.0/0), the sample caller sends unsigned
 * requests (so the API's authorization must be NONE).
 */
function consumerErrors(cfg: EnvConfigInput): ConfigError[] {
  const pa = cfg.privateApi;
  if (!pa) return [];
  const c = pa.consumers;
  const k = (s: string) => `${P}:privateApi.consumers.${s}`;
  const errors: ConfigError[] = [];
  c.securityGroupIds.forEach((id, i) => {
    if (!SG_ID_RE.test(id))
      errors.push(
        new ConfigError(
          k(`securityGroupIds[${i}]`),
          `"${id}" is not a security group id`,
          "give the id of a security group in the network VPC, e.g. sg-0123456789abcdef0",
        ),
      );
    else if (c.securityGroupIds.indexOf(id) !== i)
      errors.push(new ConfigError(k(`securityGroupIds[${i}]`), `${id} is listed twice`, "list each group once"));
  });
  c.cidrs.forEach((text, i) => {
    const parsed = tryParseCidr(text);
    if (typeof parsed === "string")
      errors.push(new ConfigError(k(`cidrs[${i}]`), parsed, "give a private IPv4 block, e.g. 10.0.0.0/24"));
    else if (!PRIVATE_BLOCKS.some((p) => cidrContains(p, parsed)))
      errors.push(
        new ConfigError(
          k(`cidrs[${i}]`),
          `${text} is not a private (RFC 1918) block${parsed.prefix === 0 ? ": it would admit every address" : ""}`,
          "list the callers' private networks (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), e.g. the subnets they run in",
        ),
      );
    else if (c.cidrs.indexOf(text) !== i)
      errors.push(new ConfigError(k(`cidrs[${i}]`), `${text} is listed twice`, "list each block once"));
  });
  const inVpc = c.securityGroupIds.length > 0 || c.cidrs.length > 0 || c.sampleCaller;
  if (inVpc && !cfg.network.interfaceEndpoints.includes("execute-api")) {
    const key = c.sampleCaller ? "sampleCaller" : c.securityGroupIds.length > 0 ? "securityGroupIds" : "cidrs";
    errors.push(
      new ConfigError(
        k(key),
        "in-VPC consumers call through the network's execute-api interface endpoint, and the network has none",
        `add execute-api to ${P}:network.interfaceEndpoints, or remove ${P}:privateApi.consumers.${key}`,
      ),
    );
  }
  if (c.sampleCaller && pa.authorization !== "NONE")
    errors.push(
      new ConfigError(
        k("sampleCaller"),
        "the sample caller sends unsigned requests, and the API's authorization is AWS_IAM",
        `set ${P}:privateApi.authorization to NONE, or turn ${P}:privateApi.consumers.sampleCaller off`,
      ),
    );
  return errors;
}

const PRIVATE_BLOCKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(parseCidr);

/**
 * docs/designs.md §5 in the apps role (account A): the pets service behind a PRIVATE REST API bound to the
 * network's execute-api endpoint and the listed consumers' endpoints.
 *
 * pets-api is a VpcFunction in the network's private subnets either way, so its egress is exactly what
 * it declares and the offline check can prove it has no internet path: with "pg" it reaches 5432 in the
 * data VPC over the Transit Gateway plus Secrets Manager; with "data-api" it needs no path to the
 * database at all, only HTTPS to the rds-data API (through an interface endpoint when
 * network.interfaceEndpoints lists rds-data, else the NAT), and its role may call the Data API on that
 * one cluster.
 */
export function privateApiApps(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: NetworkOutputs,
  data: DataOutputs | undefined,
): PrivateApiAppOutputs {
  const pa = cfg.privateApi;
  if (!pa || !pa.enabled) return {};
  assertDataOutputs(data, "pets-api");
  const access = pa.petsApi.access;
  const db = dbClientAccess(cfg, network, data, { functionName: "pets-api", access });
  const environment: Record<string, pulumi.Input<string>> = {
    ...db.environment,
    DB_NAME: data.databaseName.apply(String),
    ...(access === "data-api"
      ? { DB_CLUSTER_ARN: db.clusterArn }
      : {
          DB_HOST: db.host(),
          DB_PORT: data.port.apply(String),
          DB_CONNECT_TIMEOUT_MS: "3000",
        }),
  };
  const description = `pets service behind the private API (${access === "pg" ? "PostgreSQL over the Transit Gateway" : "Aurora Data API"})`;

  if (db.crossAccount) {
    const readers = cfg.database?.secretReaderArns;
    const mine = petsApiSecretReaders(cfg)[0];
    if (cfg.roles.includes("data") && readers && !readers.includes(mine)) {
      pulumi.log.warn(
        `pets-api (pg, cross-account) reads the master secret as ${mine}, but the data role shares it only with ${readers.join(", ") || "no role"}: add petsApiSecretReaders(cfg) to the data side's secretReaderArns, or reads fail with AccessDenied`,
      );
    }
  }
  const vfn = new VpcFunction(
    "pets-api",
    {
      source: "pets-api",
      description,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows: db.flows,
      environment,
      policyStatements: db.statements,
      memorySize: pa.petsApi.memoryMb,
      timeout: pa.petsApi.timeoutSeconds,
      reservedConcurrency: pa.petsApi.reservedConcurrency,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    { provider, transformations: db.transformations },
  );
  allowToEndpoints(cfg, network, "pets-api", vfn.securityGroupId, provider);
  const fn = vfn.fn;

  const callers = inVpcConsumers(cfg, network, provider);
  const fromNetwork = cfg.network.interfaceEndpoints.includes("execute-api") ? [network.executeApiEndpointId] : [];
  // ANY on both resources: the function answers 405 with Allow itself, instead of API Gateway's 403
  // "Missing Authentication Token" for a method nobody routed.
  const api = new PrivateApi(
    "private-api",
    {
      routes: [
        { method: "ANY", path: "/pets", function: fn },
        { method: "ANY", path: "/pets/{id}", function: fn },
      ],
      vpcEndpointIds: [...fromNetwork, ...pa.consumers.vpcEndpointIds],
      consumerAccountIds: pa.consumers.accountIds,
      authorization: pa.authorization,
      stageName: pa.stageName,
      throttling: pa.throttling,
      accessLogs: pa.accessLogs,
      executionLogging: pa.executionLogging,
      manageAccountCloudWatchRole: pa.manageAccountCloudWatchRole,
      logRetentionInDays: cfg.logRetentionInDays,
      description: `${cfg.stack}: pets service, reachable only through listed VPC endpoints`,
      callers: callers.declared,
    },
    { provider },
  );
  callers.attach(api);
  return {
    privateApi: {
      restApiId: api.restApiId,
      invokeUrl: api.invokeUrl,
      vpcEndpointIds: api.vpcEndpointIds,
      endpointHostnames: api.endpointHostnames,
      withoutPrivateDns: api.withoutPrivateDns,
      stageName: api.stageName,
      petsFunctionName: fn.name,
      petsAccess: access,
    },
  };
}

/**
 * The declared in-VPC callers: each listed security group and address block gets an ingress rule on
 * the network's execute-api endpoint group (tcp/443), and with `sampleCaller` the kit adds
 * `private-api-caller`, a VpcFunction in the network's private subnets whose only flow is 443 to that
 * endpoint (allowed both ways), configured with the API's invoke URL once the API exists (`attach`).
 */
function inVpcConsumers(
  cfg: EnvConfig,
  network: NetworkOutputs,
  provider: aws.Provider,
): { declared: PrivateApiCallers; attach: (api: PrivateApi) => void } {
  const c = cfg.privateApi?.consumers;
  if (!c || !cfg.network.interfaceEndpoints.includes("execute-api")) return { declared: {}, attach: () => undefined };
  for (const id of c.securityGroupIds)
    new aws.vpc.SecurityGroupIngressRule(
      `private-api-consumer-${id}`,
      {
        securityGroupId: network.endpointSecurityGroupId,
        referencedSecurityGroupId: id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: `private API consumer ${id} to the execute-api endpoint`,
      },
      { provider },
    );
  for (const cidr of c.cidrs)
    new aws.vpc.SecurityGroupIngressRule(
      `private-api-consumer-${cidr.replace(/[./]/g, "-")}`,
      {
        securityGroupId: network.endpointSecurityGroupId,
        cidrIpv4: cidr,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: `private API consumers in ${cidr} to the execute-api endpoint`,
      },
      { provider },
    );
  const declared: PrivateApiCallers = { securityGroupIds: [...c.securityGroupIds], cidrs: [...c.cidrs], functions: [] };
  if (!c.sampleCaller) return { declared, attach: () => undefined };
  // The caller is created before the API (the API records the caller's group), so its URL arrives later.
  let setUrl: (u: pulumi.Output<string>) => void = () => undefined;
  const apiUrl = new Promise<pulumi.Output<string>>((resolve) => (setUrl = resolve));
  const caller = new VpcFunction(
    "private-api-caller",
    {
      source: "private-api-caller",
      description: "sample consumer of the private API: GET /pets through the execute-api endpoint",
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows: [serviceFlow(cfg, network, "execute-api", "call the private API through the execute-api endpoint")],
      environment: { API_URL: pulumi.output(apiUrl).apply((u) => u), CALL_TIMEOUT_MS: "5000" },
      memorySize: 128,
      timeout: 10,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    { provider },
  );
  allowToEndpoints(cfg, network, "private-api-caller", caller.securityGroupId, provider);
  declared.securityGroupIds = [...(declared.securityGroupIds ?? []), caller.securityGroupId];
  declared.functions = ["private-api-caller"];
  return { declared, attach: (api) => setUrl(api.invokeUrl) };
}

/** docs/designs.md §5: the pets service behind a PRIVATE REST API (docs/private-api.md). */
export const privateApiFeature: Feature<PrivateApiAppOutputs> = {
  name: "private-api",
  configErrors: ({ cfg, failed }) =>
    failed.has("privateApi") || failed.has("data") || failed.has("accounts") || failed.has("network")
      ? []
      : privateApiConfigErrors(cfg),
  dbSecretReaders: petsApiSecretReaders,
  apps: ({ cfg, provider, network, data }) => privateApiApps(cfg, provider, network, data),
};
