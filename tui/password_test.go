package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
)

// pwBackend adds the identity calls to the call-list fake.
type pwBackend struct {
	*fakeBackend
	changes [][2]string
	refuse  error
	periods *ecoutev1.MyRecordingPeriodsResponse
}

func (b *pwBackend) ChangePassword(_ context.Context, old, next string) (*ecoutev1.ChangePasswordResponse, error) {
	b.changes = append(b.changes, [2]string{old, next})
	if b.refuse != nil {
		return nil, b.refuse
	}
	return &ecoutev1.ChangePasswordResponse{Token: "new-token"}, nil
}

func (b *pwBackend) MyRecordingPeriods(context.Context) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	return b.periods, nil
}

func TestPasswordScreenWhenRequired(t *testing.T) {
	b := &pwBackend{fakeBackend: &fakeBackend{n: 3}}
	c := testCommon(t, b)
	a := newApp(context.Background(), b, c.Engine, c.Theme, "localhost:7443")
	a.c.Width, a.c.Height = 100, 30
	login := &ecoutev1.LoginResponse{Token: "t", PasswordChangeRequired: true,
		Principal: &ecoutev1.Principal{Login: "lea", Role: "trainer"}}
	a.Update(loggedInMsg{resp: login})
	s, ok := a.top().(*passwordScreen)
	if !ok {
		t.Fatalf("top screen %T, want the change-password screen", a.top())
	}
	s.Init()
	typeText(s, "ancien-mot-de-passe")
	s.Update(press("tab"))
	typeText(s, "nouvelle phrase")
	s.Update(press("tab"))
	typeText(s, "nouvelle phrasX")
	s.Update(press("enter"))
	if out := ansi.Strip(s.View()); !strings.Contains(out, english.T(passwordErrMismatch)) || len(b.changes) != 0 {
		t.Fatalf("mismatch not caught locally (%d calls):\n%s", len(b.changes), out)
	}

	// Wrapped as the real client wraps it.
	// As the gateway types it.
	b.refuse = fmt.Errorf("change password: %w", &client.ErrInvalid{Reason: "PASSWORD_REFUSED", Field: "new_password",
		Message:    "new_password: too short: 12 characters at least",
		Violations: []client.FieldViolation{{Field: "new_password", Description: "too short: 12 characters at least"}}})
	typeText(s, "court")
	s.inputs[1].SetValue("court")
	cmd := s.Update(press("enter"))
	if cmd == nil {
		t.Fatal("enter did not submit")
	}
	s.Update(answer(cmd))
	out := ansi.Strip(s.View())
	if !strings.Contains(out, "New password refused: too short: 12 characters at least.") {
		t.Errorf("refusal reason not shown:\n%s", out)
	}
	if strings.Contains(out, "ancien-mot-de-passe") {
		t.Error("password shown in clear")
	}

	b.refuse = nil
	s.inputs[1].SetValue("une phrase bien longue")
	s.inputs[2].SetValue("une phrase bien longue")
	msgs := collect(s.Update(answer(s.Update(press("enter")))))
	var next *ecoutev1.LoginResponse
	for _, m := range msgs {
		if l, ok := m.(loggedInMsg); ok {
			next = l.resp
		}
	}
	if next == nil || next.PasswordChangeRequired || next.Token != "new-token" || next.Principal.GetLogin() != "lea" {
		t.Fatalf("after the change: %v (messages %v)", next, msgs)
	}
	if got := b.changes[len(b.changes)-1]; got != [2]string{"ancien-mot-de-passe", "une phrase bien longue"} {
		t.Errorf("sent %q", got)
	}
	a.Update(loggedInMsg{resp: next})
	if _, ok := a.top().(*callsScreen); !ok {
		t.Errorf("after the change the console shows %T, want the call list", a.top())
	}
}

