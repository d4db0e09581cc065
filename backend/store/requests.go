package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Request is a write that a client may send again after losing the reply,
// named by an id of the client's choosing. The store writes it in the same
// transaction as the change it asks for, so that once the change is
// committed the request is known to be applied: it is then answered, not
// applied again. Only ids, a hash and a count are kept.
type Request struct {
	UserID, Method, ID string
	// Fingerprint is a hash of the request, to refuse an id reused for
	// another request.
	Fingerprint string
	At          time.Time
	// ObjectID is what the write made or changed (an evaluation, an
	// account…), to answer a resent request by reading it again.
	ObjectID string
	// Count is a number the answer needs besides the object (sessions
	// revoked, 1 for a new grid version).
	Count int64

	recorded bool
}

// RequestStore remembers applied requests.
type RequestStore interface {
	// Request returns an applied request, or ErrNotFound.
	Request(ctx context.Context, userID, method, id string) (Request, error)
	// DeleteRequests forgets the requests recorded before cutoff.
	DeleteRequests(ctx context.Context, cutoff time.Time) (int, error)
}

// ErrDuplicateRequest means the same request was applied meanwhile (by a
// concurrent twin): the write was rolled back.
var ErrDuplicateRequest = errors.New("request already applied")

type requestKey struct{}

// WithRequest makes the next write that ctx reaches record r in its
// transaction (at most one write records it). Without it writes record
// nothing.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// recordRequest writes the request of ctx, if any, in tx: the write that
// calls it is the one the request asked for.
func recordRequest(ctx context.Context, tx *sql.Tx, objectID string, count int64) error {
	r, _ := ctx.Value(requestKey{}).(*Request)
	if r == nil || r.recorded {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO requests (user_id, method, request_id, fingerprint, object_id, count,
		created_at) VALUES (?,?,?,?,?,?,?)`, r.UserID, r.Method, r.ID, r.Fingerprint, objectID, count, ms(r.At))
	if isUnique(err) {
		return ErrDuplicateRequest
	}
	if err != nil {
		return fmt.Errorf("record request: %w", err)
	}
	r.ObjectID, r.Count, r.recorded = objectID, count, true
	return nil
}

// Request implements RequestStore.
func (s *SQLite) Request(ctx context.Context, userID, method, id string) (Request, error) {
	r := Request{UserID: userID, Method: method, ID: id}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT fingerprint, object_id, count, created_at FROM requests
		WHERE user_id = ? AND method = ? AND request_id = ?`, userID, method, id).Scan(&r.Fingerprint, &r.ObjectID, &r.Count, &at)
	if err != nil {
		return Request{}, notFound(err, "request "+id)
	}
	r.At = fromMS(at)
	return r, nil
}

// DeleteRequests implements RequestStore.
func (s *SQLite) DeleteRequests(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM requests WHERE created_at < ?`, ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete old requests: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
