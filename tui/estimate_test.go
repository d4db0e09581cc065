package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/ecoute/ecoute/internal/i18n"
)

// TestCallsFooterSaysWhenTheTotalIsAnEstimate: a total the server
// estimated is shown as such ("about"), in both languages, and the exact
// count of a later page replaces it.
func TestCallsFooterSaysWhenTheTotalIsAnEstimate(t *testing.T) {
	n := 3 * callsPageSize
	b := &fakeBackend{n: n, estimate: true}
	c := testCommon(t, b, allFields...)
	s := newCallsScreen(c)
	s.SetSize(100, 20)
	s.Update(answer(s.Init()))
	out := ansi.Strip(s.View())
	if want := english.T(callsPositionAbout, 1, callsPageSize, n*3/2); !strings.Contains(out, want) {
		t.Fatalf("first page footer does not say %q:\n%s", want, out)
	}
	if fr := i18n.New(i18n.French).T(callsPositionAbout, 1, callsPageSize, n*3/2); !strings.Contains(fr, "environ") {
		t.Errorf("French footer %q does not say the total is an estimate", fr)
	}
	// Down to the prefetch point: the next page brings the exact count.
	for range callsPageSize - callsPrefetch {
		if cmd := s.Update(press("down")); cmd != nil {
			s.Update(answer(cmd))
		}
	}
	out = ansi.Strip(s.View())
	if want := fmt.Sprintf("%d in all", n); !strings.Contains(out, want) || strings.Contains(out, "about") {
		t.Errorf("after the second page the footer does not say %q:\n%s", want, out)
	}
}
