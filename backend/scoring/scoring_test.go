package scoring

import (
	"math/big"
	"slices"
	"testing"

	"github.com/ecoute/ecoute/backend/grid"
)

func yn(id string, w float64) grid.Criterion {
	return grid.Criterion{ID: id, Label: id, Type: grid.TypeYesNo, Weight: w, AllowNA: true}
}

func scale(id string, w float64) grid.Criterion {
	return grid.Criterion{ID: id, Label: id, Type: grid.TypeScale, Weight: w, AllowNA: true}
}

func choice(id string, w float64, points ...float64) grid.Criterion {
	c := grid.Criterion{ID: id, Label: id, Type: grid.TypeChoice, Weight: w}
	for i, p := range points {
		c.Choices = append(c.Choices, grid.Choice{ID: string(rune('a' + i)), Label: "x", Points: p})
	}
	return c
}

func one(cs ...grid.Criterion) grid.Grid {
	return grid.Grid{ID: "g", Name: "g", Sections: []grid.Section{{ID: "s", Title: "s", Weight: 1, Criteria: cs}}}
}

func ans(kv ...string) map[string]grid.Answer {
	m := map[string]grid.Answer{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = grid.Answer{CriterionID: kv[i], Value: kv[i+1]}
	}
	return m
}

func TestScore(t *testing.T) {
	crit := yn("c", 1)
	crit.Critical = true
	twoSections := grid.Grid{ID: "g", Name: "g", Sections: []grid.Section{
		{ID: "s1", Title: "s1", Weight: 1, Criteria: []grid.Criterion{yn("a", 1)}},
		{ID: "s2", Title: "s2", Weight: 3, Criteria: []grid.Criterion{yn("b", 1)}},
	}}
	cases := []struct {
		name     string
		g        grid.Grid
		answers  map[string]grid.Answer
		total    float64
		hasTotal bool
		critical bool
		complete bool
	}{
		{"yes_no all yes", one(yn("a", 1), yn("b", 1)), ans("a", "yes", "b", "yes"), 100, true, false, true},
		{"yes_no one no", one(yn("a", 1), yn("b", 1)), ans("a", "yes", "b", "no"), 50, true, false, true},
		{"scale 1 is 0", one(scale("a", 1)), ans("a", "1"), 0, true, false, true},
		{"scale 3 is half", one(scale("a", 1)), ans("a", "3"), 50, true, false, true},
		{"scale 4", one(scale("a", 1)), ans("a", "4"), 75, true, false, true},
		{"scale 5 is full", one(scale("a", 1)), ans("a", "5"), 100, true, false, true},
		{"choice best", one(choice("a", 1, 2, 1, 0)), ans("a", "a"), 100, true, false, true},
		{"choice middle", one(choice("a", 1, 2, 1, 0)), ans("a", "b"), 50, true, false, true},
		{"choice zero", one(choice("a", 1, 2, 1, 0)), ans("a", "c"), 0, true, false, true},
		{"criterion weights", one(yn("a", 1), yn("b", 3)), ans("a", "yes", "b", "no"), 25, true, false, true},
		{"N/A leaves the denominator", one(yn("a", 1), yn("b", 3)), ans("a", "yes", "b", "na"), 100, true, false, true},
		{"N/A on a scale", one(scale("a", 1), scale("b", 1)), ans("a", "na", "b", "4"), 75, true, false, true},
		{"all N/A has no total", one(yn("a", 1)), ans("a", "na"), 0, false, false, true},
		{"section weights", twoSections, ans("a", "yes", "b", "no"), 25, true, false, true},
		{"section all N/A leaves the total", twoSections, ans("a", "no", "b", "na"), 0, true, false, true},
		{"section all N/A, other yes", twoSections, ans("a", "yes", "b", "na"), 100, true, false, true},
		{"critical failure zeroes", one(crit, yn("b", 5)), ans("c", "no", "b", "yes"), 0, true, true, true},
		{"critical passed", one(crit, yn("b", 1)), ans("c", "yes", "b", "no"), 50, true, false, true},
		{"critical N/A is no failure", one(crit, yn("b", 1)), ans("c", "na", "b", "yes"), 100, true, false, true},
		{"draft counts answered only", one(yn("a", 1), yn("b", 1)), ans("a", "yes"), 100, true, false, false},
		{"nothing answered", one(yn("a", 1)), ans(), 0, false, false, false},
		{"rounds a third down", one(yn("a", 1), yn("b", 1), yn("c", 1)), ans("a", "yes", "b", "no", "c", "no"), 33.3, true, false, true},
		{"rounds two thirds up", one(yn("a", 1), yn("b", 1), yn("c", 1)), ans("a", "yes", "b", "yes", "c", "no"), 66.7, true, false, true},
		// 329/400 = 82.25 % exactly: half away from zero gives 82.3, where
		// float64 arithmetic (0.8225*1000 = 822.4999…) would give 82.2.
		{"rounds a half up, exactly", one(choice("a", 1, 400, 329)), ans("a", "b"), 82.3, true, false, true},
		{"rounds below a half down", one(choice("a", 1, 10000, 8224)), ans("a", "b"), 82.2, true, false, true},
		// Weights written as decimals are taken as written: 0.1 and 0.2.
		{"decimal weights", one(yn("a", 0.1), yn("b", 0.2)), ans("a", "yes", "b", "no"), 33.3, true, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := grid.Validate(tc.g); err != nil {
				t.Fatalf("test grid invalid: %v", err)
			}
			r, err := Score(tc.g, tc.answers)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tc.total || r.HasTotal != tc.hasTotal || r.CriticalFailed != tc.critical || r.Complete != tc.complete {
				t.Errorf("got total %v has %v critical %v complete %v; want %v %v %v %v",
					r.Total, r.HasTotal, r.CriticalFailed, r.Complete, tc.total, tc.hasTotal, tc.critical, tc.complete)
			}
		})
	}
}

