import { loadStackConfig } from "./stacks/loadConfig";
import { deployMesh } from "./stacks/mesh";

// Validation comes first: a bad config stops the program before any resource is registered.
const mesh = deployMesh(loadStackConfig());

export const meshId = mesh.meshId;
export const topology = mesh.topology;
export const clusters = mesh.clusters;
export const rootCert = mesh.rootCert;
export const verification = mesh.verification ?? "disabled";
