package agreement

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

var m = Missing

// k2011 is the reliability data of Krippendorff (2011), "Computing
// Krippendorff's Alpha-Reliability" (https://repository.upenn.edu/asc_papers/43),
// section C: four observers A–D, twelve units, values 1–5, seven missing
// cells (unit 12 has one value only, so it is not pairable).
var k2011 = [][]float64{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, m, m, m},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, m, 3},
	{m, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, m},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, m},
}

// wiki is the computational example of the Wikipedia article
// "Krippendorff's alpha" (section "A computational example", written by
// Krippendorff): three coders, fifteen units, published nominal
// α = 0.691 and interval α = 0.811.
var wiki = [][]float64{
	{m, m, m, m, m, 3, 4, 1, 2, 1, 1, 3, 3, m, 3},
	{1, m, 2, 1, 3, 3, 4, 3, m, m, m, m, m, m, m},
	{m, m, 2, 1, 3, 4, 4, m, 2, 1, 1, 3, 3, m, 4},
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// The published figures, to the three decimals they were published with.
func TestPublishedExamples(t *testing.T) {
	cases := []struct {
		name  string
		data  [][]float64
		level Level
		want  float64
		n     int
	}{
		{"Krippendorff 2011 nominal", k2011, Nominal, 0.743, 40},
		{"Krippendorff 2011 ordinal", k2011, Ordinal, 0.815, 40},
		{"Krippendorff 2011 interval", k2011, Interval, 0.849, 40},
		{"Wikipedia nominal", wiki, Nominal, 0.691, 26},
		{"Wikipedia interval", wiki, Interval, 0.811, 26},
	}
	for _, c := range cases {
		r, err := Alpha(c.data, c.level, Options{Draws: 200})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if round3(r.Alpha) != c.want || r.Pairable != c.n {
			t.Errorf("%s: α = %.6f over %d pairable values, published %.3f over %d", c.name, r.Alpha, r.Pairable, c.want, c.n)
		}
	}
}

// The reported parts agree with α's definition and with the table's shape.
func TestPartsAreConsistent(t *testing.T) {
	for _, level := range []Level{Nominal, Ordinal, Interval} {
		r, err := Alpha(k2011, level, Options{Draws: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := 1 - r.Observed/r.Expected; math.Abs(got-r.Alpha) > 1e-12 {
			t.Errorf("%v: 1 − D_o/D_e = %v, α = %v", level, got, r.Alpha)
		}
		if r.Raters != 4 || r.Items != 12 || r.PairableItems != 11 {
			t.Errorf("%v: %d raters, %d items, %d pairable", level, r.Raters, r.Items, r.PairableItems)
		}
	}
}

// A hand computation with missing values, where the three levels differ.
//
//	rater 1:  1  2  3  .
//	rater 2:  1  3  3  2
//	rater 3:  .  2  3  .
//
// Item 4 has one value: not pairable. Coincidences (item 1 gives o11 = 2;
// item 2, m = 3, gives o22 = 2·1/2 = 1 and o23 = o32 = 2·1/2 = 1; item 3
// gives o33 = 3·2/2 = 3): n1 = 2, n2 = 2, n3 = 4, n = 8, o_cc sum to 6.
//
//	nominal:  D_o = 2/8, D_e = 2(2·2 + 2·4 + 2·4)/56 = 40/56; α = 1 − (1/4)(56/40) = 0.65
//	interval: δ²12 = 1, δ²13 = 4, δ²23 = 1; D_o = 2·1/8, D_e = 2(4·1 + 8·4 + 8·1)/56 = 88/56;
//	          α = 1 − (1/4)(56/88) = 37/44
//	ordinal:  δ²12 = (2+2 − 2)² = 4, δ²23 = (2+4 − 3)² = 9, δ²13 = (8 − 3)² = 25;
//	          D_o = 2·9/8, D_e = 2(4·4 + 8·25 + 8·9)/56 = 576/56; α = 1 − (9/4)(56/576) = 25/32
//
// Percent agreement 6/8 at every level.
func TestHandComputationWithMissingValues(t *testing.T) {
	data := [][]float64{
		{1, 2, 3, m},
		{1, 3, 3, 2},
		{m, 2, 3, m},
	}
	for level, want := range map[Level]float64{Nominal: 0.65, Interval: 37.0 / 44, Ordinal: 25.0 / 32} {
		r, err := Alpha(data, level, Options{Draws: 10})
		if err != nil {
			t.Fatalf("%v: %v", level, err)
		}
		if math.Abs(r.Alpha-want) > 1e-12 || r.Pairable != 8 || r.PairableItems != 3 || r.PercentAgreement != 0.75 {
			t.Errorf("%v: α %v (want %v), pairable %d in %d items, agreement %v", level, r.Alpha, want,
				r.Pairable, r.PairableItems, r.PercentAgreement)
		}
	}
}

// Two raters, no missing value: percent agreement is the share of items
// scored alike, and perfect agreement is α = 1.
func TestPercentAgreementAndPerfectAgreement(t *testing.T) {
	r, err := Alpha([][]float64{{1, 1, 0, 0, 1}, {1, 0, 0, 0, 1}}, Nominal, Options{})
	if err != nil || r.PercentAgreement != 0.8 {
		t.Errorf("4 of 5 alike: %v %v", r.PercentAgreement, err)
	}
	for _, level := range []Level{Nominal, Ordinal, Interval} {
		r, err := Alpha([][]float64{{1, 2, 3, m}, {1, 2, 3, 4}, {1, m, 3, 4}}, level, Options{})
		if err != nil || r.Alpha != 1 || r.PercentAgreement != 1 || r.CI.Low != 1 || r.CI.High != 1 {
			t.Errorf("%v, perfect agreement: α %v, agreement %v, CI %+v, %v", level, r.Alpha, r.PercentAgreement, r.CI, err)
		}
	}
}

// α does not depend on the order of raters or items, and the ordinal level
// ignores the spacing of the values (only their order counts), unlike the
// interval level.
func TestInvariances(t *testing.T) {
	base, _ := Alpha(k2011, Ordinal, Options{Draws: 10})
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		p := permute(k2011, rng)
		r, err := Alpha(p, Ordinal, Options{Draws: 10})
		if err != nil || math.Abs(r.Alpha-base.Alpha) > 1e-12 {
			t.Fatalf("permuted: %v %v, want %v", r.Alpha, err, base.Alpha)
		}
	}
	// Map 1..5 to 10, 20, 25, 100, 1000: same order, other spacing.
	stretch := map[float64]float64{1: 10, 2: 20, 3: 25, 4: 100, 5: 1000}
	s := make([][]float64, len(k2011))
	for i, row := range k2011 {
		for _, v := range row {
			if math.IsNaN(v) {
				s[i] = append(s[i], m)
			} else {
				s[i] = append(s[i], stretch[v])
			}
		}
	}
	ord, _ := Alpha(s, Ordinal, Options{Draws: 10})
	iv, _ := Alpha(s, Interval, Options{Draws: 10})
	base3, _ := Alpha(k2011, Interval, Options{Draws: 10})
	if math.Abs(ord.Alpha-base.Alpha) > 1e-12 {
		t.Errorf("ordinal α changed with the spacing: %v, was %v", ord.Alpha, base.Alpha)
	}
	if math.Abs(iv.Alpha-base3.Alpha) < 1e-3 {
		t.Errorf("interval α ignored the spacing: %v", iv.Alpha)
	}
}

func permute(data [][]float64, rng *rand.Rand) [][]float64 {
	rows := rng.Perm(len(data))
	cols := rng.Perm(len(data[0]))
	out := make([][]float64, len(data))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], data[r][c])
		}
	}
	return out
}

