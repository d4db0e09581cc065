package core

import (
	"context"
	"strconv"
	"strings"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/lexicon"
	"github.com/ecoute/ecoute/backend/limits"
)

// MaxCommentLen bounds every free-text field of an evaluation, in bytes.
const MaxCommentLen = 4000

// Hit is a flagged term of an evaluation's comments (R13): in the comment
// of a criterion, or in the overall comment (CriterionID "").
type Hit struct {
	CriterionID string
	lexicon.Hit
}

// CheckComment runs the R13 check on a text.
func (b *Backend) CheckComment(_ context.Context, text string) ([]Hit, error) {
	if err := maxLen("text", text); err != nil {
		return nil, err
	}
	return b.hits(nil, text), nil
}

// maxLen checks free text: at most MaxCommentLen bytes, no control
// characters but line breaks and tabs (backend/limits).
func maxLen(field, text string) error {
	if len(text) > MaxCommentLen {
		return domain.Invalid(field, "longer than %d bytes", MaxCommentLen)
	}
	return limits.Text(field, text, MaxCommentLen)
}

// hits runs the R13 check over every comment of an evaluation.
func (b *Backend) hits(answers []grid.Answer, comment string) []Hit {
	var out []Hit
	add := func(crit, text string) {
		for _, h := range b.Lexicon.Check(text) {
			out = append(out, Hit{CriterionID: crit, Hit: h})
		}
	}
	for _, a := range answers {
		add(a.CriterionID, a.Comment)
	}
	add("", comment)
	return out
}

// categories lists the categories of hits, each once, in order.
func categories(hits []Hit) string {
	var cats []string
	seen := map[string]bool{}
	for _, h := range hits {
		if !seen[h.Category] {
			seen[h.Category] = true
			cats = append(cats, h.Category)
		}
	}
	return strings.Join(cats, ", ")
}

// checkAnswers checks answers against the grid: known criteria, once each,
// accepted values, bounded comments; unanswered ones without comment are
// dropped. It returns them, also by criterion id.
func checkAnswers(g grid.Grid, in []grid.Answer) ([]grid.Answer, map[string]grid.Answer, error) {
	if n := g.CriterionCount(); len(in) > n {
		return nil, nil, domain.Invalid("answers", "%d answers for the %d criteria of grid %s v%d", len(in), n, g.ID, g.Version)
	}
	out := make([]grid.Answer, 0, len(in))
	byID := map[string]grid.Answer{}
	for i, a := range in {
		if err := limits.Line(field("answers", i, "criterion_id"), a.CriterionID, limits.MaxID); err != nil {
			return nil, nil, err
		}
		if err := limits.Line(field("answers", i, "value"), a.Value, limits.MaxID); err != nil {
			return nil, nil, err
		}
		c, ok := g.Criterion(a.CriterionID)
		if !ok {
			return nil, nil, domain.Invalid(field("answers", i, "criterion_id"), "%q is not in grid %s v%d",
				a.CriterionID, g.ID, g.Version)
		}
		if _, dup := byID[c.ID]; dup {
			return nil, nil, domain.Invalid(field("answers", i, "criterion_id"), "%q answered twice", c.ID)
		}
		if err := c.CheckValue(a.Value); err != nil {
			return nil, nil, domain.Invalid(field("answers", i, "value"), "%v", err)
		}
		if err := maxLen(field("answers", i, "comment"), a.Comment); err != nil {
			return nil, nil, err
		}
		ga := grid.Answer{CriterionID: c.ID, Value: a.Value, Comment: strings.TrimSpace(a.Comment)}
		if ga.Value == "" && ga.Comment == "" {
			continue
		}
		out = append(out, ga)
		byID[c.ID] = ga
	}
	return out, byID, nil
}

func field(list string, i int, name string) string {
	return list + "[" + strconv.Itoa(i) + "]." + name
}

func byCriterion(as []grid.Answer) map[string]grid.Answer {
	m := make(map[string]grid.Answer, len(as))
	for _, a := range as {
		m[a.CriterionID] = a
	}
	return m
}
