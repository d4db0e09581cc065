package main

import (
	"archive/tar"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/store"
	_ "modernc.org/sqlite"
)

// auditDir makes a data directory whose trail holds n entries.
func auditDir(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for i := range n {
		if err := app.Audit().Append(ctx, audit.Entry{Actor: audit.Actor{Login: "sup", Role: "supervisor"},
			Source: "192.0.2.7:4242", Action: audit.ActionCallView, Target: "call-" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tamper changes the database file with a handle of its own, as someone
// with access to the file would.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, backend.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditVerifyNamesTheBadEntry(t *testing.T) {
	dir := auditDir(t, 6)
	out, _, err := runArgs("", "--data", dir, "audit", "verify")
	if err != nil || !strings.HasPrefix(out, "OK: 6 entries") {
		t.Fatalf("intact trail: %v %q", err, out)
	}
	cases := []struct {
		name  string
		stmts []string
		seq   string
	}{
		{"edited", []string{`UPDATE audit_events SET target = 'call-z' WHERE seq = 3`}, "seq 3"},
		{"deleted", []string{`DELETE FROM audit_events WHERE seq = 4`}, "seq 4"},
		{"swapped", []string{`UPDATE audit_events SET seq = -2 WHERE seq = 2`, `UPDATE audit_events SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = -2`}, "seq 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := auditDir(t, 6)
			tamper(t, dir, c.stmts...)
			out, _, err := runArgs("", "--data", dir, "audit", "verify")
			if !errors.Is(err, errChainBroken) || !strings.Contains(err.Error(), c.seq) || !strings.Contains(out, "FAILED") {
				t.Errorf("verify after %s: err %v, out %q; want a failure naming %s", c.name, err, out, c.seq)
			}
		})
	}
}

func TestExportAndEraseSubjectCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a demo data directory")
	}
	dir := t.TempDir()
	if _, errOut, err := runArgs("", "--data", dir, "seed-demo"); err != nil {
		t.Fatalf("seed-demo: %v %s", err, errOut)
	}
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	calls, _, err := app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Order: store.OrderStartedAt, Limit: 1})
	if err != nil || len(calls) == 0 {
		t.Fatalf("a call to export: %v", err)
	}
	phone := calls[0].CustomerPhone
	held, err := app.Store().SubjectData(ctx, store.Subject{CustomerPhone: phone})
	app.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(len(held.Calls))

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	recipientFile := filepath.Join(t.TempDir(), "dpo.txt")
	if err := os.WriteFile(recipientFile, []byte("# the DPO's key\n"+id.Recipient().String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "export.tar.age")
	if out, errOut, err := runArgs("", "--data", dir, "export-subject", "--phone", phone, "--recipient", recipientFile,
		"--out", outFile); err != nil || !strings.Contains(out, ": "+n+" calls") {
		t.Fatalf("export-subject: %v %q %q", err, out, errOut)
	}
	enc, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "audio/"+calls[0].ID+".mp3") {
		t.Errorf("archive holds %v", names)
	}
	// The register of authorized persons, exported the same way.
	regFile := filepath.Join(t.TempDir(), "register.csv.age")
	if out, errOut, err := runArgs("", "--data", dir, "authorized-persons", "--recipient", recipientFile,
		"--out", regFile); err != nil || !strings.Contains(out, "persons, encrypted to age1") {
		t.Fatalf("authorized-persons: %v %q %q", err, out, errOut)
	}
	regEnc, err := os.ReadFile(regFile)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := age.Decrypt(bytes.NewReader(regEnc), id)
	if err != nil {
		t.Fatalf("decrypt register: %v", err)
	}
	reg, _ := io.ReadAll(rr)
	if !strings.Contains(string(reg), "\ndemo-dpo,") || bytes.Contains(regEnc, []byte("demo-dpo")) {
		t.Errorf("register:\n%s", reg)
	}
	if _, _, err := runArgs("", "--data", dir, "export-subject", "--phone", phone, "--recipient", "age1nope",
		"--out", filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "recipient") {
		t.Errorf("bad recipient: %v", err)
	}

	if _, _, err := runArgs("", "--data", dir, "erase-subject", "--phone", phone); err == nil || !strings.Contains(err.Error(), "--reason") {
		t.Errorf("erasure without a reason: %v", err)
	}
	if out, _, err := runArgs("", "--data", dir, "erase-subject", "--phone", phone, "--reason", "objection 7"); err != nil ||
		!strings.HasPrefix(out, "erased "+n+" recordings") {
		t.Fatalf("erase-subject: %v %q", err, out)
	}
	if _, _, err := runArgs("", "--data", dir, "erase-subject", "--phone", "0612", "--reason", "x"); err == nil || !strings.Contains(err.Error(), "E.164") {
		t.Errorf("bad phone: %v", err)
	}
	// The trail names the request of the register; the reason is kept
	// there, not in the trail.
	out, _, err := runArgs("", "--data", dir, "audit", "list", "--action", "privacy.")
	if err != nil || strings.Count(out, "privacy.export") != 1 || !strings.Contains(out, "privacy.erase") ||
		!strings.Contains(out, "privacy.authorized.list") || !strings.Contains(out, "request=") ||
		strings.Contains(out, "objection 7") || strings.Contains(out, phone) {
		t.Errorf("audit list: %v\n%s", err, out)
	}
	if out, _, err := runArgs("", "--data", dir, "requests", "list", "--all"); err != nil ||
		!strings.Contains(out, "Reason: objection 7") || !strings.Contains(out, "closed") {
		t.Errorf("the erasure's request in the register: %v\n%s", err, out)
	}
	if out, _, err := runArgs("", "--data", dir, "audit", "verify"); err != nil || !strings.HasPrefix(out, "OK") {
		t.Errorf("verify: %v %q", err, out)
	}
}

