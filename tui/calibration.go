package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// The calibration screens: the calibrations the user created or is named
// in; one calibration, scored blind through the evaluation form (the
// agent is never named), then its agreement report: Krippendorff's α per
// criterion with its bootstrap interval, percent agreement, each
// evaluator's bias and drift.

const (
	methodListCalibrations = "/ecoute.v1.CalibrationService/ListCalibrations"
	methodSaveCalibration  = "/ecoute.v1.CalibrationService/SaveCalibrationScore"
)

type (
	// OpenCalibrationsMsg asks the App to open the calibrations.
	OpenCalibrationsMsg struct{}
	openCalibrationMsg  struct{ id string }
	calibrationsMsg     struct {
		list []*ecoutev1.Calibration
		err  error
	}
	calibrationMsg struct {
		resp   *ecoutev1.GetCalibrationResponse
		report *ecoutev1.AgreementReport
		err    error
	}
)

// calibrationsBinding is the call list's key to the calibrations.
func calibrationsBinding(c *Common) Binding {
	b := bind(c.printer(), false, "K", c.T(keyCalibrations), "K")
	if !c.May(methodListCalibrations) {
		b.disable(c.T(reasonNoCalibration, c.role()))
	}
	return b
}

// mySubmitted tells whether the caller's own score is submitted (or the
// caller is not an evaluator).
func mySubmitted(c *ecoutev1.Calibration) bool {
	return c.GetMyScore() == nil || c.GetMyScore().GetSubmitted()
}

func (c *Common) calibrationState(x *ecoutev1.Calibration) string {
	switch {
	case x.GetStatus() == ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED:
		return c.T(calibClosed)
	case !mySubmitted(x):
		return c.T(calibToScore)
	}
	return c.T(calibOpen)
}

type calibrationsScreen struct {
	c     *Common
	id    int
	keys  CallsKeys
	list  *list[*ecoutev1.Calibration]
	width int
}

func newCalibrationsScreen(c *Common) *calibrationsScreen {
	s := &calibrationsScreen{c: c, id: c.NextSeq(), keys: newCallsKeys(c.printer())}
	c.KeyOverrides.apply("calls", &s.keys)
	type cal = *ecoutev1.Calibration
	submitted := func(x cal) string {
		n := 0
		for _, e := range x.GetEvaluators() {
			if e.GetSubmitted() {
				n++
			}
		}
		return fmt.Sprintf("%d/%d", n, len(x.GetEvaluators()))
	}
	s.list = newList(c, []listColumn[cal]{
		{title: c.T(colCreated), width: 10, cell: func(x cal) string { return c.day(x.GetCreatedAt()) }},
		{title: c.T(evalColGrid), cell: cal.GetGridName},
		{title: c.T(colCallDate), width: 16, drop: 2, cell: func(x cal) string {
			return x.GetCallStartedAt().AsTime().In(c.loc()).Format("2006-01-02 15:04")
		}},
		{title: c.T(colScores), width: 6, cell: submitted},
		{title: c.T(colState), width: 12, cell: c.calibrationState},
		{title: c.T(colKeptUntil), width: 10, drop: 1, cell: func(x cal) string { return c.day(x.GetRetainedUntil()) }},
	}, calibEmpty, 0)
	return s
}

func (s *calibrationsScreen) ID() int       { return s.id }
func (s *calibrationsScreen) Title() string { return s.c.T(calibTitle) }
func (s *calibrationsScreen) SetSize(w, h int) {
	s.width = w
	s.list.setSize(w, h)
}
func (s *calibrationsScreen) Init() tea.Cmd     { return s.load() }
func (s *calibrationsScreen) Revealed() tea.Cmd { return s.load() }

func (s *calibrationsScreen) load() tea.Cmd {
	s.list.loading = true
	b := s.c.Backend
	return s.c.request(s.id, "list", func(ctx context.Context) (tea.Msg, error) {
		l, err := b.ListCalibrations(ctx)
		return calibrationsMsg{list: l, err: err}, err
	})
}

func (s *calibrationsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case calibrationsMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.list)
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.keys) {
			return nil
		}
		switch {
		case on(msg, s.keys.Open):
			if x, ok := s.list.selected(); ok {
				return cmdOf(openCalibrationMsg{id: x.GetCalibrationId()})
			}
		case on(msg, s.keys.Reload):
			return s.load()
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		if s.list.mouse(msg, 0) == clickOpen {
			if x, ok := s.list.selected(); ok {
				return cmdOf(openCalibrationMsg{id: x.GetCalibrationId()})
			}
		}
	}
	return nil
}

