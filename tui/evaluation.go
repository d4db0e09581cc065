package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// EvalBackend is the evaluation service as the console uses it;
// *client.Client is one. A Backend without it shows no evaluations.
type EvalBackend interface {
	Evaluations() ecoutev1.EvaluationServiceClient
}

// The evaluation methods whose availability changes the screens.
const (
	methodStartEvaluation  = "/ecoute.v1.EvaluationService/StartEvaluation"
	methodSaveEvaluation   = "/ecoute.v1.EvaluationService/SaveEvaluation"
	methodListEvaluations  = "/ecoute.v1.EvaluationService/ListEvaluations"
	methodAcknowledgeEval  = "/ecoute.v1.EvaluationService/AcknowledgeEvaluation"
	methodDisputeEval      = "/ecoute.v1.EvaluationService/DisputeEvaluation"
	methodResolveDispute   = "/ecoute.v1.EvaluationService/ResolveDispute"
	methodSubmitEvaluation = "/ecoute.v1.EvaluationService/SubmitEvaluation"
)

// autosaveDelay gathers a burst of key presses into one save.
const autosaveDelay = 700 * time.Millisecond

// Navigation to the evaluation screens.
type (
	// OpenEvaluationMsg opens a call's evaluation (creating a draft when
	// the role may) or a given evaluation. Player, when set, is the call
	// screen's player, which keeps working on the evaluation screen.
	OpenEvaluationMsg struct {
		CallID       string
		EvaluationID string
		Player       *playerWidget
	}
	// OpenEvaluationsMsg opens the list of evaluations.
	OpenEvaluationsMsg struct{}
)

type (
	evalLoadedMsg struct {
		screen int
		ev     *ecoutev1.Evaluation
		grid   *ecoutev1.Grid
		err    error
	}
	evalSaveTickMsg struct{ screen, seq int }
	evalSavedMsg    struct {
		screen, seq int
		ev          *ecoutev1.Evaluation
		err         error
	}
	// evalDoneMsg answers a submit, acknowledge, dispute or resolve.
	evalDoneMsg struct {
		screen int
		what   string
		ev     *ecoutev1.Evaluation
		err    error
	}
)

func (m evalLoadedMsg) rpcErr() error { return m.err }
func (m evalSavedMsg) rpcErr() error  { return m.err }
func (m evalDoneMsg) rpcErr() error   { return m.err }

// evalDraft is what the draft cache keeps of an unsent evaluation.
type evalDraft struct {
	Version int64             `json:"version"`
	Answers map[string]string `json:"answers"`
	Notes   map[string]string `json:"notes"`
	Comment string            `json:"comment"`
}

// evalRow is one selectable line: a criterion, or the overall comment.
type evalRow struct {
	section *ecoutev1.GridSection
	crit    *ecoutev1.Criterion // nil: the overall comment
}

// The text fields the screen may be editing.
const (
	editNone = iota
	editComment
	editOverride
	editDispute
	editAck
	editResolve
	editRevise
)

type evalScreen struct {
	c      *Common
	id     int
	keys   EvalKeys
	callID string
	evalID string
	player *playerWidget // shared with the call screen; nil otherwise

	ev   *ecoutev1.Evaluation
	grid *ecoutev1.Grid
	rows []evalRow
	cur  int
	top  int // first body line shown

	values   map[string]string
	notes    map[string]string
	comment  string
	dirty    bool
	saveSeq  int
	saving   bool
	savedAt  time.Time
	saveErr  string
	err      string
	loading  bool
	editing  int
	editFor  string // the criterion being commented, "" for overall
	input    textinput.Model
	confirm  bool // the submit confirmation is open
	width    int
	height   int
	readOnly bool
	// revising: a supervisor edits a disputed evaluation's answers, sent
	// as one ResolveDispute (revised) with a reason, never autosaved.
	revising bool
}

func newEvalScreen(c *Common, m OpenEvaluationMsg) *evalScreen {
	s := &evalScreen{c: c, id: c.NextSeq(), keys: newEvalKeys(), callID: m.CallID, evalID: m.EvaluationID,
		player: m.Player, values: map[string]string{}, notes: map[string]string{}, loading: true}
	c.KeyOverrides.apply("evaluation", &s.keys)
	s.input = textinput.New()
	s.input.Prompt = "› "
	s.input.CharLimit = 4000
	s.Restyle()
	return s
}

func (s *evalScreen) Restyle() {
	s.input.SetStyles(s.c.Styles.TextInput)
	if s.player != nil {
		s.player.Restyle()
	}
}

func (s *evalScreen) Title() string {
	if s.grid == nil {
		return evalTitleLoading
	}
	return fmt.Sprintf(evalTitle, s.grid.GetName())
}

// Typing: a text field or the confirmation has the keys.
func (s *evalScreen) Typing() bool { return s.editing != editNone || s.confirm }

func (s *evalScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.input.SetWidth(max(20, w-8))
	if s.player != nil {
		s.player.SetWidth(min(w-2, 80))
	}
}

func (s *evalScreen) backend() (ecoutev1.EvaluationServiceClient, error) {
	eb, ok := s.c.Backend.(EvalBackend)
	if !ok {
		return nil, errNoEvaluations
	}
	return eb.Evaluations(), nil
}

func (s *evalScreen) Init() tea.Cmd {
	id, callID, evalID, ctx := s.id, s.callID, s.evalID, s.c.Ctx
	start := evalID == "" && s.c.May(methodStartEvaluation)
	be, err := s.backend()
	return s.c.rpc(func() tea.Msg {
		if err != nil {
			return evalLoadedMsg{screen: id, err: err}
		}
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		if start {
			r, err := be.StartEvaluation(ctx, &ecoutev1.StartEvaluationRequest{CallId: callID})
			return evalLoadedMsg{screen: id, ev: r.GetEvaluation(), grid: r.GetGrid(), err: err}
		}
		if evalID == "" {
			l, err := be.ListEvaluations(ctx, &ecoutev1.ListEvaluationsRequest{CallId: callID})
			if err != nil {
				return evalLoadedMsg{screen: id, err: err}
			}
			if len(l.GetEvaluations()) == 0 {
				return evalLoadedMsg{screen: id, err: errNoEvaluation}
			}
			evalID = l.GetEvaluations()[0].GetEvaluationId()
		}
		r, err := be.GetEvaluation(ctx, &ecoutev1.GetEvaluationRequest{EvaluationId: evalID})
		return evalLoadedMsg{screen: id, ev: r.GetEvaluation(), grid: r.GetGrid(), err: err}
	})
}

// Close saves what is pending (the screen is gone when the answer comes,
// so the Cmd itself drops the draft once the server has it) and leaves the
// player to the call screen below.
func (s *evalScreen) Close() tea.Cmd {
	if !s.dirty || s.readOnly || s.revising || s.ev == nil {
		return nil
	}
	be, err := s.backend()
	if err != nil {
		return nil
	}
	drafts, id, ctx := s.c.Drafts, s.evalID, s.c.Ctx
	req := &ecoutev1.SaveEvaluationRequest{EvaluationId: id, ExpectedVersion: s.ev.GetVersion(),
		Answers: s.answers(), Comment: s.comment}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		if _, err := be.SaveEvaluation(ctx, req); err != nil {
			return StatusMsg{Text: fmt.Sprintf(evalCloseNotSaved, explain(err, "")), Level: LevelWarn}
		}
		if drafts != nil {
			_ = drafts.Delete(id)
		}
		return nil
	}
}

func (s *evalScreen) load(ev *ecoutev1.Evaluation, grid *ecoutev1.Grid) {
	s.ev, s.grid, s.evalID, s.loading, s.revising = ev, grid, ev.GetEvaluationId(), false, false
	if s.callID == "" {
		s.callID = ev.GetCallId()
	}
	s.readOnly = ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT || !s.c.May(methodSaveEvaluation)
	s.rows = s.rows[:0]
	for _, sec := range grid.GetSections() {
		for _, cr := range sec.GetCriteria() {
			s.rows = append(s.rows, evalRow{section: sec, crit: cr})
		}
	}
	s.rows = append(s.rows, evalRow{})
	s.values, s.notes = map[string]string{}, map[string]string{}
	for _, a := range ev.GetAnswers() {
		s.values[a.GetCriterionId()], s.notes[a.GetCriterionId()] = a.GetValue(), a.GetComment()
	}
	s.comment = ev.GetComment()
	s.savedAt = ev.GetUpdatedAt().AsTime()
}

