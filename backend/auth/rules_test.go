package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
)

const goodPw = "le bon mot de passe"

// Each refusal names its reason; each accepted password is really accepted.
func TestPasswordRefusalsSayWhy(t *testing.T) {
	p := Person{Login: "cdubois", Names: []string{"Claire", "Dubois", "Claire Dubois"}}
	cases := []struct {
		pw, why string // why "" = accepted
	}{
		{"court", "too short: 12 characters at least"},
		{"onze-lettre", "too short: 12 characters at least"},
		{"ééééééééééé", "too short: 12 characters at least"}, // 11 runes, 22 bytes
		{"moi-CDUBOIS-2026!", "contains your login"},
		{"vive claire et les autres", "contains your name"},
		{"Ma famille DUBOIS forever", "contains your name"},
		{"Password1234", "too common: it is on the list of most used passwords"},
		{"p4ssw0rd1234", "too common: a most used password with letters swapped for digits"},
		{"password12345", "too easy to guess (built on a common word or password)"},
		{"azertyuiop12", "too easy to guess"},
		{"azerty", "too short"},
		{"iloveyou1234", "too common"},
		{"poiuytrewqlk", "too easy to guess (a keyboard pattern like azerty or qwerty)"},
		{"motdepasse1234", "too easy to guess (built on a common word or password)"},
		{"passwordpassword", "too easy to guess"},
		{"p@ssw0rd1234", "too common"},
		{"p@ssw0rd!2025", "too easy to guess (built on a common word or password)"},
		{"123456789012", "too easy to guess"},
		{"Soleil2024!!", "too easy to guess"},
		{"aaaaaaaaaaaaaaaa", "too easy to guess (repeated characters)"},
		{"abcdefghijklmnop", "too easy to guess (a sequence like abcd or 1234)"},
		{"123456789012", "too easy to guess"},
		{"Passw0rd2020", "too easy to guess"},
		{"motdepasse", "too short"},
		{"m0td3p4ss3!!", "too easy to guess"},
		{"correct horse battery", ""},
		{"twelve chars", ""},
		{"mot de passe initial", ""},
		{"Kp7#vQ2!xLm9", ""},
		{"le chat dort sur le toit", ""},
	}
	for _, c := range cases {
		err := DefaultRules.CheckPassword(p, c.pw)
		if c.why == "" {
			if err != nil {
				t.Errorf("%q refused: %v", c.pw, err)
			}
			continue
		}
		var pe *PolicyError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.why) {
			t.Errorf("%q: got %v, want a refusal starting %q", c.pw, err, c.why)
		}
	}
	for range 20 {
		if pw := GeneratePassword(); DefaultRules.CheckPassword(p, pw) != nil {
			t.Errorf("generated password %q refused: %v", pw, DefaultRules.CheckPassword(p, pw))
		}
	}
}

func TestStrengthOrders(t *testing.T) {
	weak, _ := Strength("password2024", nil)
	strong, _ := Strength("glace verte au citron", nil)
	if weak >= MinStrengthBits || strong < MinStrengthBits || weak >= strong {
		t.Errorf("password2024 %.1f bits, passphrase %.1f bits", weak, strong)
	}
}

func TestThrottlingIsPerLoginAndSource(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSessions(t)
	var events []Event
	s.Notify = func(_ context.Context, e Event) { events = append(events, e) }
	const attacker, owner = "203.0.113.9:40001", "10.1.1.1:5555"
	for i := 1; i <= 5; i++ {
		if _, _, _, err := s.Login(ctx, "claire", "mauvais", attacker); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if len(events) != 1 || events[0].Action != EventThrottled || events[0].Details["source"] != "203.0.113.9" ||
		events[0].Details["failures"] != "5" {
		t.Fatalf("lock events %+v", events)
	}
	// From the attacker's address, even the right password gets the same
	// answer as a wrong one; a new connection (another port) changes nothing.
	if _, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", "203.0.113.9:40002"); err != ErrBadCredentials {
		t.Errorf("right password from the locked address: %v", err)
	}
	// The owner, elsewhere, is not locked out.
	if _, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", owner); err != nil {
		t.Errorf("the owner from another address: %v", err)
	}
	// The delay grows: 1 minute, then 2 after the next failure.
	c.Advance(time.Minute)
	if _, _, _, err := s.Login(ctx, "claire", "mauvais", attacker); err != ErrBadCredentials {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Details["until"] != c.Now().Add(2*time.Minute).UTC().Format(time.RFC3339) {
		t.Fatalf("second lock %+v", events)
	}
	c.Advance(119 * time.Second)
	if _, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", attacker); err != ErrBadCredentials {
		t.Errorf("still locked: %v", err)
	}
	c.Advance(time.Second)
	if _, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", attacker); err != nil {
		t.Errorf("after 2 minutes: %v", err)
	}
	// A good password restarts the count for that address.
	for range 4 {
		s.Login(ctx, "claire", "mauvais", attacker)
	}
	if len(events) != 2 {
		t.Errorf("4 failures after a success locked again: %+v", events)
	}
}

