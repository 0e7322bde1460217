import * as pulumi from "@pulumi/pulumi";

/**
 * A kit component built from a plan: the caller validates its arguments into the plan before `super` (a bad
 * argument throws ConfigError before anything is registered), and the plan stays readable as `plan`, the
 * component's name as `name` (children are named `<name>-<role>`).
 */
export abstract class PlannedComponent<Plan> extends pulumi.ComponentResource {
  /** The validated plan the component was built from (plain: known before deployment). */
  public readonly plan: Plan;
  protected readonly name: string;

  protected constructor(
    type: string,
    name: string,
    plan: Plan,
    inputs: pulumi.Inputs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, inputs, opts);
    this.plan = plan;
    this.name = name;
  }
}
