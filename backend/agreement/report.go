package agreement

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
)

// The agreement report of a calibration (issue 13): several evaluators
// score the same calls on the same grid, and the report says, per
// criterion and per calibration session, how far they agree (α, at the
// level that fits the criterion), and per evaluator how far each departs
// from the reference and how that moves over time. It is arithmetic on the
// submitted scores; storage, names and access are the caller's.
//
// Levels. A yes/no criterion and a choice criterion are nominal (their
// answers are labels); a 1–5 scale is ordinal. "na" (not applicable) and an
// unanswered criterion are missing values, left out of every measure.
//
// Items. Per criterion, the items are the calibrations (one call each) and
// the raters the evaluators; per session, the items are the session's
// criteria of one level (nominal and ordinal are measured apart).
//
// Bias. An evaluator's signed difference to the reference: the expert's
// answer when the session has an expert who answered, otherwise the
// consensus, the mean of the other evaluators' answers (leaving the
// evaluator out, so that nobody pulls the reference toward themselves).
// Answers count as numbers: yes = 1 and no = 0, the scale's value, the
// choice's points; for a session, the total in percent. Positive is more
// lenient than the reference. The expert has no bias where the expert is
// the reference.
//
// Drift. Each evaluator's session bias, in the order of the sessions, with
// its mean and least-squares slope (points of bias per session).

// Criterion answer types (backend/grid's).
const (
	TypeYesNo  = "yes_no"
	TypeScale  = "scale"
	TypeChoice = "choice"
)

// ReportCriterion is one criterion measured.
type ReportCriterion struct {
	ID, Label, Type string
	// Points are a choice criterion's points by choice id.
	Points map[string]float64
}

// LevelOf is the level of measurement that fits a criterion type.
func LevelOf(typ string) Level {
	if typ == TypeScale {
		return Ordinal
	}
	return Nominal
}

// Rating is one evaluator's submitted score in a session.
type Rating struct {
	Evaluator string
	Expert    bool
	// Answers by criterion id: "yes", "no", "na", "1".."5" or a choice id.
	Answers  map[string]string
	Total    float64
	HasTotal bool
}

// ReportSession is one calibration: its submitted ratings.
type ReportSession struct {
	ID      string
	At      time.Time
	Ratings []Rating
}

// AlphaResult is α with what it rests on, or why it is undefined.
type AlphaResult struct {
	Level            Level
	Defined          bool
	Value, Low, High float64
	// Interval is false when no bootstrap resample had an α (Low and High
	// are then NaN).
	Interval         bool
	Pairable         int
	PairableItems    int
	PercentAgreement float64 // 0..1
	// Flagged: defined and below MinTentative.
	Flagged bool
	// Undefined says why α is not defined: "one rater", "no pairable
	// answers" or "no variation".
	Undefined string
}

// Bias is an evaluator's mean signed difference to the reference.
type Bias struct {
	Evaluator string
	Bias      float64
	Count     int
}

// CriterionReport is the agreement on one criterion across the sessions.
type CriterionReport struct {
	Criterion ReportCriterion
	Alpha     AlphaResult
	Bias      []Bias
}

// SessionReport is the agreement within one session.
type SessionReport struct {
	ID  string
	At  time.Time
	Ref string // "expert" or "consensus"
	// Nominal and Ordinal are nil when the grid has no criterion of the
	// level.
	Nominal, Ordinal *AlphaResult
	// Bias is each evaluator's total minus the reference total.
	Bias       []Bias
	Evaluators int
}

// DriftPoint is an evaluator's session bias.
type DriftPoint struct {
	Session string
	At      time.Time
	Bias    float64
}

// Drift is an evaluator's session biases over time.
type Drift struct {
	Evaluator   string
	Points      []DriftPoint
	Mean, Slope float64
}

// Report is the agreement of a set of sessions on one grid.
type Report struct {
	Criteria  []CriterionReport
	Sessions  []SessionReport
	Drift     []Drift
	Threshold float64
	Draws     int
}

// References.
const (
	RefExpert    = "expert"
	RefConsensus = "consensus"
)

