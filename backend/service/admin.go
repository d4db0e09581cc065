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
		PasswordChangedAt: ts(u.PasswordChangedAt), PendingApproval: u.PendingGrant != "",
		PendingGrantId: u.PendingGrant}
}

// PeriodOf converts a recording period.
func PeriodOf(p store.RecordingPeriod) *ecoutev1.RecordingPeriod {
	return &ecoutev1.RecordingPeriod{PeriodId: p.ID, TeamId: p.TeamID, StartsAt: ts(p.StartsAt), EndsAt: ts(p.EndsAt),
		Note: p.Note}
}

func teamOf(t store.Team) *ecoutev1.Team {
	return &ecoutev1.Team{TeamId: t.ID, Name: t.Name, EndedAt: ts(t.EndedAt)}
}

func sessionOf(se store.UserSession) *ecoutev1.Session {
	return &ecoutev1.Session{SessionId: se.TokenHash, UserId: se.UserID, Login: se.Login, SourceAddr: se.SourceAddr,
		CreatedAt: ts(se.CreatedAt), LastUsedAt: ts(se.LastUsedAt), ExpiresAt: ts(se.ExpiresAt)}
}

// ListUsers lists every account.
func (s *Admin) ListUsers(ctx context.Context, _ *ecoutev1.ListUsersRequest) (*ecoutev1.ListUsersResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]domain.User, error) { return s.Core.ListUsers(ctx) },
		func(us []domain.User) *ecoutev1.ListUsersResponse {
			return &ecoutev1.ListUsersResponse{Accounts: each(us, AccountOf)}
		})
}

// CreateUser makes an account with a one-time password.
func (s *Admin) CreateUser(ctx context.Context, req *ecoutev1.CreateUserRequest) (*ecoutev1.CreateUserResponse, error) {
	return serve(ctx, req, func(c core.Caller) (*ecoutev1.CreateUserResponse, error) {
		u, pw, err := s.Core.CreateUser(ctx, c, core.NewAccount{Login: req.GetLogin(), FirstName: req.GetFirstName(),
			LastName: req.GetLastName(), Role: req.GetRole(), Password: req.GetInitialPassword(), TeamIDs: req.GetTeamIds(),
			AgentID: req.GetAgentId()})
		return &ecoutev1.CreateUserResponse{Account: AccountOf(u), InitialPassword: pw, PendingGrantId: u.PendingGrant}, err
	}, same)
}

// SetUserDisabled disables or re-enables an account.
func (s *Admin) SetUserDisabled(ctx context.Context, req *ecoutev1.SetUserDisabledRequest) (*ecoutev1.SetUserDisabledResponse, error) {
	return serve(ctx, req, func(c core.Caller) (domain.User, error) {
		return s.Core.SetDisabled(ctx, c, req.GetUserId(), req.GetDisabled())
	}, func(u domain.User) *ecoutev1.SetUserDisabledResponse {
		return &ecoutev1.SetUserDisabledResponse{Account: AccountOf(u)}
	})
}

// SetUserTeams replaces the teams of a supervisor or trainer.
func (s *Admin) SetUserTeams(ctx context.Context, req *ecoutev1.SetUserTeamsRequest) (*ecoutev1.SetUserTeamsResponse, error) {
	return serve(ctx, req, func(c core.Caller) (*ecoutev1.SetUserTeamsResponse, error) {
		u, grant, err := s.Core.SetTeams(ctx, c, req.GetUserId(), req.GetTeamIds())
		return &ecoutev1.SetUserTeamsResponse{Account: AccountOf(u), PendingGrantId: grant}, err
	}, same)
}

// ResetPassword sets a one-time password and revokes the user's sessions;
// the administrator gets its first half only. It takes no request id: the
// password is never kept to be answered again.
func (s *Admin) ResetPassword(ctx context.Context, req *ecoutev1.ResetPasswordRequest) (*ecoutev1.ResetPasswordResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.Reset, error) { return s.Core.ResetPassword(ctx, c, req.GetUserId()) },
		func(r core.Reset) *ecoutev1.ResetPasswordResponse {
			return &ecoutev1.ResetPasswordResponse{OneTimePassword: r.Password, FirstHalf: r.FirstHalf,
				PendingGrantId: r.Grant, ExpiresAt: ts(r.Expires)}
		})
}

