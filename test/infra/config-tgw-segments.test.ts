import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configErrorsOf } from "../support/config-errors";
import { devTgw } from "../support/tgw";
import { expectRefused, runOps, stackDoc, writeStackFile } from "../support/ops-cli";

/** transitGateway segmentation keys: every bad value is refused before anything is registered, naming the key and the fix. */
const BASE = devTgw();
const TABLES = [
  { name: "egress", associate: ["egress"], propagate: ["data"] },
  { name: "data", associate: ["data"], propagate: ["egress"] },
];
const errorsOf = (tg: Record<string, unknown>) =>
  configErrorsOf({ "vpc-lambda-kit:transitGateway": { ...BASE, ...tg } });
const K = "vpc-lambda-kit:transitGateway";

test("a valid segmentation passes", () => {
  expect(
    errorsOf({
      routeTables: [...TABLES, { name: "quarantine", routes: [{ cidr: "10.9.0.0/16", blackhole: true }] }],
      attachmentOptions: { egress: { applianceMode: true, dnsSupport: false } },
    }),
  ).toEqual([]);
});

test.each([
  [
    "an association naming an unknown attachment",
    { routeTables: [{ name: "egress", associate: ["egress", "dta"] }, TABLES[1]] },
    `${K}.routeTables[0].associate[1]: "dta" is not an attachment of this Transit Gateway. Fix: use one of egress, data`,
  ],
  [
    "a propagation naming an unknown attachment",
    { routeTables: [{ ...TABLES[0], propagate: ["shared"] }, TABLES[1]] },
    `${K}.routeTables[0].propagate[0]: "shared" is not an attachment of this Transit Gateway. Fix: use one of egress, data`,
  ],
  [
    "an attachment associated with two tables",
    { routeTables: [TABLES[0], { ...TABLES[1], associate: ["data", "egress"] }] },
    `${K}.routeTables[1].associate[1]: attachment "egress" is associated with route tables "egress" and "data", and AWS associates an attachment with one table. Fix: remove "egress" from one of the two associate lists`,
  ],
  [
    "an attachment in no table",
    { routeTables: [TABLES[0]] },
    `${K}.routeTables: attachment "data" is associated with no route table, so the Transit Gateway routes none of its traffic. Fix: add "data" to one route table's associate list`,
  ],
  [
    "a duplicate table name",
    { routeTables: [TABLES[0], { ...TABLES[1], name: "egress" }] },
    `${K}.routeTables[1].name: "egress" names two route tables. Fix: give every route table its own name`,
  ],
  [
    "a table name unusable in resource names",
    { routeTables: [TABLES[0], { ...TABLES[1], name: "Data_RT" }] },
    `${K}.routeTables[1].name: "Data_RT" cannot be part of a resource name. Fix: use lower-case letters, digits and dashes, starting with a letter`,
  ],
  [
    "a route with both an attachment and a blackhole",
    {
      routeTables: [
        { ...TABLES[0], routes: [{ cidr: "10.9.0.0/16", attachment: "data", blackhole: true }] },
        TABLES[1],
      ],
    },
    `${K}.routeTables[0].routes[0]: a route needs exactly one of attachment and blackhole: true. Fix: give attachment (one of egress, data) or blackhole: true`,
  ],
  [
    "a route to an unknown attachment",
    { routeTables: [{ ...TABLES[0], routes: [{ cidr: "10.9.0.0/16", attachment: "hub" }] }, TABLES[1]] },
    `${K}.routeTables[0].routes[0].attachment: "hub" is not an attachment of this Transit Gateway. Fix: use one of egress, data`,
  ],
  [
    "a route with a bad CIDR",
    { routeTables: [{ ...TABLES[0], routes: [{ cidr: "10.9.0.0/40", blackhole: true }] }, TABLES[1]] },
    /^vpc-lambda-kit:transitGateway\.routeTables\[0\]\.routes\[0\]\.cidr: .*Fix: give an IPv4 CIDR such as 10\.1\.0\.0\/16$/,
  ],
  [
    "an isolated pair the tables contradict",
    { routeTables: TABLES, isolate: [["egress", "data"]] },
    `${K}.isolate[0]: "egress" must not reach "data", but its route table "egress" propagates "data". Fix: remove "data" from route table "egress"'s propagate list`,
  ],
  [
    "an isolated pair on the default route table",
    { isolate: [["egress", "data"]] },
    `${K}.isolate[0]: attachments "egress" and "data" share the default route table, which routes every attachment to every other. Fix: define transitGateway.routeTables that keep them apart`,
  ],
  [
    "an isolated pair of one attachment",
    { routeTables: TABLES, isolate: [["data", "data"]] },
    `${K}.isolate[0]: ["data","data"] is not a pair of two different attachments. Fix: give two attachment names, e.g. [egress, data]`,
  ],
  [
    "options for an unknown attachment",
    { attachmentOptions: { firewall: { applianceMode: true } } },
    `${K}.attachmentOptions.firewall: "firewall" is not an attachment of this Transit Gateway. Fix: use one of egress, data`,
  ],
])("%s is refused with the key and the fix", (_label, tg, expected) => {
  const errors = errorsOf(tg);
  expect(errors).toEqual(
    expect.arrayContaining([typeof expected === "string" ? expected : expect.stringMatching(expected)]),
  );
});

