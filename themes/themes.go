// Package themes is the only place colours are chosen. A Theme is a set of
// semantic tokens, each with a light-background and a dark-background
// value; Styles turns one theme into the Lip Gloss styles the console uses.
package themes

import (
	"fmt"
	"image/color"
	"os"
	"sort"

	"charm.land/lipgloss/v2"
)

// Pair is one token's colour on a light and on a dark background.
type Pair struct{ Light, Dark color.Color }

func pair(light, dark string) Pair {
	return Pair{Light: lipgloss.Color(light), Dark: lipgloss.Color(dark)}
}

// Palette holds the semantic colour tokens, each for a light and a dark
// background. Screens never name a colour; they use a style built from
// these. High-contrast and colour-blind-safe palettes are new Palettes.
type Palette struct {
	Text     Pair // body text
	Subtle   Pair // secondary text: labels, hints
	Muted    Pair // disabled, placeholders, separators
	Accent   Pair // titles, focused things, the progress bar
	Selected Pair // background of the selected row
	OnSelect Pair // text on Selected
	Border   Pair
	Ok       Pair
	Warn     Pair
	Danger   Pair
	Bar      Pair // background of the status bar
	OnBar    Pair // text on Bar
}

// The palettes below never rely on red against green: every state the
// console shows in colour is also written as a word or a symbol (✓, ✗, ⚠).

// Mode says which half of each Pair to use.
type Mode int

// The modes.
const (
	ModeAuto  Mode = iota // follow the terminal's background colour
	ModeDark              // dark background, whatever the terminal says
	ModeLight             // light background
)

// Theme is a palette and how to pick its variant.
type Theme struct {
	Name    string
	Palette Palette
	Mode    Mode
	// NoColor themes use no colour at all; emphasis comes from bold,
	// underline and reverse video so nothing depends on hue.
	NoColor bool
}

// standard is the default palette: hues kept apart in lightness as well as
// hue, so state (ok/warn/danger) is also carried by a symbol in the UI.
var standard = Palette{
	Text:     pair("#1f2328", "#e6e6e6"),
	Subtle:   pair("#57606a", "#a9b1d6"),
	Muted:    pair("#8c959f", "#6b7089"),
	Accent:   pair("#0969da", "#7aa2f7"),
	Selected: pair("#ddf4ff", "#2a3554"),
	OnSelect: pair("#0a3069", "#ffffff"),
	Border:   pair("#d0d7de", "#414868"),
	Ok:       pair("#1a7f37", "#9ece6a"),
	Warn:     pair("#9a6700", "#e0af68"),
	Danger:   pair("#cf222e", "#f7768e"),
	Bar:      pair("#eaeef2", "#24283b"),
	OnBar:    pair("#24292f", "#c0caf5"),
}

// highContrast keeps to black, white and a few saturated hues, each at
// least 7:1 against its background (WCAG AAA), for projectors, low vision
// and washed-out terminals.
var highContrast = Palette{
	Text:     pair("#000000", "#ffffff"),
	Subtle:   pair("#000000", "#ffffff"),
	Muted:    pair("#3a3a3a", "#d0d0d0"),
	Accent:   pair("#00007a", "#ffff00"),
	Selected: pair("#000000", "#ffffff"),
	OnSelect: pair("#ffffff", "#000000"),
	Border:   pair("#000000", "#ffffff"),
	Ok:       pair("#003d00", "#00ffff"),
	Warn:     pair("#5c3a00", "#ffff00"),
	Danger:   pair("#8b0000", "#ff8080"),
	Bar:      pair("#ffffff", "#000000"),
	OnBar:    pair("#000000", "#ffffff"),
}

// colourBlind is built on the Okabe–Ito palette (Okabe & Ito, 2008), which
// stays distinct under protanopia, deuteranopia and tritanopia: states go
// along the blue–orange axis, never red–green. Light-background values are
// the same hues darkened to keep a 4.5:1 contrast.
var colourBlind = Palette{
	Text:     pair("#000000", "#f0f0f0"),
	Subtle:   pair("#4d4d4d", "#bdbdbd"),
	Muted:    pair("#767676", "#8a8a8a"),
	Accent:   pair("#0072b2", "#56b4e9"),
	Selected: pair("#cce3f0", "#0a3a5c"),
	OnSelect: pair("#000000", "#ffffff"),
	Border:   pair("#999999", "#5a5a5a"),
	Ok:       pair("#0072b2", "#56b4e9"), // blue
	Warn:     pair("#8a5a00", "#f0e442"), // yellow
	Danger:   pair("#b34700", "#e69f00"), // vermillion / orange
	Bar:      pair("#e8e8e8", "#1e1e1e"),
	OnBar:    pair("#000000", "#f0f0f0"),
}

var registry = map[string]Theme{
	"auto":          {Name: "auto", Palette: standard, Mode: ModeAuto},
	"dark":          {Name: "dark", Palette: standard, Mode: ModeDark},
	"light":         {Name: "light", Palette: standard, Mode: ModeLight},
	"high-contrast": {Name: "high-contrast", Palette: highContrast, Mode: ModeAuto},
	"colorblind":    {Name: "colorblind", Palette: colourBlind, Mode: ModeAuto},
	"none":          {Name: "none", NoColor: true},
}

// Default is the theme used when none is named.
const Default = "auto"

// Names lists the themes that can be chosen.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the named theme ("" means Default). When NO_COLOR is set
// to anything non-empty (https://no-color.org) it returns the colourless
// theme whatever the name.
func Lookup(name string) (Theme, error) {
	return LookupEnv(name, os.Getenv)
}

// LookupEnv is Lookup reading NO_COLOR through getenv: over SSH the
// environment is the session's, not the server process's.
func LookupEnv(name string, getenv func(string) string) (Theme, error) {
	if getenv("NO_COLOR") != "" {
		return registry["none"], nil
	}
	if name == "" {
		name = Default
	}
	t, ok := registry[name]
	if !ok {
		return Theme{}, fmt.Errorf("unknown theme %q (choose one of %v)", name, Names())
	}
	return t, nil
}
