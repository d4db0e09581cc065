// Package evalform is an evaluation being filled in, without the screen:
// the grid's rows in order, the answers, the per-criterion notes and the
// overall comment, what is still missing before a submit, and whether
// anything changed since the server last confirmed it. The evaluation
// screen draws it and turns keys into its methods; this package knows
// nothing of Bubble Tea, keys or colours, so it is tested on its own.
package evalform

import (
	"errors"
	"fmt"
	"strconv"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// Row is one selectable line of the grid: a criterion of a section, or
// the overall comment (Criterion nil).
type Row struct {
	Section   *ecoutev1.GridSection
	Criterion *ecoutev1.Criterion
}

// Option is one answer a criterion offers, in the order shown.
type Option struct {
	Label string // "Yes", "3", a choice's label
	Value string // what is sent: "yes", "3", a choice id
}

// The values of the fixed answers.
const (
	ValueYes = "yes"
	ValueNo  = "no"
	ValueNA  = "na"
)

// Errors of an answer the criterion does not take.
var (
	ErrNoCriterion = errors.New("the overall comment takes no answer")
	ErrNoNA        = errors.New("this criterion cannot be answered N/A")
	ErrNoOption    = errors.New("no such option")
)

// Form is an evaluation being filled in.
type Form struct {
	grid    *ecoutev1.Grid
	rows    []Row
	values  map[string]string // criterion id → answer value
	notes   map[string]string // criterion id → note
	comment string
	failed  map[string]bool // the criteria the server last scored as failed
	cur     int
	edits   int // edits made since Load
	saved   int // the edit the server last confirmed
}

// New is a form on grid with ev's answers.
func New(ev *ecoutev1.Evaluation, grid *ecoutev1.Grid) *Form {
	f := &Form{}
	f.Load(ev, grid)
	return f
}

// Load takes the server's evaluation (a fresh read, or the answer to a
// save or an action): the answers become the confirmed state.
func (f *Form) Load(ev *ecoutev1.Evaluation, grid *ecoutev1.Grid) {
	if grid != nil {
		f.grid = grid
		f.rows = f.rows[:0]
		for _, sec := range grid.GetSections() {
			for _, cr := range sec.GetCriteria() {
				f.rows = append(f.rows, Row{Section: sec, Criterion: cr})
			}
		}
		f.rows = append(f.rows, Row{})
	}
	f.values, f.notes = map[string]string{}, map[string]string{}
	for _, a := range ev.GetAnswers() {
		if a.GetValue() != "" {
			f.values[a.GetCriterionId()] = a.GetValue()
		}
		if a.GetComment() != "" {
			f.notes[a.GetCriterionId()] = a.GetComment()
		}
	}
	f.comment = ev.GetComment()
	f.cur = min(f.cur, max(0, len(f.rows)-1))
	f.saved = f.edits
	f.scored(ev)
}

// Confirm takes the server's answer to a save sent at edit: its score
// (which criteria fail) is the newest, the answers typed since stay.
func (f *Form) Confirm(ev *ecoutev1.Evaluation, edit int) {
	f.scored(ev)
	f.Saved(edit)
}

func (f *Form) scored(ev *ecoutev1.Evaluation) {
	f.failed = map[string]bool{}
	for _, id := range ev.GetScore().GetFailed() {
		f.failed[id] = true
	}
}

// Grid is the grid the form is scored on.
func (f *Form) Grid() *ecoutev1.Grid { return f.grid }

// Rows are the selectable lines, the overall comment last.
func (f *Form) Rows() []Row { return f.rows }

// Cursor is the index of the current row.
func (f *Form) Cursor() int { return f.cur }

// Current is the current row.
func (f *Form) Current() Row {
	if f.cur < len(f.rows) {
		return f.rows[f.cur]
	}
	return Row{}
}

// Move moves the current row by d, within the rows.
func (f *Form) Move(d int) { f.cur = max(0, min(len(f.rows)-1, f.cur+d)) }

// Options are the answers c offers, in order (N/A not included: see
// AllowsNA).
func Options(c *ecoutev1.Criterion) []Option {
	switch c.GetType() {
	case ecoutev1.AnswerType_ANSWER_TYPE_YES_NO:
		return []Option{{Label: "yes", Value: ValueYes}, {Label: "no", Value: ValueNo}}
	case ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
		out := make([]Option, 5)
		for n := range out {
			out[n] = Option{Label: strconv.Itoa(n + 1), Value: strconv.Itoa(n + 1)}
		}
		return out
	case ecoutev1.AnswerType_ANSWER_TYPE_CHOICE:
		var out []Option
		for _, ch := range c.GetChoices() {
			out = append(out, Option{Label: ch.GetLabel(), Value: ch.GetChoiceId()})
		}
		return out
	}
	return nil
}

// Answer gives the current criterion its option number i (0-based) and
// moves to the next row, as a paper grid is filled.
func (f *Form) Answer(i int) error {
	c := f.Current().Criterion
	if c == nil {
		return ErrNoCriterion
	}
	opts := Options(c)
	if i < 0 || i >= len(opts) {
		return fmt.Errorf("%w: %d of %d", ErrNoOption, i+1, len(opts))
	}
	f.set(c.GetCriterionId(), opts[i].Value)
	return nil
}

// AnswerNA answers the current criterion "not applicable".
func (f *Form) AnswerNA() error {
	c := f.Current().Criterion
	if c == nil {
		return ErrNoCriterion
	}
	if !c.GetAllowNa() {
		return ErrNoNA
	}
	f.set(c.GetCriterionId(), ValueNA)
	return nil
}

func (f *Form) set(id, v string) {
	f.values[id] = v
	f.edits++
	f.Move(1)
}

// Value is the answer given to criterion id ("" when none).
func (f *Form) Value(id string) string { return f.values[id] }

// Note is the note on criterion id.
func (f *Form) Note(id string) string { return f.notes[id] }

// Comment is the overall comment.
func (f *Form) Comment() string { return f.comment }

// Text is what the current row's comment field holds: the criterion's note,
// or the overall comment on the last row.
func (f *Form) Text() string {
	if c := f.Current().Criterion; c != nil {
		return f.notes[c.GetCriterionId()]
	}
	return f.comment
}

// SetText replaces the current row's note (or the overall comment).
func (f *Form) SetText(text string) {
	c := f.Current().Criterion
	if c == nil {
		if text == f.comment {
			return
		}
		f.comment = text
	} else {
		id := c.GetCriterionId()
		if text == f.notes[id] {
			return
		}
		if text == "" {
			delete(f.notes, id)
		} else {
			f.notes[id] = text
		}
	}
	f.edits++
}

// Answers are what is sent: one per criterion answered or noted, in grid
// order.
func (f *Form) Answers() []*ecoutev1.Answer {
	var out []*ecoutev1.Answer
	for _, r := range f.rows {
		if r.Criterion == nil {
			continue
		}
		id := r.Criterion.GetCriterionId()
		if f.values[id] != "" || f.notes[id] != "" {
			out = append(out, &ecoutev1.Answer{CriterionId: id, Value: f.values[id], Comment: f.notes[id]})
		}
	}
	return out
}

// Dirty tells whether something changed since the server last confirmed.
func (f *Form) Dirty() bool { return f.edits != f.saved }

// Edit is the number of the last change; a save sent now carries it.
func (f *Form) Edit() int { return f.edits }

// Saved records that the server confirmed the form as of edit: it is clean
// unless something changed since.
func (f *Form) Saved(edit int) { f.saved = max(f.saved, edit) }

// Touch marks the form changed (a draft taken back from disk).
func (f *Form) Touch() { f.edits++ }

// Problem is something that stops or weakens a submit.
type Problem struct {
	CriterionID string
	Label       string
	Kind        ProblemKind
}

// ProblemKind says what is wrong.
type ProblemKind int

// The problems.
const (
	Unanswered    ProblemKind = iota + 1 // no answer yet
	NeedsComment                         // failed, and the grid asks why
	UnknownAnswer                        // an answer the grid does not offer (grid changed)
)

// Problems lists, in grid order, the criteria not answered, the failed
// ones whose grid asks for a comment and have none, and answers the grid
// no longer offers. What fails is the server's judgement (the grid's rule
// lives there), as of its last answer.
func (f *Form) Problems() []Problem {
	var out []Problem
	for _, r := range f.rows {
		c := r.Criterion
		if c == nil {
			continue
		}
		id, v := c.GetCriterionId(), f.values[c.GetCriterionId()]
		p := Problem{CriterionID: id, Label: c.GetLabel()}
		switch {
		case v == "":
			p.Kind = Unanswered
		case v != ValueNA && !offers(c, v):
			p.Kind = UnknownAnswer
		case c.GetCommentWhenFailed() && f.failed[id] && f.notes[id] == "":
			p.Kind = NeedsComment
		default:
			continue
		}
		out = append(out, p)
	}
	return out
}

func offers(c *ecoutev1.Criterion, v string) bool {
	for _, o := range Options(c) {
		if o.Value == v {
			return true
		}
	}
	return false
}

// Draft is what the disk cache keeps of an unsent form.
type Draft struct {
	Version int64             `json:"version"`
	Answers map[string]string `json:"answers"`
	Notes   map[string]string `json:"notes"`
	Comment string            `json:"comment"`
}

// Draft is the form's unsent state, to keep on disk.
func (f *Form) Draft(version int64) Draft {
	cp := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return Draft{Version: version, Answers: cp(f.values), Notes: cp(f.notes), Comment: f.comment}
}

// Restore takes back a draft kept on disk; the form is then dirty.
func (f *Form) Restore(d Draft) {
	f.values, f.notes, f.comment = map[string]string{}, map[string]string{}, d.Comment
	for k, v := range d.Answers {
		f.values[k] = v
	}
	for k, v := range d.Notes {
		f.notes[k] = v
	}
	f.edits++
}
