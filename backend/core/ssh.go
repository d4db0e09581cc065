package core

import (
	"context"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/domain"
)

// Remote review over SSH. The SSH server (sshserve, run by `ecouted serve
// --ssh-listen`) asks the front door three things: whether a public key is
// registered to the login named as the SSH user (the first factor, asked
// for every key the client offers, before any signature is checked, so it
// records nothing); to open the session once a registered key has proven
// itself and the password is given (the second factor, checked by Login:
// the same throttling and lockout as the console's logins); and to close
// it. Start, end and refusals are in the audit trail, whose entries are
// kept as connection logs (retention.connection_logs, R4).

// Audit actions of remote review over SSH.
const (
	// ActionSSHLogin is a refused SSH login: details "step" (key,
	// password), "result" the reason.
	ActionSSHLogin = "ssh.login"
	// ActionSSHSessionStart is an SSH login that opened a session.
	ActionSSHSessionStart = "ssh.session.start"
	// ActionSSHSessionEnd is its end: details "reason" (quit, idle,
	// limit, disconnect, shutdown, session) and "duration".
	ActionSSHSessionEnd = "ssh.session.end"
)

// SSHKeyOwned tells whether the key (its fingerprint) is registered to the
// account login. An unknown login and another account's key answer the
// same. It records nothing: clients offer keys freely before proving one.
func (b *Backend) SSHKeyOwned(ctx context.Context, login, fingerprint string) (bool, error) {
	_, ok, err := b.sshKeyOf(ctx, login, fingerprint)
	if err != nil {
		return false, domain.Internal("check ssh key", err)
	}
	return ok, nil
}

// SSHAttempt is an SSH login past its first factor: the SSH server has
// verified the client's signature with the key (or certificate) named.
type SSHAttempt struct {
	Login    string
	Password string
	// Fingerprint names the key that signed ("SHA256:…").
	Fingerprint string
	// Certificate is set when the key was a certificate signed by the
	// organisation's CA the SSH server trusts (the key need not be
	// registered then); it names the CA and the certificate's key id.
	Certificate string
	// Source is the client's address; Client its SSH version string.
	Source, Client string
}

// SSHLogin opens the session of an SSH login: the key must (still) be the
// account's, unless it is a certificate of the trusted CA, then the
// password goes through Login. Recorded as ssh.session.start, or ssh.login
// with the reason when refused.
func (b *Backend) SSHLogin(ctx context.Context, a SSHAttempt) (Session, error) {
	d := map[string]string{"source": a.Source, "key": a.Fingerprint}
	if a.Client != "" {
		d["client"] = clip(a.Client, 80)
	}
	actor := domain.User{Login: clip(a.Login, 64)}
	refuse := func(step string, err error) (Session, error) {
		d["step"] = step
		_ = b.record(ctx, Caller{User: actor, Source: a.Source}, ActionSSHLogin, entry{target: actor.Login, details: d}, err)
		return Session{}, err
	}
	if a.Certificate != "" {
		d["certificate"] = clip(a.Certificate, 200)
	} else {
		_, ok, err := b.sshKeyOf(ctx, a.Login, a.Fingerprint)
		if err != nil {
			return refuse("key", domain.Internal("check ssh key", err))
		}
		if !ok {
			return refuse("key", domain.New(domain.ReasonBadCredentials, "invalid login or key"))
		}
	}
	se, err := b.Login(ctx, a.Login, a.Password, a.Source)
	if err != nil {
		return refuse("password", err)
	}
	if a.Certificate == "" {
		if err := b.Store.TouchSSHKey(ctx, a.Fingerprint, b.Clock.Now()); err != nil {
			b.Log.Warn("ssh key last use", "key", a.Fingerprint, "err", err)
		}
	}
	if se.User.PasswordChangeRequired {
		d["password_change_required"] = "true"
	}
	c := Caller{User: se.User, Source: a.Source}
	if err := b.record(ctx, c, ActionSSHSessionStart, entry{target: se.User.Login, details: d}, nil); err != nil {
		// No trace, no session (R10).
		_ = b.Sessions.Logout(ctx, auth.Principal{User: se.User, TokenHash: auth.HashToken(se.Token)})
		return Session{}, err
	}
	return se, nil
}

// SSHRefused records an SSH connection that ended without a login: no
// registered key proved itself (step "key"), or the password step was
// left unfinished ("password"). A login whose password was refused is
// recorded by SSHLogin already.
func (b *Backend) SSHRefused(ctx context.Context, login, source, step, client string) {
	d := map[string]string{"source": source, "step": step}
	if client != "" {
		d["client"] = clip(client, 80)
	}
	err := domain.New(domain.ReasonBadCredentials, "invalid login or key")
	_ = b.record(ctx, Caller{User: domain.User{Login: clip(login, 64)}, Source: source}, ActionSSHLogin,
		entry{target: clip(login, 64), details: d}, err)
}

// SSHEnd is how an SSH session ended.
type SSHEnd struct {
	User    domain.User
	Token   string // the session's bearer token
	Source  string
	Reason  string // quit, idle, limit, disconnect, shutdown, session
	Started time.Time
}

// SSHSessionEnded records the end of an SSH session and closes its backend
// session and the pairing it had.
func (b *Backend) SSHSessionEnded(ctx context.Context, e SSHEnd) error {
	hash := auth.HashToken(e.Token)
	b.endPairings(hash)
	var err error
	if e.Token != "" {
		if lerr := b.Sessions.Logout(ctx, auth.Principal{User: e.User, TokenHash: hash}); lerr != nil {
			err = domain.Internal("close ssh session", lerr)
		}
	}
	d := map[string]string{"source": e.Source, "reason": e.Reason}
	if !e.Started.IsZero() {
		d["duration"] = b.Clock.Now().Sub(e.Started).Round(time.Second).String()
	}
	return b.record(ctx, Caller{User: e.User, Source: e.Source}, ActionSSHSessionEnd, entry{target: e.User.Login, details: d}, err)
}

// clip bounds what a client chose (a login tried, a version string)
// before it is written into the trail.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
