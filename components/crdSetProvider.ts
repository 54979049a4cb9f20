/**
 * The dynamic provider behind IstioCrdSet (components/crdSet.ts): Istio's CRDs in one cluster applied,
 * read back and deleted as one resource, through the cluster's admin kubeconfig.
 *
 * Pulumi serializes these functions into the state and runs them in a provider process of its own, so
 * they refer to nothing of the program: each loads the modules it uses itself, and every helper they
 * call is declared in this file.
 */
// client-node is an ES module, loaded with require() (Node.js 22.12 and later; its HTTP client undici needs 22.19) in the provider process.
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as pulumi from "@pulumi/pulumi";

// Exported at the end, not with `export const`: compiled, that would make the functions below refer to the
// module's `exports`, and Pulumi would serialize the whole module with them.
/** The field manager of every CRD the set applies. */
const FIELD_MANAGER = "istio-multicluster";
/** Set to "true" for one `pulumi up`: the set takes over CRDs that another Pulumi resource manages (docs/operations.md). */
const TAKE_OVER_ENV = "ISTIO_MC_TAKE_OVER_CRDS";
/** What the set records for a CRD whose spec was changed in the cluster since it applied it: never a digest. */
const CHANGED_IN_CLUSTER = "changed in the cluster";

export interface CrdSetInputs {
    /** The cluster's name in the mesh, for messages. */
    readonly cluster: string;
    /** The admin kubeconfig (secret). */
    readonly kubeconfig: string;
    readonly context?: string;
    /** The CRDs as the `base` chart renders them: a JSON array, gzip-compressed, base64 (see `packCrds`). */
    readonly manifests: string;
    /** By CRD name, the SHA-256 of its manifest: what `pulumi preview --diff` shows change. */
    readonly digests: Readonly<Record<string, string>>;
    /** Leave the CRDs (and so every Istio resource) in the cluster on delete. */
    readonly keep: boolean;
    /** The cluster no longer exists: drop the set from the state without reaching it. */
    readonly gone: boolean;
}

export interface CrdSetOutputs extends CrdSetInputs {
    /** By CRD name, `metadata.generation` as the set last applied or read it: a change means an edit out of band. */
    readonly generations: Readonly<Record<string, number>>;
}

interface Crd extends k8s.KubernetesObject {
    readonly metadata: k8s.V1ObjectMeta & { readonly name: string };
}

const APPLY_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 500;

function client(inputs: Pick<CrdSetInputs, "kubeconfig" | "context">): k8s.KubernetesObjectApi {
    const { KubeConfig, KubernetesObjectApi } = require("@kubernetes/client-node") as typeof k8s;
    const config = new KubeConfig();
    config.loadFromString(inputs.kubeconfig);
    if (inputs.context) {
        config.setCurrentContext(inputs.context);
    }
    return KubernetesObjectApi.makeApiClient(config);
}

/**
 * The set's CRDs as client-node's typed objects: it serializes a CRD through its model, which knows
 * `x-kubernetes-int-or-string` and the like only by their JavaScript names and would drop them otherwise.
 */
function unpackCrds(manifests: string): Crd[] {
    const zlib = require("zlib") as typeof import("zlib");
    const { loadYaml } = require("@kubernetes/client-node") as typeof k8s;
    const plain: object[] = JSON.parse(zlib.gunzipSync(Buffer.from(manifests, "base64")).toString("utf8"));
    return plain.map((crd) => loadYaml<Crd>(JSON.stringify(crd)));
}

const crdRef = (name: string) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name } });

async function readCrd(api: k8s.KubernetesObjectApi, name: string): Promise<(Crd & { status?: k8s.V1CustomResourceDefinitionStatus }) | undefined> {
    try {
        return (await api.read(crdRef(name))) as Crd;
    } catch (err) {
        if ((err as { code?: number }).code === 404) {
            return undefined;
        }
        throw err;
    }
}

/** Polls `done` until it holds, or fails with `what` after APPLY_TIMEOUT_MS. */
async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + APPLY_TIMEOUT_MS;
    while (!(await done())) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${APPLY_TIMEOUT_MS / 1000} s waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
}