// resumeDraft takes back what was typed but not confirmed by the server
// (a crash, a closed terminal), and marks it to be saved.
func (s *evalScreen) resumeDraft() tea.Cmd {
	if s.c.Drafts == nil || s.readOnly {
		return nil
	}
	d, err := s.c.Drafts.Load(s.evalID)
	if err != nil {
		return nil
	}
	var data evalDraft
	if json.Unmarshal(d.Data, &data) != nil {
		return nil
	}
	s.values, s.notes, s.comment = data.Answers, data.Notes, data.Comment
	if s.values == nil {
		s.values = map[string]string{}
	}
	if s.notes == nil {
		s.notes = map[string]string{}
	}
	return tea.Batch(s.changed(), cmdOf(StatusMsg{Text: evalDraftResumed, Level: LevelWarn}))
}

func (s *evalScreen) answers() []*ecoutev1.Answer {
	var out []*ecoutev1.Answer
	for _, r := range s.rows {
		if r.crit == nil {
			continue
		}
		id := r.crit.GetCriterionId()
		if s.values[id] != "" || s.notes[id] != "" {
			out = append(out, &ecoutev1.Answer{CriterionId: id, Value: s.values[id], Comment: s.notes[id]})
		}
	}
	return out
}

// changed records an edit: the draft goes to disk now, the server gets it
// after a short pause.
func (s *evalScreen) changed() tea.Cmd {
	s.dirty = true
	if s.revising {
		return nil
	}
	s.saveSeq++
	if s.c.Drafts != nil {
		data, _ := json.Marshal(evalDraft{Version: s.ev.GetVersion(), Answers: s.values, Notes: s.notes, Comment: s.comment})
		if err := s.c.Drafts.Save(Draft{EvaluationID: s.evalID, CallID: s.callID, Login: s.c.Principal.GetLogin(), Data: data}); err != nil {
			s.saveErr = fmt.Sprintf(evalDraftErr, err)
		}
	}
	id, seq := s.id, s.saveSeq
	return tea.Tick(autosaveDelay, func(time.Time) tea.Msg { return evalSaveTickMsg{screen: id, seq: seq} })
}

func (s *evalScreen) save() tea.Cmd {
	be, err := s.backend()
	if err != nil || s.ev == nil {
		return nil
	}
	s.saving = true
	id, seq, ctx := s.id, s.saveSeq, s.c.Ctx
	req := &ecoutev1.SaveEvaluationRequest{EvaluationId: s.evalID, ExpectedVersion: s.ev.GetVersion(),
		Answers: s.answers(), Comment: s.comment}
	return s.c.rpc(func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		r, err := be.SaveEvaluation(ctx, req)
		return evalSavedMsg{screen: id, seq: seq, ev: r.GetEvaluation(), err: err}
	})
}

// act runs a submit, acknowledge, dispute or resolve in a Cmd.
func (s *evalScreen) act(what string, f func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error)) tea.Cmd {
	be, err := s.backend()
	id, ctx := s.id, s.c.Ctx
	return s.c.rpc(func() tea.Msg {
		if err != nil {
			return evalDoneMsg{screen: id, what: what, err: err}
		}
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		ev, err := f(ctx, be)
		return evalDoneMsg{screen: id, what: what, ev: ev, err: err}
	})
}

func (s *evalScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case evalLoadedMsg:
		if msg.screen != s.id {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.err = s.explain(msg.err)
			return nil
		}
		s.load(msg.ev, msg.grid)
		return s.resumeDraft()
	case evalSaveTickMsg:
		if msg.screen != s.id || msg.seq != s.saveSeq || !s.dirty {
			return nil
		}
		return s.save()
	case evalSavedMsg:
		if msg.screen != s.id {
			return nil
		}
		s.saving = false
		if msg.err != nil {
			s.saveErr = s.explain(msg.err)
			if v, ok := currentVersion(msg.err); ok && s.ev != nil {
				// Saved elsewhere meanwhile: ours is the newer intent, so
				// save again on top of the current version.
				s.ev.Version = v
				return s.changed()
			}
			return nil
		}
		s.ev, s.saveErr = msg.ev, ""
		s.savedAt = msg.ev.GetUpdatedAt().AsTime()
		if msg.seq == s.saveSeq {
			s.dirty = false
			if s.c.Drafts != nil {
				_ = s.c.Drafts.Delete(s.evalID)
			}
		}
		return nil
	case evalDoneMsg:
		if msg.screen != s.id {
			return nil
		}
		if msg.err != nil {
			return cmdOf(StatusMsg{Text: s.explain(msg.err), Level: LevelError})
		}
		s.load(msg.ev, s.grid)
		return cmdOf(StatusMsg{Text: msg.what, Level: LevelInfo})
	case tea.KeyPressMsg:
		return s.key(msg)
	case playerEventMsg, playerTickMsg, playerPosMsg, playerCtlMsg:
		if s.player != nil {
			cmd, _ := s.player.Update(msg)
			return cmd
		}
		return nil
	}
	if s.editing != editNone {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	}
	if s.player != nil {
		cmd, _ := s.player.Update(msg)
		return cmd
	}
	return nil
}

