package tui

import (
	"context"
	"encoding/json"
	"errors"

	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// What the evaluation screen sends: the draft to disk at each edit, the
// answers to the server after a pause, and the actions (submit,
// acknowledge, dispute, resolve). All of it runs in Cmds.

// changed records an edit: the draft goes to disk now (in a Cmd), the
// server gets it after a short pause.
func (s *evalScreen) changed() tea.Cmd {
	if s.revising {
		return nil
	}
	return tea.Batch(s.writeDraft(), s.c.after(s.id, "autosave", autosaveDelay, evalSaveTickMsg{}))
}

// writeDraft keeps the form on disk, ordered by its edit number.
func (s *evalScreen) writeDraft() tea.Cmd {
	drafts := s.c.Drafts
	if drafts == nil {
		return nil
	}
	edit := s.form.Edit()
	data, _ := json.Marshal(s.form.Draft(s.ev.GetVersion()))
	d := Draft{EvaluationID: s.evalID, CallID: s.callID, Login: s.c.Principal.GetLogin(), Data: data}
	return s.c.task(s.id, "", func() tea.Msg {
		return evalDraftWrittenMsg{err: drafts.PutNewer(d, edit)}
	})
}

// dropDraft forgets the disk draft once the server has edit.
func (s *evalScreen) dropDraft(edit int) tea.Cmd {
	drafts, id := s.c.Drafts, s.evalID
	if drafts == nil {
		return nil
	}
	return s.c.task(s.id, "", func() tea.Msg {
		return evalDraftWrittenMsg{err: drafts.DropUpTo(id, edit)}
	})
}

// readDraft looks for what was typed but not confirmed by the server (a
// crash, a closed terminal).
func (s *evalScreen) readDraft() tea.Cmd {
	if s.c.Drafts == nil || s.readOnly {
		return nil
	}
	drafts, id := s.c.Drafts, s.evalID
	return s.c.task(s.id, "draft", func() tea.Msg {
		d, err := drafts.Load(id)
		if err != nil {
			return evalDraftMsg{}
		}
		data, ok := decodeDraft(d)
		return evalDraftMsg{draft: data, found: ok}
	})
}

// resumeDraft takes a draft back, and marks it to be saved.
func (s *evalScreen) resumeDraft(msg evalDraftMsg) tea.Cmd {
	if !msg.found || s.form == nil || s.readOnly {
		return nil
	}
	s.form.Restore(msg.draft)
	return tea.Batch(s.changed(), cmdOf(StatusMsg{Text: s.c.T(evalDraftResumed), Level: LevelWarn}))
}

func (s *evalScreen) edit() client.EvaluationEdit {
	return client.EvaluationEdit{EvaluationID: s.evalID, Version: s.ev.GetVersion(), Answers: s.form.Answers(),
		Comment: s.form.Comment()}
}

func (s *evalScreen) save() tea.Cmd {
	if s.ev == nil {
		return nil
	}
	s.saving = true
	b, e, edit := s.evals(), s.edit(), s.form.Edit()
	return s.c.request(s.id, "save", func(ctx context.Context) (tea.Msg, error) {
		ev, err := b.SaveEvaluation(ctx, e)
		return evalSavedMsg{edit: edit, ev: ev, err: err}, err
	})
}

func (s *evalScreen) saved(msg evalSavedMsg) tea.Cmd {
	s.saving = false
	if msg.err != nil {
		s.saveErr = s.explain(msg.err)
		var stale *client.ErrStale
		if errors.As(msg.err, &stale) && s.ev != nil {
			// Saved elsewhere meanwhile: ours is the newer intent, so
			// save again on top of the current version.
			s.ev.Version = stale.Current
			return s.changed()
		}
		return nil
	}
	s.ev, s.saveErr = msg.ev, ""
	s.savedAt = msg.ev.GetUpdatedAt().AsTime()
	s.form.Confirm(msg.ev, msg.edit)
	if s.form.Dirty() {
		return nil
	}
	return s.dropDraft(msg.edit)
}

// Close saves what is pending (the screen is gone when the answer comes,
// so the Cmd itself drops the draft once the server has it) and leaves the
// player to the call screen below.
func (s *evalScreen) Close() tea.Cmd {
	if s.form == nil || !s.form.Dirty() || s.readOnly || s.revising || s.ev == nil {
		return nil
	}
	drafts, b, e, edit, ctx, c := s.c.Drafts, s.evals(), s.edit(), s.form.Edit(), s.c.Ctx, s.c
	return func() tea.Msg {
		if _, err := b.SaveEvaluation(ctx, e); err != nil {
			return StatusMsg{Text: c.T(evalCloseNotSaved, c.explain(err)), Level: LevelWarn}
		}
		if drafts != nil {
			_ = drafts.DropUpTo(e.EvaluationID, edit)
		}
		return nil
	}
}

// act runs a submit, acknowledge, dispute or resolve.
func (s *evalScreen) act(what string, f func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error)) tea.Cmd {
	b := s.evals()
	return s.c.request(s.id, "act", func(ctx context.Context) (tea.Msg, error) {
		ev, err := f(ctx, b)
		return evalDoneMsg{what: what, ev: ev, err: err}, err
	})
}