/**
 * A CRD that another Pulumi resource manages (an earlier version of this program made each CRD a resource
 * of its own): taking it over in the same `pulumi up` that drops that resource would let the engine delete
 * it after this set applied it, and with it every Istio resource of its kind.
 */
async function refuseCrdsOfOtherPulumiResources(api: k8s.KubernetesObjectApi, inputs: CrdSetInputs, crds: readonly Crd[]): Promise<void> {
    const held: string[] = [];
    for (const crd of crds) {
        const live = await readCrd(api, crd.metadata.name);
        if (live?.metadata.managedFields?.some((f) => f.manager?.startsWith("pulumi-kubernetes"))) {
            held.push(crd.metadata.name);
        }
    }
    if (held.length > 0) {
        throw new Error(
            `cluster ${inputs.cluster}: Istio's CRDs ${held.join(", ")} are managed by another Pulumi resource (a stack made by an ` +
                `earlier version of this program holds each CRD as a resource of its own), which this same update would delete, ` +
                `and every Istio resource with it. Nothing was changed. Move them to this stack's CRD set with ` +
                `\`npm run take-over-crds -- --stack <stack>\` (docs/operations.md, "Istio's CRDs").`,
        );
    }
}

/**
 * After a take-over: the fields the other Pulumi resource applied with the same value stay shared with
 * it, and a later change of such a field (a new Istio version's schema) would be a conflict with a
 * manager that no longer exists. Its entries are removed from `managedFields`, as the API server lets
 * any writer do, so that the set alone owns what it applies.
 */
async function dropOtherPulumiManagers(api: k8s.KubernetesObjectApi, crd: Crd): Promise<void> {
    const { PatchStrategy } = require("@kubernetes/client-node") as typeof k8s;
    const managed = crd.metadata.managedFields ?? [];
    const kept = managed.filter((f) => !f.manager?.startsWith("pulumi-kubernetes"));
    if (kept.length < managed.length) {
        const patch = { apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name: crd.metadata.name, managedFields: kept } };
        await api.patch(patch, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    }
}

/** Applies every CRD of the set (server-side apply), waits until each is established, and deletes those `previous` had and `inputs` no longer has. */
async function applyCrdSet(inputs: CrdSetInputs, previous?: CrdSetOutputs): Promise<CrdSetOutputs> {
    if (inputs.gone) {
        return { ...inputs, generations: {} };
    }
    const { PatchStrategy } = require("@kubernetes/client-node") as typeof k8s;
    const api = client(inputs);
    const crds = unpackCrds(inputs.manifests);
    const takeOver = process.env[TAKE_OVER_ENV] === "true";
    if (previous === undefined && !takeOver) {
        await refuseCrdsOfOtherPulumiResources(api, inputs, crds);
    }
    // Not forced, as the kubernetes provider applies the charts' objects: a field another manager changed
    // is a conflict that stops `up`, unless the run takes the CRDs over or sets the provider's own switch.
    const force = takeOver || process.env.PULUMI_K8S_ENABLE_PATCH_FORCE === "true";
    const generations: Record<string, number> = {};
    for (const crd of crds) {
        const applied = (await api.patch(crd, undefined, undefined, FIELD_MANAGER, force, PatchStrategy.ServerSideApply)) as Crd;
        generations[crd.metadata.name] = applied.metadata.generation ?? 0;
        if (takeOver) {
            await dropOtherPulumiManagers(api, applied);
        }
    }
    for (const crd of crds) {
        const name = crd.metadata.name;
        await waitFor(`CRD ${name} in cluster ${inputs.cluster} to be established`, async () => {
            const live = await readCrd(api, name);
            return live?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
        });
    }
    if (previous !== undefined && !inputs.keep) {
        await deleteCrds(api, inputs.cluster, Object.keys(previous.digests).filter((name) => !(name in inputs.digests)));
    }
    return { ...inputs, generations };
}

