package config

import (
	"testing"
	"time"
)

func TestLifetimes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c := Defaults()
	c.Recordings = MustPeriod("3mo")
	// The same instant, whatever the zone it is given in.
	start := at("2026-03-29T00:30:00Z")
	for _, s := range []time.Time{start, start.In(paris)} {
		if got := c.RecordingKeptUntil(s); !got.Equal(at("2026-06-29T00:30:00Z")) {
			t.Errorf("recording of %s kept until %s", s, got)
		}
		if got := EvaluationKeptUntil(s); !got.Equal(at("2027-03-29T00:30:00Z")) {
			t.Errorf("evaluation of %s kept until %s", s, got)
		}
	}
	now := at("2026-09-01T02:00:00Z")
	if got := c.RecordingCutoff(now); !got.Equal(at("2026-06-01T02:00:00Z")) {
		t.Errorf("recording cutoff %s", got)
	}
	if got := c.ConnectionLogCutoff(now); !got.Equal(at("2026-03-01T02:00:00Z")) {
		t.Errorf("connection log cutoff %s", got)
	}
	if got := RequestCutoff(now); !got.Equal(at("2026-08-31T02:00:00Z")) {
		t.Errorf("request cutoff %s", got)
	}
	// A recording kept until its date is past the cutoff exactly then.
	if kept := c.RecordingKeptUntil(start); !c.RecordingCutoff(kept).Equal(start) {
		t.Errorf("cutoff at %s is %s, not the start %s", kept, c.RecordingCutoff(kept), start)
	}
}

// The activity feed is kept like connection logs: within R4's 3–12 months.
func TestActivityFiguresKeptLikeConnectionLogs(t *testing.T) {
	now := time.Date(2026, 9, 1, 2, 0, 0, 0, time.UTC)
	cut := ActivityCutoff(now)
	if cut.After(MinConnectionLogs.Before(now)) || cut.Before(MaxConnectionLogs.Before(now)) {
		t.Errorf("activity cutoff %s is outside 3–12 months before %s", cut, now)
	}
	if !cut.Equal(time.Date(2025, 9, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("activity cutoff %s", cut)
	}
	start := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	if kept := ActivityKeptUntil(start); !ActivityCutoff(kept).Equal(start) {
		t.Errorf("an interval kept until %s is cut at %s", kept, ActivityCutoff(kept))
	}
}
