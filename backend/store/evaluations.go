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

// Evaluation states (backend/lifecycle says which action leads where).
const (
	EvalDraft        = domain.EvalDraft
	EvalSubmitted    = domain.EvalSubmitted
	EvalAcknowledged = domain.EvalAcknowledged
	EvalDisputed     = domain.EvalDisputed
	EvalResolved     = domain.EvalResolved
)

// Dispute resolutions.
const (
	ResolutionKept    = domain.ResolutionKept
	ResolutionRevised = domain.ResolutionRevised
)

// GridRecord is one stored version of a grid.
type GridRecord struct {
	Grid      grid.Grid // Grid.Version is the record's version
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Used      bool // an evaluation refers to this version
}

// Evaluation is one call's evaluation. AgentName, EvaluatorName,
// ResolvedByName and GridName are filled on reads.
type Evaluation struct {
	ID            string
	CallID        string
	CallStartedAt time.Time
	GridID        string
	GridVersion   int
	GridName      string
	AgentID       string
	AgentName     string
	TeamID        string
	// CampaignID is the call's campaign (filled from the call when empty
	// on insert); Kind is KindNormal or KindCalibration (never counted in
	// statistics; empty is normal).
	CampaignID     string
	Kind           string
	EvaluatorID    string
	EvaluatorName  string
	Status         string
	Version        int64
	Answers        []grid.Answer
	Comment        string
	TotalTenths    int64
	HasTotal       bool
	CriticalFailed bool
	OverrideReason string

	CreatedAt     time.Time
	UpdatedAt     time.Time
	SubmittedAt   time.Time
	RetainedUntil time.Time

	AcknowledgedAt time.Time
	DisputedAt     time.Time
	AgentComment   string

	ResolvedAt       time.Time
	Resolution       string
	ResolutionReason string
	ResolvedBy       string
	ResolvedByName   string
}

// EvalScope is which evaluations a caller may read: those of calls in Scope
// (by team or agent), and only submitted ones unless Drafts.
type EvalScope = domain.EvalScope

// EvalQuery asks for evaluations, newest call first.
type EvalQuery struct {
	Scope    EvalScope
	CallID   string
	Statuses []string
	Limit    int
	// The statistics' drill-down: only counted evaluations (submitted,
	// normal kind) of these teams, agents, campaigns, grids, evaluator,
	// calls started in [From, To), with FailedCriterion failed.
	Counted          bool
	Teams, Agents    []string
	Campaigns, Grids []string
	EvaluatorID      string
	From, To         time.Time
	FailedCriterion  string
}

// StaleError is a save against a version that is no longer current.
type StaleError struct {
	ID      string
	Current int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("evaluation %s is at version %d", e.ID, e.Current)
}

// EvaluationStore keeps grids and evaluations (issue 6).
type EvaluationStore interface {
	// ListGrids returns the latest version of every grid, by name.
	ListGrids(ctx context.Context) ([]GridRecord, error)
	// GetGrid returns a version of a grid; version 0 is the latest.
	GetGrid(ctx context.Context, id string, version int) (GridRecord, error)
	// SaveGrid stores g: version 1 if new, an update of the latest version
	// if no evaluation uses it, else a new version. newVersion tells which.
	SaveGrid(ctx context.Context, g grid.Grid, by string, now time.Time) (rec GridRecord, newVersion bool, err error)

	// CreateEvaluation inserts e; ErrDuplicate if its call has one.
	CreateEvaluation(ctx context.Context, e Evaluation) error
	// CreateEvaluations inserts several in one transaction.
	CreateEvaluations(ctx context.Context, es []Evaluation) error
	// GetEvaluation returns an evaluation within scope, or ErrNotFound.
	GetEvaluation(ctx context.Context, id string, scope EvalScope) (Evaluation, error)
	ListEvaluations(ctx context.Context, q EvalQuery) ([]Evaluation, error)
	// UpdateEvaluation writes e if the stored version is still expect, and
	// increments the version; *StaleError otherwise. Once e is no longer a
	// draft its call is marked evaluated.
	UpdateEvaluation(ctx context.Context, e Evaluation, expect int64) (Evaluation, error)
	// DeleteExpiredEvaluations deletes the evaluations whose retention
	// ended at or before now (R4, R12) and clears their calls' evaluated
	// flag.
	DeleteExpiredEvaluations(ctx context.Context, now time.Time) (int, error)
}

var _ EvaluationStore = (*SQLite)(nil)

