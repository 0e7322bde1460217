import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, ConfigErrors, throwIfAny } from "./errors";
import { Flow } from "./flows";
import { exactHeaderRegex, HEADER_VALUE_MAX, renderSquidConf } from "./squid-conf";

export type ProxyPlacement = "public" | "private";

/**
 * Arguments of {@link SquidProxyTier}. Counts, ports, CIDRs and domains are plain values (not
 * Inputs) because they are validated, and squid.conf is rendered, before anything is registered.
 */
export interface SquidProxyTierArgs {
  /** The VPC the proxies, the load balancer and both security groups live in. */
  vpcId: pulumi.Input<string>;
  /**
   * "public": proxies in public subnets, each with its own fixed Elastic IP from a pool the tier
   * allocates (no NAT needed). "private": proxies in private subnets behind a FixedEgressVpc's NAT;
   * pass that VPC's `egressIps` as `natEgressIps`. No default: the subnets differ per choice.
   */
  placement: ProxyPlacement;
  /** Subnets for the proxy instances (public or private per `placement`), one per zone, ≥ 2 zones. */
  instanceSubnetIds: pulumi.Input<string>[];
  /** Subnets for the internal load balancer's nodes, one per zone, same zone order. Usually the private subnets. */
  lbSubnetIds: pulumi.Input<string>[];
  /**
   * CIDRs of `lbSubnetIds`, same order. Squid accepts the PROXY protocol header (the real client
   * address) only from these, so they must be exactly the load balancer subnets.
   */
  lbSubnetCidrs: string[];
  /**
   * Zone of subnet i of both lists (names, or Outputs of names). Plain names are checked to be
   * ≥ 2 distinct zones before anything is registered; Outputs when they resolve.
   */
  availabilityZones: pulumi.Input<string>[];
  /**
   * CIDRs the clients (the Lambdas' subnets) come from. Squid's `src` check always uses them; the
   * load balancer's security group admits them too unless `openToClientCidrs` is false.
   */
  clientCidrs: string[];
  /**
   * Admit `clientCidrs` at the load balancer's security group. Default true. Set false to admit only
   * security groups passed to `allowFrom` (tighter: one function's SG instead of whole subnets).
   */
  openToClientCidrs?: boolean;
  /** Destination whitelist: `api.example.com` (that host) or `.example.com` (domain and subdomains). */
  allowedDomains: string[];
  /** Proxy port (load balancer listener and Squid). Default 3128. The CLB accepts 25, 80, 443, 465, 587, 1024..65535. */
  port?: number;
  /** Name of the secret request header. Default "X-Lambda-Proxy-Token". Squid removes it before forwarding. */
  headerName?: string;
  /**
   * The secret header value (1..512 visible ASCII characters). The tier stores it in a new Secrets
   * Manager secret (a Pulumi secret in state, never in user data). Exactly one of `headerValue` and
   * `headerSecretArn`.
   */
  headerValue?: pulumi.Input<string>;
  /**
   * Full ARN (with its 6-character suffix) of an existing secret whose SecretString is the header
   * value; the stack then holds no copy of the value at all. Exactly one of this and `headerValue`.
   */
  headerSecretArn?: pulumi.Input<string>;
  /**
   * ARN of the customer-managed KMS key the header secret is encrypted with. Default: none (the
   * `aws/secretsmanager` key, which needs no IAM grant). When set, a new secret uses it and the
   * instances get kms:Decrypt on it, via Secrets Manager only.
   */
  headerSecretKmsKeyArn?: pulumi.Input<string>;
  /** Required with placement "private": the NAT's public IPs (FixedEgressVpc.egressIps). Refused with "public". */
  natEgressIps?: pulumi.Input<string[]>;
  /**
   * Placement "public" only: existing EIP allocation ids to use as the pool (one per instance), so
   * the SaaS allowlist survives a rebuild of the tier; they get the pool tag. Default: new EIPs.
   */
  eipAllocationIds?: pulumi.Input<string>[];
  /** Instances to run. Default 2. */
  desiredCapacity?: number;
  /** Default: desiredCapacity. */
  minSize?: number;
  /**
   * Default: desiredCapacity. With placement "public" it must equal desiredCapacity: every instance
   * needs one of the pool's EIPs and the pool has desiredCapacity of them.
   */
  maxSize?: number;
  /** Graviton (arm64) instance type, as the AMI is arm64. Default "t4g.small". */
  instanceType?: string;
  /**
   * AMI id. Default: the latest Amazon Linux 2023 arm64 AMI from the public SSM parameter, read at
   * each `pulumi up`, so a new AL2023 release rolls the fleet (instance refresh) on the next up.
   */
  amiId?: pulumi.Input<string>;
  /** Seconds after launch before failed load-balancer health checks count (boot installs Squid). Default 300. */
  healthCheckGracePeriodSeconds?: number;
  /** Instance refresh: share of desired capacity that stays in service while instances are replaced. Default 50. */
  minHealthyPercentage?: number;
  /** Tags for every taggable child (and, through the launch template, the instances, volumes and ENIs). */
  tags?: Record<string, string>;
}

