import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { PrivateVpc } from "../../components/private-vpc";
import { ExistingPrivateVpc } from "../../components/existing-private-vpc";
import { configKey, EnvConfig, ipamOf } from "../config/schema";
import { DATA_KEYS, DataOutputs, NetworkOutputs } from "../config/outputs";
import { FEATURES, Feature } from "../features";
import { zoneNames } from "../zones";
import { completeOutputs } from "./complete";

export { DATA_KEYS };
export type { DataOutputs };

/** Account B: the database side (docs/designs.md §3): its private VPC, and what each feature adds there (TGW attachment, Aurora PostgreSQL). */
export function dataRole(cfg: EnvConfig, provider: aws.Provider, network?: NetworkOutputs): DataOutputs {
  const existing = cfg.data.existingVpc;
  // An adopted VPC (docs/landing-zone.md) exposes every field PrivateVpc does; the features read only those.
  const vpc = existing
    ? (adoptDataVpc(cfg, provider) as unknown as PrivateVpc)
    : new PrivateVpc(
        "data",
        {
          cidrBlock: cfg.dataPlan.cidrBlock,
          availabilityZones: zoneNames(cfg.dataAzs, provider, configKey("data.availabilityZones")),
          subnetCidrs: cfg.dataPlan.subnetCidrs,
          ipam: ipamOf(cfg.data, "data"),
        },
        { provider },
      );
  const out: Partial<DataOutputs> = {
    vpcId: vpc.vpcId,
    vpcCidr: pulumi.output(vpc.cidrBlock),
    subnetIds: pulumi.all(vpc.subnetIds),
    routeTableId: vpc.routeTableId,
    dbSubnetGroupName: vpc.dbSubnetGroupName ?? pulumi.output(""),
  };
  for (const feature of FEATURES as readonly Feature<object>[])
    Object.assign(out, feature.data?.({ cfg, provider, vpc, network }));
  return completeOutputs("data", DATA_KEYS, out);
}

/** The adopted VPC of `data.existingVpc`: Aurora goes into its subnets (docs/landing-zone.md). */
function adoptDataVpc(cfg: EnvConfig, provider: aws.Provider): ExistingPrivateVpc {
  const { tags: vpcTags, ...ref } = cfg.data.existingVpc!;
  return new ExistingPrivateVpc(
    "data",
    { ...ref, vpcTags, cidrBlock: cfg.data.cidrBlock, privateSubnetCidrs: cfg.data.subnetCidrs, tags: cfg.tags },
    { provider },
  );
}
