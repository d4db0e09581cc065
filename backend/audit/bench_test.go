package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

func benchLog(b *testing.B) *audit.Log {
	b.Helper()
	dir := b.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "ecoute.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	key, err := audit.LoadOrCreateKey(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		b.Fatal(err)
	}
	return audit.New(st, clock.Real{}, key, nil)
}

var benchEntry = audit.Entry{Actor: audit.Actor{UserID: "u1", Login: "claire", Role: "supervisor"},
	Source: "192.0.2.7:51234", Action: audit.ActionCallView, Target: "0123456789abcdef",
	Details: map[string]string{"result": "ok"}}

// BenchmarkAppend is the cost one audited RPC adds (a write transaction
// on a real SQLite file plus an Ed25519 signature of the head).
func BenchmarkAppend(b *testing.B) {
	l := benchLog(b)
	ctx := context.Background()
	for b.Loop() {
		if err := l.Append(ctx, benchEntry); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify10k walks a chain of 10,000 entries.
func BenchmarkVerify10k(b *testing.B) {
	l := benchLog(b)
	ctx := context.Background()
	for range 10000 {
		if err := l.Append(ctx, benchEntry); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rep, err := l.Verify(ctx)
		if err != nil || !rep.OK || rep.Entries != 10000 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
}

// BenchmarkAppendAnchored is BenchmarkAppend with the head also sealed in
// a head log and a witness (one more signature and two file writes).
func BenchmarkAppendAnchored(b *testing.B) {
	l := benchLog(b)
	ctx := context.Background()
	for _, name := range []string{"head log", "witness"} {
		if err := l.AddAnchor(ctx, name, filepath.Join(b.TempDir(), "anchor.log"), true); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { l.Close() })
	for b.Loop() {
		if err := l.Append(ctx, benchEntry); err != nil {
			b.Fatal(err)
		}
	}
}
