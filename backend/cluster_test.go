package backend_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/internal/pgtest"
)

// TestServersShareADatabase: a second ecouted on the first one's
// PostgreSQL database refuses to start with keys of its own and says what
// to copy; with the copies, both append to one audit chain at once, and
// each verifies it.
func TestServersShareADatabase(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	settings := config.Defaults()
	settings.Store = pg.DSN("postgres")
	open := func(dir string) (*backend.App, error) {
		return backend.Open(ctx, backend.Config{DataDir: dir, Settings: settings, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := open(dirA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if b, err := open(dirB); err == nil {
		b.Close()
		t.Fatal("a server with its own keys joined the database")
	} else if !strings.Contains(err.Error(), "copy data.key, audit.key, tls/ca.pem and tls/ca-key.pem") {
		t.Fatalf("refusal does not say what to copy: %v", err)
	}
	os.RemoveAll(dirB)
	for _, f := range backend.SharedFiles {
		b, err := os.ReadFile(filepath.Join(dirA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dirB, f)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := open(dirB)
	if err != nil {
		t.Fatalf("with the first server's keys: %v", err)
	}
	defer b.Close()
	// Both append at once (each sampling run is audited).
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for _, app := range []*backend.App{a, b} {
		for range 10 {
			wg.Go(func() {
				if _, err := app.Sample(ctx, time.Now()); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for name, app := range map[string]*backend.App{"first": a, "second": b} {
		rep, err := app.Audit().Verify(ctx)
		if err != nil || !rep.OK || rep.Entries < 20 {
			t.Errorf("%s server's verify: %+v, %v", name, rep, err)
		}
	}
}