/** Tag that marks the tier's EIP pool and instances; the EIP association permission is conditioned on it. */
export const PROXY_POOL_TAG = "vpc-lambda-kit:proxy-pool";

/** Stands in for the header value in the rendered template; the boot script swaps in the real regex. */
export const HEADER_PLACEHOLDER = "VLK-HEADER-VALUE-PLACEHOLDER";

/** The Session Manager agent's minimum (the relevant part of AmazonSSMManagedInstanceCore, without Run Command/inventory). */
export const SESSION_MANAGER_ACTIONS = [
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

const DEFAULTS = {
  port: 3128,
  headerName: "X-Lambda-Proxy-Token",
  desiredCapacity: 2,
  instanceType: "t4g.small",
  healthCheckGracePeriodSeconds: 300,
  minHealthyPercentage: 50,
  openToClientCidrs: true,
} as const;

const AL2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/** Below the CLB's draining timeout, so Squid finishes open tunnels before the LB cuts them. */
const SQUID_SHUTDOWN_SECONDS = 20;
const LB_DRAINING_SECONDS = 30;
const HEREDOC_END = "VLK_SQUID_CONF_EOF";

/** Characters exactHeaderRegex backslash-escapes, derived from it so the boot script can never drift from it. */
export const HEADER_REGEX_META: string[] = (() => {
  const out: string[] = [];
  for (let code = 0x21; code <= 0x7e; code++) {
    const c = String.fromCharCode(code);
    const r = exactHeaderRegex(c);
    if (r === `^\\${c}$`) out.push(c);
    else if (r !== `^${c}$`) throw new Error(`exactHeaderRegex(${JSON.stringify(c)}) is ${JSON.stringify(r)}: the boot script only reproduces per-character backslash escaping`);
  }
  return out;
})();

/** Plain, validated shape of a tier. Pure: no resources. */
export interface SquidProxyTierPlan {
  placement: ProxyPlacement;
  port: number;
  headerName: string;
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  instanceType: string;
  healthCheckGracePeriodSeconds: number;
  minHealthyPercentage: number;
  openToClientCidrs: boolean;
  clientCidrs: string[];
  lbSubnetCidrs: string[];
  /** squid.conf with {@link HEADER_PLACEHOLDER} as the header value: holds no secret. */
  squidConfTemplate: string;
}

const CLB_PORTS = [25, 80, 443, 465, 587];
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Validates the plain arguments and renders the squid.conf template. Every problem is reported at
 * once, each naming `<name>.<arg>` and the fix; renderSquidConf's own checks run here too.
 */
export function planSquidProxyTier(name: string, args: SquidProxyTierArgs): SquidProxyTierPlan {
  const errors: ConfigError[] = [];
  const err = (key: string, problem: string, fix: string) => errors.push(new ConfigError(`${name}.${key}`, problem, fix));
  const isInt = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n);

  const placement = args.placement;
  if (placement !== "public" && placement !== "private") {
    err("placement", `${JSON.stringify(placement)} is not a placement`, `use "public" (instances with their own EIPs) or "private" (instances behind a NAT)`);
  }
  const port = args.port ?? DEFAULTS.port;
  const portOk = isInt(port) && (CLB_PORTS.includes(port) || (port >= 1024 && port <= 65535));
  if (!portOk) err("port", `${JSON.stringify(port)} is not a port a Classic Load Balancer listener accepts`, "use 25, 80, 443, 465, 587 or 1024..65535, e.g. 3128");

  const zones = args.availabilityZones;
  const lists: [string, unknown[] | undefined][] = [["instanceSubnetIds", args.instanceSubnetIds], ["lbSubnetIds", args.lbSubnetIds], ["lbSubnetCidrs", args.lbSubnetCidrs]];
  if (!Array.isArray(zones) || zones.length < 2) {
    err("availabilityZones", `${Array.isArray(zones) ? zones.length : 0} zone(s) given`, "spread the tier over at least 2 availability zones, one subnet of each list per zone");
  } else {
    const plain = zones.filter((z): z is string => typeof z === "string");
    const dup = plain.find((z, i) => plain.indexOf(z) !== i);
    if (dup !== undefined) err("availabilityZones", `"${dup}" is listed twice`, "give subnets in distinct zones, one per zone");
    for (const [key, list] of lists) {
      if (!Array.isArray(list) || list.length !== zones.length) {
        err(key, `${Array.isArray(list) ? list.length : 0} entries for ${zones.length} availability zones`, "give exactly one per zone, in the order of availabilityZones");
      }
    }
  }

  const desired = args.desiredCapacity ?? DEFAULTS.desiredCapacity;
  const minSize = args.minSize ?? desired;
  const maxSize = args.maxSize ?? desired;
  if (!isInt(desired) || desired < 1) err("desiredCapacity", `${JSON.stringify(desired)} is not a positive whole number`, "use 1 or more (2 survives a zone outage)");
  else {
    if (!isInt(minSize) || minSize < 0 || minSize > desired) err("minSize", `${JSON.stringify(minSize)} is not between 0 and desiredCapacity (${desired})`, "use a whole number ≤ desiredCapacity, or omit it");
    if (!isInt(maxSize) || maxSize < desired) err("maxSize", `${JSON.stringify(maxSize)} is below desiredCapacity (${desired})`, "use a whole number ≥ desiredCapacity, or omit it");
    else if (placement === "public" && maxSize !== desired) {
      err("maxSize", `${maxSize} exceeds desiredCapacity ${desired}, but the EIP pool holds one address per desired instance`, "set maxSize to desiredCapacity (or omit it), or use placement \"private\" behind a NAT");
    }
  }

  if (placement === "private") {
    if (args.natEgressIps === undefined) err("natEgressIps", "placement \"private\" needs the NAT's public IPs", "pass the FixedEgressVpc's egressIps (what the SaaS allowlists)");
    if (args.eipAllocationIds !== undefined) err("eipAllocationIds", "only placement \"public\" uses an EIP pool", "remove eipAllocationIds, or use placement \"public\"");
  }
  if (placement === "public") {
    if (args.natEgressIps !== undefined) err("natEgressIps", "placement \"public\" instances leave from their own EIPs, not a NAT", "remove natEgressIps, or use placement \"private\"");
    if (args.eipAllocationIds !== undefined && isInt(desired) && args.eipAllocationIds.length !== desired) {
      err("eipAllocationIds", `${args.eipAllocationIds.length} allocation id(s) for desiredCapacity ${desired}`, "give exactly one EIP allocation id per instance, or omit them to allocate new EIPs");
    }
  }
  if (Array.isArray(args.natEgressIps)) {
    if (args.natEgressIps.length === 0) err("natEgressIps", "is empty", "pass the FixedEgressVpc's egressIps");
    args.natEgressIps.forEach((ip, i) => {
      if (typeof ip === "string" && !IPV4_RE.test(ip)) err(`natEgressIps[${i}]`, `"${ip}" is not an IPv4 address`, "pass the NAT's public IPs, e.g. FixedEgressVpc.egressIps");
    });
  }

  const hasValue = args.headerValue !== undefined;
  const hasArn = args.headerSecretArn !== undefined;
  if (hasValue === hasArn) {
    err(hasValue ? "headerSecretArn" : "headerValue", hasValue ? "both headerValue and headerSecretArn are set" : "no header secret given", "pass exactly one: headerValue (a Pulumi secret the tier stores in Secrets Manager) or headerSecretArn (an existing secret)");
  }
  if (typeof args.headerSecretArn === "string" && !SECRET_ARN_RE.test(args.headerSecretArn)) {
    err("headerSecretArn", `"${args.headerSecretArn}" is not a complete Secrets Manager secret ARN`, "use the full ARN including the 6-character suffix (the grant names exactly that ARN)");
  }

  const instanceType = args.instanceType ?? DEFAULTS.instanceType;
  if (typeof instanceType !== "string" || !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
    err("instanceType", `${JSON.stringify(instanceType)} is not an EC2 instance type`, "use e.g. \"t4g.small\"");
  } else if (args.amiId === undefined && !/^[a-z-]+\d+[a-z-]*g[a-z-]*\./.test(instanceType)) {
    err("instanceType", `"${instanceType}" is not a Graviton (arm64) type, but the default AMI is AL2023 arm64`, "use an arm64 type such as \"t4g.small\" or \"m7g.medium\", or pass an amiId that matches the type");
  }
  const grace = args.healthCheckGracePeriodSeconds ?? DEFAULTS.healthCheckGracePeriodSeconds;
  if (!isInt(grace) || grace < 0 || grace > 7200) err("healthCheckGracePeriodSeconds", `${JSON.stringify(grace)} is not 0..7200 seconds`, "use e.g. 300 (time to install and start Squid)");
  const minHealthy = args.minHealthyPercentage ?? DEFAULTS.minHealthyPercentage;
  if (!isInt(minHealthy) || minHealthy < 50 || minHealthy > 100) err("minHealthyPercentage", `${JSON.stringify(minHealthy)} is not 50..100`, "use 50 (replace half the fleet at a time) up to 100");
  const open = args.openToClientCidrs ?? DEFAULTS.openToClientCidrs;
  if (typeof open !== "boolean") err("openToClientCidrs", `${JSON.stringify(open)} is not a boolean`, "use true (default) or false");

  // renderSquidConf's own validation: domains, CIDRs, header name; keys renamed to this component's args.
  const headerName = args.headerName ?? DEFAULTS.headerName;
  const confOptions = {
    port: portOk ? port : DEFAULTS.port,
    headerName,
    allowedDomains: args.allowedDomains,
    clientCidrs: args.clientCidrs,
    proxyProtocolFrom: args.lbSubnetCidrs,
    shutdownLifetimeSeconds: SQUID_SHUTDOWN_SECONDS,
  };
  let template = "";
  const squidErrors = (headerValue: string): ConfigError[] => {
    try {
      template = renderSquidConf({ ...confOptions, headerValue });
      return [];
    } catch (e) {
      if (e instanceof ConfigErrors) return e.errors;
      if (e instanceof ConfigError) return [e];
      throw e;
    }
  };
  for (const e of squidErrors(HEADER_PLACEHOLDER)) {
    const key = e.key.replace(/^proxyProtocolFrom/, "lbSubnetCidrs");
    const fix = key.startsWith("lbSubnetCidrs") ? "list the load balancer subnets' CIDRs, in the order of lbSubnetIds" : e.fix;
    errors.push(new ConfigError(`${name}.${key}`, e.problem, fix));
  }
  if (typeof args.headerValue === "string") {
    // A plain value can be checked now; renderSquidConf reports its problems without echoing it.
    const saved = template;
    for (const e of squidErrors(args.headerValue)) if (e.key === "headerValue") errors.push(new ConfigError(`${name}.headerValue`, e.problem, e.fix));
    template = saved;
  }
  throwIfAny(errors);

  const token = exactHeaderRegex(HEADER_PLACEHOLDER);
  if (template.split(token).length !== 2 || template.split("\n").includes(HEREDOC_END)) {
    throw new Error("internal: the squid.conf template must hold the header placeholder exactly once");
  }
  return {
    placement,
    port,
    headerName,
    desiredCapacity: desired,
    minSize,
    maxSize,
    instanceType,
    healthCheckGracePeriodSeconds: grace,
    minHealthyPercentage: minHealthy,
    openToClientCidrs: open,
    clientCidrs: args.clientCidrs,
    lbSubnetCidrs: args.lbSubnetCidrs,
    squidConfTemplate: template,
  };
}

