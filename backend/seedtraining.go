package backend

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/demo"
)

// The demo's training data (issue 13), so that `ecoute demo --as trainer`
// shows it: a shared coaching session with the demo agent (a goal, an
// evaluation, a clip whose call has screen captures) waiting for their
// acknowledgement, a draft session with an agent of the support team, and
// blind calibrations of the demo supervisor, the trainer and an expert: a
// few closed ones for the report and the drift, and an open one the
// trainer has not scored yet.

// demoExpert is the quality manager who is the calibrations' expert. The
// account is made with a password nobody is given: it exists to be named.
var demoExpert = NewUser{Login: "demo-expert", FirstName: "Sophie", LastName: "Marchal", Role: store.RoleSupervisor,
	TeamIDs: []string{"team-energie"}}

// Demo coaching texts: objective wording only (R13).
const (
	demoSessionTitle = "Reformulation et prise de congé"
	demoSessionNotes = "Points forts : accueil complet, ton posé.\n" +
		"À travailler : reformuler le motif avant de chercher la solution, et récapituler avant de conclure.\n" +
		"Réécouter l'extrait : la solution arrive avant que le besoin soit validé."
	demoClipNote    = "Le motif n'est pas reformulé : la solution est proposée trop tôt."
	demoDraftTitle  = "Mise en attente annoncée"
	demoDraftNote   = "Exemple de mise en attente bien annoncée, à réutiliser."
	demoCaptureSpan = 3 * time.Minute
)

