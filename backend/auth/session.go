package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// Session lifetimes.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Errors returned to callers; the services map them to Unauthenticated.
var (
	ErrBadCredentials = errors.New("invalid login or password")
	ErrNoSession      = errors.New("session expired or unknown")
	ErrDisabled       = errors.New("account disabled: ask an administrator")
)

// ThrottledError is a ChangePassword refused because of repeated wrong
// current passwords from this address.
type ThrottledError struct {
	Until    time.Time
	Failures int
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%d wrong current passwords from this address: try again after %s UTC", e.Failures,
		e.Until.UTC().Format("15:04"))
}

// PendingError is a login with the right password to an account that waits
// for a second person's approval.
type PendingError struct{ GrantID string }

func (e *PendingError) Error() string {
	return "the account waits for a second administrator's approval (grant " + e.GrantID + ")"
}

// Principal is the authenticated caller.
type Principal struct {
	User      store.User
	TokenHash string
}

// Event is something the audit trail must record that happens inside a
// login (an account locked, a password expired).
type Event struct {
	Action  string
	User    store.User
	Details map[string]string
}

// Events recorded through Sessions.Notify, and the names of the audit
// entries of the administrators' password resets and session revocations
// (recorded by backend/core).
const (
	EventThrottled       = "auth.login.throttled"
	EventPasswordExpired = "auth.password.expired"
	EventPasswordReset   = "auth.password.reset"
	EventSessionsRevoked = "auth.sessions.revoked"
)

// Sessions opens, checks and revokes sessions, and keeps the password
// rules.
type Sessions struct {
	Store  store.Store
	Clock  clock.Clock
	Params Params // for new hashes
	Rules  Rules
	// Notify, when set, receives the events above (the audit trail).
	Notify func(context.Context, Event)

	dummy string // hash verified for unknown logins, so timing does not tell them apart
	cache sessionCache
}

// NewSessions builds a session manager with DefaultRules.
func NewSessions(st store.Store, c clock.Clock, p Params) (*Sessions, error) {
	dummy, err := HashPassword(rand.Text(), p)
	if err != nil {
		return nil, err
	}
	return &Sessions{Store: st, Clock: c, Params: p, Rules: DefaultRules, dummy: dummy}, nil
}

func (s *Sessions) notify(ctx context.Context, e Event) {
	if s.Notify != nil {
		s.Notify(ctx, e)
	}
}

// HashToken is how a token is looked up: the database never holds a usable
// token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Login checks the password and opens a session. sourceAddr is kept with
// the session for the audit trail. An unknown login, a wrong password and a
// login throttled from this address get the same answer, ErrBadCredentials,
// after the same work (one password hash checked), so that nobody learns
// which logins exist or which are locked. Failures are counted per login
// tried and source address (Rules.LockAfter, then a delay that doubles with
// each further failure, Rules.LockFor to Rules.MaxLockFor): guessing from
// one address slows that address, never the account's owner elsewhere.
// Each lock is notified (EventThrottled). A password older than
// Rules.MaxAge marks the user PasswordChangeRequired.
func (s *Sessions) Login(ctx context.Context, login, password, sourceAddr string) (token string, expires time.Time, u store.User, err error) {
	fail := func(err error) (string, time.Time, store.User, error) { return "", time.Time{}, store.User{}, err }
	now := s.Clock.Now()
	src := SourceIP(sourceAddr)
	if !countable(login) {
		// No account can have this login: nothing to count or store.
		_ = VerifyPassword(s.dummy, password)
		return fail(ErrBadCredentials)
	}
	if len(password) > MaxPasswordLen {
		password = "" // no password is that long: a failure like any other
	}
	th, err := s.Store.LoginThrottle(ctx, login, src)
	if err != nil {
		return fail(fmt.Errorf("login %s: %w", login, err))
	}
	if now.Before(th.LockedUntil) {
		_ = VerifyPassword(s.dummy, password)
		return fail(ErrBadCredentials)
	}
	u, err = s.Store.UserByLogin(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = VerifyPassword(s.dummy, password)
		return fail(s.failed(ctx, store.User{Login: login}, src, now))
	case err != nil:
		return fail(fmt.Errorf("login %s: %w", login, err))
	}
	if err := VerifyPassword(u.PasswordHash, password); err != nil {
		if !errors.Is(err, ErrMismatch) {
			return fail(fmt.Errorf("login %s: %w", login, err))
		}
		return fail(s.failed(ctx, u, src, now))
	}
	if u.Disabled {
		return fail(ErrDisabled)
	}
	if u.PendingGrant != "" {
		return fail(&PendingError{GrantID: u.PendingGrant})
	}
	if th.Failures > 0 {
		if err := s.Store.ClearLoginThrottle(ctx, login, src); err != nil {
			return fail(err)
		}
	}
	if !u.PasswordChangeRequired && s.Expired(u) {
		if err := s.Store.SetPassword(ctx, u.ID, u.PasswordHash, true); err != nil {
			return fail(err)
		}
		u.PasswordChangeRequired = true
		s.notify(ctx, Event{Action: EventPasswordExpired, User: u, Details: map[string]string{
			"max_age_days": fmt.Sprint(int(s.Rules.MaxAge.Hours() / 24))}})
	}
	token, expires, err = s.open(ctx, u.ID, sourceAddr)
	if err != nil {
		return fail(err)
	}
	return token, expires, u, nil
}

