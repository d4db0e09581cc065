package stats

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestPrimaryRules(t *testing.T) {
	five := func(evals int64, heavy int64) map[string]Measures {
		m := map[string]Measures{}
		for i := range 5 {
			m[fmt.Sprint(i)] = Measures{Evaluations: evals, ScoreTenths: evals * 800, Handled: 10}
		}
		m["0"] = Measures{Evaluations: evals, ScoreTenths: evals * 800, Handled: heavy}
		return m
	}
	for _, c := range []struct {
		name    string
		contrib map[string]Measures
		want    Reason
	}{
		{"empty", map[string]Measures{}, Published},
		{"four agents", map[string]Measures{"a": {Evaluations: 9}, "b": {Evaluations: 9}, "c": {Evaluations: 9}, "d": {Evaluations: 9}}, FewAgents},
		{"nine evaluations", five(1, 10), FewEvaluations},
		{"ten evaluations", five(2, 10), Published},
		{"one agent at 86 % of the calls", five(2, 246), Dominant},
		{"one agent at 83 % of the calls", five(2, 200), Published},
	} {
		if got, _, _ := primary(c.contrib); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// Random tables: after Protect, no published cell breaks a primary rule
// and Disclosed finds nothing; every hidden cell keeps its reason.
func TestProtectLeavesNothingDisclosed(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 42))
	for n := range 60 {
		tab := NewTable(1+r.IntN(4), 1+r.IntN(4))
		for row := range tab.Rows {
			for col := range tab.Cols {
				for a := range r.IntN(9) {
					if r.IntN(3) == 0 {
						continue
					}
					e := int64(1 + r.IntN(4))
					tab.Add(row, col, fmt.Sprintf("r%d-a%d", row, a), Measures{Evaluations: e, ScoreTenths: e * int64(r.IntN(1000)),
						Handled: int64(r.IntN(50)), TalkMS: int64(r.IntN(3600000))})
				}
			}
		}
		cells := Protect(tab)
		if d := Disclosed(tab, cells); len(d) > 0 {
			t.Errorf("table %d: cells %v disclosed", n, d)
		}
		for _, c := range cells {
			if c.Reason != Published || c.Agents == 0 {
				continue
			}
			if why, _, _ := primary(tab.contributions(tab.covers(c.Row, c.Col))); why != Published {
				t.Errorf("table %d: cell %v published though %s", n, c, why)
			}
		}
	}
}

func TestFigureOf(t *testing.T) {
	f := FigureOf(Cell{Agents: 5, Sums: Measures{Evaluations: 3, ScoreTenths: 2251, Handled: 4, TalkMS: 4 * 61500}})
	if f.MeanScore != 75 || f.MeanTalk != 62*time.Second || f.Agents != 5 {
		t.Errorf("%+v", f)
	}
}

func TestPieces(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	// 15 January 2026 is a Thursday: four days, a week (19–26), six days,
	// then February and March, then nine days (no whole week before the
	// 10th of April).
	got := Pieces(d(1, 15), d(4, 10), Month)
	// Whatever the pieces, they tile the period and every bucket they read
	// lies inside it and inside one month.
	for _, c := range [][2]time.Time{{d(1, 15), d(4, 10)}, {d(1, 5), d(1, 20)}, {d(1, 1), d(12, 31)},
		{d(2, 28), d(3, 2)}, {d(1, 1), d(1, 2)}} {
		for _, g := range []Grouping{Month, Week, Day} {
			ps := Pieces(c[0], c[1], g)
			at := c[0]
			for _, p := range ps {
				if !p.From.Equal(at) || !p.To.After(p.From) {
					t.Fatalf("%v by %v: pieces %v do not tile", c, g, ps)
				}
				for s := p.From; s.Before(p.To); s = Next(s, p.Grouping) {
					if Next(s, p.Grouping).After(p.To) || !Start(s, g).Equal(Start(Next(s, p.Grouping).Add(-time.Hour), g)) {
						t.Fatalf("%v by %v: bucket %s of %v leaves its piece or its %v", c, g, s, p, g)
					}
				}
				at = p.To
			}
			if !at.Equal(c[1]) {
				t.Fatalf("%v by %v: pieces end at %s", c, g, at)
			}
		}
	}
	if len(got) != 5 || got[0].Grouping != Day || got[1].Grouping != Week || got[3].Grouping != Month || got[4].Grouping != Day {
		t.Errorf("pieces %v", got)
	}
	// 5 January 2026 is a Monday: two weeks, then a day.
	if got := Pieces(d(1, 5), d(1, 20), Month); len(got) != 2 || got[0].Grouping != Week || got[1].Grouping != Day {
		t.Errorf("inside a month: %v", got)
	}
	if _, err := Resolve(d(1, 1), d(6, 1), Day, d(6, 1)); err == nil {
		t.Error("five months by day accepted")
	}
	p, err := Resolve(time.Time{}, time.Time{}, Week, time.Date(2026, 6, 3, 15, 0, 0, 0, time.UTC))
	if err != nil || !p.To.Equal(d(6, 4)) || !p.From.Equal(d(6, 4).AddDate(0, 0, -365)) {
		t.Errorf("default period %v %v", p, err)
	}
	if b := p.Buckets(); b[0].Weekday() != time.Monday || b[0].After(p.From) {
		t.Errorf("weeks start %v", b[0])
	}
}
