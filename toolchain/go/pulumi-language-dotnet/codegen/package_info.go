// Package codegen holds the one type the docker-build provider takes from Pulumi's .NET code generator.
package codegen

// CSharpPackageInfo is the "csharp" language section of a Pulumi package schema.
type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
