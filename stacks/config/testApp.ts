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
        .meta({ description: "wait for pods to be ready; `false` only for API servers without nodes (the e2e test), and then `verify.enabled` must be `false`" }),
}).prefault({});

/** The verification sends traffic between the test app's pods. */
export const verificationNeedsTestApp: Rule<{ testApp: z.output<typeof testApp>; verify: z.output<typeof verify>; workloads: z.output<typeof workloads> }> = [
    ({ testApp, verify, workloads }, ctx) => {
        const enabled = verify.enabled ?? testApp.enabled;
        if (enabled && !testApp.enabled) {
            report(ctx, ["verify", "enabled"], "got true while testApp.enabled is false; the verification needs the test app (set verify.enabled: false or testApp.enabled: true)");
        }
        if (enabled && !workloads.awaitReady) {
            report(ctx, ["verify", "enabled"], "got true while workloads.awaitReady is false; traffic can only be verified once pods run (set verify.enabled: false)");
        }
    },
    onceValid("testApp", "verify", "workloads"),
];
