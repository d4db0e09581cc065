package backend_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/store"
)

// TestPersonalDataIsNotInTheDatabaseFile reads the database file of the
// seeded demo, its WAL included, as someone who copied them would: no
// customer's name, address or phone number, no evaluation comment is in
// them; and they are readable by their owner only.
func TestPersonalDataIsNotInTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	cs, _, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Order: store.OrderStartedAt, Limit: 20})
	if err != nil || len(cs) == 0 {
		t.Fatalf("calls: %v", err)
	}
	var secrets []string
	for _, c := range cs {
		if c.CustomerName == "" || c.CustomerPhone == "" {
			t.Fatalf("demo call %s has no customer", c.ID)
		}
		secrets = append(secrets, c.CustomerName, c.CustomerPhone, c.CustomerAddress)
	}
	secrets = append(secrets, "Échange clair et bien structuré", "Bonne reformulation")
	path := filepath.Join(env.dir, backend.DBFile)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), st.Mode().Perm())
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in clear", filepath.Base(f), s)
			}
		}
	}
	// The grep can find what is there: the agents' names are not sealed.
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte(cs[0].AgentName)) && !strings.Contains(string(b), "team-energie") {
		t.Error("the file holds no clear text at all: the check proves nothing")
	}
}
