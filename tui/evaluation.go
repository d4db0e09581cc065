package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/tui/evalform"
)

// The evaluation screen: a thin layer over evalform.Form (the answers, the
// comments, what is missing, what is unsaved). This file holds its state
// and turns keys into form edits; evaluation_actions.go sends them to the
// server and keeps the local draft; evaluation_view.go draws it.

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
		// calibration: EvaluationID is a blind calibration's, scored
		// through the calibration service.
		calibration bool
	}
	// OpenEvaluationsMsg opens the list of evaluations.
	OpenEvaluationsMsg struct{}
)

type (
	evalLoadedMsg struct {
		view client.EvaluationView
		err  error
	}
	// evalDraftMsg is the local draft found for the evaluation, if any.
	evalDraftMsg struct {
		draft evalform.Draft
		found bool
	}
	evalDraftWrittenMsg struct{ err error }
	evalSaveTickMsg     struct{}
	evalSavedMsg        struct {
		edit int
		ev   *ecoutev1.Evaluation
		err  error
	}
	// evalDoneMsg answers a submit, acknowledge, dispute or resolve.
	evalDoneMsg struct {
		what string
		ev   *ecoutev1.Evaluation
		err  error
	}
)

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
	form *evalform.Form
	top  int // first body line shown

	saving   bool
	savedAt  time.Time
	saveErr  string
	err      string
	loading  bool
	editing  int
	input    textinput.Model
	confirm  bool // the submit confirmation is open
	width    int
	height   int
	readOnly bool
	// revising: a supervisor edits a disputed evaluation's answers, sent
	// as one ResolveDispute (revised) with a reason, never autosaved.
	revising bool
	// src, when set, is what the form is saved to instead of the
	// evaluations (a blind calibration's score), and saveWith the method
	// that allows editing it.
	src      client.Evaluations
	saveWith string
}

// evals is where the form is read from and saved to.
func (s *evalScreen) evals() client.Evaluations {
	if s.src != nil {
		return s.src
	}
	return s.c.Backend
}

// saveMethod is the method whose grant makes the form editable.
func (s *evalScreen) saveMethod() string {
	if s.saveWith != "" {
		return s.saveWith
	}
	return methodSaveEvaluation
}

func newEvalScreen(c *Common, m OpenEvaluationMsg) *evalScreen {
	s := &evalScreen{c: c, id: c.NextSeq(), keys: newEvalKeys(c.printer()), callID: m.CallID, evalID: m.EvaluationID,
		player: m.Player, loading: true}
	c.KeyOverrides.apply("evaluation", &s.keys)
	if m.calibration {
		s.src, s.saveWith = calibrationForm{b: c.Backend}, methodSaveCalibration
	}
	s.input = textinput.New()
	s.input.Prompt = "› "
	s.input.CharLimit = 4000
	s.Restyle()
	return s
}

func (s *evalScreen) ID() int { return s.id }

func (s *evalScreen) Restyle() {
	s.input.SetStyles(s.c.Styles.TextInput)
	if s.player != nil {
		s.player.Restyle()
	}
}

