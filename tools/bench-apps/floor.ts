// The floor of any synthesis with this stack of tools: node, cdktf and one provider class,
// synthesizing one VPC. tools/bench.ts runs it beside the app command; nothing an app does can
// start faster than this.
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";

const app = new App();
const stack = new TerraformStack(app, "floor");
new AwsProvider(stack, "aws", { region: "us-east-1" });
new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
app.synth();
