import * as pulumi from "@pulumi/pulumi";
import { tryParseCidr } from "./cidr";
import { ConfigError, throwIfAny } from "./errors";

/** Where a declared flow goes. Exactly one kind per flow. */
export type FlowDestination =
  /** A host on the internet (a SaaS). `cidrs` narrows the egress rule when the SaaS publishes its ranges. */
  | { kind: "internet"; host: string; cidrs?: string[] }
  /** A private network, e.g. the database VPC across the Transit Gateway. */
  | { kind: "cidr"; cidr: string; name?: string }
  /**
   * An AWS service API such as "secretsmanager". Reached through an interface endpoint when
   * `endpointSecurityGroupId` is given, through a gateway endpoint's prefix list when
   * `prefixListId` is given, else over the internet path (NAT).
   */
  | {
      kind: "awsService";
      service: string;
      endpointSecurityGroupId?: pulumi.Input<string>;
      prefixListId?: pulumi.Input<string>;
    }
  /** Another security group (a proxy tier, a database) in the same VPC or a peered one. */
  | { kind: "securityGroup"; securityGroupId: pulumi.Input<string>; name: string };

/** A network flow a function intends to open: it becomes an egress rule and, later, an offline proof obligation. */
export interface Flow {
  to: FlowDestination;
  /** Destination TCP/UDP port. */
  port: number;
  /** Default "tcp". */
  protocol?: "tcp" | "udp";
  /** Why the function needs it, in a few words; becomes the rule description. */
  purpose: string;
}

/** One egress rule derived from flows; several flows with the same target share a rule. */
export interface EgressRule {
  protocol: "tcp" | "udp";
  port: number;
  cidrIpv4?: string;
  referencedSecurityGroupId?: pulumi.Input<string>;
  prefixListId?: pulumi.Input<string>;
  description: string;
  /** Stable key used in the rule's resource name. */
  key: string;
}

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Validates flows (name the function and flow index in errors) and turns them into deduplicated egress rules. */
export function egressRulesFor(fnName: string, flows: Flow[]): EgressRule[] {
  const errors: ConfigError[] = [];
  const rules = new Map<string, EgressRule>();
  const add = (key: string, rule: Omit<EgressRule, "key" | "description">, purpose: string) => {
    const existing = rules.get(key);
    if (existing) {
      if (!existing.description.split("; ").includes(purpose))
        existing.description = `${existing.description}; ${purpose}`;
    } else {
      rules.set(key, { ...rule, key, description: purpose });
    }
  };
  flows.forEach((flow, i) => {
    const at = `${fnName}.flows[${i}]`;
    const protocol = flow.protocol ?? "tcp";
    if (!Number.isInteger(flow.port) || flow.port < 1 || flow.port > 65535) {
      errors.push(new ConfigError(`${at}.port`, `${flow.port} is not a port`, "use a port from 1 to 65535"));
      return;
    }
    if (!flow.purpose || flow.purpose.trim() === "") {
      errors.push(
        new ConfigError(`${at}.purpose`, "no purpose given", "say in a few words why the function needs this flow"),
      );
      return;
    }
    // Security-group rule descriptions accept a limited character set and 255 characters.
    const purpose = flow.purpose.replace(/[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, " ").slice(0, 120);
    const base = `${protocol}-${flow.port}`;
    const to = flow.to;
    switch (to.kind) {
      case "internet": {
        if (!HOST_RE.test(to.host)) {
          errors.push(
            new ConfigError(
              `${at}.to.host`,
              `"${to.host}" is not a DNS host name`,
              "give the SaaS host, e.g. example.cybozu.com",
            ),
          );
          return;
        }
        if (to.cidrs && to.cidrs.length > 0) {
          for (const c of to.cidrs) {
            const parsed = tryParseCidr(c);
            if (typeof parsed === "string") {
              errors.push(new ConfigError(`${at}.to.cidrs`, parsed, "list the SaaS's published IPv4 ranges as CIDRs"));
              return;
            }
            add(`${base}-${c}`, { protocol, port: flow.port, cidrIpv4: c }, purpose);
          }
        } else {
          // Security groups cannot filter by host name; the NAT's fixed IP plus the SaaS allowlist is the gate.
          add(`${base}-internet`, { protocol, port: flow.port, cidrIpv4: "0.0.0.0/0" }, purpose);
        }
        return;
      }
      case "cidr": {
        const parsed = tryParseCidr(to.cidr);
        if (typeof parsed === "string") {
          errors.push(
            new ConfigError(`${at}.to.cidr`, parsed, "give the destination network as a CIDR, e.g. 10.1.0.0/16"),
          );
          return;
        }
        add(`${base}-${to.cidr}`, { protocol, port: flow.port, cidrIpv4: to.cidr }, purpose);
        return;
      }
      case "awsService": {
        if (!/^[a-z0-9][a-z0-9.-]*$/.test(to.service)) {
          errors.push(
            new ConfigError(
              `${at}.to.service`,
              `"${to.service}" is not an AWS service endpoint name`,
              `use the endpoint name, e.g. "secretsmanager"`,
            ),
          );
          return;
        }
        if (to.endpointSecurityGroupId) {
          add(
            `${base}-${to.service}-endpoint`,
            { protocol, port: flow.port, referencedSecurityGroupId: to.endpointSecurityGroupId },
            purpose,
          );
        } else if (to.prefixListId) {
          add(
            `${base}-${to.service}-prefix-list`,
            { protocol, port: flow.port, prefixListId: to.prefixListId },
            purpose,
          );
        } else {
          add(`${base}-internet`, { protocol, port: flow.port, cidrIpv4: "0.0.0.0/0" }, purpose);
        }
        return;
      }
      case "securityGroup": {
        add(
          `${base}-sg-${to.name}`,
          { protocol, port: flow.port, referencedSecurityGroupId: to.securityGroupId },
          purpose,
        );
        return;
      }
    }
  });
  throwIfAny(errors);
  return [...rules.values()];
}

/** The plain-JSON form of a flow, for graph.json and the offline checker (Inputs dropped to their kind). */
export function describeFlow(flow: Flow): Record<string, unknown> {
  const to = flow.to;
  const dest: Record<string, unknown> =
    to.kind === "internet"
      ? { kind: to.kind, host: to.host, ...(to.cidrs ? { cidrs: to.cidrs } : {}) }
      : to.kind === "cidr"
        ? { kind: to.kind, cidr: to.cidr, ...(to.name ? { name: to.name } : {}) }
        : to.kind === "awsService"
          ? { kind: to.kind, service: to.service }
          : { kind: to.kind, name: to.name };
  return { to: dest, port: flow.port, protocol: flow.protocol ?? "tcp", purpose: flow.purpose };
}
