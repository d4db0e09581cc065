package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ecoute/ecoute/internal/pgtest"
)

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestFailover: a row committed on the primary is on the synchronous
// standby when the primary dies; the promoted standby takes writes.
func TestFailover(t *testing.T) {
	ctx := context.Background()
	primary := pgtest.Start(t)
	standby := primary.StartStandby(t)
	p := connect(t, primary.DSN("postgres"))
	if _, err := p.Exec(ctx, "CREATE TABLE calls (id text PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO calls VALUES ('acknowledged')"); err != nil {
		t.Fatal(err)
	}
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	s := connect(t, standby.DSN("postgres"))
	var id string
	if err := s.QueryRow(ctx, "SELECT id FROM calls").Scan(&id); err != nil || id != "acknowledged" {
		t.Fatalf("after failover: %q, %v", id, err)
	}
	if _, err := s.Exec(ctx, "INSERT INTO calls VALUES ('after')"); err != nil {
		t.Fatalf("the promoted standby refuses writes: %v", err)
	}
}
