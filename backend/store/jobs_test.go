package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// jobFixture stores perAgent calls of each of agents agents started at
// start: waiting for the sampling (StatePending) or kept. Their audio keys
// are packed keys of one pack of the day, one after the other.
func jobFixture(t *testing.T, s *SQLite, start time.Time, state string, agents, perAgent int) []NewCall {
	t.Helper()
	ctx := context.Background()
	if _, err := s.TeamByID(ctx, "t1"); err != nil {
		if err := s.CreateTeam(ctx, Team{ID: "t1", Name: "Un"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCampaign(ctx, Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}); err != nil {
			t.Fatal(err)
		}
	}
	var calls []NewCall
	var ups []PendingUpload
	for a := range agents {
		agent := fmt.Sprintf("ag%d", a)
		if _, err := s.AgentByID(ctx, agent); err != nil {
			if err := s.CreateAgent(ctx, Agent{ID: agent, Name: "N " + agent, TeamID: "t1"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range perAgent {
			id := fmt.Sprintf("%s-%s-%d-%d", state, agent, start.Unix(), i)
			off := int64(len(calls)) * 8192
			nc := NewCall{Call: Call{ID: id, ExternalID: "x-" + id, StartedAt: start, EndedAt: start.Add(time.Minute),
				AgentID: agent, TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start,
				ConsentAccepted: true, State: state, RetainedUntil: start.AddDate(0, 6, 0), CustomerName: "Client " + id,
				Audio: Audio{Key: fmt.Sprintf("calls/%s.mp3@%s:%d+5000", id, fixturePack(start, state), off),
					Size: 4000, Codec: "mp3", Duration: time.Minute}}}
			calls = append(calls, nc)
			ups = append(ups, PendingUpload{Call: nc, IDHash: int64(len(ups) + 1)})
		}
	}
	if state == StatePending {
		out, err := s.InsertPending(ctx, ups)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if o != (Outcome{}) {
				t.Fatalf("upload %d: %+v", i, o)
			}
		}
		return calls
	}
	if err := s.InsertCalls(ctx, calls); err != nil {
		t.Fatal(err)
	}
	return calls
}

// fixturePack is the pack of jobFixture's calls.
func fixturePack(start time.Time, state string) string {
	return fmt.Sprintf("packs/%s/%s%d.pack", DayOf(start).Format(time.DateOnly), state, start.Unix())
}

func (s *SQLite) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// keepTwo keeps the first two calls of each agent, their audio "moved" to
// moved/KEY.
func keepTwo(day time.Time, round int, pd PendingDay) Settlement {
	set := Settlement{Group: DayOf(day).Format(time.DateOnly), Compacted: true}
	seen := map[string]int{}
	var strata []string
	for _, c := range pd.Calls {
		if seen[c.AgentID] == 0 {
			strata = append(strata, c.AgentID)
		}
		if seen[c.AgentID] < 2 {
			set.Keep = append(set.Keep, KeptRow{Row: c.Row})
		} else {
			set.SampledOut = append(set.SampledOut, SampledOut{H: c.IDHash, Stratum: round<<16 | slices.Index(strata, c.AgentID)})
		}
		seen[c.AgentID]++
	}
	set.Round = SamplingRound{Day: day, Round: round, Rate: 0.05, Received: len(pd.Calls), Kept: len(set.Keep),
		Strata: []byte(`[]`), Seed: []byte("seed"), Commitment: "c", SampledAt: day.AddDate(0, 0, 1)}
	return set
}

// settle applies keepTwo to what waits of day.
func settle(t *testing.T, s *SQLite, day time.Time, round int) (Settlement, error) {
	t.Helper()
	ctx := context.Background()
	pd, err := s.PendingOfDay(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	set := keepTwo(DayOf(day), round, pd)
	rows := make([]int64, len(set.Keep))
	for i, k := range set.Keep {
		rows[i] = k.Row
	}
	keys, err := s.AudioKeysOf(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	for i := range set.Keep {
		set.Keep[i].AudioKey = "moved/" + keys[i]
	}
	return set, s.ApplySettlement(ctx, day, round, pd.Stamp, set)
}

// TestApplySettlement: the kept calls move to calls whole, with their new
// audio key; the rest is deleted with its hash recorded and the day's
// packs queued; the round is recorded; the day cannot be settled twice, or
// after it changed; other days are untouched.
func TestApplySettlement(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	in := jobFixture(t, s, day, StatePending, 3, 10)
	jobFixture(t, s, day.AddDate(0, 0, 1), StatePending, 3, 10)
	days, err := s.PendingDays(ctx, day.AddDate(0, 0, 1))
	if err != nil || len(days) != 1 || !days[0].Equal(DayOf(day)) {
		t.Fatalf("pending days before the 5th: %v %v", days, err)
	}
	if days, err := s.PendingDays(ctx, day.AddDate(0, 0, 9)); err != nil || len(days) != 2 {
		t.Fatalf("pending days: %v %v", days, err)
	}
	if _, n, _ := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}}); n != 0 {
		t.Fatalf("%d calls visible before the sampling", n)
	}
	// A day that changed after it was read is refused whole.
	pd, err := s.PendingOfDay(ctx, day)
	if err != nil || len(pd.Calls) != 30 || pd.Stamp.Count != 30 {
		t.Fatalf("waiting %d %+v %v", len(pd.Calls), pd.Stamp, err)
	}
	late := jobFixture(t, s, day.Add(time.Hour), StatePending, 1, 1)
	if err := s.ApplySettlement(ctx, day, 1, pd.Stamp, keepTwo(DayOf(day), 1, pd)); !errors.Is(err, ErrPendingChanged) {
		t.Fatalf("changed day: %v", err)
	}
	if _, err := s.db.Exec(`DELETE FROM pending_calls WHERE id = ?`, late[0].Call.ID); err != nil {
		t.Fatal(err)
	}

	set, err := settle(t, s, day, 1)
	if err != nil || len(set.Keep) != 6 {
		t.Fatalf("settled %d kept, %v", len(set.Keep), err)
	}
	if _, n, _ := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}}); n != 6 {
		t.Errorf("%d visible, want 6", n)
	}
	// A kept call reads back as it was uploaded, now kept, its audio moved.
	var keptID string
	if err := s.db.QueryRow(`SELECT id FROM calls LIMIT 1`).Scan(&keptID); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCall(ctx, keptID, Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(in, func(nc NewCall) bool { return nc.Call.ID == keptID })
	want := in[i].Call
	if got.ExternalID != want.ExternalID || got.CustomerName != want.CustomerName || got.Audio.Key != "moved/"+want.Audio.Key ||
		!got.StartedAt.Equal(want.StartedAt) || got.State != StateKept || got.AgentName != "N "+want.AgentID {
		t.Errorf("kept call %+v\nwant %+v", got, want)
	}
	if keys, _ := s.BlobDeletions(ctx, 100); !slices.Equal(keys, []string{"packs/2026-03-04/"}) {
		t.Errorf("deletions queued %q, want the day's packs", keys)
	}
	if n := s.count(t, `SELECT COUNT(*) FROM sampled_out WHERE day = ?`, ms(DayOf(day))); n != 24 {
		t.Errorf("%d hashes, want 24", n)
	}
	hs, err := s.SampledOutHashes(ctx, day, 1)
	if err != nil || len(hs[1<<16]) != 8 || len(hs[1<<16|2]) != 8 {
		t.Errorf("hashes of round 1 by stratum: %v %v", hs, err)
	}
	if gone, err := s.SampledOut(ctx, hs[1<<16][0]); err != nil || !gone {
		t.Errorf("sampled out: %v %v", gone, err)
	}
	if n := s.count(t, `SELECT COUNT(*) FROM pending_calls`); n != 30 {
		t.Errorf("%d waiting rows, want the next day's 30", n)
	}
	// Again: the round is taken; the next round finds nothing.
	if err := s.ApplySettlement(ctx, day, 1, pd.Stamp, keepTwo(DayOf(day), 1, pd)); !errors.Is(err, ErrRoundTaken) {
		t.Errorf("round 1 again: %v", err)
	}
	if _, err := settle(t, s, day, 2); !errors.Is(err, ErrNothingPending) {
		t.Errorf("round 2: %v", err)
	}
	if got, _ := s.SamplingCounts(ctx, day); got != (SampleCounts{Received: 30, Kept: 6}) {
		t.Errorf("day counts %+v", got)
	}
	rounds, err := s.SamplingRounds(ctx, DayOf(day), DayOf(day).AddDate(0, 0, 1))
	if err != nil || len(rounds) != 1 || rounds[0].Received != 30 || rounds[0].Kept != 6 || string(rounds[0].Seed) != "seed" {
		t.Errorf("rounds %+v %v", rounds, err)
	}
	if n, _ := s.SamplingRoundCount(ctx, day); n != 1 {
		t.Errorf("%d rounds", n)
	}
	// A settlement that does not add up is refused whole.
	next := day.AddDate(0, 0, 1)
	pd, _ = s.PendingOfDay(ctx, next)
	bad := keepTwo(DayOf(next), 1, pd)
	bad.Round.Kept++
	if err := s.ApplySettlement(ctx, next, 1, pd.Stamp, bad); err == nil || s.count(t, `SELECT COUNT(*) FROM pending_calls`) != 30 {
		t.Errorf("a settlement that loses calls: %v", err)
	}
	// Without compaction, each sampled-out recording's audio is queued.
	set = keepTwo(DayOf(next), 1, pd)
	set.Compacted = false
	if err := s.ApplySettlement(ctx, next, 1, pd.Stamp, set); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.BlobDeletions(ctx, 100); len(keys) != 25 {
		t.Errorf("%d deletions queued, want the day's packs and 24 recordings", len(keys))
	}
}