// ListGrids returns the latest version of every grid.
func (s *SQLite) ListGrids(ctx context.Context) ([]GridRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.version, g.body, g.created_by, g.created_at, g.updated_at,
		CASE WHEN EXISTS (SELECT 1 FROM evaluations e WHERE e.grid_id = g.id AND e.grid_version = g.version) THEN 1 ELSE 0 END
		FROM grids g WHERE g.version = (SELECT MAX(version) FROM grids h WHERE h.id = g.id) ORDER BY g.name, g.id`)
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", err)
	}
	defer rows.Close()
	var out []GridRecord
	for rows.Next() {
		r, err := scanGrid(rows)
		if err != nil {
			return nil, fmt.Errorf("list grids: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanGrid(r scanner) (GridRecord, error) {
	var rec GridRecord
	var id, body string
	var version, used int
	var created, updated int64
	if err := r.Scan(&id, &version, &body, &rec.CreatedBy, &created, &updated, &used); err != nil {
		return GridRecord{}, err
	}
	if err := json.Unmarshal([]byte(body), &rec.Grid); err != nil {
		return GridRecord{}, fmt.Errorf("grid %s v%d: %w", id, version, err)
	}
	rec.Grid.ID, rec.Grid.Version = id, version
	rec.CreatedAt, rec.UpdatedAt, rec.Used = fromMS(created), fromMS(updated), used != 0
	return rec, nil
}

// GetGrid returns one version of a grid (0 = latest).
func (s *SQLite) GetGrid(ctx context.Context, id string, version int) (GridRecord, error) {
	return getGrid(ctx, s.db, id, version)
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func getGrid(ctx context.Context, q rowQuerier, id string, version int) (GridRecord, error) {
	const cols = `SELECT g.id, g.version, g.body, g.created_by, g.created_at, g.updated_at,
		CASE WHEN EXISTS (SELECT 1 FROM evaluations e WHERE e.grid_id = g.id AND e.grid_version = g.version) THEN 1 ELSE 0 END FROM grids g`
	var row *sql.Row
	if version == 0 {
		row = q.QueryRowContext(ctx, cols+` WHERE g.id = ? ORDER BY g.version DESC LIMIT 1`, id)
	} else {
		row = q.QueryRowContext(ctx, cols+` WHERE g.id = ? AND g.version = ?`, id, version)
	}
	rec, err := scanGrid(row)
	if err != nil {
		return GridRecord{}, notFound(err, fmt.Sprintf("grid %s v%d", id, version))
	}
	return rec, nil
}

// SaveGrid stores a grid, versioning it when the latest version is used.
func (s *SQLite) SaveGrid(ctx context.Context, g grid.Grid, by string, now time.Time) (GridRecord, bool, error) {
	var rec GridRecord
	var newVersion bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getGrid(ctx, tx, g.ID, 0)
		switch {
		case errors.Is(err, ErrNotFound):
			g.Version, newVersion = 1, true
		case err != nil:
			return err
		case cur.Used:
			g.Version, newVersion = cur.Grid.Version+1, true
		default:
			g.Version = cur.Grid.Version
		}
		body, err := json.Marshal(g)
		if err != nil {
			return err
		}
		if newVersion {
			_, err = tx.ExecContext(ctx, `INSERT INTO grids (id, version, name, direction, body, created_by, created_at,
				updated_at) VALUES (?,?,?,?,?,?,?,?)`, g.ID, g.Version, g.Name, g.Direction, string(body), by, ms(now), ms(now))
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE grids SET name = ?, direction = ?, body = ?, updated_at = ?
				WHERE id = ? AND version = ?`, g.Name, g.Direction, string(body), ms(now), g.ID, g.Version)
		}
		if err != nil {
			return err
		}
		if rec, err = getGrid(ctx, tx, g.ID, g.Version); err != nil {
			return err
		}
		n := int64(0)
		if newVersion {
			n = 1
		}
		return recordRequest(ctx, tx, g.ID, n)
	})
	if err != nil {
		return GridRecord{}, false, fmt.Errorf("save grid %s: %w", g.ID, err)
	}
	return rec, newVersion, nil
}

// CreateEvaluation inserts a new evaluation.
func (s *SQLite) CreateEvaluation(ctx context.Context, e Evaluation) error {
	return s.CreateEvaluations(ctx, []Evaluation{e})
}