// ListSessions lists open sessions, of one user or all.
func (s *Admin) ListSessions(ctx context.Context, req *ecoutev1.ListSessionsRequest) (*ecoutev1.ListSessionsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.UserSession, error) { return s.Core.ListSessions(ctx, req.GetUserId()) },
		func(ss []store.UserSession) *ecoutev1.ListSessionsResponse {
			return &ecoutev1.ListSessionsResponse{Sessions: each(ss, sessionOf)}
		})
}

// RevokeSessions ends one session or all of a user's.
func (s *Admin) RevokeSessions(ctx context.Context, req *ecoutev1.RevokeSessionsRequest) (*ecoutev1.RevokeSessionsResponse, error) {
	return serve(ctx, req, func(c core.Caller) (int, error) {
		return s.Core.RevokeSessions(ctx, c, req.GetUserId(), req.GetSessionId())
	}, func(n int) *ecoutev1.RevokeSessionsResponse {
		return &ecoutev1.RevokeSessionsResponse{Revoked: int32(n)}
	})
}

// ListTeams lists the teams.
func (s *Admin) ListTeams(ctx context.Context, _ *ecoutev1.ListTeamsRequest) (*ecoutev1.ListTeamsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.Team, error) { return s.Core.ListTeams(ctx) },
		func(ts []store.Team) *ecoutev1.ListTeamsResponse {
			return &ecoutev1.ListTeamsResponse{Teams: each(ts, teamOf)}
		})
}

// CreateTeam adds a team.
func (s *Admin) CreateTeam(ctx context.Context, req *ecoutev1.CreateTeamRequest) (*ecoutev1.CreateTeamResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Team, error) {
		return s.Core.CreateTeam(ctx, c, req.GetTeamId(), req.GetName())
	}, func(t store.Team) *ecoutev1.CreateTeamResponse { return &ecoutev1.CreateTeamResponse{Team: teamOf(t)} })
}

// AddRecordingPeriod declares a period during which a team may be recorded.
func (s *Admin) AddRecordingPeriod(ctx context.Context, req *ecoutev1.AddRecordingPeriodRequest) (*ecoutev1.AddRecordingPeriodResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.RecordingPeriod, error) {
		return s.Core.AddRecordingPeriod(ctx, c, req.GetTeamId(), timeOf(req.GetStartsAt()), timeOf(req.GetEndsAt()),
			req.GetNote(), timeOf(req.GetInformedAt()))
	}, func(p store.RecordingPeriod) *ecoutev1.AddRecordingPeriodResponse {
		return &ecoutev1.AddRecordingPeriodResponse{Period: PeriodOf(p)}
	})
}

// ListRecordingPeriods lists periods, of one team or all.
func (s *Admin) ListRecordingPeriods(ctx context.Context, req *ecoutev1.ListRecordingPeriodsRequest) (*ecoutev1.ListRecordingPeriodsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.RecordingPeriod, error) {
		return s.Core.ListRecordingPeriods(ctx, req.GetTeamId(), timeOf(req.GetEndingAfter()))
	}, func(ps []store.RecordingPeriod) *ecoutev1.ListRecordingPeriodsResponse {
		return &ecoutev1.ListRecordingPeriodsResponse{Periods: each(ps, PeriodOf)}
	})
}

// RecordingPeriods implements RecordingPeriodService.
type RecordingPeriods struct {
	ecoutev1.UnimplementedRecordingPeriodServiceServer
	Core *core.Backend
}

// MyRecordingPeriods tells the caller the current and next recording
// periods of their teams.
func (s *RecordingPeriods) MyRecordingPeriods(ctx context.Context, _ *ecoutev1.MyRecordingPeriodsRequest) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]core.TeamPeriods, error) { return s.Core.MyRecordingPeriods(ctx, c) },
		func(teams []core.TeamPeriods) *ecoutev1.MyRecordingPeriodsResponse {
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
			return out
		})
}
