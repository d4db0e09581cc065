package retention

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/store"
)

type env struct {
	st     *store.SQLite
	blobs  *blobs.Files
	dbPath string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "ecoute.db")
	st, err := store.OpenSQLite(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, blobs.KeySize)
	rand.Read(key)
	b, err := blobs.NewFiles(filepath.Join(dir, "audio"), key)
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.CreateTeam(ctx, store.Team{ID: "t1", Name: "Équipe"}))
	must(t, st.CreateCampaign(ctx, store.Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	must(t, st.CreateAgent(ctx, store.Agent{ID: "a1", Name: "Camille Lefèvre", TeamID: "t1"}))
	return &env{st: st, blobs: b, dbPath: p}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// addKept stores kept calls started at start with a real audio file each;
// peakBytes pads the row so space reclaiming is measurable.
func (e *env) addKept(t *testing.T, prefix string, start time.Time, n, peakBytes int) []string {
	t.Helper()
	ctx := context.Background()
	var calls []store.NewCall
	var keys []string
	for i := range n {
		id := fmt.Sprintf("%s%05d", prefix, i)
		key := "calls/" + prefix + "/" + id + ".mp3"
		if _, err := e.blobs.Put(ctx, key, bytes.NewReader([]byte("audio of "+id))); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		calls = append(calls, store.NewCall{Call: store.Call{
			ID: id, ExternalID: "x-" + id, StartedAt: start, EndedAt: start.Add(time.Minute), AgentID: "a1",
			TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start.Add(-5 * time.Second),
			ConsentAccepted: true, State: store.StateKept, RetainedUntil: start.AddDate(0, 6, 0), CreatedAt: start,
			Audio: store.Audio{Key: key, Size: 10, Codec: "mp3", Duration: time.Minute},
		}, Waveform: store.Waveform{Peaks: bytes.Repeat([]byte{7}, peakBytes), FrameOffsets: []int64{0}}})
	}
	must(t, e.st.InsertCalls(ctx, calls))
	return keys
}

func (e *env) onDisk(t *testing.T, key string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(e.blobs.Root(), filepath.FromSlash(key)))
	return err == nil
}

func (e *env) rows(t *testing.T, q string) int {
	t.Helper()
	var n int
	must(t, e.st.DB().QueryRow(q).Scan(&n))
	return n
}

// TestPurgeAtSixMonthsAndADay is the R4 acceptance test: a recording stays
// until its 6 months are over and is gone — file from disk, row from the
// database — at 6 months and 1 day; login records follow their own period;
// registered purgers run with the same now.
func TestPurgeAtSixMonthsAndADay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	old := e.addKept(t, "old", t0, 3, 0)
	young := e.addKept(t, "yng", t0.AddDate(0, 2, 0), 2, 0)
	u := store.User{ID: "u1", Login: "x", DisplayName: "X Y", Role: store.RoleHR, PasswordHash: "h", CreatedAt: t0}
	must(t, e.st.CreateUser(ctx, u))
	must(t, e.st.CreateSession(ctx, store.Session{TokenHash: "s-old", UserID: "u1", CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}))
	t3 := t0.AddDate(0, 3, 0)
	must(t, e.st.CreateSession(ctx, store.Session{TokenHash: "s-new", UserID: "u1", CreatedAt: t3, LastUsedAt: t3, ExpiresAt: t3.Add(12 * time.Hour)}))

	var heard []time.Time
	j := &Job{Store: e.st, Blobs: e.blobs, Retention: config.Config{Recordings: config.MustPeriod("6mo"), ConnectionLogs: config.MustPeriod("6mo")}}
	must(t, j.Register("audit", PurgerFunc(func(_ context.Context, now time.Time) (int, error) {
		heard = append(heard, now)
		return 4, nil
	})))
	if err := j.Register("audit", PurgerFunc(nil)); err == nil {
		t.Error("a second purger named audit was accepted")
	}

	// One day before the end of the 6 months: nothing goes.
	sum, err := j.Run(ctx, t0.AddDate(0, 6, -1))
	must(t, err)
	if sum["recordings"] != 0 || !e.onDisk(t, old[0]) {
		t.Fatalf("purged too early: %v", sum)
	}
	// 6 months and 1 day: the old recordings are gone, files and rows.
	now := t0.AddDate(0, 6, 1)
	sum, err = j.Run(ctx, now)
	must(t, err)
	if sum["recordings"] != 3 || sum["files_deleted"] != 3 {
		t.Errorf("summary %v, want 3 recordings and 3 files", sum)
	}
	for _, k := range old {
		if e.onDisk(t, k) {
			t.Errorf("%s still on disk", k)
		}
	}
	for _, k := range young {
		if !e.onDisk(t, k) {
			t.Errorf("%s (4 months old) deleted", k)
		}
	}
	if n := e.rows(t, `SELECT COUNT(*) FROM calls WHERE id LIKE 'old%'`); n != 0 {
		t.Errorf("%d expired rows left", n)
	}
	if n := e.rows(t, `SELECT COUNT(*) FROM calls`); n != 2 {
		t.Errorf("%d rows left, want the 2 young ones", n)
	}
	if _, err := e.st.SessionByHash(ctx, "s-old"); err == nil {
		t.Error("a 6-month-old login record survived")
	}
	if _, err := e.st.SessionByHash(ctx, "s-new"); err != nil {
		t.Errorf("a 3-month-old login record was deleted: %v", err)
	}
	if sum["sessions"] != 1 || sum["audit"] != 4 || len(heard) != 2 || !heard[1].Equal(now) {
		t.Errorf("summary %v, purger heard %v", sum, heard)
	}
	if n := e.rows(t, `SELECT COUNT(*) FROM blob_deletions`); n != 0 {
		t.Errorf("%d blob deletions left queued", n)
	}
}

