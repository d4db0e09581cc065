package core

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
)

// Blind calibration: a supervisor or trainer names several evaluators
// (supervisors or trainers), and optionally an expert among them, to score
// the same call on the same grid. Each scores without seeing the others'
// scores until their own is submitted, and without being told whose call
// it is: a calibration's view never carries the call's id, agent or team,
// and its audio is heard through the calibration (CalibrationCall). The
// scores are kept apart from evaluations (their own table): they never
// reach the agent, the agent's statistics or the client role. A
// calibration is an analysis document, deleted a year after its creation.

// Audit actions of calibrations.
const (
	ActionCalibrationCreate = "calibration.create"
	ActionCalibrationSave   = "calibration.save"
	ActionCalibrationSubmit = "calibration.submit"
	ActionCalibrationClose  = "calibration.close"
	ActionCalibrationExport = "calibration.export"
)

// Bounds of a calibration.
const (
	MinCalibrationEvaluators = 2
	MaxCalibrationEvaluators = 20
)

// CalibrationView is a calibration as its reader may see it.
type CalibrationView struct {
	Calibration    store.Calibration
	Grid           store.GridRecord
	AudioAvailable bool
	// Mine is the caller's own score (nil when the caller is not an
	// evaluator); Others are the other submitted scores, when the caller
	// may see them (see visibleScores).
	Mine   *ScoreView
	Others []ScoreView
}

// ScoreView is a score with its computed result and flagged terms.
type ScoreView struct {
	Score  store.CalibrationScore
	Expert bool
	Result scoring.Result
	Hits   []Hit
}

// Submitted tells whether the score is submitted.
func (s ScoreView) Submitted() bool { return !s.Score.SubmittedAt.IsZero() }

func (b *Backend) isEvaluatorRole(role string) bool {
	return role == domain.RoleSupervisor || role == domain.RoleTrainer
}

// calibration reads a calibration the caller created or is named in; any
// other is "not found".
func (b *Backend) calibration(ctx context.Context, c Caller, id string) (store.Calibration, error) {
	if id == "" {
		return store.Calibration{}, domain.Invalid("calibration_id", "is required")
	}
	if err := limits.ID("calibration_id", id); err != nil {
		return store.Calibration{}, err
	}
	cal, err := b.Store.GetCalibration(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return cal, domain.NotFound("calibration %s not found", id)
	case err != nil:
		return cal, domain.Internal("get calibration", err)
	case !b.isEvaluatorRole(c.User.Role):
		return store.Calibration{}, domain.NotFound("calibration %s not found", id)
	case cal.CreatedBy == c.User.ID:
		return cal, nil
	}
	if _, ok := scoreOf(cal, c.User.ID); ok {
		return cal, nil
	}
	return store.Calibration{}, domain.NotFound("calibration %s not found", id)
}

func scoreOf(cal store.Calibration, user string) (store.CalibrationScore, bool) {
	for _, sc := range cal.Scores {
		if sc.EvaluatorID == user {
			return sc, true
		}
	}
	return store.CalibrationScore{}, false
}

// seesScores tells whether user may see the others' submitted scores: once
// their own is submitted, once the calibration is closed, or as its
// creator when not one of its evaluators (who scores nothing, so has
// nothing to be biased in).
func seesScores(cal store.Calibration, user string) bool {
	if cal.Status == store.CalibrationClosed {
		return true
	}
	mine, ok := scoreOf(cal, user)
	if !ok {
		return cal.CreatedBy == user
	}
	return !mine.SubmittedAt.IsZero()
}

func (b *Backend) calibrationView(ctx context.Context, c Caller, cal store.Calibration) (CalibrationView, error) {
	rec, err := b.grid(ctx, cal.GridID, cal.GridVersion)
	if err != nil {
		return CalibrationView{}, err
	}
	v := CalibrationView{Calibration: cal, Grid: rec}
	if _, err := b.Store.GetCall(ctx, cal.CallID, domain.Scope{All: true}); err == nil {
		v.AudioAvailable = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return CalibrationView{}, domain.Internal("get call", err)
	}
	see := seesScores(cal, c.User.ID)
	for _, sc := range cal.Scores {
		sv := ScoreView{Score: sc, Expert: sc.EvaluatorID == cal.ExpertID, Hits: b.hits(sc.Answers, sc.Comment)}
		if r, err := scoring.Score(rec.Grid, byCriterion(sc.Answers)); err == nil {
			sv.Result = r
		}
		switch {
		case sc.EvaluatorID == c.User.ID:
			v.Mine = &sv
		case see && sv.Submitted():
			sv.Score.OverrideReason = ""
			v.Others = append(v.Others, sv)
		}
	}
	// Who has submitted is shown to everyone; what they scored is not.
	v.Calibration.Scores = nil
	for _, sc := range cal.Scores {
		v.Calibration.Scores = append(v.Calibration.Scores, store.CalibrationScore{ID: sc.ID, CalibrationID: sc.CalibrationID,
			EvaluatorID: sc.EvaluatorID, EvaluatorName: sc.EvaluatorName, SubmittedAt: sc.SubmittedAt})
	}
	return v, nil
}

// GetCalibration returns a calibration the caller created or is named in.
func (b *Backend) GetCalibration(ctx context.Context, c Caller, id string) (CalibrationView, error) {
	cal, err := b.calibration(ctx, c, id)
	if err != nil {
		return CalibrationView{}, err
	}
	return b.calibrationView(ctx, c, cal)
}

