import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { PrivateVpc } from "../components/private-vpc";
import { EnvConfig } from "./config";
import { zoneNames } from "./network";

export const DATA_KEYS = ["vpcId", "vpcCidr", "subnetIds", "routeTableId", "dbSubnetGroupName"] as const;
export type DataOutputs = Record<(typeof DATA_KEYS)[number], pulumi.Output<any>>;

/** Account B: the database side's private VPC (MISSION §3). The database itself is a later issue. */
export function dataRole(cfg: EnvConfig, provider: aws.Provider): DataOutputs {
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
  };
}