// currentVersion reads the version an ABORTED save reports.
func currentVersion(err error) (int64, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Aborted {
		return 0, false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if v, err := strconv.ParseInt(info.GetMetadata()["current_version"], 10, 64); err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

func (s *evalScreen) explain(err error) string {
	switch {
	case errors.Is(err, errNoEvaluation):
		return evalNone
	case errors.Is(err, errNoEvaluations):
		return evalUnsupported
	case status.Code(err) == codes.FailedPrecondition || status.Code(err) == codes.InvalidArgument:
		return status.Convert(err).Message()
	}
	return explain(err, s.c.ServerAddr)
}

func (s *evalScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.confirm {
		return s.confirmKey(msg)
	}
	if s.editing != editNone {
		return s.editKey(msg)
	}
	k := s.keys
	if s.player != nil && on(msg, s.player.keys.Toggle, s.player.keys.Back5, s.player.keys.Fwd5,
		s.player.keys.Back30, s.player.keys.Fwd30) {
		cmd, _ := s.player.Update(msg)
		return cmd
	}
	switch {
	case on(msg, k.Up):
		s.cur = max(0, s.cur-1)
	case on(msg, k.Down):
		s.cur = min(len(s.rows)-1, s.cur+1)
	case s.ev == nil:
		return nil
	case on(msg, k.Acknowledge):
		return s.startEdit(editAck, "", evalAckPrompt)
	case on(msg, k.Dispute):
		return s.startEdit(editDispute, "", evalDisputePrompt)
	case on(msg, k.Resolve):
		return s.startEdit(editResolve, "", evalResolvePrompt)
	case on(msg, k.Revise):
		s.revising, s.readOnly = true, false
		return cmdOf(StatusMsg{Text: evalRevising, Level: LevelInfo})
	case s.revising && on(msg, k.Submit):
		return s.startEdit(editRevise, "", evalRevisePrompt)
	case s.readOnly:
		if on(msg, k.Answer, k.NA, k.Comment, k.Note, k.Submit) {
			return cmdOf(StatusMsg{Text: s.readOnlyReason(), Level: LevelWarn})
		}
	case on(msg, k.Answer):
		return s.answer(msg.String())
	case on(msg, k.NA):
		return s.answer(".")
	case on(msg, k.Comment):
		return s.startComment("")
	case on(msg, k.Note):
		return s.startComment(s.pin())
	case on(msg, k.Submit):
		s.confirm = true
		return nil
	}
	return nil
}

func (s *evalScreen) readOnlyReason() string {
	if !s.c.May(methodSaveEvaluation) {
		return fmt.Sprintf(evalReadOnlyRole, s.c.role())
	}
	return evalReadOnlyStatus
}

// pin is "[mm:ss] " at the player's position.
func (s *evalScreen) pin() string {
	var pos time.Duration
	if s.player != nil {
		pos = s.player.pos
	}
	sec := int(pos / time.Second)
	return fmt.Sprintf("[%02d:%02d] ", sec/60, sec%60)
}

// answer applies a digit (the option's number) or "." (N/A) to the
// current criterion.
func (s *evalScreen) answer(k string) tea.Cmd {
	r := s.rows[s.cur]
	if r.crit == nil {
		return nil
	}
	c := r.crit
	v := ""
	switch {
	case k == ".":
		if !c.GetAllowNa() {
			return cmdOf(StatusMsg{Text: evalNoNA, Level: LevelWarn})
		}
		v = "na"
	case c.GetType() == ecoutev1.AnswerType_ANSWER_TYPE_YES_NO:
		switch k {
		case "1":
			v = "yes"
		case "2":
			v = "no"
		}
	case c.GetType() == ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
		if n, err := strconv.Atoi(k); err == nil && n >= 1 && n <= 5 {
			v = k
		}
	case c.GetType() == ecoutev1.AnswerType_ANSWER_TYPE_CHOICE:
		if n, err := strconv.Atoi(k); err == nil && n >= 1 && n <= len(c.GetChoices()) {
			v = c.GetChoices()[n-1].GetChoiceId()
		}
	}
	if v == "" {
		return nil
	}
	s.values[c.GetCriterionId()] = v
	// The next criterion, as a paper grid is filled.
	if s.cur < len(s.rows)-1 {
		s.cur++
	}
	return s.changed()
}

func (s *evalScreen) startComment(prefix string) tea.Cmd {
	r := s.rows[s.cur]
	cur := s.comment
	target := ""
	if r.crit != nil {
		target = r.crit.GetCriterionId()
		cur = s.notes[target]
	}
	if prefix != "" && cur != "" && !strings.HasSuffix(cur, " ") {
		cur += " "
	}
	cmd := s.startEdit(editComment, cur+prefix, evalCommentPrompt)
	s.editFor = target
	return cmd
}

func (s *evalScreen) startEdit(mode int, value, placeholder string) tea.Cmd {
	s.editing = mode
	s.input.Placeholder = placeholder
	s.input.SetValue(value)
	s.input.CursorEnd()
	return s.input.Focus()
}

func (s *evalScreen) stopEdit() {
	s.editing = editNone
	s.input.Blur()
}

func (s *evalScreen) editKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys
	switch {
	case on(msg, k.Cancel):
		s.stopEdit()
		return nil
	case on(msg, k.Confirm):
		text := strings.TrimSpace(s.input.Value())
		mode := s.editing
		s.stopEdit()
		return s.finishEdit(mode, text)
	case on(msg, k.Note) && msg.String() == "ctrl+n":
		s.input.SetValue(s.input.Value() + s.pin())
		s.input.CursorEnd()
		return nil
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return cmd
}

func (s *evalScreen) finishEdit(mode int, text string) tea.Cmd {
	id := s.evalID
	switch mode {
	case editComment:
		if s.editFor == "" {
			s.comment = text
		} else {
			s.notes[s.editFor] = text
		}
		return s.changed()
	case editOverride:
		if text == "" {
			return cmdOf(StatusMsg{Text: evalOverrideNeeded, Level: LevelWarn})
		}
		return s.submit(text)
	case editAck:
		return s.act(evalAcknowledged, func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error) {
			r, err := be.AcknowledgeEvaluation(ctx, &ecoutev1.AcknowledgeEvaluationRequest{EvaluationId: id, Comment: text})
			return r.GetEvaluation(), err
		})
	case editDispute:
		if text == "" {
			return cmdOf(StatusMsg{Text: evalDisputeNeeded, Level: LevelWarn})
		}
		return s.act(evalDisputed, func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error) {
			r, err := be.DisputeEvaluation(ctx, &ecoutev1.DisputeEvaluationRequest{EvaluationId: id, Comment: text})
			return r.GetEvaluation(), err
		})
	case editRevise:
		if text == "" {
			return cmdOf(StatusMsg{Text: evalResolveNeeded, Level: LevelWarn})
		}
		answers, comment := s.answers(), s.comment
		return s.act(evalRevised, func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error) {
			r, err := be.ResolveDispute(ctx, &ecoutev1.ResolveDisputeRequest{EvaluationId: id,
				Resolution: ecoutev1.Resolution_RESOLUTION_REVISED, Reason: text, Answers: answers, Comment: comment})
			return r.GetEvaluation(), err
		})
	case editResolve:
		if text == "" {
			return cmdOf(StatusMsg{Text: evalResolveNeeded, Level: LevelWarn})
		}
		return s.act(evalResolved, func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error) {
			r, err := be.ResolveDispute(ctx, &ecoutev1.ResolveDisputeRequest{EvaluationId: id,
				Resolution: ecoutev1.Resolution_RESOLUTION_KEPT, Reason: text})
			return r.GetEvaluation(), err
		})
	}
	return nil
}

