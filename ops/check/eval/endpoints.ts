/**
 * VPC endpoints and the DNS that leads to them: an endpoint's type and short service name, the
 * endpoints of a VPC for a service, and whether a function's lookup of the service's hostname
 * resolves to an interface endpoint (private DNS on the endpoint, DNS support and hostnames on the
 * VPC, as AWS requires).
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { asBool, str } from "../model/values";

/** "Interface" / "Gateway" / …; the provider's default type is Gateway. */
export function endpointType(ep: Res): string {
  return str(ep.inputs.vpcEndpointType) ?? "Gateway";
}

/** The short service name of an endpoint: com.amazonaws.<region>.<service> → <service>. */
export function serviceOf(ep: Res): string {
  const name = str(ep.inputs.serviceName) ?? "";
  const m = /^(?:aws\.sagemaker\.|com\.amazonaws\.)[a-z0-9-]+\.(.+)$/.exec(name);
  return m ? m[1] : name;
}

/** The endpoints of a VPC for a service, the interface one and the gateway one (first of each). */
export function endpointsFor(m: GraphModel, vpcId: string, service: string): { iface?: Res; gateway?: Res } {
  const endpoints = m.all(T.endpoint).filter((e) => e.inputs.vpcId === vpcId && serviceOf(e) === service);
  return {
    iface: endpoints.find((e) => endpointType(e) === "Interface"),
    gateway: endpoints.find((e) => endpointType(e) === "Gateway"),
  };
}

/** Why `hostname` does not resolve to interface endpoint `ep` inside `vpc`, in one sentence; undefined when it does. */
export function privateDnsProblem(m: GraphModel, ep: Res, vpc: Res, hostname: string): string | undefined {
  if (!asBool(ep.inputs.privateDnsEnabled, false))
    return `interface endpoint ${ep.name} has private DNS off, so ${hostname} resolves to the service's public addresses instead of the endpoint`;
  const dns = m.vpcDns(vpc);
  if (!dns.support)
    return `VPC ${vpc.name} has DNS resolution (enableDnsSupport) off, so ${hostname} cannot resolve to interface endpoint ${ep.name}`;
  if (!dns.hostnames)
    return `VPC ${vpc.name} has DNS hostnames (enableDnsHostnames) off, so the private DNS name of interface endpoint ${ep.name} does not apply and ${hostname} resolves to public addresses`;
  return undefined;
}
