package tui

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// notesEvals answers ListEvaluations with the evaluations of the call asked
// for.
type notesEvals struct {
	mu     sync.Mutex
	byCall map[string][]*ecoutev1.Evaluation
	asked  []string
}

func (f *notesEvals) ListEvaluations(_ context.Context, q client.EvaluationQuery) ([]*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, q.CallID)
	return f.byCall[q.CallID], nil
}

type notesBackend struct {
	*fakeBackend
	*notesEvals
}

func notesFixture() *notesEvals {
	return &notesEvals{byCall: map[string][]*ecoutev1.Evaluation{
		"call-001": {{EvaluationId: "ev1", CallId: "call-001",
			Answers: []*ecoutev1.Answer{
				{CriterionId: "greet", Value: "yes", Comment: "[01:10] reformule la demande"},
				{CriterionId: "tone", Value: "3", Comment: "no pin here"},
			},
			Comment: "[00:42] le client hésite [02:30] bonne conclusion"}},
		"call-002": {{EvaluationId: "ev2", CallId: "call-002", Comment: "[00:05] autre appel"}},
	}}
}

// openNotesScreen opens call-001's screen and delivers the call, its track
// and its notes.
func openNotesScreen(t *testing.T, svc *notesEvals, methods ...string) (*callScreen, *fakeEngine) {
	t.Helper()
	c := testCommon(t, notesBackend{&fakeBackend{n: 5}, svc}, allFields...)
	c.Principal.AllowedMethods = methods
	eng := &fakeEngine{}
	c.Engine = eng
	s := newCallScreen(c, "call-001")
	s.SetSize(100, 30)
	drive(c, s, s.Init(), nil)
	if s.player.track == nil {
		t.Fatal("no track after opening the call")
	}
	return s, eng
}

var notesMethods = []string{methodGetCall, methodStreamAudio, methodListEvaluations, methodGetEvaluation}

func TestCallPanesTabCyclesFocus(t *testing.T) {
	s, _ := openNotesScreen(t, notesFixture(), notesMethods...)
	if s.focus != panePlayer {
		t.Fatalf("focus starts on pane %d", s.focus)
	}
	marked := func() string {
		out := ansi.Strip(s.View())
		switch {
		case strings.Contains(out, paneFocusMark+english.T(paneTitlePlayer)):
			return "player"
		case strings.Contains(out, paneFocusMark+"Notes"):
			return "notes"
		}
		return "none"
	}
	if got := marked(); got != "player" {
		t.Fatalf("marked pane %s, want player", got)
	}
	steps := []struct {
		key  tea.KeyPressMsg
		want int
		mark string
	}{
		{press("tab"), paneNotes, "notes"},
		{press("tab"), panePlayer, "player"},
		{tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}, paneNotes, "notes"},
		{tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}, panePlayer, "player"},
	}
	for i, st := range steps {
		s.Update(st.key)
		if s.focus != st.want || marked() != st.mark {
			t.Fatalf("step %d (%s): focus %d marked %s, want %d %s", i, st.key, s.focus, marked(), st.want, st.mark)
		}
	}
	// The bindings are declared with help text for the overlay.
	var descs []string
	for _, g := range s.Keys() {
		for _, b := range g.Keys {
			descs = append(descs, b.Help().Desc)
		}
	}
	for _, d := range []string{english.T(keyNextPane), english.T(keyPrevPane), english.T(keySeekNote)} {
		if !strings.Contains(strings.Join(descs, "|"), d) {
			t.Errorf("help lacks %q: %v", d, descs)
		}
	}
}

func TestCallNoteEnterSeeksPlayer(t *testing.T) {
	s, eng := openNotesScreen(t, notesFixture(), notesMethods...)
	want := []callNote{
		{42 * time.Second, "le client hésite"},
		{70 * time.Second, "reformule la demande"},
		{150 * time.Second, "bonne conclusion"},
	}
	if !reflect.DeepEqual(s.notes.notes, want) {
		t.Fatalf("notes %v, want %v", s.notes.notes, want)
	}
	out := ansi.Strip(s.View())
	if !strings.Contains(out, "1:10  reformule la demande") || !strings.Contains(out, "Notes (3)") {
		t.Fatalf("notes not shown:\n%s", out)
	}
	// j with the player pane focused does not move the notes.
	s.Update(press("j"))
	if s.notes.cursor != 0 {
		t.Fatalf("j moved the notes without the focus")
	}
	s.Update(press("tab"))
	s.Update(press("j"))
	s.Update(press("down"))
	s.Update(press("k"))
	if s.notes.cursor != 1 {
		t.Fatalf("cursor %d after j, down, k; want 1", s.notes.cursor)
	}
	cmd := s.Update(press("enter"))
	if cmd == nil {
		t.Fatal("enter on a note did nothing")
	}
	s.Update(answer(cmd))
	if got := eng.opened[0].Position(); got != 70*time.Second {
		t.Errorf("player at %v, want 1m10s", got)
	}
	// Space still drives the player while the notes have the focus.
	if cmd := s.Update(press("space")); cmd != nil {
		s.Update(answer(cmd))
	}
	if !eng.opened[0].Playing() {
		t.Error("space did not play with the notes focused")
	}
}

