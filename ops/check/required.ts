/**
 * Forbidden paths the check must evaluate, decided from config alone: a function whose every AWS API
 * is reached through the VPC's endpoints has no reason to reach the internet, so a "no-internet"
 * verdict for it must be in the report. When the graph yields none (a renamed function, an egress rule
 * that suddenly lets it out, a checker that skips it), the check fails instead of dropping the path.
 * saas-export and the Athena connector are always required: they must reach the SaaS only through the proxy
 * tier.
 */
import type { EnvConfig } from "../../stacks/config/schema";
import type { ForbiddenResult } from "./forbidden";

export interface RequiredPath {
  check: "no-internet";
  subject: string;
  /** The AWS APIs the function calls (all through endpoints, hence the requirement). */
  services: string[];
}

export function requiredForbiddenPaths(cfg: EnvConfig): RequiredPath[] {
  if (!cfg.roles.includes("apps")) return [];
  const endpoints = new Set<string>([...cfg.network.interfaceEndpoints, ...cfg.network.gatewayEndpoints]);
  const sameRegion = (cfg.accounts.a.region ?? cfg.region) === (cfg.accounts.b.region ?? cfg.region);
  const db = (access: "pg" | "data-api") =>
    sameRegion ? [access === "pg" ? "secretsmanager" : "rds-data"] : undefined;
  const fns: [string, boolean, string[] | undefined][] = [
    ["saas-export", !!cfg.saasExport?.enabled && !!cfg.proxyTier, ["secretsmanager", "s3"]],
    ["db-writer", !!cfg.dbWriter?.enabled, db(cfg.dbWriter?.access ?? "pg")],
    ["pets-api", !!cfg.privateApi?.enabled, db(cfg.privateApi?.petsApi.access ?? "data-api")],
    ["appflow-connector", !!cfg.appflowConnector?.enabled, ["secretsmanager"]],
    ["athena-connector-connector", !!cfg.athenaConnector?.enabled && !!cfg.proxyTier, ["secretsmanager", "s3"]],
    // The private API's sample consumer reaches only the execute-api endpoint.
    ["private-api-caller", !!cfg.privateApi?.enabled && !!cfg.privateApi.consumers.sampleCaller, ["execute-api"]],
  ];
  // The proxy tier's clients: a way out around Squid is a violation whatever the endpoints.
  const proxyClients = new Set(["saas-export", "athena-connector-connector"]);
  return fns
    .filter(
      ([subject, on, services]) =>
        on && services !== undefined && (proxyClients.has(subject) || services.every((s) => endpoints.has(s))),
    )
    .map(([subject, , services]) => ({ check: "no-internet", subject, services: services as string[] }));
}

/** A VIOLATED result for each required path the report lacks. */
export function missingRequired(results: ForbiddenResult[], required: RequiredPath[]): ForbiddenResult[] {
  return required
    .filter((r) => !results.some((f) => f.check === r.check && f.subject === r.subject))
    .map((r) => ({
      check: r.check,
      subject: r.subject,
      status: "VIOLATED" as const,
      detail: `function ${r.subject} reaches ${r.services.join(", ")} through VPC endpoints and declares no internet flow, so it must have no way out, but the graph gives no ${r.check} verdict for it (function missing, or granted a way to the internet)`,
    }));
}
