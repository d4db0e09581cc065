package sshserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/internal/i18n"
)

// The permissions' extensions that carry a login to its session (they
// stay in the server).
const (
	extUserID      = "ecoute-user-id"
	extLogin       = "ecoute-login"
	extRole        = "ecoute-role"
	extToken       = "ecoute-token"
	extMustChange  = "ecoute-password-change-required"
	extFingerprint = "ecoute-key"
)

// Messages of the authentication (the server's language).
const (
	msgPasswordPrompt i18n.Key = "sshserve.passwordPrompt"
	msgPasswordFor    i18n.Key = "sshserve.passwordFor"
	msgWrongPassword  i18n.Key = "sshserve.wrongPassword"
	msgLocked         i18n.Key = "sshserve.locked"
	msgDisabled       i18n.Key = "sshserve.disabled"
	msgLoginFailed    i18n.Key = "sshserve.loginFailed"
	msgTooManyTries   i18n.Key = "sshserve.tooManyTries"
	msgTooManyOpen    i18n.Key = "sshserve.tooManyOpen"
)

var (
	errKeyRefused  = errors.New("key not registered to this account") // i18n: a sentinel
	errRateLimited = errors.New("rate limited")                       // i18n: a sentinel
)

// conn is what one connection's authentication went through.
type conn struct {
	mu        sync.Mutex
	login     string
	keyTried  bool // a public key was tried (offered or signed)
	pwStep    bool // a key proved itself: the password step began
	pwTried   bool // a password reached the backend (it recorded the outcome)
	succeeded bool
	id        Identity // the session opened, once succeeded
	client    string
	source    net.Addr
	channels  int // session channels opened
}

// admit refuses, before any SSH byte, a source over its rate.
func (s *Server) admit(ctx ssh.Context, c net.Conn) net.Conn {
	if !s.limits.admit(hostOf(c.RemoteAddr())) {
		s.cfg.Log.Warn("ssh: connection refused (rate)", "source", c.RemoteAddr().String()) // i18n: a log line
		return nil
	}
	return c
}

// serverConfig is made for each connection: its authentication callbacks
// share that connection's state, and its end records what a refused one
// tried.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	st := &conn{}
	ctx.SetValue(connKey{}, st)
	go func() {
		<-ctx.Done()
		s.connEnded(ctx, st)
	}()
	return &gossh.ServerConfig{
		MaxAuthTries: 6,
		PublicKeyCallback: func(cm gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
			return s.publicKey(ctx, st, cm, key)
		},
		// No other first factor: no password-only access.
	}
}

type connKey struct{}

// connEnded records a connection that never logged in, and counts it
// against its source.
func (s *Server) connEnded(ctx ssh.Context, st *conn) {
	st.mu.Lock()
	login, keyTried, pwStep, pwTried, ok, client := st.login, st.keyTried, st.pwStep, st.pwTried, st.succeeded, st.client
	id, channels, addr := st.id, st.channels, st.source
	st.mu.Unlock()
	if addr == nil {
		return // no authentication was tried (a scanner, ssh-keyscan)
	}
	source := addr.String()
	bg := context.WithoutCancel(ctx)
	switch {
	case ok && channels == 0:
		// Logged in, but no session channel came (ssh -N): the login's
		// session ends with the connection.
		s.cfg.Auth.Ended(bg, id, source, "no-console", s.cfg.Clock.Now())
		return
	case ok || !keyTried:
		return // the session records its end; a scanner tried no key
	}
	s.limits.failed(hostOf(addr), "")
	switch {
	case !pwStep:
		s.cfg.Auth.Refused(bg, login, source, "key", client)
	case !pwTried:
		s.cfg.Auth.Refused(bg, login, source, "password", client)
	}
}

// publicKey is the first factor: a key registered to the login, or a
// certificate of a trusted CA naming it. Accepting answers a partial
// success whose next step, the password, holds this very key: it is used
// only if this key's signature is verified.
func (s *Server) publicKey(ctx ssh.Context, st *conn, cm gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
	login := cm.User()
	st.mu.Lock()
	st.login, st.keyTried, st.client, st.source = login, true, string(cm.ClientVersion()), cm.RemoteAddr()
	st.mu.Unlock()
	source := cm.RemoteAddr()
	if !s.limits.sourceOK(hostOf(source)) {
		return nil, errRateLimited
	}
	var fp, cert string
	if c, ok := key.(*gossh.Certificate); ok {
		var err error
		if cert, err = s.checkCertificate(login, c); err != nil {
			return nil, err
		}
		fp = gossh.FingerprintSHA256(c.Key)
	} else {
		fp = gossh.FingerprintSHA256(key)
		ok, err := s.cfg.Auth.KeyAllowed(ctx, login, fp)
		if err != nil {
			s.cfg.Log.Error("ssh: key check", "err", err) // i18n: a log line
			return nil, errKeyRefused
		}
		if !ok {
			return nil, errKeyRefused
		}
	}
	next := func(cm gossh.ConnMetadata, challenge gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
		return s.password(ctx, st, cm, challenge, login, fp, cert)
	}
	return nil, &gossh.PartialSuccessError{Next: gossh.ServerAuthCallbacks{KeyboardInteractiveCallback: next}}
}

