package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/tui/evalform"
)

// The evaluation screen's drawing: header, grid, options, flagged spans.

// statusText is an evaluation status in words.
func (c *Common) statusText(st ecoutev1.EvaluationStatus) string {
	switch st {
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT:
		return c.T(evalStatusDraft)
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:
		return c.T(evalStatusSubmitted)
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED:
		return c.T(evalStatusAcknowledged)
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:
		return c.T(evalStatusDisputed)
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED:
		return c.T(evalStatusResolved)
	}
	return ""
}

// categoryText is an R13 category in words (the server's code when the
// catalogue lacks it).
func (c *Common) categoryText(cat string) string {
	k := i18n.Key("category." + cat)
	if i18n.Has(c.printer().Lang(), k) {
		return c.T(k)
	}
	return cat
}

// totalText is "87.5 %", the critical flag in words, or "—".
func (c *Common) totalText(sc *ecoutev1.Score) string { return c.total(sc, c.T(evalCriticalMark)) }

// totalShort is totalText for a table cell: "0.0 % ⚠".
func (c *Common) totalShort(sc *ecoutev1.Score) string { return c.total(sc, "⚠") }

func (c *Common) total(sc *ecoutev1.Score, critical string) string {
	if sc == nil || !sc.GetHasTotal() {
		return "—"
	}
	t := c.printer().Percent(sc.GetTotal())
	if sc.GetCriticalFailed() {
		t += " " + critical
	}
	return t
}

func (s *evalScreen) View() string {
	st := s.c.Styles
	switch {
	case s.err != "":
		return lipgloss.NewStyle().Padding(1, 1).Render(st.Error.Render(s.err))
	case s.loading || s.ev == nil:
		return lipgloss.NewStyle().Padding(1, 1).Render(st.Subtle.Render(s.c.T(evalLoading)))
	}
	head := s.header()
	body, curLine, curEnd := s.body()
	var foot []string
	if s.editing != editNone {
		foot = append(foot, s.input.View())
	}
	if s.confirm {
		foot = append(foot, st.Warn.Render(s.confirmText()))
	}
	if s.player != nil {
		foot = append(foot, s.player.View())
	}
	avail := max(3, s.height-2-len(head)-len(foot)-1)
	// Show the whole current row (its options, comment and flags).
	if curEnd >= s.top+avail {
		s.top = curEnd - avail + 1
	}
	if curLine < s.top {
		s.top = curLine
	}
	s.top = min(s.top, max(0, len(body)-avail))
	end := min(len(body), s.top+avail)
	lines := append(append(head, body[s.top:end]...), "")
	lines = append(lines, foot...)
	return lipgloss.NewStyle().Padding(1, 1).Render(strings.Join(lines, "\n"))
}

func (s *evalScreen) confirmText() string {
	sc := s.ev.GetScore()
	t := s.c.T(evalConfirmFmt, s.c.totalText(sc), sc.GetAnswered(), sc.GetCriteria())
	if n := len(s.ev.GetHits()); n > 0 {
		t += " " + s.c.T(evalConfirmHits, n)
	}
	return t
}

func (s *evalScreen) header() []string {
	st := s.c.Styles
	ev := s.ev
	save := ""
	switch {
	case s.readOnly:
	case s.revising:
		save = st.Warn.Render(s.c.T(evalRevisingHeader))
	case s.saveErr != "":
		save = st.Error.Render(s.c.T(evalNotSaved) + ": " + s.saveErr)
	case s.saving || s.form.Dirty():
		save = st.Warn.Render(s.c.T(evalSaving))
	default:
		save = st.Ok.Render(s.c.T(evalSavedFmt, s.savedAt.In(s.c.loc()).Format("15:04:05")))
	}
	total := s.c.totalText(ev.GetScore())
	if ev.GetScore().GetCriticalFailed() {
		total = st.Error.Render(total)
	} else {
		total = st.Value.Render(total)
	}
	l1 := fmt.Sprintf("%s %s · %s %s · %s %s", st.Label.Render(s.c.T(evalLblStatus)), s.c.statusText(ev.GetStatus()),
		st.Label.Render(s.c.T(evalLblTotal)), total, st.Label.Render(s.c.T(evalLblKept)), fmtTime(ev.GetRetainedUntil(), s.c.loc()))
	l2 := fmt.Sprintf("%s %s v%d · %s %s", st.Label.Render(s.c.T(evalLblGrid)), s.form.Grid().GetName(), s.form.Grid().GetVersion(),
		st.Label.Render(s.c.T(evalLblAgent)), ev.GetAgentName())
	out := []string{l1, l2}
	if save != "" {
		out = append(out, save)
	}
	if ac := ev.GetAgentComment(); ac != "" {
		out = append(out, st.Label.Render(s.c.T(evalLblAgentComment))+" "+ac)
	}
	if rr := ev.GetResolutionReason(); rr != "" {
		out = append(out, st.Label.Render(s.c.T(evalLblResolution))+" "+rr)
	}
	return append(out, "")
}