func TestScoreDetails(t *testing.T) {
	c := yn("c", 1)
	c.Critical, c.CommentWhenFailed = true, true
	d := yn("d", 1)
	d.CommentWhenFailed = true
	g := grid.Grid{ID: "g", Name: "g", Sections: []grid.Section{
		{ID: "s1", Title: "s1", Weight: 1, Criteria: []grid.Criterion{c, d}},
		{ID: "s2", Title: "s2", Weight: 1, Criteria: []grid.Criterion{scale("e", 1)}},
	}}
	a := ans("c", "no", "d", "no", "e", "2")
	a["d"] = grid.Answer{CriterionID: "d", Value: "no", Comment: "n'a pas reformulé"}
	r, err := Score(g, a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.CriticalCriteria, []string{"c"}) {
		t.Errorf("critical criteria %v", r.CriticalCriteria)
	}
	if !slices.Equal(r.Failed, []string{"c", "d", "e"}) {
		t.Errorf("failed %v (scale 2 is a failure)", r.Failed)
	}
	if !slices.Equal(r.MissingComments, []string{"c"}) {
		t.Errorf("missing comments %v", r.MissingComments)
	}
	if len(r.Sections) != 2 || r.Sections[0].Score != 0 || r.Sections[1].Score != 25 || !r.Sections[1].HasScore {
		t.Errorf("sections %+v", r.Sections)
	}
	if r.Answered != 3 || r.Criteria != 3 {
		t.Errorf("answered %d of %d", r.Answered, r.Criteria)
	}
}

func TestScoreRefusesBadAnswers(t *testing.T) {
	noNA := yn("a", 1)
	noNA.AllowNA = false
	g := one(noNA, scale("s", 1), choice("c", 1, 1, 0))
	for _, a := range []map[string]grid.Answer{
		ans("zz", "yes"), ans("a", "peut-être"), ans("a", "na"), ans("s", "0"), ans("s", "6"), ans("s", "3.5"),
		ans("c", "yes"), ans("c", "z"),
	} {
		if _, err := Score(g, a); err == nil {
			t.Errorf("%v accepted", a)
		}
	}
}

func TestRoundHalfAway(t *testing.T) {
	for _, tc := range []struct {
		num, den int64
		want     int64
	}{{5, 2, 3}, {-5, 2, -3}, {7, 3, 2}, {8, 3, 3}, {1, 2, 1}, {0, 1, 0}, {49, 100, 0}} {
		if got := RoundHalfAway(big.NewRat(tc.num, tc.den)); got != tc.want {
			t.Errorf("%d/%d → %d, want %d", tc.num, tc.den, got, tc.want)
		}
	}
}