// countable tells whether a login tried can name an account, and so is
// worth a throttle row: bounded, and without control characters.
func countable(login string) bool {
	if login == "" || len(login) > MaxLoginLen {
		return false
	}
	for _, r := range login {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// MaxLoginLen bounds a login (the same bound as backend/limits).
const MaxLoginLen = 64

// failed counts a failure of u's login (u may be no account) from src and
// notifies a lock; the answer is always ErrBadCredentials.
func (s *Sessions) failed(ctx context.Context, u store.User, src string, now time.Time) error {
	th, err := s.Store.RecordLoginFailureFrom(ctx, u.Login, src, now, s.Rules.lockFor)
	if err != nil {
		return err
	}
	if !th.LockedUntil.IsZero() {
		s.notify(ctx, Event{Action: EventThrottled, User: u, Details: map[string]string{
			"failures": fmt.Sprint(th.Failures), "until": th.LockedUntil.UTC().Format(time.RFC3339), "source": src}})
	}
	return ErrBadCredentials
}

// lockFor is how long a login and source pair is refused after n
// failures: nothing before LockAfter, then LockFor, doubled at each
// further failure, up to MaxLockFor.
func (r Rules) lockFor(n int) time.Duration {
	if r.LockAfter <= 0 || n < r.LockAfter {
		return 0
	}
	d := r.LockFor
	for i := r.LockAfter; i < n && d < r.MaxLockFor; i++ {
		d *= 2
	}
	if r.MaxLockFor > 0 && d > r.MaxLockFor {
		d = r.MaxLockFor
	}
	return d
}

// SourceIP is the address failures are counted for: the client's IP,
// without the port (a new connection has a new port).
func SourceIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// passwordTime is when the current password was set.
func (s *Sessions) passwordTime(u store.User) time.Time {
	if !u.PasswordChangedAt.IsZero() {
		return u.PasswordChangedAt
	}
	return u.CreatedAt
}

// Expired tells whether u's password is older than Rules.MaxAge.
func (s *Sessions) Expired(u store.User) bool {
	return s.Rules.MaxAge > 0 && !s.Clock.Now().Before(s.passwordTime(u).Add(s.Rules.MaxAge))
}

// open creates a session for userID and returns its token.
func (s *Sessions) open(ctx context.Context, userID, sourceAddr string) (string, time.Time, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.Clock.Now()
	expires := now.Add(AbsoluteTimeout)
	err := s.Store.CreateSession(ctx, store.Session{TokenHash: HashToken(token), UserID: userID, SourceAddr: sourceAddr,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: expires})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// Authenticate resolves a token to its principal and extends the idle
// timeout. Expired sessions are deleted. A session checked since the
// last change of accounts, teams or sessions is answered from memory
// (sessioncache.go).
func (s *Sessions) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoSession
	}
	h := HashToken(token)
	// Read before the check: a change made meanwhile raises the counter
	// past what the cache keeps.
	gen, err := s.Store.AuthChanges(ctx)
	if err != nil {
		return Principal{}, err
	}
	now := s.Clock.Now()
	p, touch, ok, lastUsed := s.cache.use(h, gen, now)
	if ok {
		if touch {
			if err := s.Store.TouchSession(ctx, h, now); err != nil {
				return Principal{}, err
			}
		}
		return p, nil
	}
	se, err := s.Store.SessionByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	// A use seen here may not be written yet (TouchEvery).
	if se.LastUsedAt.After(lastUsed) {
		lastUsed = se.LastUsedAt
	}
	if !now.Before(se.ExpiresAt) || !now.Before(lastUsed.Add(IdleTimeout)) {
		_ = s.Store.DeleteSession(ctx, h)
		return Principal{}, ErrNoSession
	}
	u, err := s.Store.UserByID(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		_ = s.Store.DeleteSession(ctx, h)
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	if err := s.Store.TouchSession(ctx, h, now); err != nil {
		return Principal{}, err
	}
	p = Principal{User: u, TokenHash: h}
	s.cache.put(h, gen, p, se, now)
	return p, nil
}

// Logout revokes the session.
func (s *Sessions) Logout(ctx context.Context, p Principal) error {
	return s.Store.DeleteSession(ctx, p.TokenHash)
}

// ChangePassword checks the old password and the policy, stores the new
// hash and revokes every session of the user, the caller's included; the
// caller continues with the new session returned (token, expiry).
func (s *Sessions) ChangePassword(ctx context.Context, p Principal, oldPw, newPw, sourceAddr string) (string, time.Time, error) {
	u, err := s.Store.UserByID(ctx, p.User.ID)
	if err != nil {
		return "", time.Time{}, err
	}
	// Guessing the current password with a stolen session is throttled as
	// a login is, on the same count (login and source address).
	now, src := s.Clock.Now(), SourceIP(sourceAddr)
	th, err := s.Store.LoginThrottle(ctx, u.Login, src)
	if err != nil {
		return "", time.Time{}, err
	}
	if now.Before(th.LockedUntil) {
		return "", time.Time{}, &ThrottledError{Until: th.LockedUntil, Failures: th.Failures}
	}
	if err := VerifyPassword(u.PasswordHash, oldPw); err != nil {
		if err := s.failed(ctx, u, src, now); !errors.Is(err, ErrBadCredentials) {
			return "", time.Time{}, err
		}
		return "", time.Time{}, ErrBadCredentials
	}
	if th.Failures > 0 {
		if err := s.Store.ClearLoginThrottle(ctx, u.Login, src); err != nil {
			return "", time.Time{}, err
		}
	}
	if err := s.CheckNewPassword(ctx, u, newPw); err != nil {
		return "", time.Time{}, err
	}
	hash, err := HashPassword(newPw, s.Params)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.Store.ChangePassword(ctx, u.ID, hash, false, s.Clock.Now()); err != nil {
		return "", time.Time{}, err
	}
	// A changed password must lock out whoever else held a session, and
	// the token that was used until now is retired too.
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return "", time.Time{}, err
	}
	return s.open(ctx, u.ID, sourceAddr)
}

// CheckNewPassword applies every password rule to a new password of u,
// history included.
func (s *Sessions) CheckNewPassword(ctx context.Context, u store.User, pw string) error {
	if err := s.Rules.CheckPassword(PersonOf(u), pw); err != nil {
		return err
	}
	if s.Rules.History <= 0 {
		return nil
	}
	old, err := s.Store.PasswordHistory(ctx, u.ID, s.Rules.History-1)
	if err != nil {
		return err
	}
	for _, h := range append([]string{u.PasswordHash}, old...) {
		if VerifyPassword(h, pw) == nil {
			return &PolicyError{fmt.Errorf("reuses one of your last %d passwords", s.Rules.History)}
		}
	}
	return nil
}

// PersonOf is what the login/name checks compare a password with.
func PersonOf(u store.User) Person {
	return Person{Login: u.Login, Names: []string{u.FirstName, u.LastName, u.DisplayName}}
}

// PolicyError is a password refused by the policy.
type PolicyError struct{ Err error }

func (e *PolicyError) Error() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }
