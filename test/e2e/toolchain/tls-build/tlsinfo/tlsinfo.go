// Package tlsinfo maps the Terraform TLS provider onto the Pulumi tls package that @pulumi/tls speaks:
// the same package name, tokens and version.
package tlsinfo

import (
	"github.com/hashicorp/terraform-provider-tls/shim"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
)

// Provider describes the tls package at the given version. metadata is the bridge metadata that
// schema generation wrote (nil while generating it).
func Provider(version string, metadata []byte) tfbridge.ProviderInfo {
	return tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "tls",
		Version:      version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_cert_request":        {Tok: "tls:index/certRequest:CertRequest"},
			"tls_locally_signed_cert": {Tok: "tls:index/locallySignedCert:LocallySignedCert"},
			"tls_private_key":         {Tok: "tls:index/privateKey:PrivateKey"},
			"tls_self_signed_cert":    {Tok: "tls:index/selfSignedCert:SelfSignedCert"},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"tls_public_key":  {Tok: "tls:index/getPublicKey:getPublicKey"},
			"tls_certificate": {Tok: "tls:index/getCertificate:getCertificate"},
		},
		EnableZeroDefaultSchemaVersion: true,
	}
}
