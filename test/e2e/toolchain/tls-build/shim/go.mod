// The upstream provider lives in an internal package, which Go lets only packages under its own import
// path import. This module is named inside that path to re-export it, as pulumi-tls itself does.
module github.com/hashicorp/terraform-provider-tls/shim

go 1.24.7

require github.com/hashicorp/terraform-provider-tls v1.2.1-0.20260130152455-857b38cda3fc
