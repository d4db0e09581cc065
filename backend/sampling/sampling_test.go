package sampling

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

type env struct {
	st    *store.SQLite
	blobs *blobs.Files
	root  string
}

func newEnv(tb testing.TB, agents int) *env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "ecoute.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	key := make([]byte, blobs.KeySize)
	rand.Read(key)
	root := filepath.Join(dir, "audio")
	b, err := blobs.NewFiles(root, key)
	if err != nil {
		tb.Fatal(err)
	}
	b.NoSync = true // test set-up speed only; deletion does not depend on it
	must(tb, st.CreateTeam(ctx, store.Team{ID: "t1", Name: "Équipe"}))
	must(tb, st.CreateCampaign(ctx, store.Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	for i := range agents {
		must(tb, st.CreateAgent(ctx, store.Agent{ID: agentID(i), Name: "Agent " + agentID(i), TeamID: "t1"}))
	}
	return &env{st: st, blobs: b, root: root}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func agentID(i int) string { return fmt.Sprintf("agent-%03d", i) }

// addPending stores n pending recordings of agent on day (UTC), each with a
// real encrypted audio file when files is set.
func (e *env) addPending(tb testing.TB, agent string, day time.Time, n int, files bool) {
	tb.Helper()
	ctx := context.Background()
	calls := make([]store.NewCall, 0, n)
	for i := range n {
		id := fmt.Sprintf("%s-%s-%06d", agent, day.Format("20060102"), i)
		start := day.Add(8*time.Hour + time.Duration(i)*time.Second)
		key := "calls/" + id[len(id)-2:] + "/" + id + ".mp3"
		if files {
			if _, err := e.blobs.Put(ctx, key, bytes.NewReader([]byte("not really mp3 "+id))); err != nil {
				tb.Fatal(err)
			}
		}
		calls = append(calls, store.NewCall{Call: store.Call{
			ID: id, ExternalID: "x-" + id, StartedAt: start, EndedAt: start.Add(time.Minute), AgentID: agent,
			TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start.Add(-5 * time.Second),
			ConsentAnsweredAt: start.Add(-2 * time.Second), ConsentAccepted: true, State: store.StatePending,
			RetainedUntil: start.AddDate(0, 6, 0), CreatedAt: start.Add(time.Minute),
			Audio: store.Audio{Key: key, Size: 10, Codec: "mp3", Duration: time.Minute},
		}, Waveform: store.Waveform{Peaks: []byte{1}, FrameOffsets: []int64{0}}})
	}
	for len(calls) > 0 {
		k := min(len(calls), 5000)
		must(tb, e.st.InsertCalls(ctx, calls[:k]))
		calls = calls[k:]
	}
}

// settle makes the set-up look like a day's uploads, written over hours:
// audio flushed to disk and the write-ahead log checkpointed, so the timed
// run does not pay for the set-up's write-back.
func (e *env) settle(tb testing.TB) {
	tb.Helper()
	syscall.Sync()
	if _, err := e.st.Reclaim(context.Background()); err != nil {
		tb.Fatal(err)
	}
	syscall.Sync()
}

func (e *env) files(tb testing.TB) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".mp3") {
			n++
		}
		return nil
	})
	must(tb, err)
	return n
}

func (e *env) count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	must(tb, e.st.DB().QueryRow(q, args...).Scan(&n))
	return n
}

