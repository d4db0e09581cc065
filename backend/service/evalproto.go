package service

import (
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
)

// Conversions between the evaluation values of core and their messages.

var statusName = map[ecoutev1.EvaluationStatus]string{
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT:        domain.EvalDraft,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:    domain.EvalSubmitted,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED: domain.EvalAcknowledged,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:     domain.EvalDisputed,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED:     domain.EvalResolved,
}

var resolutionName = map[ecoutev1.Resolution]string{
	ecoutev1.Resolution_RESOLUTION_KEPT:    domain.ResolutionKept,
	ecoutev1.Resolution_RESOLUTION_REVISED: domain.ResolutionRevised,
}

// evaluationOf converts an evaluation as shown; the guard redacts it per
// role.
func evaluationOf(v core.EvaluationView) *ecoutev1.Evaluation {
	e := v.Evaluation
	pe := &ecoutev1.Evaluation{
		EvaluationId: e.ID, CallId: e.CallID, GridId: e.GridID, GridVersion: int32(e.GridVersion), GridName: e.GridName,
		AgentId: e.AgentID, AgentName: e.AgentName, TeamId: e.TeamID, EvaluatorId: e.EvaluatorID,
		EvaluatorName: e.EvaluatorName, Status: keyOf(statusName, e.Status), Version: e.Version, Comment: e.Comment,
		OverrideReason: e.OverrideReason, CallStartedAt: ts(e.CallStartedAt), CreatedAt: ts(e.CreatedAt),
		UpdatedAt: ts(e.UpdatedAt), SubmittedAt: ts(e.SubmittedAt), RetainedUntil: ts(e.RetainedUntil),
		AcknowledgedAt: ts(e.AcknowledgedAt), DisputedAt: ts(e.DisputedAt), AgentComment: e.AgentComment,
		ResolvedAt: ts(e.ResolvedAt), ResolutionReason: e.ResolutionReason, ResolvedByName: e.ResolvedByName,
		Resolution: keyOf(resolutionName, e.Resolution), RespondUntil: ts(v.RespondUntil), Hits: hitsOf(v.Hits),
	}
	for _, a := range e.Answers {
		pe.Answers = append(pe.Answers, &ecoutev1.Answer{CriterionId: a.CriterionID, Value: a.Value, Comment: a.Comment})
	}
	if v.Scored {
		pe.Score = scoreOf(v.Score)
	} else {
		pe.Score = &ecoutev1.Score{Total: float64(e.TotalTenths) / 10, HasTotal: e.HasTotal, CriticalFailed: e.CriticalFailed}
	}
	return pe
}

func hitsOf(hs []core.Hit) []*ecoutev1.CommentHit {
	var out []*ecoutev1.CommentHit
	for _, h := range hs {
		out = append(out, &ecoutev1.CommentHit{CriterionId: h.CriterionID, Category: h.Category, Start: int32(h.Start),
			End: int32(h.End), Text: h.Text})
	}
	return out
}

func scoreOf(r scoring.Result) *ecoutev1.Score {
	ps := &ecoutev1.Score{Total: r.Total, HasTotal: r.HasTotal, CriticalFailed: r.CriticalFailed,
		CriticalCriteria: r.CriticalCriteria, Answered: int32(r.Answered), Criteria: int32(r.Criteria),
		Complete: r.Complete, Failed: r.Failed, MissingComments: r.MissingComments}
	for _, sr := range r.Sections {
		ps.Sections = append(ps.Sections, &ecoutev1.SectionScore{SectionId: sr.ID, Score: sr.Score, HasScore: sr.HasScore})
	}
	return ps
}

// answersOf converts answers as sent; core checks them against the grid.
func answersOf(in []*ecoutev1.Answer) []grid.Answer {
	out := make([]grid.Answer, len(in))
	for i, a := range in {
		out[i] = grid.Answer{CriterionID: a.GetCriterionId(), Value: a.GetValue(), Comment: a.GetComment()}
	}
	return out
}

var answerTypes = map[string]ecoutev1.AnswerType{
	grid.TypeYesNo:  ecoutev1.AnswerType_ANSWER_TYPE_YES_NO,
	grid.TypeScale:  ecoutev1.AnswerType_ANSWER_TYPE_SCALE,
	grid.TypeChoice: ecoutev1.AnswerType_ANSWER_TYPE_CHOICE,
}

// GridToProto converts a stored grid version.
func GridToProto(r store.GridRecord) *ecoutev1.Grid {
	g := r.Grid
	pg := &ecoutev1.Grid{GridId: g.ID, Version: int32(g.Version), Name: g.Name, Description: g.Description,
		Direction: g.Direction, Used: r.Used, CreatedAt: ts(r.CreatedAt)}
	for _, sec := range g.Sections {
		ps := &ecoutev1.GridSection{SectionId: sec.ID, Title: sec.Title, Weight: sec.Weight}
		for _, c := range sec.Criteria {
			pc := &ecoutev1.Criterion{CriterionId: c.ID, Label: c.Label, Help: c.Help, Type: answerTypes[c.Type],
				Weight: c.Weight, Critical: c.Critical, AllowNa: c.AllowNA, CommentWhenFailed: c.CommentWhenFailed}
			for _, ch := range c.Choices {
				pc.Choices = append(pc.Choices, &ecoutev1.Choice{ChoiceId: ch.ID, Label: ch.Label, Points: ch.Points})
			}
			ps.Criteria = append(ps.Criteria, pc)
		}
		pg.Sections = append(pg.Sections, ps)
	}
	return pg
}

// GridFromProto converts a grid message; core validates it.
func GridFromProto(pg *ecoutev1.Grid) grid.Grid {
	g := grid.Grid{ID: pg.GetGridId(), Name: pg.GetName(), Description: pg.GetDescription(), Direction: pg.GetDirection()}
	for _, ps := range pg.GetSections() {
		sec := grid.Section{ID: ps.GetSectionId(), Title: ps.GetTitle(), Weight: ps.GetWeight()}
		for _, pc := range ps.GetCriteria() {
			c := grid.Criterion{ID: pc.GetCriterionId(), Label: pc.GetLabel(), Help: pc.GetHelp(), Weight: pc.GetWeight(),
				Critical: pc.GetCritical(), AllowNA: pc.GetAllowNa(), CommentWhenFailed: pc.GetCommentWhenFailed()}
			c.Type = keyOf(answerTypes, pc.GetType())
			for _, ch := range pc.GetChoices() {
				c.Choices = append(c.Choices, grid.Choice{ID: ch.GetChoiceId(), Label: ch.GetLabel(), Points: ch.GetPoints()})
			}
			sec.Criteria = append(sec.Criteria, c)
		}
		g.Sections = append(g.Sections, sec)
	}
	return g
}
