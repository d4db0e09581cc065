// Package termsafe makes text safe to print on a terminal: control
// characters (C0, DEL, C1: ESC starts the sequences that move the cursor,
// erase lines or retitle the window) and the Unicode bidirectional
// controls (which reorder what is shown) are written as visible escapes
// (\x1b, \r, \u202e), and invalid UTF-8 as U+FFFD. Everything else,
// accents and other scripts included, is left as it is.
//
// The backend refuses control characters at input (backend/limits); this
// is the other half, for what is printed anyway: what an attacker typed
// into a login field, and data stored before the checks existed.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Dangerous tells whether r is a character Escape rewrites.
func Dangerous(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidirectional controls
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators
	}
	return false
}

// Escape returns s with every dangerous character written as an escape.
func Escape(s string) string {
	if !needs(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case Dangerous(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case Dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
	}
	return b.String()
}

// Line is Escape, but keeps tabs and newlines (a multi-line message).
func Line(s string) string {
	if !needs(s) {
		return s
	}
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(Escape(strings.ReplaceAll(p, "\t", "\x00tab\x00")), `\x00tab\x00`, "\t")
	}
	return strings.Join(parts, "\n")
}

func needs(s string) bool {
	for _, r := range s {
		if Dangerous(r) || r == utf8.RuneError {
			return true
		}
	}
	return false
}
