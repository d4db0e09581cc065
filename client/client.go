// Package client is the console's gateway to ecouted: the only package of
// the console that speaks gRPC. It dials over TLS, pinning the server's
// certificate authority on first use (like SSH's known_hosts), carries the
// bearer token on every call, asks again the requests that are safe to
// repeat while the server is away (conn.go), and answers with the api's
// messages and typed errors (errors.go), one interface per capability
// (gateway.go).
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/clock"
)

// DefaultPort is used when an address has no port.
const DefaultPort = "7443"

// Options say how to trust the server.
type Options struct {
	// Insecure connects in plain text. Refused unless the address is a
	// loopback one.
	Insecure bool
	// CAPEM, when set, is the only CA trusted; nothing is pinned. The
	// in-process demo uses it.
	CAPEM []byte
	// PinFile holds the pinned CAs; empty means DefaultPinFile().
	PinFile string
	// Clock dates the next retry shown to the user; nil is the real one.
	Clock clock.Clock
	// DialOptions are added to the gRPC channel's (tests use them to
	// stand between the console and the server).
	DialOptions []grpc.DialOption
}

// reconnectBackoff bounds gRPC's own reconnection: by default it can wait
// up to two minutes between attempts after a long outage, and a console
// would stay "unreachable" long after the server is back.
var reconnectBackoff = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
	MinConnectTimeout: 5 * time.Second,
})

// Client is a connection to one server. It is safe for concurrent use.
type Client struct {
	addr    string
	conn    *grpc.ClientConn
	auth    ecoutev1.AuthServiceClient
	calls   ecoutev1.CallServiceClient
	evals   ecoutev1.EvaluationServiceClient
	audit   ecoutev1.AuditServiceClient
	admin   ecoutev1.AdminServiceClient
	periods ecoutev1.RecordingPeriodServiceClient
	pairing ecoutev1.PairingServiceClient
	token   *tokenCreds
	notice  string
	secure  bool
	conns   *connTracker
}

// Dial connects to addr ("host:port"; the port defaults to 7443). With TLS
// it completes one handshake before returning, so an unreachable server or
// a changed CA is reported here rather than at the first call.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	addr, err := normalizeAddr(addr)
	if err != nil {
		return nil, err
	}
	tok := &tokenCreds{}
	c := &Client{addr: addr, token: tok, conns: newConnTracker(opts.Clock)}
	var creds credentials.TransportCredentials
	if opts.Insecure {
		host, _, _ := net.SplitHostPort(addr)
		if !isLoopback(host) {
			return nil, fmt.Errorf("connect %s: plain text is allowed only on loopback addresses (localhost, 127.0.0.1, ::1)", addr)
		}
		creds = insecure.NewCredentials()
	} else {
		v := &verifier{addr: addr}
		if len(opts.CAPEM) > 0 {
			ca, err := newFixedCA(opts.CAPEM)
			if err != nil {
				return nil, fmt.Errorf("connect %s: %w", addr, err)
			}
			v.fixed = ca
		} else {
			path := opts.PinFile
			if path == "" {
				if path, err = DefaultPinFile(); err != nil {
					return nil, err
				}
			}
			v.store = &pinStore{path: path}
		}
		if err := probe(ctx, addr, v.tlsConfig()); err != nil {
			return nil, err
		}
		v.mu.Lock()
		c.notice = v.notice
		v.mu.Unlock()
		creds = credentials.NewTLS(v.tlsConfig())
		c.secure = true
	}
	dopts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(tok),
		reconnectBackoff,
	}, opts.DialOptions...)
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	c.conn = conn
	c.conns.reset = conn.ResetConnectBackoff
	c.auth = ecoutev1.NewAuthServiceClient(conn)
	c.calls = ecoutev1.NewCallServiceClient(conn)
	c.evals = ecoutev1.NewEvaluationServiceClient(conn)
	c.audit = ecoutev1.NewAuditServiceClient(conn)
	c.admin = ecoutev1.NewAdminServiceClient(conn)
	c.periods = ecoutev1.NewRecordingPeriodServiceClient(conn)
	c.pairing = ecoutev1.NewPairingServiceClient(conn)
	return c, nil
}

// probe makes one TLS handshake so that trust on first use happens, and
// trust errors are reported, before gRPC hides them behind "Unavailable".
func probe(ctx context.Context, addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return fmt.Errorf("server %s unreachable: %w", addr, err)
		}
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	return conn.Close()
}

