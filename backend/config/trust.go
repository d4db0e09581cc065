package config

import "time"

// Fixed periods of the trust rules (issue 12): not configurable.
var (
	// GrantRequests is how long a privileged grant waits for a second
	// person's decision before it expires.
	GrantRequests = MustPeriod("24h")
	// LoginThrottles is how long a login and source address pair is
	// remembered after its last failure (connection data, R4).
	LoginThrottles = MustPeriod("24h")
	// RecordingPeriodNotice is the least time between declaring a
	// recording period and its start: agents are told in advance (R6).
	RecordingPeriodNotice = MustPeriod("24h")
	// MaxNoticeAge is how long ago the agents may have been told of a
	// period being declared now (the notice may predate its declaration:
	// a letter, a meeting, a works council).
	MaxNoticeAge = MustPeriod("90d")
	// MaxRecordingPeriod is the longest recording period declared at once
	// (R6: periods, not "always").
	MaxRecordingPeriod = MustPeriod("3mo")
)

// GrantExpires is when a grant requested at at expires.
func GrantExpires(at time.Time) time.Time { return GrantRequests.After(at.UTC()) }

// LoginThrottleCutoff is the time before which unlocked login throttles
// are forgotten as of now.
func LoginThrottleCutoff(now time.Time) time.Time { return LoginThrottles.Before(now.UTC()) }

// PrivacyRequestDue is when the answer to a request of the people
// concerned received at received is due (R7: within one month): the same
// day of the next month, or its last day when it has fewer days (a request
// of 31 January is due on 28 or 29 February), at the same time, in UTC.
func PrivacyRequestDue(received time.Time) time.Time {
	r := received.UTC()
	y, m, d := r.Date()
	first := time.Date(y, m+1, 1, r.Hour(), r.Minute(), r.Second(), r.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// EarliestRecordingStart is the first instant a period declared at now
// may start (R6).
func EarliestRecordingStart(now time.Time) time.Time { return RecordingPeriodNotice.After(now.UTC()) }
