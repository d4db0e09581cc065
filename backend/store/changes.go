package store

import (
	"context"
	"fmt"
)

// ChangeCounters are the numbers that triggers raise with every change of
// an area (migration 00060), whichever process makes it: what was read
// while a number has not moved is still true.
type ChangeCounters interface {
	// AuthChanges moves with every change of the accounts, their teams and
	// the sessions, a session's last use aside.
	AuthChanges(ctx context.Context) (int64, error)
}

// The areas counted.
const (
	counterAuth  = "auth"
	counterCalls = "calls"
)

func (s *SQLite) changeCount(ctx context.Context, name string) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT n FROM change_counters WHERE name = ?`, name).Scan(&n); err != nil {
		return 0, fmt.Errorf("change counter %s: %w", name, err)
	}
	return n, nil
}

// AuthChanges is the 'auth' change counter.
func (s *SQLite) AuthChanges(ctx context.Context) (int64, error) {
	return s.changeCount(ctx, counterAuth)
}
