// Package i18n is Écoute's message catalogues: every sentence the console
// and the two commands show, in English and French, kept as data
// (locales/*.yaml), looked up by key and formatted by golang.org/x/text's
// message printer, which also writes numbers the language's way (1,5 and
// 97,3 in French) and picks plural forms by the CLDR rules.
//
// Keys are stable names ("calls.title"); a message is a fmt format string,
// whose arguments may be reordered with explicit indexes (%[2]s). A plural
// message names the argument that decides (1-based) and gives the CLDR
// forms it needs (one, other; =0 for an exact value).
//
// Identifiers (call ids, sequence numbers, years) must be passed as
// strings: the printer groups the digits of %d in large numbers.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"gopkg.in/yaml.v3"
)

// Key names a message.
type Key string

// Lang is a language the catalogues hold.
type Lang string

// The languages.
const (
	English Lang = "en"
	French  Lang = "fr"
)

// Langs are the languages there are catalogues for.
var Langs = []Lang{English, French}

func (l Lang) tag() language.Tag {
	if l == French {
		return language.French
	}
	return language.English
}

//go:embed locales/*.yaml
var files embed.FS

// entry is one message as written in a catalogue: a plain format, or the
// plural forms of one argument.
type entry struct {
	Format string
	Arg    int
	Forms  []form
}

type form struct{ selector, format string }

func (e *entry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.Format = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a message is a string or plural forms", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if k == "plural" {
			if err := v.Decode(&e.Arg); err != nil || e.Arg < 1 {
				return fmt.Errorf("line %d: plural names the deciding argument, from 1", v.Line)
			}
			continue
		}
		e.Forms = append(e.Forms, form{selector: k, format: v.Value})
	}
	if e.Arg == 0 || !slices.ContainsFunc(e.Forms, func(f form) bool { return f.selector == "other" }) {
		return fmt.Errorf("line %d: plural forms need plural: N and an other form", n.Line)
	}
	return nil
}

// catalogues are the parsed files, by language; built once.
var (
	loadOnce sync.Once
	loadErr  error
	entries  map[Lang]map[Key]entry
	builder  *catalog.Builder
)

func load() {
	entries = map[Lang]map[Key]entry{}
	builder = catalog.NewBuilder(catalog.Fallback(language.English))
	for _, l := range Langs {
		// A language's messages may be split over several files:
		// locales/fr.yaml, locales/fr.ecoute.yaml …
		names, err := fs.Glob(files, "locales/"+string(l)+".*yaml")
		if err != nil || len(names) == 0 {
			loadErr = fmt.Errorf("i18n: no catalogue for %s: %v", l, err)
			return
		}
		m := map[Key]entry{}
		for _, name := range names {
			b, err := fs.ReadFile(files, name)
			if err != nil {
				loadErr = err
				return
			}
			part := map[Key]entry{}
			if err := yaml.Unmarshal(b, &part); err != nil {
				loadErr = fmt.Errorf("i18n: %s: %w", name, err)
				return
			}
			for k, e := range part {
				if _, dup := m[k]; dup {
					loadErr = fmt.Errorf("i18n: %s: %s is defined twice for %s", name, k, l)
					return
				}
				m[k] = e
			}
		}
		entries[l] = m
		for k, e := range m {
			// Plain messages are looked up here and formatted as they
			// are (the catalogue would read "${…}" in them as its own
			// variables); plural ones go to the catalogue, which picks
			// the form.
			if e.Arg != 0 {
				cases := make([]any, 0, 2*len(e.Forms))
				for _, f := range e.Forms {
					cases = append(cases, f.selector, f.format)
				}
				err = builder.Set(l.tag(), string(k), plural.Selectf(e.Arg, "", cases...))
			}
			if err != nil {
				loadErr = fmt.Errorf("i18n: locales/%s.yaml: %s: %w", l, k, err)
				return
			}
		}
	}
}

