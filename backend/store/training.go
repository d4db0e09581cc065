package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
)

// Training (issue 13): screen captures, coaching sessions and blind
// calibration. The rules are backend/core's; this is their SQL.

// Capture is one screen capture: where it is on the call's clock, and
// which range of which blob holds its image.
type Capture struct {
	ID         string
	CallID     string
	Offset     time.Duration
	Format     string // "png" or "jpeg"
	Width      int
	Height     int
	BlobKey    string
	BlobOffset int64
	Size       int64
	CreatedAt  time.Time
}

// Coaching session statuses (the domain's).
const (
	CoachingDraft        = domain.CoachingDraft
	CoachingShared       = domain.CoachingShared
	CoachingAcknowledged = domain.CoachingAcknowledged
	CoachingDisputed     = domain.CoachingDisputed
)

// Kinds of what a coaching session includes.
const (
	ItemClip       = "clip"
	ItemEvaluation = "evaluation"
)

// CoachingSession is a trainer's session with one agent. TrainerName and
// AgentName are filled on reads, with the goals and items.
type CoachingSession struct {
	ID             string
	TrainerID      string
	TrainerName    string
	AgentID        string
	AgentName      string
	TeamID         string
	Title          string
	Notes          string
	OverrideReason string
	AgentComment   string
	Status         string
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SharedAt       time.Time
	AnsweredAt     time.Time
	RetainedUntil  time.Time
	Goals          []CoachingGoal
	Items          []CoachingItem
}

// CoachingGoal is a target on a criterion by a date.
type CoachingGoal struct {
	ID          string
	SessionID   string
	GridID      string
	GridVersion int
	CriterionID string
	Target      float64
	DueAt       time.Time
	CreatedAt   time.Time
}

// CoachingItem is a clip or an attached evaluation. The call's start, its
// retention and its number of captures are filled on reads (zero when the
// call is gone).
type CoachingItem struct {
	ID           string
	SessionID    string
	Kind         string
	CallID       string
	EvaluationID string
	From, To     time.Duration
	Note         string
	// OverrideReason says why flagged terms (R13) were kept in Note.
	OverrideReason string
	CreatedAt      time.Time

	CallStartedAt     time.Time
	CallRetainedUntil time.Time
	Captures          int
}

// CoachingQuery lists sessions: a trainer's (TrainerID), or an agent's
// (AgentID with SharedOnly).
type CoachingQuery struct {
	TrainerID  string
	AgentID    string
	SharedOnly bool
	Limit      int
}

// Calibration statuses.
const (
	CalibrationOpen   = "open"
	CalibrationClosed = "closed"
)

// Calibration is a blind calibration with its scores (one per evaluator).
type Calibration struct {
	ID            string
	CallID        string
	CallStartedAt time.Time
	CallDuration  time.Duration
	Direction     string
	GridID        string
	GridVersion   int
	CreatedBy     string
	CreatedByName string
	ExpertID      string
	Status        string
	CreatedAt     time.Time
	ClosedAt      time.Time
	RetainedUntil time.Time
	Scores        []CalibrationScore
}

// CalibrationScore is one evaluator's score.
type CalibrationScore struct {
	ID             string
	CalibrationID  string
	EvaluatorID    string
	EvaluatorName  string
	Answers        []grid.Answer
	Comment        string
	OverrideReason string
	TotalTenths    int64
	HasTotal       bool
	Version        int64
	UpdatedAt      time.Time
	SubmittedAt    time.Time
}

// CalibrationQuery lists the calibrations a user created or is named in,
// optionally on one grid.
type CalibrationQuery struct {
	UserID string
	GridID string
	Limit  int
}