func (s *calibrationsScreen) View() string { return s.list.view(s.c.Styles, "") }

func (s *calibrationsScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(calibTitle), Keys: []Binding{k.Open, k.Down, k.Up, k.Reload}}}
}

// calibrationScreen is one calibration: who scored, the caller's blind
// score, and once the caller has submitted (or it is closed) the
// agreement report.
type calibrationScreen struct {
	c      *Common
	id     int
	cid    string
	resp   *ecoutev1.GetCalibrationResponse
	report *ecoutev1.AgreementReport
	err    string
	score  Binding
	byGrid Binding
	grid   bool // the report covers every calibration on the grid
	// player plays the calibration's call (heard by the calibration's id),
	// shared with the blind score's form.
	player *playerWidget
	opened bool // the track was asked for
	top    int
	width  int
	height int
}

func newCalibrationScreen(c *Common, id string) *calibrationScreen {
	return &calibrationScreen{c: c, id: c.NextSeq(), cid: id, player: newPlayerWidget(c),
		score:  bind(c.printer(), true, "e", c.T(keyScoreBlind), "e"),
		byGrid: bind(c.printer(), true, "G", c.T(keyReportGrid), "G")}
}

func (s *calibrationScreen) ID() int { return s.id }
func (s *calibrationScreen) Title() string {
	if s.resp == nil {
		return s.c.T(calibTitle)
	}
	return s.c.T(calibOneTitle, s.resp.GetCalibration().GetGridName())
}
func (s *calibrationScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.player.SetWidth(min(w-2, 80))
}
func (s *calibrationScreen) Restyle()       { s.player.Restyle() }
func (s *calibrationScreen) Close() tea.Cmd { return s.player.Detach() }

// openTrack opens the calibration's call on the engine, by the
// calibration's id.
func (s *calibrationScreen) openTrack() tea.Cmd {
	s.opened = true
	b, eng, id := s.c.Backend, s.c.Engine, s.cid
	return s.c.request(s.id, "track", func(ctx context.Context) (tea.Msg, error) {
		fail := func(err error) (tea.Msg, error) { return trackOpenedMsg{err: err}, err }
		if eng == nil {
			return fail(errNoEngine)
		}
		wf, err := b.CalibrationWaveform(ctx, id)
		if err != nil {
			return fail(err)
		}
		size := wf.GetTotalSize()
		if size <= 0 {
			if size, err = b.CalibrationAudioSize(ctx, id); err != nil {
				return fail(err)
			}
		}
		tr, err := eng.Open(b.CalibrationAudioSource(id, size), playerInfo(b.CalibrationPlaybackInfo(id, wf, size)))
		if err != nil {
			return fail(err)
		}
		return trackOpenedMsg{track: tr, wave: wf}, nil
	})
}
func (s *calibrationScreen) Init() tea.Cmd { return s.load() }

// Revealed reloads after the blind score's form closes.
func (s *calibrationScreen) Revealed() tea.Cmd { return s.load() }

func (s *calibrationScreen) load() tea.Cmd {
	b, id, grid := s.c.Backend, s.cid, s.grid
	return s.c.request(s.id, "get", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.GetCalibration(ctx, id)
		if err != nil {
			return calibrationMsg{err: err}, err
		}
		cal := resp.GetCalibration()
		var rep *ecoutev1.AgreementReport
		if mySubmitted(cal) || cal.GetStatus() == ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED {
			cid, gid := id, ""
			if grid {
				cid, gid = "", cal.GetGridId()
			}
			if rep, err = b.GetAgreementReport(ctx, cid, gid); err != nil {
				return calibrationMsg{resp: resp, err: err}, err
			}
		}
		return calibrationMsg{resp: resp, report: rep}, nil
	})
}

