//go:build tools

// Records the command this module builds, so `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
