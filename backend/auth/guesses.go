package auth

import (
	"embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/match"
	"github.com/trustelem/zxcvbn/matching"
	"github.com/trustelem/zxcvbn/scoring"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// The second strength check is zxcvbn (Wheeler, "zxcvbn: Low-Budget Password
// Strength Estimation", USENIX Security 2016), through the Go port
// github.com/trustelem/zxcvbn, which gives the results of Dropbox's zxcvbn
// 4.4.2: the password is split into the sequence of patterns that needs the
// fewest guesses (ranked dictionaries of 30,000 common passwords, English
// words, US first names and surnames; keyboard walks on qwerty and keypads,
// repeats, sequences, dates, l33t and reversed words), and the guesses to
// find each are multiplied.
//
// The port's dictionaries are fixed at its initialisation, so ours are added
// beside its matchers: French first names, places (Monaco first) and common
// French words (data/*.txt, each with its source), matched as written,
// reversed and with the usual symbol-for-letter swaps; years 1900–2099 (the
// port's own year pattern stops at 2019); and the user's login and name as
// zxcvbn's "user inputs". Accents are removed from the password and the lists
// before matching, so "Benoît" and "benoit" are the same name.
//
// A password passes when zxcvbn needs MinGuesses guesses or more AND the
// first estimate (strength.go) reaches MinStrengthBits: each catches patterns
// the other misses.
//
// MinGuesses is 10^9, inside zxcvbn's score 3 (10^8 to 10^10, "safely
// unguessable: moderate protection from an offline slow-hash scenario"): at
// argon2id's ~30 ms a hash, about a year of one core's work for one account.
// Not 10^8, the bottom of score 3: zxcvbn adds 10^4^(n−1) to the guesses of
// a reading in n patterns (an attacker tries fewer patterns first), so every
// name + year + symbols password (n = 3) gets at least 10^8, "Benoit2026!!"
// included. Not 10^10 either: two unrelated words ("twelve chars", 2·10^9)
// are still accepted, as they were.
//
// The refusal names the patterns of the cheapest reading computed without
// that additive term, which splits the password more finely ("a place name,
// a year and repeated characters" rather than "a place name" followed by six
// random characters).

// MinGuesses is the least zxcvbn estimate accepted.
const MinGuesses = 1e9

// maxGuessInput caps the part of a password zxcvbn examines: its matching is
// quadratic in the length, and a longer password only needs more guesses.
const maxGuessInput = 100

//go:embed data/fr_first_names.txt data/fr_places.txt data/fr_words.txt
var frData embed.FS

// frDict is one of our dictionaries: a word's rank (1 = most likely) and
// what to call it in a refusal.
type frDict struct {
	name, noun string
	ranks      map[string]int
	longest    int // bytes
}

// frDictSpecs name our dictionaries. Their words are loaded by the first
// check that needs them (frDicts), not at start: loading takes 100 ms or
// more, which every start of ecoute and ecouted paid, `ecoute play` too.
var frDictSpecs = []struct{ name, noun string }{
	{"fr_first_names", "a first name"},
	{"fr_places", "a place name"},
	{"fr_words", "a common French word"},
}

// frDicts are the dictionaries of frDictSpecs, loaded once.
var frDicts = sync.OnceValue(func() []frDict {
	d := make([]frDict, len(frDictSpecs))
	for i, s := range frDictSpecs {
		d[i] = loadDict(s.name, s.noun)
	}
	return d
})

// longestWord is the length in bytes of the longest word of frDicts.
var longestWord = sync.OnceValue(func() int {
	n := 0
	for _, d := range frDicts() {
		n = max(n, d.longest)
	}
	return n
})

func loadDict(name, noun string) frDict {
	b, err := frData.ReadFile("data/" + name + ".txt")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	d := frDict{name: name, noun: noun, ranks: map[string]int{}}
	rank := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rank++
		w := foldAccents(strings.ToLower(line))
		joined := strings.NewReplacer("-", "", " ", "", "'", "").Replace(w)
		for _, v := range []string{w, joined} {
			if _, ok := d.ranks[v]; !ok && len(v) >= 2 {
				d.ranks[v] = rank
				d.longest = max(d.longest, len(v))
			}
		}
	}
	return d
}