// TrainingStore keeps screen captures, coaching sessions and calibrations.
type TrainingStore interface {
	// InsertCaptures adds captures of one call in one transaction;
	// positions already held are skipped and counted.
	InsertCaptures(ctx context.Context, cs []Capture) (stored, duplicates int, err error)
	// ListCaptures returns a call's captures in order of position.
	ListCaptures(ctx context.Context, callID string) ([]Capture, error)
	// GetCapture returns one capture of a call, or ErrNotFound.
	GetCapture(ctx context.Context, callID, id string) (Capture, error)
	// CaptureBlobKeys lists the blobs captures use.
	CaptureBlobKeys(ctx context.Context) (map[string]bool, error)
	// CaptureTarget finds the call of a telephony id, in any state: its id
	// and the duration of its recording.
	CaptureTarget(ctx context.Context, externalID string) (id string, duration time.Duration, err error)

	CreateCoachingSession(ctx context.Context, s CoachingSession) error
	// GetCoachingSession returns a session with its goals and items, or
	// ErrNotFound.
	GetCoachingSession(ctx context.Context, id string) (CoachingSession, error)
	ListCoachingSessions(ctx context.Context, q CoachingQuery) ([]CoachingSession, error)
	// UpdateCoachingSession writes the mutable fields of s if its version
	// is still expect (*StaleError otherwise) and increments it.
	UpdateCoachingSession(ctx context.Context, s CoachingSession, expect int64) (CoachingSession, error)
	// AddCoachingGoal and AddCoachingItem add to a session whose version is
	// still expect, and increment it.
	AddCoachingGoal(ctx context.Context, g CoachingGoal, at time.Time, expect int64) (CoachingSession, error)
	AddCoachingItem(ctx context.Context, it CoachingItem, at time.Time, expect int64) (CoachingSession, error)
	// DeleteExpiredCoaching deletes the sessions (goals, clips and notes
	// with them) whose retention ended at or before now.
	DeleteExpiredCoaching(ctx context.Context, now time.Time) (int, error)

	// CreateCalibration inserts a calibration and its evaluators' empty
	// scores.
	CreateCalibration(ctx context.Context, c Calibration) error
	GetCalibration(ctx context.Context, id string) (Calibration, error)
	ListCalibrations(ctx context.Context, q CalibrationQuery) ([]Calibration, error)
	// UpdateCalibrationScore writes a score if its version is still expect
	// (*StaleError otherwise); close also closes the calibration at the
	// score's update time.
	UpdateCalibrationScore(ctx context.Context, sc CalibrationScore, expect int64, close bool) (Calibration, error)
	// CloseCalibration closes an open calibration.
	CloseCalibration(ctx context.Context, id string, at time.Time) (Calibration, error)
	// DeleteExpiredCalibrations deletes the calibrations whose retention
	// ended at or before now, with their scores.
	DeleteExpiredCalibrations(ctx context.Context, now time.Time) (int, error)
}

var _ TrainingStore = (*SQLite)(nil)

