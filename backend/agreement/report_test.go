package agreement

import (
	"math"
	"testing"
	"time"
)

var (
	yesNo  = ReportCriterion{ID: "greet", Label: "Greets", Type: TypeYesNo}
	scale  = ReportCriterion{ID: "tone", Label: "Tone", Type: TypeScale}
	choice = ReportCriterion{ID: "close", Label: "Closing", Type: TypeChoice,
		Points: map[string]float64{"full": 10, "partial": 5, "none": 0}}
)

func at(day int) time.Time { return time.Date(2026, 3, day, 10, 0, 0, 0, time.UTC) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Two evaluators, four calls, one yes/no criterion: r1 says y y n n, r2
// says y n n n. By hand (Krippendorff 2011): the coincidences are o_yy = 2,
// o_yn = o_ny = 1, o_nn = 4; n_y = 3, n_n = 5, n = 8; α = 1 − (n − 1) ·
// (o_yn + o_ny) / (2 · n_y · n_n) = 1 − 7 · 2 / 30 = 0.5333…, under 0.667:
// flagged. Percent agreement: the diagonal, 6 of 8.
func TestReportAlphaPerCriterionByHand(t *testing.T) {
	r1 := []string{"yes", "yes", "no", "no"}
	r2 := []string{"yes", "no", "no", "no"}
	var ss []ReportSession
	for i := range r1 {
		ss = append(ss, ReportSession{ID: string(rune('a' + i)), At: at(i + 1), Ratings: []Rating{
			{Evaluator: "r1", Answers: map[string]string{"greet": r1[i]}},
			{Evaluator: "r2", Answers: map[string]string{"greet": r2[i]}},
		}})
	}
	rep := BuildReport([]ReportCriterion{yesNo}, ss, Options{Draws: 200, Seed: 3})
	a := rep.Criteria[0].Alpha
	if !a.Defined || !near(a.Value, 1-14.0/30) || !a.Flagged || a.Pairable != 8 || a.PairableItems != 4 ||
		!near(a.PercentAgreement, 6.0/8) || a.Level != Nominal {
		t.Errorf("α = %+v, want 0.5333 flagged over 8 values", a)
	}
	if !a.Interval || a.Low > a.Value || a.High < a.Value {
		t.Errorf("interval [%v, %v] around %v", a.Low, a.High, a.Value)
	}
	// Without an expert, the bias is against the other evaluator: r1 said
	// yes once where r2 said no (+1 over 4 calls), r2 the reverse.
	b := rep.Criteria[0].Bias
	if len(b) != 2 || b[0].Evaluator != "r1" || !near(b[0].Bias, 0.25) || b[0].Count != 4 || !near(b[1].Bias, -0.25) {
		t.Errorf("bias %+v", b)
	}
	// The same data again gives the same interval (seeded).
	again := BuildReport([]ReportCriterion{yesNo}, ss, Options{Draws: 200, Seed: 3})
	if again.Criteria[0].Alpha != a {
		t.Errorf("not reproducible: %+v vs %+v", again.Criteria[0].Alpha, a)
	}
}

// An expert is the reference; N/A is missing; each session measures its
// criteria by level; totals give the drift.
func TestReportExpertMissingLevelsAndDrift(t *testing.T) {
	crit := []ReportCriterion{yesNo, scale, choice}
	mk := func(id string, day int, exp, e1, e2 [3]string, totals [3]float64) ReportSession {
		r := func(ev string, x bool, a [3]string, tot float64) Rating {
			return Rating{Evaluator: ev, Expert: x, Answers: map[string]string{"greet": a[0], "tone": a[1], "close": a[2]},
				Total: tot, HasTotal: true}
		}
		return ReportSession{ID: id, At: at(day), Ratings: []Rating{r("boss", true, exp, totals[0]),
			r("e1", false, e1, totals[1]), r("e2", false, e2, totals[2])}}
	}
	ss := []ReportSession{
		// Given out of order: the report sorts them by time.
		mk("s3", 9, [3]string{"no", "2", "none"}, [3]string{"yes", "4", "partial"}, [3]string{"no", "2", "none"}, [3]float64{40, 80, 40}),
		mk("s1", 1, [3]string{"yes", "4", "full"}, [3]string{"yes", "5", "full"}, [3]string{"na", "4", "full"}, [3]float64{80, 80, 80}),
		mk("s2", 5, [3]string{"yes", "3", "partial"}, [3]string{"yes", "4", "full"}, [3]string{"yes", "3", "partial"}, [3]float64{60, 70, 60}),
	}
	rep := BuildReport(crit, ss, Options{Draws: 100, Seed: 1})
	if rep.Sessions[0].ID != "s1" || rep.Sessions[2].ID != "s3" || rep.Sessions[0].Ref != RefExpert {
		t.Fatalf("sessions %+v", rep.Sessions)
	}
	// greet: e1 says yes where the expert says no in s3 (+1), agrees in s1
	// and s2: mean 1/3 over 3; e2's N/A in s1 is missing: 0 over 2.
	g := rep.Criteria[0]
	if len(g.Bias) != 2 || g.Bias[0].Evaluator != "e1" || !near(g.Bias[0].Bias, 1.0/3) || g.Bias[0].Count != 3 ||
		g.Bias[1].Count != 2 || !near(g.Bias[1].Bias, 0) {
		t.Errorf("greet bias %+v", g.Bias)
	}
	// 3 raters on 3 calls less e2's N/A: 8 pairable values.
	if g.Alpha.Pairable != 8 || g.Alpha.Level != Nominal {
		t.Errorf("greet α %+v", g.Alpha)
	}
	// tone is ordinal; e1 is one point above the expert on every call.
	tone := rep.Criteria[1]
	if tone.Alpha.Level != Ordinal || !near(tone.Bias[0].Bias, (1+1+2)/3.0) {
		t.Errorf("tone %+v", tone)
	}
	// close is scored in points: e1 gives 0, +5, +5 over the expert.
	if c := rep.Criteria[2]; !near(c.Bias[0].Bias, 10.0/3) || !near(c.Bias[1].Bias, 0) {
		t.Errorf("close bias %+v", c.Bias)
	}
	// Each session has a nominal (greet, close) and an ordinal (tone) α.
	for _, s := range rep.Sessions {
		if s.Nominal == nil || s.Ordinal == nil || s.Evaluators != 3 {
			t.Errorf("session %s: %+v", s.ID, s)
		}
	}
	// Within a session the items are its criteria: s1's one ordinal item
	// (tone: 4, 5, 4) gives 3 pairable values.
	if s := rep.Sessions[0]; s.Ordinal.Pairable != 3 {
		t.Errorf("s1 ordinal %+v", s.Ordinal)
	}
	// Drift of totals against the expert: e1 0, +10, +40.
	var e1 Drift
	for _, d := range rep.Drift {
		if d.Evaluator == "e1" {
			e1 = d
		}
	}
	if len(e1.Points) != 3 || e1.Points[0].Bias != 0 || e1.Points[1].Bias != 10 || e1.Points[2].Bias != 40 ||
		!near(e1.Mean, 50.0/3) || !near(e1.Slope, 20) {
		t.Errorf("e1 drift %+v", e1)
	}
	for _, d := range rep.Drift {
		if d.Evaluator == "boss" {
			t.Errorf("the expert drifts against themselves: %+v", d)
		}
	}
}

// Without an expert the reference is the mean of the others.
func TestReportConsensusLeavesTheEvaluatorOut(t *testing.T) {
	s := ReportSession{ID: "s", At: at(1), Ratings: []Rating{
		{Evaluator: "a", Total: 90, HasTotal: true}, {Evaluator: "b", Total: 60, HasTotal: true},
		{Evaluator: "c", Total: 60, HasTotal: true}}}
	rep := BuildReport([]ReportCriterion{scale}, []ReportSession{s}, Options{Draws: 10})
	got := map[string]float64{}
	for _, b := range rep.Sessions[0].Bias {
		got[b.Evaluator] = b.Bias
	}
	if rep.Sessions[0].Ref != RefConsensus || got["a"] != 30 || got["b"] != -15 || got["c"] != -15 {
		t.Errorf("consensus bias %v (%s)", got, rep.Sessions[0].Ref)
	}
}

// The degenerate cases say why α is undefined.
func TestReportUndefinedAlpha(t *testing.T) {
	one := ReportSession{ID: "s", At: at(1), Ratings: []Rating{{Evaluator: "a", Answers: map[string]string{"greet": "yes"}}}}
	rep := BuildReport([]ReportCriterion{yesNo}, []ReportSession{one}, Options{Draws: 10})
	if a := rep.Criteria[0].Alpha; a.Defined || a.Undefined != "one rater" {
		t.Errorf("one rater: %+v", a)
	}
	var same []ReportSession
	for i := range 3 {
		same = append(same, ReportSession{ID: string(rune('a' + i)), At: at(i + 1), Ratings: []Rating{
			{Evaluator: "a", Answers: map[string]string{"greet": "yes"}},
			{Evaluator: "b", Answers: map[string]string{"greet": "yes"}}}})
	}
	rep = BuildReport([]ReportCriterion{yesNo}, same, Options{Draws: 10})
	if a := rep.Criteria[0].Alpha; a.Defined || a.Undefined != "no variation" || a.PercentAgreement != 1 || a.Pairable != 6 {
		t.Errorf("no variation: %+v", a)
	}
	na := []ReportSession{{ID: "s", At: at(1), Ratings: []Rating{
		{Evaluator: "a", Answers: map[string]string{"greet": "na"}}, {Evaluator: "b", Answers: map[string]string{"greet": "yes"}}}}}
	rep = BuildReport([]ReportCriterion{yesNo}, na, Options{Draws: 10})
	if a := rep.Criteria[0].Alpha; a.Defined || a.Undefined != "no pairable answers" {
		t.Errorf("N/A: %+v", a)
	}
}
