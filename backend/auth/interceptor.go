package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type principalKey struct{}

// WithPrincipal returns ctx carrying p (tests of services use it directly).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the interceptor put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Guard authenticates and authorises every RPC before its handler runs.
type Guard struct {
	Sessions *Sessions
	// Public tells which methods need no session (Login, health, reflection).
	Public func(method string) bool
	// Allowed tells whether a role may call a method.
	Allowed func(role, method string) bool
	// Redact, when set, clears in every response message the fields the
	// role may not receive, whatever the handler filled in: the last line
	// of defence before serialisation.
	Redact func(role string, msg any)
}

// passwordChangeMethods stay open to a user who must change the password.
var passwordChangeMethods = map[string]bool{
	"/ecoute.v1.AuthService/ChangePassword": true,
	"/ecoute.v1.AuthService/WhoAmI":         true,
	"/ecoute.v1.AuthService/Logout":         true,
}

func (g *Guard) check(ctx context.Context, method string) (context.Context, error) {
	if g.Public(method) {
		return ctx, nil
	}
	token, err := bearer(ctx)
	if err != nil {
		return nil, rpcerr.Error(domain.New(domain.ReasonUnauthenticated, "%s", err.Error()))
	}
	p, err := g.Sessions.Authenticate(ctx, token)
	if errors.Is(err, ErrNoSession) {
		return nil, rpcerr.Error(domain.New(domain.ReasonSessionExpired, "session expired or unknown: log in again"))
	}
	if err != nil {
		return nil, rpcerr.Error(domain.Internal("authentication", err))
	}
	if !g.Allowed(p.User.Role, method) {
		return nil, rpcerr.Error(domain.Forbidden(p.User.Role, "", "role %s may not call %s", p.User.Role, method).
			With(domain.MetaMethod, method))
	}
	if p.User.PasswordChangeRequired && !passwordChangeMethods[method] {
		return nil, rpcerr.Error(domain.New(domain.ReasonPasswordChangeRequired,
			"password change required: call ChangePassword first"))
	}
	return WithPrincipal(ctx, p), nil
}

func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", errors.New("missing authorization metadata (authorization: Bearer <token>)")
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return "", errors.New("authorization metadata must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(token), nil
}

// Unary is the unary interceptor.
func (g *Guard) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := g.check(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	resp, err := h(ctx, req)
	if p, ok := FromContext(ctx); ok && err == nil && g.Redact != nil {
		g.Redact(p.User.Role, resp)
	}
	return resp, err
}

// Stream is the stream interceptor.
func (g *Guard) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := g.check(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	w := &wrapped{ServerStream: ss, ctx: ctx}
	if p, ok := FromContext(ctx); ok && g.Redact != nil {
		w.redact = func(m any) { g.Redact(p.User.Role, m) }
	}
	return h(srv, w)
}

type wrapped struct {
	grpc.ServerStream
	ctx    context.Context
	redact func(any)
}

func (w *wrapped) Context() context.Context { return w.ctx }

func (w *wrapped) SendMsg(m any) error {
	if w.redact != nil {
		w.redact(m)
	}
	return w.ServerStream.SendMsg(m)
}