/** Single-quotes a string for bash. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface BootScriptOptions {
  plan: SquidProxyTierPlan;
  secretArn: string;
  /** Pin this secret version (the one the tier created); undefined = AWSCURRENT. */
  secretVersionId?: string;
  /** Value of the {@link PROXY_POOL_TAG} on the EIP pool (placement "public"). */
  poolId: string;
}

/**
 * The instances' user data. It holds no secret: it reads the header value from Secrets Manager
 * (instance-role credentials over IMDSv2), validates it like renderSquidConf does, escapes it like
 * exactHeaderRegex does and substitutes it for the placeholder token in the rendered template.
 * Any failure stops Squid and exits non-zero, so the instance never passes the load balancer's
 * health check and the Auto Scaling group replaces it.
 *
 * Only the last line acts; everything above defines variables and functions, so tests can
 * `source` the script and run its functions with bash.
 */
export function renderBootScript(o: BootScriptOptions): string {
  const p = o.plan;
  const selector = o.secretVersionId ? `(--version-id ${shq(o.secretVersionId)})` : "(--version-stage AWSCURRENT)";
  const metaCase = HEADER_REGEX_META.map(shq).join("|");
  return `#!/bin/bash
# vpc-lambda-kit SquidProxyTier boot script (generated). Holds no secret: the header value is read
# from Secrets Manager at boot and written only into /etc/squid/squid.conf (root:squid 0640).
set -Eeuo pipefail
export LC_ALL=C

VLK_SECRET_ARN=${shq(o.secretArn)}
VLK_SECRET_SELECTOR=${selector}
VLK_PLACEMENT=${shq(p.placement)}
VLK_POOL_TAG_KEY=${shq(PROXY_POOL_TAG)}
VLK_POOL_ID=${shq(o.poolId)}
VLK_PORT=${p.port}
VLK_HEADER_TOKEN=${shq(exactHeaderRegex(HEADER_PLACEHOLDER))}
VLK_HEADER_VALUE_MAX=${HEADER_VALUE_MAX}

vlk_fail() {
  local msg="vpc-lambda-kit proxy boot FAILED: $*"
  echo "$msg" >&2
  echo "$msg" >/dev/console 2>/dev/null || true
  logger -t vlk-proxy-boot -p user.err "$msg" 2>/dev/null || true
  # Never serve with a half-made config or from an address the SaaS does not allowlist.
  systemctl disable --now squid >/dev/null 2>&1 || true
  exit 1
}

# exactHeaderRegex (components/squid-conf.ts): ^value$ with every ERE metacharacter backslash-escaped.
vlk_header_regex() {
  local s=$1 out='' c i
  for (( i = 0; i < \${#s}; i++ )); do
    c=\${s:i:1}
    case $c in
      ${metaCase}) out+="\\\\$c" ;;
      *) out+=$c ;;
    esac
  done
  printf '^%s$' "$out"
}

# renderSquidConf's rule: 1..${HEADER_VALUE_MAX} visible ASCII characters (no space, control or non-ASCII).
vlk_valid_header_value() {
  local re="^[!-~]{1,$VLK_HEADER_VALUE_MAX}\\$"
  [[ $1 =~ $re ]]
}

vlk_squid_conf_template() {
  cat <<'${HEREDOC_END}'
${p.squidConfTemplate.replace(/\n$/, "")}
${HEREDOC_END}
}

# The template with the placeholder token replaced by the real value's exact-match regex.
vlk_render_conf() {
  local tmpl pre post
  vlk_valid_header_value "$1" || return 1
  tmpl=$(vlk_squid_conf_template; printf x)
  tmpl=\${tmpl%x}
  pre=\${tmpl%%"$VLK_HEADER_TOKEN"*}
  post=\${tmpl#*"$VLK_HEADER_TOKEN"}
  [[ $pre != "$tmpl" && $post != *"$VLK_HEADER_TOKEN"* ]] || return 1
  printf '%s%s%s' "$pre" "$(vlk_header_regex "$1")" "$post"
}

vlk_retry() {
  local tries=$1 i
  shift
  for (( i = 1; ; i++ )); do
    "$@" && return 0
    (( i < tries )) || return 1
    sleep $(( i * 3 ))
  done
}

vlk_imds_token() {
  curl -fsS --retry 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 900' http://169.254.169.254/latest/api/token
}

vlk_imds() {
  curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $1" "http://169.254.169.254/latest/meta-data/$2"
}

# Placement "public": take a free EIP of this tier's pool. --no-allow-reassociation makes a race
# with a sibling instance fail instead of stealing its address; the loser tries the next one.
vlk_associate_eip() {
  local region=$1 instance=$2 i mine free alloc
  for (( i = 1; i <= 30; i++ )); do
    mine=$(aws ec2 describe-addresses --region "$region" --filters "Name=tag:$VLK_POOL_TAG_KEY,Values=$VLK_POOL_ID" "Name=instance-id,Values=$instance" --query 'Addresses[].AllocationId' --output text) || mine=''
    if [[ -n $mine && $mine != None ]]; then echo "pool EIP $mine already associated"; return 0; fi
    free=$(aws ec2 describe-addresses --region "$region" --filters "Name=tag:$VLK_POOL_TAG_KEY,Values=$VLK_POOL_ID" --query 'Addresses[?AssociationId==\`null\`].AllocationId' --output text) || free=''
    for alloc in $(printf '%s\\n' $free | shuf); do
      [[ $alloc == eipalloc-* ]] || continue
      if aws ec2 associate-address --region "$region" --allocation-id "$alloc" --instance-id "$instance" --no-allow-reassociation >/dev/null; then
        echo "associated pool EIP $alloc"
        return 0
      fi
    done
    sleep 10
  done
  return 1
}

vlk_fetch_header_value() {
  aws secretsmanager get-secret-value --region "$1" --secret-id "$VLK_SECRET_ARN" "\${VLK_SECRET_SELECTOR[@]}" --query SecretString --output text
}

vlk_main() {
  trap 'vlk_fail "command failed (exit $?) at line $LINENO"' ERR
  local token region instance value conf
  token=$(vlk_imds_token)
  region=$(vlk_imds "$token" placement/region)
  instance=$(vlk_imds "$token" instance-id)
  if [[ $VLK_PLACEMENT == public ]]; then
    vlk_associate_eip "$region" "$instance" || vlk_fail "no free EIP in pool $VLK_POOL_ID"
  fi
  vlk_retry 5 dnf install -y squid || vlk_fail "dnf install squid failed"
  value=$(vlk_retry 10 vlk_fetch_header_value "$region") || vlk_fail "cannot read the header secret $VLK_SECRET_ARN"
  vlk_valid_header_value "$value" || vlk_fail "the header secret is not 1..$VLK_HEADER_VALUE_MAX visible ASCII characters"
  conf=$(mktemp /etc/squid/.squid.conf.XXXXXX)
  vlk_render_conf "$value" >"$conf" || vlk_fail "cannot render squid.conf"
  unset value
  chown root:squid "$conf"
  chmod 0640 "$conf"
  squid -k parse -f "$conf" || vlk_fail "squid -k parse rejected the generated squid.conf"
  mv -f "$conf" /etc/squid/squid.conf
  systemctl enable --now squid
  for (( i = 0; i < 30; i++ )); do
    ss -ltnH "sport = :$VLK_PORT" | grep -q . && break
    sleep 1
  done
  systemctl is-active --quiet squid || vlk_fail "squid is not running"
  ss -ltnH "sport = :$VLK_PORT" | grep -q . || vlk_fail "squid does not listen on port $VLK_PORT"
  echo "vpc-lambda-kit proxy ready on port $VLK_PORT"
}

if [[ "\${BASH_SOURCE[0]}" == "$0" ]]; then vlk_main; fi
`;
}

