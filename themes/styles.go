package themes

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Styles is every style the console draws with, built once per theme and
// background (rebuilt when the terminal reports its background colour).
type Styles struct {
	Theme  Theme
	IsDark bool

	App     lipgloss.Style // the whole screen
	Title   lipgloss.Style
	Text    lipgloss.Style
	Subtle  lipgloss.Style
	Muted   lipgloss.Style
	Label   lipgloss.Style // "Agent:" in a detail view
	Value   lipgloss.Style
	Ok      lipgloss.Style
	Warn    lipgloss.Style
	Error   lipgloss.Style
	Box     lipgloss.Style // a bordered panel
	Focused lipgloss.Style // the focused field's label
	Banner  lipgloss.Style // a full-width alert line (connection lost)
	// Disabled is a key the role may not use, shown with its reason.
	Disabled lipgloss.Style

	TableHeader   lipgloss.Style
	TableCell     lipgloss.Style
	TableSelected lipgloss.Style

	StatusBar   lipgloss.Style
	StatusKey   lipgloss.Style // "server", "user"
	StatusValue lipgloss.Style
	StatusError lipgloss.Style
	StatusWarn  lipgloss.Style
	StatusOk    lipgloss.Style

	ProgressFull  color.Color
	ProgressEmpty color.Color

	// The waveform: the part played, the play head, the part to come.
	WavePlayed lipgloss.Style
	WaveHead   lipgloss.Style
	WaveRest   lipgloss.Style

	Help      help.Styles
	TextInput textinput.Styles
}

// New builds the styles for theme on a dark (isDark) or light background.
// The theme's Mode can override isDark.
func New(theme Theme, isDark bool) Styles {
	switch theme.Mode {
	case ModeDark:
		isDark = true
	case ModeLight:
		isDark = false
	}
	s := Styles{Theme: theme, IsDark: isDark}
	if theme.NoColor {
		return noColorStyles(s)
	}
	p := theme.Palette
	c := func(pr Pair) color.Color { return lipgloss.LightDark(isDark)(pr.Light, pr.Dark) }
	fg := func(pr Pair) lipgloss.Style { return lipgloss.NewStyle().Foreground(c(pr)) }

	s.App = lipgloss.NewStyle()
	s.Title = fg(p.Accent).Bold(true)
	s.Text = fg(p.Text)
	s.Subtle = fg(p.Subtle)
	s.Muted = fg(p.Muted)
	s.Label = fg(p.Subtle)
	s.Value = fg(p.Text)
	s.Ok = fg(p.Ok)
	s.Warn = fg(p.Warn)
	s.Error = fg(p.Danger).Bold(true)
	s.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(c(p.Border)).Padding(0, 1)
	s.Focused = fg(p.Accent).Bold(true)
	// Reverse video of the warning colour reads in every palette: the text
	// takes the terminal's own background.
	s.Banner = fg(p.Warn).Bold(true).Reverse(true)
	s.Disabled = fg(p.Muted)

	s.TableHeader = fg(p.Subtle).Bold(true).
		BorderStyle(lipgloss.NormalBorder()).BorderBottom(true).BorderForeground(c(p.Border))
	s.TableCell = fg(p.Text)
	s.TableSelected = lipgloss.NewStyle().Foreground(c(p.OnSelect)).Background(c(p.Selected)).Bold(true)

	bar := lipgloss.NewStyle().Background(c(p.Bar))
	s.StatusBar = bar.Foreground(c(p.OnBar))
	s.StatusKey = bar.Foreground(c(p.Subtle))
	s.StatusValue = bar.Foreground(c(p.OnBar)).Bold(true)
	s.StatusError = bar.Foreground(c(p.Danger)).Bold(true)
	s.StatusWarn = bar.Foreground(c(p.Warn))
	s.StatusOk = bar.Foreground(c(p.Ok))

	s.ProgressFull = c(p.Accent)
	s.ProgressEmpty = c(p.Border)
	s.WavePlayed = fg(p.Accent)
	s.WaveHead = fg(p.Warn).Bold(true)
	s.WaveRest = fg(p.Muted)

	s.Help = help.Styles{
		Ellipsis:       fg(p.Muted),
		ShortKey:       fg(p.Subtle).Bold(true),
		ShortDesc:      fg(p.Muted),
		ShortSeparator: fg(p.Border),
		FullKey:        fg(p.Accent).Bold(true),
		FullDesc:       fg(p.Text),
		FullSeparator:  fg(p.Border),
	}
	ti := textinput.DefaultStyles(isDark)
	ti.Focused.Prompt = fg(p.Accent)
	ti.Focused.Text = fg(p.Text)
	ti.Focused.Placeholder = fg(p.Muted)
	ti.Blurred.Prompt = fg(p.Muted)
	ti.Blurred.Text = fg(p.Subtle)
	ti.Blurred.Placeholder = fg(p.Muted)
	ti.Cursor.Color = c(p.Accent)
	s.TextInput = ti
	return s
}

// noColorStyles marks things with attributes only, never hue.
func noColorStyles(s Styles) Styles {
	plain := lipgloss.NewStyle()
	s.App, s.Text, s.Value, s.Subtle, s.Label, s.Ok = plain, plain, plain, plain, plain, plain
	s.Muted = plain.Faint(true)
	s.Title = plain.Bold(true)
	s.Warn = plain.Bold(true)
	s.Error = plain.Bold(true).Underline(true)
	s.Focused = plain.Bold(true)
	s.Banner = plain.Bold(true).Reverse(true)
	s.Disabled = plain.Faint(true)
	s.Box = plain.Border(lipgloss.RoundedBorder()).Padding(0, 1)
	s.TableHeader = plain.Bold(true).BorderStyle(lipgloss.NormalBorder()).BorderBottom(true)
	s.TableCell = plain
	s.TableSelected = plain.Reverse(true)
	s.StatusBar = plain.Reverse(true)
	s.StatusKey = plain.Reverse(true)
	s.StatusValue = plain.Reverse(true).Bold(true)
	s.StatusError = plain.Reverse(true).Bold(true).Underline(true)
	s.StatusWarn = plain.Reverse(true).Bold(true)
	s.StatusOk = plain.Reverse(true)
	s.ProgressFull = lipgloss.NoColor{}
	// Played is bold and the rest faint: the head still stands out.
	s.WavePlayed = plain.Bold(true)
	s.WaveHead = plain.Reverse(true)
	s.WaveRest = plain.Faint(true)
	s.ProgressEmpty = lipgloss.NoColor{}
	s.Help = help.Styles{
		Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
		FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain,
	}
	ti := textinput.DefaultStyles(s.IsDark)
	ti.Focused = textinput.StyleState{Text: plain, Placeholder: plain.Faint(true), Suggestion: plain.Faint(true), Prompt: plain.Bold(true)}
	ti.Blurred = textinput.StyleState{Text: plain, Placeholder: plain.Faint(true), Suggestion: plain.Faint(true), Prompt: plain}
	ti.Cursor.Color = lipgloss.NoColor{}
	s.TextInput = ti
	return s
}
