import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** Availability-zone names: from config, or the first N the region offers (asked of the provider). */
export function zoneNames(zones: string[] | number, provider: aws.Provider, key: string): pulumi.Input<string>[] {
  if (Array.isArray(zones)) return zones;
  const names = aws.getAvailabilityZonesOutput({ state: "available" }, { provider }).names;
  return Array.from({ length: zones }, (_, i) =>
    names.apply((n) => {
      if (i >= n.length)
        throw new Error(
          `${key}: the region offers ${n.length} availability zones, ${zones} requested. Fix: lower the count`,
        );
      return n[i];
    }),
  );
}
