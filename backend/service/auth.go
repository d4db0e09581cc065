package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/policy"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Auth implements AuthService.
type Auth struct {
	ecoutev1.UnimplementedAuthServiceServer
	Core *core.Backend
}

// Login opens a session.
func (s *Auth) Login(ctx context.Context, req *ecoutev1.LoginRequest) (*ecoutev1.LoginResponse, error) {
	src := peerAddr(ctx)
	se, err := s.Core.Login(ctx, req.GetLogin(), req.GetPassword(), src)
	if err != nil {
		s.Core.Log.Info("login refused", "login", req.GetLogin(), "source", src, "reason", domain.ReasonOf(err))
		return nil, err
	}
	s.Core.Log.Info("login", "login", se.User.Login, "role", se.User.Role, "source", src)
	return &ecoutev1.LoginResponse{Token: se.Token, ExpiresAt: timestamppb.New(se.Expires), Principal: principalOf(se.User),
		PasswordChangeRequired: se.User.PasswordChangeRequired}, nil
}

// Logout revokes the caller's session.
func (s *Auth) Logout(ctx context.Context, _ *ecoutev1.LogoutRequest) (*ecoutev1.LogoutResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Core.Logout(ctx, p); err != nil {
		return nil, err
	}
	return &ecoutev1.LogoutResponse{}, nil
}

// WhoAmI describes the caller, with what the role may call and see.
func (s *Auth) WhoAmI(ctx context.Context, _ *ecoutev1.WhoAmIRequest) (*ecoutev1.WhoAmIResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.WhoAmIResponse{Principal: principalOf(p.User)}, nil
}

// ChangePassword replaces the caller's password.
func (s *Auth) ChangePassword(ctx context.Context, req *ecoutev1.ChangePasswordRequest) (*ecoutev1.ChangePasswordResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	se, err := s.Core.ChangePassword(ctx, p, req.GetOldPassword(), req.GetNewPassword(), peerAddr(ctx))
	if err != nil {
		return nil, err
	}
	return &ecoutev1.ChangePasswordResponse{Token: se.Token, ExpiresAt: timestamppb.New(se.Expires)}, nil
}

func principalOf(u domain.User) *ecoutev1.Principal {
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
