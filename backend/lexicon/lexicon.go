// Package lexicon finds sensitive data and insults in free-text evaluation
// comments (R13): health, racial or ethnic origin, religion, political
// opinions, philosophical beliefs, trade-union membership, sex life, and
// insulting remarks.
//
// The word lists are data (data/fr.txt, data/en.txt, embedded), not code, so
// that a DPO can review and extend them. Matching ignores case and accents,
// respects word boundaries and knows regular inflections: "malade" and
// "maladie" are flagged, "syndicat" is, "syndication" is not. Each hit names
// its category and the byte span of the original text it covers.
package lexicon

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Categories, as they appear in the data files and on the wire.
const (
	Health        = "health"
	EthnicOrigin  = "ethnic_origin"
	Religion      = "religion"
	Political     = "political_opinion"
	Philosophical = "philosophical_belief"
	TradeUnion    = "trade_union"
	SexLife       = "sex_life"
	Insult        = "insult"
)

// Categories lists every category, in the order of R13.
var Categories = []string{Health, EthnicOrigin, Religion, Political, Philosophical, TradeUnion, SexLife, Insult}

// inflections are the regular endings a plain entry also matches (French
// plural and feminine, English plural).
var inflections = []string{"", "s", "x", "e", "es"}

//go:embed data/*.txt
var dataFS embed.FS

// Hit is one flagged word or phrase.
type Hit struct {
	Category string
	Lang     string // "fr" or "en": the lexicon that matched
	Start    int    // byte offset in the checked text
	End      int    // byte offset just after the match
	Text     string // the text as written
	Term     string // the lexicon entry that matched
}

type entry struct {
	lang, category, term string
	words                []string          // folded words
	forms                []map[string]bool // per word, its accepted forms
	exact                bool
	prefix               bool
}

// Lexicon is a set of loaded word lists.
type Lexicon struct {
	single  map[string][]*entry // folded inflected word → one-word entries
	prefix  []*entry
	phrases map[string][]*entry // a form of the first word → phrases
	size    int
}

// Default loads the embedded French and English lists. The files are part of
// the binary, so a failure is a build defect.
func Default() *Lexicon {
	l, err := Load()
	if err != nil {
		panic(err)
	}
	return l
}

// Load reads the embedded lists.
func Load() (*Lexicon, error) {
	l := newLexicon()
	for _, lang := range []string{"fr", "en"} {
		b, err := dataFS.ReadFile("data/" + lang + ".txt")
		if err != nil {
			return nil, fmt.Errorf("lexicon %s: %w", lang, err)
		}
		if err := l.add(lang, b); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Parse reads one list in the data-file format, for tests and extensions.
func Parse(lang string, data []byte) (*Lexicon, error) {
	l := newLexicon()
	return l, l.add(lang, data)
}

func newLexicon() *Lexicon {
	return &Lexicon{single: map[string][]*entry{}, phrases: map[string][]*entry{}}
}

// Size is the number of entries loaded.
func (l *Lexicon) Size() int { return l.size }

func (l *Lexicon) add(lang string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	cat, line := "", 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			cat = s[1 : len(s)-1]
			if !known(cat) {
				return fmt.Errorf("lexicon %s line %d: unknown category %q", lang, line, cat)
			}
			continue
		}
		if cat == "" {
			return fmt.Errorf("lexicon %s line %d: entry before any [category]", lang, line)
		}
		e := &entry{lang: lang, category: cat, term: s}
		if strings.HasPrefix(s, "=") {
			e.exact, s = true, s[1:]
		}
		if strings.HasSuffix(s, "*") {
			e.prefix, s = true, strings.TrimSuffix(s, "*")
		}
		for _, tok := range tokens(s) {
			e.words = append(e.words, tok.word)
		}
		switch {
		case len(e.words) == 0:
			return fmt.Errorf("lexicon %s line %d: empty entry", lang, line)
		case e.prefix && len(e.words) != 1:
			return fmt.Errorf("lexicon %s line %d: a stem* entry must be one word", lang, line)
		case e.prefix && len(e.words[0]) < 5:
			return fmt.Errorf("lexicon %s line %d: stem %q is too short to be safe", lang, line, e.words[0])
		case e.prefix:
			l.prefix = append(l.prefix, e)
		case len(e.words) > 1:
			for _, w := range e.words {
				fs := map[string]bool{}
				for _, f := range forms(e, w) {
					fs[f] = true
				}
				e.forms = append(e.forms, fs)
			}
			for f := range e.forms[0] {
				l.phrases[f] = append(l.phrases[f], e)
			}
		default:
			for _, f := range forms(e, e.words[0]) {
				l.single[f] = append(l.single[f], e)
			}
		}
		l.size++
	}
	return sc.Err()
}