// An unknown login, a wrong password and a throttled login are one answer.
func TestSameAnswerForUnknownWrongAndLocked(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newSessions(t)
	for range 5 {
		s.Login(ctx, "claire", "mauvais", "198.51.100.1:1")
	}
	_, _, _, unknown := s.Login(ctx, "personne", "le bon mot de passe", "198.51.100.2:1")
	_, _, _, wrong := s.Login(ctx, "claire", "mauvais", "198.51.100.3:1")
	_, _, _, locked := s.Login(ctx, "claire", "le bon mot de passe", "198.51.100.1:1")
	if unknown != ErrBadCredentials || wrong != ErrBadCredentials || locked != ErrBadCredentials {
		t.Errorf("unknown %v, wrong %v, locked %v", unknown, wrong, locked)
	}
	// Unknown logins are throttled alike (so that locking does not tell).
	for range 5 {
		s.Login(ctx, "personne", "x", "198.51.100.4:1")
	}
	if th, _ := s.Store.LoginThrottle(ctx, "personne", "198.51.100.4"); th.LockedUntil.IsZero() {
		t.Error("an unknown login is not throttled like a real one")
	}
}

// Guessing the current password with someone's session is throttled too.
func TestChangePasswordGuessesAreThrottled(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newSessions(t)
	_, _, u, err := s.Login(ctx, "claire", "le bon mot de passe", "10.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{User: u}
	for i := 1; i <= 5; i++ {
		if _, _, err := s.ChangePassword(ctx, p, "devinette", "une toute nouvelle phrase", "10.9.9.9:1"); err != ErrBadCredentials {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var te *ThrottledError
	if _, _, err := s.ChangePassword(ctx, p, "le bon mot de passe", "une toute nouvelle phrase", "10.9.9.9:2"); !errors.As(err, &te) {
		t.Fatalf("sixth try: %v", err)
	}
	// The same count as logins: that address cannot log in either…
	if _, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", "10.9.9.9:3"); err != ErrBadCredentials {
		t.Errorf("login from the guessing address: %v", err)
	}
	// … the owner elsewhere can.
	if _, _, err := s.ChangePassword(ctx, p, "le bon mot de passe", "une toute nouvelle phrase", "10.0.0.1:2"); err != nil {
		t.Errorf("change from the owner's address: %v", err)
	}
}

func TestExpiryForcesChange(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSessions(t)
	var events []string
	s.Notify = func(_ context.Context, e Event) { events = append(events, e.Action) }
	c.Advance(90*24*time.Hour - time.Minute)
	_, _, u, err := s.Login(ctx, "claire", goodPw, "")
	if err != nil || u.PasswordChangeRequired {
		t.Fatalf("89 days 23:59: %v, change required %v", err, u.PasswordChangeRequired)
	}
	c.Advance(time.Minute)
	tok, _, u, err := s.Login(ctx, "claire", goodPw, "")
	if err != nil || !u.PasswordChangeRequired {
		t.Fatalf("90 days: %v, change required %v", err, u.PasswordChangeRequired)
	}
	if fmt.Sprint(events) != "["+EventPasswordExpired+"]" {
		t.Errorf("events %v", events)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || !p.User.PasswordChangeRequired {
		t.Fatalf("session of an expired password: %v %+v", err, p.User)
	}
	if _, _, err := s.ChangePassword(ctx, p, goodPw, "un tout nouveau secret", ""); err != nil {
		t.Fatal(err)
	}
	_, _, u, err = s.Login(ctx, "claire", "un tout nouveau secret", "")
	if err != nil || u.PasswordChangeRequired {
		t.Errorf("after the change: %v, change required %v", err, u.PasswordChangeRequired)
	}
	// Configurable: a 30-day rule expires the new password after 30 days.
	s.Rules.MaxAge = 30 * 24 * time.Hour
	c.Advance(30 * 24 * time.Hour)
	if _, _, u, _ := s.Login(ctx, "claire", "un tout nouveau secret", ""); !u.PasswordChangeRequired {
		t.Error("30-day rule not applied")
	}
}

func TestChangePasswordRevokesEverySessionAndChecksHistory(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newSessions(t)
	mine, _, _, _ := s.Login(ctx, "claire", goodPw, "")
	other, _, _, _ := s.Login(ctx, "claire", goodPw, "")
	p, _ := s.Authenticate(ctx, mine)
	var pe *PolicyError
	if _, _, err := s.ChangePassword(ctx, p, goodPw, "court", ""); !errors.As(err, &pe) || err.Error() != "too short: 12 characters at least" {
		t.Errorf("weak new password: %v", err)
	}
	if _, _, err := s.ChangePassword(ctx, p, "faux", "un tout nouveau secret", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong old password: %v", err)
	}
	if _, _, err := s.ChangePassword(ctx, p, goodPw, goodPw, ""); !errors.As(err, &pe) || !strings.Contains(err.Error(), "last 5") {
		t.Errorf("same password again: %v", err)
	}
	newTok, _, err := s.ChangePassword(ctx, p, goodPw, "un tout nouveau secret", "")
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the caller's old token": mine, "another session": other} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("%s kept: %v", name, err)
		}
	}
	p, err = s.Authenticate(ctx, newTok)
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	// Walk through four more passwords: each of the last five is refused,
	// the sixth one back is allowed again.
	pws := []string{"un tout nouveau secret", "deuxieme phrase secrete", "troisieme phrase secrete",
		"quatrieme phrase secrete", "cinquieme phrase secrete"}
	cur := pws[0]
	for _, next := range pws[1:] {
		tok, _, err := s.ChangePassword(ctx, p, cur, next, "")
		if err != nil {
			t.Fatalf("%q → %q: %v", cur, next, err)
		}
		p, _ = s.Authenticate(ctx, tok)
		cur = next
	}
	for _, old := range pws[:4] {
		if _, _, err := s.ChangePassword(ctx, p, cur, old, ""); !errors.As(err, &pe) || err.Error() != "reuses one of your last 5 passwords" {
			t.Errorf("reuse of %q: %v", old, err)
		}
	}
	if _, _, err := s.ChangePassword(ctx, p, cur, goodPw, ""); err != nil {
		t.Errorf("password six changes back refused: %v", err)
	}
}

func TestAccountsAndRevocation(t *testing.T) {
	ctx := context.Background()
	s, _, st := newSessions(t)
	if err := st.CreateTeam(ctx, store.Team{ID: "t1", Name: "Énergie"}); err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	bad := []NewAccount{
		{Login: "", FirstName: "A", LastName: "B", Role: "hr", Password: goodPw},
		{Login: "x", FirstName: "", LastName: "B", Role: "hr", Password: goodPw},
		{Login: "x", FirstName: "A", LastName: "B", Role: "king", Password: goodPw},
		{Login: "x", FirstName: "A", LastName: "B", Role: "supervisor", Password: goodPw},
		{Login: "x", FirstName: "A", LastName: "B", Role: "supervisor", TeamIDs: []string{"nope"}, Password: goodPw},
		{Login: "x", FirstName: "A", LastName: "B", Role: "agent", Password: goodPw},
		{Login: "x", FirstName: "A", LastName: "B", Role: "hr", AgentID: "a1", Password: goodPw},
		{Login: "claire", FirstName: "A", LastName: "B", Role: "hr", Password: goodPw},
	}
	for _, a := range bad {
		if _, err := s.CreateAccount(ctx, a); !errors.As(err, &fe) {
			t.Errorf("%+v: %v", a, err)
		}
	}
	if _, err := s.CreateAccount(ctx, NewAccount{Login: "nina", FirstName: "Nina", LastName: "Roux", Role: "hr",
		Password: "nina est la"}); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("weak initial password: %v", err)
	}
	u, err := s.CreateAccount(ctx, NewAccount{Login: "nina", FirstName: "Nina", LastName: "Roux", Role: "supervisor",
		TeamIDs: []string{"t1"}, Password: goodPw, OneTime: true})
	if err != nil || u.DisplayName != "Nina Roux" || !u.PasswordChangeRequired {
		t.Fatalf("create: %+v %v", u, err)
	}
	t1, _, got, err := s.Login(ctx, "nina", goodPw, "")
	if err != nil || !got.PasswordChangeRequired {
		t.Fatalf("one-time login: %v %v", err, got.PasswordChangeRequired)
	}
	t2, _, _, _ := s.Login(ctx, "nina", goodPw, "")
	// An administrator revokes all of them.
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{t1, t2} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("session survived revocation: %v", err)
		}
	}
	// Reset: a new one-time password, sessions ended.
	t3, _, _, _ := s.Login(ctx, "nina", goodPw, "")
	pw, err := s.ResetPassword(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, t3); !errors.Is(err, ErrNoSession) {
		t.Errorf("session survived reset: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "nina", goodPw, ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password after reset: %v", err)
	}
	if _, _, got, err := s.Login(ctx, "nina", pw, ""); err != nil || !got.PasswordChangeRequired {
		t.Errorf("reset password not one-time: %v %v", err, got.PasswordChangeRequired)
	}
	// Disabled: sessions end, login refused with the reason.
	t4, _, _, _ := s.Login(ctx, "nina", pw, "")
	if _, err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, t4); !errors.Is(err, ErrNoSession) {
		t.Errorf("session of a disabled account: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "nina", pw, ""); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled login: %v", err)
	}
	if _, err := s.SetTeams(ctx, u.ID, nil); !errors.As(err, &fe) {
		t.Errorf("supervisor without team: %v", err)
	}
}