// CreateEvaluations inserts evaluations in one transaction (the demo seeds
// a hundred at once); ErrDuplicate if a call already has one.
func (s *SQLite) CreateEvaluations(ctx context.Context, es []Evaluation) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t, grids := touched{}, gridCache{}
		for _, e := range es {
			if e.Kind == "" {
				e.Kind = KindNormal
			}
			answers, err := json.Marshal(answersJSON(e.Answers))
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO evaluations (id, call_id, call_started_at, grid_id, grid_version,
				agent_id, team_id, evaluator_id, status, version, answers, comment, total_tenths, has_total,
				critical_failed, override_reason, created_at, updated_at, submitted_at, retained_until,
				acknowledged_at, disputed_at, agent_comment, resolved_at, resolution, resolution_reason, resolved_by,
				campaign_id, kind)
				VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,
				COALESCE(NULLIF(?, ''), (SELECT c.campaign_id FROM calls c WHERE c.id = ?), ''),?)`,
				e.ID, e.CallID, ms(e.CallStartedAt), e.GridID, e.GridVersion, e.AgentID, e.TeamID, e.EvaluatorID,
				e.Status, e.Version, s.seal("evaluations", "answers", e.ID, string(answers)),
				s.seal("evaluations", "comment", e.ID, e.Comment), e.TotalTenths, b2i(e.HasTotal), b2i(e.CriticalFailed),
				s.seal("evaluations", "override_reason", e.ID, e.OverrideReason), ms(e.CreatedAt), ms(e.UpdatedAt),
				ms(e.SubmittedAt), ms(e.RetainedUntil), ms(e.AcknowledgedAt), ms(e.DisputedAt),
				s.seal("evaluations", "agent_comment", e.ID, e.AgentComment), ms(e.ResolvedAt), e.Resolution,
				s.seal("evaluations", "resolution_reason", e.ID, e.ResolutionReason), e.ResolvedBy, e.CampaignID,
				e.CallID, e.Kind)
			if isUnique(err) {
				return fmt.Errorf("call %s: %w", e.CallID, ErrDuplicate)
			}
			if err != nil {
				return fmt.Errorf("call %s: %w", e.CallID, err)
			}
			if err := writeParts(ctx, tx, grids, e); err != nil {
				return err
			}
			if e.Status != EvalDraft {
				if _, err := tx.ExecContext(ctx, `UPDATE calls SET evaluated = 1 WHERE id = ?`, e.CallID); err != nil {
					return err
				}
				t.add(e.AgentID, e.CallStartedAt)
			}
		}
		if err := s.refreshEvaluations(ctx, tx, t); err != nil {
			return err
		}
		if len(es) == 1 { // a request names one evaluation
			return recordRequest(ctx, tx, es[0].ID, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create evaluations: %w", err)
	}
	return nil
}

// answerJSON is the stored form of an answer; the names are the column's
// contract, independent of the Go field names.
type answerJSON struct {
	CriterionID string `json:"criterion_id"`
	Value       string `json:"value"`
	Comment     string `json:"comment,omitempty"`
}

func answersJSON(as []grid.Answer) []answerJSON {
	out := make([]answerJSON, 0, len(as))
	for _, a := range as {
		out = append(out, answerJSON{a.CriterionID, a.Value, a.Comment})
	}
	return out
}

const evalCols = `e.id, e.call_id, e.call_started_at, e.grid_id, e.grid_version, COALESCE(g.name, ''), e.agent_id,
	COALESCE(a.name, ''), e.team_id, e.evaluator_id, COALESCE(u.display_name, ''), e.status, e.version, e.answers,
	e.comment, e.total_tenths, e.has_total, e.critical_failed, e.override_reason, e.created_at, e.updated_at,
	e.submitted_at, e.retained_until, e.acknowledged_at, e.disputed_at, e.agent_comment, e.resolved_at,
	e.resolution, e.resolution_reason, e.resolved_by, COALESCE(r.display_name, ''), e.campaign_id, e.kind`

const evalFrom = ` FROM evaluations e LEFT JOIN grids g ON g.id = e.grid_id AND g.version = e.grid_version
	LEFT JOIN agents a ON a.id = e.agent_id LEFT JOIN users u ON u.id = e.evaluator_id
	LEFT JOIN users r ON r.id = e.resolved_by`

func (s *SQLite) scanEvaluation(r scanner) (Evaluation, error) {
	var e Evaluation
	var answers string
	var text [5]raw // SealedColumns["evaluations"]
	var callStart, created, updated, submitted, retained, acked, disputed, resolved int64
	var hasTotal, critical int
	err := r.Scan(&e.ID, &e.CallID, &callStart, &e.GridID, &e.GridVersion, &e.GridName, &e.AgentID, &e.AgentName,
		&e.TeamID, &e.EvaluatorID, &e.EvaluatorName, &e.Status, &e.Version, &text[0], &text[1], &e.TotalTenths,
		&hasTotal, &critical, &text[2], &created, &updated, &submitted, &retained, &acked, &disputed,
		&text[3], &resolved, &e.Resolution, &text[4], &e.ResolvedBy, &e.ResolvedByName, &e.CampaignID, &e.Kind)
	if err != nil {
		return Evaluation{}, err
	}
	for i, f := range []*string{&answers, &e.Comment, &e.OverrideReason, &e.AgentComment, &e.ResolutionReason} {
		if *f, err = s.open("evaluations", SealedColumns["evaluations"][i], e.ID, text[i].v); err != nil {
			return Evaluation{}, err
		}
	}
	var as []answerJSON
	if err := json.Unmarshal([]byte(answers), &as); err != nil {
		return Evaluation{}, fmt.Errorf("evaluation %s answers: %w", e.ID, err)
	}
	for _, a := range as {
		e.Answers = append(e.Answers, grid.Answer{CriterionID: a.CriterionID, Value: a.Value, Comment: a.Comment})
	}
	e.HasTotal, e.CriticalFailed = hasTotal != 0, critical != 0
	e.CallStartedAt, e.CreatedAt, e.UpdatedAt = fromMS(callStart), fromMS(created), fromMS(updated)
	e.SubmittedAt, e.RetainedUntil = fromMS(submitted), fromMS(retained)
	e.AcknowledgedAt, e.DisputedAt, e.ResolvedAt = fromMS(acked), fromMS(disputed), fromMS(resolved)
	return e, nil
}

// evalWhere is the scope clause shared by reads.
func evalWhere(sc EvalScope) (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) string {
		for _, v := range vals {
			args = append(args, v)
		}
		return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")"
	}
	if !sc.Scope.All {
		var or []string
		if len(sc.Scope.TeamIDs) > 0 {
			or = append(or, in("e.team_id", sc.Scope.TeamIDs))
		}
		if len(sc.Scope.AgentIDs) > 0 {
			or = append(or, in("e.agent_id", sc.Scope.AgentIDs))
		}
		if sc.Scope.Trainer != "" {
			cond, targs := trainerReach(sc.Scope, "e.agent_id", "e.team_id", "e.call_id")
			or, args = append(or, cond), append(args, targs...)
		}
		if len(or) == 0 {
			or = []string{"1 = 0"}
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if !sc.Drafts {
		conds = append(conds, "e.status <> 'draft'")
	}
	if len(conds) == 0 {
		return " WHERE 1 = 1", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// GetEvaluation returns one evaluation within scope.
func (s *SQLite) GetEvaluation(ctx context.Context, id string, scope EvalScope) (Evaluation, error) {
	w, args := evalWhere(scope)
	e, err := s.scanEvaluation(s.db.QueryRowContext(ctx, `SELECT `+evalCols+evalFrom+w+` AND e.id = ?`, append(args, id)...))
	if err != nil {
		return Evaluation{}, notFound(err, "evaluation "+id)
	}
	return e, nil
}

// ListEvaluations returns evaluations within scope, newest call first.
func (s *SQLite) ListEvaluations(ctx context.Context, q EvalQuery) ([]Evaluation, error) {
	w, args := evalWhere(q.Scope)
	if q.CallID != "" {
		w += " AND e.call_id = ?"
		args = append(args, q.CallID)
	}
	if len(q.Statuses) > 0 {
		w += " AND e.status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(q.Statuses)), ",") + ")"
		for _, st := range q.Statuses {
			args = append(args, st)
		}
	}
	if q.Counted {
		var b strings.Builder
		b.WriteString(" AND e.status <> 'draft' AND e.kind = 'normal' AND e.has_total = 1")
		inClause(&b, &args, "e.team_id", q.Teams)
		inClause(&b, &args, "e.agent_id", q.Agents)
		inClause(&b, &args, "e.campaign_id", q.Campaigns)
		inClause(&b, &args, "e.grid_id", q.Grids)
		if q.EvaluatorID != "" {
			b.WriteString(" AND e.evaluator_id = ?")
			args = append(args, q.EvaluatorID)
		}
		if !q.From.IsZero() {
			b.WriteString(" AND e.call_started_at >= ?")
			args = append(args, ms(q.From))
		}
		if !q.To.IsZero() {
			b.WriteString(" AND e.call_started_at < ?")
			args = append(args, ms(q.To))
		}
		if q.FailedCriterion != "" {
			b.WriteString(` AND EXISTS (SELECT 1 FROM evaluation_parts p WHERE p.evaluation_id = e.id AND p.kind = 'c'
				AND p.part_id = ? AND p.failed = 1)`)
			args = append(args, q.FailedCriterion)
		}
		w += b.String()
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+evalCols+evalFrom+w+
		fmt.Sprintf(` ORDER BY e.call_started_at DESC, e.id LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list evaluations: %w", err)
	}
	defer rows.Close()
	var out []Evaluation
	for rows.Next() {
		e, err := s.scanEvaluation(rows)
		if err != nil {
			return nil, fmt.Errorf("list evaluations: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateEvaluation writes the mutable fields of e if its version is expect.
func (s *SQLite) UpdateEvaluation(ctx context.Context, e Evaluation, expect int64) (Evaluation, error) {
	answers, err := json.Marshal(answersJSON(e.Answers))
	if err != nil {
		return Evaluation{}, fmt.Errorf("update evaluation %s: %w", e.ID, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE evaluations SET status = ?, version = version + 1, answers = ?,
			comment = ?, total_tenths = ?, has_total = ?, critical_failed = ?, override_reason = ?, updated_at = ?,
			submitted_at = ?, acknowledged_at = ?, disputed_at = ?, agent_comment = ?, resolved_at = ?,
			resolution = ?, resolution_reason = ?, resolved_by = ?, evaluator_id = ? WHERE id = ? AND version = ?`,
			e.Status, s.seal("evaluations", "answers", e.ID, string(answers)),
			s.seal("evaluations", "comment", e.ID, e.Comment), e.TotalTenths, b2i(e.HasTotal), b2i(e.CriticalFailed),
			s.seal("evaluations", "override_reason", e.ID, e.OverrideReason), ms(e.UpdatedAt), ms(e.SubmittedAt),
			ms(e.AcknowledgedAt), ms(e.DisputedAt), s.seal("evaluations", "agent_comment", e.ID, e.AgentComment),
			ms(e.ResolvedAt), e.Resolution, s.seal("evaluations", "resolution_reason", e.ID, e.ResolutionReason),
			e.ResolvedBy, e.EvaluatorID, e.ID, expect)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var cur int64
			err := tx.QueryRowContext(ctx, `SELECT version FROM evaluations WHERE id = ?`, e.ID).Scan(&cur)
			if err != nil {
				return notFound(err, "evaluation "+e.ID)
			}
			return &StaleError{ID: e.ID, Current: cur}
		}
		// The statistics follow every change of answers or status, in this
		// transaction (a revised dispute changes them at once).
		var stored Evaluation
		if stored, err = s.scanEvaluation(tx.QueryRowContext(ctx, `SELECT `+evalCols+evalFrom+` WHERE e.id = ?`, e.ID)); err != nil {
			return err
		}
		if err := writeParts(ctx, tx, gridCache{}, stored); err != nil {
			return err
		}
		if e.Status != EvalDraft {
			if _, err = tx.ExecContext(ctx, `UPDATE calls SET evaluated = 1 WHERE id = ?`, e.CallID); err != nil {
				return err
			}
			t := touched{}
			t.add(stored.AgentID, stored.CallStartedAt)
			if err := s.refreshEvaluations(ctx, tx, t); err != nil {
				return err
			}
		}
		return recordRequest(ctx, tx, e.ID, 0)
	})
	if err != nil {
		return Evaluation{}, fmt.Errorf("update evaluation %s: %w", e.ID, err)
	}
	return s.GetEvaluation(ctx, e.ID, EvalScope{Scope: Scope{All: true}, Drafts: true})
}

// DeleteExpiredEvaluations deletes evaluations past their retention.
func (s *SQLite) DeleteExpiredEvaluations(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t, err := s.touchedEvaluations(ctx, tx, `e.retained_until <= ?`, ms(now))
		if err != nil {
			return err
		}
		// The call (if it is still kept) is no longer evaluated once its last
		// evaluation is gone.
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET evaluated = 0 WHERE id IN
			(SELECT call_id FROM evaluations WHERE retained_until <= ?)`, ms(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM evaluations WHERE retained_until <= ?`, ms(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Their parts went with them (ON DELETE CASCADE); the aggregates
		// of their agent-months are recomputed from what remains.
		return s.refreshEvaluations(ctx, tx, t)
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired evaluations: %w", err)
	}
	return int(n), nil
}
