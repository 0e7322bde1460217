import { BROWNFIELD_NETWORK } from "../support/brownfield";
import { configErrorsOf } from "../support/config-errors";

// network.existingVpc at config load (no inventory involved): shapes and what the plan needs, each naming its key.
const base = BROWNFIELD_NETWORK;
const errorsWith = (network: Record<string, unknown>) =>
  configErrorsOf({ "vpc-lambda-kit:network": network }, "brownfield");

test("Pulumi.brownfield.yaml's network is valid", () => {
  expect(errorsWith(base)).toEqual([]);
});

test("an id of the wrong shape names existingVpc's key", () => {
  const errs = errorsWith({ ...base, existingVpc: { ...base.existingVpc, vpcId: "vpc-123" } });
  expect(errs).toEqual([expect.stringMatching(/network\.existingVpc\.vpcId.*not a VPC id/)]);
});

test("the private subnets' CIDRs must be stated, one per adopted subnet", () => {
  expect(errorsWith({ ...base, privateSubnetCidrs: undefined })).toEqual([
    expect.stringMatching(
      /^vpc-lambda-kit:network\.privateSubnetCidrs: an existing VPC is adopted but its private subnets' CIDRs are not stated/,
    ),
  ]);
  expect(errorsWith({ ...base, privateSubnetCidrs: ["10.20.10.0/24"] })).toEqual([
    expect.stringMatching(/^vpc-lambda-kit:network\.privateSubnetCidrs: 1 CIDRs for 2 availability zones/),
  ]);
});

test("no NAT named and no public subnet: the kit could not place its NAT", () => {
  const errs = errorsWith({ ...base, existingVpc: { ...base.existingVpc, natGatewayIds: undefined } });
  expect(errs).toEqual([
    expect.stringMatching(
      /^vpc-lambda-kit:network\.existingVpc\.publicSubnetIds: no NAT gateway is named.*Fix: name the VPC's NAT gateways in existingVpc\.natGatewayIds/,
    ),
  ]);
});

test("route tables: one per subnet or one shared", () => {
  const errs = errorsWith({
    ...base,
    existingVpc: {
      ...base.existingVpc,
      routeTableIds: ["rtb-0a1b2c3d4e5f60712", "rtb-0a1b2c3d4e5f60711", "rtb-0a1b2c3d4e5f60714"],
    },
  });
  expect(errs).toEqual([
    expect.stringMatching(/^vpc-lambda-kit:network\.existingVpc\.routeTableIds: 3 route tables for 2 private subnets/),
  ]);
});
