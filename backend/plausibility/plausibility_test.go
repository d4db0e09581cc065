package plausibility

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
)

var now = time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)

// good is a plausible upload: a 3-minute call of an hour ago, consent
// asked 20 s before, answered 5 s before, with 3 minutes of audio.
func good() Facts {
	start := now.Add(-time.Hour)
	return Facts{
		Upload: Upload{ExternalID: "pbx-42", StartedAt: start, EndedAt: start.Add(3 * time.Minute),
			AgentID: "agent-02", TeamID: "team-banque", CampaignID: "camp-opinion", Direction: "inbound",
			CustomerName: "Jeanne Dupré", CustomerPhone: "+33612345678", CustomerAddress: "3 rue de la Paix, Paris",
			CustomerNumber: "C-1234", ConsentRequestedAt: start.Add(-20 * time.Second),
			ConsentAnsweredAt: start.Add(-5 * time.Second), RingTime: 8 * time.Second, TalkTime: 3 * time.Minute,
			BackOfficeTime: time.Minute, ActivityType: "sale"},
		Now: now, KeptUntil: now.AddDate(0, 6, 0), AgentTeams: []string{"team-banque"}, Audio: 3 * time.Minute,
	}
}

type refusal struct {
	name  string
	edit  func(f *Facts)
	field string
	want  string // in the field's description
}

// refusals holds one case or more for every line of Rules (checked by
// TestEveryRuleIsTested).
var refusals = []refusal{
	{"no external id", func(f *Facts) { f.ExternalID = "" }, "metadata.external_id", "is required"},
	{"3 MiB external id", func(f *Facts) { f.ExternalID = strings.Repeat("x", 3<<20) }, "metadata.external_id", "3145728 bytes: at most 128"},
	{"NUL in external id", func(f *Facts) { f.ExternalID = "pbx\x0042" }, "metadata.external_id", "control character U+0000"},
	{"no start", func(f *Facts) { f.StartedAt = time.Time{} }, "metadata.started_at", "is required"},
	{"8 days in the future", func(f *Facts) {
		f.StartedAt, f.EndedAt = now.AddDate(0, 0, 8), now.AddDate(0, 0, 8).Add(time.Minute)
		f.ConsentRequestedAt, f.ConsentAnsweredAt = f.StartedAt, time.Time{}
	}, "metadata.started_at", "is in the future"},
	{"retention over", func(f *Facts) { f.KeptUntil = now }, "metadata.started_at", "older than the retention period"},
	{"no end", func(f *Facts) { f.EndedAt = time.Time{} }, "metadata.ended_at", "is required"},
	{"ends before it starts", func(f *Facts) { f.EndedAt = f.StartedAt.Add(-time.Second) }, "metadata.ended_at", "must be after started_at"},
	{"ends as it starts", func(f *Facts) { f.EndedAt = f.StartedAt }, "metadata.ended_at", "must be after started_at"},
	{"ends in the future", func(f *Facts) { f.EndedAt = now.Add(time.Hour) }, "metadata.ended_at", "is in the future"},
	{"lasts 30 days", func(f *Facts) { f.StartedAt = now.AddDate(0, 0, -31); f.EndedAt = now.AddDate(0, 0, -1) },
		"metadata.ended_at", "more than 24h0m0s"},
	{"bad direction", func(f *Facts) { f.Direction = "sideways" }, "metadata.direction", `not "sideways"`},
	{"no direction", func(f *Facts) { f.Direction = "" }, "metadata.direction", `not ""`},
	{"agent of another team", func(f *Facts) { f.TeamID = "team-energie" }, "metadata.team_id", "agent agent-02 is not in team team-energie"},
	{"escape in agent id", func(f *Facts) { f.AgentID = "agent\x1b[31m" }, "metadata.agent_id", "control character U+001B"},
	{"oversized team id", func(f *Facts) { f.TeamID = strings.Repeat("t", 129) }, "metadata.team_id", "129 bytes"},
	{"oversized campaign id", func(f *Facts) { f.CampaignID = strings.Repeat("c", 200) }, "metadata.campaign_id", "200 bytes"},
	{"3 MiB customer name", func(f *Facts) { f.CustomerName = strings.Repeat("é", 3<<19) }, "metadata.customer.name", "bytes: at most 256"},
	{"newline in customer name", func(f *Facts) { f.CustomerName = "Jeanne\nDupré" }, "metadata.customer.name", "U+000A"},
	{"invalid UTF-8 name", func(f *Facts) { f.CustomerName = "Dupr\xe9" }, "metadata.customer.name", "not valid UTF-8"},
	{"C1 control in address", func(f *Facts) { f.CustomerAddress = "3 rue\u0085de la Paix" }, "metadata.customer.address", "U+0085"},
	{"oversized customer number", func(f *Facts) { f.CustomerNumber = strings.Repeat("9", 65) }, "metadata.customer.customer_number", "65 bytes"},
	{"phone not E.164", func(f *Facts) { f.CustomerPhone = "06 12 34 56 78" }, "metadata.customer.phone_e164", "not E.164"},
	{"no consent time", func(f *Facts) { f.ConsentRequestedAt, f.ConsentAnsweredAt = time.Time{}, time.Time{} },
		"metadata.consent.requested_at", "is required"},
	{"consent asked after the start", func(f *Facts) { f.ConsentRequestedAt, f.ConsentAnsweredAt = f.StartedAt.Add(time.Second), time.Time{} },
		"metadata.consent.requested_at", "consent precedes recording"},
	{"consent asked a year before", func(f *Facts) { f.ConsentRequestedAt = f.StartedAt.AddDate(-1, 0, 0) },
		"metadata.consent.requested_at", "before the recording started"},
	{"consent answered after the start", func(f *Facts) { f.ConsentAnsweredAt = f.StartedAt.Add(time.Second) },
		"metadata.consent.answered_at", "answered before the recording starts"},
	{"consent answered before asked", func(f *Facts) { f.ConsentAnsweredAt = f.ConsentRequestedAt.Add(-time.Second) },
		"metadata.consent.answered_at", "before requested_at"},
	{"negative ring time", func(f *Facts) { f.RingTime = -time.Second }, "metadata.activity.ring_time", "between 0 and"},
	{"negative talk time", func(f *Facts) { f.TalkTime = -time.Minute }, "metadata.activity.talk_time", "between 0 and"},
	{"back office of 2 days", func(f *Facts) { f.BackOfficeTime = 48 * time.Hour }, "metadata.activity.back_office_time", "between 0 and"},
	{"tab in activity type", func(f *Facts) { f.ActivityType = "sale\tx" }, "metadata.activity.activity_type", "U+0009"},
	// The audio's rules.
	{"audio longer than the call", func(f *Facts) { f.Audio = 4 * time.Minute }, "metadata.ended_at", "cannot be longer than the call"},
	{"ended 30 days after 30 s of audio", func(f *Facts) {
		f.StartedAt, f.EndedAt = now.Add(-23*time.Hour), now.Add(-time.Minute)
		f.ConsentRequestedAt, f.ConsentAnsweredAt = f.StartedAt, time.Time{}
		f.Audio = 30 * time.Second
	}, "metadata.ended_at", "but its audio only 30s"},
}

