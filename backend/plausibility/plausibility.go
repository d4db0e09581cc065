// Package plausibility is the table of checks an upload's metadata must
// pass before anything of it is stored (R3: consent precedes recording;
// R14: what is stored matches what was captured). Each rule is one line of
// Rules: the field it refuses, whether it needs the audio's length, and
// the test. A refusal names every field at fault at once (INVALID_ARGUMENT
// with one field violation each), so a telephony integrator fixes its
// export in one go.
//
// The rules read plain values (Facts): the directory lookups (does the
// agent exist, which teams was it in) and the audio are the caller's
// (backend/core), which fills what the table needs.
package plausibility

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecoute/ecoute/backend/domain"
)

// Upload is the metadata of a recording as the telephony sent it; zero
// values are "not given".
type Upload struct {
	ExternalID                         string
	StartedAt, EndedAt                 time.Time
	AgentID, TeamID, CampaignID        string
	Direction                          string
	CustomerName, CustomerPhone        string
	CustomerAddress, CustomerNumber    string
	ConsentRequestedAt                 time.Time
	ConsentAnsweredAt                  time.Time
	RingTime, TalkTime, BackOfficeTime time.Duration
	ActivityType                       string
}

// Facts is what the rules judge: the upload and what the server knows.
type Facts struct {
	Upload
	// Now is the server's clock.
	Now time.Time
	// KeptUntil is when the recording would be deleted
	// (config.Config.RecordingKeptUntil of the start).
	KeptUntil time.Time
	// AgentTeams are the teams the named agent is in or was moved out of
	// (the directory's); nil when the agent is not known, which the caller
	// refuses on its own.
	AgentTeams []string
	// Audio is the length of the audio; zero until it was read.
	Audio time.Duration
}

// Limits of the table, documented in README ("Plausible metadata").
const (
	// ClockSkew is how far in the future a time may lie: telephony clocks
	// drift a little from the server's.
	ClockSkew = 5 * time.Minute
	// MaxCall is the longest call: 12-hour recordings are stored, and a
	// day is beyond any call.
	MaxCall = 24 * time.Hour
	// MaxConsentLead is how long before the recording the consent notice
	// may have been played (a caller waits in the queue after the IVR).
	MaxConsentLead = 2 * time.Hour
	// AudioSlack is how much longer than the call its audio may be
	// (encoder padding, clocks rounded to the second).
	AudioSlack = 2 * time.Second
	// SilentMargin is how much longer than twice its audio a call may
	// last: ringing, a hold or a recording paused for a card number are
	// not recorded, but a call of 30 days with 30 seconds of audio is not
	// a call.
	SilentMargin = time.Minute
	// MaxID bounds an identifier; MaxName, MaxAddress and MaxShort the
	// other texts (bytes of UTF-8).
	MaxID      = 128
	MaxName    = 256
	MaxAddress = 512
	MaxShort   = 64
)

