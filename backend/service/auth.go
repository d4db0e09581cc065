// Package service implements the gRPC services. They stay thin: decode the
// request, ask auth/policy/store, convert, redact, answer.
package service

import (
	"context"
	"errors"
	"log/slog"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Auth implements AuthService.
type Auth struct {
	ecoutev1.UnimplementedAuthServiceServer
	Sessions *auth.Sessions
	Log      *slog.Logger
}

// Login opens a session.
func (s *Auth) Login(ctx context.Context, req *ecoutev1.LoginRequest) (*ecoutev1.LoginResponse, error) {
	if req.GetLogin() == "" {
		return nil, status.Error(codes.InvalidArgument, "login is required")
	}
	src := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		src = p.Addr.String()
	}
	token, exp, u, err := s.Sessions.Login(ctx, req.GetLogin(), req.GetPassword(), src)
	var locked *auth.LockedError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		s.Log.Info("login refused", "login", req.GetLogin(), "source", src)
		return nil, status.Error(codes.Unauthenticated, "invalid login or password")
	case errors.As(err, &locked):
		s.Log.Warn("login refused: account locked", "login", req.GetLogin(), "source", src, "until", locked.Until)
		return nil, status.Error(codes.PermissionDenied, locked.Error())
	case errors.Is(err, auth.ErrDisabled):
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	if err != nil {
		return nil, internal(s.Log, "login", err)
	}
	s.Log.Info("login", "login", u.Login, "role", u.Role, "source", src)
	return &ecoutev1.LoginResponse{Token: token, ExpiresAt: timestamppb.New(exp), Principal: principal(u),
		PasswordChangeRequired: u.PasswordChangeRequired}, nil
}

// Logout revokes the caller's session.
func (s *Auth) Logout(ctx context.Context, _ *ecoutev1.LogoutRequest) (*ecoutev1.LogoutResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Sessions.Logout(ctx, p); err != nil {
		return nil, internal(s.Log, "logout", err)
	}
	return &ecoutev1.LogoutResponse{}, nil
}

// WhoAmI describes the caller, with what the role may call and see.
func (s *Auth) WhoAmI(ctx context.Context, _ *ecoutev1.WhoAmIRequest) (*ecoutev1.WhoAmIResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.WhoAmIResponse{Principal: principal(p.User)}, nil
}

// ChangePassword replaces the caller's password.
func (s *Auth) ChangePassword(ctx context.Context, req *ecoutev1.ChangePasswordRequest) (*ecoutev1.ChangePasswordResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	src := ""
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		src = pr.Addr.String()
	}
	token, exp, err := s.Sessions.ChangePassword(ctx, p, req.GetOldPassword(), req.GetNewPassword(), src)
	var pe *auth.PolicyError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return nil, status.Error(codes.InvalidArgument, "old_password: does not match")
	case errors.As(err, &pe):
		return nil, status.Errorf(codes.InvalidArgument, "new_password: %v", pe)
	case err != nil:
		return nil, internal(s.Log, "change password", err)
	}
	return &ecoutev1.ChangePasswordResponse{Token: token, ExpiresAt: timestamppb.New(exp)}, nil
}

func principal(u store.User) *ecoutev1.Principal {
	return &ecoutev1.Principal{
		UserId:         u.ID,
		DisplayName:    u.DisplayName,
		Role:           u.Role,
		AllowedMethods: policy.AllowedMethods(u.Role),
		VisibleFields:  policy.VisibleFields(u.Role),
		Login:          u.Login,
		TeamIds:        u.TeamIDs,
		AgentId:        u.AgentID,
	}
}

func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, status.Error(codes.Unauthenticated, "not logged in")
	}
	return p, nil
}

// internal logs the cause and hides it from the client.
func internal(log *slog.Logger, what string, err error) error {
	log.Error(what, "err", err)
	return status.Errorf(codes.Internal, "%s failed", what)
}