const EX = { acceptShare: false, allowExternalPrincipals: false, principals: undefined };
test.each([
  [
    "a Transit Gateway id of the wrong shape",
    { ...EX, existing: { id: "tgw-xyz" } },
    `${K}.existing.id: "tgw-xyz" is not a Transit Gateway id. Fix: give an id such as tgw-0123456789abcdef0`,
  ],
  [
    "a route table id of the wrong shape",
    { ...EX, existing: { id: "tgw-0123456789abcdef0", routeTableIds: { data: "rtb-0123456789abcdef0" } } },
    `${K}.existing.routeTableIds.data: "rtb-0123456789abcdef0" is not a Transit Gateway route table id. Fix: give an id such as tgw-rtb-0123456789abcdef0`,
  ],
  [
    "an attachment id of the wrong shape",
    { ...EX, existing: { id: "tgw-0123456789abcdef0" }, existingAttachments: { data: "tgw-0123456789abcdef0" } },
    `${K}.existingAttachments.data: "tgw-0123456789abcdef0" is not a Transit Gateway attachment id. Fix: give an id such as tgw-attach-0123456789abcdef0`,
  ],
  [
    "an adopted egress attachment on a TGW the kit creates",
    { existingAttachments: { egress: "tgw-attach-0123456789abcdef0" } },
    `${K}.existingAttachments.egress: the kit creates this Transit Gateway, so no attachment to it exists yet. Fix: remove it, or set vpc-lambda-kit:transitGateway.existing to the TGW it is attached to`,
  ],
  [
    "route tables in an existing TGW",
    { ...EX, existing: { id: "tgw-0123456789abcdef0" }, routeTables: TABLES },
    `${K}.routeTables: the kit creates route tables only in a Transit Gateway it creates. Fix: remove routeTables and name the existing tables in vpc-lambda-kit:transitGateway.existing.routeTableIds`,
  ],
  [
    "an accepter for an existing TGW without its share ARN",
    { existing: { id: "tgw-0123456789abcdef0" }, principals: undefined },
    /^vpc-lambda-kit:transitGateway\.acceptShare: true, but the existing Transit Gateway's share is not the kit's.*Fix: set vpc-lambda-kit:transitGateway\.existing\.shareArn, or acceptShare to false/,
  ],
  [
    "principals for an existing TGW",
    { ...EX, existing: { id: "tgw-0123456789abcdef0" }, principals: ["222222222222"] },
    `${K}.principals: the kit creates no RAM share for an existing Transit Gateway. Fix: remove principals; the TGW's owner shares it`,
  ],
  [
    "an organization principal with an accepter",
    { principals: ["arn:aws:organizations::111111111111:organization/o-abcdefghij"] },
    /^vpc-lambda-kit:transitGateway\.principals: arn:aws:organizations::111111111111:organization\/o-abcdefghij: .*within an Organization with RAM sharing enabled, shares are accepted automatically\. Fix: /,
  ],
  [
    "a malformed OU ARN",
    { principals: ["arn:aws:organizations::111111111111:ou/o-abc/ou-1"] },
    /^vpc-lambda-kit:transitGateway\.principals\[0\]: "arn:aws:organizations::111111111111:ou\/o-abc\/ou-1" is not a RAM principal/,
  ],
])("%s is refused with the key and the fix", (_label, tg, expected) => {
  const errors = errorsOf(tg);
  expect(errors).toEqual(
    expect.arrayContaining([typeof expected === "string" ? expected : expect.stringMatching(expected)]),
  );
});

test("an organization principal without an accepter passes", () => {
  expect(
    errorsOf({
      principals: ["arn:aws:organizations::111111111111:organization/o-abcdefghij"],
      acceptShare: false,
      allowExternalPrincipals: false,
    }),
  ).toEqual([]);
});

test("synth exits 2 on an association naming an unknown route-table attachment, writing no graph", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-tgwseg-"));
  const doc = stackDoc("dev");
  doc.config[K] = {
    ...BASE,
    routeTables: [
      { name: "egress", associate: ["egress"] },
      { name: "data", associate: ["db"] },
    ],
  };
  const r = runOps("ops/synth.ts", "bad", writeStackFile(dir, "bad", doc), path.join(dir, "out"));
  expect(r.stderr).toContain(
    `${K}.routeTables[1].associate[0]: "db" is not an attachment of this Transit Gateway. Fix: use one of egress, data`,
  );
  expectRefused(r);
});