// isAudio says whether a case is about the audio's rules.
func isAudio(r refusal) bool {
	return strings.HasPrefix(r.name, "audio") || strings.Contains(r.name, "of audio")
}

func TestRefusals(t *testing.T) {
	if err := CheckMetadata(good()); err != nil {
		t.Fatalf("the plausible upload is refused: %v", err)
	}
	if err := CheckAudio(good()); err != nil {
		t.Fatalf("the plausible upload's audio is refused: %v", err)
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			f := good()
			c.edit(&f)
			err := CheckMetadata(f)
			if isAudio(c) {
				if err != nil {
					t.Fatalf("metadata refused before the audio: %v", err)
				}
				err = CheckAudio(f)
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Reason != domain.ReasonInvalidArgument {
				t.Fatalf("got %v, want INVALID_ARGUMENT", err)
			}
			var found bool
			for _, v := range de.Fields {
				if v.Field == c.field {
					found = true
					if !strings.Contains(v.Description, c.want) {
						t.Errorf("%s: %q, want it to say %q", v.Field, v.Description, c.want)
					}
				}
			}
			if !found {
				t.Errorf("fields %+v, want %s", de.Fields, c.field)
			}
		})
	}
}

// TestEveryRuleIsTested: each line of the table refuses at least one case
// of refusals, and lets the plausible upload through.
func TestEveryRuleIsTested(t *testing.T) {
	for i, r := range Rules {
		f := good()
		if why := r.Bad(&f); why != "" {
			t.Errorf("rule %d (%s) refuses the plausible upload: %s", i, r.Field, why)
		}
		hit := false
		for _, c := range refusals {
			f := good()
			c.edit(&f)
			if r.Bad(&f) != "" && r.Field == c.field {
				hit = true
				break
			}
		}
		if !hit {
			t.Errorf("rule %d (%s) is refused by no case", i, r.Field)
		}
	}
}

// TestAllFieldsAtOnce: every field at fault is named in one refusal, the
// first complaint of each.
func TestAllFieldsAtOnce(t *testing.T) {
	f := good()
	f.Direction = "up"
	f.CustomerPhone = "0612"
	f.ExternalID = ""
	err := CheckMetadata(f)
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) != 3 {
		t.Fatalf("got %v, want three fields", err)
	}
	for _, want := range []string{"metadata.external_id", "metadata.direction", "metadata.customer.phone_e164"} {
		if !strings.Contains(de.Message, want) {
			t.Errorf("message %q does not name %s", de.Message, want)
		}
	}
}

// TestBoundaries: the limits themselves are accepted.
func TestBoundaries(t *testing.T) {
	for name, edit := range map[string]func(f *Facts){
		"start at the skew": func(f *Facts) {
			f.StartedAt, f.EndedAt = now.Add(ClockSkew-3*time.Minute), now.Add(ClockSkew)
			f.ConsentRequestedAt, f.ConsentAnsweredAt = f.StartedAt, time.Time{}
		},
		"consent at the lead limit": func(f *Facts) {
			f.ConsentRequestedAt, f.ConsentAnsweredAt = f.StartedAt.Add(-MaxConsentLead), time.Time{}
		},
		"silence is consent":        func(f *Facts) { f.ConsentAnsweredAt = time.Time{} },
		"ids at 128 bytes":          func(f *Facts) { f.ExternalID = strings.Repeat("x", MaxID) },
		"accents and emoji":         func(f *Facts) { f.CustomerName = "Zoë Ñúñez 📞" },
		"audio within the slack":    func(f *Facts) { f.Audio = 3*time.Minute + AudioSlack },
		"call twice its audio":      func(f *Facts) { f.Audio = 1 * time.Minute; f.EndedAt = f.StartedAt.Add(2*time.Minute + SilentMargin) },
		"agent moved from the team": func(f *Facts) { f.AgentTeams = []string{"team-energie", "team-banque"} },
		"unknown agent (refused elsewhere)": func(f *Facts) {
			f.AgentTeams = nil
			f.TeamID = "team-x"
		},
	} {
		f := good()
		edit(&f)
		if err := CheckMetadata(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := CheckAudio(f); err != nil {
			t.Errorf("%s (audio): %v", name, err)
		}
	}
}
