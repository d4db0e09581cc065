package config

import "time"

// Every "kept until" instant shown to users and every cutoff of the
// retention purge is computed here, from the periods of this package, so
// that each retention period is stated once: ingestion, the demo, the
// purge and the answers' retained_until fields all call these.

// RecordingKeptUntil is the one function that dates the deletion of a
// recording (R4): the instant the purge deletes the recording of a call
// that started at start, which is also the "kept until" the console shows.
//
// The retention period (retention.recordings) counts from the start, in
// UTC, with calendar months (31 August + 6mo is the end of February, see
// Period). The purge runs once a day, at sampling.hour:00 UTC, so the
// recording goes at the last of those runs that is not after the end of
// its period: never kept longer than the period, and deleted at the very
// instant shown, never before (the purge deletes exactly the recordings
// this function says are due, see RecordingCutoff). When the period is
// shorter than a day and no run falls between the start and the end, the
// first run after the start deletes it: a daily job can do no better.
//
// Later starts never give earlier dates, which RecordingCutoff relies on.
func (c Config) RecordingKeptUntil(start time.Time) time.Time {
	start = start.UTC()
	end := c.Recordings.After(start)
	d := runAtOrBefore(end, c.SamplingHour)
	if !d.After(start) {
		d = runAtOrBefore(start, c.SamplingHour).AddDate(0, 0, 1)
	}
	return d
}

// RecordingCutoff is the start before which every recording is due for
// deletion at now: RecordingKeptUntil(start) ≤ now exactly when start is
// before the cutoff (to the millisecond, the resolution of stored times).
// It is computed from RecordingKeptUntil itself, so the purge can select
// what to delete with one comparison on the start and still delete
// exactly what the dates shown promise.
func (c Config) RecordingCutoff(now time.Time) time.Time {
	now = now.UTC()
	due := func(ms int64) bool { return !c.RecordingKeptUntil(time.UnixMilli(ms)).After(now) }
	// Every start two years back is due (periods are at most 6 months);
	// none a week ahead is (a period lasts at least an hour, so its first
	// run after the start is at most a day away).
	lo, hi := now.AddDate(-2, 0, 0).UnixMilli(), now.AddDate(0, 0, 7).UnixMilli()
	for hi-lo > 1 { // invariant: due(lo), !due(hi)
		mid := lo + (hi-lo)/2
		if due(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.UnixMilli(hi).UTC()
}

// runAtOrBefore is the last daily run (hour:00 UTC) at or before t.
func runAtOrBefore(t time.Time, hour int) time.Time {
	t = t.UTC()
	r := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, time.UTC)
	if r.After(t) {
		r = r.AddDate(0, 0, -1)
	}
	return r
}

// ConnectionLogCutoff is the time before which sessions, login records
// and audit entries are deleted as of now (R4, R10).
func (c Config) ConnectionLogCutoff(now time.Time) time.Time {
	return c.ConnectionLogs.Before(now.UTC())
}

// EvaluationKeptUntil is when an evaluation created at created is deleted
// (R4, R12).
func EvaluationKeptUntil(created time.Time) time.Time { return Evaluations.After(created.UTC()) }

// RequestCutoff is the time before which the server forgets a client's
// request ids (RequestIDs): a write sent again later is applied again.
func RequestCutoff(now time.Time) time.Time { return RequestIDs.Before(now.UTC()) }

// AgentNameCutoff is the collection time before which a recording or an
// evaluation of a call no longer justifies keeping the agent's name (R4:
// names attached to recordings, 1 year from collection). The name of an
// agent still working on a recorded position is their profile and stays;
// an ended agent's name is erased once nothing collected after the
// cutoff names them. Recordings live at most 6 months, so they are gone
// long before their agent's name must be.
func AgentNameCutoff(now time.Time) time.Time { return AgentNamesOnRecording.Before(now.UTC()) }

// AnalysisKeptUntil is when an analysis document created at created is
// deleted, like an evaluation: a coaching session with its notes and goals,
// a calibration with its scores (R4, R12). A coaching session's clips and a
// call's screen captures go earlier, with the recording (RecordingKeptUntil).
func AnalysisKeptUntil(created time.Time) time.Time { return Evaluations.After(created.UTC()) }

// ActivityFigures is how long the telephony side's activity figures (R5:
// talk, back-office and ring time, calls handled and lost, per agent and
// interval) are kept. They are per-person working-time records, like
// connection logs, so R4's 3–12 months apply; 12 months is chosen so that
// the dashboards compare the activity of the same year as the evaluations
// (kept 1 year, R12) and the client's monthly tables cover the same
// twelve months. Not configurable: the statistics need both sources over
// the same period.
var ActivityFigures = MustPeriod("12mo")

// ActivityKeptUntil is when an activity interval that started at start is
// deleted.
func ActivityKeptUntil(start time.Time) time.Time { return ActivityFigures.After(start.UTC()) }

// ActivityCutoff is the start before which activity intervals are deleted
// as of now. The client's published monthly tables go with the same
// cutoff (they never outlive the figures they were drawn from).
func ActivityCutoff(now time.Time) time.Time { return ActivityFigures.Before(now.UTC()) }
