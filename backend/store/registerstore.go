package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds, channels and statuses of the dpo's register (R7).
const (
	RequestAccess        = "access"
	RequestRectification = "rectification"
	RequestObjection     = "objection"
	RequestErasure       = "erasure"

	RequestOpen   = "open"
	RequestClosed = "closed"
)

// RequestKinds and RequestChannels list the accepted values.
var (
	RequestKinds    = []string{RequestAccess, RequestRectification, RequestObjection, RequestErasure}
	RequestChannels = []string{"letter", "email", "phone", "in_person", "web", "other"}
)

// PrivacyRequest is one request of the register.
type PrivacyRequest struct {
	ID, Kind      string
	ReceivedAt    time.Time
	Channel       string
	IdentityCheck string
	Subject       Subject
	Requester     string
	Note          string
	DueAt         time.Time
	Status        string
	ClosedAt      time.Time
	Outcome       string
	ClosedBy      string
	RecordedAt    time.Time
	RecordedBy    string
}

// RegisterStore keeps the register.
type RegisterStore interface {
	CreatePrivacyRequest(ctx context.Context, r PrivacyRequest) error
	PrivacyRequest(ctx context.Context, id string) (PrivacyRequest, error)
	// ListPrivacyRequests lists open requests first, soonest due first;
	// closed ones too when all.
	ListPrivacyRequests(ctx context.Context, all bool) ([]PrivacyRequest, error)
	// ClosePrivacyRequest closes an open request; ErrNotFound when no open
	// request has this id.
	ClosePrivacyRequest(ctx context.Context, id, outcome, by string, at time.Time) error
}

var _ RegisterStore = (*SQLite)(nil)

const registerCols = `id, kind, received_at, channel, identity_check, agent_id, subject_phone, requester, note, due_at,
	status, closed_at, outcome, closed_by, recorded_at, recorded_by`

func (s *SQLite) scanPrivacyRequest(r scanner) (PrivacyRequest, error) {
	var p PrivacyRequest
	var check, phone, requester, note, outcome raw
	var recv, due, closed, rec int64
	if err := r.Scan(&p.ID, &p.Kind, &recv, &p.Channel, &check, &p.Subject.AgentID, &phone, &requester, &note, &due,
		&p.Status, &closed, &outcome, &p.ClosedBy, &rec, &p.RecordedBy); err != nil {
		return PrivacyRequest{}, err
	}
	for _, f := range []struct {
		col string
		v   any
		to  *string
	}{{"identity_check", check.v, &p.IdentityCheck}, {"subject_phone", phone.v, &p.Subject.CustomerPhone},
		{"requester", requester.v, &p.Requester}, {"note", note.v, &p.Note}, {"outcome", outcome.v, &p.Outcome}} {
		v, err := s.open("privacy_requests", f.col, p.ID, f.v)
		if err != nil {
			return PrivacyRequest{}, err
		}
		*f.to = v
	}
	p.ReceivedAt, p.DueAt, p.ClosedAt, p.RecordedAt = fromMS(recv), fromMS(due), fromMS(closed), fromMS(rec)
	return p, nil
}

// CreatePrivacyRequest implements RegisterStore.
func (s *SQLite) CreatePrivacyRequest(ctx context.Context, r PrivacyRequest) error {
	seal := func(col, v string) any { return s.seal("privacy_requests", col, r.ID, v) }
	return s.create(ctx, "record privacy request", r.ID, `INSERT INTO privacy_requests (id, kind, received_at, channel,
		identity_check, agent_id, subject_phone, subject_phone_hash, requester, note, due_at, status, recorded_at,
		recorded_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, r.ID, r.Kind, ms(r.ReceivedAt), r.Channel,
		seal("identity_check", r.IdentityCheck), r.Subject.AgentID, seal("subject_phone", r.Subject.CustomerPhone),
		s.PhoneIndex(r.Subject.CustomerPhone), seal("requester", r.Requester), seal("note", r.Note), ms(r.DueAt),
		RequestOpen, ms(r.RecordedAt), r.RecordedBy)
}

// PrivacyRequest implements RegisterStore.
func (s *SQLite) PrivacyRequest(ctx context.Context, id string) (PrivacyRequest, error) {
	p, err := s.scanPrivacyRequest(s.db.QueryRowContext(ctx, `SELECT `+registerCols+` FROM privacy_requests WHERE id = ?`, id))
	if err != nil {
		return PrivacyRequest{}, notFound(err, "privacy request "+id)
	}
	return p, nil
}

// ListPrivacyRequests implements RegisterStore.
func (s *SQLite) ListPrivacyRequests(ctx context.Context, all bool) ([]PrivacyRequest, error) {
	q := `SELECT ` + registerCols + ` FROM privacy_requests`
	if !all {
		q += ` WHERE status = 'open'`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY status <> 'open', due_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list privacy requests: %w", err)
	}
	defer rows.Close()
	var out []PrivacyRequest
	for rows.Next() {
		p, err := s.scanPrivacyRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list privacy requests: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ClosePrivacyRequest implements RegisterStore.
func (s *SQLite) ClosePrivacyRequest(ctx context.Context, id, outcome, by string, at time.Time) error {
	return execErr("close privacy request "+id, s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET status = 'closed', closed_at = ?, outcome = ?,
			closed_by = ? WHERE id = ? AND status = 'open'`, ms(at), s.seal("privacy_requests", "outcome", id, outcome), by, id)
		if err := s.mustUpdate(res, err, "open privacy request "+id); err != nil {
			return err
		}
		return recordRequest(ctx, tx, id, 0)
	}))
}
