// Package grids holds the demo evaluation grids as YAML files, the same form
// `ecouted grid import` reads.
package grids

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed *.yaml
var files embed.FS

// Files returns the demo grid files by name, in name order.
func Files() ([]string, map[string][]byte, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("demo grids: %w", err)
	}
	sort.Strings(names)
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, nil, fmt.Errorf("demo grid %s: %w", n, err)
		}
		out[n] = b
	}
	return names, out, nil
}
