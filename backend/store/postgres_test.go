package store

import (
	"context"
	"sync"
	"testing"
)

// TestServersMigrateAtOnce: three servers starting together on an empty
// PostgreSQL database migrate it once between them, and all three start.
func TestServersMigrateAtOnce(t *testing.T) {
	if !onPostgres() {
		t.Skip("PostgreSQL only")
	}
	ctx := context.Background()
	const name = "empty_at_start"
	if _, err := pgAdmin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stores := make([]*SQLite, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(ctx, pgCluster.DSN(name), nil) })
	}
	wg.Wait()
	var versions []int64
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i+1, errs[i])
		}
		defer s.Close()
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	ref, _ := openTest(t) // migrated from the template
	want, err := ref.SchemaVersion(ctx)
	if err != nil || versions[0] != want || versions[1] != want || versions[2] != want {
		t.Fatalf("schema versions %v, want %d (%v)", versions, want, err)
	}
	var applied int
	if err := stores[0].db.QueryRowContext(ctx, `SELECT COUNT(*) FROM goose_db_version WHERE version_id = ?`, want).Scan(&applied); err != nil || applied != 1 {
		t.Fatalf("the last migration applied %d times, %v", applied, err)
	}
}
