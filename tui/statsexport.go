package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
)

// exportPrompt asks for the age recipient and the format of an export of
// a dashboard or a table, runs it (the server encrypts: nothing leaves it
// in clear, R9) and shows its progress. The file is written in the
// current directory as ecoute-KIND-DATE.FORMAT.age.
type exportPrompt struct {
	c        *Common
	screen   int
	kind     string
	req      *ecoutev1.ExportStatsRequest
	input    textinput.Model
	json     bool
	running  bool
	progress atomic.Pointer[client.ExportProgress]
	bar      progress.Model
	err      string
}

type (
	exportTickMsg struct{}
	exportDoneMsg struct {
		path string
		p    client.ExportProgress
		err  error
	}
)

func newExportPrompt(c *Common, screen int, kind string, req *ecoutev1.ExportStatsRequest) *exportPrompt {
	e := &exportPrompt{c: c, screen: screen, kind: kind, req: req}
	e.input = textinput.New()
	e.input.Prompt = c.T(exportRecipient)
	e.input.Placeholder = "age1…"
	e.input.CharLimit = 4096
	e.input.SetStyles(c.Styles.TextInput)
	e.bar = progress.New(progress.WithColors(c.Styles.ProgressFull), progress.WithoutPercentage(),
		progress.WithFillCharacters('━', '─'))
	e.bar.EmptyColor = c.Styles.ProgressEmpty
	return e
}

func (e *exportPrompt) init() tea.Cmd { return e.input.Focus() }

func (e *exportPrompt) typing() bool { return !e.running }

func (e *exportPrompt) format() string {
	if e.json {
		return "json"
	}
	return "csv"
}

// update handles msg if it is the prompt's (handled); done closes the
// prompt. While the recipient is typed, every key is the prompt's.
func (e *exportPrompt) update(msg tea.Msg) (cmd tea.Cmd, handled, done bool) {
	switch msg := msg.(type) {
	case exportTickMsg:
		if e.running {
			return e.c.after(e.screen, "exportTick", 100*time.Millisecond, exportTickMsg{}), true, false
		}
		return nil, true, false
	case exportDoneMsg:
		e.running = false
		if msg.err != nil {
			e.err = e.c.explain(msg.err)
			return cmdOf(StatusMsg{Text: e.err, Level: LevelError}), true, true
		}
		return cmdOf(StatusMsg{Text: e.c.T(exportDone, msg.p.Rows, msg.path), Level: LevelInfo}), true, true
	case tea.KeyPressMsg:
		if e.running {
			return nil, true, false
		}
		switch msg.String() {
		case "esc":
			return nil, true, true
		case "tab":
			e.json = !e.json
			return nil, true, false
		case "enter":
			return e.start(), true, false
		}
		var c tea.Cmd
		e.input, c = e.input.Update(msg)
		return c, true, false
	}
	return nil, false, false
}

// exportKind names the data exported.
func exportKind(kind string) i18n.Key {
	switch kind {
	case "activity":
		return exportKindActivity
	case "client":
		return exportKindClient
	}
	return exportKindQuality
}

func (e *exportPrompt) start() tea.Cmd {
	e.running, e.err = true, ""
	e.req.Recipient = e.input.Value()
	e.req.Format = ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_CSV
	if e.json {
		e.req.Format = ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_JSON
	}
	name := fmt.Sprintf("ecoute-%s-%s.%s.age", e.kind, e.c.now().UTC().Format("20060102-150405"), e.format())
	b, req, prog := e.c.Backend, e.req, &e.progress
	run := e.c.request(e.screen, "export", func(ctx context.Context) (tea.Msg, error) {
		path, err := filepath.Abs(name)
		if err != nil {
			return exportDoneMsg{err: err}, nil
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return exportDoneMsg{err: err}, nil
		}
		p, err := b.ExportStats(ctx, req, f, func(p client.ExportProgress) { prog.Store(&p) })
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path) // a broken export leaves no half file
			return exportDoneMsg{err: err}, err
		}
		return exportDoneMsg{path: path, p: p}, nil
	})
	return tea.Batch(run, e.c.after(e.screen, "exportTick", 100*time.Millisecond, exportTickMsg{}))
}

func (e *exportPrompt) view(w int) []string {
	st := e.c.Styles
	title := e.c.T(exportTitle, e.c.T(exportKind(e.kind)), e.format())
	if !e.running {
		return []string{st.Focused.Render(ansi.Truncate(title+" · "+e.c.T(exportHint), w, "…")),
			ansi.Truncate(e.input.View(), w, "…"), ""}
	}
	p := e.progress.Load()
	frac, text := 0.0, e.c.T(exportWaiting)
	if p != nil && p.Total > 0 {
		frac = float64(p.Sent) / float64(p.Total)
		text = e.c.T(exportProgress, p.Sent/1024+1, p.Total/1024+1, p.Rows)
	}
	e.bar.SetWidth(max(10, w))
	return []string{st.Focused.Render(ansi.Truncate(title, w, "…")), e.bar.ViewAs(frac), st.Subtle.Render(text)}
}