// TestInsertPendingOutcomes: an external id already kept, already waiting,
// or sampled out stores nothing.
func TestInsertPendingOutcomes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	kept := jobFixture(t, s, day, StateKept, 1, 1)[0].Call
	waiting := jobFixture(t, s, day.Add(time.Hour), StatePending, 1, 1)[0].Call
	if _, err := s.db.Exec(`INSERT INTO sampled_out (h, day, stratum) VALUES (77, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	mk := func(id, ext string) NewCall {
		c := waiting
		c.ID, c.ExternalID = id, ext
		return NewCall{Call: c}
	}
	out, err := s.InsertPending(ctx, []PendingUpload{
		{Call: mk("n1", kept.ExternalID), IDHash: 1}, {Call: mk("n2", waiting.ExternalID), IDHash: 2},
		{Call: mk("n3", "fresh"), IDHash: 77}, {Call: mk("n4", "new"), IDHash: 4}, {Call: mk("n5", "new"), IDHash: 4}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Outcome{{Existing: kept.ID}, {Existing: waiting.ID}, {SampledOut: true}, {}, {Existing: "n4"}}
	if !slices.Equal(out, want) {
		t.Errorf("outcomes %+v, want %+v", out, want)
	}
	if id, err := s.CallIDByExternalID(ctx, "new"); err != nil || id != "n4" {
		t.Errorf("new → %q %v", id, err)
	}
	if a, _, err := s.IngestedAudio(ctx, "n4"); err != nil || a.Key != waiting.Audio.Key {
		t.Errorf("audio of a waiting call: %+v %v", a, err)
	}
}

// TestDeleteRecordingsInChunks: more than one chunk goes, every audio of a
// deleted row is queued (a pack's neighbours as one range), younger rows
// stay, waiting rows past the cutoff go too, and the hashes of the days
// wholly past it.
func TestDeleteRecordingsInChunks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	defer func(n int) { purgeChunk = n }(purgeChunk)
	purgeChunk = 1000
	old := time.Date(2026, 1, 4, 9, 0, 0, 0, time.UTC)
	for h := range 5 {
		jobFixture(t, s, old.Add(time.Duration(h)*time.Minute), StateKept, 1, 900) // 4,500 rows: five chunks
	}
	jobFixture(t, s, old.AddDate(0, 3, 0), StateKept, 1, 7)
	jobFixture(t, s, old.Add(time.Hour), StatePending, 1, 3)
	for _, d := range []time.Time{old, old.AddDate(0, 1, 0)} {
		if _, err := s.db.Exec(`INSERT INTO sampled_out (h, day, stratum) VALUES (?, ?, 0)`, d.Unix(), ms(DayOf(d))); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := old.AddDate(0, 1, 0)
	n, err := s.DeleteRecordings(ctx, cutoff, cutoff)
	if err != nil || n != 4503 {
		t.Fatalf("deleted %d, %v; want 4503", n, err)
	}
	if rows := s.count(t, `SELECT COUNT(*) FROM calls`); rows != 7 {
		t.Errorf("%d rows left, want 7", rows)
	}
	if rows := s.count(t, `SELECT COUNT(*) FROM pending_calls`); rows != 0 {
		t.Errorf("%d waiting rows left", rows)
	}
	// Each fixture's 900 calls follow one another in their pack: one
	// range each.
	keys, _ := s.BlobDeletions(ctx, 10000)
	if len(keys) != 6 {
		t.Errorf("%d deletions queued, want 6 ranges: %v", len(keys), keys)
	}
	if hs := s.count(t, `SELECT COUNT(*) FROM sampled_out`); hs != 1 {
		t.Errorf("%d hashes left, want the cutoff day's", hs)
	}
	if err := s.ForgetBlobDeletions(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.BlobDeletions(ctx, 10); len(left) != 0 {
		t.Errorf("%d keys left after forgetting", len(left))
	}
}

func TestPackLive(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	jobFixture(t, s, day, StateKept, 1, 1)
	jobFixture(t, s, day.AddDate(0, 0, 1), StatePending, 1, 1)
	for pack, want := range map[string]bool{
		fixturePack(day, StateKept): true, fixturePack(day.AddDate(0, 0, 1), StatePending): true,
		fixturePack(day.Add(time.Hour), StateKept): false, "packs/2026-03-06/p.pack": false, "packs/other/p.pack": false,
	} {
		if got, err := s.PackLive(ctx, pack); err != nil || got != want {
			t.Errorf("%s live: %v %v, want %v", pack, got, err, want)
		}
	}
}

// TestAgentTeams: a move leaves the former team on record.
func TestAgentTeams(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	jobFixture(t, s, time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), StateKept, 1, 1)
	if err := s.CreateTeam(ctx, Team{ID: "t2", Name: "Deux"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AgentTeams(ctx, "ag0"); err != nil || !slices.Equal(got, []string{"t1"}) {
		t.Errorf("teams %v %v", got, err)
	}
	if err := s.UpdateAgent(ctx, "ag0", "N ag0", "t2"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAgent(ctx, "ag0", "Renamed", "t2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AgentTeams(ctx, "ag0"); err != nil || !slices.Equal(got, []string{"t2", "t1"}) {
		t.Errorf("teams after a move %v %v", got, err)
	}
	if _, err := s.AgentTeams(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

// TestSetWaveform: a kept call's index, then its peaks; the calls still
// lacking peaks are listed.
func TestSetWaveform(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	c := jobFixture(t, s, time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), StateKept, 1, 2)
	id := c[0].Call.ID
	if ids, err := s.CallsWithoutPeaks(ctx, 10); err != nil || len(ids) != 2 {
		t.Fatalf("without peaks %v %v", ids, err)
	}
	if err := s.SetWaveform(ctx, id, Waveform{FrameOffsets: []int64{0, 72, 144}}); err != nil {
		t.Fatal(err)
	}
	w, err := s.GetWaveform(ctx, id, Scope{All: true})
	if err != nil || len(w.FrameOffsets) != 3 || w.Bucket != 0 {
		t.Fatalf("waveform %+v %v", w, err)
	}
	if err := s.SetWaveform(ctx, id, Waveform{FrameOffsets: []int64{0, 72, 144}, Peaks: []byte{1, 2},
		ChannelPeaks: [][]byte{{1, 0}, {0, 2}}, Bucket: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	w, err = s.GetWaveform(ctx, id, Scope{All: true})
	if err != nil || string(w.Peaks) != "\x01\x02" || len(w.ChannelPeaks) != 2 || w.Bucket != 50*time.Millisecond {
		t.Fatalf("waveform %+v %v", w, err)
	}
	if ids, err := s.CallsWithoutPeaks(ctx, 10); err != nil || !slices.Equal(ids, []string{c[1].Call.ID}) {
		t.Errorf("without peaks %v %v", ids, err)
	}
	if err := s.SetWaveform(ctx, "nope", Waveform{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
}

func TestJobRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.LastJobRun(ctx, "sample"); err == nil {
		t.Error("a run found in an empty database")
	}
	t0 := time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC)
	for i := range 3 {
		r := JobRun{Job: "sample", RunFor: t0.AddDate(0, 0, i), StartedAt: t0, FinishedAt: t0.Add(time.Second),
			Summary: map[string]int{"kept": i}}
		if err := s.RecordJobRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	last, err := s.LastJobRun(ctx, "sample")
	if err != nil || !last.RunFor.Equal(t0.AddDate(0, 0, 2)) || last.Summary["kept"] != 2 {
		t.Errorf("last run %+v %v", last, err)
	}
}
