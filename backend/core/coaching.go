package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/lifecycle"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
)

// Coaching sessions (R1, R12): a trainer's session with one agent of their
// teams, with goals on grid criteria, the agent's evaluations and clips of
// the agent's calls, and notes checked like comments (R13). The trainer
// prepares a draft, then shares it; the agent reads it and acknowledges or
// disputes it (backend/lifecycle, coaching.go). A session is an analysis
// document: deleted one year after its creation; its clips go earlier,
// with their recording's audio.

// Audit actions of coaching sessions.
const (
	ActionCoachingCreate      = "coaching.create"
	ActionCoachingGoal        = "coaching.goal"
	ActionCoachingAttach      = "coaching.attach"
	ActionCoachingClip        = "coaching.clip"
	ActionCoachingNotes       = "coaching.notes"
	ActionCoachingShare       = "coaching.share"
	ActionCoachingAcknowledge = "coaching.acknowledge"
	ActionCoachingDispute     = "coaching.dispute"
)

// MaxTitleLen bounds a session's title.
const MaxTitleLen = 200

// CoachingView is a session as its reader sees it: goals with their
// criteria, the attached evaluations, the notes' flagged terms. The agent
// reads neither the override reasons nor the captures' counts.
type CoachingView struct {
	Session     store.CoachingSession
	Goals       []GoalView
	Evaluations []EvaluationView
	NotesHits   []Hit
}

// GoalView is a goal with its criterion.
type GoalView struct {
	Goal  store.CoachingGoal
	Label string
	Type  string
}

// CoachingQuery narrows ListCoachingSessions.
type CoachingQuery struct {
	AgentID  string
	PageSize int
}