// ListCalibrations lists the calibrations the caller created or is named
// in, newest first.
func (b *Backend) ListCalibrations(ctx context.Context, c Caller, pageSize int) ([]CalibrationView, error) {
	if !b.isEvaluatorRole(c.User.Role) {
		return nil, domain.Forbidden(c.User.Role, "list calibrations", "a %s takes no part in calibrations", c.User.Role)
	}
	switch {
	case pageSize < 0:
		return nil, domain.Invalid("page_size", "must not be negative")
	case pageSize == 0:
		pageSize = 100
	case pageSize > MaxEvaluationPage:
		pageSize = MaxEvaluationPage
	}
	list, err := b.Store.ListCalibrations(ctx, store.CalibrationQuery{UserID: c.User.ID, Limit: pageSize})
	if err != nil {
		return nil, domain.Internal("list calibrations", err)
	}
	out := make([]CalibrationView, 0, len(list))
	for _, cal := range list {
		v, err := b.calibrationView(ctx, c, cal)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CalibrationCall is the call an evaluator of a calibration listens to:
// StreamAudio and GetWaveform with calibration_id come here, so that the
// call is heard without its id or agent being sent.
func (b *Backend) CalibrationCall(ctx context.Context, u domain.User, id string) (store.Call, error) {
	cal, err := b.calibration(ctx, Caller{User: u}, id)
	if err != nil {
		return store.Call{}, err
	}
	call, err := b.Store.GetCall(ctx, cal.CallID, domain.Scope{All: true})
	if errors.Is(err, store.ErrNotFound) {
		return store.Call{}, domain.NotFound("the recording of calibration %s is gone (its retention passed)", id)
	} else if err != nil {
		return store.Call{}, domain.Internal("get call", err)
	}
	return call, nil
}

// NewCalibration is a calibration to create.
type NewCalibration struct {
	CallID, GridID  string
	EvaluatorLogins []string
	ExpertLogin     string
}

func (b *Backend) replayCalibration(ctx context.Context, c Caller, r store.Request) (CalibrationView, error) {
	return b.GetCalibration(ctx, c, r.ObjectID)
}

// CreateCalibration opens a calibration on a call the caller may read.
func (b *Backend) CreateCalibration(ctx context.Context, c Caller, n NewCalibration) (CalibrationView, error) {
	return once(ctx, b, c, ActionCalibrationCreate, ActionCalibrationCreate,
		func(ctx context.Context) (CalibrationView, entry, error) {
			e := entry{details: map[string]string{"call_id": n.CallID}}
			if !b.isEvaluatorRole(c.User.Role) {
				return CalibrationView{}, e, domain.Forbidden(c.User.Role, "create calibration",
					"a %s may not create a calibration", c.User.Role)
			}
			if n.CallID == "" {
				return CalibrationView{}, e, domain.Invalid("call_id", "is required")
			}
			if err := errors.Join(limits.ID("call_id", n.CallID), limits.ID("grid_id", n.GridID),
				limits.Count("evaluator_logins", len(n.EvaluatorLogins), MaxCalibrationEvaluators+1)); err != nil {
				de, _ := domain.As(err)
				return CalibrationView{}, e, de
			}
			call, err := b.Store.GetCall(ctx, n.CallID, policy.Scope(c.User))
			if errors.Is(err, store.ErrNotFound) {
				return CalibrationView{}, e, domain.NotFound("call %s not found", n.CallID)
			} else if err != nil {
				return CalibrationView{}, e, domain.Internal("get call", err)
			}
			rec, err := b.pickGrid(ctx, n.GridID, call.Direction)
			if err != nil {
				return CalibrationView{}, e, err
			}
			logins := slices.Clone(n.EvaluatorLogins)
			expert := strings.TrimSpace(n.ExpertLogin)
			if expert != "" && !slices.Contains(logins, expert) {
				logins = append(logins, expert)
			}
			var evaluators []domain.User
			var expertID string
			for i, l := range logins {
				l = strings.TrimSpace(l)
				fieldName := "evaluator_logins[" + strconv.Itoa(i) + "]"
				if err := limits.Login(fieldName, l); err != nil {
					return CalibrationView{}, e, err
				}
				u, err := b.Store.UserByLogin(ctx, l)
				switch {
				case errors.Is(err, store.ErrNotFound), err == nil && (u.Disabled || u.PendingGrant != "" || !b.isEvaluatorRole(u.Role)):
					return CalibrationView{}, e, domain.Invalid(fieldName, "%q is not an active supervisor or trainer", l)
				case err != nil:
					return CalibrationView{}, e, domain.Internal("find evaluator", err)
				}
				if slices.ContainsFunc(evaluators, func(x domain.User) bool { return x.ID == u.ID }) {
					return CalibrationView{}, e, domain.Invalid(fieldName, "%q is named twice", l)
				}
				if l == expert {
					expertID = u.ID
				}
				evaluators = append(evaluators, u)
			}
			if len(evaluators) < MinCalibrationEvaluators || len(evaluators) > MaxCalibrationEvaluators {
				return CalibrationView{}, e, domain.Invalid("evaluator_logins", "%d evaluators: name %d to %d",
					len(evaluators), MinCalibrationEvaluators, MaxCalibrationEvaluators)
			}
			now := b.Clock.Now().UTC()
			cal := store.Calibration{ID: NewID(), CallID: call.ID, CallStartedAt: call.StartedAt,
				CallDuration: call.Audio.Duration, Direction: call.Direction, GridID: rec.Grid.ID,
				GridVersion: rec.Grid.Version, CreatedBy: c.User.ID, ExpertID: expertID, Status: store.CalibrationOpen,
				CreatedAt: now, RetainedUntil: config.AnalysisKeptUntil(now)}
			for _, u := range evaluators {
				cal.Scores = append(cal.Scores, store.CalibrationScore{ID: NewID(), CalibrationID: cal.ID, EvaluatorID: u.ID,
					Version: 1, UpdatedAt: now})
			}
			e.target = cal.ID
			e.details["grid"] = rec.Grid.ID + " v" + strconv.Itoa(rec.Grid.Version)
			e.details["evaluators"] = strconv.Itoa(len(evaluators))
			e.details["expert"] = strconv.FormatBool(expertID != "")
			if err := b.Store.CreateCalibration(ctx, cal); err != nil {
				return CalibrationView{}, e, domain.Internal("create calibration", err)
			}
			v, err := b.GetCalibration(ctx, c, cal.ID)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CalibrationView, error) {
			return b.replayCalibration(ctx, c, r)
		})
}

// ownScore reads the caller's own score of an open calibration, for a
// write: NOT_CALIBRATION_EVALUATOR, WRONG_STATUS or ALREADY_SUBMITTED
// otherwise, and STALE_VERSION against another version.
func (b *Backend) ownScore(ctx context.Context, c Caller, id string, expected int64) (store.Calibration, store.CalibrationScore, error) {
	cal, err := b.calibration(ctx, c, id)
	if err != nil {
		return cal, store.CalibrationScore{}, err
	}
	sc, ok := scoreOf(cal, c.User.ID)
	switch {
	case !ok:
		return cal, sc, domain.New(domain.ReasonNotCalibrationEvaluator, "you are not an evaluator of calibration %s", id)
	case cal.Status != store.CalibrationOpen:
		return cal, sc, domain.New(domain.ReasonWrongStatus, "calibration %s is closed", id).
			With(domain.MetaStatus, cal.Status).With(domain.MetaAction, "score")
	case !sc.SubmittedAt.IsZero():
		return cal, sc, domain.New(domain.ReasonAlreadySubmitted, "your score of calibration %s is submitted", id).
			With(domain.MetaStatus, "submitted").With(domain.MetaAction, "score")
	case sc.Version != expected:
		return cal, sc, domain.New(domain.ReasonStaleVersion, "your score was saved elsewhere: current version is %d", sc.Version).
			With(domain.MetaCurrentVersion, itoa64(sc.Version))
	}
	return cal, sc, nil
}

// CalibrationDraft is an evaluator's answers to save.
type CalibrationDraft struct {
	ID              string
	ExpectedVersion int64
	Answers         []grid.Answer
	Comment         string
}

// SaveCalibrationScore saves the caller's draft score.
func (b *Backend) SaveCalibrationScore(ctx context.Context, c Caller, d CalibrationDraft) (CalibrationView, error) {
	return once(ctx, b, c, ActionCalibrationSave, ActionCalibrationSave,
		func(ctx context.Context) (CalibrationView, entry, error) {
			e := entry{target: d.ID}
			cal, sc, err := b.ownScore(ctx, c, d.ID, d.ExpectedVersion)
			if err != nil {
				return CalibrationView{}, e, err
			}
			if err := maxLen("comment", d.Comment); err != nil {
				return CalibrationView{}, e, err
			}
			rec, err := b.grid(ctx, cal.GridID, cal.GridVersion)
			if err != nil {
				return CalibrationView{}, e, err
			}
			answers, byID, err := checkAnswers(rec.Grid, d.Answers)
			if err != nil {
				return CalibrationView{}, e, err
			}
			res, err := scoring.Score(rec.Grid, byID)
			if err != nil {
				return CalibrationView{}, e, domain.Invalid("answers", "%v", err)
			}
			sc.Answers, sc.Comment, sc.UpdatedAt = answers, strings.TrimSpace(d.Comment), b.Clock.Now().UTC()
			sc.TotalTenths, sc.HasTotal = int64(res.Total*10+0.5), res.HasTotal
			saved, err := b.Store.UpdateCalibrationScore(ctx, sc, d.ExpectedVersion, false)
			v, err := b.calibrationSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CalibrationView, error) {
			return b.replayCalibration(ctx, c, r)
		})
}

func (b *Backend) calibrationSaved(ctx context.Context, c Caller, cal store.Calibration, err error) (CalibrationView, error) {
	var st *store.StaleError
	switch {
	case errors.As(err, &st):
		return CalibrationView{}, domain.New(domain.ReasonStaleVersion, "your score was saved elsewhere: current version is %d", st.Current).
			With(domain.MetaCurrentVersion, itoa64(st.Current))
	case err != nil:
		return CalibrationView{}, domain.Internal("save calibration score", err)
	}
	return b.calibrationView(ctx, c, cal)
}

// SubmitCalibrationScore submits the caller's complete score. Comments
// with flagged terms (R13) need overrideReason, kept with the score. The
// calibration closes when every evaluator has submitted.
func (b *Backend) SubmitCalibrationScore(ctx context.Context, c Caller, id string, expected int64, overrideReason string) (CalibrationView, error) {
	return once(ctx, b, c, ActionCalibrationSubmit, ActionCalibrationSubmit,
		func(ctx context.Context) (CalibrationView, entry, error) {
			e := entry{target: id}
			cal, sc, err := b.ownScore(ctx, c, id, expected)
			if err != nil {
				return CalibrationView{}, e, err
			}
			rec, err := b.grid(ctx, cal.GridID, cal.GridVersion)
			if err != nil {
				return CalibrationView{}, e, err
			}
			res, err := scoring.Score(rec.Grid, byCriterion(sc.Answers))
			if err != nil {
				return CalibrationView{}, e, domain.Internal("score calibration", err)
			}
			if !res.Complete {
				return CalibrationView{}, e, domain.New(domain.ReasonEvaluationIncomplete,
					"your score is incomplete: %d of %d criteria answered", res.Answered, res.Criteria).
					With(domain.MetaAnswered, strconv.Itoa(res.Answered)).With(domain.MetaCriteria, strconv.Itoa(res.Criteria))
			}
			if len(res.MissingComments) > 0 {
				return CalibrationView{}, e, domain.New(domain.ReasonCommentRequired,
					"a comment is required for the failed criteria: %s", strings.Join(res.MissingComments, ", ")).
					With(domain.MetaCriteria, strings.Join(res.MissingComments, ","))
			}
			reason := strings.TrimSpace(overrideReason)
			hits := b.hits(sc.Answers, sc.Comment)
			if len(hits) > 0 && reason == "" {
				cats := categories(hits)
				return CalibrationView{}, e, domain.New(domain.ReasonOverrideReasonRequired,
					"comments contain %d flagged term(s) (%s): rewrite them, or give override_reason", len(hits), cats).
					With(domain.MetaCategories, strings.ReplaceAll(cats, " ", ""))
			}
			if err := maxLen("override_reason", reason); err != nil {
				return CalibrationView{}, e, err
			}
			if len(hits) > 0 {
				sc.OverrideReason = reason
				e.details = map[string]string{"override_reason": "kept with the score"}
			}
			now := b.Clock.Now().UTC()
			sc.SubmittedAt, sc.UpdatedAt = now, now
			sc.TotalTenths, sc.HasTotal = int64(res.Total*10+0.5), res.HasTotal
			last := true
			for _, o := range cal.Scores {
				if o.EvaluatorID != sc.EvaluatorID && o.SubmittedAt.IsZero() {
					last = false
				}
			}
			saved, err := b.Store.UpdateCalibrationScore(ctx, sc, expected, last)
			v, err := b.calibrationSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CalibrationView, error) {
			return b.replayCalibration(ctx, c, r)
		})
}

// CloseCalibration ends an open calibration; its creator only.
func (b *Backend) CloseCalibration(ctx context.Context, c Caller, id string) (CalibrationView, error) {
	return once(ctx, b, c, ActionCalibrationClose, ActionCalibrationClose,
		func(ctx context.Context) (CalibrationView, entry, error) {
			e := entry{target: id}
			cal, err := b.calibration(ctx, c, id)
			if err != nil {
				return CalibrationView{}, e, err
			}
			switch {
			case cal.CreatedBy != c.User.ID:
				return CalibrationView{}, e, domain.Forbidden(c.User.Role, "close",
					"only who created calibration %s closes it", id)
			case cal.Status != store.CalibrationOpen:
				return CalibrationView{}, e, domain.New(domain.ReasonWrongStatus, "calibration %s is closed", id).
					With(domain.MetaStatus, cal.Status).With(domain.MetaAction, "close")
			}
			saved, err := b.Store.CloseCalibration(ctx, id, b.Clock.Now().UTC())
			v, err := b.calibrationSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CalibrationView, error) {
			return b.replayCalibration(ctx, c, r)
		})
}

// reportable tells whether user may read a calibration's report: as its
// creator, or as an evaluator once their own score is submitted or the
// calibration closed (blind until then).
func reportable(cal store.Calibration, user string) bool {
	return cal.CreatedBy == user || seesScores(cal, user)
}
