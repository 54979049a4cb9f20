#!/usr/bin/env bash
# Makes, with openssl, a root CA and one intermediate CA per named cluster, as a site with its own PKI
# would supply them, and prints them as the value of the stack's `ca` config:
# {"rootCert": ..., "intermediates": {"<cluster>": {"cert": ..., "key": ...}}}.
# The end-to-end test switches its stack from the generated CA to this one.
# Usage: make-ca.sh <cluster>...   (keys exist only in a scratch directory, removed on exit)
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' >ca.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -days 7 -subj "/O=e2e/CN=Root CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
for cluster in "$@"; do
    openssl req -new -newkey rsa:2048 -nodes -keyout "$cluster.key" -out "$cluster.csr" \
        -subj "/O=e2e/CN=Intermediate CA/L=$cluster" 2>/dev/null
    openssl x509 -req -in "$cluster.csr" -CA root.crt -CAkey root.key -CAcreateserial -days 7 \
        -extfile ca.ext -out "$cluster.crt" 2>/dev/null
done
node -e '
const fs = require("fs");
const clusters = process.argv.slice(1);
const read = (f) => fs.readFileSync(f, "utf8");
const intermediates = Object.fromEntries(clusters.map((c) => [c, { cert: read(`${c}.crt`), key: read(`${c}.key`) }]));
process.stdout.write(JSON.stringify({ rootCert: read("root.crt"), intermediates }));
' "$@"