// ListCoachingSessions lists a trainer's sessions, or an agent's shared
// sessions, newest first.
func (b *Backend) ListCoachingSessions(ctx context.Context, c Caller, q CoachingQuery) ([]CoachingView, error) {
	size := q.PageSize
	switch {
	case size < 0:
		return nil, domain.Invalid("page_size", "must not be negative")
	case size == 0:
		size = 100
	case size > MaxEvaluationPage:
		size = MaxEvaluationPage
	}
	sq := store.CoachingQuery{Limit: size}
	switch {
	case c.User.Role == domain.RoleTrainer:
		if q.AgentID != "" {
			if err := CheckID("agent_id", q.AgentID); err != nil {
				return nil, err
			}
		}
		sq.TrainerID, sq.AgentID = c.User.ID, q.AgentID
	case c.User.Role == domain.RoleAgent && c.User.AgentID != "":
		sq.AgentID, sq.SharedOnly = c.User.AgentID, true
	default:
		return nil, domain.Forbidden(c.User.Role, "list coaching sessions", "a %s has no coaching sessions", c.User.Role)
	}
	list, err := b.Store.ListCoachingSessions(ctx, sq)
	if err != nil {
		return nil, domain.Internal("list coaching sessions", err)
	}
	out := make([]CoachingView, 0, len(list))
	for _, s := range list {
		v, err := b.coachingView(ctx, c, s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// session reads a session in the caller's reach: the trainer's own, or the
// agent's own once shared; any other is "not found".
func (b *Backend) session(ctx context.Context, c Caller, id string) (store.CoachingSession, error) {
	if id == "" {
		return store.CoachingSession{}, domain.Invalid("session_id", "is required")
	}
	if err := limits.ID("session_id", id); err != nil {
		return store.CoachingSession{}, err
	}
	s, err := b.Store.GetCoachingSession(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s, domain.NotFound("coaching session %s not found", id)
	case err != nil:
		return s, domain.Internal("get coaching session", err)
	case c.User.Role == domain.RoleTrainer && s.TrainerID == c.User.ID:
		return s, nil
	case c.User.Role == domain.RoleAgent && c.User.AgentID != "" && s.AgentID == c.User.AgentID &&
		s.Status != domain.CoachingDraft:
		return s, nil
	}
	return store.CoachingSession{}, domain.NotFound("coaching session %s not found", id)
}

// GetCoachingSession returns one session the caller may read.
func (b *Backend) GetCoachingSession(ctx context.Context, c Caller, id string) (CoachingView, error) {
	s, err := b.session(ctx, c, id)
	if err != nil {
		return CoachingView{}, err
	}
	return b.coachingView(ctx, c, s)
}

func (b *Backend) coachingView(ctx context.Context, c Caller, s store.CoachingSession) (CoachingView, error) {
	v := CoachingView{Session: s, NotesHits: b.hits(nil, s.Notes)}
	grids := map[string]store.GridRecord{}
	for _, g := range s.Goals {
		gv := GoalView{Goal: g}
		key := fmt.Sprintf("%s@%d", g.GridID, g.GridVersion)
		rec, ok := grids[key]
		if !ok {
			var err error
			if rec, err = b.grid(ctx, g.GridID, g.GridVersion); err == nil {
				grids[key] = rec
			}
		}
		if cr, ok := rec.Grid.Criterion(g.CriterionID); ok {
			gv.Label, gv.Type = cr.Label, cr.Type
		}
		v.Goals = append(v.Goals, gv)
	}
	for _, it := range s.Items {
		if it.Kind != store.ItemEvaluation {
			continue
		}
		e, err := b.Store.GetEvaluation(ctx, it.EvaluationID, domain.EvalScope{Scope: domain.Scope{All: true}})
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return CoachingView{}, domain.Internal("get evaluation", err)
		}
		ev, err := b.view(ctx, e)
		if err != nil {
			return CoachingView{}, err
		}
		v.Evaluations = append(v.Evaluations, ev)
	}
	if c.User.Role != domain.RoleTrainer {
		// The override reasons are the trainer's accountability; the
		// captures are for training only (R11).
		v.Session.OverrideReason = ""
		v.Session.Items = slices.Clone(s.Items)
		for i := range v.Session.Items {
			v.Session.Items[i].OverrideReason, v.Session.Items[i].Captures = "", 0
		}
	}
	return v, nil
}

// replaySession answers a coaching write already applied.
func (b *Backend) replaySession(ctx context.Context, c Caller, r store.Request) (CoachingView, error) {
	return b.GetCoachingSession(ctx, c, r.ObjectID)
}

// CreateCoachingSession opens a draft session for an active agent of one
// of the trainer's teams.
func (b *Backend) CreateCoachingSession(ctx context.Context, c Caller, agentID, title string) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingCreate, ActionCoachingCreate,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{details: map[string]string{"agent": agentID}}
			next, err := lifecycle.CoachingNext(lifecycle.None, lifecycle.CoachOpen, c.User.Role)
			if err != nil {
				return CoachingView{}, e, err
			}
			if err := CheckID("agent_id", agentID); err != nil {
				return CoachingView{}, e, err
			}
			title = strings.TrimSpace(title)
			if title == "" {
				return CoachingView{}, e, domain.Invalid("title", "is required")
			}
			if err := limits.Line("title", title, MaxTitleLen); err != nil {
				return CoachingView{}, e, err
			}
			if hits := b.hits(nil, title); len(hits) > 0 {
				cats := categories(hits)
				return CoachingView{}, e, domain.New(domain.ReasonFlaggedTerms, "title: flagged terms (%s): write it objectively", cats).
					With(domain.MetaCategories, strings.ReplaceAll(cats, " ", ""))
			}
			a, err := b.Store.AgentByID(ctx, agentID)
			switch {
			case errors.Is(err, store.ErrNotFound), err == nil && !slices.Contains(c.User.TeamIDs, a.TeamID):
				return CoachingView{}, e, domain.NotFound("agent_id: no agent %q in your teams", agentID)
			case err != nil:
				return CoachingView{}, e, domain.Internal("find agent", err)
			case !a.EndedAt.IsZero():
				return CoachingView{}, e, Ended(KindAgent, a.ID, a.EndedAt)
			}
			now := b.Clock.Now().UTC()
			s := store.CoachingSession{ID: NewID(), TrainerID: c.User.ID, AgentID: a.ID, TeamID: a.TeamID, Title: title,
				Status: next, Version: 1, CreatedAt: now, UpdatedAt: now, RetainedUntil: config.AnalysisKeptUntil(now)}
			e.target = s.ID
			if err := b.Store.CreateCoachingSession(ctx, s); err != nil {
				return CoachingView{}, e, domain.Internal("create coaching session", err)
			}
			v, err := b.GetCoachingSession(ctx, c, s.ID)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

// editable reads the caller's draft session for an edit.
func (b *Backend) editable(ctx context.Context, c Caller, id string) (store.CoachingSession, error) {
	if _, err := lifecycle.CoachingNext(domain.CoachingDraft, lifecycle.CoachEdit, c.User.Role); err != nil {
		return store.CoachingSession{}, err
	}
	s, err := b.session(ctx, c, id)
	if err != nil {
		return s, err
	}
	_, err = lifecycle.CoachingNext(s.Status, lifecycle.CoachEdit, c.User.Role)
	return s, err
}

// sessionSaved turns a store write's error into the operation's.
func (b *Backend) sessionSaved(ctx context.Context, c Caller, s store.CoachingSession, err error) (CoachingView, error) {
	var st *store.StaleError
	switch {
	case errors.As(err, &st):
		return CoachingView{}, domain.New(domain.ReasonStaleVersion, "coaching session %s was changed elsewhere: current version is %d", st.ID, st.Current).
			With(domain.MetaCurrentVersion, itoa64(st.Current))
	case err != nil:
		return CoachingView{}, domain.Internal("save coaching session", err)
	}
	return b.coachingView(ctx, c, s)
}

// AddCoachingGoal sets a goal on a criterion of a grid's latest version.
func (b *Backend) AddCoachingGoal(ctx context.Context, c Caller, sessionID, gridID, criterionID string, target float64, due time.Time) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingGoal, ActionCoachingGoal,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: sessionID, details: map[string]string{"grid": gridID, "criterion": criterionID}}
			s, err := b.editable(ctx, c, sessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			if gridID == "" {
				return CoachingView{}, e, domain.Invalid("grid_id", "is required")
			}
			if err := errors.Join(limits.ID("grid_id", gridID), limits.ID("criterion_id", criterionID),
				limits.Finite("target", target), limits.Instant("due_at", due)); err != nil {
				de, _ := domain.As(err)
				return CoachingView{}, e, de
			}
			rec, err := b.grid(ctx, gridID, 0)
			if err != nil {
				return CoachingView{}, e, err
			}
			cr, ok := rec.Grid.Criterion(criterionID)
			if !ok {
				return CoachingView{}, e, domain.Invalid("criterion_id", "%q is not in grid %s v%d", criterionID, gridID, rec.Grid.Version)
			}
			switch cr.Type {
			case grid.TypeScale:
				if target < grid.ScaleMin || target > grid.ScaleMax {
					return CoachingView{}, e, domain.Invalid("target", "%g: a mean answer on the scale, %d to %d", target, grid.ScaleMin, grid.ScaleMax)
				}
			default:
				if target < 0 || target > 100 {
					return CoachingView{}, e, domain.Invalid("target", "%g: a share of passed evaluations, 0 to 100 percent", target)
				}
			}
			now := b.Clock.Now().UTC()
			switch {
			case due.IsZero():
				return CoachingView{}, e, domain.Invalid("due_at", "is required")
			case !due.After(now):
				return CoachingView{}, e, domain.Invalid("due_at", "%s is not in the future", due.UTC().Format(time.RFC3339))
			case due.After(s.RetainedUntil):
				return CoachingView{}, e, domain.Invalid("due_at", "%s is after the session is deleted (%s)",
					due.UTC().Format(time.RFC3339), s.RetainedUntil.Format(time.RFC3339))
			}
			g := store.CoachingGoal{ID: NewID(), SessionID: s.ID, GridID: rec.Grid.ID, GridVersion: rec.Grid.Version,
				CriterionID: cr.ID, Target: math.Round(target*10) / 10, DueAt: due.UTC(), CreatedAt: now}
			saved, err := b.Store.AddCoachingGoal(ctx, g, now, s.Version)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

// AttachEvaluation attaches a submitted evaluation of the session's agent.
func (b *Backend) AttachEvaluation(ctx context.Context, c Caller, sessionID, evaluationID string) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingAttach, ActionCoachingAttach,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: sessionID, details: map[string]string{"evaluation": evaluationID}}
			s, err := b.editable(ctx, c, sessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			ev, err := b.evaluation(ctx, c, evaluationID)
			if err != nil {
				return CoachingView{}, e, err
			}
			if ev.AgentID != s.AgentID {
				return CoachingView{}, e, domain.Invalid("evaluation_id", "evaluation %s is not about the session's agent", ev.ID)
			}
			for _, it := range s.Items {
				if it.EvaluationID == ev.ID {
					return CoachingView{}, e, domain.New(domain.ReasonAlreadyExists, "evaluation %s is attached already", ev.ID).
						With(domain.MetaField, "evaluation_id")
				}
			}
			now := b.Clock.Now().UTC()
			e.details["call_id"] = ev.CallID
			saved, err := b.Store.AddCoachingItem(ctx, store.CoachingItem{ID: NewID(), SessionID: s.ID,
				Kind: store.ItemEvaluation, CallID: ev.CallID, EvaluationID: ev.ID, CreatedAt: now}, now, s.Version)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

// Clip is a time range of a call to attach, with its note.
type Clip struct {
	SessionID, CallID    string
	From, To             time.Duration
	Note, OverrideReason string
}

// AddClip attaches a time range of one of the agent's calls.
func (b *Backend) AddClip(ctx context.Context, c Caller, cl Clip) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingClip, ActionCoachingClip,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: cl.SessionID, details: map[string]string{"call_id": cl.CallID}}
			s, err := b.editable(ctx, c, cl.SessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			if cl.CallID == "" {
				return CoachingView{}, e, domain.Invalid("call_id", "is required")
			}
			if err := limits.ID("call_id", cl.CallID); err != nil {
				return CoachingView{}, e, err
			}
			call, err := b.Store.GetCall(ctx, cl.CallID, policy.Scope(c.User))
			if errors.Is(err, store.ErrNotFound) {
				return CoachingView{}, e, domain.NotFound("call %s not found", cl.CallID)
			} else if err != nil {
				return CoachingView{}, e, domain.Internal("get call", err)
			}
			if call.AgentID != s.AgentID {
				return CoachingView{}, e, domain.Invalid("call_id", "call %s is not the session's agent's", call.ID)
			}
			switch dur := call.Audio.Duration; {
			case cl.From < 0:
				return CoachingView{}, e, domain.Invalid("from", "must not be negative")
			case cl.To <= cl.From:
				return CoachingView{}, e, domain.Invalid("to", "must be after from")
			case cl.To > dur+time.Second:
				return CoachingView{}, e, domain.Invalid("to", "%v is after the end of the recording (%v)", cl.To, dur)
			}
			note, reason, err := b.checkNote("note", cl.Note, cl.OverrideReason)
			if err != nil {
				return CoachingView{}, e, err
			}
			if reason != "" {
				e.details["override_reason"] = "kept with the session"
			}
			now := b.Clock.Now().UTC()
			e.details["from"], e.details["to"] = cl.From.Truncate(time.Millisecond).String(), cl.To.Truncate(time.Millisecond).String()
			saved, err := b.Store.AddCoachingItem(ctx, store.CoachingItem{ID: NewID(), SessionID: s.ID, Kind: store.ItemClip,
				CallID: call.ID, From: cl.From, To: cl.To, Note: note, OverrideReason: reason, CreatedAt: now}, now, s.Version)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

// checkNote checks free text like an evaluation's comment (R13): terms the
// lexicon flags need a reason, which is kept with the text it justifies.
func (b *Backend) checkNote(field, text, overrideReason string) (string, string, error) {
	text = strings.TrimSpace(text)
	if err := maxLen(field, text); err != nil {
		return "", "", err
	}
	reason := strings.TrimSpace(overrideReason)
	if err := maxLen("override_reason", reason); err != nil {
		return "", "", err
	}
	hits := b.hits(nil, text)
	if len(hits) == 0 {
		return text, "", nil
	}
	if reason == "" {
		cats := categories(hits)
		return "", "", domain.New(domain.ReasonOverrideReasonRequired,
			"%s: %d flagged term(s) (%s): rewrite it, or give override_reason", field, len(hits), cats).
			With(domain.MetaCategories, strings.ReplaceAll(cats, " ", ""))
	}
	return text, reason, nil
}

// SaveCoachingNotes replaces the notes of the caller's draft.
func (b *Backend) SaveCoachingNotes(ctx context.Context, c Caller, sessionID string, expected int64, notes, overrideReason string) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingNotes, ActionCoachingNotes,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: sessionID}
			s, err := b.editable(ctx, c, sessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			if expected != s.Version {
				return b.sessionStale(s, e)
			}
			text, reason, err := b.checkNote("notes", notes, overrideReason)
			if err != nil {
				return CoachingView{}, e, err
			}
			if reason != "" {
				e.details = map[string]string{"override_reason": "kept with the session"}
			}
			s.Notes, s.OverrideReason, s.UpdatedAt = text, reason, b.Clock.Now().UTC()
			saved, err := b.Store.UpdateCoachingSession(ctx, s, expected)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

func (b *Backend) sessionStale(s store.CoachingSession, e entry) (CoachingView, entry, error) {
	return CoachingView{}, e, domain.New(domain.ReasonStaleVersion, "coaching session %s was changed elsewhere: current version is %d", s.ID, s.Version).
		With(domain.MetaCurrentVersion, itoa64(s.Version))
}

// ShareCoachingSession shows the caller's draft to its agent.
func (b *Backend) ShareCoachingSession(ctx context.Context, c Caller, sessionID string) (CoachingView, error) {
	return once(ctx, b, c, ActionCoachingShare, ActionCoachingShare,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: sessionID}
			if _, err := lifecycle.CoachingNext(domain.CoachingDraft, lifecycle.CoachShare, c.User.Role); err != nil {
				return CoachingView{}, e, err
			}
			s, err := b.session(ctx, c, sessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			next, err := lifecycle.CoachingNext(s.Status, lifecycle.CoachShare, c.User.Role)
			if err != nil {
				return CoachingView{}, e, err
			}
			now := b.Clock.Now().UTC()
			e.details = map[string]string{"agent": s.AgentID}
			s.Status, s.SharedAt, s.UpdatedAt = next, now, now
			saved, err := b.Store.UpdateCoachingSession(ctx, s, s.Version)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

// AcknowledgeCoachingSession records that the agent read a shared session.
func (b *Backend) AcknowledgeCoachingSession(ctx context.Context, c Caller, sessionID, comment string) (CoachingView, error) {
	return b.answerSession(ctx, c, sessionID, comment, lifecycle.CoachAcknowledge, ActionCoachingAcknowledge)
}

// DisputeCoachingSession records the agent's disagreement, with a comment.
func (b *Backend) DisputeCoachingSession(ctx context.Context, c Caller, sessionID, comment string) (CoachingView, error) {
	return b.answerSession(ctx, c, sessionID, comment, lifecycle.CoachDispute, ActionCoachingDispute)
}

func (b *Backend) answerSession(ctx context.Context, c Caller, sessionID, comment string, a lifecycle.Action, action string) (CoachingView, error) {
	return once(ctx, b, c, action, action,
		func(ctx context.Context) (CoachingView, entry, error) {
			e := entry{target: sessionID}
			if _, err := lifecycle.CoachingNext(domain.CoachingShared, a, c.User.Role); err != nil {
				return CoachingView{}, e, err
			}
			s, err := b.session(ctx, c, sessionID)
			if err != nil {
				return CoachingView{}, e, err
			}
			next, err := lifecycle.CoachingNext(s.Status, a, c.User.Role)
			if err != nil {
				return CoachingView{}, e, err
			}
			text := strings.TrimSpace(comment)
			if a == lifecycle.CoachDispute && text == "" {
				return CoachingView{}, e, domain.Invalid("comment", "a dispute says what is contested")
			}
			if err := maxLen("comment", text); err != nil {
				return CoachingView{}, e, err
			}
			now := b.Clock.Now().UTC()
			s.Status, s.AnsweredAt, s.UpdatedAt, s.AgentComment = next, now, now, text
			saved, err := b.Store.UpdateCoachingSession(ctx, s, s.Version)
			v, err := b.sessionSaved(ctx, c, saved, err)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (CoachingView, error) { return b.replaySession(ctx, c, r) })
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
