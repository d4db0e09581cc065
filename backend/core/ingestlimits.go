package core

import (
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
)

// Bounds of a recording's metadata.
const (
	// MaxCallLength bounds a call (the audio is at most MaxUploadBytes,
	// about 18 hours at 32 kbps).
	MaxCallLength = 24 * time.Hour
	// MaxActivityTime bounds each activity figure (R5).
	MaxActivityTime = 24 * time.Hour
	// MaxConsentLead bounds how long before the call consent was asked.
	MaxConsentLead = 24 * time.Hour
	// MaxActivityType bounds the activity type's name.
	MaxActivityType = 64
)

// CheckRecording applies the input limits to a recording's metadata
// before anything is looked up: sizes, the alphabet of ids, control
// characters, plausible times and durations. Fuzzed (FuzzRecordingMetadata).
func CheckRecording(md *Recording) error {
	if md == nil {
		return domain.Invalid("metadata", "the first message must be the metadata")
	}
	f := func(name string) string { return "metadata." + name }
	checks := []error{
		limits.ExternalID(f("external_id"), md.ExternalID),
		limits.ID(f("agent_id"), md.AgentID), limits.ID(f("team_id"), md.TeamID), limits.ID(f("campaign_id"), md.CampaignID),
		limits.Line(f("direction"), md.Direction, limits.MaxID),
		limits.Line(f("customer.name"), md.Customer.Name, limits.MaxCustomer),
		limits.Line(f("customer.phone_e164"), md.Customer.PhoneE164, limits.MaxCustomer),
		limits.Line(f("customer.address"), md.Customer.Address, limits.MaxCustomer),
		limits.Line(f("customer.customer_number"), md.Customer.Number, limits.MaxCustomer),
		limits.Line(f("activity.activity_type"), md.Activity.Type, MaxActivityType),
		limits.Instant(f("started_at"), md.StartedAt), limits.Instant(f("ended_at"), md.EndedAt),
		limits.Duration(f("activity.ring_time"), md.Activity.RingTime, MaxActivityTime),
		limits.Duration(f("activity.talk_time"), md.Activity.TalkTime, MaxActivityTime),
		limits.Duration(f("activity.back_office_time"), md.Activity.BackOfficeTime, MaxActivityTime),
	}
	if md.Consent != nil {
		checks = append(checks, limits.Instant(f("consent.requested_at"), md.Consent.RequestedAt),
			limits.Instant(f("consent.answered_at"), md.Consent.AnsweredAt))
		if !md.StartedAt.IsZero() && !md.Consent.RequestedAt.IsZero() && md.StartedAt.Sub(md.Consent.RequestedAt) > MaxConsentLead {
			checks = append(checks, domain.Invalid(f("consent.requested_at"), "more than %s before the call", MaxConsentLead))
		}
	}
	if !md.StartedAt.IsZero() && !md.EndedAt.IsZero() && md.EndedAt.Sub(md.StartedAt) > MaxCallLength {
		checks = append(checks, domain.Invalid(f("ended_at"), "the call lasts more than %s", MaxCallLength))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}