/** Deletes the named CRDs and waits until they are gone (the API server first deletes their custom resources). */
async function deleteCrds(api: k8s.KubernetesObjectApi, cluster: string, names: readonly string[]): Promise<void> {
    for (const name of names) {
        try {
            await api.delete(crdRef(name));
        } catch (err) {
            if ((err as { code?: number }).code !== 404) {
                throw err;
            }
        }
    }
    for (const name of names) {
        await waitFor(`CRD ${name} in cluster ${cluster} to be deleted`, async () => (await readCrd(api, name)) === undefined);
    }
}

/**
 * The set as the cluster holds it: a CRD that is missing is left out, and one whose spec changed since the
 * set applied it is recorded as changed, so the next preview shows an update that applies it again.
 */
async function readCrdSet(props: CrdSetOutputs): Promise<CrdSetOutputs> {
    if (props.gone) {
        return props;
    }
    const api = client(props);
    const digests: Record<string, string> = {};
    const generations: Record<string, number> = {};
    for (const [name, digest] of Object.entries(props.digests)) {
        const live = await readCrd(api, name);
        if (live !== undefined) {
            const generation = live.metadata.generation ?? 0;
            digests[name] = generation === props.generations[name] ? digest : CHANGED_IN_CLUSTER;
            generations[name] = generation;
        }
    }
    return { ...props, digests, generations };
}

function inputsOf(outputs: CrdSetOutputs): CrdSetInputs {
    const { cluster, kubeconfig, context, manifests, digests, keep, gone } = outputs;
    // No key without a value: the provider host cannot send `undefined`.
    return { cluster, kubeconfig, ...(context === undefined ? {} : { context }), manifests, digests, keep, gone };
}

const sameDigests = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([name, digest]) => b[name] === digest);

/** `work`, failing with the cluster's name, and for a network error with what the kubernetes provider would say. */
async function inCluster<T>(cluster: string, work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (err) {
        const message = (err as Error).message ?? String(err);
        if (message.startsWith(`cluster ${cluster}:`)) {
            throw err;
        }
        // client-node wraps fetch's error, which wraps the socket's: the code is at the end of the chain.
        let cause: unknown = err;
        let unreachable = false;
        for (let depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
            const code = (cause as { code?: unknown }).code;
            unreachable ||= typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code);
            cause = (cause as { cause?: unknown }).cause;
        }
        throw new Error(`cluster ${cluster}: ${unreachable ? "the cluster is unreachable: " : ""}${message}`);
    }
}

const crdSetProvider: pulumi.dynamic.ResourceProvider<CrdSetInputs, CrdSetOutputs> = {
    async create(inputs) {
        return { id: `${inputs.cluster}/istio-crds`, outs: await inCluster(inputs.cluster, () => applyCrdSet(inputs)) };
    },
    async diff(_id, olds, news) {
        // Never a replacement: that would delete the CRDs, and every Istio resource, to create them again.
        const changes =
            !sameDigests(olds.digests, news.digests) ||
            olds.keep !== news.keep ||
            olds.gone !== news.gone ||
            olds.kubeconfig !== news.kubeconfig ||
            olds.context !== news.context;
        return { changes, replaces: [] };
    },
    async update(_id, olds, news) {
        return { outs: await inCluster(news.cluster, () => applyCrdSet(news, olds)) };
    },
    async read(id, props) {
        // The inputs too: a CRD changed or deleted in the cluster then shows in `pulumi preview --diff`.
        const current = await inCluster(props!.cluster, () => readCrdSet(props!));
        // (ReadResult types the inputs as the outputs; the engine takes any property map.)
        return { id, props: current, inputs: inputsOf(current) as CrdSetOutputs };
    },
    async delete(_id, props) {
        if (props.gone || props.keep) {
            return;
        }
        await inCluster(props.cluster, () => deleteCrds(client(props), props.cluster, Object.keys(props.digests)));
    },
};

export { crdSetProvider, CHANGED_IN_CLUSTER, FIELD_MANAGER as CRD_SET_FIELD_MANAGER, TAKE_OVER_ENV as TAKE_OVER_CRDS_ENV };
