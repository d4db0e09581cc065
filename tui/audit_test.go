package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// fakeAudit serves n entries newest first, and a chain broken at entry 7
// when broken is set.
type fakeAudit struct {
	n      int
	broken bool
	asked  []string
}

func (f *fakeAudit) ListAuditEvents(_ context.Context, req client.AuditQuery) (*ecoutev1.ListAuditEventsResponse, error) {
	f.asked = append(f.asked, req.PageToken)
	start := 0
	if req.PageToken != "" {
		start, _ = strconv.Atoi(req.PageToken)
	}
	end := min(f.n, start+req.PageSize)
	resp := &ecoutev1.ListAuditEventsResponse{}
	for i := start; i < end; i++ {
		seq := int64(f.n - i)
		resp.Events = append(resp.Events, &ecoutev1.AuditEvent{
			Seq: seq, Time: timestamppb.New(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)),
			UserLogin: "claire", Role: "supervisor", Action: "call.view", Target: fmt.Sprintf("call-%03d", seq),
		})
	}
	if end < f.n {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (f *fakeAudit) VerifyAuditChain(context.Context) (*ecoutev1.VerifyAuditChainResponse, error) {
	if f.broken {
		return &ecoutev1.VerifyAuditChainResponse{BadSeq: 7, Reason: "hash mismatch"}, nil
	}
	return &ecoutev1.VerifyAuditChainResponse{Ok: true, Entries: int64(f.n), FirstSeq: 1, LastSeq: int64(f.n), KeyFingerprint: "ab12cd34"}, nil
}

// auditBackend is the fake backend with an audit service.
type auditBackend struct {
	*fakeBackend
	audit *fakeAudit
}

func (b auditBackend) ListAuditEvents(ctx context.Context, q client.AuditQuery) (*ecoutev1.ListAuditEventsResponse, error) {
	return b.audit.ListAuditEvents(ctx, q)
}

func (b auditBackend) VerifyAuditChain(ctx context.Context) (*ecoutev1.VerifyAuditChainResponse, error) {
	return b.audit.VerifyAuditChain(ctx)
}

func TestAuditScreen(t *testing.T) {
	fa := &fakeAudit{n: 450}
	b := auditBackend{fakeBackend: &fakeBackend{n: 5}, audit: fa}
	c := testCommon(t, b, allFields...)
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})

	// A role without the audit methods is told why.
	c.Principal.AllowedMethods = []string{methodListCalls}
	_, cmd := a.Update(press("A"))
	if msg := cmd(); msg == nil {
		t.Fatal("A did nothing for a role without the audit")
	} else if st, ok := msg.(StatusMsg); !ok || !strings.Contains(st.Text, "may not read the audit trail") {
		t.Fatalf("A for a supervisor: %#v", msg)
	}
	c.Principal.AllowedMethods = []string{methodListCalls, methodListAudit, methodVerifyAudit}
	_, cmd = a.Update(press("A"))
	_, cmd = a.Update(cmd())
	s, ok := a.top().(*auditScreen)
	if !ok {
		t.Fatalf("top screen %T", a.top())
	}
	a.Update(cmd())
	out := ansi.Strip(a.render())
	for _, want := range []string{"Audit trail", "450", "2026-11-23 09:00:00", "call.view", "call-450", "entry 1 of 200+ loaded"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit screen lacks %q:\n%s", want, out)
		}
	}
	// Near the end of what is loaded, the next page is fetched.
	var fetch tea.Cmd
	for range 200 {
		if _, c := a.Update(press("down")); c != nil {
			fetch = c
			break
		}
	}
	if fetch == nil {
		t.Fatal("no next page asked for")
	}
	a.Update(fetch())
	if len(s.list.rows) != 400 || fa.asked[1] != "200" {
		t.Errorf("%d rows after the second page, asked %v", len(s.list.rows), fa.asked)
	}
	// Verification, intact then broken.
	_, cmd = a.Update(press("v"))
	a.Update(cmd())
	if out := ansi.Strip(a.render()); !strings.Contains(out, "✓ chain intact: 450 entries") {
		t.Errorf("verification not shown:\n%s", out)
	}
	fa.broken = true
	_, cmd = a.Update(press("v"))
	a.Update(cmd())
	if out := ansi.Strip(a.render()); !strings.Contains(out, "✗ chain broken at entry #7: hash mismatch") {
		t.Errorf("broken chain not shown:\n%s", out)
	}
	// Narrow: the least useful columns go first, the action stays.
	a.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	out = ansi.Strip(a.render())
	for _, l := range strings.Split(out, "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Errorf("line wider than 60: %q", l)
		}
	}
	if !strings.Contains(out, "Action") || strings.Contains(out, "Role ") {
		t.Errorf("narrow audit columns:\n%s", out)
	}
}