// foldAccents removes combining marks after canonical decomposition
// ("Benoît" → "Benoit") and spells out œ and æ.
func foldAccents(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return strings.NewReplacer("œ", "oe", "Œ", "OE", "æ", "ae", "Æ", "AE").Replace(out)
}

// leetVariants undo the symbol-for-letter swaps zxcvbn knows, one table per
// reading of the ambiguous symbols (1 and | for i or l, 7 for t or l). Each
// swap is one byte for one byte, so positions are kept.
var leetVariants = []map[byte]byte{
	{'4': 'a', '@': 'a', '8': 'b', '(': 'c', '{': 'c', '[': 'c', '<': 'c', '3': 'e', '6': 'g', '9': 'g',
		'1': 'i', '!': 'i', '|': 'i', '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't', '%': 'x', '2': 'z'},
	{'4': 'a', '@': 'a', '8': 'b', '(': 'c', '{': 'c', '[': 'c', '<': 'c', '3': 'e', '6': 'g', '9': 'g',
		'1': 'l', '!': 'i', '|': 'l', '0': 'o', '$': 's', '5': 's', '7': 'l', '+': 't', '%': 'x', '2': 'z'},
}

// frMatches finds our dictionaries' words and the years in pw (ASCII, see
// asciiOnly; any case), as zxcvbn matches over pw's positions.
func frMatches(pw string) []*match.Match {
	var out []*match.Match
	lower := strings.ToLower(pw)
	add := func(i, j int, word string, d frDict, rank int, reversed bool, sub map[string]string) {
		out = append(out, &match.Match{Pattern: "dictionary", I: i, J: j, Token: pw[i : j+1], MatchedWord: word,
			Rank: rank, DictionaryName: d.name, Reversed: reversed, L33t: len(sub) > 0, Sub: sub})
	}
	dicts, longest := frDicts(), longestWord()
	scan := func(s string, reversed bool, sub func(i, j int) map[string]string) {
		n := len(s)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n && j-i < longest; j++ { // words of two letters or more
				w := s[i : j+1]
				for _, d := range dicts {
					rank, ok := d.ranks[w]
					if !ok {
						continue
					}
					pi, pj := i, j
					if reversed {
						pi, pj = n-1-j, n-1-i
					}
					if (reversed || sub != nil) && len(w) < 3 {
						continue // two-letter words reversed or swapped are noise
					}
					var m map[string]string
					if sub != nil {
						if m = sub(pi, pj); len(m) == 0 {
							continue // no swap inside: the plain scan has it
						}
					}
					add(pi, pj, w, d, rank, reversed, m)
				}
			}
		}
	}
	scan(lower, false, nil)
	scan(reverseASCII(lower), true, nil)
	for _, table := range leetVariants {
		b := []byte(lower)
		changed := false
		for k, c := range b {
			if r, ok := table[c]; ok {
				b[k], changed = r, true
			}
		}
		if !changed {
			continue
		}
		scan(string(b), false, func(i, j int) map[string]string {
			m := map[string]string{}
			for k := i; k <= j; k++ {
				if r, ok := table[lower[k]]; ok {
					m[string(lower[k])] = string(r)
				}
			}
			return m
		})
	}
	return append(out, yearMatches(pw)...)
}

