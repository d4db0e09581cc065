package backend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/demo"
)

// The statistics' part of the demo (issue 17): a fourth team and a second
// campaign of Azur Énergie, five months of evaluation history and of
// activity figures for every agent, a few calibration evaluations (which
// never count), and the demo client linked to Azur Énergie. Every role's
// dashboard then has something to show, and the client's monthly table
// has published cells and hidden ones, with their reasons (teams of 4
// agents are below the 5 the client tables need).
var (
	statsTeam      = store.Team{ID: "team-relation", Name: "Équipe Relation clients"}
	statsCampaign  = store.Campaign{ID: "camp-azur-pro", Name: "Azur Énergie — professionnels", ClientName: "Azur Énergie"}
	statsAgents    = []string{"Léo Garnier", "Zoé Marchal", "Adam Benoît", "Lina Carré", "Nathan Roy", "Jade Colin"}
	demoClientFirm = "Azur Énergie"
	// HistoryMonths is how many whole months before the current one the
	// demo's statistics cover: five, so that no history evaluation reaches
	// its year of retention within six months of the demo's start.
	HistoryMonths = 5
)

// campaignsOf is which campaigns each team's agents work on in the history.
var campaignsOf = map[string][]string{
	"team-energie":  {"camp-azur", "camp-azur-pro"},
	"team-banque":   {"camp-opinion", "camp-azur"},
	"team-support":  {"camp-azur", "camp-opinion"},
	"team-relation": {"camp-azur-pro", "camp-azur"},
}

func (a *App) seedStatistics(ctx context.Context, ds *demo.Dataset) error {
	now := a.cfg.Clock.Now().UTC()
	start := now.AddDate(0, -HistoryMonths-1, 0)
	statsTeam.CreatedAt, statsCampaign.CreatedAt = start, start
	if err := a.store.CreateTeam(ctx, statsTeam); err != nil {
		return fmt.Errorf("demo statistics: %w", err)
	}
	if err := a.store.CreateCampaign(ctx, statsCampaign); err != nil {
		return fmt.Errorf("demo statistics: %w", err)
	}
	type member struct{ id, team string }
	var agents []member
	for _, ag := range ds.Agents {
		agents = append(agents, member{ag.ID, ag.TeamID})
	}
	for i, n := range statsAgents {
		id := fmt.Sprintf("agent-%02d", len(ds.Agents)+i+1)
		if err := a.store.CreateAgent(ctx, store.Agent{ID: id, Name: n, TeamID: statsTeam.ID, CreatedAt: start}); err != nil {
			return fmt.Errorf("demo statistics: %w", err)
		}
		agents = append(agents, member{id, statsTeam.ID})
	}
	if err := a.core.LinkClientCompany(ctx, core.Local(), "demo-client", demoClientFirm); err != nil {
		return fmt.Errorf("demo statistics: %w", err)
	}
	sup, err := a.store.UserByLogin(ctx, "demo-supervisor")
	if err != nil {
		return fmt.Errorf("demo statistics: %w", err)
	}
	recs, err := a.store.ListGrids(ctx)
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("demo statistics: no grid: %v", err)
	}
	r := rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x73746174))
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -HistoryMonths, 0)
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC) // history stops where the recorded demo begins
	var evals []store.Evaluation
	var acts []store.ActivityInterval
	for k, m := range agents {
		skill := 0.03 + 0.1*r.Float64() // how often this agent fails a criterion
		camps := campaignsOf[m.team]
		for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
			if d.Weekday() == time.Sunday {
				continue
			}
			camp := camps[(d.Day()+k)%len(camps)]
			// About 10 evaluations a month per agent.
			if r.Float64() < 0.4 {
				rec := recs[r.IntN(len(recs))]
				at := d.Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
				answers := historyAnswers(r, rec.Grid, skill)
				res, err := scoring.Score(rec.Grid, byCriterionID(answers))
				if err != nil {
					return fmt.Errorf("demo history: %w", err)
				}
				kind := store.KindNormal
				if r.Float64() < 0.03 {
					kind = store.KindCalibration
				}
				created := at.Add(26 * time.Hour)
				evals = append(evals, store.Evaluation{ID: core.NewID(), CallID: "history-" + core.NewID(),
					CallStartedAt: at, GridID: rec.Grid.ID, GridVersion: rec.Grid.Version, AgentID: m.id, TeamID: m.team,
					CampaignID: camp, Kind: kind, EvaluatorID: sup.ID, Status: store.EvalAcknowledged, Version: 1,
					Answers: answers, TotalTenths: int64(res.Total*10 + 0.5), HasTotal: res.HasTotal,
					CriticalFailed: res.CriticalFailed, CreatedAt: created, UpdatedAt: created, SubmittedAt: created,
					AcknowledgedAt: created.Add(20 * time.Hour), RetainedUntil: config.EvaluationKeptUntil(created)})
			}
			// Two-hour intervals from 9:00 to 17:00.
			for h := 9; h < 17; h += 2 {
				at := d.Add(time.Duration(h) * time.Hour)
				handled := int64(8 + r.IntN(14))
				typ := "entrant"
				if camp == "camp-opinion" {
					typ = "sortant"
				}
				talk := time.Duration(handled) * time.Duration(150+r.IntN(120)) * time.Second
				acts = append(acts, store.ActivityInterval{AgentID: m.id, TeamID: m.team, CampaignID: camp, ActivityType: typ,
					StartedAt: at, EndedAt: at.Add(2 * time.Hour), Handled: handled, Lost: int64(r.IntN(3)),
					Talk: min(talk, 100*time.Minute), BackOffice: time.Duration(handled) * 40 * time.Second,
					Ring: time.Duration(handled) * time.Duration(5+r.IntN(20)) * time.Second, ImportedAt: now})
			}
		}
	}
	if err := a.store.CreateEvaluations(ctx, evals); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	if err := a.store.PutActivity(ctx, acts); err != nil {
		return fmt.Errorf("demo activity: %w", err)
	}
	return nil
}

// historyAnswers answers every criterion, failing each with probability
// fail (critical ones rarely), with the comments a failure requires.
func historyAnswers(r *rand.Rand, g grid.Grid, fail float64) []grid.Answer {
	var out []grid.Answer
	for _, s := range g.Sections {
		for _, c := range s.Criteria {
			a := grid.Answer{CriterionID: c.ID}
			bad := r.Float64() < fail
			if c.Critical {
				bad = r.Float64() < fail/6
			}
			switch c.Type {
			case grid.TypeYesNo:
				a.Value = grid.Yes
				if bad {
					a.Value = grid.No
				}
			case grid.TypeScale:
				a.Value = fmt.Sprint(3 + r.IntN(3))
				if bad {
					a.Value = fmt.Sprint(1 + r.IntN(2))
				}
			case grid.TypeChoice:
				best, worst := c.Choices[0], c.Choices[0]
				for _, ch := range c.Choices {
					if ch.Points > best.Points {
						best = ch
					}
					if ch.Points < worst.Points {
						worst = ch
					}
				}
				a.Value = best.ID
				if bad {
					a.Value = worst.ID
				}
			}
			if c.Failed(a.Value) {
				a.Comment = "Point à retravailler avec le superviseur."
			}
			out = append(out, a)
		}
	}
	return out
}
