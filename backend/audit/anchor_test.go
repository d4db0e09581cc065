package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// anchored is a fixture whose trail is sealed in a head log and a witness.
func anchored(t *testing.T) (f *fixture, headLog, witness string) {
	t.Helper()
	f = newFixture(t)
	headLog = filepath.Join(f.dir, "audit-head.log")
	witness = filepath.Join(t.TempDir(), "witness.log")
	ctx := context.Background()
	if err := f.log.AddAnchor(ctx, "head log", headLog, true); err != nil {
		t.Fatal(err)
	}
	if err := f.log.AddAnchor(ctx, "witness", witness, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.log.Close() })
	return f, headLog, witness
}

func TestAnchorsAgreeWithAnIntactTrail(t *testing.T) {
	f, headLog, _ := anchored(t)
	f.fill(t, 12)
	rep := f.verify(t)
	if !rep.OK || len(rep.Anchors) != 2 || rep.Anchors[0].Seq != 12 || rep.Anchors[1].Seq != 12 {
		t.Fatalf("intact: %+v", rep)
	}
	if !strings.Contains(rep.String(), "head log") || !strings.Contains(rep.String(), "witness") {
		t.Errorf("report does not say what it checked: %s", rep)
	}
	st, err := os.Stat(headLog)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("head log mode: %v %v", st.Mode(), err)
	}
}

// Every audit table emptied: the chain alone would read as a new trail.
func TestWipedTablesAreSeen(t *testing.T) {
	f, _, _ := anchored(t)
	f.fill(t, 5)
	for _, q := range []string{`DELETE FROM audit_events`, `DELETE FROM audit_head`} {
		f.exec(t, q)
	}
	rep := f.verify(t)
	if rep.OK || !strings.Contains(rep.Reason, "wiped") || !strings.Contains(rep.Reason, "seq 5") {
		t.Fatalf("wiped tables: %+v", rep)
	}
}

// The newest entries deleted and an older signed head put back: the chain
// is consistent, the anchors are ahead of it.
func TestRolledBackTailIsSeen(t *testing.T) {
	f, _, _ := anchored(t)
	f.fill(t, 4)
	var seq int64
	var hash, sig string
	if err := f.other.QueryRow(`SELECT seq, hash, signature FROM audit_head`).Scan(&seq, &hash, &sig); err != nil {
		t.Fatal(err)
	}
	f.fill(t, 3) // 5, 6, 7: what the tamperer wants gone
	f.exec(t, `DELETE FROM audit_events WHERE seq > 4`)
	f.exec(t, `UPDATE audit_head SET seq = ?, hash = ?, signature = ?`, seq, hash, sig)
	wantBad(t, f.verify(t), 5, "rolled back")
	if rep := f.verify(t); !strings.Contains(rep.Reason, "recorded seq 7") {
		t.Errorf("reason %q does not say how far the trail went", rep.Reason)
	}
}

// Rolled back, then written again past where it was: the anchors' newest
// entry is not the chain's at that seq.
func TestRollbackRewrittenIsSeen(t *testing.T) {
	f, _, _ := anchored(t)
	f.fill(t, 4)
	var seq int64
	var hash, sig string
	if err := f.other.QueryRow(`SELECT seq, hash, signature FROM audit_head`).Scan(&seq, &hash, &sig); err != nil {
		t.Fatal(err)
	}
	f.fill(t, 2)
	f.exec(t, `DELETE FROM audit_events WHERE seq > 4`)
	f.exec(t, `UPDATE audit_head SET seq = ?, hash = ?, signature = ?`, seq, hash, sig)
	f.log.Close() // the tamperer's own appends go to the database only
	f.fill(t, 3)
	wantBad(t, f.verify(t), 6, "rewritten")
}

func TestDamagedOrMissingAnchorIsSeen(t *testing.T) {
	t.Run("forged line", func(t *testing.T) {
		f, headLog, _ := anchored(t)
		f.fill(t, 3)
		b, _ := os.ReadFile(headLog)
		// A line claiming the trail went further than it did.
		forged := strings.Replace(string(b), "a1 3 ", "a1 9 ", 1)
		if forged == string(b) {
			t.Fatal("no line to forge")
		}
		os.WriteFile(headLog, []byte(forged), 0o600)
		rep := f.verify(t)
		if rep.OK || !strings.Contains(rep.Reason, "forged") {
			t.Errorf("forged line: %+v", rep)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		f, headLog, _ := anchored(t)
		f.fill(t, 2)
		fh, _ := os.OpenFile(headLog, os.O_WRONLY|os.O_APPEND, 0)
		fh.WriteString("a1 99 nothex 1 2\n")
		fh.Close()
		if rep := f.verify(t); rep.OK || !strings.Contains(rep.Reason, "damaged") {
			t.Errorf("garbage line: %+v", rep)
		}
	})
	t.Run("witness deleted", func(t *testing.T) {
		f, _, witness := anchored(t)
		f.fill(t, 2)
		os.Remove(witness)
		if rep := f.verify(t); rep.OK || !strings.Contains(rep.Reason, "witness") || !strings.Contains(rep.Reason, "missing") {
			t.Errorf("deleted witness: %+v", rep)
		}
	})
}

// A checkpoint is signed whole: its purged count cannot be edited.
func TestCheckpointSignedWhole(t *testing.T) {
	ctx := context.Background()
	f, _, _ := anchored(t)
	f.fill(t, 6)
	if _, err := f.log.PurgeBefore(ctx, f.t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t); !rep.OK || rep.Checkpoint.Purged != 3 {
		t.Fatalf("%+v", rep)
	}
	f.exec(t, `UPDATE audit_checkpoints SET purged = 1`)
	if rep := f.verify(t); rep.OK || !strings.Contains(rep.Reason, "checkpoint") {
		t.Fatalf("edited purged count accepted: %+v", rep)
	}
}
