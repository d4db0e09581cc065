// Package sshserve serves the Écoute console over SSH (charm.land/wish):
// one console per SSH session, talking gRPC to the backend like any
// console, with its sound on the reviewer's own machine through a paired
// companion (the server never opens a sound device for a session).
//
// Logging in takes two factors for a named account (the SSH user): a
// public key registered to it (or a certificate of a trusted organisation
// CA), proven by its signature, then the account's password by
// keyboard-interactive. The key step answers a partial success whose next
// step is a closure holding the key actually used: x/crypto/ssh applies it
// only once that key's signature is verified, so a key merely offered
// (the trap of servers that trust the last key they were shown) opens
// nothing. The backend facts — whose key it is, the password, the audit
// trail, the console logins' throttling — come through an Authenticator
// the command wires, so this package knows nothing of the backend.
//
// Limits: an idle timeout on the last key press (output, such as a
// ticking player, does not count), an absolute session limit, rate limits
// per source address and per account that count failed authentications,
// and caps on concurrent sessions, overall and per account.
package sshserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/i18n"
)

// Bounds and defaults of the limits (Config).
const (
	MinIdleTimeout      = 30 * time.Second
	MaxIdleTimeout      = 30 * time.Minute // the backend session's own idle timeout
	DefaultIdleTimeout  = 15 * time.Minute
	MinSessionLimit     = 5 * time.Minute
	MaxSessionLimit     = 12 * time.Hour // the backend session's absolute limit
	DefaultSessionLimit = 8 * time.Hour
	DefaultMaxSessions  = 50
	DefaultPerAccount   = 3
	MaxMaxSessions      = 1000
)

// Authenticator is what the SSH server asks the backend.
type Authenticator interface {
	// KeyAllowed tells whether the key (its "SHA256:…" fingerprint) is
	// registered to the account login. It records nothing: clients offer
	// keys freely before proving one.
	KeyAllowed(ctx context.Context, login, fingerprint string) (bool, error)
	// Login opens the session of a login whose first factor has proven
	// itself: it checks the password (with the console logins'
	// throttling) and records the start, or the refusal. A refusal is a
	// *LoginError.
	Login(ctx context.Context, a Attempt) (Identity, error)
	// Refused records a connection that ended before a login: no key
	// proven (step "key"), or the password step left unfinished
	// ("password").
	Refused(ctx context.Context, login, source, step, client string)
	// Ended records the end of a session (reason: quit, idle, limit,
	// disconnect, shutdown, session, cap, no-terminal) and closes its
	// backend session.
	Ended(ctx context.Context, id Identity, source, reason string, started time.Time)
}

// Attempt is the second step of a login.
type Attempt struct {
	Login, Password string
	// Fingerprint names the key that signed; Certificate, when set, says
	// it was a certificate of a trusted CA (CA fingerprint, key id,
	// serial).
	Fingerprint, Certificate string
	// Source is the client's address, Client its SSH version string.
	Source, Client string
}

// Identity is an opened session.
type Identity struct {
	UserID, Login, Role    string
	Token                  string // the backend session's bearer token
	PasswordChangeRequired bool
}

// LoginError is a refused password step.
type LoginError struct {
	Kind  LoginErrorKind
	Until time.Time // Locked: until when
	Err   error
}

// LoginErrorKind says why a login was refused.
type LoginErrorKind int

// The kinds of refusal.
const (
	BadPassword LoginErrorKind = iota
	Locked
	Disabled
	Failed // the backend failed
)

func (e *LoginError) Error() string { return fmt.Sprintf("login refused (%d): %v", e.Kind, e.Err) } // i18n: the operator's (ecouted speaks English)
func (e *LoginError) Unwrap() error { return e.Err }

// Config configures a Server.
type Config struct {
	// HostKeyFile is the server's ed25519 host key, made on first start
	// (mode 0600) and kept.
	HostKeyFile string
	Auth        Authenticator
	// Backend is the gRPC address each session's console dials, with
	// CAPEM the CA it trusts (nothing is pinned), or Insecure for plain
	// text on loopback.
	Backend  string
	CAPEM    []byte
	Insecure bool
	// CompanionServer is the address a reviewer's companion dials
	// (`ecoute listen --server ADDR`); empty: the address the reviewer's
	// SSH client reached, with Backend's port.
	CompanionServer string
	// UserCAKeys are organisation CAs whose user certificates (principal:
	// the login) replace a registered key as the first factor.
	UserCAKeys []gossh.PublicKey
	// IdleTimeout ends a session this long after the last key press;
	// SessionLimit ends it this long after it started. Zero: the default.
	IdleTimeout, SessionLimit time.Duration
	// MaxSessions caps the sessions open at once, PerAccount those of one
	// account. Zero: the default.
	MaxSessions, PerAccount int
	// Rates are the rate limits; zero: DefaultRates.
	Rates Rates
	// DraftDir keeps the sessions' unsent evaluation drafts.
	DraftDir string
	// Lang is the language of what is said before a session's own
	// language is known (authentication banners); "" is English.
	Lang  i18n.Lang
	Clock clock.Clock
	Log   *slog.Logger
	// checkEvery is how often the limits are checked (tests shorten it).
	checkEvery time.Duration
	// console runs a session's console; nil is the real one (tests put a
	// small program in its place).
	console func(se *session, ctx context.Context, pty ssh.Pty, env []string) error
}

