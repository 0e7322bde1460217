/**
 * The kit's rules (ops/check/policy-rules.ts) as `@pulumi/policy` policies. Kept apart from index.ts,
 * which serves the pack, so tests can run every policy without starting the analyzer server.
 *
 * Rules that need only the resource itself run as `validateResource`; rules that follow references
 * (subnet → route table → internet gateway, function → role → policies) run as `validateStack` over
 * the whole stack. During `preview` the ids of new resources are unknown: references are then
 * resolved through the engine's property dependencies, and values that stay unknown are skipped.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { GraphModel, Res } from "../ops/check/model/graph";
import { UNKNOWN } from "../ops/check/model/values";
import { POLICY_RULES, PolicyRule } from "../ops/check/policy-rules";

/** Internals of @pulumi/policy's unknown-checking proxy (stable since 1.x; no typings are published). */

const proxy = require("@pulumi/policy/proxy") as Record<string, string>;
const TARGET = proxy.getSpecialProxyTarget ?? "__getSpecialProxyTarget";
const SENTINELS = new Set(
  [
    "unknownBooleanValue",
    "unknownNumberValue",
    "unknownStringValue",
    "unknownArrayValue",
    "unknownAssetValue",
    "unknownArchiveValue",
    "unknownObjectValue",
  ]
    .map((k) => proxy[k])
    .filter((x): x is string => typeof x === "string"),
);

/** A plain copy of (possibly proxied) properties, unknown values replaced by UNKNOWN. */
export function plainProps(props: unknown): Record<string, unknown> {
  const out = plain(props, 0);
  return out && typeof out === "object" && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

function plain(x: unknown, depth: number): unknown {
  if (depth > 32) return UNKNOWN;
  if (typeof x === "string") return SENTINELS.has(x) ? UNKNOWN : x;
  if (x === null || typeof x !== "object") return x;
  let raw: unknown;
  try {
    raw = (x as Record<string, unknown>)[TARGET] ?? x;
  } catch {
    raw = x;
  }
  if (Array.isArray(raw)) return raw.map((y) => plain(y, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw as object)) out[k] = plain((raw as Record<string, unknown>)[k], depth + 1);
  return out;
}

/** A stack resource in the rules' shape. */
export function fromPolicyResource(r: PolicyResource): Res {
  const deps: Record<string, string[]> = {};
  for (const [k, rs] of Object.entries(r.propertyDependencies ?? {})) deps[k] = (rs ?? []).map((d) => d.urn);
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    id: "",
    parent: r.parent?.urn ?? null,
    provider: r.provider?.urn ?? null,
    inputs: plainProps(r.props),
    propertyDeps: deps,
  };
}

// One model per stack analysis, shared by every stack policy.
const models = new WeakMap<object, GraphModel>();
function modelFor(args: StackValidationArgs): GraphModel {
  let m = models.get(args.resources);
  if (!m) {
    m = new GraphModel(args.resources.map(fromPolicyResource));
    models.set(args.resources, m);
  }
  return m;
}

function toPolicy(rule: PolicyRule): ResourceValidationPolicy | StackValidationPolicy {
  const base = { name: rule.id, description: rule.description, enforcementLevel: "mandatory" as const };
  const local = rule.checkResource;
  if (local) {
    return {
      ...base,
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const r: Res = {
          urn: args.urn,
          type: args.type,
          name: args.name,
          id: "",
          parent: null,
          provider: null,
          inputs: plainProps(args.props),
        };
        for (const msg of local(r)) report(msg);
      },
    };
  }
  return {
    ...base,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const v of rule.check(modelFor(args))) report(v.message, v.urn);
    },
  };
}

/** Every kit policy, mandatory: a violation fails `pulumi preview` and `pulumi up`. */
export const kitPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = POLICY_RULES.map(toPolicy);
