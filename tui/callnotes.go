package tui

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// A note is a pin the evaluation screen's `n` key writes into a comment,
// "[mm:ss] text" (minutes may pass 59) or "[h:mm:ss] text", followed by
// what the evaluator typed up to the next pin.

// callNote is one pinned note of a call.
type callNote struct {
	at   time.Duration
	text string
}

// pinRE matches "[m:ss]", "[mm:ss]", "[mmm:ss]" and "[h:mm:ss]".
var pinRE = regexp.MustCompile(`\[(\d{1,3}):(\d{2})(?::(\d{2}))?\]`)

// parsePins returns the notes pinned in one comment, in text order. A
// bracket that is not a valid time (seconds past 59) is left in the text.
func parsePins(comment string) []callNote {
	type pin struct {
		at         time.Duration
		start, end int
	}
	var pins []pin
	for _, m := range pinRE.FindAllStringSubmatchIndex(comment, -1) {
		num := func(g int) int {
			n, _ := strconv.Atoi(comment[m[2*g]:m[2*g+1]])
			return n
		}
		var h, mi, s int
		if m[6] >= 0 {
			h, mi, s = num(1), num(2), num(3)
			if mi > 59 {
				continue
			}
		} else {
			mi, s = num(1), num(2)
		}
		if s > 59 {
			continue
		}
		at := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second
		pins = append(pins, pin{at: at, start: m[0], end: m[1]})
	}
	out := make([]callNote, 0, len(pins))
	for i, p := range pins {
		end := len(comment)
		if i+1 < len(pins) {
			end = pins[i+1].start
		}
		text := strings.Join(strings.Fields(comment[p.end:end]), " ")
		out = append(out, callNote{at: p.at, text: text})
	}
	return out
}

// notesOf gathers the pins of every criterion and overall comment of the
// evaluations, sorted by time (ties keep their order).
func notesOf(evs []*ecoutev1.Evaluation) []callNote {
	var out []callNote
	for _, ev := range evs {
		for _, a := range ev.GetAnswers() {
			out = append(out, parsePins(a.GetComment())...)
		}
		out = append(out, parsePins(ev.GetComment())...)
	}
	slices.SortStableFunc(out, func(a, b callNote) int { return int(a.at - b.at) })
	return out
}

// notesLoadedMsg answers the call screen's notes request.
type notesLoadedMsg struct {
	notes []callNote
	err   error
}

// notesPane is the call screen's list of pinned notes.
type notesPane struct {
	notes  []callNote
	cursor int
	state  string // shown instead of the list (loading, not allowed); "" when loaded
	err    string
	// stale: the evaluation screen was opened and may have added pins.
	stale bool
}

// fetchNotes lists the call's evaluations in a Cmd, or says why not.
func (s *callScreen) fetchNotes() tea.Cmd {
	n := &s.notes
	if !s.c.May(methodListEvaluations) {
		n.state = s.c.T(notesNotAllowed, s.c.role())
		return nil
	}
	if n.notes == nil {
		n.state = s.c.T(notesLoading)
	}
	callID, b := s.callID, s.c.Backend
	return s.c.request(s.id, "notes", func(ctx context.Context) (tea.Msg, error) {
		l, err := b.ListEvaluations(ctx, client.EvaluationQuery{CallID: callID})
		if err != nil {
			return notesLoadedMsg{err: err}, err
		}
		return notesLoadedMsg{notes: notesOf(l)}, nil
	})
}

// notesLoaded takes an answer meant for this screen's latest request.
func (s *callScreen) notesLoaded(msg notesLoadedMsg) {
	n := &s.notes
	if msg.err != nil {
		n.err = s.c.explain(msg.err)
		if n.notes == nil {
			n.state = ""
		}
		return
	}
	n.err, n.state, n.notes = "", "", msg.notes
	n.cursor = max(0, min(n.cursor, len(n.notes)-1))
}

// notesKey handles a key while the notes pane has the focus.
func (s *callScreen) notesKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	n, k := &s.notes, s.keys
	switch {
	case on(msg, k.NoteUp):
		n.cursor = max(0, n.cursor-1)
	case on(msg, k.NoteDown):
		n.cursor = max(0, min(len(n.notes)-1, n.cursor+1))
	case on(msg, k.SeekNote):
		if n.cursor >= len(n.notes) || s.player.track == nil {
			return nil, true
		}
		return s.player.seekTo(n.notes[n.cursor].at), true
	default:
		return nil, false
	}
	return nil, true
}

// notesView draws the pane's rows, at most rows of them, keeping the
// cursor in view; width bounds every line.
func (s *callScreen) notesView(rows, width int) []string {
	st, n := s.c.Styles, &s.notes
	var out []string
	if n.err != "" {
		out = append(out, st.Error.Render(ansi.Truncate(s.c.T(notesErrFmt, n.err), width, "…")))
	}
	switch {
	case n.state != "":
		return append(out, st.Subtle.Render(ansi.Truncate(n.state, width, "…")))
	case len(n.notes) == 0 && n.err == "":
		return append(out, st.Subtle.Render(s.c.T(notesEmpty)))
	}
	rows = max(1, rows-len(out))
	first := max(0, min(n.cursor-rows+1, len(n.notes)-rows))
	first = min(first, n.cursor)
	tw := 0
	for _, note := range n.notes {
		tw = max(tw, len(fmtClock(note.at)))
	}
	for i := first; i < min(len(n.notes), first+rows); i++ {
		note := n.notes[i]
		line := fmt.Sprintf("%*s  %s", tw, fmtClock(note.at), note.text)
		line = ansi.Truncate(line, width, "…")
		switch {
		case i == n.cursor && s.focus == paneNotes:
			line += strings.Repeat(" ", max(0, width-ansi.StringWidth(line)))
			out = append(out, st.TableSelected.Render(line))
		case i == n.cursor:
			out = append(out, st.Value.Render(line))
		default:
			out = append(out, st.Text.Render(line))
		}
	}
	return out
}