// Rule is one line of the table.
type Rule struct {
	// Field is the request field refused ("metadata.ended_at").
	Field string
	// Audio says the rule needs Facts.Audio: it runs once the audio was
	// read, the others before anything is read.
	Audio bool
	// Bad returns why f breaks the rule, "" when it does not.
	Bad func(f *Facts) string
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// Rules is the table, in the order of the fields.
var Rules = []Rule{
	{"metadata.external_id", false, func(f *Facts) string { return required(f.ExternalID) }},
	text("metadata.external_id", MaxID, func(u *Upload) string { return u.ExternalID }),

	{"metadata.started_at", false, func(f *Facts) string { return requiredTime(f.StartedAt) }},
	{"metadata.started_at", false, func(f *Facts) string { return future(f.StartedAt, f.Now) }},
	{"metadata.started_at", false, func(f *Facts) string {
		return when(!f.StartedAt.IsZero() && !f.KeptUntil.IsZero() && !f.KeptUntil.After(f.Now),
			"%s is older than the retention period: the recording would be deleted before anyone could hear it (retention.recordings, R4)",
			stamp(f.StartedAt))
	}},

	{"metadata.ended_at", false, func(f *Facts) string { return requiredTime(f.EndedAt) }},
	{"metadata.ended_at", false, func(f *Facts) string {
		return when(both(f.StartedAt, f.EndedAt) && !f.EndedAt.After(f.StartedAt), "must be after started_at")
	}},
	{"metadata.ended_at", false, func(f *Facts) string { return future(f.EndedAt, f.Now) }},
	{"metadata.ended_at", false, func(f *Facts) string {
		return when(both(f.StartedAt, f.EndedAt) && f.EndedAt.Sub(f.StartedAt) > MaxCall,
			"the call would last %s: more than %s", f.EndedAt.Sub(f.StartedAt), MaxCall)
	}},
	{"metadata.ended_at", true, func(f *Facts) string {
		span := f.EndedAt.Sub(f.StartedAt)
		return when(f.Audio > span+AudioSlack, "the call lasts %s but its audio %s: the audio cannot be longer than the call",
			span.Round(time.Second), f.Audio.Round(time.Second))
	}},
	{"metadata.ended_at", true, func(f *Facts) string {
		span := f.EndedAt.Sub(f.StartedAt)
		return when(span > 2*f.Audio+SilentMargin, "the call lasts %s but its audio only %s (at most twice the audio plus %s)",
			span.Round(time.Second), f.Audio.Round(time.Second), SilentMargin)
	}},

	text("metadata.agent_id", MaxID, func(u *Upload) string { return u.AgentID }),
	text("metadata.team_id", MaxID, func(u *Upload) string { return u.TeamID }),
	{"metadata.team_id", false, func(f *Facts) string {
		return when(f.AgentTeams != nil && f.TeamID != "" && !slices.Contains(f.AgentTeams, f.TeamID),
			"agent %s is not in team %s (the directory has them in %s)", f.AgentID, f.TeamID, strings.Join(f.AgentTeams, ", "))
	}},
	text("metadata.campaign_id", MaxID, func(u *Upload) string { return u.CampaignID }),
	{"metadata.direction", false, func(f *Facts) string {
		return when(f.Direction != "inbound" && f.Direction != "outbound", "must be \"inbound\" or \"outbound\", not %q", f.Direction)
	}},

	text("metadata.customer.name", MaxName, func(u *Upload) string { return u.CustomerName }),
	{"metadata.customer.phone_e164", false, func(f *Facts) string {
		return when(f.CustomerPhone != "" && !e164.MatchString(f.CustomerPhone), "%q is not E.164 (+ then up to 15 digits)", f.CustomerPhone)
	}},
	text("metadata.customer.address", MaxAddress, func(u *Upload) string { return u.CustomerAddress }),
	text("metadata.customer.customer_number", MaxShort, func(u *Upload) string { return u.CustomerNumber }),

	{"metadata.consent.requested_at", false, func(f *Facts) string { return requiredTime(f.ConsentRequestedAt) }},
	{"metadata.consent.requested_at", false, func(f *Facts) string {
		return when(both(f.ConsentRequestedAt, f.StartedAt) && f.ConsentRequestedAt.After(f.StartedAt),
			"must not be after started_at (consent precedes recording, R3)")
	}},
	{"metadata.consent.requested_at", false, func(f *Facts) string {
		lead := f.StartedAt.Sub(f.ConsentRequestedAt)
		return when(both(f.ConsentRequestedAt, f.StartedAt) && lead > MaxConsentLead,
			"asked %s before the recording started: the notice is played at most %s before (R3)", lead.Round(time.Second), MaxConsentLead)
	}},
	// Silence is consent (the caller refuses with a key press, R3): an
	// accepted call may have no answer time; one given must fall between
	// the question and the recording.
	{"metadata.consent.answered_at", false, func(f *Facts) string {
		return when(both(f.ConsentAnsweredAt, f.StartedAt) && f.ConsentAnsweredAt.After(f.StartedAt),
			"must not be after started_at (consent is answered before the recording starts, R3)")
	}},
	{"metadata.consent.answered_at", false, func(f *Facts) string {
		return when(both(f.ConsentAnsweredAt, f.ConsentRequestedAt) && f.ConsentAnsweredAt.Before(f.ConsentRequestedAt),
			"must not be before requested_at")
	}},

	{"metadata.activity.ring_time", false, func(f *Facts) string { return span(f.RingTime) }},
	{"metadata.activity.talk_time", false, func(f *Facts) string { return span(f.TalkTime) }},
	{"metadata.activity.back_office_time", false, func(f *Facts) string { return span(f.BackOfficeTime) }},
	text("metadata.activity.activity_type", MaxShort, func(u *Upload) string { return u.ActivityType }),
}

// CheckMetadata runs the rules that need no audio: before the upload's
// audio is read.
func CheckMetadata(f Facts) error { return check(f, false) }

// CheckAudio runs the rules that compare the metadata with the audio.
func CheckAudio(f Facts) error { return check(f, true) }

// check runs the rules of one phase and returns the first complaint about
// each field, all fields together.
func check(f Facts, audio bool) error {
	var bad []domain.FieldViolation
	for _, r := range Rules {
		if r.Audio != audio || slices.ContainsFunc(bad, func(v domain.FieldViolation) bool { return v.Field == r.Field }) {
			continue
		}
		if why := r.Bad(&f); why != "" {
			bad = append(bad, domain.FieldViolation{Field: r.Field, Description: why})
		}
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return domain.Invalid(bad[0].Field, "%s", bad[0].Description)
	}
	msg := make([]string, len(bad))
	for i, v := range bad {
		msg[i] = v.Field + ": " + v.Description
	}
	return domain.Problems("implausible metadata: "+strings.Join(msg, "; "), bad)
}

// text is the rule of a free text field: at most max bytes of UTF-8, no
// control characters (NUL, escape, line breaks: nothing a terminal or a
// CSV export would interpret).
func text(field string, max int, get func(*Upload) string) Rule {
	return Rule{Field: field, Bad: func(f *Facts) string {
		s := get(&f.Upload)
		switch {
		case len(s) > max:
			return fmt.Sprintf("%d bytes: at most %d", len(s), max)
		case !utf8.ValidString(s):
			return "is not valid UTF-8"
		}
		for i, r := range s {
			if isControl(r) {
				return fmt.Sprintf("holds the control character %U at byte %d", r, i)
			}
		}
		return ""
	}}
}

// isControl is a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

func required(s string) string { return when(s == "", "is required") }

func requiredTime(t time.Time) string { return when(t.IsZero(), "is required") }

func future(t, now time.Time) string {
	return when(!t.IsZero() && t.After(now.Add(ClockSkew)),
		"%s is in the future (the server's clock says %s; %s of clock skew is allowed)", stamp(t), stamp(now), ClockSkew)
}

func span(d time.Duration) string {
	return when(d < 0 || d > MaxCall, "%s: must be between 0 and %s", d, MaxCall)
}

func both(a, b time.Time) bool { return !a.IsZero() && !b.IsZero() }

func when(bad bool, format string, a ...any) string {
	if !bad {
		return ""
	}
	return fmt.Sprintf(format, a...)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
