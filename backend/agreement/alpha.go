// Package agreement measures how far several raters agree when they score
// the same items: Krippendorff's α with a bootstrap confidence interval, the
// number of pairable values, and percent agreement. It is plain arithmetic on
// a rater × item table, with no storage or transport in it.
//
// # The coefficient
//
// Krippendorff's α = 1 − D_o / D_e, the observed disagreement over the
// disagreement expected by chance, computed through the coincidence matrix as
// in Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
// Departmental Papers (ASC) 43, University of Pennsylvania,
// https://repository.upenn.edu/asc_papers/43:
//
//   - Only items with at least two values are pairable; an item scored by one
//     rater alone is left out. Each pairable item u with m_u values adds
//     n_uc·(n_uk − [c = k]) / (m_u − 1) to the coincidence o_ck, so every
//     pairable value weighs 1 whatever the number of raters of its item.
//   - n_c = Σ_k o_ck, n = Σ_c n_c (the number of pairable values), and
//     α = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck.
//   - The difference functions δ²_ck are the paper's metrics:
//     nominal 0 if c = k, else 1; ordinal (Σ_{g=c..k} n_g − (n_c + n_k)/2)²,
//     which uses the ranks of the values actually used, not their sizes;
//     interval (c − k)².
//
// α is 1 for perfect agreement and 0 when the raters agree as often as
// chance would have them; it goes below 0 for systematic disagreement.
// Krippendorff (2004, Content Analysis: An Introduction to Its Methodology,
// 2nd ed.) asks for α ≥ 0.800 and accepts α ≥ 0.667 only for tentative
// conclusions (MinTentative).
//
// # The confidence interval
//
// The interval is a percentile bootstrap over items: each of Draws resamples
// draws as many pairable items as the data has, with replacement, and
// recomputes α (the ordinal metric from the resample's own marginals); the
// interval is the (1 − Confidence)/2 and (1 + Confidence)/2 quantiles of the
// draws (linear interpolation between order statistics, "type 7"). A resample
// with no variation has no α and is left out and counted (BootstrapInterval.Skipped).
// The draws come from a PCG generator seeded with Options.Seed, so the same
// data and seed give the same interval. This resamples items rather than
// Krippendorff's own bootstrap of pair differences (Hayes & Krippendorff
// 2007, "Answering the Call for a Standard Reliability Measure for Coding
// Data", Communication Methods and Measures 1(1):77–89), because items are
// what a calibration draws from a population of calls, and the item
// bootstrap keeps each item's values together. With few items (under about
// ten) any interval is wide and rough; read it as such.
//
// # Percent agreement
//
// Percent agreement is Σ_c o_cc / n: the share of pairable values that
// equal the other values of their item, weighted like α's coincidences (for
// two raters with no missing value, the share of items both scored alike).
// Values are compared exactly, at every level. It is reported because with
// nearly one answer everywhere ("yes" to almost every question) α is low or
// undefined even when the raters almost always agree.
//
// # When α is undefined
//
// Fewer than two raters is ErrTooFewRaters; no item with two values is
// ErrNoPairable; and when every pairable value is the same there is no
// variation to explain, D_e = 0 and α = 0/0: Alpha then returns
// ErrNoVariation together with a Result whose Pairable and
// PercentAgreement are filled in and whose Alpha is NaN. It never returns a
// NaN α without one of these errors.
package agreement

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Level is the level of measurement, which chooses the difference function.
type Level int

// The levels of measurement.
const (
	Nominal  Level = iota + 1 // categories: only equal or different
	Ordinal                   // ordered categories (a 1–5 scale): ranks count, not sizes
	Interval                  // numbers whose differences mean something
)

