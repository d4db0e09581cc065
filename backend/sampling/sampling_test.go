package sampling

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/retention"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

type env struct {
	st    *store.SQLite
	blobs *blobs.Files
	root  string
	key   []byte
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
	tb.Cleanup(b.ClosePacks)
	b.NoSync = true // test set-up speed only; deletion does not depend on it
	must(tb, st.CreateTeam(ctx, store.Team{ID: "t1", Name: "Équipe"}))
	must(tb, st.CreateCampaign(ctx, store.Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	for i := range agents {
		must(tb, st.CreateAgent(ctx, store.Agent{ID: agentID(i), Name: "Agent " + agentID(i), TeamID: "t1"}))
	}
	return &env{st: st, blobs: b, root: root, key: b.DeriveKey(IDKeyPurpose)}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func agentID(i int) string { return fmt.Sprintf("agent-%03d", i) }

func externalID(agent string, day time.Time, i int) string {
	return fmt.Sprintf("pbx-%s-%s-%06d", agent, day.Format("20060102"), i)
}

// addPending stores n recordings of agent on day (UTC) waiting for the
// sampling, each with its encrypted audio in the day's pack, as ingestion
// does; it returns the audio keys.
func (e *env) addPending(tb testing.TB, agent string, day time.Time, n int) []string {
	tb.Helper()
	ctx := context.Background()
	ids := NewHasher(e.key)
	var keys []string
	for len(keys) < n {
		k := min(n-len(keys), 2000)
		items := make([]blobs.Staged, k)
		calls := make([]store.PendingUpload, k)
		for j := range k {
			i := len(keys) + j
			id := fmt.Sprintf("%s-%s-%06d", agent, day.Format("20060102"), i)
			p, err := e.blobs.Stage("calls/" + id[len(id)-2:] + "/" + id + ".mp3")
			must(tb, err)
			_, err = p.Write([]byte(strings.Repeat("not really mp3 "+id+" ", 20)))
			must(tb, err)
			must(tb, p.Close())
			items[j] = blobs.Staged{Group: day.Format(time.DateOnly), Blob: p}
			start := day.Add(8*time.Hour + time.Duration(i)*time.Second)
			ext := externalID(agent, day, i)
			calls[j] = store.PendingUpload{IDHash: ids.Hash(ext), Call: store.NewCall{Call: store.Call{
				ID: id, ExternalID: ext, StartedAt: start, EndedAt: start.Add(time.Minute), AgentID: agent,
				TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start.Add(-5 * time.Second),
				ConsentAnsweredAt: start.Add(-2 * time.Second), ConsentAccepted: true, State: store.StatePending,
				RetainedUntil: start.AddDate(0, 6, 0), CreatedAt: start.Add(time.Minute),
				Audio: store.Audio{Size: 10, Codec: "mp3", Duration: time.Minute}}}}
		}
		ks, err := e.blobs.Pack(ctx, items)
		must(tb, err)
		for j := range calls {
			calls[j].Call.Call.Audio.Key = ks[j]
		}
		out, err := e.st.InsertPending(ctx, calls)
		must(tb, err)
		for _, o := range out {
			if o != (store.Outcome{}) {
				tb.Fatalf("fixture upload refused: %+v", o)
			}
		}
		keys = append(keys, ks...)
	}
	return keys
}

// settle makes the set-up look like a day's uploads, written over hours by
// a process that has moved on: audio flushed to disk, the packs closed, the
// write-ahead log checkpointed, so the timed run does not pay for the
// set-up's write-back.
func (e *env) settle(tb testing.TB) {
	tb.Helper()
	e.blobs.ClosePacks()
	syscall.Sync()
	if _, err := e.st.Reclaim(context.Background()); err != nil {
		tb.Fatal(err)
	}
	syscall.Sync()
}

// readable tells whether the audio of key still reads back whole.
func (e *env) readable(key string) bool {
	b, err := e.blobs.Open(context.Background(), key)
	if err != nil {
		return false
	}
	defer b.Close()
	_, err = io.Copy(io.Discard, io.NewSectionReader(b, 0, b.Size()))
	return err == nil
}

// audioKeys lists the audio keys of the calls of a table.
func (e *env) audioKeys(tb testing.TB, table string) []string {
	tb.Helper()
	rows, err := e.st.DB().Query(`SELECT audio_key FROM ` + table)
	must(tb, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		must(tb, rows.Scan(&k))
		out = append(out, k)
	}
	return out
}

// diskBlocks is the space the audio takes, in 512-byte blocks.
func (e *env) diskBlocks(tb testing.TB) int64 {
	tb.Helper()
	var n int64
	err := filepath.Walk(e.root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Sys().(*syscall.Stat_t).Blocks
		}
		return err
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

// memTrail is an audit trail in memory.
type memTrail struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memTrail) Append(_ context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

// of returns the entries about day as Verify reads them.
func (m *memTrail) of(day time.Time, at time.Time) []TrailEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TrailEntry
	for i, e := range m.entries {
		if e.Target == day.Format(time.DateOnly) {
			out = append(out, TrailEntry{Seq: int64(i + 1), At: at, Action: e.Action, Details: e.Details})
		}
	}
	return out
}

// TestSamplingRateStrataAndIdempotence is the R2 acceptance test: 20,000
// recordings over 5 days, 5% kept ± 1 point overall, every agent with at
// least 100 calls within 2 points, the rest deleted row and audio, each
// day's record verifiable, and a second run is a no-op.
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
	var allKeys []string
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
			allKeys = append(allKeys, e.addPending(t, agentID(i), d, n)...)
			perAgent[agentID(i)] += n
			total += n
		}
	}
	if total != 20000 {
		t.Fatalf("set-up made %d recordings", total)
	}
	today := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	e.addPending(t, agentID(0), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), 30) // today: untouched
	e.settle(t)
	blocksBefore := e.diskBlocks(t)

	// Pending recordings are invisible to every console query.
	if _, n, err := e.st.ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Limit: 10}); err != nil || n != 0 {
		t.Fatalf("pending listed: %d %v", n, err)
	}
	anyID := agentID(7) + "-20260302-000000"
	if _, err := e.st.GetCall(ctx, anyID, store.Scope{All: true}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pending call readable: %v", err)
	}

	clk := clock.NewFake(today)
	trail := &memTrail{}
	s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05, IDKey: e.key, Trail: trail, Clock: clk}
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
	if got := e.count(t, `SELECT COUNT(*) FROM pending_calls`); got != 30 {
		t.Errorf("%d pending rows left, want today's 30", got)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM sampled_out`); got != 20000-kept {
		t.Errorf("%d sampled-out hashes, want %d", got, 20000-kept)
	}
	// The kept calls' audio reads back; the others' is gone, and its disk
	// space with it.
	keptKeys := map[string]bool{}
	for _, k := range e.audioKeys(t, "calls") {
		keptKeys[k] = true
		if !e.readable(k) {
			t.Fatalf("kept audio %s unreadable", k)
		}
	}
	for _, k := range allKeys {
		if !keptKeys[k] && e.readable(k) {
			t.Fatalf("sampled-out audio %s still reads back", k)
		}
	}
	if after := e.diskBlocks(t); after > blocksBefore/5 {
		t.Errorf("audio takes %d blocks after the sampling, %d before: not freed", after, blocksBefore)
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
	// Kept calls are now visible; per-day counts add up; every day's
	// record passes the auditor's checks.
	if _, n, err := e.st.ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Limit: 1}); err != nil || int(n) != kept {
		t.Errorf("listed %d, %v; want %d kept", n, err, kept)
	}
	sumKept := 0
	for _, d := range days {
		c, err := e.st.SamplingCounts(ctx, d)
		must(t, err)
		sumKept += c.Kept
		rounds, err := e.st.SamplingRounds(ctx, d, d.AddDate(0, 0, 1))
		must(t, err)
		if len(rounds) != 1 {
			t.Fatalf("%s: %d rounds", d.Format(time.DateOnly), len(rounds))
		}
		hs, err := e.st.SampledOutHashes(ctx, d, 1)
		must(t, err)
		if c := Verify(rounds[0], trail.of(d, today), hs, config.MaxSamplingRate); !c.OK() || len(c.Notes) > 0 {
			t.Errorf("%s: %v %v", d.Format(time.DateOnly), c.Problems, c.Notes)
		}
		keptOfDay, err := e.st.KeptOfDay(ctx, d)
		must(t, err)
		if p := VerifyKept(rounds, keptOfDay, NewHasher(e.key).Hash); len(p) > 0 {
			t.Errorf("%s: %v", d.Format(time.DateOnly), p)
		}
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

	// Second run for the same days: nothing changes, no draw is committed.
	c1, err := e.st.SamplingCounts(ctx, days[0])
	must(t, err)
	commits := len(trail.entries)
	clk.Advance(time.Hour)
	run2, err := runner.Run(ctx, task, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run2.Summary["received"] != 0 || run2.Summary["kept"] != 0 || run2.Summary["files_deleted"] != 0 {
		t.Errorf("second run did something: %v", run2.Summary)
	}
	if len(trail.entries) != commits {
		t.Errorf("second run appended %d audit entries", len(trail.entries)-commits)
	}
	if got := e.count(t, `SELECT COUNT(*) FROM calls`); got != kept {
		t.Errorf("second run changed rows: %d", got)
	}
	c2, err := e.st.SamplingCounts(ctx, days[0])
	must(t, err)
	if c1 != c2 || c1.Received == 0 {
		t.Errorf("day counts before/after the second run: %v / %v", c1, c2)
	}
}

// TestQuotaRandomisedRounding: an agent with 10 calls at 5% keeps 0 or 1,
// about half the days each, so the expected rate is exact; the seeded
// quota does the same over seeds.
func TestQuotaRandomisedRounding(t *testing.T) {
	r := NewRand()
	const trials = 20000
	sum, seeded := 0, 0
	for i := range trials {
		k := Quota(10, 0.05, r)
		if k != 0 && k != 1 {
			t.Fatalf("quota %d for 10 calls at 5%%", k)
		}
		sum += k
		seed := make([]byte, SeedSize)
		rand.Read(seed)
		seeded += QuotaFor(seed, "agent-"+strconv.Itoa(i%7), 10, 0.05)
	}
	for name, s := range map[string]int{"Quota": sum, "QuotaFor": seeded} {
		if mean := float64(s) / trials; mean < 0.47 || mean > 0.53 {
			t.Errorf("%s: mean quota %.3f, want 0.5", name, mean)
		}
	}
	if Quota(100, 0.05, r) != 5 || Quota(20, 1, r) != 20 || QuotaFor(make([]byte, SeedSize), "a", 100, 0.05) != 5 {
		t.Error("exact quotas must not round up")
	}
}

// TestDrawIsUniform: over seeds, no call of an agent's day is favoured,
// whatever its position or id.
func TestDrawIsUniform(t *testing.T) {
	ids := NewHasher([]byte("k"))
	var calls []store.PendingCall
	for i := range 20 {
		calls = append(calls, store.PendingCall{Row: int64(i), IDHash: ids.Hash(fmt.Sprint("x", i)), AgentID: "a"})
	}
	hits := map[int64]int{}
	const trials = 20000
	for range trials {
		seed := make([]byte, SeedSize)
		rand.Read(seed)
		set, err := Draw(calls, DrawParams{Day: time.Now(), Round: 1, Rate: 0.05, Seed: seed})
		must(t, err)
		if len(set.Keep) != 1 {
			t.Fatalf("kept %d of 20 at 5%%", len(set.Keep))
		}
		hits[set.Keep[0].Row]++
	}
	// Each call is kept with probability 1/20: 1000 expected, sd ≈ 31.
	for _, c := range calls {
		if h := hits[c.Row]; h < 850 || h > 1150 {
			t.Errorf("call %d kept %d times of %d, want about 1000", c.Row, h, trials)
		}
	}
}

// TestVerifyCatchesTampering: each lie about a round is reported.
func TestVerifyCatchesTampering(t *testing.T) {
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	ids := NewHasher([]byte("k"))
	var calls []store.PendingCall
	for i := range 200 {
		a := "a" + strconv.Itoa(i%4)
		calls = append(calls, store.PendingCall{Row: int64(i), IDHash: ids.Hash(fmt.Sprint("x", i)), AgentID: a})
	}
	seed := bytes.Repeat([]byte{7}, SeedSize)
	at := day.AddDate(0, 0, 1).Add(2 * time.Hour)
	commit := Commitment(day, 1, 0.05, seed)
	set, err := Draw(calls, DrawParams{Day: day, Round: 1, Rate: 0.05, Seed: seed, Commitment: commit, SampledAt: at})
	must(t, err)
	kept := func(c store.PendingCall) bool {
		return slices.ContainsFunc(set.Keep, func(k store.KeptRow) bool { return k.Row == c.Row })
	}
	out := map[int][]int64{}
	for _, so := range set.SampledOut {
		out[so.Stratum] = append(out[so.Stratum], so.H)
	}
	trail := []TrailEntry{{Seq: 1, At: at.Add(-time.Second), Action: ActionCommit,
		Details: map[string]string{"round": "1", "rate": "0.05", "commitment": commit}}}
	if c := Verify(set.Round, trail, out, config.MaxSamplingRate); !c.OK() || len(c.Notes) > 0 {
		t.Fatalf("honest round: %v %v", c.Problems, c.Notes)
	}
	var keptCalls []store.KeptCall
	var notKept string
	for i, c := range calls {
		switch {
		case kept(c):
			keptCalls = append(keptCalls, store.KeptCall{AgentID: c.AgentID, ExternalID: fmt.Sprint("x", i)})
		case c.AgentID == "a1" && notKept == "":
			notKept = fmt.Sprint("x", i)
		}
	}
	if p := VerifyKept([]store.SamplingRound{set.Round}, keptCalls, ids.Hash); len(p) > 0 {
		t.Fatalf("honest kept calls: %v", p)
	}
	// A call kept outside the draw.
	if p := VerifyKept([]store.SamplingRound{set.Round}, append(keptCalls, store.KeptCall{AgentID: "a1", ExternalID: notKept}), ids.Hash); len(p) != 1 {
		t.Errorf("a call kept outside the draw: %v", p)
	}
	cases := map[string]struct {
		edit  func(r *store.SamplingRound, tr *[]TrailEntry, out map[int][]int64)
		wants string
	}{
		"another seed": {func(r *store.SamplingRound, _ *[]TrailEntry, _ map[int][]int64) {
			r.Seed = bytes.Repeat([]byte{8}, SeedSize)
		}, "does not open the commitment"},
		"no commitment in the trail": {func(_ *store.SamplingRound, tr *[]TrailEntry, _ map[int][]int64) { *tr = nil },
			"holds no commitment"},
		"committed after the draw": {func(_ *store.SamplingRound, tr *[]TrailEntry, _ map[int][]int64) {
			(*tr)[0].At = at.Add(time.Hour)
		}, "after the draw"},
		"drawn twice": {func(_ *store.SamplingRound, tr *[]TrailEntry, _ map[int][]int64) {
			*tr = append(*tr, TrailEntry{Action: ActionCommit, At: at, Details: map[string]string{"round": "1", "rate": "0.05", "commitment": "other"}})
		}, "neither drawn nor withdrawn"},
		"unlawful rate": {func(r *store.SamplingRound, _ *[]TrailEntry, _ map[int][]int64) { r.Rate = 0.5 },
			"outside the lawful range"},
		"an agent kept more": {func(r *store.SamplingRound, _ *[]TrailEntry, _ map[int][]int64) {
			r.Strata = []byte(strings.Replace(string(r.Strata), `"kept":`, `"kept":1`, 1))
		}, "the seed's quota"},
		"another call kept": {func(r *store.SamplingRound, _ *[]TrailEntry, out map[int][]int64) {
			st := 1 << 16
			out[st][0], out[st][1] = out[st][1], out[st][0]
			swapFirstKept(t, r, out[st][0])
		}, "not those the seed draws"},
		"hashes missing": {func(_ *store.SamplingRound, _ *[]TrailEntry, out map[int][]int64) {
			out[1<<16] = out[1<<16][1:]
		}, "sampled-out hashes kept"},
	}
	for name, c := range cases {
		r := set.Round
		r.Strata = slices.Clone(r.Strata)
		tr := slices.Clone(trail)
		o := map[int][]int64{}
		for k, v := range out {
			o[k] = slices.Clone(v)
		}
		c.edit(&r, &tr, o)
		got := Verify(r, tr, o, config.MaxSamplingRate)
		if got.OK() || !strings.Contains(strings.Join(got.Problems, "; "), c.wants) {
			t.Errorf("%s: problems %q, want %q", name, got.Problems, c.wants)
		}
	}
	// Once the hashes are purged, the draw cannot be recomputed: said so.
	if c := Verify(set.Round, trail, nil, config.MaxSamplingRate); !c.OK() || len(c.Notes) != 1 {
		t.Errorf("purged hashes: %v %v", c.Problems, c.Notes)
	}
}

// swapFirstKept replaces the first kept hash of the first stratum by h.
func swapFirstKept(t *testing.T, r *store.SamplingRound, h int64) {
	t.Helper()
	s := string(r.Strata)
	i := strings.Index(s, `"kept_hashes":[`) + len(`"kept_hashes":[`)
	j := i + strings.IndexAny(s[i:], ",]")
	r.Strata = []byte(s[:i] + strconv.FormatInt(h, 10) + s[j:])
}

// TestCrashLeftoversAreFinished: deletions queued by a run that died
// before carrying them out are carried out by the next run.
func TestCrashLeftoversAreFinished(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 1)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	keys := e.addPending(t, agentID(0), day, 40)
	e.settle(t)
	// Settle the day but "crash" before the audio goes.
	pd, err := e.st.PendingOfDay(ctx, day)
	must(t, err)
	set, err := Draw(pd.Calls, DrawParams{Day: day, Round: 1, Rate: 0.05, Seed: make([]byte, SeedSize)})
	must(t, err)
	rows := []int64{set.Keep[0].Row, set.Keep[1].Row}
	kk, err := e.st.AudioKeysOf(ctx, rows)
	must(t, err)
	c, err := e.blobs.CopyOut(ctx, set.Group, kk)
	must(t, err)
	set.Keep[0].AudioKey, set.Keep[1].AudioKey, set.Compacted = c.Keys[0], c.Keys[1], true
	must(t, e.st.ApplySettlement(ctx, day, 1, pd.Stamp, set))
	c.Release()
	readable := func() int {
		n := 0
		for _, k := range append(keys, c.Keys...) {
			if e.readable(k) {
				n++
			}
		}
		return n
	}
	if n := readable(); n != 42 {
		t.Fatalf("%d blobs readable before the next run, want 40 and the 2 copies", n)
	}
	rep, err := (&Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05, IDKey: e.key}).Run(ctx, day.AddDate(0, 0, 2))
	must(t, err)
	if n := readable(); rep.FilesDeleted != 1 || n != 2 {
		t.Errorf("leftover audio: %d deletions, %d readable, want the 2 kept", rep.FilesDeleted, n)
	}
}

// TestRoundsOfLateUploads: uploads of a day already sampled are sampled
// on their own, as round 2, verifiable like the first.
func TestRoundsOfLateUploads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 2)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	e.addPending(t, agentID(0), day, 100)
	trail := &memTrail{}
	s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05, IDKey: e.key, Trail: trail}
	_, err := s.Run(ctx, day.AddDate(0, 0, 1))
	must(t, err)
	e.addPending(t, agentID(1), day, 60)
	rep, err := s.Run(ctx, day.AddDate(0, 0, 2))
	must(t, err)
	if len(rep.Days) != 1 || rep.Days[0].Round != 2 || rep.Received != 60 || rep.Kept != 3 {
		t.Fatalf("second run %+v", rep)
	}
	rounds, err := e.st.SamplingRounds(ctx, day, day.AddDate(0, 0, 1))
	must(t, err)
	for _, r := range rounds {
		hs, err := e.st.SampledOutHashes(ctx, day, r.Round)
		must(t, err)
		if c := Verify(r, trail.of(day, r.SampledAt), hs, config.MaxSamplingRate); !c.OK() {
			t.Errorf("round %d: %v", r.Round, c.Problems)
		}
	}
	kept, err := e.st.KeptOfDay(ctx, day)
	must(t, err)
	if len(kept) != 8 {
		t.Errorf("%d kept, want 5 + 3", len(kept))
	}
	if p := VerifyKept(rounds, kept, NewHasher(e.key).Hash); len(p) > 0 {
		t.Error(p)
	}
}

// TestConcurrentRunsSettleEachDayOnce: `ecouted sample` run by hand while
// serve's scheduler samples (two database handles on one file) settles each
// recording once: the counts add up to what was pending, no more, and the
// trail says which commitment was withdrawn.
func TestConcurrentRunsSettleEachDayOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 10)
	for d := range 3 {
		for i := range 10 {
			e.addPending(t, agentID(i), time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC), 40)
		}
	}
	other, err := store.OpenSQLite(ctx, filepath.Join(filepath.Dir(e.root), "ecoute.db"), nil)
	must(t, err)
	defer other.Close()
	now := time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC)
	trail := &memTrail{}
	reps := make([]Report, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i, st := range []*store.SQLite{e.st, other} {
		go func() {
			reps[i], errs[i] = (&Sampler{Store: st, Blobs: e.blobs, Rate: 0.05, IDKey: e.key, Trail: trail}).Run(ctx, now)
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
	for d := range 3 {
		day := time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC)
		rounds, err := e.st.SamplingRounds(ctx, day, day.AddDate(0, 0, 1))
		must(t, err)
		if len(rounds) != 1 {
			t.Fatalf("%d rounds for %s", len(rounds), day)
		}
		hs, err := e.st.SampledOutHashes(ctx, day, 1)
		must(t, err)
		if c := Verify(rounds[0], trail.of(day, rounds[0].SampledAt), hs, config.MaxSamplingRate); !c.OK() {
			t.Errorf("%s: %v", day.Format(time.DateOnly), c.Problems)
		}
	}
}

// BenchmarkSample100k measures one `sample` run over 100,000 pending
// recordings of one day (200 agents), each with its encrypted audio in the
// day's packs, as ingestion stores it: the draw, the kept calls copied,
// 95,000 rows deleted with their keyed hashes recorded, and their audio
// punched out of the packs.
func BenchmarkSample100k(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, 200)
		for i := range 200 {
			e.addPending(b, agentID(i), day, 500)
		}
		e.settle(b)
		s := &Sampler{Store: e.st, Blobs: e.blobs, Rate: 0.05, IDKey: e.key, Trail: &memTrail{}}
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

// BenchmarkPurge100k measures one retention purge run over 100,000
// recordings of one day past their retention (200 agents), each with its
// encrypted audio in the day's packs: the rows deleted in chunks, their
// keys queued, the packs removed whole, the database's pages reclaimed.
func BenchmarkPurge100k(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, 200)
		for i := range 200 {
			e.addPending(b, agentID(i), day, 500)
		}
		e.settle(b)
		j := &retention.Job{Store: e.st, Blobs: e.blobs, Retention: config.Defaults()}
		b.StartTimer()
		cpu0 := cpuTime()
		sum, err := j.Run(ctx, day.AddDate(0, 7, 0))
		cpu += cpuTime() - cpu0
		if err != nil || sum["recordings"] != 100000 {
			b.Fatalf("%v %v", sum, err)
		}
		b.StopTimer()
		if n := e.count(b, `SELECT COUNT(*) FROM pending_calls`); n != 0 {
			b.Fatalf("%d rows left", n)
		}
		if blocks := e.diskBlocks(b); blocks > 64 {
			b.Fatalf("%d blocks of audio left", blocks)
		}
		b.StartTimer()
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
