import { describeStackEvidence } from "./stack-evidence";

describeStackEvidence("dev");