/**
 * Squid forward proxies behind an internal Classic Load Balancer (MISSION §2, seed 001). Lambdas
 * send `http://<clb>:<port>` requests (and CONNECT for HTTPS) carrying a secret header; Squid lets a
 * request through only when the client address, the header value and the destination domain all
 * match, and the SaaS allowlists `egressIps`.
 *
 * The CLB speaks PROXY protocol to the instances so Squid sees the real client address; its health
 * check is plain TCP, since an HTTP check without a PROXY header is refused by the port.
 */
export class SquidProxyTier extends pulumi.ComponentResource {
  /** `http://<load balancer DNS name>:<port>`: the Lambdas' proxy URL. */
  public readonly proxyUrl: pulumi.Output<string>;
  /** Public IPv4 addresses the SaaS sees: allowlist these (as /32). */
  public readonly egressIps: pulumi.Output<string[]>;
  /** The load balancer's security group: what clients must be allowed to reach (see `allowFrom`, `flow`). */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The proxy instances' security group. */
  public readonly instanceSecurityGroupId: pulumi.Output<string>;
  /** ARN of the secret holding the header value: grant the Lambdas GetSecretValue on it. */
  public readonly headerSecretArn: pulumi.Output<string>;
  /** The header name the Lambdas send (not secret). */
  public readonly headerName: string;
  /** Proxy port (plain: known before deployment). */
  public readonly port: number;
  /** The Auto Scaling group's name. */
  public readonly autoScalingGroupName: pulumi.Output<string>;
  /** The validated plan, including the squid.conf template (no secret in it). */
  public readonly plan: SquidProxyTierPlan;
  private readonly name: string;
  private readonly lbSecurityGroup: aws.ec2.SecurityGroup;
  private readonly allowFromNames = new Set<string>();
  private readonly ruleTags: Record<string, string>;

