import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { PrivateVpc } from "../components/private-vpc";
import { EnvConfig } from "./config";
import { zoneNames } from "./network";
import { tgwPeerSide, TgwNetworkView } from "./tgw";
import { DATABASE_KEYS, databaseSide } from "./database";

export const DATA_KEYS = ["vpcId", "vpcCidr", "subnetIds", "routeTableId", "dbSubnetGroupName", "tgwAttachmentId", ...DATABASE_KEYS] as const;
export type DataOutputs = Record<(typeof DATA_KEYS)[number], pulumi.Output<any>>;

/** Account B: the database side (MISSION §3): its private VPC, TGW attachment and Aurora PostgreSQL. */
export function dataRole(cfg: EnvConfig, provider: aws.Provider, network?: TgwNetworkView): DataOutputs {
  const vpc = new PrivateVpc("data", {
    cidrBlock: cfg.dataPlan.cidrBlock,
    availabilityZones: zoneNames(cfg.dataAzs, provider, "vpc-lambda-kit:data.availabilityZones"),
    subnetCidrs: cfg.dataPlan.subnetCidrs,
  }, { provider });
  return {
    vpcId: vpc.vpcId,
    vpcCidr: pulumi.output(vpc.cidrBlock),
    subnetIds: pulumi.all(vpc.subnetIds),
    routeTableId: vpc.routeTableId,
    dbSubnetGroupName: vpc.dbSubnetGroupName ?? pulumi.output(""),
    ...tgwPeerSide(cfg, provider, network, vpc),
    ...databaseSide(cfg, provider, vpc),
  };
}
