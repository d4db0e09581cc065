package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request is recorded with the write it asked for, once: a second write
// carrying the same request is rolled back whole.
func TestRequestRecordedWithItsWrite(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateTeam(ctx, Team{ID: "t1", Name: "Un", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	req := func() *Request {
		return &Request{UserID: "u1", Method: "recording_period.create", ID: "r-1", Fingerprint: "f1", At: t0}
	}
	period := func(id string) RecordingPeriod {
		return RecordingPeriod{ID: id, TeamID: "t1", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), CreatedAt: t0}
	}
	if _, err := s.Request(ctx, "u1", "recording_period.create", "r-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	r := req()
	if err := s.AddRecordingPeriod(WithRequest(ctx, r), period("p1")); err != nil {
		t.Fatal(err)
	}
	if r.ObjectID != "p1" {
		t.Errorf("recorded object %q", r.ObjectID)
	}
	got, err := s.Request(ctx, "u1", "recording_period.create", "r-1")
	if err != nil || got.ObjectID != "p1" || got.Fingerprint != "f1" || !got.At.Equal(t0) {
		t.Fatalf("recorded request %+v, %v", got, err)
	}
	// The twin is refused and its period is not added.
	if err := s.AddRecordingPeriod(WithRequest(ctx, req()), period("p2")); !errors.Is(err, ErrDuplicateRequest) {
		t.Fatalf("twin: %v", err)
	}
	if ps, _ := s.RecordingPeriods(ctx, "t1", time.Time{}); len(ps) != 1 {
		t.Errorf("%d periods after the twin", len(ps))
	}
	// Another user's or another method's request of the same id is another.
	other := req()
	other.UserID = "u2"
	if err := s.AddRecordingPeriod(WithRequest(ctx, other), period("p3")); err != nil {
		t.Errorf("another user's request: %v", err)
	}
	// Without a request, writes record nothing.
	if err := s.AddRecordingPeriod(ctx, period("p4")); err != nil {
		t.Fatal(err)
	}
	// Counts come back (revoked sessions).
	rv := &Request{UserID: "u1", Method: "sessions.revoke", ID: "r-2", At: t0.Add(2 * time.Hour)}
	if err := s.DeleteUserSessions(WithRequest(ctx, rv), "nobody", ""); err != nil || rv.Count != 0 || rv.ObjectID != "nobody" {
		t.Errorf("revoke: %+v %v", rv, err)
	}
	if n, err := s.DeleteRequests(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("purge: %d %v", n, err)
	}
	if _, err := s.Request(ctx, "u1", "sessions.revoke", "r-2"); err != nil {
		t.Errorf("a newer request was purged: %v", err)
	}
}