// String names the level as ParseLevel reads it.
func (l Level) String() string {
	switch l {
	case Nominal:
		return "nominal"
	case Ordinal:
		return "ordinal"
	case Interval:
		return "interval"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel reads "nominal", "ordinal" or "interval".
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{Nominal, Ordinal, Interval} {
		if strings.EqualFold(strings.TrimSpace(s), l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level of measurement %q (nominal, ordinal or interval)", s)
}

// The degenerate cases (see the package documentation).
var (
	ErrTooFewRaters = errors.New("α needs at least two raters")
	ErrNoPairable   = errors.New("no pairable values: no item has values from two raters")
	ErrNoVariation  = errors.New("α is undefined: every pairable value is the same (no variation)")
)

// Missing is the value of a cell with no answer (N/A, not scored). Any NaN
// counts as missing.
var Missing = math.NaN()

// Options tune the bootstrap. The zero value is 1000 draws, a 95 % interval
// and seed 0.
type Options struct {
	Draws      int     // resamples; 0 means 1000
	Confidence float64 // 0 means 0.95; otherwise strictly between 0 and 1
	Seed       uint64  // the same seed and data give the same interval
}

// MinTentative is the lowest α Krippendorff accepts, for tentative
// conclusions only; 0.800 is his usual requirement.
const MinTentative = 0.667

// DefaultDraws is the number of bootstrap resamples when Options.Draws is 0.
const DefaultDraws = 1000

// Result is what Alpha measured.
type Result struct {
	Level  Level
	Alpha  float64 // NaN only together with ErrNoVariation
	Raters int     // rows of the table
	Items  int     // columns of the table
	// PairableItems are the items with values from at least two raters;
	// Pairable counts their values (Krippendorff's n).
	PairableItems, Pairable int
	Observed, Expected      float64 // D_o and D_e
	PercentAgreement        float64 // 0..1, see the package documentation
	CI                      BootstrapInterval
}

// BootstrapInterval is a bootstrap confidence interval for α.
type BootstrapInterval struct {
	Low, High  float64 // NaN when no draw had an α (Draws == Skipped)
	Confidence float64
	Draws      int // resamples drawn
	Skipped    int // resamples with no variation, hence no α, left out
	Seed       uint64
}

// unit is one pairable item: the indexes of its distinct values in the
// sorted domain, how many raters gave each, and its number of values.
type unit struct {
	idx []int
	cnt []float64
	m   float64
}

// Alpha computes Krippendorff's α of data, one row per rater and one column
// per item, Missing (NaN) where a rater gave no value. The rows must have the
// same length; infinite values are refused. Errors: ErrTooFewRaters,
// ErrNoPairable, ErrNoVariation (with a partial Result), or a bad-input error.
func Alpha(data [][]float64, level Level, opt Options) (Result, error) {
	if level < Nominal || level > Interval {
		return Result{}, fmt.Errorf("unknown level of measurement %d", int(level))
	}
	if opt.Draws == 0 {
		opt.Draws = DefaultDraws
	}
	if opt.Confidence == 0 {
		opt.Confidence = 0.95
	}
	if opt.Draws < 0 {
		return Result{}, fmt.Errorf("bootstrap draws %d: must be positive", opt.Draws)
	}
	if !(opt.Confidence > 0 && opt.Confidence < 1) {
		return Result{}, fmt.Errorf("confidence %v: must be between 0 and 1", opt.Confidence)
	}
	res := Result{Level: level, Alpha: math.NaN(), Raters: len(data)}
	if len(data) < 2 {
		return res, ErrTooFewRaters
	}
	res.Items = len(data[0])
	for r, row := range data {
		if len(row) != res.Items {
			return res, fmt.Errorf("rater %d has %d items, rater 1 has %d: every rater needs a cell per item (Missing where none)",
				r+1, len(row), res.Items)
		}
		for i, v := range row {
			if math.IsInf(v, 0) {
				return res, fmt.Errorf("rater %d, item %d: infinite value", r+1, i+1)
			}
		}
	}

	// The domain: the distinct values of the pairable items, sorted.
	var domain []float64
	for i := range res.Items {
		if present(data, i) >= 2 {
			for _, row := range data {
				if !math.IsNaN(row[i]) {
					domain = append(domain, row[i])
				}
			}
		}
	}
	slices.Sort(domain)
	domain = slices.Compact(domain)
	index := make(map[float64]int, len(domain))
	for i, v := range domain {
		index[v] = i
	}
	var units []unit
	for i := range res.Items {
		if present(data, i) < 2 {
			continue
		}
		counts := map[int]float64{}
		var u unit
		for _, row := range data {
			if v := row[i]; !math.IsNaN(v) {
				counts[index[v]]++
				u.m++
			}
		}
		for _, c := range slices.Sorted(maps.Keys(counts)) {
			u.idx = append(u.idx, c)
			u.cnt = append(u.cnt, counts[c])
		}
		units = append(units, u)
	}
	res.PairableItems = len(units)
	if len(units) == 0 {
		return res, ErrNoPairable
	}

	ones := make([]int, len(units))
	for i := range ones {
		ones[i] = 1
	}
	c := compute(units, ones, domain, level)
	res.Pairable = int(c.n)
	res.PercentAgreement = c.agree
	res.Observed, res.Expected = c.do, c.de
	if c.de == 0 {
		return res, ErrNoVariation
	}
	res.Alpha = c.alpha()
	res.CI = bootstrap(units, domain, level, opt)
	return res, nil
}

func present(data [][]float64, item int) int {
	n := 0
	for _, row := range data {
		if !math.IsNaN(row[item]) {
			n++
		}
	}
	return n
}

// coefficients are α's parts for one weighting of the units.
type coefficients struct {
	n, do, de, agree float64
}

func (c coefficients) alpha() float64 { return 1 - c.do/c.de }

// compute evaluates α's parts over units, unit i counted mult[i] times (all
// ones for the data itself, a resample's multiplicities for the bootstrap).
func compute(units []unit, mult []int, domain []float64, level Level) coefficients {
	nc := make([]float64, len(domain))
	for i, u := range units {
		if mult[i] == 0 {
			continue
		}
		for j, c := range u.idx {
			nc[c] += float64(mult[i]) * u.cnt[j]
		}
	}
	var n float64
	for _, v := range nc {
		n += v
	}
	// prefix[k] = Σ_{g<k} n_g, for the ordinal metric.
	prefix := make([]float64, len(domain)+1)
	for k, v := range nc {
		prefix[k+1] = prefix[k] + v
	}
	delta2 := func(c, k int) float64 {
		if c == k {
			return 0
		}
		switch level {
		case Nominal:
			return 1
		case Ordinal:
			if c > k {
				c, k = k, c
			}
			d := prefix[k+1] - prefix[c] - (nc[c]+nc[k])/2
			return d * d
		default: // Interval
			d := domain[c] - domain[k]
			return d * d
		}
	}
	var obs, same float64
	for i, u := range units {
		if mult[i] == 0 {
			continue
		}
		w := float64(mult[i]) / (u.m - 1)
		for a, c := range u.idx {
			same += w * u.cnt[a] * (u.cnt[a] - 1)
			for b, k := range u.idx {
				if a != b {
					obs += w * u.cnt[a] * u.cnt[b] * delta2(c, k)
				}
			}
		}
	}
	var exp float64
	for c := range domain {
		if nc[c] == 0 {
			continue
		}
		for k := c + 1; k < len(domain); k++ {
			if nc[k] != 0 {
				exp += 2 * nc[c] * nc[k] * delta2(c, k)
			}
		}
	}
	return coefficients{n: n, do: obs / n, de: exp / (n * (n - 1)), agree: same / n}
}

func bootstrap(units []unit, domain []float64, level Level, opt Options) BootstrapInterval {
	iv := BootstrapInterval{Confidence: opt.Confidence, Draws: opt.Draws, Seed: opt.Seed}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	mult := make([]int, len(units))
	alphas := make([]float64, 0, opt.Draws)
	for range opt.Draws {
		clear(mult)
		for range units {
			mult[rng.IntN(len(units))]++
		}
		c := compute(units, mult, domain, level)
		if c.de == 0 {
			iv.Skipped++
			continue
		}
		alphas = append(alphas, c.alpha())
	}
	if len(alphas) == 0 {
		iv.Low, iv.High = math.NaN(), math.NaN()
		return iv
	}
	slices.Sort(alphas)
	tail := (1 - opt.Confidence) / 2
	iv.Low, iv.High = quantile(alphas, tail), quantile(alphas, 1-tail)
	return iv
}

// quantile is the p-quantile of sorted xs by linear interpolation between
// order statistics (Hyndman & Fan's type 7, R's default).
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	lo := int(math.Floor(h))
	if lo >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

// Codes turns a nominal table of labels (nominal answers such as "yes", "no", "b")
// into the numeric table Alpha reads: the empty string (after trimming
// spaces) is Missing, and each distinct label gets a code in order of first
// appearance, row by row. labels[code] is the label.
func Codes(rows [][]string) (data [][]float64, labels []string) {
	code := map[string]int{}
	data = make([][]float64, len(rows))
	for r, row := range rows {
		data[r] = make([]float64, len(row))
		for i, cell := range row {
			cell = strings.TrimSpace(cell)
			if cell == "" {
				data[r][i] = Missing
				continue
			}
			c, ok := code[cell]
			if !ok {
				c = len(labels)
				code[cell] = c
				labels = append(labels, cell)
			}
			data[r][i] = float64(c)
		}
	}
	return data, labels
}
