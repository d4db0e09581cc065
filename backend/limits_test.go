package backend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestInputLimits sends, over gRPC, every kind of input the attack on the
// landed backend got through (and a few more): each is refused with
// INVALID_ARGUMENT naming the field at fault, and nothing is stored.
func TestInputLimits(t *testing.T) {
	ctx := context.Background()
	actx, adm := adminCtx(t)
	sup, dpo := login(t, "supervisor"), login(t, "dpo")
	ev := ecoutev1.NewEvaluationServiceClient(env.conn)
	big := strings.Repeat("x", 3<<20)
	many := make([]string, 40000)
	for i := range many {
		many[i] = fmt.Sprintf("agent-%05d", i)
	}
	nan := math.NaN()
	soon := time.Now().Add(48 * time.Hour)
	callID := visibleCall(sup, t, env.conn, "supervisor")

	stream := func(req *ecoutev1.StreamAudioRequest) error {
		st, err := calls().StreamAudio(sup, req)
		if err != nil {
			return err
		}
		for {
			if _, err := st.Recv(); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	bigGrid := &ecoutev1.Grid{GridId: "enorme", Name: "Énorme", Sections: []*ecoutev1.GridSection{{SectionId: "s", Title: "S", Weight: 1}}}
	for i := range 150 {
		bigGrid.Sections[0].Criteria = append(bigGrid.Sections[0].Criteria, &ecoutev1.Criterion{
			CriterionId: fmt.Sprintf("c%d", i), Label: strings.Repeat("question ", 20), Type: ecoutev1.AnswerType_ANSWER_TYPE_YES_NO, Weight: 1})
	}
	md := func(change func(m *ecoutev1.RecordingMetadata)) *ecoutev1.RecordingMetadata {
		m := metadataFor("limits-" + fmt.Sprint(time.Now().UnixNano()))
		change(m)
		return m
	}

	cases := []struct {
		name, field string
		call        func() error
	}{
		{"a 3 MiB login", "login", func() error {
			_, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: big, FirstName: "A", LastName: "B", Role: "client"})
			return err
		}},
		{"a 3 MiB team name", "name", func() error {
			_, err := adm.CreateTeam(actx, &ecoutev1.CreateTeamRequest{TeamId: "team-big", Name: big})
			return err
		}},
		{"escape sequences in a login", "login", func() error {
			_, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "\r\x1b[2K\x1b[1A\x1b[2K", FirstName: "A", LastName: "B", Role: "client"})
			return err
		}},
		{"escape sequences in a name", "last_name", func() error {
			_, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "nom-piege", FirstName: "A", LastName: "B\x1b]0;pwned\x07", Role: "client"})
			return err
		}},
		{"a path in a team id", "team_id", func() error {
			_, err := adm.CreateTeam(actx, &ecoutev1.CreateTeamRequest{TeamId: "team/../../etc", Name: "Piège"})
			return err
		}},
		{"51 teams", "team_ids", func() error {
			_, err := adm.SetUserTeams(actx, &ecoutev1.SetUserTeamsRequest{UserId: "u-x", TeamIds: many[:51]})
			return err
		}},
		{"a recording period declared after the fact", "starts_at", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(time.Now().Add(-time.Hour)), EndsAt: timestamppb.New(soon)})
			return err
		}},
		{"a recording period starting within the notice", "starts_at", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(time.Now().Add(time.Hour)), EndsAt: timestamppb.New(soon)})
			return err
		}},
		{"agents told of a period in the future", "informed_at", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(soon), EndsAt: timestamppb.New(soon.Add(time.Hour)),
				InformedAt: timestamppb.New(time.Now().Add(time.Hour))})
			return err
		}},
		{"agents told of a period half a year ago", "informed_at", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(soon), EndsAt: timestamppb.New(soon.Add(time.Hour)),
				InformedAt: timestamppb.New(time.Now().AddDate(0, -6, 0))})
			return err
		}},
		{"a recording period for all time", "ends_at", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(soon), EndsAt: timestamppb.New(time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC))})
			return err
		}},
		{"a control character in a period's note", "note", func() error {
			_, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-banque",
				StartsAt: timestamppb.New(soon), EndsAt: timestamppb.New(soon.Add(time.Hour)), Note: "a\x1b[2Kb"})
			return err
		}},
		{"an erasure without a reason", "reason", func() error {
			_, err := ecoutev1.NewPrivacyServiceClient(env.conn).EraseSubject(dpo, &ecoutev1.EraseSubjectRequest{CustomerPhoneE164: "+33600000000"})
			return err
		}},
		{"40,000 agent ids", "filter.agent_ids", func() error {
			_, err := calls().ListCalls(sup, &ecoutev1.ListCallsRequest{Filter: &ecoutev1.CallFilter{AgentIds: many}})
			return err
		}},
		{"min_score NaN", "filter.min_score", func() error {
			_, err := calls().ListCalls(sup, &ecoutev1.ListCallsRequest{Filter: &ecoutev1.CallFilter{MinScore: &nan}})
			return err
		}},
		{"an invalid duration", "filter.min_duration", func() error {
			_, err := calls().ListCalls(sup, &ecoutev1.ListCallsRequest{Filter: &ecoutev1.CallFilter{
				MinDuration: &durationpb.Duration{Seconds: math.MaxInt64}}})
			return err
		}},
		{"a huge page token", "page_token", func() error {
			_, err := calls().ListCalls(sup, &ecoutev1.ListCallsRequest{PageToken: strings.Repeat("A", 100000)})
			return err
		}},
		{"offset + length overflowing", "length", func() error {
			return stream(&ecoutev1.StreamAudioRequest{CallId: callID, Offset: 10, Length: math.MaxInt64 - 5})
		}},
		{"a call id with a path", "call_id", func() error {
			_, err := calls().GetCall(sup, &ecoutev1.GetCallRequest{CallId: "../../etc/passwd"})
			return err
		}},
		{"a grid of 150 criteria", "grid.sections", func() error {
			_, err := ev.SaveGrid(sup, &ecoutev1.SaveGridRequest{Grid: bigGrid})
			return err
		}},
		{"a grid YAML of 1 MiB", "yaml", func() error {
			_, err := ev.SaveGrid(sup, &ecoutev1.SaveGridRequest{Yaml: "id: x\n" + strings.Repeat("# padding\n", 100000)})
			return err
		}},
		{"a comment check of 5000 bytes", "text", func() error {
			_, err := ev.CheckComment(sup, &ecoutev1.CheckCommentRequest{Text: strings.Repeat("mot ", 1250)})
			return err
		}},
		{"a 2000-byte new password", "new_password", func() error {
			_, err := ecoutev1.NewAuthServiceClient(env.conn).ChangePassword(login(t, "hr"), &ecoutev1.ChangePasswordRequest{
				OldPassword: env.accounts["hr"].Password, NewPassword: strings.Repeat("phrase ", 300)})
			return err
		}},
		{"an external id with spaces", "metadata.external_id", func() error {
			_, err := upload(t, md(func(m *ecoutev1.RecordingMetadata) { m.ExternalId = "pbx 42 \x1b[2K" }), clip(t))
			return err
		}},
		{"a 1 KiB customer name", "metadata.customer.name", func() error {
			_, err := upload(t, md(func(m *ecoutev1.RecordingMetadata) { m.Customer.Name = strings.Repeat("n", 1024) }), clip(t))
			return err
		}},
		{"a negative ring time", "metadata.activity.ring_time", func() error {
			_, err := upload(t, md(func(m *ecoutev1.RecordingMetadata) {
				m.Activity = &ecoutev1.AgentActivity{RingTime: durationpb.New(-time.Second)}
			}), clip(t))
			return err
		}},
		{"a call of three days", "metadata.ended_at", func() error {
			_, err := upload(t, md(func(m *ecoutev1.RecordingMetadata) {
				m.EndedAt = timestamppb.New(m.StartedAt.AsTime().Add(72 * time.Hour))
			}), clip(t))
			return err
		}},
		{"an audit listing from the year 1500", "since", func() error {
			_, err := ecoutev1.NewAuditServiceClient(env.conn).ListAuditEvents(dpo, &ecoutev1.ListAuditEventsRequest{
				Since: timestamppb.New(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC))})
			return err
		}},
		{"a register entry with a 1 KiB requester", "requester", func() error {
			_, err := ecoutev1.NewPrivacyRequestServiceClient(env.conn).RecordPrivacyRequest(dpo, &ecoutev1.RecordPrivacyRequestRequest{
				Kind: "access", Channel: "letter", ReceivedAt: timestamppb.Now(), CustomerPhoneE164: "+33600000000",
				Requester: strings.Repeat("r", 1024)})
			return err
		}},
	}
	for _, c := range cases {
		err := c.call()
		_, br := errorInfo(err)
		if code(err) != codes.InvalidArgument || br == nil || len(br.GetFieldViolations()) == 0 ||
			br.GetFieldViolations()[0].GetField() != c.field {
			msg := fmt.Sprint(err)
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			t.Errorf("%s: %s; want INVALID_ARGUMENT on %s", c.name, msg, c.field)
		}
	}
	// Nothing of it was stored.
	users, _ := adm.ListUsers(actx, &ecoutev1.ListUsersRequest{})
	for _, u := range users.GetAccounts() {
		if strings.ContainsAny(u.Login+u.LastName, "\x1b\r") || len(u.Login) > 64 {
			t.Errorf("stored account %q", u.Login)
		}
	}
	_ = ctx
}