// The three ways to rewrite history that the chain alone cannot see, each
// found by `ecouted audit verify` with a non-zero exit and a named cause:
// the head is sealed outside the database (DIR/audit-head.log) and the
// checkpoints are signed whole.
func TestAuditVerifySeesTamperingOutsideTheChain(t *testing.T) {
	// wipe: every audit table emptied.
	t.Run("wiped tables", func(t *testing.T) {
		dir := auditDir(t, 5)
		tamper(t, dir, `DELETE FROM audit_events`, `DELETE FROM audit_head`, `DELETE FROM audit_checkpoints`)
		out, _, err := runArgs("", "--data", dir, "audit", "verify")
		if !errors.Is(err, errChainBroken) || !strings.Contains(out, "FAILED") || !strings.Contains(err.Error(), "wiped") {
			t.Errorf("after wiping: err %v, out %q", err, out)
		}
	})
	// rollback: the head saved, more entries, then those deleted and the
	// old head restored.
	t.Run("rolled back tail", func(t *testing.T) {
		dir := auditDir(t, 4)
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, backend.DBFile))
		if err != nil {
			t.Fatal(err)
		}
		var seq int64
		var hash, sig string
		if err := db.QueryRow(`SELECT seq, hash, signature FROM audit_head`).Scan(&seq, &hash, &sig); err != nil {
			t.Fatal(err)
		}
		db.Close()
		// Act: a few commands, each audited.
		for range 3 {
			if _, _, err := runArgs("", "--data", dir, "audit", "list", "--limit", "1"); err != nil {
				t.Fatal(err)
			}
		}
		tamper(t, dir, `DELETE FROM audit_events WHERE seq > `+strconv.FormatInt(seq, 10),
			`UPDATE audit_head SET seq = `+strconv.FormatInt(seq, 10)+`, hash = '`+hash+`', signature = '`+sig+`'`)
		out, _, err := runArgs("", "--data", dir, "audit", "verify")
		if !errors.Is(err, errChainBroken) || !strings.Contains(out, "FAILED") || !strings.Contains(err.Error(), "rolled back") ||
			!strings.Contains(err.Error(), "seq "+strconv.FormatInt(seq+1, 10)) {
			t.Errorf("after a rollback: err %v, out %q", err, out)
		}
	})
	// checkpoint: its purged count lowered after a purge.
	t.Run("edited checkpoint", func(t *testing.T) {
		dir := auditDir(t, 5)
		later := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
		if _, _, err := runArgs("", "--data", dir, "purge", "--now", later); err != nil {
			t.Fatal(err)
		}
		if out, _, err := runArgs("", "--data", dir, "audit", "verify"); err != nil || !strings.Contains(out, "checkpoint") {
			t.Fatalf("after the purge: %v %q", err, out)
		}
		tamper(t, dir, `UPDATE audit_checkpoints SET purged = purged - 1`)
		out, _, err := runArgs("", "--data", dir, "audit", "verify")
		if !errors.Is(err, errChainBroken) || !strings.Contains(out, "FAILED") || !strings.Contains(err.Error(), "checkpoint") {
			t.Errorf("after editing the checkpoint: err %v, out %q", err, out)
		}
	})
	// the head log itself deleted.
	t.Run("head log deleted", func(t *testing.T) {
		dir := auditDir(t, 2)
		if err := os.Remove(filepath.Join(dir, "audit-head.log")); err != nil {
			t.Fatal(err)
		}
		out, _, err := runArgs("", "--data", dir, "audit", "verify")
		if !errors.Is(err, errChainBroken) || !strings.Contains(err.Error(), "head log") || !strings.Contains(err.Error(), "missing") {
			t.Errorf("after deleting the head log: err %v, out %q", err, out)
		}
	})
}
