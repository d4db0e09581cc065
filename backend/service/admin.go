package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Admin implements AdminService: accounts, teams, sessions and recording
// periods. The interceptor has already checked the caller's role.
type Admin struct {
	ecoutev1.UnimplementedAdminServiceServer
	Sessions *auth.Sessions
	Store    store.Store
	Clock    clock.Clock
	Log      *slog.Logger
}

// accountErr maps account errors to gRPC codes.
func (s *Admin) accountErr(what string, err error) error {
	var fe *auth.FieldError
	var pe *auth.PolicyError
	switch {
	case errors.As(err, &fe):
		if strings.HasSuffix(fe.Msg, "is taken") {
			return status.Error(codes.AlreadyExists, fe.Error())
		}
		return status.Error(codes.InvalidArgument, fe.Error())
	case errors.As(err, &pe):
		return status.Errorf(codes.InvalidArgument, "initial_password: %v", pe)
	case errors.Is(err, store.ErrNotFound):
		return status.Errorf(codes.NotFound, "%s: %v", what, err)
	}
	return internal(s.Log, what, err)
}

// AccountOf converts a user; no password material leaves the server.
func AccountOf(u store.User) *ecoutev1.Account {
	a := &ecoutev1.Account{UserId: u.ID, Login: u.Login, FirstName: u.FirstName, LastName: u.LastName,
		DisplayName: u.DisplayName, Role: u.Role, TeamIds: u.TeamIDs, AgentId: u.AgentID, Disabled: u.Disabled,
		PasswordChangeRequired: u.PasswordChangeRequired, CreatedAt: ts(u.CreatedAt),
		PasswordChangedAt: ts(u.PasswordChangedAt), LockedUntil: ts(u.LockedUntil)}
	return a
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// ListUsers lists every account.
func (s *Admin) ListUsers(ctx context.Context, _ *ecoutev1.ListUsersRequest) (*ecoutev1.ListUsersResponse, error) {
	us, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, internal(s.Log, "list users", err)
	}
	out := &ecoutev1.ListUsersResponse{}
	for _, u := range us {
		out.Accounts = append(out.Accounts, AccountOf(u))
	}
	return out, nil
}

// CreateUser makes an account with a one-time password.
func (s *Admin) CreateUser(ctx context.Context, req *ecoutev1.CreateUserRequest) (*ecoutev1.CreateUserResponse, error) {
	pw, generated := req.GetInitialPassword(), false
	if pw == "" {
		pw, generated = auth.GeneratePassword(), true
	}
	u, err := s.Sessions.CreateAccount(ctx, auth.NewAccount{Login: req.GetLogin(), FirstName: req.GetFirstName(),
		LastName: req.GetLastName(), Role: req.GetRole(), Password: pw, TeamIDs: req.GetTeamIds(),
		AgentID: req.GetAgentId(), OneTime: true})
	if err != nil {
		return nil, s.accountErr("create user", err)
	}
	resp := &ecoutev1.CreateUserResponse{Account: AccountOf(u)}
	if generated {
		resp.InitialPassword = pw
	}
	return resp, nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	return nil
}

// SetUserDisabled disables or re-enables an account.
func (s *Admin) SetUserDisabled(ctx context.Context, req *ecoutev1.SetUserDisabledRequest) (*ecoutev1.SetUserDisabledResponse, error) {
	if err := required("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	if p, ok := auth.FromContext(ctx); ok && p.User.ID == req.GetUserId() && req.GetDisabled() {
		return nil, status.Error(codes.FailedPrecondition, "user_id: an administrator may not disable their own account")
	}
	u, err := s.Sessions.SetDisabled(ctx, req.GetUserId(), req.GetDisabled())
	if err != nil {
		return nil, s.accountErr("set user disabled", err)
	}
	return &ecoutev1.SetUserDisabledResponse{Account: AccountOf(u)}, nil
}

