// Package scoring computes an evaluation's total from a grid and answers.
//
// The rule, in order:
//
//  1. Each answered criterion gets a fraction of its weight: yes = 1, no = 0;
//     scale v (1..5) = (v−1)/4; choice = its points / the best choice's points.
//  2. N/A removes the criterion from its section's denominator. Unanswered
//     criteria count nowhere (the live total of a draft covers what has been
//     answered); Complete says whether every criterion is answered.
//  3. A section's score is Σ(weight × fraction) / Σ(weight) over its counted
//     criteria. A section with no counted criterion leaves the total's
//     denominator too.
//  4. The total is Σ(section weight × section score) / Σ(section weight) over
//     counted sections, as a percentage.
//  5. Any critical criterion failed (grid.Criterion.Failed) sets the total to
//     0 and sets CriticalFailed.
//  6. Rounding: computed exactly in rational numbers (weights are read as the
//     decimals they were written as), then rounded once, half away from zero,
//     to one decimal place: 82.25 → 82.3, 82.24 → 82.2. Section scores are
//     rounded the same way; the total is not computed from rounded sections.
package scoring

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/ecoute/ecoute/backend/grid"
)

// Result is a scored evaluation.
type Result struct {
	Total          float64 // 0..100, one decimal
	HasTotal       bool    // false while nothing countable is answered
	CriticalFailed bool
	// CriticalCriteria are the ids of the critical criteria failed.
	CriticalCriteria []string
	Sections         []SectionResult
	Answered         int
	Criteria         int
	Complete         bool
	// Failed are the criteria whose answer is a failure.
	Failed []string
	// MissingComments are failed criteria that require a comment and have
	// none.
	MissingComments []string
}

// SectionResult is one section's score.
type SectionResult struct {
	ID       string
	Score    float64 // 0..100, one decimal
	HasScore bool
}

// Score applies the rule to answers (by criterion id). It fails on an answer
// to an unknown criterion or a value the criterion does not accept.
func Score(g grid.Grid, answers map[string]grid.Answer) (Result, error) {
	for id, a := range answers {
		c, ok := g.Criterion(id)
		if !ok {
			return Result{}, fmt.Errorf("answer to unknown criterion %q", id)
		}
		if err := c.CheckValue(a.Value); err != nil {
			return Result{}, err
		}
	}
	res := Result{Criteria: g.CriterionCount()}
	totNum, totDen := new(big.Rat), new(big.Rat)
	for _, s := range g.Sections {
		num, den := new(big.Rat), new(big.Rat)
		for _, c := range s.Criteria {
			a := answers[c.ID]
			if a.Value == "" {
				continue
			}
			res.Answered++
			if a.Value == grid.NA {
				continue
			}
			if c.Failed(a.Value) {
				res.Failed = append(res.Failed, c.ID)
				if c.Critical {
					res.CriticalFailed = true
					res.CriticalCriteria = append(res.CriticalCriteria, c.ID)
				}
				if c.CommentWhenFailed && a.Comment == "" {
					res.MissingComments = append(res.MissingComments, c.ID)
				}
			}
			w := decimal(c.Weight)
			num.Add(num, new(big.Rat).Mul(w, fraction(c, a.Value)))
			den.Add(den, w)
		}
		sr := SectionResult{ID: s.ID}
		if den.Sign() > 0 {
			score := new(big.Rat).Quo(num, den)
			sr.Score, sr.HasScore = percent(score), true
			sw := decimal(s.Weight)
			totNum.Add(totNum, new(big.Rat).Mul(sw, score))
			totDen.Add(totDen, sw)
		}
		res.Sections = append(res.Sections, sr)
	}
	res.Complete = res.Answered == res.Criteria
	if totDen.Sign() > 0 {
		res.Total, res.HasTotal = percent(new(big.Rat).Quo(totNum, totDen)), true
	}
	if res.CriticalFailed {
		res.Total, res.HasTotal = 0, true
	}
	return res, nil
}

// fraction is the share of the criterion's weight an answer earns.
func fraction(c grid.Criterion, v string) *big.Rat {
	switch c.Type {
	case grid.TypeYesNo:
		if v == grid.Yes {
			return big.NewRat(1, 1)
		}
	case grid.TypeScale:
		n, _ := strconv.Atoi(v)
		return big.NewRat(int64(n-grid.ScaleMin), grid.ScaleMax-grid.ScaleMin)
	case grid.TypeChoice:
		ch, _ := c.Choice(v)
		best := c.MaxPoints()
		if best > 0 {
			return new(big.Rat).Quo(decimal(ch.Points), decimal(best))
		}
	}
	return new(big.Rat)
}

// decimal reads a float as the shortest decimal that prints it, so a weight
// written 0.1 is exactly one tenth, not its binary approximation.
func decimal(f float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'f', -1, 64))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// percent turns a 0..1 ratio into a percentage rounded half away from zero
// to one decimal.
func percent(r *big.Rat) float64 {
	tenths := new(big.Rat).Mul(r, big.NewRat(1000, 1))
	n := RoundHalfAway(tenths)
	return float64(n) / 10
}

// RoundHalfAway rounds r to the nearest integer, halves away from zero.
func RoundHalfAway(r *big.Rat) int64 {
	num, den := new(big.Int).Abs(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q.Int64()
}
