package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AuditBatcher appends several audit entries in one transaction
// (backend/audit's Batcher: the entries of concurrent requests, one write
// instead of one each).
type AuditBatcher interface {
	// AuditBatch runs f with an AuditStore whose AppendAudit writes inside
	// one write transaction, committed when f returns nil and rolled back
	// otherwise. Only AppendAudit and AuditHead may be used in f.
	AuditBatch(ctx context.Context, f func(tx AuditStore) error) error
}

// AuditBatch implements AuditBatcher.
func (s *SQLite) AuditBatch(ctx context.Context, f func(tx AuditStore) error) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return f(auditTx{s, tx}) })
	if err != nil {
		return fmt.Errorf("append audit entries: %w", err)
	}
	return nil
}

// auditTx is the AuditStore of one transaction.
type auditTx struct {
	s  *SQLite
	tx *sql.Tx
}

var errNotInBatch = errors.New("not available in an audit batch")

func (a auditTx) AppendAudit(ctx context.Context, build func(head AuditHead) (AuditRow, AuditHead, error)) (AuditRow, error) {
	return a.s.appendAuditTx(ctx, a.tx, build)
}

func (a auditTx) AuditHead(ctx context.Context) (AuditHead, error) { return auditHead(ctx, a.tx) }

func (a auditTx) AuditRows(context.Context, int64, int) ([]AuditRow, error) {
	return nil, errNotInBatch
}

func (a auditTx) ListAudit(context.Context, AuditQuery) ([]AuditRow, error) {
	return nil, errNotInBatch
}

func (a auditTx) LatestAuditCheckpoint(context.Context) (AuditCheckpoint, error) {
	return AuditCheckpoint{}, errNotInBatch
}

func (a auditTx) PurgeAudit(context.Context, time.Time, func(AuditRow, int64) (AuditCheckpoint, error)) (int64, error) {
	return 0, errNotInBatch
}
