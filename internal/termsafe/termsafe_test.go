package termsafe

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"Hélène Brunet":                   "Hélène Brunet",
		"\r\x1b[2K\x1b[1A\x1b[2K":         `\r\x1b[2K\x1b[1A\x1b[2K`,
		"a\tb\nc":                         `a\tb\nc`,
		"evil\u202etxt.exe":               `evil\u202etxt.exe`,
		"\u009b31m":                       `\x9b31m`,
		"\x9b31m":                         "\uFFFD31m",
		"bad\xffutf8":                     "bad\uFFFDutf8",
		"日本語 ok":                          "日本語 ok",
		"\u2028":                          `\u2028`,
		"tab\\x1b literal stays readable": "tab\\x1b literal stays readable",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Line("a\tb\n\x1b[2Kc"); got != "a\tb\n\\x1b[2Kc" {
		t.Errorf("Line: %q", got)
	}
	for _, in := range []string{"\x1b]0;title\x07", "x\x00y", "\x7f"} {
		if strings.ContainsFunc(Escape(in), Dangerous) {
			t.Errorf("Escape(%q) still holds a control", in)
		}
	}
}