// SetUserTeams replaces the teams of a supervisor or trainer.
func (s *Admin) SetUserTeams(ctx context.Context, req *ecoutev1.SetUserTeamsRequest) (*ecoutev1.SetUserTeamsResponse, error) {
	if err := required("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	u, err := s.Sessions.SetTeams(ctx, req.GetUserId(), req.GetTeamIds())
	if err != nil {
		return nil, s.accountErr("set user teams", err)
	}
	return &ecoutev1.SetUserTeamsResponse{Account: AccountOf(u)}, nil
}

// ResetPassword sets a one-time password and revokes the user's sessions.
func (s *Admin) ResetPassword(ctx context.Context, req *ecoutev1.ResetPasswordRequest) (*ecoutev1.ResetPasswordResponse, error) {
	if err := required("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	pw, err := s.Sessions.ResetPassword(ctx, req.GetUserId())
	if err != nil {
		return nil, s.accountErr("reset password", err)
	}
	return &ecoutev1.ResetPasswordResponse{OneTimePassword: pw}, nil
}

// ListSessions lists open sessions, of one user or all.
func (s *Admin) ListSessions(ctx context.Context, req *ecoutev1.ListSessionsRequest) (*ecoutev1.ListSessionsResponse, error) {
	ss, err := s.Store.ListUserSessions(ctx, req.GetUserId())
	if err != nil {
		return nil, internal(s.Log, "list sessions", err)
	}
	now := s.Clock.Now()
	out := &ecoutev1.ListSessionsResponse{}
	for _, se := range ss {
		if !now.Before(se.ExpiresAt) || !now.Before(se.LastUsedAt.Add(auth.IdleTimeout)) {
			continue // expired, deleted at its next use
		}
		out.Sessions = append(out.Sessions, &ecoutev1.Session{SessionId: se.TokenHash, UserId: se.UserID,
			Login: se.Login, SourceAddr: se.SourceAddr, CreatedAt: ts(se.CreatedAt), LastUsedAt: ts(se.LastUsedAt),
			ExpiresAt: ts(se.ExpiresAt)})
	}
	return out, nil
}

// RevokeSessions ends one session or all of a user's.
func (s *Admin) RevokeSessions(ctx context.Context, req *ecoutev1.RevokeSessionsRequest) (*ecoutev1.RevokeSessionsResponse, error) {
	if err := required("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	u, err := s.Store.UserByID(ctx, req.GetUserId())
	if err != nil {
		return nil, s.accountErr("revoke sessions", err)
	}
	before, err := s.Store.ListUserSessions(ctx, u.ID)
	if err != nil {
		return nil, internal(s.Log, "revoke sessions", err)
	}
	if id := req.GetSessionId(); id != "" {
		for _, se := range before {
			if se.TokenHash == id {
				if err := s.Store.DeleteSession(ctx, id); err != nil {
					return nil, internal(s.Log, "revoke session", err)
				}
				return &ecoutev1.RevokeSessionsResponse{Revoked: 1}, nil
			}
		}
		return nil, status.Errorf(codes.NotFound, "session_id: no such session of %s", u.Login)
	}
	if err := s.Sessions.RevokeAll(ctx, u); err != nil {
		return nil, internal(s.Log, "revoke sessions", err)
	}
	return &ecoutev1.RevokeSessionsResponse{Revoked: int32(len(before))}, nil
}

// ListTeams lists the teams.
func (s *Admin) ListTeams(ctx context.Context, _ *ecoutev1.ListTeamsRequest) (*ecoutev1.ListTeamsResponse, error) {
	ts, err := s.Store.ListTeams(ctx)
	if err != nil {
		return nil, internal(s.Log, "list teams", err)
	}
	out := &ecoutev1.ListTeamsResponse{}
	for _, t := range ts {
		out.Teams = append(out.Teams, &ecoutev1.Team{TeamId: t.ID, Name: t.Name})
	}
	return out, nil
}

// CreateTeam adds a team.
func (s *Admin) CreateTeam(ctx context.Context, req *ecoutev1.CreateTeamRequest) (*ecoutev1.CreateTeamResponse, error) {
	if err := required("team_id", req.GetTeamId()); err != nil {
		return nil, err
	}
	if err := required("name", req.GetName()); err != nil {
		return nil, err
	}
	t := store.Team{ID: req.GetTeamId(), Name: req.GetName(), CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateTeam(ctx, t); errors.Is(err, store.ErrDuplicate) {
		return nil, status.Errorf(codes.AlreadyExists, "team_id: %q exists", t.ID)
	} else if err != nil {
		return nil, internal(s.Log, "create team", err)
	}
	return &ecoutev1.CreateTeamResponse{Team: &ecoutev1.Team{TeamId: t.ID, Name: t.Name}}, nil
}

// PeriodOf converts a recording period.
func PeriodOf(p store.RecordingPeriod) *ecoutev1.RecordingPeriod {
	return &ecoutev1.RecordingPeriod{PeriodId: p.ID, TeamId: p.TeamID, StartsAt: ts(p.StartsAt), EndsAt: ts(p.EndsAt),
		Note: p.Note}
}

// AddRecordingPeriod declares a period during which a team may be recorded.
func (s *Admin) AddRecordingPeriod(ctx context.Context, req *ecoutev1.AddRecordingPeriodRequest) (*ecoutev1.AddRecordingPeriodResponse, error) {
	if err := required("team_id", req.GetTeamId()); err != nil {
		return nil, err
	}
	if req.GetStartsAt() == nil || req.GetEndsAt() == nil {
		return nil, status.Error(codes.InvalidArgument, "starts_at and ends_at are required")
	}
	by := ""
	if p, ok := auth.FromContext(ctx); ok {
		by = p.User.Login
	}
	p, err := AddPeriod(ctx, s.Store, s.Clock, req.GetTeamId(), req.GetStartsAt().AsTime(), req.GetEndsAt().AsTime(),
		req.GetNote(), by)
	if err != nil {
		return nil, periodErr(s.Log, err)
	}
	return &ecoutev1.AddRecordingPeriodResponse{Period: PeriodOf(p)}, nil
}

// ErrBadPeriod is a period whose end is not after its start.
var ErrBadPeriod = errors.New("ends_at must be after starts_at")

// AddPeriod checks and stores a recording period (the RPC and the command
// line share it).
func AddPeriod(ctx context.Context, st store.Store, c clock.Clock, team string, from, to time.Time, note, by string) (store.RecordingPeriod, error) {
	if !to.After(from) {
		return store.RecordingPeriod{}, ErrBadPeriod
	}
	if _, err := st.TeamByID(ctx, team); err != nil {
		return store.RecordingPeriod{}, err
	}
	p := store.RecordingPeriod{ID: NewID(), TeamID: team, StartsAt: from.UTC(), EndsAt: to.UTC(), Note: note,
		CreatedBy: by, CreatedAt: c.Now()}
	return p, st.AddRecordingPeriod(ctx, p)
}

func periodErr(log *slog.Logger, err error) error {
	switch {
	case errors.Is(err, ErrBadPeriod):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return status.Errorf(codes.NotFound, "team_id: %v", err)
	}
	return internal(log, "add recording period", err)
}

// ListRecordingPeriods lists periods, of one team or all.
func (s *Admin) ListRecordingPeriods(ctx context.Context, req *ecoutev1.ListRecordingPeriodsRequest) (*ecoutev1.ListRecordingPeriodsResponse, error) {
	var from time.Time
	if req.GetEndingAfter() != nil {
		from = req.GetEndingAfter().AsTime()
	}
	ps, err := s.Store.RecordingPeriods(ctx, req.GetTeamId(), from)
	if err != nil {
		return nil, internal(s.Log, "list recording periods", err)
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
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
}

// MyRecordingPeriods tells the caller the current and next recording
// periods of their teams.
func (s *RecordingPeriods) MyRecordingPeriods(ctx context.Context, _ *ecoutev1.MyRecordingPeriodsRequest) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	teams := p.User.TeamIDs
	if p.User.AgentID != "" {
		a, err := s.Store.AgentByID(ctx, p.User.AgentID)
		if err != nil {
			return nil, internal(s.Log, "my recording periods", err)
		}
		teams = []string{a.TeamID}
	}
	now := s.Clock.Now()
	out := &ecoutev1.MyRecordingPeriodsResponse{}
	for _, id := range teams {
		team, err := s.Store.TeamByID(ctx, id)
		if err != nil {
			return nil, internal(s.Log, "my recording periods", err)
		}
		ps, err := s.Store.RecordingPeriods(ctx, id, now)
		if err != nil {
			return nil, internal(s.Log, "my recording periods", err)
		}
		tp := &ecoutev1.TeamRecordingPeriods{TeamId: team.ID, TeamName: team.Name}
		for _, rp := range ps {
			switch {
			case !rp.StartsAt.After(now) && tp.Current == nil:
				tp.Current = PeriodOf(rp)
			case rp.StartsAt.After(now) && tp.Next == nil:
				tp.Next = PeriodOf(rp)
			}
		}
		out.Teams = append(out.Teams, tp)
	}
	return out, nil
}
