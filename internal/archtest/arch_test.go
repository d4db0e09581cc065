package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rules is architecture.json.
type rules struct {
	Module    string              `json:"module"`
	Layers    map[string][]string `json:"layers"`
	Forbidden []rule              `json:"forbidden"`
}

type rule struct {
	From   []string `json:"from"`
	To     []string `json:"to"`
	Via    string   `json:"via"` // "imports" (direct) or "deps" (transitive)
	Why    string   `json:"why"`
	Except []string `json:"except"`
}

// pkg is what go list says of one package (tests left out).
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func loadRules(t *testing.T, root string) rules {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "architecture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r rules
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("architecture.json: %v", err)
	}
	if r.Module == "" || len(r.Forbidden) == 0 {
		t.Fatal("architecture.json: no module or no rule")
	}
	return r
}

// listPackages runs go list over the module with the build tags of the
// test run (a nosound build still has the same arrows).
func listPackages(t *testing.T, root string) []pkg {
	t.Helper()
	args := []string{"list", "-e", "-json=ImportPath,Imports,Deps"}
	if tags := os.Getenv("ECOUTE_TEST_TAGS"); tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, "./...")...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: not the module", len(pkgs))
	}
	return pkgs
}

// matches tells whether path is named by pattern: a path of the module
// relative to it ("tui/...", "backend/policy"), or a full import path
// ("google.golang.org/grpc/..."); "/..." takes the subtree.
func matches(module, pattern, path string) bool {
	full := pattern
	if !strings.Contains(strings.SplitN(pattern, "/", 2)[0], ".") {
		full = module + "/" + pattern
	}
	if base, ok := strings.CutSuffix(full, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == full
}

func anyMatch(module string, patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(module, p, path) })
}

// violations lists the forbidden arrows in pkgs.
func violations(r rules, pkgs []pkg) []string {
	var out []string
	for _, ru := range r.Forbidden {
		for _, p := range pkgs {
			if !anyMatch(r.Module, ru.From, p.ImportPath) || anyMatch(r.Module, ru.Except, p.ImportPath) {
				continue
			}
			edges := p.Imports
			if ru.Via == "deps" {
				edges = p.Deps
			}
			for _, dep := range edges {
				if anyMatch(r.Module, ru.To, dep) {
					out = append(out, fmt.Sprintf("%s → %s (%s): %s", p.ImportPath, dep, ru.Via, ru.Why))
				}
			}
		}
	}
	return out
}

// TestArchitecture fails on any arrow architecture.json forbids.
func TestArchitecture(t *testing.T) {
	root := moduleRoot(t)
	r := loadRules(t, root)
	pkgs := listPackages(t, root)
	// Every layer names packages that exist, so a renamed package cannot
	// silently leave its rules.
	for name, patterns := range r.Layers {
		for _, pat := range patterns {
			if !slices.ContainsFunc(pkgs, func(p pkg) bool { return matches(r.Module, pat, p.ImportPath) }) &&
				!strings.HasSuffix(pat, "/...") {
				t.Errorf("layer %s: %s matches no package", name, pat)
			}
		}
	}
	for _, v := range violations(r, pkgs) {
		t.Error(v)
	}
}

// TestRulesCatchForbiddenArrows: the checker itself finds an arrow of each
// kind in a made-up graph, so a broken matcher cannot pass silently.
func TestRulesCatchForbiddenArrows(t *testing.T) {
	r := loadRules(t, moduleRoot(t))
	m := r.Module
	cases := []struct {
		name string
		p    pkg
	}{
		{"console → backend", pkg{ImportPath: m + "/tui", Deps: []string{m + "/backend/store"}}},
		{"screen → grpc", pkg{ImportPath: m + "/tui/evalform", Imports: []string{"google.golang.org/grpc/status"}}},
		{"client → player", pkg{ImportPath: m + "/client", Deps: []string{m + "/player"}}},
		{"client → beep", pkg{ImportPath: m + "/client", Deps: []string{"github.com/gopxl/beep/v2/speaker"}}},
		{"player → api", pkg{ImportPath: m + "/player", Deps: []string{m + "/api/ecoute/v1"}}},
		{"backend → client", pkg{ImportPath: m + "/backend/service", Deps: []string{m + "/client"}}},
		{"rules → store", pkg{ImportPath: m + "/backend/policy", Deps: []string{m + "/backend/store"}}},
		{"ssh server → backend", pkg{ImportPath: m + "/sshserve", Deps: []string{m + "/backend/core"}}},
	}
	for _, c := range cases {
		if v := violations(r, []pkg{c.p}); len(v) == 0 {
			t.Errorf("%s: not caught", c.name)
		}
	}
	// And allowed arrows pass.
	ok := []pkg{
		{ImportPath: m + "/tui", Imports: []string{m + "/client", m + "/api/ecoute/v1"}, Deps: []string{"google.golang.org/grpc"}},
		{ImportPath: m + "/cmd/ecoute", Deps: []string{m + "/backend", m + "/tui"}},
		{ImportPath: m + "/client", Imports: []string{"google.golang.org/grpc/status"}},
	}
	if v := violations(r, ok); len(v) != 0 {
		t.Errorf("allowed arrows refused: %v", v)
	}
}