// body renders the grid; the current row spans lines curLine..curEnd.
func (s *evalScreen) body() (out []string, curLine, curEnd int) {
	st := s.c.Styles
	var section *ecoutev1.GridSection
	hits := map[string][]*ecoutev1.CommentHit{}
	for _, h := range s.ev.GetHits() {
		hits[h.GetCriterionId()] = append(hits[h.GetCriterionId()], h)
	}
	secScore := map[string]*ecoutev1.SectionScore{}
	for _, ss := range s.ev.GetScore().GetSections() {
		secScore[ss.GetSectionId()] = ss
	}
	cur := s.form.Cursor()
	for i, r := range s.form.Rows() {
		if r.Criterion != nil && r.Section != section {
			section = r.Section
			score := ""
			if ss := secScore[section.GetSectionId()]; ss.GetHasScore() {
				score = " · " + s.c.printer().Percent(ss.GetScore())
			}
			out = append(out, st.Title.Render(section.GetTitle())+st.Muted.Render(score))
		}
		marker := "  "
		if i == cur {
			marker = "▶ "
			curLine = len(out)
		}
		if r.Criterion == nil {
			out = append(out, "")
			if i == cur {
				curLine = len(out)
			}
			out = append(out, marker+st.Label.Render(s.c.T(evalLblComment))+" "+s.renderComment(s.form.Comment(), hits[""]))
			out = append(out, s.hitLines(hits[""])...)
			if i == cur {
				curEnd = len(out) - 1
			}
			continue
		}
		c := r.Criterion
		flags := ""
		if c.GetCritical() {
			flags += " " + st.Error.Render(s.c.T(evalCriticalFlag))
		}
		if c.GetCommentWhenFailed() {
			flags += " " + st.Muted.Render(s.c.T(evalCommentFlag))
		}
		label := c.GetLabel()
		line := marker + label + flags
		if i == cur {
			line = marker + st.Focused.Render(label) + flags
		}
		out = append(out, line, "    "+s.widget(c))
		if n := s.form.Note(c.GetCriterionId()); n != "" {
			out = append(out, "    "+st.Muted.Render("✎ ")+s.renderComment(n, hits[c.GetCriterionId()]))
			out = append(out, s.hitLines(hits[c.GetCriterionId()])...)
		}
		if i == cur {
			curEnd = len(out) - 1
		}
	}
	return out, curLine, curEnd
}

// widget shows the options of c, each with the key that answers it (the
// evaluation.answer keys, in order: rebinding them renumbers the options),
// the chosen one highlighted.
func (s *evalScreen) widget(c *ecoutev1.Criterion) string {
	st := s.c.Styles
	v := s.form.Value(c.GetCriterionId())
	var opts []string
	opt := func(key, label, value string) {
		t := strings.TrimSpace(key + " " + label)
		if v == value {
			opts = append(opts, st.TableSelected.Render("["+t+"]"))
		} else {
			opts = append(opts, st.Subtle.Render(" "+t+" "))
		}
	}
	keys := s.keys.Answer.Keys()
	scale := c.GetType() == ecoutev1.AnswerType_ANSWER_TYPE_SCALE
	for i, o := range evalform.Options(c) {
		key := "·"
		if i < len(keys) {
			key = keys[i]
		}
		label := s.c.optionLabel(o)
		if scale && key == o.Label {
			label = "" // "3" needs no label beside the key 3
		}
		opt(key, label, o.Value)
	}
	if c.GetAllowNa() {
		na := "."
		if k := s.keys.NA.Keys(); len(k) > 0 {
			na = k[0]
		}
		opt(na, s.c.T(evalNA), evalform.ValueNA)
	}
	return strings.Join(opts, " ")
}

// optionLabel is an option in words.
func (c *Common) optionLabel(o evalform.Option) string {
	switch o.Value {
	case evalform.ValueYes:
		return c.T(evalYes)
	case evalform.ValueNo:
		return c.T(evalNo)
	}
	return o.Label
}

// renderComment underlines the flagged spans (byte offsets from the
// server, valid for the text it checked).
func (s *evalScreen) renderComment(text string, hits []*ecoutev1.CommentHit) string {
	st := s.c.Styles
	flag := st.Error.Underline(true)
	var b strings.Builder
	at := 0
	for _, h := range hits {
		start, end := int(h.GetStart()), int(h.GetEnd())
		if start < at || end > len(text) || start >= end || text[start:end] != h.GetText() {
			continue // the text changed since the server checked it
		}
		b.WriteString(text[at:start])
		b.WriteString(flag.Render(text[start:end]))
		at = end
	}
	b.WriteString(text[at:])
	return b.String()
}

func (s *evalScreen) hitLines(hits []*ecoutev1.CommentHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, "      "+s.c.Styles.Warn.Render(s.c.T(evalHitFmt, h.GetText(), s.c.categoryText(h.GetCategory()))))
	}
	return out
}

func (s *evalScreen) Keys() []Group {
	k := s.keys
	ro := ""
	if s.readOnly {
		ro = s.readOnlyReason()
	}
	edit := []Binding{k.Up, k.Down, k.Answer, k.NA, k.Comment, k.Note, k.Submit}
	for i := range edit[2:] {
		if ro != "" {
			edit[i+2].disable(ro)
		}
	}
	agent := []Binding{k.Acknowledge, k.Dispute}
	status := s.ev.GetStatus()
	for i := range agent {
		switch {
		case !s.c.May(methodAcknowledgeEval):
			agent[i].disable(s.c.T(evalReadOnlyRole, s.c.role()))
		case status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:
			agent[i].disable(s.c.T(evalNotSubmitted))
		}
	}
	resolve := []Binding{k.Resolve, k.Revise}
	for i := range resolve {
		switch {
		case !s.c.May(methodResolveDispute):
			resolve[i].disable(s.c.T(evalReadOnlyRole, s.c.role()))
		case status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:
			resolve[i].disable(s.c.T(evalNotDisputed))
		}
	}
	groups := []Group{{Title: s.c.T(helpGroupEval), Keys: append(append(edit, agent...), resolve...)}}
	if s.player != nil {
		p := s.player.keys
		groups = append(groups, Group{Title: s.c.T(helpGroupEvalPlayer), Keys: []Binding{p.Toggle, p.Back5, p.Fwd5}})
	}
	return groups
}