func known(cat string) bool {
	for _, c := range Categories {
		if c == cat {
			return true
		}
	}
	return false
}

// forms are the inflected forms of a word of e: the regular endings, and
// the doubled n of French feminines ("chrétien" → "chrétienne").
func forms(e *entry, w string) []string {
	if e.exact {
		return []string{w}
	}
	out := make([]string, 0, len(inflections)+2)
	for _, suf := range inflections {
		out = append(out, w+suf)
	}
	if strings.HasSuffix(w, "n") {
		out = append(out, w+"ne", w+"nes")
	}
	return out
}

// matchPhrase tells whether the tokens from i on spell phrase e.
func matchPhrase(e *entry, toks []token, i int) bool {
	if i+len(e.words) > len(toks) {
		return false
	}
	for k, fs := range e.forms {
		if !fs[toks[i+k].word] {
			return false
		}
	}
	return true
}

// Check returns every hit in text, ordered by position. Overlapping hits of
// the same category keep the longest.
func (l *Lexicon) Check(text string) []Hit {
	toks := tokens(text)
	var hits []Hit
	seen := map[[3]int]bool{}
	addHit := func(e *entry, i, j int) {
		key := [3]int{toks[i].start, toks[j].end, catIndex(e.category)}
		if seen[key] {
			return
		}
		seen[key] = true
		hits = append(hits, Hit{Category: e.category, Lang: e.lang, Start: toks[i].start, End: toks[j].end,
			Text: text[toks[i].start:toks[j].end], Term: e.term})
	}
	for i, t := range toks {
		for _, e := range l.single[t.word] {
			addHit(e, i, i)
		}
		for _, e := range l.prefix {
			if strings.HasPrefix(t.word, e.words[0]) {
				addHit(e, i, i)
			}
		}
		for _, e := range l.phrases[t.word] {
			if matchPhrase(e, toks, i) {
				addHit(e, i, i+len(e.words)-1)
			}
		}
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].Start != hits[b].Start {
			return hits[a].Start < hits[b].Start
		}
		return hits[a].End > hits[b].End
	})
	// Drop a hit inside a longer hit of the same category ("arrêt maladie"
	// already says what "maladie" would).
	out := hits[:0]
	for _, h := range hits {
		inside := false
		for _, o := range out {
			if o.Category == h.Category && o.Start <= h.Start && h.End <= o.End {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, h)
		}
	}
	return out
}

func catIndex(c string) int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return -1
}

// asciiStrings avoids an allocation per ASCII letter.
var asciiStrings = func() (t [128]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

type token struct {
	word       string // folded
	start, end int    // byte span in the original
}

// tokens splits s into words (letters and digits) folded to lower case
// without accents, each with its byte span in s. Apostrophes and hyphens
// separate words: "l'hôpital" gives "l", "hopital".
func tokens(s string) []token {
	var out []token
	var cur strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && cur.Len() > 0 {
			out = append(out, token{word: cur.String(), start: start, end: end})
		}
		cur.Reset()
		start = -1
	}
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
		cur.WriteString(fold(r))
	}
	flush(len(s))
	return out
}

// fold lower-cases r and strips its diacritics; ligatures become their
// letters.
func fold(r rune) string {
	if r < 0x80 {
		// ASCII needs no decomposition: most of a comment.
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return asciiStrings[r]
	}
	switch r {
	case 'œ', 'Œ':
		return "oe"
	case 'æ', 'Æ':
		return "ae"
	case 'ß':
		return "ss"
	}
	if unicode.Is(unicode.Mn, r) {
		return ""
	}
	var b strings.Builder
	for _, d := range norm.NFD.String(string(unicode.ToLower(r))) {
		if !unicode.Is(unicode.Mn, d) {
			b.WriteRune(d)
		}
	}
	return b.String()
}
