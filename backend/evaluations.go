package backend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/lexicon"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/demo"
	"github.com/ecoute/ecoute/internal/demo/grids"
)

// seedGrids loads the demo grids (internal/demo/grids).
func (a *App) seedGrids(ctx context.Context, by string) (map[string]grid.Grid, error) {
	names, files, err := grids.Files()
	if err != nil {
		return nil, err
	}
	byDirection := map[string]grid.Grid{}
	for _, n := range names {
		g, err := grid.ParseYAML(files[n])
		if err != nil {
			return nil, fmt.Errorf("demo grid %s: %w", n, err)
		}
		rec, _, err := a.store.SaveGrid(ctx, g, by, a.cfg.Clock.Now())
		if err != nil {
			return nil, fmt.Errorf("demo grid %s: %w", n, err)
		}
		byDirection[rec.Grid.Direction] = rec.Grid
	}
	return byDirection, nil
}

// Objective wording only (R13): the demo must pass its own comment check.
var (
	demoFailComments = []string{
		"Étape absente de l'échange ; à reprendre en coaching.",
		"Non réalisé : voir l'enregistrement à 00:40.",
		"Réalisé partiellement, sans validation avec le client.",
	}
	demoComments = []string{
		"Échange clair et bien structuré.",
		"Bonne reformulation ; la conclusion peut être plus synthétique.",
		"Appel conforme au script, délai de traitement annoncé.",
		"Solution exacte ; penser à annoncer la mise en attente.",
		"Ton posé, questions pertinentes, récapitulatif complet.",
	}
	demoDisputes = []string{
		"La mise en attente a bien été annoncée, à 01:12 de l'enregistrement.",
		"Le client avait déjà été identifié lors d'un premier appel transféré.",
	}
)

// seedEvaluations gives the demo real evaluations: each call the demo plan
// marks as evaluated gets a submitted evaluation (most acknowledged, a few
// disputed), so the calls' evaluated flag comes from evaluations.
func (a *App) seedEvaluations(ctx context.Context, plan []demo.Call, calls []store.NewCall) error {
	sup, err := a.store.UserByLogin(ctx, "demo-supervisor")
	if err != nil {
		return fmt.Errorf("demo evaluations: %w", err)
	}
	byDirection, err := a.seedGrids(ctx, sup.ID)
	if err != nil {
		return err
	}
	lex := lexicon.Default()
	now := a.cfg.Clock.Now()
	r := rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x6576616c))
	var out []store.Evaluation
	for i, pc := range plan {
		if !pc.Evaluated || i >= len(calls) {
			continue
		}
		c := calls[i].Call
		g, ok := byDirection[c.Direction]
		if !ok {
			continue
		}
		answers := demoAnswers(r, g)
		res, err := scoring.Score(g, byCriterionID(answers))
		if err != nil {
			return fmt.Errorf("demo evaluation of %s: %w", c.ID, err)
		}
		// UTC: a year later in Paris time could be an hour off across a
		// daylight-saving change.
		created := c.EndedAt.UTC().Add(time.Duration(2+r.IntN(40)) * time.Hour)
		if created.After(now) {
			created = now.UTC().Add(-time.Hour)
		}
		comment := demoComments[r.IntN(len(demoComments))]
		if hits := lex.Check(comment); len(hits) > 0 {
			return fmt.Errorf("demo comment %q flagged (%s)", comment, hits[0].Category)
		}
		e := store.Evaluation{ID: core.NewID(), CallID: c.ID, CallStartedAt: c.StartedAt, GridID: g.ID,
			GridVersion: g.Version, AgentID: c.AgentID, TeamID: c.TeamID, EvaluatorID: sup.ID,
			Status: store.EvalSubmitted, Version: 1, Answers: answers, Comment: comment,
			TotalTenths: int64(res.Total*10 + 0.5), HasTotal: res.HasTotal, CriticalFailed: res.CriticalFailed,
			CreatedAt: created, UpdatedAt: created.Add(20 * time.Minute), SubmittedAt: created.Add(20 * time.Minute),
			RetainedUntil: config.EvaluationKeptUntil(created)}
		answered := e.SubmittedAt.Add(time.Duration(4+r.IntN(48)) * time.Hour)
		if !answered.After(now) { // else too recent: still waiting for the agent
			switch x := r.Float64(); {
			case x < 0.12:
				e.Status, e.DisputedAt, e.AgentComment = store.EvalDisputed, answered, demoDisputes[r.IntN(len(demoDisputes))]
				e.UpdatedAt = answered
			case x < 0.75:
				e.Status, e.AcknowledgedAt, e.UpdatedAt = store.EvalAcknowledged, answered, answered
			}
		}
		out = append(out, e)
	}
	if err := a.store.CreateEvaluations(ctx, out); err != nil {
		return fmt.Errorf("demo evaluations: %w", err)
	}
	return nil
}

func byCriterionID(as []grid.Answer) map[string]grid.Answer {
	m := make(map[string]grid.Answer, len(as))
	for _, x := range as {
		m[x.CriterionID] = x
	}
	return m
}

// demoAnswers answers every criterion, mostly well, with the comments a
// failure requires.
func demoAnswers(r *rand.Rand, g grid.Grid) []grid.Answer {
	var out []grid.Answer
	for _, s := range g.Sections {
		for _, c := range s.Criteria {
			a := grid.Answer{CriterionID: c.ID}
			fail := r.Float64() < 0.08
			if c.Critical {
				fail = r.Float64() < 0.03
			}
			switch {
			case c.AllowNA && r.Float64() < 0.15:
				a.Value = grid.NA
			case c.Type == grid.TypeYesNo && fail:
				a.Value = grid.No
			case c.Type == grid.TypeYesNo:
				a.Value = grid.Yes
			case c.Type == grid.TypeScale && fail:
				a.Value = fmt.Sprint(1 + r.IntN(grid.ScaleFailAt))
			case c.Type == grid.TypeScale:
				a.Value = fmt.Sprint(grid.ScaleFailAt + 1 + r.IntN(grid.ScaleMax-grid.ScaleFailAt))
			case c.Type == grid.TypeChoice && fail:
				for _, ch := range c.Choices {
					if ch.Points == 0 {
						a.Value = ch.ID
					}
				}
			default:
				best := c.Choices[0]
				for _, ch := range c.Choices {
					if ch.Points > best.Points {
						best = ch
					}
				}
				a.Value = best.ID
			}
			if a.Value == "" {
				a.Value = c.Choices[0].ID
			}
			if a.Value != grid.NA && c.Failed(a.Value) {
				a.Comment = demoFailComments[r.IntN(len(demoFailComments))]
			}
			out = append(out, a)
		}
	}
	return out
}