func loaded() error {
	loadOnce.Do(load)
	return loadErr
}

// Keys lists every key of a language's catalogue, sorted (for tests).
func Keys(l Lang) []Key {
	if loaded() != nil {
		return nil
	}
	out := make([]Key, 0, len(entries[l]))
	for k := range entries[l] {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Has tells whether the language's catalogue holds key.
func Has(l Lang, k Key) bool {
	if loaded() != nil {
		return false
	}
	_, ok := entries[l][k]
	return ok
}

// Printer writes messages in one language.
type Printer struct {
	lang Lang
	p    *message.Printer
}

// New is a printer for l (English for anything else).
func New(l Lang) *Printer {
	if err := loaded(); err != nil {
		panic(err) // the catalogues are embedded: a broken one is a build defect, caught by the tests
	}
	if !slices.Contains(Langs, l) {
		l = English
	}
	return &Printer{lang: l, p: message.NewPrinter(l.tag(), message.Catalog(builder))}
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// T is the message key, formatted with args.
func (p *Printer) T(k Key, args ...any) string {
	e, ok := entries[p.lang][k]
	if !ok {
		e, ok = entries[English][k]
	}
	if !ok || e.Arg != 0 {
		return p.p.Sprintf(string(k), args...)
	}
	return p.p.Sprintf(e.Format, args...)
}

// Percent writes v with one decimal and the percent sign as the language
// writes it ("97.3 %", "97,3 %" with a narrow no-break space).
func (p *Printer) Percent(v float64) string { return p.T("fmt.percent", v) }

// WholePercent writes v rounded to a whole percent ("75 %", "75 %").
func (p *Printer) WholePercent(v float64) string { return p.T("fmt.wholePercent", v) }

// Decimal writes v with prec decimals ("1.5", "1,5").
func (p *Printer) Decimal(v float64, prec int) string { return p.p.Sprintf("%.*f", prec, v) }

// Day writes a date with the month in letters: "29 Nov 2026", "29 nov.
// 2026" (R14: never 11/29/2026).
func (p *Printer) Day(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), p.T(Key(fmt.Sprintf("month.%d", int(t.Month())))), t.Year())
}

// DayTime writes a date with the month in letters and the time.
func (p *Printer) DayTime(t time.Time) string {
	return p.Day(t) + " " + t.Format("15:04")
}

// ErrUnknownLang is returned by Parse for a language without a catalogue.
var ErrUnknownLang = errors.New("unknown language")

// Parse reads a language name: "fr", "fr_FR.UTF-8", "French", "en-GB".
func Parse(s string) (Lang, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrUnknownLang)
	}
	low := strings.ToLower(s)
	switch low {
	case "french", "français", "francais":
		return French, nil
	case "english", "anglais":
		return English, nil
	}
	// POSIX locale names: language[_territory][.codeset][@modifier].
	if i := strings.IndexAny(low, ".@"); i >= 0 {
		low = low[:i]
	}
	base := strings.SplitN(strings.ReplaceAll(low, "_", "-"), "-", 2)[0]
	for _, l := range Langs {
		if base == string(l) {
			return l, nil
		}
	}
	return "", fmt.Errorf("%w %q (known: en, fr)", ErrUnknownLang, s)
}

// Choose picks the language: the flag, else the settings file's, else the
// environment's (LC_ALL, then LC_MESSAGES, then LANG, as POSIX orders
// them; "C" and "POSIX" mean English), else English. An unknown flag or
// setting is an error; an unknown environment falls back to English.
func Choose(flag, setting string, getenv func(string) string) (Lang, error) {
	for _, v := range []string{flag, setting} {
		if v != "" {
			return Parse(v)
		}
	}
	if getenv == nil {
		return English, nil
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		if l, err := Parse(v); err == nil {
			return l, nil
		}
		return English, nil // C, POSIX, or a language we lack: the first set one decides
	}
	return English, nil
}