func (a *App) seedTraining(ctx context.Context, calls []store.NewCall) error {
	trainer, err := a.store.UserByLogin(ctx, "demo-trainer")
	if err != nil {
		return fmt.Errorf("demo training: %w", err)
	}
	sup, err := a.store.UserByLogin(ctx, "demo-supervisor")
	if err != nil {
		return fmt.Errorf("demo training: %w", err)
	}
	expert := demoExpert
	expert.Password = auth.GeneratePassword()
	if err := a.AddUser(ctx, expert); err != nil {
		return fmt.Errorf("demo expert: %w", err)
	}
	exp, err := a.store.UserByLogin(ctx, expert.Login)
	if err != nil {
		return err
	}
	now := a.cfg.Clock.Now().UTC()
	byAgent := func(agent string) []store.Call {
		var out []store.Call
		for _, nc := range calls {
			if nc.Call.AgentID == agent && nc.Call.Audio.Duration >= time.Minute {
				out = append(out, nc.Call)
			}
		}
		slices.SortFunc(out, func(x, y store.Call) int { return y.StartedAt.Compare(x.StartedAt) })
		return out
	}
	b := a.seedBlobs()
	mine := byAgent("agent-01")
	if len(mine) < 2 {
		return errors.New("demo training: the demo agent has too few calls")
	}
	for i, c := range mine[:2] {
		if err := a.seedCaptures(ctx, b, c, uint64(i+1), now); err != nil {
			return err
		}
	}
	rec, err := a.store.GetGrid(ctx, "inbound-service", 0)
	if err != nil {
		return fmt.Errorf("demo training: %w", err)
	}

	// A session shared with the demo agent, two days ago.
	at := now.Add(-50 * time.Hour)
	s := store.CoachingSession{ID: core.NewID(), TrainerID: trainer.ID, AgentID: "agent-01", TeamID: mine[0].TeamID,
		Title: demoSessionTitle, Status: store.CoachingDraft, Version: 1, CreatedAt: at, UpdatedAt: at,
		RetainedUntil: config.AnalysisKeptUntil(at)}
	if err := a.store.CreateCoachingSession(ctx, s); err != nil {
		return err
	}
	v := s.Version
	saved, err := a.store.AddCoachingGoal(ctx, store.CoachingGoal{ID: core.NewID(), SessionID: s.ID, GridID: rec.Grid.ID,
		GridVersion: rec.Grid.Version, CriterionID: "reason-rephrased", Target: 80, DueAt: store.DayOf(now).AddDate(0, 0, 30),
		CreatedAt: at}, at, v)
	if err != nil {
		return err
	}
	clipAt := at.Add(10 * time.Minute)
	if saved, err = a.store.AddCoachingItem(ctx, store.CoachingItem{ID: core.NewID(), SessionID: s.ID, Kind: store.ItemClip,
		CallID: mine[0].ID, From: 15 * time.Second, To: 50 * time.Second, Note: demoClipNote, CreatedAt: clipAt},
		clipAt, saved.Version); err != nil {
		return err
	}
	evs, err := a.store.ListEvaluations(ctx, store.EvalQuery{Scope: store.EvalScope{Scope: store.Scope{AgentIDs: []string{"agent-01"}}},
		Limit: 1})
	if err != nil {
		return err
	}
	if len(evs) == 1 {
		if saved, err = a.store.AddCoachingItem(ctx, store.CoachingItem{ID: core.NewID(), SessionID: s.ID,
			Kind: store.ItemEvaluation, CallID: evs[0].CallID, EvaluationID: evs[0].ID, CreatedAt: clipAt}, clipAt,
			saved.Version); err != nil {
			return err
		}
	}
	shared := at.Add(30 * time.Minute)
	saved.Notes, saved.Status, saved.SharedAt, saved.UpdatedAt = demoSessionNotes, store.CoachingShared, shared, shared
	if _, err := a.store.UpdateCoachingSession(ctx, saved, saved.Version); err != nil {
		return err
	}

	// A draft with an agent of the support team.
	if support := byAgent("agent-03"); len(support) > 0 {
		at := now.Add(-3 * time.Hour)
		d := store.CoachingSession{ID: core.NewID(), TrainerID: trainer.ID, AgentID: "agent-03", TeamID: support[0].TeamID,
			Title: demoDraftTitle, Status: store.CoachingDraft, Version: 1, CreatedAt: at, UpdatedAt: at,
			RetainedUntil: config.AnalysisKeptUntil(at)}
		if err := a.store.CreateCoachingSession(ctx, d); err != nil {
			return err
		}
		if err := a.seedCaptures(ctx, b, support[0], 7, now); err != nil {
			return err
		}
		if _, err := a.store.AddCoachingItem(ctx, store.CoachingItem{ID: core.NewID(), SessionID: d.ID, Kind: store.ItemClip,
			CallID: support[0].ID, From: 0, To: 30 * time.Second, Note: demoDraftNote, CreatedAt: at}, at, 1); err != nil {
			return err
		}
	}
	return a.seedCalibrations(ctx, calls, rec.Grid, []store.User{exp, sup, trainer}, now)
}

// seedCaptures stores a capture every demo.ScreenEvery over the first
// minutes of a call, in one blob, as an upload would.
func (a *App) seedCaptures(ctx context.Context, b blobs.Store, c store.Call, seed uint64, now time.Time) error {
	key := core.CaptureKey(c.ID, core.NewID())
	p, err := b.Create(key)
	if err != nil {
		return err
	}
	defer p.Discard()
	var caps []store.Capture
	for at := time.Duration(0); at < min(c.Audio.Duration, demoCaptureSpan); at += demo.ScreenEvery {
		img := demo.Screen(seed, at, c.Audio.Duration)
		caps = append(caps, store.Capture{ID: core.NewID(), CallID: c.ID, Offset: at, Format: "png",
			Width: demo.ScreenWidth, Height: demo.ScreenHeight, BlobKey: key, BlobOffset: p.Size(), Size: int64(len(img)),
			CreatedAt: now})
		if _, err := p.Write(img); err != nil {
			return err
		}
	}
	if err := p.Close(); err != nil {
		return err
	}
	if err := p.Commit(ctx); err != nil {
		return err
	}
	_, _, err = a.store.InsertCaptures(ctx, caps)
	return err
}

