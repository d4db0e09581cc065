package i18n

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// verbs lists a format's verbs in order (%d, %s, %[2]s …), so that the two
// languages of a message take the same arguments.
var verbRE = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+|\.\*)?[vdsqgfexXtT%]`)

func verbs(format string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(format, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	slices.Sort(out)
	return out
}

// TestCataloguesMatch: every key is in both languages, with the same
// arguments and, for plurals, the same deciding argument and an "other"
// form; no message is empty.
func TestCataloguesMatch(t *testing.T) {
	if err := loaded(); err != nil {
		t.Fatal(err)
	}
	en, fr := entries[English], entries[French]
	if len(en) < 100 {
		t.Fatalf("only %d English messages", len(en))
	}
	for _, pair := range [][2]Lang{{English, French}, {French, English}} {
		for k := range entries[pair[0]] {
			if _, ok := entries[pair[1]][k]; !ok {
				t.Errorf("%s is in %s.yaml, missing in %s.yaml", k, pair[0], pair[1])
			}
		}
	}
	formats := func(e entry) []string {
		if e.Arg == 0 {
			return []string{e.Format}
		}
		var out []string
		for _, f := range e.Forms {
			out = append(out, f.format)
		}
		return out
	}
	for k, e := range en {
		f, ok := fr[k]
		if !ok {
			continue
		}
		if e.Arg != f.Arg {
			t.Errorf("%s: plural on argument %d in English, %d in French", k, e.Arg, f.Arg)
		}
		want := verbs(formats(e)[len(formats(e))-1])
		for _, lang := range []struct {
			name string
			e    entry
		}{{"en", e}, {"fr", f}} {
			for _, s := range formats(lang.e) {
				if strings.TrimSpace(s) == "" && k != "filterCandidates" {
					t.Errorf("%s (%s): empty message", k, lang.name)
				}
				if got := verbs(s); lang.e.Arg == 0 && !slices.Equal(got, want) {
					t.Errorf("%s (%s): arguments %v, English takes %v: %q", k, lang.name, got, want, s)
				}
			}
		}
	}
}

// TestEveryKeyIsUsed: a catalogue key that no Go file names is dead text
// (a message removed from the code, or a typo in one of the two).
func TestEveryKeyIsUsed(t *testing.T) {
	root := moduleRoot(t)
	used := map[Key]bool{}
	declared := map[string]Key{}
	declNames := map[*ast.Ident]bool{}
	skipLits := map[ast.Expr]bool{}
	idents := map[string]int{}
	prefixes := []string{"category.", "month.", "reason.", "fmt.", "role.", "keyname.", "output.", "requestKind."}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				// `name i18n.Key = "key"` declares a key: it counts as
				// used only where name is used.
				if isKeyType(n.Type) {
					for i, name := range n.Names {
						if i < len(n.Values) {
							if lit, ok := n.Values[i].(*ast.BasicLit); ok {
								if s, err := strconv.Unquote(lit.Value); err == nil {
									declared[name.Name] = Key(s)
								}
							}
						}
						declNames[name] = true
					}
					for _, v := range n.Values {
						skipLits[v] = true
					}
				}
			case *ast.Ident:
				if !declNames[n] {
					idents[n.Name]++
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING && !skipLits[n] {
					if s, err := strconv.Unquote(n.Value); err == nil {
						used[Key(s)] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range declared {
		if idents[name] > 0 {
			used[k] = true
		}
	}
	for _, k := range Keys(English) {
		if used[k] || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(string(k), p) }) {
			continue
		}
		t.Errorf("catalogue key %s is used by no Go file", k)
	}
}

// isKeyType tells whether a declared type is i18n.Key (or Key here).
func isKeyType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name == "Key"
	case *ast.Ident:
		return e.Name == "Key"
	}
	return false
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func TestFrenchNumbersPluralsAndDates(t *testing.T) {
	fr, en := New(French), New(English)
	cases := []struct{ got, want string }{
		{fr.Percent(97.25), "97,2\u202f%"},
		{en.Percent(97.25), "97.2 %"},
		{fr.T("playerSpeedFmt", 1.5), "1,5\u202f×"},
		{en.T("playerSpeedFmt", 1.5), "1.5×"},
		{fr.T("callsTotal", 1), "1 appel"},
		{fr.T("callsTotal", 0), "0 appel"}, // French: 0 and 1 are singular
		{fr.T("callsTotal", 2), "2 appels"},
		{en.T("callsTotal", 0), "0 calls"},
		{en.T("callsTotal", 1), "1 call"},
		{fr.T("callsTotal", 12000), "12\u00a0000 appels"},
		{fr.Day(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)), "29 nov. 2026"},
		{en.Day(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)), "29 Nov 2026"},
		{fr.DayTime(time.Date(2027, 2, 1, 9, 5, 0, 0, time.UTC)), "1 févr. 2027 09:05"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestChooseLanguage(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		flag, setting string
		env           func(string) string
		want          Lang
		err           bool
	}{
		{"", "", env(), English, false},
		{"", "", env("LANG", "fr_FR.UTF-8"), French, false},
		{"", "", env("LANG", "fr_FR.UTF-8", "LC_MESSAGES", "en_GB.UTF-8"), English, false},
		{"", "", env("LANG", "en_US.UTF-8", "LC_ALL", "fr_MC.UTF-8"), French, false},
		{"", "", env("LC_ALL", "C", "LANG", "fr_FR"), English, false},
		{"", "", env("LANG", "de_DE.UTF-8"), English, false},
		{"", "fr", env("LANG", "en_US"), French, false},
		{"en", "fr", env("LANG", "fr_FR"), English, false},
		{"français", "", nil, French, false},
		{"de", "", nil, "", true},
		{"", "klingon", nil, "", true},
	}
	for _, c := range cases {
		got, err := Choose(c.flag, c.setting, c.env)
		if (err != nil) != c.err || !c.err && got != c.want {
			t.Errorf("Choose(%q, %q) = %q, %v; want %q (error %v)", c.flag, c.setting, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, ErrUnknownLang) {
			t.Errorf("error %v is not ErrUnknownLang", err)
		}
	}
}