func (s *calibrationScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case calibrationMsg:
		s.err = ""
		if msg.err != nil {
			s.err = s.c.explain(msg.err)
		}
		if msg.resp != nil {
			s.resp, s.report = msg.resp, msg.report
			if !s.opened && msg.resp.GetCalibration().GetAudioAvailable() && msg.resp.GetCalibration().GetMyScore() != nil {
				return s.openTrack()
			}
		}
		return nil
	case trackOpenedMsg:
		if msg.err != nil {
			s.player.Fail(s.c.T(playerErrFmt, s.c.explain(msg.err)))
			return nil
		}
		return s.player.Attach(msg.track)
	case tea.KeyPressMsg:
		k := s.bindings()
		switch {
		case on(msg, k[0]):
			var p *playerWidget
			if s.player.track != nil {
				p = s.player
			}
			return cmdOf(OpenEvaluationMsg{EvaluationID: s.cid, Player: p, calibration: true})
		case on(msg, k[1]):
			s.grid = !s.grid
			return s.load()
		case msg.String() == "down" || msg.String() == "j":
			s.top++
		case msg.String() == "up" || msg.String() == "k":
			s.top = max(0, s.top-1)
			return nil
		}
	}
	cmd, _ := s.player.Update(msg)
	return cmd
}

func (s *calibrationScreen) bindings() []Binding {
	sc, g := s.score, s.byGrid
	switch {
	case s.resp == nil:
		sc.disable(s.c.T(listLoading))
	case s.resp.GetCalibration().GetMyScore() == nil:
		sc.disable(s.c.T(reasonNotEvaluator))
	case s.resp.GetCalibration().GetStatus() == ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED && !mySubmitted(s.resp.GetCalibration()):
		sc.disable(s.c.T(calibClosed))
	}
	if s.report == nil {
		g.disable(s.c.T(reasonReportAfterScore))
	}
	return []Binding{sc, g}
}

func (s *calibrationScreen) View() string {
	st := s.c.Styles
	if s.resp == nil {
		if s.err != "" {
			return st.Error.Render(s.err)
		}
		return st.Subtle.Render(s.c.T(listLoading))
	}
	cal := s.resp.GetCalibration()
	w := max(20, s.width)
	var lines []string
	add := func(l string) { lines = append(lines, ansi.Truncate(l, w, "…")) }
	add(st.Title.Render(cal.GetGridName()) + "  " + st.Value.Render(s.c.calibrationState(cal)))
	add(st.Muted.Render(s.c.T(calibCallLine, cal.GetCallStartedAt().AsTime().In(s.c.loc()).Format("2006-01-02 15:04"),
		fmtDurationPB(cal.GetCallDuration()), cal.GetDirection(), s.c.day(cal.GetRetainedUntil()))))
	var who []string
	for _, e := range cal.GetEvaluators() {
		mark := "○"
		if e.GetSubmitted() {
			mark = "●"
		}
		name := e.GetName()
		if e.GetExpert() {
			name += " (" + s.c.T(calibExpert) + ")"
		}
		who = append(who, mark+" "+name)
	}
	add(st.Label.Render(s.c.T(calibEvaluators)) + " " + strings.Join(who, "  "))
	if s.opened {
		lines = append(lines, strings.Split(s.player.View(), "\n")...)
	}
	if s.err != "" {
		add(st.Error.Render(s.err))
	}
	add("")
	if s.report == nil {
		add(st.Muted.Render(s.c.T(calibBlindHint)))
	} else {
		for _, l := range s.reportLines(s.report) {
			add(l)
		}
	}
	if s.height > 0 {
		s.top = min(s.top, max(0, len(lines)-s.height))
		lines = lines[s.top:min(len(lines), s.top+s.height)]
	}
	return strings.Join(lines, "\n")
}

// alphaText writes α with its interval, what it rests on and its flag.
func (s *calibrationScreen) alphaText(a *ecoutev1.Alpha) string {
	if a == nil {
		return ""
	}
	if !a.GetDefined() {
		return s.c.T(alphaUndefined, a.GetUndefined())
	}
	ci := "—"
	if a.GetInterval() {
		ci = fmt.Sprintf("[%.3f, %.3f]", a.GetCiLow(), a.GetCiHigh())
	}
	t := s.c.T(alphaLine, a.GetValue(), ci, a.GetPairable(), a.GetPercentAgreement())
	if a.GetFlagged() {
		return s.c.Styles.Error.Render("⚑ " + t)
	}
	return t
}

