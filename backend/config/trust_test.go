package config

import (
	"testing"
	"time"
)

func TestPrivacyRequestDueIsOneCalendarMonth(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for in, want := range map[string]string{
		"2026-03-05T10:00:00Z": "2026-04-05T10:00:00Z",
		"2026-01-31T09:00:00Z": "2026-02-28T09:00:00Z",
		"2028-01-31T09:00:00Z": "2028-02-29T09:00:00Z",
		"2026-12-15T00:00:00Z": "2027-01-15T00:00:00Z",
		"2026-08-31T23:30:00Z": "2026-09-30T23:30:00Z",
	} {
		if got := PrivacyRequestDue(d(in)); !got.Equal(d(want)) {
			t.Errorf("due of %s = %s, want %s", in, got.Format(time.RFC3339), want)
		}
	}
}
