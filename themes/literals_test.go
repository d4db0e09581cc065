package themes

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// colourLiteral matches what choosing a colour looks like in Go source: a
// Lip Gloss colour, an image/color value, or a quoted hex code.
var colourLiteral = regexp.MustCompile(`lipgloss\.Color\(|color\.(N?RGBA(64)?)\{|"#[0-9a-fA-F]{3,8}"`)

var (
	imagePixel    = regexp.MustCompile(`color\.(N?RGBA(64)?)\{`)
	lipglossOrHex = regexp.MustCompile(`lipgloss\.Color\(|"#[0-9a-fA-F]{3,8}"`)
)

func TestColourLiteralMatcher(t *testing.T) {
	for _, bad := range []string{`lipgloss.Color("212")`, `x := "#ff00aa"`, `color.RGBA{1, 2, 3, 255}`, `"#FFF"`} {
		if !colourLiteral.MatchString(bad) {
			t.Errorf("matcher misses %s", bad)
		}
	}
	for _, ok := range []string{`s.Styles.Accent`, `"# heading"`, `"#1 call"`} {
		if colourLiteral.MatchString(ok) {
			t.Errorf("matcher flags %s", ok)
		}
	}
}

// TestNoColourOutsideThemes keeps every colour choice in this package:
// a screen that names a colour escapes the palettes, high contrast and
// NO_COLOR included.
func TestNoColourOutsideThemes(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from themes/: %v", err)
	}
	themesDir := filepath.Join(root, "themes")
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path == themesDir || name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".pb.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		// Pixels drawn into images (the demo's screen captures, test
		// images) are data, not the console's colours.
		rel, _ := filepath.Rel(root, path)
		pixels := strings.HasSuffix(path, "_test.go") || strings.HasPrefix(filepath.ToSlash(rel), "internal/demo/")
		for i, line := range strings.Split(string(src), "\n") {
			if pixels && imagePixel.MatchString(line) && !lipglossOrHex.MatchString(line) {
				continue
			}
			if colourLiteral.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: colour literal outside themes/ (add a token to themes.Palette): %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 10 {
		t.Fatalf("scanned only %d Go files: the walk is not covering the module", scanned)
	}
}