// number is an answer as a number, false when missing.
func (c ReportCriterion) number(v string) (float64, bool) {
	switch c.Type {
	case TypeYesNo:
		switch v {
		case "yes":
			return 1, true
		case "no":
			return 0, true
		}
		return 0, false
	case TypeScale:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	case TypeChoice:
		p, ok := c.Points[v]
		return p, ok
	}
	return 0, false
}

// label is an answer as a nominal label, "" when missing.
func (c ReportCriterion) label(v string) string {
	if v == "na" {
		return ""
	}
	if _, ok := c.number(v); !ok {
		return ""
	}
	return v
}

// BuildReport measures the sessions (oldest first in the report) on the
// criteria. opt drives every bootstrap.
func BuildReport(criteria []ReportCriterion, sessions []ReportSession, opt Options) Report {
	sessions = slices.Clone(sessions)
	slices.SortStableFunc(sessions, func(a, b ReportSession) int { return a.At.Compare(b.At) })
	draws := opt.Draws
	if draws == 0 {
		draws = DefaultDraws
	}
	r := Report{Threshold: MinTentative, Draws: draws}
	var evaluators []string
	for _, s := range sessions {
		for _, rt := range s.Ratings {
			if !slices.Contains(evaluators, rt.Evaluator) {
				evaluators = append(evaluators, rt.Evaluator)
			}
		}
	}
	slices.Sort(evaluators)

	for _, c := range criteria {
		cr := CriterionReport{Criterion: c}
		rows := make([][]string, len(evaluators))
		for i, e := range evaluators {
			rows[i] = make([]string, len(sessions))
			for j, s := range sessions {
				if rt, ok := rating(s, e); ok {
					rows[i][j] = c.label(rt.Answers[c.ID])
				}
			}
		}
		cr.Alpha = measure(c.Type, rows, c, opt)
		sums := map[string]*Bias{}
		for _, s := range sessions {
			for _, d := range diffs(s, func(rt Rating) (float64, bool) { return c.number(rt.Answers[c.ID]) }) {
				b := sums[d.Evaluator]
				if b == nil {
					b = &Bias{Evaluator: d.Evaluator}
					sums[d.Evaluator] = b
				}
				b.Bias += d.Bias
				b.Count++
			}
		}
		cr.Bias = means(sums)
		r.Criteria = append(r.Criteria, cr)
	}

	drift := map[string]*Drift{}
	for _, s := range sessions {
		sr := SessionReport{ID: s.ID, At: s.At, Ref: RefConsensus, Evaluators: len(s.Ratings)}
		if _, ok := expert(s); ok {
			sr.Ref = RefExpert
		}
		var es []string
		for _, rt := range s.Ratings {
			es = append(es, rt.Evaluator)
		}
		slices.Sort(es)
		for _, lvl := range []Level{Nominal, Ordinal} {
			var items []ReportCriterion
			for _, c := range criteria {
				if LevelOf(c.Type) == lvl {
					items = append(items, c)
				}
			}
			if len(items) == 0 {
				continue
			}
			rows := make([][]string, len(es))
			for i, e := range es {
				rt, _ := rating(s, e)
				for _, c := range items {
					rows[i] = append(rows[i], c.label(rt.Answers[c.ID]))
				}
			}
			typ := TypeYesNo
			if lvl == Ordinal {
				typ = TypeScale
			}
			a := measure(typ, rows, ReportCriterion{Type: typ}, opt)
			if lvl == Nominal {
				sr.Nominal = &a
			} else {
				sr.Ordinal = &a
			}
		}
		for _, d := range diffs(s, func(rt Rating) (float64, bool) { return rt.Total, rt.HasTotal }) {
			sr.Bias = append(sr.Bias, Bias{Evaluator: d.Evaluator, Bias: d.Bias, Count: 1})
			dr := drift[d.Evaluator]
			if dr == nil {
				dr = &Drift{Evaluator: d.Evaluator}
				drift[d.Evaluator] = dr
			}
			dr.Points = append(dr.Points, DriftPoint{Session: s.ID, At: s.At, Bias: d.Bias})
		}
		slices.SortFunc(sr.Bias, func(a, b Bias) int { return compareStrings(a.Evaluator, b.Evaluator) })
		r.Sessions = append(r.Sessions, sr)
	}
	for _, e := range evaluators {
		dr, ok := drift[e]
		if !ok {
			continue
		}
		dr.Mean, dr.Slope = trend(dr.Points)
		r.Drift = append(r.Drift, *dr)
	}
	return r
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func rating(s ReportSession, evaluator string) (Rating, bool) {
	for _, rt := range s.Ratings {
		if rt.Evaluator == evaluator {
			return rt, true
		}
	}
	return Rating{}, false
}

func expert(s ReportSession) (Rating, bool) {
	for _, rt := range s.Ratings {
		if rt.Expert {
			return rt, true
		}
	}
	return Rating{}, false
}

// diffs are, for one session, each evaluator's value minus the reference's
// (value reads a rating's number, false when missing).
func diffs(s ReportSession, value func(Rating) (float64, bool)) []Bias {
	var out []Bias
	ex, hasExpert := expert(s)
	exV, exOK := 0.0, false
	if hasExpert {
		exV, exOK = value(ex)
	}
	for _, rt := range s.Ratings {
		v, ok := value(rt)
		if !ok {
			continue
		}
		switch {
		case exOK && rt.Expert:
			continue // the reference itself
		case exOK:
			out = append(out, Bias{Evaluator: rt.Evaluator, Bias: v - exV, Count: 1})
		default:
			sum, n := 0.0, 0
			for _, o := range s.Ratings {
				if o.Evaluator == rt.Evaluator {
					continue
				}
				if ov, ok := value(o); ok {
					sum += ov
					n++
				}
			}
			if n > 0 {
				out = append(out, Bias{Evaluator: rt.Evaluator, Bias: v - sum/float64(n), Count: 1})
			}
		}
	}
	return out
}

func means(sums map[string]*Bias) []Bias {
	var out []Bias
	for _, b := range sums {
		out = append(out, Bias{Evaluator: b.Evaluator, Bias: b.Bias / float64(b.Count), Count: b.Count})
	}
	slices.SortFunc(out, func(a, b Bias) int { return compareStrings(a.Evaluator, b.Evaluator) })
	return out
}

// trend is the mean of the points and their least-squares slope per
// session (0 with fewer than two points).
func trend(ps []DriftPoint) (mean, slope float64) {
	n := float64(len(ps))
	if n == 0 {
		return 0, 0
	}
	var sx, sy, sxx, sxy float64
	for i, p := range ps {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+p.Bias, sxx+x*x, sxy+x*p.Bias
	}
	mean = sy / n
	if d := n*sxx - sx*sx; len(ps) >= 2 && d != 0 {
		slope = (n*sxy - sx*sy) / d
	}
	return mean, slope
}

// measure computes α of a rater × item table of labels (nominal) or of
// numbers written as text (ordinal), "" missing.
func measure(typ string, rows [][]string, c ReportCriterion, opt Options) AlphaResult {
	lvl := LevelOf(typ)
	var data [][]float64
	if lvl == Nominal {
		data, _ = Codes(rows)
	} else {
		data = make([][]float64, len(rows))
		for i, row := range rows {
			data[i] = make([]float64, len(row))
			for j, v := range row {
				f, ok := c.number(v)
				if !ok || v == "" {
					f = Missing
				}
				data[i][j] = f
			}
		}
	}
	out := AlphaResult{Level: lvl}
	res, err := Alpha(data, lvl, opt)
	switch {
	case errors.Is(err, ErrTooFewRaters):
		out.Undefined = "one rater"
		return out
	case errors.Is(err, ErrNoPairable):
		out.Undefined = "no pairable answers"
		return out
	case errors.Is(err, ErrNoVariation):
		out.Undefined = "no variation"
	case err != nil:
		out.Undefined = err.Error()
		return out
	default:
		out.Defined = true
		out.Value, out.Low, out.High = res.Alpha, res.CI.Low, res.CI.High
		out.Interval = !math.IsNaN(out.Low) && !math.IsNaN(out.High)
		out.Flagged = res.Alpha < MinTentative
	}
	out.Pairable, out.PairableItems, out.PercentAgreement = res.Pairable, res.PairableItems, res.PercentAgreement
	return out
}
