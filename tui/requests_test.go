package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// registerBackend is the fake backend with the dpo's register: one overdue
// request, one just received, and a closed one.
type registerBackend struct {
	*fakeBackend
	asked []bool
}

func (b *registerBackend) ListPrivacyRequests(_ context.Context, all bool) ([]*ecoutev1.PrivacyRequest, error) {
	b.asked = append(b.asked, all)
	day := func(d int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).AddDate(0, 0, d))
	}
	rs := []*ecoutev1.PrivacyRequest{
		{PrivacyRequestId: "r1", Kind: "access", ReceivedAt: day(-40), Channel: "email", CustomerPhoneE164: "+33612345678",
			Requester: "Jeanne Martin", DueAt: day(-10), DaysLeft: -12, Overdue: true, Status: "open"},
		{PrivacyRequestId: "r2", Kind: "rectification", ReceivedAt: day(0), Channel: "letter", AgentId: "agent-01",
			DueAt: day(30), DaysLeft: 29, Status: "open"},
	}
	if all {
		rs = append(rs, &ecoutev1.PrivacyRequest{PrivacyRequestId: "r3", Kind: "objection", ReceivedAt: day(-5),
			Channel: "phone", CustomerPhoneE164: "+33600000000", DueAt: day(25), Status: "closed", ClosedAt: day(-1)})
	}
	return rs, nil
}

func TestRequestsScreen(t *testing.T) {
	b := &registerBackend{fakeBackend: &fakeBackend{n: 5}}
	c := testCommon(t, b, allFields...)
	a := &App{c: c}
	a.stack = []Screen{newAccountsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 20})

	// A role that does not keep the register is told why.
	c.Principal.AllowedMethods = []string{methodListUsers}
	_, cmd := a.Update(press("R"))
	if msg := cmd(); msg == nil {
		t.Fatal("R did nothing for a role without the register")
	} else if st, ok := msg.(StatusMsg); !ok || !strings.Contains(st.Text, "does not keep the register") {
		t.Fatalf("R for an admin: %#v", msg)
	}
	c.Principal.AllowedMethods = []string{methodListUsers, methodListPrivacyRequests}
	_, cmd = a.Update(press("R"))
	_, cmd = a.Update(cmd())
	if _, ok := a.top().(*requestsScreen); !ok {
		t.Fatalf("top screen %T", a.top())
	}
	a.Update(cmd())
	out := ansi.Strip(a.render())
	for _, want := range []string{english.T(requestsTitle), "2 open, 1 overdue", "OVERDUE by 12 days", "29 days left",
		"Jeanne Martin", "+33612345678", "agent-01", "2026-10-22"} {
		if !strings.Contains(out, want) {
			t.Errorf("register lacks %q:\n%s", want, out)
		}
	}
	// Soonest due first, as the server sends them.
	if strings.Index(out, "OVERDUE") > strings.Index(out, "days left") {
		t.Errorf("order:\n%s", out)
	}
	_, cmd = a.Update(press("c"))
	a.Update(cmd())
	out = ansi.Strip(a.render())
	if len(b.asked) != 2 || !b.asked[1] || !strings.Contains(out, "closed 2026-10-31") ||
		!strings.Contains(out, "3 requests, 2 open, 1 overdue") {
		t.Errorf("with the closed ones (asked %v):\n%s", b.asked, out)
	}
}
