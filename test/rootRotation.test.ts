import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks, valueOf } from "./harness/mockRuntime";
import { PRIMARY_TWO_REMOTES_TWO_NETWORKS, TWO_CLUSTERS_ONE_NETWORK } from "./harness/scenarios";

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
/** The fake tls provider's certificates (test/harness/fakeCluster.ts), by resource name. */
const OLD_ROOT = pem("CERTIFICATE", "mesh-trust-root-cert self-signed with mesh-trust-root-key");
const NEW_ROOT = pem("CERTIFICATE", "mesh-trust-root-g1-cert self-signed with mesh-trust-root-g1-key");
const OLD_EAST = pem("CERTIFICATE", "mesh-trust-east-ca-cert issued by mesh-trust-root-cert self-signed with mesh-trust-root-key");
const NEW_EAST = pem("CERTIFICATE", "mesh-trust-east-ca-g1-cert issued by mesh-trust-root-g1-cert self-signed with mesh-trust-root-g1-key");
const both = (a: string, b: string) => `${a.trimEnd()}\n${b.trimEnd()}\n`;

async function deploy(raw: StackConfigInput) {
    const { config } = parseStackConfig(raw as Record<string, unknown>, new Set(["ca"]));
    return runWithMocks(() => deployMesh(config), fakeState);
}

/** The four files of a cluster's cacerts, decoded. */
function cacertsOf(resources: RecordedResource[], cluster: string): Record<string, string> {
    const cacerts = resources.find((r) => r.name === `${cluster}-cacerts`)!;
    return Object.fromEntries(Object.entries<string>(cacerts.inputs.data).map(([file, value]) => [file, Buffer.from(value, "base64").toString()]));
}

const annotationsOf = (resources: RecordedResource[], cluster: string) => resources.find((r) => r.name === `${cluster}-cacerts`)!.inputs.metadata.annotations;
const istiodEnv = (resources: RecordedResource[], cluster: string) => resources.find((r) => r.name === `${cluster}-istiod`)!.inputs.values.env;
const generated = (rotation?: Record<string, unknown>, rootGeneration?: number): StackConfigInput => ({
    ...TWO_CLUSTERS_ONE_NETWORK,
    ca: { ...(rootGeneration === undefined ? {} : { rootGeneration }), ...(rotation === undefined ? {} : { rootRotation: rotation }) } as StackConfigInput["ca"],
});

