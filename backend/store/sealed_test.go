package store

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/ecoute/ecoute/backend/fieldcrypt"
)

func testCipher(t *testing.T) *fieldcrypt.Cipher {
	t.Helper()
	c, err := fieldcrypt.New(bytes.Repeat([]byte{42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Rows written in clear by an older version are sealed at the next start,
// read back as they were, and gone from the file.
func TestEnableFieldEncryptionSealsOldRows(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	fixture(t, s, 1)
	if _, err := s.db.Exec(`UPDATE calls SET customer_name = 'Jeanne Zanzibar', customer_phone = '+33600000001'`); err != nil {
		t.Fatal(err)
	}
	n, err := s.EnableFieldEncryption(ctx, testCipher(t))
	if err != nil || n == 0 {
		t.Fatalf("sealed %d: %v", n, err)
	}
	var typ string
	if err := s.db.QueryRow(`SELECT DISTINCT typeof(customer_name) FROM calls`).Scan(&typ); err != nil || typ != "blob" {
		t.Errorf("customer_name stored as %s (%v)", typ, err)
	}
	cs, _, err := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}, Order: OrderStartedAt, Limit: 100})
	if err != nil || len(cs) == 0 || cs[0].CustomerName != "Jeanne Zanzibar" || cs[0].CustomerPhone != "+33600000001" {
		t.Fatalf("read back: %v %+v", err, cs)
	}
	if again, err := s.EnableFieldEncryption(ctx, testCipher(t)); err != nil || again != 0 {
		t.Errorf("second start sealed %d rows again: %v", again, err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("Zanzibar")) {
			t.Errorf("%s still holds the customer's name", f)
		}
	}
	// A sealed value moved to another row no longer opens.
	if _, err := s.db.Exec(`UPDATE calls SET customer_name = (SELECT customer_name FROM calls ORDER BY id LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}, Order: OrderStartedAt, Limit: 100}); err == nil {
		t.Error("a value moved between rows was read")
	}
}

func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	_, path := openTest(t)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 600", f, st.Mode().Perm())
		}
	}
}