func TestBootstrapIsDeterministicAndSane(t *testing.T) {
	a, err := Alpha(k2011, Interval, Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Alpha(k2011, Interval, Options{Seed: 42})
	if a.CI != b.CI {
		t.Errorf("same seed, two intervals: %+v %+v", a.CI, b.CI)
	}
	ci := a.CI
	if ci.Draws != DefaultDraws || ci.Confidence != 0.95 || ci.Seed != 42 {
		t.Errorf("defaults: %+v", ci)
	}
	if !(ci.Low < a.Alpha && a.Alpha < ci.High && ci.High <= 1) {
		t.Errorf("α %.3f outside its interval [%.3f, %.3f]", a.Alpha, ci.Low, ci.High)
	}
	// A wider confidence gives a wider interval from the same draws.
	w, _ := Alpha(k2011, Interval, Options{Seed: 42, Confidence: 0.99})
	if !(w.CI.Low <= ci.Low && w.CI.High >= ci.High) || w.CI == ci {
		t.Errorf("99 %% [%v, %v] not wider than 95 %% [%v, %v]", w.CI.Low, w.CI.High, ci.Low, ci.High)
	}
	// More items, same agreement pattern: a narrower interval.
	var big [][]float64
	for _, row := range k2011 {
		var r []float64
		for range 10 {
			r = append(r, row...)
		}
		big = append(big, r)
	}
	bg, _ := Alpha(big, Interval, Options{Seed: 42})
	if bg.CI.High-bg.CI.Low >= (ci.High-ci.Low)/2 {
		t.Errorf("ten times the items: interval %v wide, was %v", bg.CI.High-bg.CI.Low, ci.High-ci.Low)
	}
}

// Resamples with no variation have no α: they are left out and counted.
func TestBootstrapSkipsResamplesWithoutVariation(t *testing.T) {
	// Two items, each with one value only: a resample of one item twice
	// has no variation (half the draws).
	r, err := Alpha([][]float64{{1, 2}, {1, 2}}, Nominal, Options{Draws: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.CI.Skipped == 0 || r.CI.Skipped == r.CI.Draws || r.CI.Low != 1 || r.CI.High != 1 {
		t.Errorf("interval %+v", r.CI)
	}
}

func TestDegenerateCases(t *testing.T) {
	cases := []struct {
		name string
		data [][]float64
		want error
	}{
		{"no rater", nil, ErrTooFewRaters},
		{"one rater", [][]float64{{1, 2, 3, 2}}, ErrTooFewRaters},
		{"two raters on different items", [][]float64{{1, 2, m, m}, {m, m, 1, 2}}, ErrNoPairable},
		{"all missing", [][]float64{{m, m}, {m, m}}, ErrNoPairable},
		{"no items", [][]float64{{}, {}}, ErrNoPairable},
	}
	for _, c := range cases {
		for _, level := range []Level{Nominal, Ordinal, Interval} {
			r, err := Alpha(c.data, level, Options{})
			if !errors.Is(err, c.want) || !math.IsNaN(r.Alpha) {
				t.Errorf("%s, %v: α %v, %v; want %v", c.name, level, r.Alpha, err, c.want)
			}
		}
	}
	// No variation: α undefined, said so, with what can be said.
	for _, level := range []Level{Nominal, Ordinal, Interval} {
		r, err := Alpha([][]float64{{1, 1, 1, m}, {1, 1, m, 2}, {1, m, 1, m}}, level, Options{})
		if !errors.Is(err, ErrNoVariation) || !math.IsNaN(r.Alpha) || r.Pairable != 7 || r.PercentAgreement != 1 {
			t.Errorf("no variation, %v: %+v %v", level, r, err)
		}
	}
}

func TestBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		data  [][]float64
		level Level
		opt   Options
	}{
		"ragged":        {[][]float64{{1, 2}, {1}}, Nominal, Options{}},
		"infinite":      {[][]float64{{1, math.Inf(1)}, {1, 2}}, Interval, Options{}},
		"level":         {k2011, Level(9), Options{}},
		"draws":         {k2011, Nominal, Options{Draws: -1}},
		"confidence":    {k2011, Nominal, Options{Confidence: 1}},
		"confidence<0":  {k2011, Nominal, Options{Confidence: -0.5}},
		"confidence>1":  {k2011, Nominal, Options{Confidence: 95}},
		"confidenceNaN": {k2011, Nominal, Options{Confidence: math.NaN()}},
	} {
		if _, err := Alpha(c.data, c.level, c.opt); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestParseLevelAndCodes(t *testing.T) {
	for _, s := range []string{"nominal", "Ordinal", " interval "} {
		if l, err := ParseLevel(s); err != nil || l.String() != map[string]string{"nominal": "nominal", "Ordinal": "ordinal", " interval ": "interval"}[s] {
			t.Errorf("%q: %v %v", s, l, err)
		}
	}
	if _, err := ParseLevel("ratio"); err == nil {
		t.Error("ratio accepted")
	}
	data, labels := Codes([][]string{{"yes", "no", ""}, {"yes", " n/a ", "no"}})
	if len(labels) != 3 || labels[0] != "yes" || labels[2] != "n/a" || data[0][1] != 1 || !math.IsNaN(data[0][2]) || data[1][2] != 1 {
		t.Errorf("codes %v labels %q", data, labels)
	}
}