  constructor(name: string, args: SquidProxyTierArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Validate (and render squid.conf) before anything is registered: no half-built tier on a bad arg.
    const plan = planSquidProxyTier(name, args);
    super("vpc-lambda-kit:proxy:SquidProxyTier", name, { placement: plan.placement, port: plan.port, desiredCapacity: plan.desiredCapacity }, opts);
    this.name = name;
    this.plan = plan;
    this.port = plan.port;
    this.headerName = plan.headerName;
    const child = { parent: this };
    const userTags = { ...(args.tags ?? {}) };
    this.ruleTags = userTags;
    const tags = (role: string) => ({ ...userTags, Name: `${name}-${role}` });
    const poolId = proxyPoolId(name);
    const isPublic = plan.placement === "public";

    const partition = aws.getPartitionOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    // --- The header secret: the stack never puts the value anywhere but the SecretVersion (as a secret).
    let secretArn: pulumi.Output<string>;
    let secretVersionId: pulumi.Output<string | undefined>;
    if (args.headerValue !== undefined) {
      const secret = new aws.secretsmanager.Secret(`${name}-header-secret`, {
        description: `${name}: value of the ${plan.headerName} header the Squid proxy tier requires`,
        kmsKeyId: args.headerSecretKmsKeyArn,
        tags: tags("header-secret"),
      }, child);
      const value = pulumi.secret(pulumi.output(args.headerValue).apply((v) => checkHeaderValueLate(name, v)));
      const version = new aws.secretsmanager.SecretVersion(`${name}-header-secret-version`, { secretId: secret.id, secretString: value }, child);
      secretArn = secret.arn;
      // Pinning the version puts it in the launch template: a new value rolls the fleet.
      secretVersionId = version.versionId.apply((v) => (v ? v : undefined));
    } else {
      secretArn = pulumi.output(args.headerSecretArn as pulumi.Input<string>);
      secretVersionId = pulumi.output(undefined);
    }
    this.headerSecretArn = secretArn;

    // --- Security groups (the provider removes AWS's default allow-all egress on create).
    const lbSg = new aws.ec2.SecurityGroup(`${name}-lb-sg`, {
      vpcId: args.vpcId,
      description: `${name}: internal proxy load balancer; clients in, proxies out`,
      revokeRulesOnDelete: true,
      tags: tags("lb-sg"),
    }, child);
    const instanceSg = new aws.ec2.SecurityGroup(`${name}-instance-sg`, {
      vpcId: args.vpcId,
      description: `${name}: Squid instances; proxy port from the load balancer only`,
      revokeRulesOnDelete: true,
      tags: tags("instance-sg"),
    }, child);
    this.lbSecurityGroup = lbSg;
    this.securityGroupId = lbSg.id;
    this.instanceSecurityGroupId = instanceSg.id;
    const tcp = { ipProtocol: "tcp", fromPort: plan.port, toPort: plan.port };
    if (plan.openToClientCidrs) {
      for (const cidr of plan.clientCidrs) {
        new aws.vpc.SecurityGroupIngressRule(`${name}-lb-from-${cidr.replace(/[./]/g, "-")}`, {
          securityGroupId: lbSg.id, ...tcp, cidrIpv4: cidr, description: `proxy clients ${cidr}`, tags: userTags,
        }, child);
      }
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-lb-to-instances`, {
      securityGroupId: lbSg.id, ...tcp, referencedSecurityGroupId: instanceSg.id, description: "to the Squid instances (traffic and health checks)", tags: userTags,
    }, child);
    new aws.vpc.SecurityGroupIngressRule(`${name}-instance-from-lb`, {
      securityGroupId: instanceSg.id, ...tcp, referencedSecurityGroupId: lbSg.id, description: "from the proxy load balancer only", tags: userTags,
    }, child);
    // Security groups cannot filter by name: Squid's domain whitelist is the gate. DNS (VPC resolver),
    // IMDS and NTP (169.254.169.123) are not subject to security groups.
    new aws.vpc.SecurityGroupEgressRule(`${name}-instance-to-https`, {
      securityGroupId: instanceSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0",
      description: "HTTPS: the SaaS (CONNECT), SSM, Secrets Manager, EC2 API, dnf repositories", tags: userTags,
    }, child);
    new aws.vpc.SecurityGroupEgressRule(`${name}-instance-to-http`, {
      securityGroupId: instanceSg.id, ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0",
      description: "plain-HTTP requests to whitelisted domains", tags: userTags,
    }, child);

    // --- EIP pool (public placement): one fixed address per instance, found by its pool tag.
    const publicIps: pulumi.Output<string>[] = [];
    if (isPublic) {
      for (let i = 0; i < plan.desiredCapacity; i++) {
        const byo = args.eipAllocationIds?.[i];
        if (byo !== undefined) {
          new aws.ec2.Tag(`${name}-eip-${i}-pool-tag`, { resourceId: byo, key: PROXY_POOL_TAG, value: poolId }, child);
          publicIps.push(aws.ec2.getElasticIpOutput({ id: byo }, { parent: this }).publicIp);
        } else {
          const eip = new aws.ec2.Eip(`${name}-eip-${i}`, { domain: "vpc", tags: { ...tags(`eip-${i}`), [PROXY_POOL_TAG]: poolId } }, child);
          publicIps.push(eip.publicIp);
        }
      }
      this.egressIps = pulumi.all(publicIps);
    } else {
      this.egressIps = pulumi.output(args.natEgressIps as pulumi.Input<string[]>);
    }

    // --- Instance role: read the one secret, Session Manager, and (public) associate pool EIPs.
    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      description: `${name}: Squid proxy instances`,
      tags: tags("role"),
    }, child);
    const kmsKey = args.headerSecretKmsKeyArn !== undefined ? pulumi.output(args.headerSecretKmsKeyArn) : undefined;
    const policy = new aws.iam.RolePolicy(`${name}-role-policy`, {
      role: role.id,
      policy: pulumi.all([secretArn, partition.partition, partition.dnsSuffix, region, account, kmsKey]).apply(([arn, part, dns, reg, acct, key]) => {
        const statements: Record<string, unknown>[] = [
          { Sid: "ReadHeaderSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn },
        ];
        if (key) {
          statements.push({
            Sid: "DecryptHeaderSecret", Effect: "Allow", Action: "kms:Decrypt", Resource: key,
            Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${reg}.${dns}` } },
          });
        }
        // ssmmessages has no resource-level permissions; UpdateInstanceInformation is the agent's own registration.
        statements.push({ Sid: "SessionManager", Effect: "Allow", Action: SESSION_MANAGER_ACTIONS, Resource: "*" });
        if (isPublic) {
          statements.push({ Sid: "FindPoolEips", Effect: "Allow", Action: "ec2:DescribeAddresses", Resource: "*" });
          // AssociateAddress is authorized against the address and the instance/ENI: all carry the pool tag.
          statements.push({
            Sid: "AssociatePoolEip", Effect: "Allow", Action: "ec2:AssociateAddress",
            Resource: ["elastic-ip", "instance", "network-interface"].map((t) => `arn:${part}:ec2:${reg}:${acct}:${t}/*`),
            Condition: { StringEquals: { [`aws:ResourceTag/${PROXY_POOL_TAG}`]: poolId } },
          });
        }
        return JSON.stringify({ Version: "2012-10-17", Statement: statements });
      }),
    }, child);
    const profile = new aws.iam.InstanceProfile(`${name}-instance-profile`, { role: role.name, tags: tags("instance-profile") }, child);

    // --- Launch template: the whole instance config; a change makes a new version and an instance refresh.
    const imageId = args.amiId ?? aws.ssm.getParameterOutput({ name: AL2023_ARM64_PARAMETER }, { parent: this }).insecureValue;
    const userData = pulumi.all([secretArn, secretVersionId]).apply(([arn, versionId]) =>
      Buffer.from(renderBootScript({ plan, secretArn: arn, secretVersionId: versionId, poolId }), "utf8").toString("base64"));
    const instanceTags = { ...userTags, Name: `${name}-proxy`, [PROXY_POOL_TAG]: poolId };
    const lt = new aws.ec2.LaunchTemplate(`${name}-lt`, {
      description: `${name}: Squid proxy (AL2023 arm64)`,
      imageId,
      instanceType: plan.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      // IMDSv2 only, hop limit 1: a request relayed through the proxy or a container cannot read credentials.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", deleteOnTermination: "true" } }],
      networkInterfaces: [{
        deviceIndex: 0,
        // Public placement needs a transient public IP to reach the EC2 API and take its EIP.
        associatePublicIpAddress: isPublic ? "true" : "false",
        securityGroups: [instanceSg.id],
        deleteOnTermination: "true",
      }],
      userData,
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags: instanceTags })),
      updateDefaultVersion: true,
      tags: tags("lt"),
    }, child);

    // --- Internal Classic Load Balancer: TCP in, PROXY protocol to the instances, TCP health check.
    const lb = new aws.elb.LoadBalancer(`${name}-clb`, {
      internal: true,
      subnets: args.lbSubnetIds,
      securityGroups: [lbSg.id],
      listeners: [{ lbPort: plan.port, lbProtocol: "tcp", instancePort: plan.port, instanceProtocol: "tcp" }],
      healthCheck: { target: `TCP:${plan.port}`, interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      crossZoneLoadBalancing: true,
      connectionDraining: true,
      connectionDrainingTimeout: LB_DRAINING_SECONDS,
      tags: tags("clb"),
    }, child);
    // A CLB's id is its name.
    new aws.ec2.ProxyProtocolPolicy(`${name}-proxy-protocol`, { loadBalancer: lb.id, instancePorts: [String(plan.port)] }, child);
    this.proxyUrl = pulumi.interpolate`http://${lb.dnsName}:${plan.port}`;

    // Plain zone names were checked in the plan; Outputs are checked here, as soon as they resolve.
    const subnets = pulumi.all([pulumi.all(args.availabilityZones), pulumi.all(args.instanceSubnetIds)]).apply(([zones, ids]) => {
      const dup = zones.find((z, i) => zones.indexOf(z) !== i);
      if (dup !== undefined) throw new ConfigError(`${name}.availabilityZones`, `"${dup}" is listed twice`, "give subnets in distinct zones, one per zone");
      return ids;
    });
    const asg = new aws.autoscaling.Group(`${name}-asg`, {
      vpcZoneIdentifiers: subnets,
      desiredCapacity: plan.desiredCapacity,
      minSize: plan.minSize,
      maxSize: plan.maxSize,
      launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
      loadBalancers: [lb.id],
      healthCheckType: "ELB",
      healthCheckGracePeriod: plan.healthCheckGracePeriodSeconds,
      // The first `pulumi up` fails loudly if the proxies never become healthy behind the load balancer.
      minElbCapacity: plan.minSize,
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          minHealthyPercentage: plan.minHealthyPercentage,
          instanceWarmup: String(plan.healthCheckGracePeriodSeconds),
          // A config whose instances never turn healthy is rolled back instead of draining the fleet.
          autoRollback: true,
        },
      },
      tags: Object.entries(tags("asg")).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
    }, { parent: this, dependsOn: [policy, lb] });
    this.autoScalingGroupName = asg.name;

    this.registerOutputs({
      proxyUrl: this.proxyUrl,
      egressIps: this.egressIps,
      securityGroupId: this.securityGroupId,
      instanceSecurityGroupId: this.instanceSecurityGroupId,
      headerSecretArn: this.headerSecretArn,
      port: this.port,
      autoScalingGroupName: this.autoScalingGroupName,
    });
  }

  /**
   * Lets a security group (a function's) reach the proxy port through the load balancer. Squid still
   * checks the client's address against `clientCidrs`, so the group's ENIs must sit in those subnets.
   */
  public allowFrom(securityGroupId: pulumi.Input<string>, description: string): aws.vpc.SecurityGroupIngressRule {
    const slug = (description ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
    if (slug === "") throw new ConfigError(`${this.name}.allowFrom`, `description ${JSON.stringify(description)} has no letters or digits`, "describe the client in a few words, e.g. \"kintone sync function\"");
    if (this.allowFromNames.has(slug)) throw new ConfigError(`${this.name}.allowFrom`, `a rule named "${this.name}-from-${slug}" already exists`, "give each client its own description");
    this.allowFromNames.add(slug);
    return new aws.vpc.SecurityGroupIngressRule(`${this.name}-from-${slug}`, {
      securityGroupId: this.lbSecurityGroup.id,
      ipProtocol: "tcp",
      fromPort: this.port,
      toPort: this.port,
      referencedSecurityGroupId: securityGroupId,
      // Security-group rule descriptions accept a limited character set and 255 characters.
      description: description.replace(/[^a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]/g, " ").slice(0, 200),
      tags: this.ruleTags,
    }, { parent: this });
  }

  /** The flow a VpcFunction declares to use this proxy: egress to the load balancer's group on the port. */
  public flow(purpose: string): Flow {
    return { to: { kind: "securityGroup", securityGroupId: this.securityGroupId, name: this.name }, port: this.port, purpose };
  }
}

/** Pool tag value: unique per project, stack and tier; tag values allow only a few punctuation marks. */
export function proxyPoolId(name: string): string {
  const raw = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
  const clean = raw.replace(/[^A-Za-z0-9 _.:/=+@-]/g, "-");
  return clean === raw ? raw : `${clean}-${crypto.createHash("sha256").update(raw).digest("hex").slice(0, 8)}`;
}

/** renderSquidConf's header-value rule for a value known only at deployment (reported without echoing it). */
function checkHeaderValueLate(name: string, value: string): string {
  try {
    renderSquidConf({ port: DEFAULTS.port, headerName: DEFAULTS.headerName, headerValue: value, allowedDomains: ["example.com"], clientCidrs: ["10.0.0.0/8"] });
  } catch (e) {
    const first = e instanceof ConfigErrors ? e.errors[0] : e instanceof ConfigError ? e : undefined;
    if (first) throw new ConfigError(`${name}.headerValue`, first.problem, first.fix);
    throw e;
  }
  return value;
}
