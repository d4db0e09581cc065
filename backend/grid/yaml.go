package grid

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// known keys per level of the YAML form; anything else is a typo the author
// wants to hear about, not silently ignore.
var (
	gridKeys      = []string{"id", "version", "name", "description", "direction", "sections"}
	sectionKeys   = []string{"id", "title", "weight", "criteria"}
	criterionKeys = []string{"id", "label", "help", "type", "weight", "critical", "allow_na", "comment_when_failed", "choices"}
	choiceKeys    = []string{"id", "label", "points"}
)

// ParseYAML reads a grid from its YAML form and validates it. Every problem
// carries the line it was found on (Problems), so an author can fix the file
// in one pass.
func ParseYAML(data []byte) (Grid, error) {
	if len(data) > MaxYAML {
		return Grid{}, Problems{{Path: "grid", Line: 1, Msg: fmt.Sprintf("%d bytes, at most %d", len(data), MaxYAML)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Grid{}, fmt.Errorf("read grid: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return Grid{}, Problems{{Path: "grid", Line: 1, Msg: "the file is empty"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return Grid{}, Problems{{Path: "grid", Line: doc.Line, Msg: "must be a mapping (id, name, sections)"}}
	}
	lines := map[string]int{}
	var ps Problems
	walk(doc, "", lines, &ps)
	var g Grid
	if err := doc.Decode(&g); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// yaml.v3 already prefixes each message with "line N:".
			for _, m := range te.Errors {
				ps = append(ps, Problem{Path: "grid", Line: lineOf(m), Msg: m})
			}
			return Grid{}, ps
		}
		return Grid{}, fmt.Errorf("read grid: %w", err)
	}
	if err := Validate(g); err != nil {
		var vps Problems
		if errors.As(err, &vps) {
			for _, p := range vps {
				p.Line = locate(lines, p.Path)
				ps = append(ps, p)
			}
		}
	}
	if len(ps) > 0 {
		return Grid{}, ps
	}
	return g, nil
}

func lineOf(msg string) int {
	var n int
	if _, err := fmt.Sscanf(msg, "line %d:", &n); err == nil {
		return n
	}
	return 0
}

// walk records the line of every path and reports unknown keys.
func walk(n *yaml.Node, path string, lines map[string]int, ps *Problems) {
	lines[path] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		known := keysFor(path)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if known != nil && !contains(known, k.Value) {
				*ps = append(*ps, Problem{Path: p, Line: k.Line, Msg: fmt.Sprintf("unknown key (expected one of %s)", strings.Join(known, ", "))})
				continue
			}
			walk(v, p, lines, ps)
			lines[p] = k.Line
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			walk(e, fmt.Sprintf("%s[%d]", path, i), lines, ps)
		}
	}
}

// keysFor tells which keys a mapping at path may hold.
func keysFor(path string) []string {
	switch {
	case path == "":
		return gridKeys
	case strings.HasSuffix(path, "]") && strings.Contains(path, ".choices["):
		return choiceKeys
	case strings.HasSuffix(path, "]") && strings.Contains(path, ".criteria["):
		return criterionKeys
	case strings.HasSuffix(path, "]") && strings.HasPrefix(path, "sections["):
		return sectionKeys
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// locate finds the line of path, or of its nearest ancestor present in the
// file (a missing key is reported at the mapping that lacks it).
func locate(lines map[string]int, path string) int {
	for p := path; ; {
		if l, ok := lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return lines[""]
		}
		p = p[:i]
	}
}

// MarshalYAML writes a grid in the form ParseYAML reads.
func MarshalYAML(g Grid) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(g); err != nil {
		return nil, fmt.Errorf("write grid %s: %w", g.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write grid %s: %w", g.ID, err)
	}
	return buf.Bytes(), nil
}