func (s *evalScreen) Title() string {
	if s.form == nil {
		return s.c.T(evalTitleLoading)
	}
	return s.c.T(evalTitle, s.form.Grid().GetName())
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

// Init opens the evaluation: the caller's draft on the call when the role
// may start one, else the call's (first) evaluation, else the one asked.
func (s *evalScreen) Init() tea.Cmd {
	callID, evalID, b := s.callID, s.evalID, s.evals()
	start := evalID == "" && s.src == nil && s.c.May(methodStartEvaluation)
	return s.c.request(s.id, "load", func(ctx context.Context) (tea.Msg, error) {
		var v client.EvaluationView
		var err error
		switch {
		case start:
			v, err = b.StartEvaluation(ctx, callID)
		case evalID == "":
			var l []*ecoutev1.Evaluation
			if l, err = b.ListEvaluations(ctx, client.EvaluationQuery{CallID: callID}); err == nil {
				if len(l) == 0 {
					return evalLoadedMsg{err: errNoEvaluation}, nil
				}
				v, err = b.GetEvaluation(ctx, l[0].GetEvaluationId())
			}
		default:
			v, err = b.GetEvaluation(ctx, evalID)
		}
		return evalLoadedMsg{view: v, err: err}, err
	})
}

func (s *evalScreen) load(ev *ecoutev1.Evaluation, grid *ecoutev1.Grid) {
	s.ev, s.evalID, s.loading, s.revising = ev, ev.GetEvaluationId(), false, false
	if s.callID == "" {
		s.callID = ev.GetCallId()
	}
	s.readOnly = ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT || !s.c.May(s.saveMethod())
	if s.form == nil {
		s.form = evalform.New(ev, grid)
	} else {
		s.form.Load(ev, grid)
	}
	s.savedAt = ev.GetUpdatedAt().AsTime()
}

func (s *evalScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case evalLoadedMsg:
		s.loading = false
		if msg.err != nil {
			s.err = s.explain(msg.err)
			return nil
		}
		s.load(msg.view.Evaluation, msg.view.Grid)
		return s.readDraft()
	case evalDraftMsg:
		return s.resumeDraft(msg)
	case evalDraftWrittenMsg:
		if msg.err != nil {
			s.saveErr = s.c.T(evalDraftErr, msg.err)
		}
		return nil
	case evalSaveTickMsg:
		if s.form == nil || !s.form.Dirty() || s.revising {
			return nil
		}
		return s.save()
	case evalSavedMsg:
		return s.saved(msg)
	case evalDoneMsg:
		if msg.err != nil {
			return cmdOf(StatusMsg{Text: s.explain(msg.err), Level: LevelError})
		}
		s.load(msg.ev, nil)
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

func (s *evalScreen) explain(err error) string {
	var refused *client.ErrRefused
	var invalid *client.ErrInvalid
	switch {
	case errors.Is(err, errNoEvaluation):
		return s.c.T(evalNone)
	case errors.As(err, &refused), errors.As(err, &invalid):
		if text, ok := s.c.reasonText(err); ok {
			return text
		}
		return client.ServerMessage(err)
	}
	return s.c.explain(err)
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
	if s.form == nil {
		return nil
	}
	switch {
	case on(msg, k.Up):
		s.form.Move(-1)
	case on(msg, k.Down):
		s.form.Move(1)
	case on(msg, k.Acknowledge):
		return s.startEdit(editAck, "", s.c.T(evalAckPrompt))
	case on(msg, k.Dispute):
		return s.startEdit(editDispute, "", s.c.T(evalDisputePrompt))
	case on(msg, k.Resolve):
		return s.startEdit(editResolve, "", s.c.T(evalResolvePrompt))
	case on(msg, k.Revise):
		s.revising, s.readOnly = true, false
		return cmdOf(StatusMsg{Text: s.c.T(evalRevising), Level: LevelInfo})
	case s.revising && on(msg, k.Submit):
		return s.startEdit(editRevise, "", s.c.T(evalRevisePrompt))
	case s.readOnly:
		if on(msg, k.Answer, k.NA, k.Comment, k.Note, k.Submit) {
			return cmdOf(StatusMsg{Text: s.readOnlyReason(), Level: LevelWarn})
		}
	case on(msg, k.Answer):
		// The option is the position of the pressed key among the
		// binding's keys, so a rebound evaluation.answer answers too.
		return s.answered(s.form.Answer(slices.Index(k.Answer.Keys(), msg.String())))
	case on(msg, k.NA):
		return s.answered(s.form.AnswerNA())
	case on(msg, k.Comment):
		return s.startEdit(editComment, s.form.Text(), s.c.T(evalCommentPrompt))
	case on(msg, k.Note):
		text := s.form.Text()
		if text != "" && !strings.HasSuffix(text, " ") {
			text += " "
		}
		return s.startEdit(editComment, text+s.pin(), s.c.T(evalCommentPrompt))
	case on(msg, k.Submit):
		s.confirm = true
		return nil
	}
	return nil
}

// answered reports an answer the criterion did not take, or records the
// change.
func (s *evalScreen) answered(err error) tea.Cmd {
	switch {
	case errors.Is(err, evalform.ErrNoNA):
		return cmdOf(StatusMsg{Text: s.c.T(evalNoNA), Level: LevelWarn})
	case err != nil:
		return nil
	}
	return s.changed()
}

func (s *evalScreen) readOnlyReason() string {
	if !s.c.May(s.saveMethod()) {
		return s.c.T(evalReadOnlyRole, s.c.role())
	}
	return s.c.T(evalReadOnlyStatus)
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

func (s *evalScreen) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case on(msg, s.keys.Cancel):
		s.confirm = false
	case on(msg, s.keys.Confirm):
		s.confirm = false
		if len(s.ev.GetHits()) > 0 {
			return s.startEdit(editOverride, "", s.c.T(evalOverridePrompt))
		}
		return s.submit("")
	}
	return nil
}

// evalDraft is the draft cache's encoding of an unsent evaluation.
type evalDraft = evalform.Draft

func decodeDraft(d Draft) (evalDraft, bool) {
	var data evalDraft
	if json.Unmarshal(d.Data, &data) != nil {
		return evalDraft{}, false
	}
	return data, true
}
