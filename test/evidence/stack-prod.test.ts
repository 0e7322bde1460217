import { describeStackEvidence } from "./stack-evidence";

describeStackEvidence("prod");