// TestSamplingRateStrataAndIdempotence is the R2 acceptance test: 20,000
// recordings over 5 days, 5% kept ± 1 point overall, every agent with at
// least 100 calls within 2 points, the rest deleted row and file, and a
// second run is a no-op.
func TestSamplingRateStrataAndIdempotence(t *testing.T) {
	ctx := context.Background()
	const agents = 40
	e := newEnv(t, agents)
	days := []time.Time{}
	for d := range 5 {
		days = append(days, time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC))
	}
	// Uneven traffic: agents 0–4 take 3 calls a day, the others share the
	// remainder unevenly, 20,000 recordings in all.
	perAgent := map[string]int{}
	total := 0
	for i := range agents {
		for di, d := range days {
			n := 3
			if i >= 5 {
				n = 60 + (i*7+di*13)%80
			}
			if total+n > 20000 {
				n = 20000 - total
			}
			if i == agents-1 && di == len(days)-1 {
				n = 20000 - total // the last batch tops up to exactly 20,000
			}
			e.addPending(t, agentID(i), d, n, true)
			perAgent[agentID(i)] += n
			total += n
		}
	}
	if total != 20000 {
		t.Fatalf("set-up made %d recordings", total)
	}
	today := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	e.addPending(t, agentID(0), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), 30, true) // today: untouched

	// Pending recordings are invisible to every console query.
	if _, n, err := e.st.ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Limit: 10}); err != nil || n != 0 {
		t.Fatalf("pending listed: %d %v", n, err)
	}
	anyID := agentID(7) + "-20260302-000000"
	if _, err := e.st.GetCall(ctx, anyID, store.Scope{All: true}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pending call readable: %v", err)
	}

	clk := clock.NewFake(today)
	s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05}
	runner := &jobs.Runner{Store: e.st, Clock: clk}
	task := jobs.Task{Name: JobName, Run: func(ctx context.Context, now time.Time) (map[string]int, error) {
		rep, err := s.Run(ctx, now)
		return rep.Summary(), err
	}}
	run, err := runner.Run(ctx, task, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	kept := run.Summary["kept"]
	if run.Summary["received"] != 20000 || run.Summary["days"] != 5 {
		t.Fatalf("summary %v", run.Summary)
	}
	if rate := float64(kept) / 20000; rate < 0.04 || rate > 0.06 {
		t.Errorf("kept %d of 20000 = %.2f%%, want 5%% ± 1", kept, 100*rate)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM calls WHERE state='kept'`); got != kept {
		t.Errorf("%d kept rows, summary says %d", got, kept)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM calls WHERE state='pending'`); got != 30 {
		t.Errorf("%d pending rows left, want today's 30", got)
	}
	if got := e.files(t); got != kept+30 {
		t.Errorf("%d audio files on disk, want %d kept + 30 of today", got, kept)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM blob_deletions`); got != 0 {
		t.Errorf("%d blob deletions left queued", got)
	}
	keptBy := map[string]int{}
	rows, err := e.st.DB().Query(`SELECT agent_id, COUNT(*) FROM calls WHERE state='kept' GROUP BY agent_id`)
	must(t, err)
	for rows.Next() {
		var a string
		var n int
		must(t, rows.Scan(&a, &n))
		keptBy[a] = n
	}
	rows.Close()
	checked := 0
	for a, n := range perAgent {
		if n < 100 {
			continue
		}
		checked++
		if r := float64(keptBy[a]) / float64(n); r < 0.03 || r > 0.07 {
			t.Errorf("agent %s: kept %d of %d = %.2f%%, want 5%% ± 2", a, keptBy[a], n, 100*r)
		}
	}
	if checked < 30 {
		t.Fatalf("only %d agents with ≥ 100 calls: the test checks too little", checked)
	}
	// Kept calls are now visible; per-day counts add up.
	if _, n, err := e.st.ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Limit: 1}); err != nil || int(n) != kept {
		t.Errorf("listed %d, %v; want %d kept", n, err, kept)
	}
	sumKept := 0
	for _, d := range days {
		c, err := e.st.SamplingCounts(ctx, d)
		must(t, err)
		sumKept += c.Kept
	}
	if sumKept != kept {
		t.Errorf("per-day counts keep %d, want %d", sumKept, kept)
	}
	// The run record holds counts, never call ids.
	var summary string
	must(t, e.st.DB().QueryRow(`SELECT summary FROM job_runs WHERE job = 'sample'`).Scan(&summary))
	if strings.Contains(summary, "agent-") || strings.Contains(summary, "2026") {
		t.Errorf("run summary names calls: %s", summary)
	}

	// Second run for the same days: nothing changes.
	c1, err := e.st.SamplingCounts(ctx, days[0])
	must(t, err)
	clk.Advance(time.Hour)
	run2, err := runner.Run(ctx, task, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run2.Summary["received"] != 0 || run2.Summary["kept"] != 0 || run2.Summary["files_deleted"] != 0 {
		t.Errorf("second run did something: %v", run2.Summary)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM calls`); got != kept+30 {
		t.Errorf("second run changed rows: %d", got)
	}
	if got := e.files(t); got != kept+30 {
		t.Errorf("second run changed files: %d", got)
	}
	c2, err := e.st.SamplingCounts(ctx, days[0])
	must(t, err)
	if c1 != c2 || c1.Received == 0 {
		t.Errorf("day counts before/after the second run: %v / %v", c1, c2)
	}
}

// TestQuotaRandomisedRounding: an agent with 10 calls at 5% keeps 0 or 1,
// about half the days each, so the expected rate is exact.
func TestQuotaRandomisedRounding(t *testing.T) {
	r := NewRand()
	const trials = 20000
	sum, zeros := 0, 0
	for range trials {
		k := Quota(10, 0.05, r)
		if k != 0 && k != 1 {
			t.Fatalf("quota %d for 10 calls at 5%%", k)
		}
		sum += k
		if k == 0 {
			zeros++
		}
	}
	if mean := float64(sum) / trials; mean < 0.47 || mean > 0.53 {
		t.Errorf("mean quota %.3f, want 0.5", mean)
	}
	if Quota(100, 0.05, r) != 5 || Quota(20, 1, r) != 20 {
		t.Error("exact quotas must not round up")
	}
}

