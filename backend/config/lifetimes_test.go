package config

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests need, whatever the machine has
)

func TestLifetimes(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c := Defaults()
	c.Recordings = MustPeriod("3mo")
	start := at("2026-03-29T00:30:00Z")
	paris := zone(t, "Europe/Paris")
	// The same instant, whatever the zone it is given in; the purge of
	// 29 June (02:00 UTC) is the last one not after the end of the period.
	for _, s := range []time.Time{start, start.In(paris)} {
		if got := c.RecordingKeptUntil(s); !got.Equal(at("2026-06-29T02:00:00Z").AddDate(0, 0, -1)) {
			t.Errorf("recording of %s kept until %s", s, got)
		}
		if got := EvaluationKeptUntil(s); !got.Equal(at("2027-03-29T00:30:00Z")) {
			t.Errorf("evaluation of %s kept until %s", s, got)
		}
	}
	// The case of the issue: a call of 31 October at 10:00 was deleted at
	// 02:00 on 1 May while the console said 1 May 10:00. Now the end of
	// April is its end, and the purge of 30 April deletes it.
	c.Recordings = MustPeriod("6mo")
	if got := c.RecordingKeptUntil(at("2026-10-31T10:00:00Z")); !got.Equal(at("2027-04-30T02:00:00Z")) {
		t.Errorf("31 October + 6mo kept until %s", got)
	}
	now := at("2026-09-01T02:00:00Z")
	if got := c.ConnectionLogCutoff(now); !got.Equal(at("2026-03-01T02:00:00Z")) {
		t.Errorf("connection log cutoff %s", got)
	}
	if got := RequestCutoff(now); !got.Equal(at("2026-08-31T02:00:00Z")) {
		t.Errorf("request cutoff %s", got)
	}
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRecordingKeptUntilEveryDay: for calls started on every day of 2027
// and 2028, at local times around midnight and noon in two zones with
// opposite daylight-saving seasons (month ends, 29 February, the DST
// changes included), under every lawful way to set the period and the hour:
// the date is a purge run, after the start, not after the end of the
// period, and the last run that is; later starts never get earlier dates;
// and the purge's cutoff selects exactly the recordings whose date has
// come, one millisecond before and at the date.
func TestRecordingKeptUntilEveryDay(t *testing.T) {
	zones := []*time.Location{zone(t, "Europe/Paris"), zone(t, "Pacific/Auckland")}
	periods := []string{"6mo", "1mo", "90d", "2w", "36h", "1h"}
	hours := []int{2, 0, 23}
	if testing.Short() {
		periods, hours = periods[:2], hours[:1]
	}
	for _, p := range periods {
		for _, h := range hours {
			c := Defaults()
			c.Recordings, c.SamplingHour = MustPeriod(p), h
			var prevStart, prevDate time.Time
			for _, loc := range zones {
				prevStart, prevDate = time.Time{}, time.Time{}
				for d := time.Date(2027, 1, 1, 0, 0, 0, 0, loc); d.Year() < 2029; d = d.AddDate(0, 0, 1) {
					for _, hm := range [][2]int{{0, 0}, {1, 59}, {2, 30}, {12, 0}, {23, 59}} {
						start := time.Date(d.Year(), d.Month(), d.Day(), hm[0], hm[1], 0, 0, loc)
						got := c.RecordingKeptUntil(start)
						end := c.Recordings.After(start.UTC())
						switch {
						case got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 || got.UTC().Hour() != h:
							t.Fatalf("%s h%d: %s kept until %s: not a purge run", p, h, start, got)
						case !got.After(start):
							t.Fatalf("%s h%d: %s kept until %s: not after the start", p, h, start, got)
						case got.After(end) && end.Sub(start) >= 24*time.Hour:
							t.Fatalf("%s h%d: %s kept until %s: after the end of its period %s", p, h, start, got, end)
						case !got.Add(24 * time.Hour).After(end):
							t.Fatalf("%s h%d: %s kept until %s: the run of the next day %s is not after the end %s either",
								p, h, start, got, got.Add(24*time.Hour), end)
						case !prevStart.IsZero() && start.After(prevStart) && got.Before(prevDate):
							t.Fatalf("%s h%d: %s kept until %s, before %s of the earlier %s", p, h, start, got, prevDate, prevStart)
						}
						prevStart, prevDate = start, got
						if cut := c.RecordingCutoff(got); !start.Before(cut) {
							t.Fatalf("%s h%d: at %s the cutoff %s keeps %s, whose date has come", p, h, got, cut, start)
						}
						if cut := c.RecordingCutoff(got.Add(-time.Millisecond)); start.Before(cut) {
							t.Fatalf("%s h%d: a millisecond before %s the cutoff %s takes %s", p, h, got, cut, start)
						}
					}
				}
			}
		}
	}
}

// TestRecordingCutoffIsExact: at every purge run of a year, the cutoff is
// the boundary between due and not due to the millisecond.
func TestRecordingCutoffIsExact(t *testing.T) {
	c := Defaults()
	for now := time.Date(2027, 1, 1, 2, 0, 0, 0, time.UTC); now.Year() < 2028; now = now.AddDate(0, 0, 1) {
		cut := c.RecordingCutoff(now)
		if c.RecordingKeptUntil(cut).Compare(now) <= 0 {
			t.Fatalf("at %s the cutoff %s is itself due", now, cut)
		}
		if before := cut.Add(-time.Millisecond); c.RecordingKeptUntil(before).After(now) {
			t.Fatalf("at %s, %s just before the cutoff %s is not due", now, before, cut)
		}
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
