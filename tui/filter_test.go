package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

func testDir() directory {
	d := directory{}
	d.learn([]*ecoutev1.Call{
		{AgentId: "a1", AgentName: "Marie Girard", TeamId: "t1", TeamName: "banque", CampaignId: "c1", CampaignName: "azur"},
		{AgentId: "a2", AgentName: "Paul Girard", TeamId: "t2", TeamName: "énergie", CampaignId: "c1", CampaignName: "azur"},
		{AgentId: "a3", AgentName: "Lucie Martin", TeamId: "t1", TeamName: "banque"},
	})
	return d
}

func seesAll(string) bool { return true }

func TestParseFilter(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	dir := testDir()
	f, err := parseFilter(english, `agent:girard team:banque campaign:azur from:2026-11-01 to:2026-11-20 evaluated:no min:1m max:5:30`, dir, paris, seesAll)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetAgentIds(); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("agent ids %v: a part of a name matches every Girard", got)
	}
	if !slices.Equal(f.GetTeamIds(), []string{"t1"}) || !slices.Equal(f.GetCampaignIds(), []string{"c1"}) {
		t.Errorf("team %v campaign %v", f.GetTeamIds(), f.GetCampaignIds())
	}
	if got := f.GetStartedAfter().AsTime(); !got.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, paris)) {
		t.Errorf("from = %v", got)
	}
	if got := f.GetStartedBefore().AsTime(); !got.Equal(time.Date(2026, 11, 21, 0, 0, 0, 0, paris)) {
		t.Errorf("to = %v, want the end of 2026-11-20 (the day is included)", got)
	}
	if f.GetEvaluated() != ecoutev1.EvaluatedFilter_EVALUATED_FILTER_NO || f.GetMinDuration().AsDuration() != time.Minute || f.GetMaxDuration().AsDuration() != 5*time.Minute+30*time.Second {
		t.Errorf("evaluated %v min %v max %v", f.GetEvaluated(), f.GetMinDuration().AsDuration(), f.GetMaxDuration().AsDuration())
	}
	exact, err := parseFilter(english, `agent:"marie girard"`, dir, time.UTC, seesAll)
	if err != nil || !slices.Equal(exact.GetAgentIds(), []string{"a1"}) {
		t.Errorf("quoted exact name: %v, %v", exact.GetAgentIds(), err)
	}

	bad := []struct{ text, want string }{
		{"from:01/11/2026", "YYYY-MM-DD"},
		{"to:2026-11-31", "YYYY-MM-DD"},
		{"from:2026-11-20 to:2026-11-01", "after"},
		{"agent:Dupont", `no "Dupont"`},
		{"girard", "key:value"},
		{"colour:red", "unknown filter"},
		{"evaluated:maybe", "yes or no"},
		{"min:5", "not a duration"},
		{"min:5m max:1m", "longer"},
		{"agent:", "needs a value"},
	}
	for _, tc := range bad {
		if _, err := parseFilter(english, tc.text, dir, time.UTC, seesAll); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFilter(english, %q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
	noAgents := func(f string) bool { return f != "call.agent_id" }
	if _, err := parseFilter(english, "agent:Girard", dir, time.UTC, noAgents); err == nil || !strings.Contains(err.Error(), "may not filter by agent") {
		t.Errorf("a role that may not see agents filtered by agent: %v", err)
	}
}

func TestCompleteFilter(t *testing.T) {
	dir := testDir()
	cases := []struct {
		in, want string
		cands    []string
	}{
		{"ag", "agent:", nil},
		{"agent:Mar", `agent:"Marie Girard" `, nil},
		{"agent:mart", `agent:"Lucie Martin" `, nil}, // a word of the name
		{"agent:gir", "agent:gir", []string{"Marie Girard", "Paul Girard"}},
		{"team:b", "team:banque ", nil},
		{"from:2026-11-01 team:é", "from:2026-11-01 team:énergie ", nil},
		{"evaluated:y", "evaluated:yes ", nil},
		{"m", "m", []string{"min:", "max:"}},
	}
	for _, tc := range cases {
		got := complete(tc.in, dir, seesAll)
		if got.text != tc.want || !slices.Equal(got.candidates, tc.cands) {
			t.Errorf("complete(%q) = %q %v, want %q %v", tc.in, got.text, got.candidates, tc.want, tc.cands)
		}
	}
	if got := complete("ag", dir, func(f string) bool { return f != "call.agent_id" }); got.text != "ag" {
		t.Errorf("completed a key the role may not use: %q", got.text)
	}
}

// TestCallsFilterPrompt: / opens the prompt, a bad date keeps what was
// typed and says why, tab completes a name seen in the list, enter sends
// the filter to the server and reloads from the first page; s and S change
// order_by.
func TestCallsFilterPrompt(t *testing.T) {
	b := &fakeBackend{n: 30}
	c := testCommon(t, b, append([]string{"call.agent_id", "call.team_id"}, allFields...)...)
	s := newCallsScreen(c)
	s.SetSize(100, 20)
	s.Update(answer(s.Init()))

	s.Update(press("/"))
	if !s.Typing() {
		t.Fatal("/ did not open the prompt")
	}
	typeText(s, "from:23/11/2026")
	if cmd := s.Update(press("enter")); cmd != nil {
		t.Error("an invalid filter was sent")
	}
	out := ansi.Strip(s.View())
	if !strings.Contains(out, "YYYY-MM-DD") || s.input.Value() != "from:23/11/2026" || !s.filtering {
		t.Errorf("bad date: prompt %q open %v:\n%s", s.input.Value(), s.filtering, out)
	}
	s.input.SetValue("agent:Agent")
	s.Update(press("tab"))
	if len(s.candidates) != 7 {
		t.Errorf("candidates %v, want the 7 agents loaded", s.candidates)
	}
	typeText(s, "3") // the common prefix "Agent " was filled in
	s.Update(press("tab"))
	if got := s.input.Value(); got != `agent:"Agent 3" ` {
		t.Errorf("completed to %q", got)
	}
	cmd := s.Update(press("enter"))
	if cmd == nil || s.filtering {
		t.Fatalf("a valid filter did not reload: %q", s.filterErr)
	}
	s.Update(answer(cmd))
	last := b.reqs[len(b.reqs)-1]
	if !slices.Equal(last.Filter.GetAgentIds(), []string{"ag-3"}) || last.PageToken != "" {
		t.Errorf("request filter %v token %q", last.Filter, last.PageToken)
	}
	if !strings.Contains(ansi.Strip(s.View()), `filter agent:"Agent 3"`) {
		t.Errorf("applied filter not shown:\n%s", ansi.Strip(s.View()))
	}

	s.Update(answer(s.Update(press("s"))))
	if got := b.reqs[len(b.reqs)-1].OrderBy; got != "duration desc" {
		t.Errorf("s: order_by %q, want duration desc", got)
	}
	cmd = s.Update(press("s"))
	s.Update(answer(cmd))
	if got := b.reqs[len(b.reqs)-1].OrderBy; got != "agent_name" {
		t.Errorf("s twice: order_by %q, want agent_name", got)
	}
	cmd = s.Update(press("S"))
	s.Update(answer(cmd))
	if got := b.reqs[len(b.reqs)-1]; got.OrderBy != "agent_name desc" || got.Filter == nil {
		t.Errorf("S: order_by %q filter %v; the filter must survive a sort", got.OrderBy, got.Filter)
	}
}

// TestColumnsDropByPriority: a narrow terminal gives up campaign, then
// team, then the evaluated mark; the date stays.
func TestColumnsDropByPriority(t *testing.T) {
	c := testCommon(t, &fakeBackend{n: 3}, allFields...)
	s := newCallsScreen(c)
	s.Update(answer(s.Init()))
	header := func(w int) string {
		s.SetSize(w, 10)
		return strings.Split(ansi.Strip(s.View()), "\n")[1]
	}
	if h := header(120); !strings.Contains(h, english.T(colCampaign)) || !strings.Contains(h, english.T(colTeam)) {
		t.Errorf("120 columns: %q", h)
	}
	h := header(70)
	if strings.Contains(h, english.T(colCampaign)) || !strings.Contains(h, english.T(colTeam)) || !strings.Contains(h, english.T(colAgent)) {
		t.Errorf("70 columns: %q, want campaign dropped first", h)
	}
	h = header(40)
	if strings.Contains(h, english.T(colTeam)) || strings.Contains(h, english.T(colEvaluated)) || !strings.Contains(h, english.T(colDate)) || !strings.Contains(h, english.T(colAgent)) {
		t.Errorf("40 columns: %q", h)
	}
	for _, w := range []int{120, 70, 40, 24} {
		for _, line := range strings.Split(ansi.Strip(func() string { s.SetSize(w, 10); return s.View() }()), "\n") {
			if lipgloss.Width(line) > w {
				t.Errorf("width %d: line of %d cells: %q", w, lipgloss.Width(line), line)
			}
		}
	}
}
