package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// prose is a literal a person would read: two words, or a capitalised
// word ("Saved", "Écoute").
var prose = regexp.MustCompile(`\pL{2,}[ '’]+\pL{2,}|^\p{Lu}\p{Ll}+`)

// notProse are literals that look like words but are not shown to anyone
// as text: protocol values, key names, sort orders, log messages (logs are
// for operators reading the server's log, in English by design).
var notProse = map[string]bool{
	"started_at desc": true, "duration desc": true, "agent_name desc": true,
	"Écoute": true, // the product's name, the same in every language
}

// TestNoUserTextBypassesTheCatalogue: no literal in a console screen
// (tui/) speaks to the user directly: every sentence is a catalogue key.
// Structural strings (key names, field paths, formats without words) are
// fine, and so are log and test files.
func TestNoUserTextBypassesTheCatalogue(t *testing.T) {
	root := moduleRoot(t)
	dirs := []string{"tui", "cmd/ecoute", "sshserve"}
	var offenders []string
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			skip := map[*ast.BasicLit]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec:
					skip[n.Path] = true
				case *ast.Field:
					if n.Tag != nil {
						skip[n.Tag] = true
					}
				case *ast.ValueSpec:
					if isKeyType(n.Type) {
						for _, v := range n.Values {
							if lit, ok := v.(*ast.BasicLit); ok {
								skip[lit] = true
							}
						}
					}
				case *ast.CallExpr:
					// Logs and errors.New for sentinel errors compared by
					// identity are not shown as such.
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "slog" || id.Name == "log") {
							for _, a := range n.Args {
								if lit, ok := a.(*ast.BasicLit); ok {
									skip[lit] = true
								}
							}
						}
					}
				}
				return true
			})
			// A literal on a line that says why it is not translated
			// ("// i18n: a sentinel", "// i18n: a programming error") is
			// exempt; the reason stays in the code for the next reader.
			marked := map[int]bool{}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if strings.Contains(c.Text, "i18n:") {
						// The comment's line, or the line below a
						// comment standing alone.
						line := fset.Position(c.Pos()).Line
						marked[line], marked[line+1] = true, true
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || skip[lit] || marked[fset.Position(lit.Pos()).Line] {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || notProse[s] || !prose.MatchString(s) {
					return true
				}
				pos := fset.Position(lit.Pos())
				rel, _ := filepath.Rel(root, pos.Filename)
				offenders = append(offenders, rel+":"+strconv.Itoa(pos.Line)+": "+strconv.Quote(s))
				return true
			})
		}
	}
	for _, o := range offenders {
		t.Errorf("user-facing text outside the catalogue: %s", o)
	}
}
