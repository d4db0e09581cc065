package tui

import (
	"math"
	"testing"
	"time"
)

// FuzzParseFilter: the prompt's parser never panics, and what it accepts
// is a filter the server takes: scores that are percentages, durations
// that are not negative, a date range in order.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`agent:girard team:banque campaign:azur from:2026-11-01 to:2026-11-20 evaluated:no min:1m max:5:30`,
		`score:60..80`, `score:..50`, `score:NaN..`, `agent:"Marie Girard"`, `min:99999999999:00`, `from:2026-02-30`,
		`to:2026-11-01 from:2026-11-02`, `"unterminated`, `evaluated:oui`, `max:-1m`, `score:1e400..`,
	} {
		f.Add(s)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	dir := testDir()
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := parseFilter(english, text, dir, paris, seesAll)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a sentence")
			}
			return
		}
		for _, s := range []*float64{flt.MinScore, flt.MaxScore} {
			if s != nil && (math.IsNaN(*s) || *s < 0 || *s > 100) {
				t.Fatalf("%q: score %v accepted", text, *s)
			}
		}
		for _, d := range []interface{ AsDuration() time.Duration }{flt.GetMinDuration(), flt.GetMaxDuration()} {
			if d != nil && d.AsDuration() < 0 {
				t.Fatalf("%q: negative duration %v accepted", text, d.AsDuration())
			}
		}
		if a, b := flt.GetStartedAfter(), flt.GetStartedBefore(); a != nil && b != nil && !a.AsTime().Before(b.AsTime()) {
			t.Fatalf("%q: dates out of order accepted", text)
		}
	})
}