describe("what each phase of a generated root's rotation writes into cacerts", () => {
    /** root-cert.pem, the intermediate that signs (ca-cert.pem and its key) and the root cert-chain.pem ends with, in cluster east. */
    const PHASES: { title: string; raw: StackConfigInput; roots: string; signer: string; key: string; chainRoot: string }[] = [
        { title: "no rotation", raw: generated(), roots: OLD_ROOT, signer: OLD_EAST, key: "mesh-trust-east-ca-key", chainRoot: OLD_ROOT },
        { title: "prepare", raw: generated({ phase: "prepare" }), roots: OLD_ROOT, signer: OLD_EAST, key: "mesh-trust-east-ca-key", chainRoot: OLD_ROOT },
        { title: "trust-both", raw: generated({ phase: "trust-both" }), roots: both(OLD_ROOT, NEW_ROOT), signer: OLD_EAST, key: "mesh-trust-east-ca-key", chainRoot: OLD_ROOT },
        { title: "sign-new", raw: generated({ phase: "sign-new" }), roots: both(OLD_ROOT, NEW_ROOT), signer: NEW_EAST, key: "mesh-trust-east-ca-g1-key", chainRoot: NEW_ROOT },
        { title: "new-only", raw: generated({ phase: "new-only" }), roots: NEW_ROOT, signer: NEW_EAST, key: "mesh-trust-east-ca-g1-key", chainRoot: NEW_ROOT },
        { title: "the end (generation 1, no rotation)", raw: generated(undefined, 1), roots: NEW_ROOT, signer: NEW_EAST, key: "mesh-trust-east-ca-g1-key", chainRoot: NEW_ROOT },
    ];

    for (const phase of PHASES) {
        it(`${phase.title}: root-cert.pem, the signing intermediate, its key and chain, and the roots the stack outputs`, async () => {
            const { result, resources } = await deploy(phase.raw);
            const files = cacertsOf(resources, "east");
            assert.equal(files["root-cert.pem"], phase.roots);
            assert.equal(files["ca-cert.pem"], phase.signer);
            assert.equal(files["ca-key.pem"], pem("RSA PRIVATE KEY", phase.key));
            assert.equal(files["cert-chain.pem"], both(phase.signer, phase.chainRoot));
            assert.equal(await valueOf(result.rootCert), phase.roots);
        });
    }

    it("keeps root-cert.pem byte for byte from trust-both to sign-new, and every file from new-only to the end", async () => {
        const trustBoth = (await deploy(generated({ phase: "trust-both" }))).resources;
        const signNew = (await deploy(generated({ phase: "sign-new" }))).resources;
        const newOnly = (await deploy(generated({ phase: "new-only" }))).resources;
        const end = (await deploy(generated(undefined, 1))).resources;
        assert.equal(cacertsOf(signNew, "west")["root-cert.pem"], cacertsOf(trustBoth, "west")["root-cert.pem"]);
        assert.deepEqual(cacertsOf(end, "west"), cacertsOf(newOnly, "west"));
    });

    it("generates the new root and its intermediates from prepare on, and keeps only them at the end", async () => {
        const tlsNames = async (raw: StackConfigInput) => (await deploy(raw)).resources.filter((r) => r.type.startsWith("tls:")).map((r) => r.name).sort();
        const old = ["mesh-trust-root-key", "mesh-trust-root-cert", ...["east", "west"].flatMap((c) => [`mesh-trust-${c}-ca-key`, `mesh-trust-${c}-ca-csr`, `mesh-trust-${c}-ca-cert`])];
        const next = old.map((n) => n.replace(/-(key|cert|csr)$/, "-g1-$1"));
        assert.deepEqual(await tlsNames(generated()), old.sort());
        assert.deepEqual(await tlsNames(generated({ phase: "prepare" })), [...old, ...next].sort());
        assert.deepEqual(await tlsNames(generated(undefined, 1)), next.sort());
    });

    it("records the phase and the new root on cacerts, and the root's generation once it is not the first", async () => {
        const prepare = (await deploy(generated({ phase: "prepare" }))).resources;
        assert.equal(annotationsOf(prepare, "east")["istio-multicluster.pulumi.com/root-rotation"], "prepare");
        assert.equal(annotationsOf(prepare, "east")["istio-multicluster.pulumi.com/root-rotation-to"], "generation 1");
        assert.equal(annotationsOf(prepare, "east")["istio-multicluster.pulumi.com/root-generation"], undefined);
        const end = (await deploy(generated(undefined, 1))).resources;
        assert.equal(annotationsOf(end, "east")["istio-multicluster.pulumi.com/root-rotation"], undefined);
        assert.equal(annotationsOf(end, "east")["istio-multicluster.pulumi.com/root-generation"], "1");
    });

    it("sets ISTIO_MULTIROOT_MESH on every istiod in every phase, on none before or after, and not on a remote's charts", async () => {
        for (const phase of ["prepare", "trust-both", "sign-new", "new-only"]) {
            const { resources } = await deploy(generated({ phase }));
            assert.deepEqual([istiodEnv(resources, "east"), istiodEnv(resources, "west")], [{ ISTIO_MULTIROOT_MESH: "true" }, { ISTIO_MULTIROOT_MESH: "true" }], phase);
        }
        assert.equal(istiodEnv((await deploy(generated(undefined, 1))).resources, "east"), undefined);
        const primaryRemote = (await deploy({ ...PRIMARY_TWO_REMOTES_TWO_NETWORKS, ca: { rootRotation: { phase: "trust-both" } } })).resources;
        assert.deepEqual(istiodEnv(primaryRemote, "hub"), { ISTIO_MULTIROOT_MESH: "true" });
        assert.equal(istiodEnv(primaryRemote, "spoke1"), undefined);
        assert.equal(cacertsOf(primaryRemote, "spoke1")["root-cert.pem"].match(/BEGIN CERTIFICATE/g)?.length, 2, "a remote's cacerts follows the phase too");
    });
});

describe("what each phase of a supplied root's rotation writes into cacerts", () => {
    const cert = (name: string) => pem("CERTIFICATE", name);
    const key = (name: string) => pem("PRIVATE KEY", name);
    const ca = (phase: string, newIntermediates = true) => ({
        ...TWO_CLUSTERS_ONE_NETWORK,
        ca: {
            rootCert: cert("old root"),
            intermediates: { east: { cert: cert("old east"), key: key("old east") }, west: { cert: cert("old west"), key: key("old west") } },
            rootRotation: {
                phase,
                rootCert: cert("new root"),
                ...(newIntermediates ? { intermediates: { east: { cert: cert("new east"), key: key("new east") }, west: { cert: cert("new west"), key: key("new west") } } } : {}),
            },
        },
    }) as StackConfigInput;

    it("trusts the supplied new root beside the old one, then signs with its intermediates, then trusts it alone; the keys stay secret", async () => {
        const expected = {
            prepare: [cert("old root"), "old east"],
            "trust-both": [both(cert("old root"), cert("new root")), "old east"],
            "sign-new": [both(cert("old root"), cert("new root")), "new east"],
            "new-only": [cert("new root"), "new east"],
        };
        for (const [phase, [roots, signer]] of Object.entries(expected)) {
            const { resources } = await deploy(ca(phase));
            const files = cacertsOf(resources, "east");
            assert.equal(files["root-cert.pem"], roots, phase);
            assert.equal(files["ca-cert.pem"], cert(signer), phase);
            assert.equal(files["ca-key.pem"], key(signer), phase);
            assert.equal(files["cert-chain.pem"], both(cert(signer), cert(signer.startsWith("new") ? "new root" : "old root")), phase);
            assert.ok(resources.find((r) => r.name === "east-cacerts")!.secretInputs.has("data"), phase);
        }
        assert.equal(cacertsOf((await deploy(ca("trust-both", false))).resources, "east")["ca-cert.pem"], cert("old east"), "the new intermediates are not needed before sign-new");
    });
});
