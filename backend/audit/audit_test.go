package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	_ "modernc.org/sqlite"
)

type fixture struct {
	log   *audit.Log
	st    *store.SQLite
	clk   *clock.Fake
	path  string // the SQLite file
	dir   string
	t0    time.Time
	other *sql.DB // a second, independent handle on the file: the tamperer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "ecoute.db")
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := audit.LoadOrCreateKey(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return &fixture{log: audit.New(st, clk, key, nil), st: st, clk: clk, path: path, dir: dir, t0: t0, other: other}
}

// fill appends n entries one hour apart.
func (f *fixture) fill(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		err := f.log.Append(context.Background(), audit.Entry{Actor: audit.Actor{UserID: "u1", Login: "sup", Role: "supervisor"},
			Source: "127.0.0.1:5000", Action: audit.ActionCallView, Target: "call-" + string(rune('a'+i%26)),
			Details: map[string]string{"result": "ok", "n": string(rune('0' + i%10))}})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Hour)
	}
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	res, err := f.other.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s: no row changed", q)
	}
}

func (f *fixture) verify(t *testing.T) audit.Report {
	t.Helper()
	rep, err := f.log.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantBad(t *testing.T, rep audit.Report, seq int64, reason string) {
	t.Helper()
	if rep.OK || rep.BadSeq != seq || !strings.Contains(rep.Reason, reason) {
		t.Errorf("report %+v; want entry %d named bad (%q)", rep, seq, reason)
	}
	if !strings.Contains(rep.String(), "seq "+strconv.FormatInt(seq, 10)) {
		t.Errorf("report text %q does not name entry %d", rep.String(), seq)
	}
}

func TestIntactChainVerifies(t *testing.T) {
	f := newFixture(t)
	if rep := f.verify(t); !rep.OK || rep.Entries != 0 {
		t.Fatalf("empty chain: %+v", rep)
	}
	f.fill(t, 25)
	rep := f.verify(t)
	if !rep.OK || rep.Entries != 25 || rep.LastSeq != 25 || rep.FromSeq != 1 {
		t.Fatalf("intact chain: %+v", rep)
	}
}

func TestEditedEntryIsNamed(t *testing.T) {
	for _, tc := range []struct{ col, val string }{
		{"target", "call-z"},
		{"actor_login", "someone-else"},
		{"details", `{"n":"1","result":"PermissionDenied"}`},
		{"at", "1"},
	} {
		t.Run(tc.col, func(t *testing.T) {
			f := newFixture(t)
			f.fill(t, 8)
			f.exec(t, `UPDATE audit_events SET `+tc.col+` = ? WHERE seq = 5`, tc.val)
			wantBad(t, f.verify(t), 5, "edited")
		})
	}
}

func TestEditWithRecomputedHashIsNamed(t *testing.T) {
	// A tamperer who edits an entry and recomputes its hash breaks the
	// link to the next one.
	f := newFixture(t)
	f.fill(t, 6)
	links, err := f.log.List(context.Background(), audit.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var l3 audit.Link
	for _, l := range links {
		if l.Seq == 3 {
			l3 = l
		}
	}
	l3.Target = "forged"
	f.exec(t, `UPDATE audit_events SET target = ?, hash = ? WHERE seq = 3`, l3.Target, audit.ComputeHash(l3).String())
	wantBad(t, f.verify(t), 4, "prev_hash")
}

func TestDeletedEntryIsNamed(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 8)
	f.exec(t, `DELETE FROM audit_events WHERE seq = 4`)
	wantBad(t, f.verify(t), 4, "deleted")
}

func TestDeletedNewestEntryIsNamed(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 8)
	f.exec(t, `DELETE FROM audit_events WHERE seq = 8`)
	wantBad(t, f.verify(t), 8, "deleted")
}

func TestSwappedEntriesAreNamed(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 8)
	// Swap rows 3 and 4 as a tamperer would: exchange their positions.
	f.exec(t, `UPDATE audit_events SET seq = -3 WHERE seq = 3`)
	f.exec(t, `UPDATE audit_events SET seq = 3 WHERE seq = 4`)
	f.exec(t, `UPDATE audit_events SET seq = 4 WHERE seq = -3`)
	wantBad(t, f.verify(t), 3, "reordered")
}

func TestAppendAfterTamperingStillNamesIt(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 5)
	f.exec(t, `UPDATE audit_events SET source = 'elsewhere' WHERE seq = 2`)
	f.fill(t, 3)
	wantBad(t, f.verify(t), 2, "edited")
}