// TestChooseIsUniform: no position in an agent's list is favoured.
func TestChooseIsUniform(t *testing.T) {
	r := NewRand()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	hits := map[string]int{}
	const trials = 20000
	for range trials {
		for _, id := range Choose(map[string][]string{"a": append([]string(nil), ids...)}, 0.05, r) {
			hits[id]++
		}
	}
	// Each id is kept with probability 1/20: 1000 expected, sd ≈ 31.
	for _, id := range ids {
		if h := hits[id]; h < 850 || h > 1150 {
			t.Errorf("id %s kept %d times of %d, want about 1000", id, h, trials)
		}
	}
}

// TestCrashLeftoversAreFinished: keys queued by a run that died before
// deleting the files are deleted by the next run.
func TestCrashLeftoversAreFinished(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 1)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	e.addPending(t, agentID(0), day, 40, true)
	// Settle the day but "crash" before the files go.
	if _, err := e.st.SampleDay(ctx, day, func(map[string][]string) []string { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := e.files(t); got != 40 {
		t.Fatalf("%d files before the next run", got)
	}
	rep, err := (&Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05}).Run(ctx, day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesDeleted != 40 || e.files(t) != 0 {
		t.Errorf("leftover files: deleted %d, %d on disk", rep.FilesDeleted, e.files(t))
	}
}

// BenchmarkSample100k measures one `sample` run over 100,000 pending
// recordings of one day (200 agents), each with its encrypted audio file:
// choice, row deletion and file deletion.
func BenchmarkSample100k(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, 200)
		for i := range 200 {
			e.addPending(b, agentID(i), day, 500, true)
		}
		e.settle(b)
		s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05}
		b.StartTimer()
		cpu0 := cpuTime()
		rep, err := s.Run(ctx, day.AddDate(0, 0, 1))
		cpu += cpuTime() - cpu0
		if err != nil || rep.Received != 100000 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// TestConcurrentRunsSettleEachDayOnce: `ecouted sample` run by hand while
// serve's scheduler samples (two database handles on one file) settles each
// recording once: the counts add up to what was pending, no more.
func TestConcurrentRunsSettleEachDayOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 10)
	for d := range 3 {
		for i := range 10 {
			e.addPending(t, agentID(i), time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC), 40, false)
		}
	}
	other, err := store.OpenSQLite(ctx, filepath.Join(filepath.Dir(e.root), "ecoute.db"), nil)
	must(t, err)
	defer other.Close()
	now := time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC)
	reps := make([]Report, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i, st := range []*store.SQLite{e.st, other} {
		go func() {
			reps[i], errs[i] = (&Sampler{Store: st, Blobs: e.blobs, Rate: 0.05}).Run(ctx, now)
			done <- i
		}()
	}
	<-done
	<-done
	must(t, errors.Join(errs...))
	if got := reps[0].Received + reps[1].Received; got != 1200 {
		t.Errorf("settled %d recordings in all, want 1200 once each", got)
	}
	kept := reps[0].Kept + reps[1].Kept
	if n := e.count(t, `SELECT COUNT(*) FROM calls`); n != kept {
		t.Errorf("%d rows left, %d reported kept", n, kept)
	}
	// 10 agents × 40 calls × 5% = exactly 2 per agent and day.
	if kept != 60 {
		t.Errorf("kept %d, want 60", kept)
	}
	sum := 0
	for d := range 3 {
		c, err := e.st.SamplingCounts(ctx, time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC))
		must(t, err)
		sum += c.Received
	}
	if sum != 1200 {
		t.Errorf("per-day received counts add to %d, want 1200", sum)
	}
}

// BenchmarkSample100kRowsOnly is the database part alone: the same run
// with no files to delete.
func BenchmarkSample100kRowsOnly(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, 200)
		for i := range 200 {
			e.addPending(b, agentID(i), day, 500, false)
		}
		e.settle(b)
		s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05}
		b.StartTimer()
		cpu0 := cpuTime()
		rep, err := s.Run(ctx, day.AddDate(0, 0, 1))
		cpu += cpuTime() - cpu0
		if err != nil || rep.Received != 100000 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is this process's user + system CPU time: on a machine shared
// with other work it varies far less than the wall-clock ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
