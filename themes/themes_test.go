package themes

import (
	"image/color"
	"math"
	"testing"

	"charm.land/lipgloss/v2"
)

func TestLookup(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, n := range []string{"", "auto", "dark", "light", "high-contrast", "colorblind", "none"} {
		if _, err := Lookup(n); err != nil {
			t.Errorf("Lookup(%q): %v", n, err)
		}
	}
	if _, err := Lookup("neon"); err == nil {
		t.Error("unknown theme accepted")
	}
	t.Setenv("NO_COLOR", "1")
	th, err := Lookup("dark")
	if err != nil || !th.NoColor {
		t.Errorf("NO_COLOR set: got %+v, %v; want the colourless theme", th.Name, err)
	}
	s := New(th, true)
	if _, ok := s.TableSelected.GetBackground().(lipgloss.NoColor); !ok {
		t.Errorf("no-colour selected row has background %v", s.TableSelected.GetBackground())
	}
	if !s.TableSelected.GetReverse() {
		t.Error("no-colour selected row is not reversed: the selection would be invisible")
	}
}

func TestModes(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	auto, _ := Lookup("auto")
	if New(auto, true).Text.GetForeground() == New(auto, false).Text.GetForeground() {
		t.Error("auto theme ignores the background")
	}
	light, _ := Lookup("light")
	if got := New(light, true); got.IsDark {
		t.Error("light theme used the dark variant")
	}
	dark, _ := Lookup("dark")
	if got := New(dark, false); !got.IsDark {
		t.Error("dark theme used the light variant")
	}
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, bl, _ := c.RGBA()
		ch := func(v uint32) float64 {
			x := float64(v) / 0xffff
			if x <= 0.03928 {
				return x / 12.92
			}
			return math.Pow((x+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(bl)
	}
	l1, l2 := lum(a), lum(b)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// TestPaletteContrast checks each palette's text tokens against the
// background they are drawn on (black or white terminal, the status bar,
// the selected row). High contrast must reach AAA (7:1) for body text.
func TestPaletteContrast(t *testing.T) {
	black, white := lipgloss.Color("#000000"), lipgloss.Color("#ffffff")
	if r := contrast(black, white); math.Abs(r-21) > 0.01 {
		t.Fatalf("contrast(black, white) = %.2f, want 21", r)
	}
	cases := []struct {
		name    string
		p       Palette
		text    float64 // Text, OnSelect, OnBar
		signals float64 // Accent, Ok, Warn, Danger
	}{
		{"standard", standard, 4.5, 3},
		{"high-contrast", highContrast, 7, 4.5},
		{"colorblind", colourBlind, 4.5, 4.5},
	}
	for _, tc := range cases {
		for _, dark := range []bool{false, true} {
			pick := func(pr Pair) color.Color {
				if dark {
					return pr.Dark
				}
				return pr.Light
			}
			bg := white
			if dark {
				bg = black
			}
			check := func(what string, fg, bg color.Color, min float64) {
				if got := contrast(fg, bg); got < min {
					t.Errorf("%s (dark %v): %s contrast %.2f < %.1f", tc.name, dark, what, got, min)
				}
			}
			check("text", pick(tc.p.Text), bg, tc.text)
			check("selected row", pick(tc.p.OnSelect), pick(tc.p.Selected), tc.text)
			check("status bar", pick(tc.p.OnBar), pick(tc.p.Bar), tc.text)
			check("accent", pick(tc.p.Accent), bg, tc.signals)
			check("ok", pick(tc.p.Ok), bg, tc.signals)
			check("warn", pick(tc.p.Warn), bg, tc.signals)
			check("danger", pick(tc.p.Danger), bg, tc.signals)
		}
	}
}