func TestInvalidUTF8SurvivesTheRoundTrip(t *testing.T) {
	f := newFixture(t)
	err := f.log.Append(context.Background(), audit.Entry{Actor: audit.Actor{Login: "bad\xff\xfelogin"},
		Action: audit.ActionLoginFailure, Details: map[string]string{"k": strings.Repeat("é", 200)}})
	if err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t); !rep.OK {
		t.Fatalf("an honest entry with odd bytes must verify: %+v", rep)
	}
}

func TestPurgeKeepsChainVerifiable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.fill(t, 10) // entries at t0 … t0+9h
	p := audit.Purger{Log: f.log, Cutoff: func(now time.Time) time.Time { return now.Add(-5 * time.Hour) }}
	now := f.t0.Add(9*time.Hour + 30*time.Minute) // cutoff t0+4h30: entries 1–5 go
	n, err := p.Purge(ctx, now)
	if err != nil || n != 5 {
		t.Fatalf("purge = %d, %v; want 5", n, err)
	}
	rep := f.verify(t)
	if !rep.OK || rep.Checkpoint == nil || rep.Checkpoint.Seq != 5 || rep.FromSeq != 6 {
		t.Fatalf("after purge: %+v", rep)
	}
	// The purge itself is an entry (seq 11).
	links, err := f.log.List(ctx, audit.Query{Action: audit.ActionAuditPurge, Limit: 5})
	if err != nil || len(links) != 1 || links[0].Details["purged"] != "5" {
		t.Fatalf("purge entry: %+v %v", links, err)
	}
	// A second purge at the same time purges nothing.
	if n, err := p.Purge(ctx, now); err != nil || n != 0 {
		t.Fatalf("second purge = %d, %v", n, err)
	}
	// Deleting the first entry after the checkpoint is still caught.
	f.exec(t, `DELETE FROM audit_events WHERE seq = 6`)
	wantBad(t, f.verify(t), 6, "deleted")
}

func TestForgedCheckpointIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.fill(t, 6)
	if _, err := f.log.PurgeBefore(ctx, f.t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t); !rep.OK {
		t.Fatalf("%+v", rep)
	}
	// Moving the checkpoint forward would hide deleted entries.
	f.exec(t, `DELETE FROM audit_events WHERE seq = 4`)
	f.exec(t, `UPDATE audit_checkpoints SET seq = 4 WHERE seq = 3`)
	rep := f.verify(t)
	if rep.OK || !strings.Contains(rep.Reason, "checkpoint") {
		t.Fatalf("forged checkpoint accepted: %+v", rep)
	}
}

func TestPurgeRefusedOnBrokenChain(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 6)
	f.exec(t, `UPDATE audit_events SET target = 'x' WHERE seq = 2`)
	if _, err := f.log.PurgeBefore(context.Background(), f.t0.Add(4*time.Hour)); err == nil ||
		!strings.Contains(err.Error(), "seq 2") {
		t.Fatalf("purge of a broken chain: %v; want a refusal naming seq 2", err)
	}
}

func TestKeyFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, audit.KeyFile)
	k1, err := audit.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, err := audit.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reloaded key differs: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
}

func TestEncodingIsUnambiguous(t *testing.T) {
	a := audit.Link{Seq: 1, Entry: audit.Entry{Time: time.UnixMilli(1), Action: "ab", Target: "c"}}
	b := audit.Link{Seq: 1, Entry: audit.Entry{Time: time.UnixMilli(1), Action: "a", Target: "bc"}}
	if bytes.Equal(audit.Encode(a), audit.Encode(b)) || audit.ComputeHash(a) == audit.ComputeHash(b) {
		t.Fatal("two different entries encode alike")
	}
	c := a
	c.Details = map[string]string{"x": "1", "y": "2"}
	d := a
	d.Details = map[string]string{"y": "2", "x": "1"}
	if audit.ComputeHash(c) != audit.ComputeHash(d) {
		t.Fatal("details order changes the hash")
	}
}

func TestVerifyDuringAppendsIsNotFooled(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 50)
	done := make(chan error, 1)
	go func() {
		for range 200 {
			if err := f.log.Append(context.Background(), audit.Entry{Action: audit.ActionCallList}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		rep := f.verify(t)
		if !rep.OK {
			t.Fatalf("live appends taken for damage: %+v", rep)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if rep := f.verify(t); !rep.OK || rep.LastSeq != 250 {
				t.Fatalf("after the appends: %+v", rep)
			}
			return
		default:
		}
	}
}

func TestRowAddedBeyondTheHeadIsNamed(t *testing.T) {
	f := newFixture(t)
	f.fill(t, 4)
	f.exec(t, `INSERT INTO audit_events SELECT 5, at, actor_id, actor_login, actor_role, source, action, 'extra',
		details, hash, hash FROM audit_events WHERE seq = 4`)
	wantBad(t, f.verify(t), 5, "outside")
}
