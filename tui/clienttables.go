package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/i18n"
)

// The client role's home (R8: statistics only, never an agent's
// performance): its company's fixed monthly table, by team and campaign,
// with totals. Hidden cells show why, from a legend; nothing here can be
// filtered, only the month and the figure shown chosen.

type clientTablesMsg struct {
	resp *ecoutev1.ClientTablesResponse
	err  error
}

// The figures a cell can show.
const (
	measureScore = iota
	measureHandled
	measureLost
	measureTalk
	measureCount
)

type clientKeys struct {
	Older, Newer, Measure, Export, Reload Binding
}

type clientTablesScreen struct {
	c       *Common
	id      int
	keys    clientKeys
	resp    *ecoutev1.ClientTablesResponse
	month   *ecoutev1.ClientTablesRequest // the month asked for; nil is the latest
	measure int
	err     string
	loading bool
	export  *exportPrompt
	width   int
	height  int
}

func newClientTablesScreen(c *Common) *clientTablesScreen {
	tr := c.printer()
	s := &clientTablesScreen{c: c, id: c.NextSeq(), keys: clientKeys{
		Older:   bind(tr, true, "←", c.T(keyClientOlder), "left", "h"),
		Newer:   bind(tr, true, "→", c.T(keyClientNewer), "right", "l"),
		Measure: bind(tr, true, "m", c.T(keyClientMeasure), "m"),
		Export:  bind(tr, true, "x", c.T(keyStatsExport), "x"),
		Reload:  bind(tr, false, "r", c.T(keyReload), "r", "ctrl+r"),
	}}
	if !c.May(methodExportStats) {
		s.keys.Export.disable(c.T(reasonNoExport, c.role()))
	}
	return s
}

func (s *clientTablesScreen) ID() int          { return s.id }
func (s *clientTablesScreen) Title() string    { return s.c.T(clientTitle) }
func (s *clientTablesScreen) SetSize(w, h int) { s.width, s.height = w, h }
func (s *clientTablesScreen) Init() tea.Cmd    { return s.fetch() }
func (s *clientTablesScreen) Typing() bool     { return s.export != nil && s.export.typing() }

func (s *clientTablesScreen) fetch() tea.Cmd {
	s.loading, s.err = true, ""
	b, req := s.c.Backend, &ecoutev1.ClientTablesRequest{}
	if s.month != nil {
		req.Month = s.month.Month
	}
	return s.c.request(s.id, "table", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.ClientTables(ctx, req)
		return clientTablesMsg{resp: resp, err: err}, err
	})
}

// step moves to an older (+1) or newer (-1) month among those offered.
func (s *clientTablesScreen) step(d int) tea.Cmd {
	months := s.resp.GetMonths()
	cur := s.resp.GetMonth().AsTime()
	for i, m := range months {
		if m.AsTime().Equal(cur) && i+d >= 0 && i+d < len(months) {
			s.month = &ecoutev1.ClientTablesRequest{Month: months[i+d]}
			return s.fetch()
		}
	}
	return nil
}

func (s *clientTablesScreen) Update(msg tea.Msg) tea.Cmd {
	if s.export != nil {
		if cmd, handled, done := s.export.update(msg); handled {
			if done {
				s.export = nil
			}
			return cmd
		}
	}
	switch msg := msg.(type) {
	case clientTablesMsg:
		s.loading = false
		if msg.err != nil {
			s.err = s.c.explain(msg.err)
			return nil
		}
		s.resp = msg.resp
	case tea.KeyPressMsg:
		k := s.keys
		switch {
		case on(msg, k.Older):
			return s.step(1)
		case on(msg, k.Newer):
			return s.step(-1)
		case on(msg, k.Measure):
			s.measure = (s.measure + 1) % measureCount
		case on(msg, k.Reload):
			return s.fetch()
		case on(msg, k.Export):
			req := &ecoutev1.ClientTablesRequest{Month: s.resp.GetMonth()}
			s.export = newExportPrompt(s.c, s.id, "client", &ecoutev1.ExportStatsRequest{
				Data: &ecoutev1.ExportStatsRequest_Client{Client: req}})
			return s.export.init()
		case k.Export.is(msg):
			return cmdOf(StatusMsg{Text: k.Export.Reason, Level: LevelWarn})
		}
	}
	return nil
}

func (s *clientTablesScreen) measureName() string {
	return s.c.T([]i18n.Key{clientMeasureScore, clientMeasureHandled, clientMeasureLost, clientMeasureTalk}[s.measure])
}

// hiddenMark is a hidden cell's sign: the letter of its reason.
func hiddenMark(r ecoutev1.Suppression) string {
	switch r {
	case ecoutev1.Suppression_SUPPRESSION_FEW_AGENTS:
		return "▒ A"
	case ecoutev1.Suppression_SUPPRESSION_FEW_EVALUATIONS:
		return "▒ E"
	case ecoutev1.Suppression_SUPPRESSION_DOMINANCE:
		return "▒ D"
	}
	return "▒ C"
}