func TestAgentSeesRecordingPeriods(t *testing.T) {
	day := func(d int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC))
	}
	b := &pwBackend{fakeBackend: &fakeBackend{n: 3}, periods: &ecoutev1.MyRecordingPeriodsResponse{Teams: []*ecoutev1.TeamRecordingPeriods{{
		TeamId: "team-energie", TeamName: "Énergie",
		Current: &ecoutev1.RecordingPeriod{StartsAt: day(1), EndsAt: day(24)},
		Next:    &ecoutev1.RecordingPeriod{StartsAt: day(30), EndsAt: timestamppb.New(time.Date(2026, 12, 14, 12, 30, 0, 0, time.UTC))},
	}}}}
	c := testCommon(t, b)
	a := newApp(context.Background(), b, c.Engine, c.Theme, "x")
	a.c.Loc = time.UTC
	a.c.Width, a.c.Height = 120, 30
	_, cmd := a.Update(loggedInMsg{resp: &ecoutev1.LoginResponse{
		Principal: &ecoutev1.Principal{Login: "camille", Role: "agent", AgentId: "agent-01",
			AllowedMethods: []string{methodMyRecordingPeriods, "/ecoute.v1.CallService/ListCalls"}}}})
	for _, m := range collect(cmd) {
		a.Update(m)
	}
	want := "You may be recorded (Énergie): now 1 Nov 2026 → 23 Nov 2026 · next 30 Nov 2026 → 14 Dec 2026 12:30"
	if out := ansi.Strip(a.render()); !strings.Contains(out, want) {
		t.Errorf("agent's first screen lacks the periods line:\n%s", out)
	}
	// A supervisor is not shown the line (it is the agents' notice).
	_, cmd = a.Update(loggedInMsg{resp: &ecoutev1.LoginResponse{
		Principal: &ecoutev1.Principal{Login: "claire", Role: "supervisor", TeamIds: []string{"team-energie"},
			AllowedMethods: []string{methodMyRecordingPeriods}}}})
	for _, m := range collect(cmd) {
		if r, ok := m.(replyMsg); ok {
			if _, ok := r.msg.(periodsMsg); ok {
				t.Error("periods fetched for a supervisor")
			}
		}
	}
	if out := ansi.Strip(a.render()); strings.Contains(out, "You may be recorded") {
		t.Errorf("stale periods line:\n%s", out)
	}
}

// collect runs cmd and the batches it returns, and gathers the messages
// (the tests' timers fire at once; see instantTick).
func collect(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, collect(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// A locked account's refusal reaches the login screen in the server's words.
func TestLockedLoginSaysWhy(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.English, i18n.French} {
		b := &fakeBackend{loginErr: fmt.Errorf("login: %w",
			&client.ErrForbidden{Reason: "ACCOUNT_LOCKED", Message: "account locked after 5 failed logins, until 12:15 UTC",
				Metadata: map[string]string{"locked_until": "2026-11-29T12:15:00Z"}})}
		c := testCommon(t, b)
		c.Tr = i18n.New(lang)
		c.Principal = nil
		s := newLoginScreen(c, "", "")
		s.SetSize(100, 27)
		s.Init()
		typeText(s, "lea")
		s.Update(press("tab"))
		typeText(s, "essai")
		s.Update(answer(s.Update(press("enter"))))
		out := ansi.Strip(s.View())
		// From the reason and its argument, in the console's language and
		// zone, never the server's English sentence.
		want := map[i18n.Lang][]string{i18n.English: {"locked after repeated failed logins", "29 Nov 2026"},
			i18n.French: {"verrouillé après des échecs de connexion répétés", "29 nov. 2026"}}[lang]
		if !strings.Contains(out, want[0]) || !strings.Contains(out, want[1]) || strings.Contains(out, "5 failed logins") {
			t.Errorf("%s: lock not explained in its words:\n%s", lang, out)
		}
	}
}

// acctBackend can list accounts.
type acctBackend struct {
	*fakeBackend
	accounts []*ecoutev1.Account
}

func (b *acctBackend) ListAccounts(context.Context) ([]*ecoutev1.Account, error) {
	return b.accounts, nil
}

func TestAdminStartsOnAccounts(t *testing.T) {
	b := &acctBackend{fakeBackend: &fakeBackend{n: 3}, accounts: []*ecoutev1.Account{
		{Login: "demo-supervisor", DisplayName: "Claire Dubois", Role: "supervisor", TeamIds: []string{"team-banque"}},
		{Login: "lea", DisplayName: "Léa Martin", Role: "trainer", PasswordChangeRequired: true, Disabled: true},
	}}
	c := testCommon(t, b)
	a := newApp(context.Background(), b, c.Engine, c.Theme, "x")
	a.c.Width, a.c.Height = 120, 20
	_, cmd := a.Update(loggedInMsg{resp: &ecoutev1.LoginResponse{Principal: &ecoutev1.Principal{Login: "paul",
		Role: "admin", AllowedMethods: []string{methodListUsers}}}})
	if _, ok := a.top().(*accountsScreen); !ok {
		t.Fatalf("admin starts on %T", a.top())
	}
	for _, m := range collect(cmd) {
		a.Update(m)
	}
	out := ansi.Strip(a.render())
	for _, want := range []string{"2 accounts", "demo-supervisor", "Claire Dubois", "team-banque", "disabled, must change password"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
	// A role that reads calls keeps the call list, even if it may list users.
	a.Update(loggedInMsg{resp: &ecoutev1.LoginResponse{Principal: &ecoutev1.Principal{Login: "claire",
		Role: "supervisor", AllowedMethods: []string{methodListUsers, methodListCalls}}}})
	if _, ok := a.top().(*callsScreen); !ok {
		t.Errorf("supervisor starts on %T", a.top())
	}
}
