package service

import (
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// checkFilter applies the input limits to a call filter: at most
// limits.MaxFilterIDs ids per list, each of the id alphabet; valid times
// and durations; scores that are numbers.
func checkFilter(f *ecoutev1.CallFilter) error {
	for _, err := range []error{
		limits.IDs("filter.agent_ids", f.GetAgentIds(), limits.MaxFilterIDs),
		limits.IDs("filter.team_ids", f.GetTeamIds(), limits.MaxFilterIDs),
		limits.IDs("filter.campaign_ids", f.GetCampaignIds(), limits.MaxFilterIDs),
		validTime("filter.started_after", f.GetStartedAfter()), validTime("filter.started_before", f.GetStartedBefore()),
		validDuration("filter.min_duration", f.GetMinDuration()), validDuration("filter.max_duration", f.GetMaxDuration()),
	} {
		if err != nil {
			return err
		}
	}
	if f.MinScore != nil {
		if err := limits.Finite("filter.min_score", *f.MinScore); err != nil {
			return err
		}
	}
	if f.MaxScore != nil {
		if err := limits.Finite("filter.max_score", *f.MaxScore); err != nil {
			return err
		}
	}
	return nil
}

func validTime(field string, t *timestamppb.Timestamp) error {
	if t == nil {
		return nil
	}
	if err := t.CheckValid(); err != nil {
		return domain.Invalid(field, "is not a valid time: %v", err)
	}
	return limits.Instant(field, t.AsTime())
}

func validDuration(field string, d *durationpb.Duration) error {
	if d == nil {
		return nil
	}
	if err := d.CheckValid(); err != nil {
		return domain.Invalid(field, "is not a valid duration: %v", err)
	}
	return limits.Duration(field, d.AsDuration(), limits.MaxFilterDuration)
}