func TestCallNotesLateReplyDropped(t *testing.T) {
	svc := notesFixture()
	s, _ := openNotesScreen(t, svc, notesMethods...)
	before := append([]callNote(nil), s.notes.notes...)
	// Another call screen's answer goes to that screen, never this one.
	other := newCallScreen(s.c, "call-002")
	a := &App{c: s.c, stack: []Screen{s, other}}
	reply := other.fetchNotes()()
	if m := reply.(replyMsg).msg.(notesLoadedMsg); len(m.notes) != 1 {
		t.Fatalf("fixture: other call has %d notes", len(m.notes))
	}
	a.Update(reply)
	if !reflect.DeepEqual(s.notes.notes, before) {
		t.Fatalf("a reply for call-002 replaced the notes: %v", s.notes.notes)
	}
	if len(other.notes.notes) != 1 {
		t.Fatalf("the reply did not reach its own screen below the top: %v", other.notes.notes)
	}
	// An older request of this very screen, answered after a newer one.
	old := s.fetchNotes()
	newer := s.fetchNotes()
	svc.mu.Lock()
	svc.byCall["call-001"] = nil
	svc.mu.Unlock()
	a.Update(newer())
	if len(s.notes.notes) != 0 {
		t.Fatalf("the newest reply was not taken: %v", s.notes.notes)
	}
	if !strings.Contains(ansi.Strip(s.View()), english.T(notesEmpty)) {
		t.Errorf("an empty list does not say so:\n%s", ansi.Strip(s.View()))
	}
	svc.mu.Lock()
	svc.byCall["call-001"] = notesFixture().byCall["call-001"]
	svc.mu.Unlock()
	a.Update(old())
	if len(s.notes.notes) != 0 {
		t.Errorf("a superseded reply landed: %v", s.notes.notes)
	}
}

func TestCallNotesNeedTheRole(t *testing.T) {
	svc := notesFixture()
	s, _ := openNotesScreen(t, svc, methodGetCall, methodStreamAudio)
	if len(svc.asked) != 0 {
		t.Errorf("evaluations asked for without the right: %v", svc.asked)
	}
	if !strings.Contains(ansi.Strip(s.View()), "may not read the evaluations") {
		t.Errorf("the notes pane does not say why it is empty:\n%s", ansi.Strip(s.View()))
	}
}

func TestParsePins(t *testing.T) {
	tests := []struct {
		in   string
		want []callNote
	}{
		{"", []callNote{}},
		{"no pin", []callNote{}},
		{"[00:42] hésite", []callNote{{42 * time.Second, "hésite"}}},
		{"[7:05]court", []callNote{{7*time.Minute + 5*time.Second, "court"}}},
		{"[75:03] long call", []callNote{{75*time.Minute + 3*time.Second, "long call"}}},
		{"[1:02:03] an hour in", []callNote{{time.Hour + 2*time.Minute + 3*time.Second, "an hour in"}}},
		{"before [00:10] a  \n b [00:20] c", []callNote{{10 * time.Second, "a b"}, {20 * time.Second, "c"}}},
		{"[00:99] bad seconds [1:75:00] bad minutes", []callNote{}},
		{"[00:05]", []callNote{{5 * time.Second, ""}}},
		{"[ab:cd] [1:2] text", []callNote{}},
	}
	for _, tt := range tests {
		if got := parsePins(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePins(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestCallNotesRefreshAfterEvaluation: pins added on the evaluation screen
// appear when the call screen is back on top.
func TestCallNotesRefreshAfterEvaluation(t *testing.T) {
	svc := notesFixture()
	s, _ := openNotesScreen(t, svc, notesMethods...)
	cmd := s.Update(press("e"))
	if _, ok := cmd().(OpenEvaluationMsg); !ok || !s.notes.stale {
		t.Fatalf("e did not open the evaluation (stale %v)", s.notes.stale)
	}
	svc.mu.Lock()
	ev := svc.byCall["call-001"][0]
	ev.Comment += " [03:00] ajoutée"
	svc.mu.Unlock()
	s.Update(press("tab"))
	// Back on top: the screen asks for the notes again.
	cmd = s.Revealed()
	if cmd == nil {
		t.Fatal("no refresh after the evaluation screen")
	}
	drive(s.c, s, cmd, nil)
	if n := len(s.notes.notes); n != 4 || s.notes.notes[3].text != "ajoutée" || s.focus != paneNotes {
		t.Fatalf("after refresh: %v (focus %d)", s.notes.notes, s.focus)
	}
}
