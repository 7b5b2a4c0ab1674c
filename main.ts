// Entry point of `cdktf synth`: spec -> validation -> model -> stacks -> Terraform JSON.
import { App } from "cdktf";
import { loadSpecForApp } from "./lib/spec/load";
import { buildMeshModel } from "./lib/model";
import { MeshStack } from "./stacks/mesh-stack";

const app = new App();
const spec = loadSpecForApp(app);
new MeshStack(app, "mesh", buildMeshModel(spec));
app.synth();
