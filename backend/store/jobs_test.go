package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func jobFixture(t *testing.T, s *SQLite, start time.Time, state string, agents, perAgent int) {
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
	for a := range agents {
		agent := fmt.Sprintf("ag%d", a)
		if _, err := s.AgentByID(ctx, agent); err != nil {
			if err := s.CreateAgent(ctx, Agent{ID: agent, Name: "N " + agent, TeamID: "t1"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range perAgent {
			id := fmt.Sprintf("%s-%s-%d-%d", state, agent, start.Unix(), i)
			calls = append(calls, NewCall{Call: Call{ID: id, ExternalID: "x-" + id, StartedAt: start, EndedAt: start.Add(time.Minute),
				AgentID: agent, TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start,
				ConsentAccepted: true, State: state, RetainedUntil: start.AddDate(0, 6, 0),
				Audio: Audio{Key: "calls/" + id + ".mp3"}}})
		}
	}
	if err := s.InsertCalls(ctx, calls); err != nil {
		t.Fatal(err)
	}
}

// TestSampleDayPerAgent: choose sees one agent at a time; what it keeps
// becomes visible, the rest is deleted with its blob queued; a second pass
// finds nothing; other days are untouched.
func TestSampleDayPerAgent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	jobFixture(t, s, day, StatePending, 3, 10)
	jobFixture(t, s, day.AddDate(0, 0, 1), StatePending, 3, 10)
	days, err := s.PendingDays(ctx, day.AddDate(0, 0, 1))
	if err != nil || len(days) != 1 || !days[0].Equal(DayOf(day)) {
		t.Fatalf("pending days before the 5th: %v %v", days, err)
	}
	calls := 0
	c, err := s.SampleDay(ctx, day, func(m map[string][]string) []string {
		calls++
		if len(m) != 1 {
			t.Errorf("choose got %d agents at once", len(m))
		}
		for _, ids := range m {
			return ids[:2]
		}
		return nil
	})
	if err != nil || c != (SampleCounts{Received: 30, Kept: 6}) || calls != 3 {
		t.Fatalf("counts %+v, %d calls of choose, %v", c, calls, err)
	}
	if _, n, _ := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}}); n != 6 {
		t.Errorf("%d visible, want 6", n)
	}
	keys, err := s.BlobDeletions(ctx, 100)
	if err != nil || len(keys) != 24 {
		t.Errorf("%d blobs queued, %v; want 24", len(keys), err)
	}
	if c, err := s.SampleDay(ctx, day, func(map[string][]string) []string { t.Error("choose called again"); return nil }); err != nil || c != (SampleCounts{}) {
		t.Errorf("second pass %+v %v", c, err)
	}
	if got, _ := s.SamplingCounts(ctx, day); got != (SampleCounts{Received: 30, Kept: 6}) {
		t.Errorf("day counts %+v", got)
	}
	var pending int
	s.db.QueryRow(`SELECT COUNT(*) FROM calls WHERE state = 'pending'`).Scan(&pending)
	if pending != 30 {
		t.Errorf("%d pending left, want the next day's 30", pending)
	}
}

// TestDeleteRecordingsInBatches: more than one batch goes, every blob of a
// deleted row is queued, younger rows stay.
func TestDeleteRecordingsInBatches(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	old := time.Date(2026, 1, 4, 9, 0, 0, 0, time.UTC)
	jobFixture(t, s, old, StateKept, 5, 900) // 4,500 rows: three batches
	jobFixture(t, s, old.AddDate(0, 3, 0), StateKept, 1, 7)
	n, err := s.DeleteRecordings(ctx, old.AddDate(0, 1, 0), old.AddDate(0, 1, 0))
	if err != nil || n != 4500 {
		t.Fatalf("deleted %d, %v; want 4500", n, err)
	}
	var rows, queued int
	s.db.QueryRow(`SELECT COUNT(*) FROM calls`).Scan(&rows)
	s.db.QueryRow(`SELECT COUNT(*) FROM blob_deletions`).Scan(&queued)
	if rows != 7 || queued != 4500 {
		t.Errorf("%d rows left (want 7), %d blobs queued (want 4500)", rows, queued)
	}
	keys, _ := s.BlobDeletions(ctx, 10000)
	if err := s.ForgetBlobDeletions(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.BlobDeletions(ctx, 10); len(left) != 0 {
		t.Errorf("%d keys left after forgetting", len(left))
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
