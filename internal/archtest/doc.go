// Package archtest holds the architecture test: it reads the import graph
// of the module with `go list` and fails on any arrow that
// architecture.json (at the module root) forbids. It has no code of its
// own.
package archtest
