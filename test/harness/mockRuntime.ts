import * as pulumi from "@pulumi/pulumi";
import { fakeHelmTemplate, HELM_TEMPLATE } from "./fakeHelmTemplate";

/** How Pulumi's wire format marks a secret value: `{ [SIG_KEY]: SECRET_SIG, value }`. */
const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** One resource as the engine would have been asked to register it. */
export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** Read (`Resource.get`) rather than registered: the program does not own it. */
    readonly read: boolean;
    /** Inputs with secrets unwrapped; for a read, its ID is `inputs.id`. */
    readonly inputs: Record<string, any>;
    /** Top-level input keys that carry a secret somewhere inside. */
    readonly secretInputs: ReadonlySet<string>;
    /** Provider reference (`<provider urn>::<id>`), if any. */
    readonly provider: string | undefined;
    readonly parent: string;
    /** URNs this resource waits for: explicit dependsOn and those its inputs' Outputs came from. */
    readonly dependencies: readonly string[];
    /** How long the engine waits for a create or an update ("" when the provider's default). */
    readonly timeouts: { readonly create: string; readonly update: string };
    /** Replaced by deleting first (rather than creating the new one first). */
    readonly deleteBeforeReplace: boolean;
}

/** An invoke the program made (e.g. the kubernetes provider's `helm template`). */
export interface RecordedCall {
    readonly token: string;
    readonly inputs: Record<string, unknown>;
}

export type StateFor = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;

/**
 * Runs `program` under Pulumi's mocks and returns every resource it registered, with the parent,
 * provider and dependencies the SDK sent along — what `newResource` alone does not show.
 */
export async function runWithMocks<T>(
    program: () => T,
    stateFor: StateFor,
    config: Record<string, string> = {},
    secretKeys: string[] = [],
): Promise<{ result: T; resources: RecordedResource[]; calls: RecordedCall[] }> {
    pulumi.runtime.setAllConfig(config, secretKeys);
    const calls: RecordedCall[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: args.custom ? `${args.name}-id` : undefined,
                state: { ...args.inputs, ...stateFor({ ...args, inputs: unwrapSecrets(args.inputs) }) },
            }),
            call: (args) => {
                calls.push({ token: args.token, inputs: args.inputs });
                return args.token === HELM_TEMPLATE ? fakeHelmTemplate(args.inputs as { jsonOpts: string }) : args.inputs;
            },
        },
        "istio-multicluster",
        "test",
        false,
    );
    const resources: RecordedResource[] = [];
    const monitor = pulumi.runtime.getMonitor() as any;
    const record = (req: any, read: boolean, raw: Record<string, any>) => (res: any) =>
        resources.push({
            urn: res.getUrn(),
            type: req.getType(),
            name: req.getName(),
            custom: read || req.getCustom(),
            read,
            inputs: unwrapSecrets(raw),
            secretInputs: new Set(Object.keys(raw).filter((k) => containsSecret(raw[k]))),
            provider: req.getProvider() || undefined,
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            timeouts: { create: req.getCustomtimeouts?.()?.getCreate() ?? "", update: req.getCustomtimeouts?.()?.getUpdate() ?? "" },
            deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
        });
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
        const done = record(req, false, req.getObject()?.toJavaScript() ?? {});
        return register(req, (err: unknown, res: any) => {
            if (!err) {
                done(res);
            }
            callback(err, res);
        });
    };
    const read = monitor.readResource.bind(monitor);
    monitor.readResource = (req: any, callback: (err: unknown, res: any) => void) => {
        const done = record(req, true, { ...(req.getProperties()?.toJavaScript() ?? {}), id: req.getId() });
        return read(req, (err: unknown, res: any) => {
            if (!err) {
                done(res);
            }
            callback(err, res);
        });
    };

    // A registration that fails surfaces only as an unhandled rejection: collect those and fail the run.
    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    let result: T;
    try {
        result = program();
        // Registrations trail the program (they wait for their inputs). The SDK counts each one in
        // flight; disconnect() returns once all have finished, so the next run starts from nothing.
        await pulumi.runtime.disconnect();
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length > 0) {
        throw failures[0];
    }
    const urns = new Set<string>();
    for (const r of resources) {
        if (urns.has(r.urn)) {
            throw new Error(`two resources share the URN ${r.urn}`);
        }
        urns.add(r.urn);
    }
    return { result, resources, calls };
}

/** The value of an Output, once known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

function containsSecret(value: unknown): boolean {
    if (Array.isArray(value)) {
        return value.some(containsSecret);
    }
    if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        return obj[SIG_KEY] === SECRET_SIG || Object.values(obj).some(containsSecret);
    }
    return false;
}

function unwrapSecrets(value: any): any {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        if (value[SIG_KEY] === SECRET_SIG) {
            return unwrapSecrets(value.value);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** The environment of a Job's first container, by name. */
export const jobEnv = (job: RecordedResource): Record<string, string> =>
    Object.fromEntries(job.inputs.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));

/** Every resource `urn` waits for, directly or through what it waits for. */
export function waitsOn(resources: readonly RecordedResource[], urn: string): RecordedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const visit = (u: string) => {
        for (const d of byUrn.get(u)?.dependencies ?? []) {
            if (!seen.has(d)) {
                seen.add(d);
                visit(d);
            }
        }
    };
    visit(urn);
    return [...seen].map((u) => byUrn.get(u)!);
}