func normalizeAddr(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("server address is empty")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		// No port (or a bare IPv6 address): add the default one.
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), DefaultPort)
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", fmt.Errorf("server address %q: %w", addr, err)
		}
	}
	return addr, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address dialled, with its port.
func (c *Client) Addr() string { return c.addr }

// Secure reports whether the connection uses TLS.
func (c *Client) Secure() bool { return c.secure }

// TrustNotice is non-empty when Dial pinned a new server's CA; show it to
// the user, with the fingerprint, so they can compare it out of band.
func (c *Client) TrustNotice() string { return c.notice }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// SetToken sets the bearer token sent with every call (e.g. one obtained
// elsewhere). Login sets it too.
func (c *Client) SetToken(t string) { c.token.set(t) }

// opLogin names the login operation; its Unauthenticated answer is a
// refused login, not an ended session.
const opLogin = "login"

// Login implements Session.
func (c *Client) Login(ctx context.Context, login, password string) (*ecoutev1.LoginResponse, error) {
	var resp *ecoutev1.LoginResponse
	// A login opens a session: not asked again blindly.
	err := c.conns.do(ctx, opLogin, Once, func(ctx context.Context) (err error) {
		resp, err = c.auth.Login(ctx, &ecoutev1.LoginRequest{Login: login, Password: password})
		return err
	})
	if err != nil {
		return nil, err
	}
	c.token.set(resp.GetToken())
	return resp, nil
}

// Logout implements Session.
func (c *Client) Logout(ctx context.Context) error {
	err := c.conns.do(ctx, "logout", Once, func(ctx context.Context) error {
		_, err := c.auth.Logout(ctx, &ecoutev1.LogoutRequest{})
		return err
	})
	c.token.set("")
	return err
}

// WhoAmI returns the authenticated user.
func (c *Client) WhoAmI(ctx context.Context) (*ecoutev1.Principal, error) {
	var resp *ecoutev1.WhoAmIResponse
	err := c.conns.do(ctx, "who am i", Again, func(ctx context.Context) (err error) {
		resp, err = c.auth.WhoAmI(ctx, &ecoutev1.WhoAmIRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetPrincipal(), nil
}

// ListCalls implements Calls.
func (c *Client) ListCalls(ctx context.Context, q CallQuery) (*ecoutev1.ListCallsResponse, error) {
	req := &ecoutev1.ListCallsRequest{Filter: q.Filter, OrderBy: q.OrderBy, PageSize: int32(q.PageSize), PageToken: q.PageToken}
	var resp *ecoutev1.ListCallsResponse
	err := c.conns.do(ctx, "list calls", Again, func(ctx context.Context) (err error) {
		resp, err = c.calls.ListCalls(ctx, req)
		return err
	})
	return resp, err
}

// GetCall implements Calls.
func (c *Client) GetCall(ctx context.Context, callID string) (*ecoutev1.Call, error) {
	var resp *ecoutev1.GetCallResponse
	err := c.conns.do(ctx, "get call "+callID, Again, func(ctx context.Context) (err error) {
		resp, err = c.calls.GetCall(ctx, &ecoutev1.GetCallRequest{CallId: callID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetCall(), nil
}

// GetWaveform implements Calls: what a call screen needs up front, the
// whole call's peaks at a screen's resolution (DisplayBuckets, per party
// when there are two), the format, the audio's size and the first page of
// the frame index (PlaybackInfo fetches the rest when playback gets there).
func (c *Client) GetWaveform(ctx context.Context, callID string) (*ecoutev1.GetWaveformResponse, error) {
	buckets, frames := int32(DisplayBuckets), int32(indexPage)
	var resp *ecoutev1.GetWaveformResponse
	err := c.conns.do(ctx, "get waveform "+callID, Again, func(ctx context.Context) (err error) {
		resp, err = c.calls.GetWaveform(ctx, &ecoutev1.GetWaveformRequest{CallId: callID, Buckets: &buckets, FrameCount: &frames})
		return err
	})
	return resp, err
}

// ConnEvents implements Connection.
func (c *Client) ConnEvents() <-chan ConnEvent { return c.conns.ch }

// tokenCreds adds the bearer token to every call. It does not require
// transport security because plain text is allowed on loopback.
type tokenCreds struct {
	mu    sync.RWMutex
	token string
}

func (t *tokenCreds) set(s string) {
	t.mu.Lock()
	t.token = s
	t.mu.Unlock()
}

func (t *tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.token == "" {
		return nil, nil
	}
	return map[string]string{"authorization": "Bearer " + t.token}, nil
}

func (t *tokenCreds) RequireTransportSecurity() bool { return false }