// Validate refuses limits outside their bounds and fills the defaults.
func (c *Config) Validate() error {
	if c.Auth == nil {
		return errors.New("ssh: no authenticator") // i18n: the operator's (ecouted speaks English)
	}
	if c.Backend == "" {
		return errors.New("ssh: no backend address") // i18n: the operator's (ecouted speaks English)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.SessionLimit == 0 {
		c.SessionLimit = DefaultSessionLimit
	}
	if c.IdleTimeout < MinIdleTimeout || c.IdleTimeout > MaxIdleTimeout {
		return fmt.Errorf("ssh idle timeout %v: between %v and %v", c.IdleTimeout, MinIdleTimeout, MaxIdleTimeout) // i18n: the operator's (ecouted speaks English)
	}
	if c.SessionLimit < MinSessionLimit || c.SessionLimit > MaxSessionLimit {
		return fmt.Errorf("ssh session limit %v: between %v and %v", c.SessionLimit, MinSessionLimit, MaxSessionLimit) // i18n: the operator's (ecouted speaks English)
	}
	if c.SessionLimit < c.IdleTimeout {
		return fmt.Errorf("ssh session limit %v is shorter than the idle timeout %v", c.SessionLimit, c.IdleTimeout) // i18n: the operator's (ecouted speaks English)
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.PerAccount == 0 {
		c.PerAccount = DefaultPerAccount
	}
	if c.MaxSessions < 1 || c.MaxSessions > MaxMaxSessions {
		return fmt.Errorf("ssh max sessions %d: between 1 and %d", c.MaxSessions, MaxMaxSessions) // i18n: the operator's (ecouted speaks English)
	}
	if c.PerAccount < 1 || c.PerAccount > c.MaxSessions {
		return fmt.Errorf("ssh sessions per account %d: between 1 and the max sessions (%d)", c.PerAccount, c.MaxSessions) // i18n: the operator's (ecouted speaks English)
	}
	if c.Rates == (Rates{}) {
		c.Rates = DefaultRates
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.checkEvery == 0 {
		c.checkEvery = time.Second
	}
	return nil
}

// Server is the SSH server.
type Server struct {
	cfg    Config
	srv    *ssh.Server
	limits *limits
	slots  *slots

	mu       sync.Mutex
	shutdown bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// New builds the server; the host key is made now if it does not exist.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HostKeyFile == "" {
		return nil, errors.New("ssh: no host key file") // i18n: the operator's (ecouted speaks English)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.HostKeyFile), 0o700); err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err) // i18n: the operator's (ecouted speaks English)
	}
	s := &Server{cfg: cfg, limits: newLimits(cfg.Rates, cfg.Clock), slots: newSlots(cfg.MaxSessions, cfg.PerAccount),
		sessions: map[*session]struct{}{}}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(cfg.HostKeyFile),
		wish.WithVersion("Ecoute"), // i18n: the protocol version string
		func(srv *ssh.Server) error {
			srv.ServerConfigCallback = s.serverConfig
			srv.ConnCallback = s.admit
			// Authentication must end within a minute; the limits of a
			// session are ours (on key presses, not on traffic).
			srv.HandshakeTimeout = time.Minute
			return nil
		},
		wish.WithMiddleware(s.handle),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err) // i18n: the operator's (ecouted speaks English)
	}
	if fi, err := os.Stat(cfg.HostKeyFile); err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err) // i18n: the operator's (ecouted speaks English)
	} else if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("ssh host key %s: mode %v, want 0600", cfg.HostKeyFile, fi.Mode().Perm()) // i18n: the operator's (ecouted speaks English)
	}
	s.srv = srv
	return s, nil
}

// HostKey is the server's public host key (for the operator to publish
// its fingerprint).
func (s *Server) HostKey() gossh.PublicKey {
	if len(s.srv.HostSigners) == 0 {
		return nil
	}
	return s.srv.HostSigners[0].PublicKey()
}

// Serve serves on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	err := s.srv.Serve(lis)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown ends every session (they are told why, and each end is
// recorded) and stops listening; it waits until ctx ends at most.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for se := range s.sessions {
		se.stop(errShutdown)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return s.srv.Close()
}

// Active is the number of sessions open.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// printer is the server's language, before a session's is known.
func (s *Server) printer() *i18n.Printer { return i18n.New(s.cfg.Lang) }
