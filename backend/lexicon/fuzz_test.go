package lexicon

import (
	"testing"
	"unicode/utf8"
)

// FuzzCheck: the comment check (R13) never panics, and every hit points at
// a part of the text, in order.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Le client dit être malade.", "syndiqué, CGT", "É\u0301té", "\xff\xfe", "a\x00b", ""} {
		f.Add(s)
	}
	lex := Default()
	f.Fuzz(func(t *testing.T, text string) {
		for _, h := range lex.Check(text) {
			if h.Start < 0 || h.End > len(text) || h.Start >= h.End || h.Category == "" {
				t.Fatalf("%q: hit %+v", text, h)
			}
			if utf8.ValidString(text) && !utf8.ValidString(text[h.Start:h.End]) {
				t.Fatalf("%q: hit %+v cuts a character", text, h)
			}
		}
	})
}
