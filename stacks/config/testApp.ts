/** The test app, the cross-cluster traffic check that uses it, and whether to wait for pods to run. */
import { z } from "zod";
import { flag, onceValid, Rule, section, wholeNumber } from "./keys";
import { report } from "./problems";

export const testApp = section({ enabled: flag().default(true).meta({ description: "deploy the helloworld/curl test app" }) }).prefault({});

export const verify = section({
    enabled: flag().optional().meta({ "x-default": "`testApp.enabled`", description: "run the cross-cluster traffic check" }),
    requests: wholeNumber(2, 1000).default(20).meta({ description: "requests per attempt from each cluster" }),
    attempts: wholeNumber(1, 1000).default(30).meta({ description: "attempts (5 s apart) before the check fails" }),
}).prefault({});

export const workloads = section({
    awaitReady: flag()
        .default(true)
        .meta({
            description:
                "wait for pods to be ready; `false` only for API servers without nodes (the e2e test); the traffic check's Job is awaited either way, and its attempts give the pods time to start, and so is the load balancer's address of a primary's east-west gateway that remotes reach istiod through",
        }),
}).prefault({});

/** The verification sends traffic between the test app's pods. */
export const verificationNeedsTestApp: Rule<{ testApp: z.output<typeof testApp>; verify: z.output<typeof verify> }> = [
    ({ testApp, verify }, ctx) => {
        const enabled = verify.enabled ?? testApp.enabled;
        if (enabled && !testApp.enabled) {
            report(ctx, ["verify", "enabled"], "got true while testApp.enabled is false; the verification needs the test app (set verify.enabled: false or testApp.enabled: true)");
        }
    },
    onceValid("testApp", "verify"),
];