func (s *calibrationScreen) reportLines(r *ecoutev1.AgreementReport) []string {
	st := s.c.Styles
	scope := s.c.T(reportOne)
	if s.grid {
		scope = s.c.T(reportGrid, len(r.GetSessions()))
	}
	out := []string{st.Title.Render(s.c.T(reportTitle, scope, r.GetThreshold(), r.GetDraws()))}
	for _, ses := range r.GetSessions() {
		if ses.GetCalibrationId() != s.cid && !s.grid {
			continue
		}
		out = append(out, st.Label.Render(s.c.T(reportSession, s.c.day(ses.GetCreatedAt()), ses.GetEvaluators(), ses.GetReference())))
		if a := ses.GetNominal(); a != nil {
			out = append(out, "  "+s.c.T(reportNominal)+" "+s.alphaText(a))
		}
		if a := ses.GetOrdinal(); a != nil {
			out = append(out, "  "+s.c.T(reportOrdinal)+" "+s.alphaText(a))
		}
		for _, b := range ses.GetBias() {
			out = append(out, "    "+s.c.T(reportBias, b.GetName(), b.GetBias()))
		}
	}
	out = append(out, st.Title.Render(s.c.T(reportCriteria)))
	for _, cr := range r.GetCriteria() {
		out = append(out, "  "+st.Value.Render(cr.GetLabel())+" ("+cr.GetAlpha().GetLevel()+")", "    "+s.alphaText(cr.GetAlpha()))
		var bias []string
		for _, b := range cr.GetBias() {
			bias = append(bias, fmt.Sprintf("%s %+.2f", b.GetName(), b.GetBias()))
		}
		if len(bias) > 0 {
			out = append(out, "    "+st.Subtle.Render(s.c.T(reportBiasShort)+" "+strings.Join(bias, ", ")))
		}
	}
	if len(r.GetDrift()) > 0 {
		out = append(out, st.Title.Render(s.c.T(reportDrift)))
		for _, d := range r.GetDrift() {
			out = append(out, "  "+s.c.T(reportDriftLine, d.GetName(), len(d.GetPoints()), d.GetMeanBias(), d.GetSlope()))
		}
	}
	return out
}

func (s *calibrationScreen) Keys() []Group {
	g := []Group{{Title: s.c.T(calibTitle), Keys: s.bindings()}}
	if s.player.track != nil {
		g = append(g, s.player.group())
	}
	return g
}

// calibrationForm lets the evaluation form score a blind calibration: the
// caller's score is shown as a draft evaluation (its id the calibration's)
// and saved and submitted through the calibration service. The agent and
// the call's id are never sent, so the form cannot show them.
type calibrationForm struct {
	client.Unimplemented
	b client.Calibrations
}

func (f calibrationForm) asEvaluation(cal *ecoutev1.Calibration) *ecoutev1.Evaluation {
	my := cal.GetMyScore()
	st := ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT
	if my.GetSubmitted() || cal.GetStatus() == ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED {
		st = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	}
	return &ecoutev1.Evaluation{
		EvaluationId:  cal.GetCalibrationId(),
		GridId:        cal.GetGridId(),
		GridVersion:   cal.GetGridVersion(),
		Status:        st,
		Version:       my.GetVersion(),
		Answers:       my.GetAnswers(),
		Comment:       my.GetComment(),
		Score:         my.GetScore(),
		CallStartedAt: cal.GetCallStartedAt(),
		RetainedUntil: cal.GetRetainedUntil(),
		CreatedAt:     cal.GetCreatedAt(),
		UpdatedAt:     cal.GetCreatedAt(),
		Hits:          my.GetHits(),
		GridName:      cal.GetGridName(),
	}
}

// GetEvaluation implements client.Evaluations.
func (f calibrationForm) GetEvaluation(ctx context.Context, id string) (client.EvaluationView, error) {
	resp, err := f.b.GetCalibration(ctx, id)
	if err != nil {
		return client.EvaluationView{}, err
	}
	return client.EvaluationView{Evaluation: f.asEvaluation(resp.GetCalibration()), Grid: resp.GetGrid()}, nil
}

// SaveEvaluation implements client.Evaluations.
func (f calibrationForm) SaveEvaluation(ctx context.Context, e client.EvaluationEdit) (*ecoutev1.Evaluation, error) {
	cal, err := f.b.SaveCalibrationScore(ctx, client.CalibrationScoreEdit{CalibrationID: e.EvaluationID, Version: e.Version,
		Answers: e.Answers, Comment: e.Comment})
	if err != nil {
		return nil, err
	}
	return f.asEvaluation(cal), nil
}

// SubmitEvaluation implements client.Evaluations.
func (f calibrationForm) SubmitEvaluation(ctx context.Context, id string, version int64, reason string) (*ecoutev1.Evaluation, error) {
	cal, err := f.b.SubmitCalibrationScore(ctx, id, version, reason)
	if err != nil {
		return nil, err
	}
	return f.asEvaluation(cal), nil
}