func (s *clientTablesScreen) cellText(c *ecoutev1.ClientCell) string {
	if c == nil {
		return "·"
	}
	if c.Suppression != ecoutev1.Suppression_SUPPRESSION_UNSPECIFIED {
		return hiddenMark(c.Suppression)
	}
	f, p := c.Figure, s.c.printer()
	if f.GetAgents() == 0 {
		return "·"
	}
	switch s.measure {
	case measureHandled:
		return p.Decimal(float64(f.GetCallsHandled()), 0)
	case measureLost:
		return p.Decimal(float64(f.GetCallsLost()), 0)
	case measureTalk:
		return fmtClock(f.GetMeanTalkTime().AsDuration())
	}
	if f.GetEvaluations() == 0 {
		return "·"
	}
	return fmt.Sprintf("%s (%d)", p.Percent(f.GetMeanScore()), f.GetEvaluations())
}

func (s *clientTablesScreen) View() string {
	st, w, h := s.c.Styles, s.width, s.height
	var lines []string
	switch {
	case s.err != "":
		lines = append(lines, st.Error.Render(ansi.Wordwrap(s.err, w, "")))
	case s.resp == nil:
		lines = append(lines, st.Subtle.Render(s.c.T(listLoading)))
	default:
		lines = s.table(w)
	}
	if s.export != nil {
		lines = append(lines[:min(len(lines), max(0, h-3))], s.export.view(w)...)
	}
	return fitLines(lines, w, h)
}

func (s *clientTablesScreen) table(w int) []string {
	st, r := s.c.Styles, s.resp
	month := r.GetMonth().AsTime()
	head := s.c.T(clientHead, r.GetCompany(), s.c.T(i18n.Key(fmt.Sprintf("month.%d", int(month.Month()))))+" "+
		fmt.Sprint(month.Year()), s.measureName())
	lines := []string{st.Title.Render(ansi.Truncate(head, w, "…"))}
	if r.GetComputedAt() != nil {
		lines = append(lines, st.Muted.Render(ansi.Truncate(s.c.T(clientComputed,
			s.c.printer().DayTime(r.GetComputedAt().AsTime().In(s.c.loc()))), w, "…")))
	}
	// Teams and campaigns in the server's order; totals last.
	var teams, camps []string
	names := map[string]string{}
	cells := map[[2]string]*ecoutev1.ClientCell{}
	for _, c := range r.Cells {
		cells[[2]string{c.TeamId, c.CampaignId}] = c
		if c.TeamId != "" && names["t:"+c.TeamId] == "" {
			teams, names["t:"+c.TeamId] = append(teams, c.TeamId), c.TeamName
		}
		if c.CampaignId != "" && names["c:"+c.CampaignId] == "" {
			camps, names["c:"+c.CampaignId] = append(camps, c.CampaignId), c.CampaignName
		}
	}
	if len(r.Cells) == 0 {
		return append(lines, "", st.Subtle.Render(ansi.Wordwrap(s.c.T(clientEmpty), w, "")))
	}
	firstW := min(24, max(12, w/4))
	colW := max(10, min(22, (w-firstW)/(len(camps)+1)))
	row := func(label string, ids []string, team string, style func(string) string) string {
		var b strings.Builder
		b.WriteString(style(pad(label, firstW)))
		for _, id := range append(ids, "") {
			b.WriteString(" " + padLeft(s.cellText(cells[[2]string{team, id}]), colW-1))
		}
		return b.String()
	}
	var hb strings.Builder
	hb.WriteString(pad(s.c.T(clientColTeam), firstW))
	for _, id := range camps {
		hb.WriteString(" " + padLeft(names["c:"+id], colW-1))
	}
	hb.WriteString(" " + padLeft(s.c.T(clientTotal), colW-1))
	lines = append(lines, "", st.TableHeader.Render(ansi.Truncate(hb.String(), w, "…")))
	for _, t := range teams {
		lines = append(lines, row(names["t:"+t], camps, t, func(x string) string { return st.Text.Render(x) }))
	}
	lines = append(lines, row(s.c.T(clientTotal), camps, "", func(x string) string { return st.Label.Render(x) }))
	lines = append(lines, "", st.Muted.Render(ansi.Wordwrap(s.c.T(clientLegend), w, "")))
	var older, newer string
	months := r.GetMonths()
	for i, m := range months {
		if m.AsTime().Equal(month) {
			if i+1 < len(months) {
				older = months[i+1].AsTime().Format("2006-01")
			}
			if i > 0 {
				newer = months[i-1].AsTime().Format("2006-01")
			}
		}
	}
	if older != "" || newer != "" {
		lines = append(lines, st.Subtle.Render(ansi.Truncate(s.c.T(clientMonths, dash(older), dash(newer)), w, "…")))
	}
	return lines
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (s *clientTablesScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(helpGroupStats), Keys: []Binding{k.Older, k.Newer, k.Measure, k.Export, k.Reload}}}
}
