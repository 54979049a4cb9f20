// Command pulumi-resource-tls is the tls provider plugin. The build script generates the two embedded
// files with tfgen-tls before building it.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"istio-multicluster/test/e2e/toolchain/tls-build/tlsinfo"
)

// Set at link time to the version @pulumi/tls requests.
var version = "0.0.0"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "tls", tlsinfo.Provider(version, metadata), pf.ProviderMetadata{PackageSchema: schema})
}