func (s *evalScreen) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case on(msg, s.keys.Cancel):
		s.confirm = false
	case on(msg, s.keys.Confirm):
		s.confirm = false
		if len(s.ev.GetHits()) > 0 {
			return s.startEdit(editOverride, "", evalOverridePrompt)
		}
		return s.submit("")
	}
	return nil
}

// submit saves what is pending, then submits, in one Cmd so the submit
// sees the last answers.
func (s *evalScreen) submit(reason string) tea.Cmd {
	id, ver, dirty := s.evalID, s.ev.GetVersion(), s.dirty
	req := &ecoutev1.SaveEvaluationRequest{EvaluationId: id, ExpectedVersion: ver, Answers: s.answers(), Comment: s.comment}
	s.saveSeq++ // a pending autosave is superseded
	return s.act(evalSubmitted, func(ctx context.Context, be ecoutev1.EvaluationServiceClient) (*ecoutev1.Evaluation, error) {
		if dirty {
			r, err := be.SaveEvaluation(ctx, req)
			if err != nil {
				return nil, err
			}
			ver = r.GetEvaluation().GetVersion()
		}
		r, err := be.SubmitEvaluation(ctx, &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: ver,
			OverrideReason: reason})
		return r.GetEvaluation(), err
	})
}

// statusText is an evaluation status in words.
func statusText(st ecoutev1.EvaluationStatus) string {
	switch st {
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT:
		return evalStatusDraft
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:
		return evalStatusSubmitted
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED:
		return evalStatusAcknowledged
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:
		return evalStatusDisputed
	case ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED:
		return evalStatusResolved
	}
	return ""
}