// yearMatches finds the years 1900–2099 (overlapping: "20262027" has two).
func yearMatches(pw string) []*match.Match {
	var out []*match.Match
	for i := 0; i+4 <= len(pw); i++ {
		if y := pw[i : i+4]; isDigits(y) && (y[:2] == "19" || y[:2] == "20") {
			out = append(out, &match.Match{Pattern: "regex", RegexName: "recent_year", I: i, J: i + 3, Token: y})
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func reverseASCII(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// Guesses is zxcvbn's estimate of the guesses needed to find password, with
// our French dictionaries and years, and userInputs (login, names) as the
// most likely words of all. basis names the patterns of the cheapest reading
// ("based on a first name and a year"); it is empty when the password reads
// as random characters only.
func Guesses(password string, userInputs []string) (guesses float64, basis string) {
	g, b := estimate(password, userInputs)
	return g, b()
}

// estimate is Guesses with the basis computed only when asked for: that
// takes a second pass of the scoring.
func estimate(password string, userInputs []string) (float64, func() string) {
	if !utf8.ValidString(password) {
		return 0, func() string { return "not valid UTF-8 text" }
	}
	var inputs []string
	for _, u := range userInputs {
		if u = strings.TrimSpace(foldAccents(u)); u != "" {
			inputs = append(inputs, u)
		}
	}
	pw, inputs := asciiOnly(foldAccents(password), inputs)
	pw = pw[:min(len(pw), maxGuessInput)]
	// Ours first: on a tie the first match found is kept.
	matches := append(frMatches(pw), matching.Omnimatch(pw, inputs)...)
	seq := scoring.MostGuessableMatchSequence(pw, matches, false)
	return seq.Guesses, func() string {
		return describe(scoring.MostGuessableMatchSequence(pw, matches, true).Sequence)
	}
}

// placeholders stand for the characters left outside ASCII after
// foldAccents (€, 本, 🙂): the port mixes byte and rune positions (its
// regexp-based repeat and date matchers count runes), so it is given one byte
// per character. They are control characters at least 6 apart, so that no
// "sequence" (a step of 5 or less between neighbours) is invented between
// them or with printable characters (32 and up).
var placeholders = []byte{1, 7, 14, 20, 26}

// asciiOnly replaces each distinct non-ASCII character of pw by a
// placeholder that pw does not contain (cycling when there are more distinct
// characters than placeholders), and the user inputs alike; an input with a
// non-ASCII character that pw lacks cannot match and is dropped.
func asciiOnly(pw string, inputs []string) (string, []string) {
	if isASCII(pw) {
		return pw, inputs
	}
	var free []byte
	for _, p := range placeholders {
		if !strings.ContainsRune(pw, rune(p)) {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		free = placeholders
	}
	table := map[rune]byte{}
	mapped := func(s string, add bool) (string, bool) {
		var b strings.Builder
		for _, r := range s {
			if r < utf8.RuneSelf {
				b.WriteByte(byte(r))
				continue
			}
			c, ok := table[r]
			if !ok {
				if !add {
					return "", false
				}
				c = free[len(table)%len(free)]
				table[r] = c
			}
			b.WriteByte(c)
		}
		return b.String(), true
	}
	out, _ := mapped(pw, true)
	var ins []string
	for _, in := range inputs {
		if m, ok := mapped(in, false); ok {
			ins = append(ins, m)
		}
	}
	return out, ins
}

var dictNoun = map[string]string{
	"passwords":         "a common password",
	"english_wikipedia": "a common English word",
	"us_tv_and_film":    "a common English word",
	"male_names":        "a first name",
	"female_names":      "a first name",
	"surnames":          "a surname",
	"user_inputs":       "your login or name",
}

func init() {
	for _, d := range frDictSpecs {
		dictNoun[d.name] = d.noun
	}
}

// describe names the patterns of a match sequence in order, each once.
func describe(seq []*match.Match) string {
	var nouns []string
	seen := map[string]bool{}
	for _, m := range seq {
		var n string
		switch m.Pattern {
		case "dictionary":
			n = dictNoun[m.DictionaryName]
			if n == "" {
				n = "a dictionary word"
			}
			switch {
			case m.L33t:
				n += " with symbols for letters"
			case m.Reversed:
				n += " reversed"
			}
		case "spatial":
			n = "a keyboard pattern"
		case "repeat":
			n = "repeated characters"
		case "sequence":
			n = "a sequence like abcd or 1234"
		case "regex":
			n = "a year"
		case "date":
			n = "a date"
		default: // bruteforce: the random part
			continue
		}
		if !seen[n] {
			seen[n] = true
			nouns = append(nouns, n)
		}
	}
	switch len(nouns) {
	case 0:
		return ""
	case 1:
		return "based on " + nouns[0]
	}
	return fmt.Sprintf("based on %s and %s", strings.Join(nouns[:len(nouns)-1], ", "), nouns[len(nouns)-1])
}