// checkCertificate accepts a user certificate of a trusted CA whose
// principals name the login, valid now.
func (s *Server) checkCertificate(login string, c *gossh.Certificate) (string, error) {
	if len(s.cfg.UserCAKeys) == 0 {
		return "", errKeyRefused
	}
	checker := gossh.CertChecker{
		Clock: s.cfg.Clock.Now,
		IsUserAuthority: func(auth gossh.PublicKey) bool {
			for _, ca := range s.cfg.UserCAKeys {
				if string(ca.Marshal()) == string(auth.Marshal()) {
					return true
				}
			}
			return false
		},
	}
	if !checker.IsUserAuthority(c.SignatureKey) {
		return "", errKeyRefused
	}
	if err := checker.CheckCert(login, c); err != nil {
		return "", fmt.Errorf("%w: %v", errKeyRefused, err)
	}
	return fmt.Sprintf("ca=%s id=%q serial=%d", gossh.FingerprintSHA256(c.SignatureKey), c.KeyId, c.Serial), nil
}

// password is the second factor, reached only with a proven key.
func (s *Server) password(ctx ssh.Context, st *conn, cm gossh.ConnMetadata, challenge gossh.KeyboardInteractiveChallenge,
	login, fp, cert string) (*gossh.Permissions, error) {
	if cm.User() != login {
		return nil, errKeyRefused // x/crypto refuses a change of user already
	}
	st.mu.Lock()
	st.pwStep = true
	st.mu.Unlock()
	p := s.printer()
	source := cm.RemoteAddr()
	if !s.limits.passwordAllowed(hostOf(source), login) {
		return nil, &gossh.BannerError{Err: errRateLimited, Message: p.T(msgTooManyTries) + "\r\n"}
	}
	if !s.slots.room(login) {
		return nil, &gossh.BannerError{Err: errTooMany, Message: p.T(msgTooManyOpen) + "\r\n"}
	}
	answers, err := challenge("", p.T(msgPasswordFor, login), []string{p.T(msgPasswordPrompt)}, []bool{false})
	if err != nil {
		return nil, err
	}
	if len(answers) != 1 || answers[0] == "" {
		s.limits.failed(hostOf(source), login)
		return nil, &gossh.BannerError{Err: errKeyRefused, Message: p.T(msgWrongPassword) + "\r\n"}
	}
	st.mu.Lock()
	st.pwTried = true
	st.mu.Unlock()
	id, err := s.cfg.Auth.Login(ctx, Attempt{Login: login, Password: answers[0], Fingerprint: fp, Certificate: cert,
		Source: source.String(), Client: string(cm.ClientVersion())})
	if err != nil {
		s.limits.failed(hostOf(source), login)
		return nil, &gossh.BannerError{Err: err, Message: s.refusal(err) + "\r\n"}
	}
	st.mu.Lock()
	st.succeeded, st.id = true, id
	st.mu.Unlock()
	ext := map[string]string{extUserID: id.UserID, extLogin: id.Login, extRole: id.Role, extToken: id.Token,
		extFingerprint: fp}
	if id.PasswordChangeRequired {
		ext[extMustChange] = "true"
	}
	return &gossh.Permissions{Extensions: ext}, nil
}

// refusal says why a password step was refused.
func (s *Server) refusal(err error) string {
	p := s.printer()
	var le *LoginError
	if !errors.As(err, &le) {
		return p.T(msgLoginFailed)
	}
	switch le.Kind {
	case BadPassword:
		return p.T(msgWrongPassword)
	case Locked:
		return p.T(msgLocked, le.Until.Local().Format("15:04"))
	case Disabled:
		return p.T(msgDisabled)
	}
	return p.T(msgLoginFailed)
}

// identityOf reads the login a session's connection made.
func identityOf(perms *gossh.Permissions) (Identity, bool) {
	if perms == nil || perms.Extensions[extToken] == "" {
		return Identity{}, false
	}
	e := perms.Extensions
	return Identity{UserID: e[extUserID], Login: e[extLogin], Role: e[extRole], Token: e[extToken],
		PasswordChangeRequired: e[extMustChange] == "true"}, true
}

// hostOf is the address without its port: the source the rates count.
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return strings.TrimSpace(a.String())
	}
	return h
}