func categoryText(c string) string {
	if t, ok := evalCategories[c]; ok {
		return t
	}
	return c
}

// totalText is "87.5 %", the critical flag, or "—".
func totalText(sc *ecoutev1.Score) string {
	if sc == nil || !sc.GetHasTotal() {
		return "—"
	}
	t := strconv.FormatFloat(sc.GetTotal(), 'f', 1, 64) + " %"
	if sc.GetCriticalFailed() {
		t += " " + evalCriticalMark
	}
	return t
}

// totalShort is totalText for a table cell: "0.0 % ⚠".
func totalShort(sc *ecoutev1.Score) string {
	if sc == nil || !sc.GetHasTotal() {
		return "—"
	}
	t := strconv.FormatFloat(sc.GetTotal(), 'f', 1, 64) + " %"
	if sc.GetCriticalFailed() {
		t += " ⚠"
	}
	return t
}

func (s *evalScreen) View() string {
	st := s.c.Styles
	switch {
	case s.err != "":
		return lipgloss.NewStyle().Padding(1, 1).Render(st.Error.Render(s.err))
	case s.loading || s.ev == nil:
		return lipgloss.NewStyle().Padding(1, 1).Render(st.Subtle.Render(evalLoading))
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
	t := fmt.Sprintf(evalConfirmFmt, totalText(sc), sc.GetAnswered(), sc.GetCriteria())
	if n := len(s.ev.GetHits()); n > 0 {
		t += " " + fmt.Sprintf(evalConfirmHits, n)
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
		save = st.Warn.Render(evalRevisingHeader)
	case s.saveErr != "":
		save = st.Error.Render(evalNotSaved + ": " + s.saveErr)
	case s.saving || s.dirty:
		save = st.Warn.Render(evalSaving)
	default:
		save = st.Ok.Render(fmt.Sprintf(evalSavedFmt, s.savedAt.In(s.c.loc()).Format("15:04:05")))
	}
	total := totalText(ev.GetScore())
	if ev.GetScore().GetCriticalFailed() {
		total = st.Error.Render(total)
	} else {
		total = st.Value.Render(total)
	}
	l1 := fmt.Sprintf("%s %s · %s %s · %s %s", st.Label.Render(evalLblStatus), statusText(ev.GetStatus()),
		st.Label.Render(evalLblTotal), total, st.Label.Render(evalLblKept), fmtTime(ev.GetRetainedUntil(), s.c.loc()))
	l2 := fmt.Sprintf("%s %s v%d · %s %s", st.Label.Render(evalLblGrid), s.grid.GetName(), s.grid.GetVersion(),
		st.Label.Render(evalLblAgent), ev.GetAgentName())
	out := []string{l1, l2}
	if save != "" {
		out = append(out, save)
	}
	if ac := ev.GetAgentComment(); ac != "" {
		out = append(out, st.Label.Render(evalLblAgentComment)+" "+ac)
	}
	if rr := ev.GetResolutionReason(); rr != "" {
		out = append(out, st.Label.Render(evalLblResolution)+" "+rr)
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
	for i, r := range s.rows {
		if r.crit != nil && r.section != section {
			section = r.section
			score := ""
			if ss := secScore[section.GetSectionId()]; ss.GetHasScore() {
				score = " · " + strconv.FormatFloat(ss.GetScore(), 'f', 1, 64) + " %"
			}
			out = append(out, st.Title.Render(section.GetTitle())+st.Muted.Render(score))
		}
		marker := "  "
		if i == s.cur {
			marker = "▶ "
			curLine = len(out)
		}
		if r.crit == nil {
			out = append(out, "")
			if i == s.cur {
				curLine = len(out)
			}
			out = append(out, marker+st.Label.Render(evalLblComment)+" "+s.renderComment(s.comment, hits[""]))
			out = append(out, s.hitLines(hits[""])...)
			if i == s.cur {
				curEnd = len(out) - 1
			}
			continue
		}
		c := r.crit
		flags := ""
		if c.GetCritical() {
			flags += " " + st.Error.Render(evalCriticalFlag)
		}
		if c.GetCommentWhenFailed() {
			flags += " " + st.Muted.Render(evalCommentFlag)
		}
		label := c.GetLabel()
		line := marker + label + flags
		if i == s.cur {
			line = marker + st.Focused.Render(label) + flags
		}
		out = append(out, line, "    "+s.widget(c))
		if n := s.notes[c.GetCriterionId()]; n != "" {
			out = append(out, "    "+st.Muted.Render("✎ ")+s.renderComment(n, hits[c.GetCriterionId()]))
			out = append(out, s.hitLines(hits[c.GetCriterionId()])...)
		}
		if i == s.cur {
			curEnd = len(out) - 1
		}
	}
	return out, curLine, curEnd
}

// widget shows the options of c, numbered, the chosen one highlighted.
func (s *evalScreen) widget(c *ecoutev1.Criterion) string {
	st := s.c.Styles
	v := s.values[c.GetCriterionId()]
	var opts []string
	opt := func(key, label, value string) {
		t := key + " " + label
		if v == value {
			opts = append(opts, st.TableSelected.Render("["+t+"]"))
		} else {
			opts = append(opts, st.Subtle.Render(" "+t+" "))
		}
	}
	switch c.GetType() {
	case ecoutev1.AnswerType_ANSWER_TYPE_YES_NO:
		opt("1", evalYes, "yes")
		opt("2", evalNo, "no")
	case ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
		for n := 1; n <= 5; n++ {
			opt(strconv.Itoa(n), "", strconv.Itoa(n))
		}
	case ecoutev1.AnswerType_ANSWER_TYPE_CHOICE:
		for i, ch := range c.GetChoices() {
			opt(strconv.Itoa(i+1), ch.GetLabel(), ch.GetChoiceId())
		}
	}
	if c.GetAllowNa() {
		opt(".", evalNA, "na")
	}
	return strings.Join(opts, " ")
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
		out = append(out, "      "+s.c.Styles.Warn.Render(fmt.Sprintf(evalHitFmt, h.GetText(), categoryText(h.GetCategory()))))
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
			agent[i].disable(fmt.Sprintf(evalReadOnlyRole, s.c.role()))
		case status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:
			agent[i].disable(evalNotSubmitted)
		}
	}
	resolve := []Binding{k.Resolve, k.Revise}
	for i := range resolve {
		switch {
		case !s.c.May(methodResolveDispute):
			resolve[i].disable(fmt.Sprintf(evalReadOnlyRole, s.c.role()))
		case status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:
			resolve[i].disable(evalNotDisputed)
		}
	}
	groups := []Group{{Title: helpGroupEval, Keys: append(append(edit, agent...), resolve...)}}
	if s.player != nil {
		p := s.player.keys
		groups = append(groups, Group{Title: helpGroupEvalPlayer, Keys: []Binding{p.Toggle, p.Back5, p.Fwd5}})
	}
	return groups
}