// seedCalibrations makes three closed calibrations a week apart and an
// open one, on inbound calls of the supervisor's teams, scored by the
// expert, the supervisor and the trainer (who drifts toward leniency).
func (a *App) seedCalibrations(ctx context.Context, calls []store.NewCall, g grid.Grid, who []store.User, now time.Time) error {
	var pool []store.Call
	for _, nc := range calls {
		c := nc.Call
		if c.Direction == grid.DirectionInbound && c.TeamID == "team-energie" && c.Audio.Duration >= time.Minute {
			pool = append(pool, c)
		}
	}
	if len(pool) < 4 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x63616c69))
	exp, sup, trainer := who[0], who[1], who[2]
	for n, days := range []int{22, 15, 8, 1} {
		at := now.Add(-time.Duration(days) * 24 * time.Hour)
		call := pool[(n*7)%len(pool)]
		cal := store.Calibration{ID: core.NewID(), CallID: call.ID, CallStartedAt: call.StartedAt,
			CallDuration: call.Audio.Duration, Direction: call.Direction, GridID: g.ID, GridVersion: g.Version,
			CreatedBy: sup.ID, ExpertID: exp.ID, Status: store.CalibrationClosed, CreatedAt: at,
			ClosedAt: at.Add(26 * time.Hour), RetainedUntil: config.AnalysisKeptUntil(at)}
		open := days == 1
		if open {
			cal.Status, cal.ClosedAt = store.CalibrationOpen, time.Time{}
		}
		reference := demoAnswers(r, g)
		for i, u := range []store.User{exp, sup, trainer} {
			answers := slices.Clone(reference)
			// The supervisor departs here and there; the trainer, more
			// and more leniently.
			switch i {
			case 1:
				answers = perturb(r, g, answers, 0.12, 0)
			case 2:
				answers = perturb(r, g, answers, 0.10, 0.12*float64(n+1))
			}
			sc := store.CalibrationScore{ID: core.NewID(), CalibrationID: cal.ID, EvaluatorID: u.ID, Version: 2,
				UpdatedAt: at.Add(time.Duration(2+i) * time.Hour)}
			if !(open && u.ID == trainer.ID) {
				res, err := scoring.Score(g, byCriterionID(answers))
				if err != nil {
					return fmt.Errorf("demo calibration: %w", err)
				}
				sc.Answers, sc.TotalTenths, sc.HasTotal = answers, int64(res.Total*10+0.5), res.HasTotal
				sc.SubmittedAt = sc.UpdatedAt
			}
			cal.Scores = append(cal.Scores, sc)
		}
		if err := a.store.CreateCalibration(ctx, cal); err != nil {
			return fmt.Errorf("demo calibration: %w", err)
		}
	}
	return nil
}

// perturb changes some answers: at random with probability p, and toward
// a better answer with probability lenient.
func perturb(r *rand.Rand, g grid.Grid, in []grid.Answer, p, lenient float64) []grid.Answer {
	out := slices.Clone(in)
	for i, a := range out {
		c, ok := g.Criterion(a.CriterionID)
		if !ok || a.Value == grid.NA {
			continue
		}
		x := r.Float64()
		up := x < lenient
		if !up && x >= lenient+p {
			continue
		}
		switch c.Type {
		case grid.TypeYesNo:
			if up {
				a.Value = grid.Yes
			} else if a.Value == grid.Yes {
				a.Value = grid.No
			} else {
				a.Value = grid.Yes
			}
		case grid.TypeScale:
			v, _ := strconv.Atoi(a.Value)
			if up {
				v++
			} else {
				v += []int{-1, 1}[r.IntN(2)]
			}
			a.Value = strconv.Itoa(max(grid.ScaleMin, min(grid.ScaleMax, v)))
		case grid.TypeChoice:
			if up {
				best := c.Choices[0]
				for _, ch := range c.Choices {
					if ch.Points > best.Points {
						best = ch
					}
				}
				a.Value = best.ID
			} else {
				a.Value = c.Choices[r.IntN(len(c.Choices))].ID
			}
		}
		a.Comment = ""
		if c.Failed(a.Value) {
			a.Comment = demoFailComments[r.IntN(len(demoFailComments))]
		}
		out[i] = a
	}
	return out
}