func TestShorterRecordingRetention(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t0 := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	keys := e.addKept(t, "one", t0, 1, 0)
	j := &Job{Store: e.st, Blobs: e.blobs, Retention: config.Config{Recordings: config.MustPeriod("1mo"), ConnectionLogs: config.MustPeriod("3mo")}}
	if sum, err := j.Run(ctx, t0.AddDate(0, 0, 27)); err != nil || sum["recordings"] != 0 {
		t.Fatalf("27 days: %v %v", sum, err)
	}
	if sum, err := j.Run(ctx, t0.AddDate(0, 1, 1)); err != nil || sum["recordings"] != 1 || e.onDisk(t, keys[0]) {
		t.Errorf("1 month + 1 day: %v %v, file on disk %v", sum, err, e.onDisk(t, keys[0]))
	}
}

// TestSpaceReclaimed: the database is in incremental auto-vacuum mode and
// a purge hands the freed pages back, so the file shrinks.
func TestSpaceReclaimed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if n := e.rows(t, `PRAGMA auto_vacuum`); n != 2 {
		t.Fatalf("auto_vacuum = %d, want 2 (incremental)", n)
	}
	if n := e.rows(t, `PRAGMA secure_delete`); n != 1 {
		t.Fatalf("secure_delete = %d, want 1: deleted rows would linger in free pages", n)
	}
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	e.addKept(t, "big", t0, 400, 16<<10) // about 6.5 MB of rows
	_, err := e.st.Reclaim(ctx)          // checkpoint the inserts into the main file
	must(t, err)
	size := func() int64 {
		st, err := os.Stat(e.dbPath)
		must(t, err)
		return st.Size()
	}
	before := size()
	j := &Job{Store: e.st, Blobs: e.blobs, Retention: config.Config{Recordings: config.MustPeriod("6mo"), ConnectionLogs: config.MustPeriod("6mo")}}
	sum, err := j.Run(ctx, t0.AddDate(0, 7, 0))
	must(t, err)
	if sum["recordings"] != 400 || sum["pages_reclaimed"] == 0 {
		t.Errorf("summary %v", sum)
	}
	if after := size(); after > before/4 {
		t.Errorf("database %d bytes before the purge, %d after: space not reclaimed", before, after)
	}
	if n := e.rows(t, `PRAGMA freelist_count`); n != 0 {
		t.Errorf("%d free pages left", n)
	}
	if st, err := os.Stat(e.dbPath + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("write-ahead log holds %d bytes after the purge", st.Size())
	}
}
