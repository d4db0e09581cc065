package config

import "time"

// Every "kept until" instant shown to users and every cutoff of the
// retention purge is computed here, from the periods of this package, so
// that each retention period is stated once: ingestion, the demo, the
// purge and the answers' retained_until fields all call these.

// RecordingKeptUntil is when the recording of a call that started at start
// is deleted: start + retention.recordings (R4). In UTC, so that a calendar
// period is the same instant whatever the server's zone.
func (c Config) RecordingKeptUntil(start time.Time) time.Time { return c.Recordings.After(start.UTC()) }

// RecordingCutoff is the start before which a recording has outlived its
// retention as of now. Agent names must also leave recordings a year after
// collection (R4): a recording lives at most 6 months, so deleting it at
// the recording cutoff detaches the name long before; taking the later
// cutoff keeps that true even if the limits ever changed.
func (c Config) RecordingCutoff(now time.Time) time.Time {
	cutoff := c.Recordings.Before(now.UTC())
	if names := AgentNamesOnRecording.Before(now.UTC()); names.After(cutoff) {
		cutoff = names
	}
	return cutoff
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
// cutoff names them.
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
