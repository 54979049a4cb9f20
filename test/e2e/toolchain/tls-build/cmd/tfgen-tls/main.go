// Command tfgen-tls writes the tls package's Pulumi schema and bridge metadata, which the provider embeds.
package main

import (
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"istio-multicluster/test/e2e/toolchain/tls-build/tlsinfo"
)

func main() {
	pftfgen.Main("tls", tlsinfo.Provider(os.Getenv("TLS_PROVIDER_VERSION"), nil))
}