func (s *evalScreen) finishEdit(mode int, text string) tea.Cmd {
	id := s.evalID
	switch mode {
	case editComment:
		s.form.SetText(text)
		if !s.form.Dirty() {
			return nil
		}
		return s.changed()
	case editOverride:
		if text == "" {
			return cmdOf(StatusMsg{Text: s.c.T(evalOverrideNeeded), Level: LevelWarn})
		}
		return s.submit(text)
	case editAck:
		return s.act(s.c.T(evalAcknowledged), func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error) {
			return b.AcknowledgeEvaluation(ctx, id, text)
		})
	case editDispute:
		if text == "" {
			return cmdOf(StatusMsg{Text: s.c.T(evalDisputeNeeded), Level: LevelWarn})
		}
		return s.act(s.c.T(evalDisputed), func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error) {
			return b.DisputeEvaluation(ctx, id, text)
		})
	case editRevise:
		if text == "" {
			return cmdOf(StatusMsg{Text: s.c.T(evalResolveNeeded), Level: LevelWarn})
		}
		r := client.Resolution{EvaluationID: id, Revised: true, Reason: text, Answers: s.form.Answers(), Comment: s.form.Comment()}
		return s.act(s.c.T(evalRevised), func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error) {
			return b.ResolveDispute(ctx, r)
		})
	case editResolve:
		if text == "" {
			return cmdOf(StatusMsg{Text: s.c.T(evalResolveNeeded), Level: LevelWarn})
		}
		return s.act(s.c.T(evalResolved), func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error) {
			return b.ResolveDispute(ctx, client.Resolution{EvaluationID: id, Reason: text})
		})
	}
	return nil
}

// submit saves what is pending, then submits, in one request so the
// submit sees the last answers. Both writes carry request ids: a reply
// lost on the way is asked again and applied once.
func (s *evalScreen) submit(reason string) tea.Cmd {
	e, dirty, edit, drafts := s.edit(), s.form.Dirty(), s.form.Edit(), s.c.Drafts
	return s.act(s.c.T(evalSubmitted), func(ctx context.Context, b client.Evaluations) (*ecoutev1.Evaluation, error) {
		ver := e.Version
		if dirty {
			ev, err := b.SaveEvaluation(ctx, e)
			if err != nil {
				return nil, err
			}
			ver = ev.GetVersion()
		}
		ev, err := b.SubmitEvaluation(ctx, e.EvaluationID, ver, reason)
		if err == nil && drafts != nil {
			_ = drafts.DropUpTo(e.EvaluationID, edit)
		}
		return ev, err
	})
}
