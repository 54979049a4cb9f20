// Package shim re-exports the upstream TLS provider for the bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns the upstream Terraform TLS provider.
func NewProvider() provider.Provider { return upstream.New() }
