import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import Ajv from "ajv";
import * as yaml from "js-yaml";
import { REFERENCE_FILE, SCHEMA_FILE, stackFileSchemaText, withConfigReference } from "../scripts/gen-config";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("files generated from the stack config's schema", () => {
    it(`${SCHEMA_FILE} is up to date (else run npm run gen:config)`, () => {
        assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), stackFileSchemaText());
    });

    it(`${REFERENCE_FILE}'s table of keys is up to date (else run npm run gen:config)`, () => {
        const page = fs.readFileSync(REFERENCE_FILE, "utf8");
        assert.equal(page, withConfigReference(page));
    });
});

describe(`${SCHEMA_FILE}, as an editor applies it to Pulumi.<stack>.yaml`, () => {
    // `x-default` describes a default the program computes (e.g. "from the networks"), for the reference.
    const validate = new Ajv({ keywords: ["x-default"] }).compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
    const problems = (config: Record<string, unknown>) =>
        validate({ config }) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);
    const devStack = yaml.load(fs.readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };

    it("accepts Pulumi.dev.yaml", () => {
        assert.deepEqual(problems(devStack.config), []);
    });

    it("accepts other namespaces' keys and secure values where secrets go", () => {
        const secure = { secure: "AAABAKz0" };
        const config = {
            ...devStack.config,
            "kubernetes:enableServerSideApply": "true",
            "istio-multicluster:ca": { rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: secure }, cluster2: { cert: secure, key: secure } } },
        };
        assert.deepEqual(problems(config), []);
        assert.deepEqual(problems({ ...devStack.config, "istio-multicluster:ca": secure }), []);
    });

    it("rejects misspelt keys, missing keys and values that are not allowed", () => {
        assert.notDeepEqual(problems({ ...devStack.config, "istio-multicluster:meshID": "mesh1" }), []);
        assert.notDeepEqual(problems({ "istio-multicluster:meshId": "mesh1" }), []);
        assert.notDeepEqual(problems({ ...devStack.config, "istio-multicluster:verify": { requests: 1 } }), []);
        assert.notDeepEqual(problems({ ...devStack.config, "istio-multicluster:istio": { values: { cni: {} } } }), []);
    });
});
