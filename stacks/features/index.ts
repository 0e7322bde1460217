import type { Feature } from "./feature";
import { kintoneSyncFeature } from "./kintone-sync";
import { proxyTierFeature } from "./proxy-tier";
import { saasExportFeature } from "./saas-export";
import { tgwFeature } from "./tgw";
import { databaseFeature } from "./database";
import { dbWriterFeature } from "./db-writer";
import { privateApiFeature } from "./private-api";
import { appflowConnectorFeature } from "./appflow-connector";
import { athenaConnectorFeature } from "./athena-connector";

/**
 * Every feature, in the order their config checks run and their resources are registered (a feature
 * may read what an earlier one planned or built: database reads the Transit Gateway plan, saas-export
 * the proxy tier). Adding a feature: one file in this directory and one line here.
 */
export const FEATURES = [
  kintoneSyncFeature,
  proxyTierFeature,
  saasExportFeature,
  tgwFeature,
  databaseFeature,
  dbWriterFeature,
  privateApiFeature,
  appflowConnectorFeature,
  athenaConnectorFeature,
] as const satisfies readonly Feature<object>[];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type AppsOutputOf<F> = F extends Feature<infer O> ? O : never;

/** What the apps role exports: the union of every feature's apps outputs. */
export type AppsOutputs = UnionToIntersection<AppsOutputOf<(typeof FEATURES)[number]>>;

export type { AppsBuildContext, Feature } from "./feature";
