package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Admin implements AdminService: accounts, teams, sessions and recording
// periods. The guard has already checked the caller's role.
type Admin struct {
	ecoutev1.UnimplementedAdminServiceServer
	Core *core.Backend
}

// AccountOf converts an account; no password material leaves the server.
func AccountOf(u domain.User) *ecoutev1.Account {
	return &ecoutev1.Account{UserId: u.ID, Login: u.Login, FirstName: u.FirstName, LastName: u.LastName,
		DisplayName: u.DisplayName, Role: u.Role, TeamIds: u.TeamIDs, AgentId: u.AgentID, Disabled: u.Disabled,
		PasswordChangeRequired: u.PasswordChangeRequired, CreatedAt: ts(u.CreatedAt),
		PasswordChangedAt: ts(u.PasswordChangedAt), LockedUntil: ts(u.LockedUntil)}
}

// PeriodOf converts a recording period.
func PeriodOf(p store.RecordingPeriod) *ecoutev1.RecordingPeriod {
	return &ecoutev1.RecordingPeriod{PeriodId: p.ID, TeamId: p.TeamID, StartsAt: ts(p.StartsAt), EndsAt: ts(p.EndsAt),
		Note: p.Note}
}

func teamOf(t store.Team) *ecoutev1.Team { return &ecoutev1.Team{TeamId: t.ID, Name: t.Name} }

// ListUsers lists every account.
func (s *Admin) ListUsers(ctx context.Context, _ *ecoutev1.ListUsersRequest) (*ecoutev1.ListUsersResponse, error) {
	us, err := s.Core.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := &ecoutev1.ListUsersResponse{}
	for _, u := range us {
		out.Accounts = append(out.Accounts, AccountOf(u))
	}
	return out, nil
}

// CreateUser makes an account with a one-time password.
func (s *Admin) CreateUser(ctx context.Context, req *ecoutev1.CreateUserRequest) (*ecoutev1.CreateUserResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	u, pw, err := s.Core.CreateUser(ctx, c, core.NewAccount{Login: req.GetLogin(), FirstName: req.GetFirstName(),
		LastName: req.GetLastName(), Role: req.GetRole(), Password: req.GetInitialPassword(), TeamIDs: req.GetTeamIds(),
		AgentID: req.GetAgentId()})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.CreateUserResponse{Account: AccountOf(u), InitialPassword: pw}, nil
}

// SetUserDisabled disables or re-enables an account.
func (s *Admin) SetUserDisabled(ctx context.Context, req *ecoutev1.SetUserDisabledRequest) (*ecoutev1.SetUserDisabledResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	u, err := s.Core.SetDisabled(ctx, c, req.GetUserId(), req.GetDisabled())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SetUserDisabledResponse{Account: AccountOf(u)}, nil
}

// SetUserTeams replaces the teams of a supervisor or trainer.
func (s *Admin) SetUserTeams(ctx context.Context, req *ecoutev1.SetUserTeamsRequest) (*ecoutev1.SetUserTeamsResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	u, err := s.Core.SetTeams(ctx, c, req.GetUserId(), req.GetTeamIds())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SetUserTeamsResponse{Account: AccountOf(u)}, nil
}

// ResetPassword sets a one-time password and revokes the user's sessions.
func (s *Admin) ResetPassword(ctx context.Context, req *ecoutev1.ResetPasswordRequest) (*ecoutev1.ResetPasswordResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	pw, err := s.Core.ResetPassword(ctx, c, req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.ResetPasswordResponse{OneTimePassword: pw}, nil
}

// ListSessions lists open sessions, of one user or all.
func (s *Admin) ListSessions(ctx context.Context, req *ecoutev1.ListSessionsRequest) (*ecoutev1.ListSessionsResponse, error) {
	ss, err := s.Core.ListSessions(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	out := &ecoutev1.ListSessionsResponse{}
	for _, se := range ss {
		out.Sessions = append(out.Sessions, &ecoutev1.Session{SessionId: se.TokenHash, UserId: se.UserID,
			Login: se.Login, SourceAddr: se.SourceAddr, CreatedAt: ts(se.CreatedAt), LastUsedAt: ts(se.LastUsedAt),
			ExpiresAt: ts(se.ExpiresAt)})
	}
	return out, nil
}

// RevokeSessions ends one session or all of a user's.
func (s *Admin) RevokeSessions(ctx context.Context, req *ecoutev1.RevokeSessionsRequest) (*ecoutev1.RevokeSessionsResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	n, err := s.Core.RevokeSessions(ctx, c, req.GetUserId(), req.GetSessionId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.RevokeSessionsResponse{Revoked: int32(n)}, nil
}

// ListTeams lists the teams.
func (s *Admin) ListTeams(ctx context.Context, _ *ecoutev1.ListTeamsRequest) (*ecoutev1.ListTeamsResponse, error) {
	ts, err := s.Core.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	out := &ecoutev1.ListTeamsResponse{}
	for _, t := range ts {
		out.Teams = append(out.Teams, teamOf(t))
	}
	return out, nil
}

// CreateTeam adds a team.
func (s *Admin) CreateTeam(ctx context.Context, req *ecoutev1.CreateTeamRequest) (*ecoutev1.CreateTeamResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	t, err := s.Core.CreateTeam(ctx, c, req.GetTeamId(), req.GetName())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.CreateTeamResponse{Team: teamOf(t)}, nil
}

// AddRecordingPeriod declares a period during which a team may be recorded.
func (s *Admin) AddRecordingPeriod(ctx context.Context, req *ecoutev1.AddRecordingPeriodRequest) (*ecoutev1.AddRecordingPeriodResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.Core.AddRecordingPeriod(ctx, c, req.GetTeamId(), timeOf(req.GetStartsAt()), timeOf(req.GetEndsAt()),
		req.GetNote())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.AddRecordingPeriodResponse{Period: PeriodOf(p)}, nil
}

// ListRecordingPeriods lists periods, of one team or all.
func (s *Admin) ListRecordingPeriods(ctx context.Context, req *ecoutev1.ListRecordingPeriodsRequest) (*ecoutev1.ListRecordingPeriodsResponse, error) {
	ps, err := s.Core.ListRecordingPeriods(ctx, req.GetTeamId(), timeOf(req.GetEndingAfter()))
	if err != nil {
		return nil, err
	}
	out := &ecoutev1.ListRecordingPeriodsResponse{}
	for _, p := range ps {
		out.Periods = append(out.Periods, PeriodOf(p))
	}
	return out, nil
}

// RecordingPeriods implements RecordingPeriodService.
type RecordingPeriods struct {
	ecoutev1.UnimplementedRecordingPeriodServiceServer
	Core *core.Backend
}

// MyRecordingPeriods tells the caller the current and next recording
// periods of their teams.
func (s *RecordingPeriods) MyRecordingPeriods(ctx context.Context, _ *ecoutev1.MyRecordingPeriodsRequest) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	teams, err := s.Core.MyRecordingPeriods(ctx, c)
	if err != nil {
		return nil, err
	}
	out := &ecoutev1.MyRecordingPeriodsResponse{}
	for _, t := range teams {
		tp := &ecoutev1.TeamRecordingPeriods{TeamId: t.Team.ID, TeamName: t.Team.Name}
		if t.Current != nil {
			tp.Current = PeriodOf(*t.Current)
		}
		if t.Next != nil {
			tp.Next = PeriodOf(*t.Next)
		}
		out.Teams = append(out.Teams, tp)
	}
	return out, nil
}