// InsertCaptures implements TrainingStore.
func (s *SQLite) InsertCaptures(ctx context.Context, cs []Capture) (int, int, error) {
	var stored, dup int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO screen_captures (id, call_id, offset_ms, format, width, height,
			blob_key, blob_offset, size, created_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (call_id, offset_ms) DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range cs {
			res, err := st.ExecContext(ctx, c.ID, c.CallID, c.Offset.Milliseconds(), c.Format, c.Width, c.Height,
				c.BlobKey, c.BlobOffset, c.Size, ms(c.CreatedAt))
			if err != nil {
				return fmt.Errorf("capture at %v: %w", c.Offset, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				stored++
			} else {
				dup++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("insert captures: %w", err)
	}
	return stored, dup, nil
}

const captureCols = `id, call_id, offset_ms, format, width, height, blob_key, blob_offset, size, created_at`

func scanCapture(r scanner) (Capture, error) {
	var c Capture
	var off, created int64
	if err := r.Scan(&c.ID, &c.CallID, &off, &c.Format, &c.Width, &c.Height, &c.BlobKey, &c.BlobOffset, &c.Size,
		&created); err != nil {
		return Capture{}, err
	}
	c.Offset, c.CreatedAt = time.Duration(off)*time.Millisecond, fromMS(created)
	return c, nil
}

// ListCaptures implements TrainingStore.
func (s *SQLite) ListCaptures(ctx context.Context, callID string) ([]Capture, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+captureCols+` FROM screen_captures WHERE call_id = ?
		ORDER BY offset_ms`, callID)
	if err != nil {
		return nil, fmt.Errorf("list captures of %s: %w", callID, err)
	}
	defer rows.Close()
	var out []Capture
	for rows.Next() {
		c, err := scanCapture(rows)
		if err != nil {
			return nil, fmt.Errorf("list captures of %s: %w", callID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetCapture implements TrainingStore.
func (s *SQLite) GetCapture(ctx context.Context, callID, id string) (Capture, error) {
	c, err := scanCapture(s.db.QueryRowContext(ctx, `SELECT `+captureCols+` FROM screen_captures
		WHERE call_id = ? AND id = ?`, callID, id))
	if err != nil {
		return Capture{}, notFound(err, "capture "+id)
	}
	return c, nil
}

// CaptureBlobKeys implements TrainingStore.
func (s *SQLite) CaptureBlobKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT blob_key FROM screen_captures`)
	if err != nil {
		return nil, fmt.Errorf("capture blobs: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// CaptureTarget implements TrainingStore.
func (s *SQLite) CaptureTarget(ctx context.Context, externalID string) (string, time.Duration, error) {
	var id string
	var dur int64
	err := s.db.QueryRowContext(ctx, `SELECT id, duration_ms FROM calls WHERE external_id = ?`, externalID).Scan(&id, &dur)
	if err != nil {
		return "", 0, notFound(err, "call "+externalID)
	}
	return id, time.Duration(dur) * time.Millisecond, nil
}

// trainerReach is the condition a trainer's scope adds to a query on calls
// or evaluations (its columns named): the agents one of the trainer's
// sessions names, within their teams, and the calls their sessions
// include.
func trainerReach(sc Scope, agentCol, teamCol, callCol string) (string, []any) {
	var args []any
	var or []string
	if len(sc.TrainerTeams) > 0 {
		args = append(args, sc.Trainer)
		for _, t := range sc.TrainerTeams {
			args = append(args, t)
		}
		or = append(or, fmt.Sprintf(`(%s IN (SELECT agent_id FROM coaching_sessions WHERE trainer_id = ?) AND %s IN (%s))`,
			agentCol, teamCol, strings.TrimSuffix(strings.Repeat("?,", len(sc.TrainerTeams)), ",")))
	}
	args = append(args, sc.Trainer)
	or = append(or, callCol+` IN (SELECT i.call_id FROM coaching_items i JOIN coaching_sessions s ON s.id = i.session_id
		WHERE s.trainer_id = ?)`)
	return "(" + strings.Join(or, " OR ") + ")", args
}

// CreateCoachingSession implements TrainingStore.
func (s *SQLite) CreateCoachingSession(ctx context.Context, cs CoachingSession) error {
	return s.create(ctx, "create coaching session", cs.ID, `INSERT INTO coaching_sessions (id, trainer_id, agent_id,
		team_id, title, notes, override_reason, agent_comment, status, version, created_at, updated_at, shared_at,
		answered_at, retained_until) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, cs.ID, cs.TrainerID, cs.AgentID, cs.TeamID,
		s.seal("coaching_sessions", "title", cs.ID, cs.Title), s.seal("coaching_sessions", "notes", cs.ID, cs.Notes),
		s.seal("coaching_sessions", "override_reason", cs.ID, cs.OverrideReason),
		s.seal("coaching_sessions", "agent_comment", cs.ID, cs.AgentComment), cs.Status, cs.Version, ms(cs.CreatedAt),
		ms(cs.UpdatedAt), ms(cs.SharedAt), ms(cs.AnsweredAt), ms(cs.RetainedUntil))
}

const sessionCols = `s.id, s.trainer_id, COALESCE(u.display_name, ''), s.agent_id, COALESCE(a.name, ''), s.team_id,
	s.title, s.notes, s.override_reason, s.agent_comment, s.status, s.version, s.created_at, s.updated_at, s.shared_at,
	s.answered_at, s.retained_until`

const sessionFrom = ` FROM coaching_sessions s LEFT JOIN users u ON u.id = s.trainer_id
	LEFT JOIN agents a ON a.id = s.agent_id`

func (s *SQLite) scanSession(r scanner) (CoachingSession, error) {
	var cs CoachingSession
	var text [4]raw
	var created, updated, shared, answered, retained int64
	if err := r.Scan(&cs.ID, &cs.TrainerID, &cs.TrainerName, &cs.AgentID, &cs.AgentName, &cs.TeamID, &text[0], &text[1],
		&text[2], &text[3], &cs.Status, &cs.Version, &created, &updated, &shared, &answered, &retained); err != nil {
		return CoachingSession{}, err
	}
	for i, f := range []*string{&cs.Title, &cs.Notes, &cs.OverrideReason, &cs.AgentComment} {
		v, err := s.open("coaching_sessions", SealedColumns["coaching_sessions"][i], cs.ID, text[i].v)
		if err != nil {
			return CoachingSession{}, err
		}
		*f = v
	}
	cs.CreatedAt, cs.UpdatedAt, cs.SharedAt = fromMS(created), fromMS(updated), fromMS(shared)
	cs.AnsweredAt, cs.RetainedUntil = fromMS(answered), fromMS(retained)
	return cs, nil
}

// GetCoachingSession implements TrainingStore.
func (s *SQLite) GetCoachingSession(ctx context.Context, id string) (CoachingSession, error) {
	return s.getSession(ctx, s.db, id)
}

type querier interface {
	rowQuerier
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *SQLite) getSession(ctx context.Context, q querier, id string) (CoachingSession, error) {
	cs, err := s.scanSession(q.QueryRowContext(ctx, `SELECT `+sessionCols+sessionFrom+` WHERE s.id = ?`, id))
	if err != nil {
		return CoachingSession{}, notFound(err, "coaching session "+id)
	}
	if err := s.fillSession(ctx, q, &cs); err != nil {
		return CoachingSession{}, err
	}
	return cs, nil
}

// fillSession reads a session's goals and items.
func (s *SQLite) fillSession(ctx context.Context, q querier, cs *CoachingSession) error {
	rows, err := q.QueryContext(ctx, `SELECT id, grid_id, grid_version, criterion_id, target, due_at, created_at
		FROM coaching_goals WHERE session_id = ? ORDER BY created_at, id`, cs.ID)
	if err != nil {
		return fmt.Errorf("goals of %s: %w", cs.ID, err)
	}
	for rows.Next() {
		g := CoachingGoal{SessionID: cs.ID}
		var due, created int64
		if err := rows.Scan(&g.ID, &g.GridID, &g.GridVersion, &g.CriterionID, &g.Target, &due, &created); err != nil {
			rows.Close()
			return err
		}
		g.DueAt, g.CreatedAt = fromMS(due), fromMS(created)
		cs.Goals = append(cs.Goals, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT i.id, i.kind, i.call_id, COALESCE(i.evaluation_id, ''), i.from_ms, i.to_ms,
		i.note, i.override_reason, i.created_at, COALESCE(c.started_at, 0), COALESCE(c.retained_until, 0),
		(SELECT COUNT(*) FROM screen_captures x WHERE x.call_id = i.call_id)
		FROM coaching_items i LEFT JOIN calls c ON c.id = i.call_id WHERE i.session_id = ? ORDER BY i.created_at, i.id`, cs.ID)
	if err != nil {
		return fmt.Errorf("items of %s: %w", cs.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		it := CoachingItem{SessionID: cs.ID}
		var from, to, created, started, retained int64
		var note, reason raw
		if err := rows.Scan(&it.ID, &it.Kind, &it.CallID, &it.EvaluationID, &from, &to, &note, &reason, &created,
			&started, &retained, &it.Captures); err != nil {
			return err
		}
		if it.Note, err = s.open("coaching_items", "note", it.ID, note.v); err != nil {
			return err
		}
		if it.OverrideReason, err = s.open("coaching_items", "override_reason", it.ID, reason.v); err != nil {
			return err
		}
		it.From, it.To = time.Duration(from)*time.Millisecond, time.Duration(to)*time.Millisecond
		it.CreatedAt, it.CallStartedAt, it.CallRetainedUntil = fromMS(created), fromMS(started), fromMS(retained)
		cs.Items = append(cs.Items, it)
	}
	return rows.Err()
}

// ListCoachingSessions implements TrainingStore.
func (s *SQLite) ListCoachingSessions(ctx context.Context, q CoachingQuery) ([]CoachingSession, error) {
	var conds []string
	var args []any
	if q.TrainerID != "" {
		conds, args = append(conds, "s.trainer_id = ?"), append(args, q.TrainerID)
	}
	if q.AgentID != "" {
		conds, args = append(conds, "s.agent_id = ?"), append(args, q.AgentID)
	}
	if q.SharedOnly {
		conds = append(conds, "s.status <> 'draft'")
	}
	if len(conds) == 0 {
		return nil, errors.New("list coaching sessions: a trainer or an agent is required")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+sessionFrom+` WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(` ORDER BY s.created_at DESC, s.id LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list coaching sessions: %w", err)
	}
	var out []CoachingSession
	for rows.Next() {
		cs, err := s.scanSession(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list coaching sessions: %w", err)
		}
		out = append(out, cs)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.fillSession(ctx, s.db, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bumpSession increments a session's version inside tx if it is still
// expect.
func bumpSession(ctx context.Context, tx *sql.Tx, id string, at time.Time, expect int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE coaching_sessions SET version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, ms(at), id, expect)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT version FROM coaching_sessions WHERE id = ?`, id).Scan(&cur); err != nil {
			return notFound(err, "coaching session "+id)
		}
		return &StaleError{ID: id, Current: cur}
	}
	return nil
}

// UpdateCoachingSession implements TrainingStore.
func (s *SQLite) UpdateCoachingSession(ctx context.Context, cs CoachingSession, expect int64) (CoachingSession, error) {
	var out CoachingSession
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := bumpSession(ctx, tx, cs.ID, cs.UpdatedAt, expect); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coaching_sessions SET notes = ?, override_reason = ?, agent_comment = ?,
			status = ?, shared_at = ?, answered_at = ? WHERE id = ?`,
			s.seal("coaching_sessions", "notes", cs.ID, cs.Notes),
			s.seal("coaching_sessions", "override_reason", cs.ID, cs.OverrideReason),
			s.seal("coaching_sessions", "agent_comment", cs.ID, cs.AgentComment), cs.Status, ms(cs.SharedAt),
			ms(cs.AnsweredAt), cs.ID); err != nil {
			return err
		}
		if err := recordRequest(ctx, tx, cs.ID, 0); err != nil {
			return err
		}
		var err error
		out, err = s.getSession(ctx, tx, cs.ID)
		return err
	})
	if err != nil {
		return CoachingSession{}, fmt.Errorf("update coaching session %s: %w", cs.ID, err)
	}
	return out, nil
}

// AddCoachingGoal implements TrainingStore.
func (s *SQLite) AddCoachingGoal(ctx context.Context, g CoachingGoal, at time.Time, expect int64) (CoachingSession, error) {
	var out CoachingSession
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := bumpSession(ctx, tx, g.SessionID, at, expect); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO coaching_goals (id, session_id, grid_id, grid_version, criterion_id,
			target, due_at, created_at) VALUES (?,?,?,?,?,?,?,?)`, g.ID, g.SessionID, g.GridID, g.GridVersion,
			g.CriterionID, g.Target, ms(g.DueAt), ms(g.CreatedAt)); err != nil {
			return err
		}
		if err := recordRequest(ctx, tx, g.SessionID, 0); err != nil {
			return err
		}
		var err error
		out, err = s.getSession(ctx, tx, g.SessionID)
		return err
	})
	if err != nil {
		return CoachingSession{}, fmt.Errorf("add goal to %s: %w", g.SessionID, err)
	}
	return out, nil
}

// AddCoachingItem implements TrainingStore.
func (s *SQLite) AddCoachingItem(ctx context.Context, it CoachingItem, at time.Time, expect int64) (CoachingSession, error) {
	var out CoachingSession
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := bumpSession(ctx, tx, it.SessionID, at, expect); err != nil {
			return err
		}
		var ev any
		if it.EvaluationID != "" {
			ev = it.EvaluationID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO coaching_items (id, session_id, kind, call_id, evaluation_id, from_ms,
			to_ms, note, override_reason, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)`, it.ID, it.SessionID, it.Kind, it.CallID,
			ev, it.From.Milliseconds(), it.To.Milliseconds(), s.seal("coaching_items", "note", it.ID, it.Note),
			s.seal("coaching_items", "override_reason", it.ID, it.OverrideReason), ms(it.CreatedAt)); err != nil {
			return err
		}
		if err := recordRequest(ctx, tx, it.SessionID, 0); err != nil {
			return err
		}
		var err error
		out, err = s.getSession(ctx, tx, it.SessionID)
		return err
	})
	if err != nil {
		return CoachingSession{}, fmt.Errorf("add to %s: %w", it.SessionID, err)
	}
	return out, nil
}

// DeleteExpiredCoaching implements TrainingStore.
func (s *SQLite) DeleteExpiredCoaching(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM coaching_sessions WHERE retained_until <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired coaching sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateCalibration implements TrainingStore.
func (s *SQLite) CreateCalibration(ctx context.Context, c Calibration) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO calibrations (id, call_id, call_started_at, call_duration_ms,
			direction, grid_id, grid_version, created_by, expert_id, status, created_at, closed_at, retained_until)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, c.ID, c.CallID, ms(c.CallStartedAt), c.CallDuration.Milliseconds(),
			c.Direction, c.GridID, c.GridVersion, c.CreatedBy, c.ExpertID, c.Status, ms(c.CreatedAt), ms(c.ClosedAt),
			ms(c.RetainedUntil)); err != nil {
			return err
		}
		for _, sc := range c.Scores {
			if err := s.insertScore(ctx, tx, sc); err != nil {
				return err
			}
		}
		return recordRequest(ctx, tx, c.ID, 0)
	})
	return execErr("create calibration "+c.ID, err)
}

func (s *SQLite) insertScore(ctx context.Context, tx *sql.Tx, sc CalibrationScore) error {
	answers, err := json.Marshal(answersJSON(sc.Answers))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO calibration_scores (id, calibration_id, evaluator_id, answers, comment,
		override_reason, total_tenths, has_total, version, updated_at, submitted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		sc.ID, sc.CalibrationID, sc.EvaluatorID, s.seal("calibration_scores", "answers", sc.ID, string(answers)),
		s.seal("calibration_scores", "comment", sc.ID, sc.Comment),
		s.seal("calibration_scores", "override_reason", sc.ID, sc.OverrideReason), sc.TotalTenths, b2i(sc.HasTotal),
		sc.Version, ms(sc.UpdatedAt), ms(sc.SubmittedAt))
	return err
}

const calibrationCols = `c.id, c.call_id, c.call_started_at, c.call_duration_ms, c.direction, c.grid_id, c.grid_version, c.created_by, COALESCE(u.display_name, ''),
	c.expert_id, c.status, c.created_at, c.closed_at, c.retained_until`

func scanCalibration(r scanner) (Calibration, error) {
	var c Calibration
	var created, closed, retained, started, dur int64
	if err := r.Scan(&c.ID, &c.CallID, &started, &dur, &c.Direction, &c.GridID, &c.GridVersion, &c.CreatedBy, &c.CreatedByName, &c.ExpertID,
		&c.Status, &created, &closed, &retained); err != nil {
		return Calibration{}, err
	}
	c.CreatedAt, c.ClosedAt, c.RetainedUntil = fromMS(created), fromMS(closed), fromMS(retained)
	c.CallStartedAt, c.CallDuration = fromMS(started), time.Duration(dur)*time.Millisecond
	return c, nil
}

// GetCalibration implements TrainingStore.
func (s *SQLite) GetCalibration(ctx context.Context, id string) (Calibration, error) {
	return s.getCalibration(ctx, s.db, id)
}

func (s *SQLite) getCalibration(ctx context.Context, q querier, id string) (Calibration, error) {
	c, err := scanCalibration(q.QueryRowContext(ctx, `SELECT `+calibrationCols+` FROM calibrations c
		LEFT JOIN users u ON u.id = c.created_by WHERE c.id = ?`, id))
	if err != nil {
		return Calibration{}, notFound(err, "calibration "+id)
	}
	if c.Scores, err = s.scores(ctx, q, id); err != nil {
		return Calibration{}, err
	}
	return c, nil
}

func (s *SQLite) scores(ctx context.Context, q querier, calibrationID string) ([]CalibrationScore, error) {
	rows, err := q.QueryContext(ctx, `SELECT x.id, x.evaluator_id, COALESCE(u.display_name, ''), x.answers, x.comment,
		x.override_reason, x.total_tenths, x.has_total, x.version, x.updated_at, x.submitted_at
		FROM calibration_scores x LEFT JOIN users u ON u.id = x.evaluator_id
		WHERE x.calibration_id = ? ORDER BY u.display_name, x.evaluator_id`, calibrationID)
	if err != nil {
		return nil, fmt.Errorf("scores of %s: %w", calibrationID, err)
	}
	defer rows.Close()
	var out []CalibrationScore
	for rows.Next() {
		sc := CalibrationScore{CalibrationID: calibrationID}
		var text [3]raw
		var has int
		var updated, submitted int64
		if err := rows.Scan(&sc.ID, &sc.EvaluatorID, &sc.EvaluatorName, &text[0], &text[1], &text[2], &sc.TotalTenths,
			&has, &sc.Version, &updated, &submitted); err != nil {
			return nil, err
		}
		var answers string
		for i, f := range []*string{&answers, &sc.Comment, &sc.OverrideReason} {
			v, err := s.open("calibration_scores", SealedColumns["calibration_scores"][i], sc.ID, text[i].v)
			if err != nil {
				return nil, err
			}
			*f = v
		}
		var as []answerJSON
		if answers != "" {
			if err := json.Unmarshal([]byte(answers), &as); err != nil {
				return nil, fmt.Errorf("score %s answers: %w", sc.ID, err)
			}
		}
		for _, a := range as {
			sc.Answers = append(sc.Answers, grid.Answer{CriterionID: a.CriterionID, Value: a.Value, Comment: a.Comment})
		}
		sc.HasTotal, sc.UpdatedAt, sc.SubmittedAt = has != 0, fromMS(updated), fromMS(submitted)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// ListCalibrations implements TrainingStore.
func (s *SQLite) ListCalibrations(ctx context.Context, q CalibrationQuery) ([]Calibration, error) {
	w := ` WHERE (c.created_by = ? OR EXISTS (SELECT 1 FROM calibration_scores x WHERE x.calibration_id = c.id
		AND x.evaluator_id = ?))`
	args := []any{q.UserID, q.UserID}
	if q.GridID != "" {
		w += ` AND c.grid_id = ?`
		args = append(args, q.GridID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+calibrationCols+` FROM calibrations c
		LEFT JOIN users u ON u.id = c.created_by`+w+fmt.Sprintf(` ORDER BY c.created_at DESC, c.id LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list calibrations: %w", err)
	}
	var out []Calibration
	for rows.Next() {
		c, err := scanCalibration(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list calibrations: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Scores, err = s.scores(ctx, s.db, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateCalibrationScore implements TrainingStore.
func (s *SQLite) UpdateCalibrationScore(ctx context.Context, sc CalibrationScore, expect int64, close bool) (Calibration, error) {
	answers, err := json.Marshal(answersJSON(sc.Answers))
	if err != nil {
		return Calibration{}, err
	}
	var out Calibration
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE calibration_scores SET answers = ?, comment = ?, override_reason = ?,
			total_tenths = ?, has_total = ?, version = version + 1, updated_at = ?, submitted_at = ?
			WHERE id = ? AND version = ?`, s.seal("calibration_scores", "answers", sc.ID, string(answers)),
			s.seal("calibration_scores", "comment", sc.ID, sc.Comment),
			s.seal("calibration_scores", "override_reason", sc.ID, sc.OverrideReason), sc.TotalTenths,
			b2i(sc.HasTotal), ms(sc.UpdatedAt), ms(sc.SubmittedAt), sc.ID, expect)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var cur int64
			if err := tx.QueryRowContext(ctx, `SELECT version FROM calibration_scores WHERE id = ?`, sc.ID).Scan(&cur); err != nil {
				return notFound(err, "calibration score "+sc.ID)
			}
			return &StaleError{ID: sc.ID, Current: cur}
		}
		if close {
			if _, err := tx.ExecContext(ctx, `UPDATE calibrations SET status = 'closed', closed_at = ?
				WHERE id = ? AND status = 'open'`, ms(sc.UpdatedAt), sc.CalibrationID); err != nil {
				return err
			}
		}
		if err := recordRequest(ctx, tx, sc.CalibrationID, 0); err != nil {
			return err
		}
		out, err = s.getCalibration(ctx, tx, sc.CalibrationID)
		return err
	})
	if err != nil {
		return Calibration{}, fmt.Errorf("update calibration score %s: %w", sc.ID, err)
	}
	return out, nil
}

// CloseCalibration implements TrainingStore.
func (s *SQLite) CloseCalibration(ctx context.Context, id string, at time.Time) (Calibration, error) {
	var out Calibration
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE calibrations SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'`,
			ms(at), id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if err := recordRequest(ctx, tx, id, n); err != nil {
			return err
		}
		out, err = s.getCalibration(ctx, tx, id)
		return err
	})
	if err != nil {
		return Calibration{}, fmt.Errorf("close calibration %s: %w", id, err)
	}
	return out, nil
}

// DeleteExpiredCalibrations implements TrainingStore.
func (s *SQLite) DeleteExpiredCalibrations(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM calibrations WHERE retained_until <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired calibrations: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
