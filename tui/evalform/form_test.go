package evalform

import (
	"errors"
	"reflect"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

func grid() *ecoutev1.Grid {
	return &ecoutev1.Grid{GridId: "g", Name: "Accueil", Sections: []*ecoutev1.GridSection{
		{SectionId: "s1", Title: "Opening", Criteria: []*ecoutev1.Criterion{
			{CriterionId: "greet", Label: "Greeting", Type: ecoutev1.AnswerType_ANSWER_TYPE_YES_NO, CommentWhenFailed: true},
			{CriterionId: "tone", Label: "Tone", Type: ecoutev1.AnswerType_ANSWER_TYPE_SCALE, AllowNa: true},
		}},
		{SectionId: "s2", Title: "Closing", Criteria: []*ecoutev1.Criterion{
			{CriterionId: "offer", Label: "Offer", Type: ecoutev1.AnswerType_ANSWER_TYPE_CHOICE, Choices: []*ecoutev1.Choice{
				{ChoiceId: "none", Label: "None", Points: 0}, {ChoiceId: "made", Label: "Made", Points: 2}}},
		}},
	}}
}

func TestRowsInGridOrderCommentLast(t *testing.T) {
	f := New(&ecoutev1.Evaluation{}, grid())
	var ids []string
	for _, r := range f.Rows() {
		ids = append(ids, r.Criterion.GetCriterionId())
	}
	if want := []string{"greet", "tone", "offer", ""}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("rows = %v, want %v", ids, want)
	}
}

func TestAnswersByOptionNumber(t *testing.T) {
	cases := []struct {
		name   string
		row    int
		option int
		na     bool
		want   string
		err    error
	}{
		{"yes", 0, 0, false, "yes", nil},
		{"no", 0, 1, false, "no", nil},
		{"yes/no has two", 0, 2, false, "", ErrNoOption},
		{"scale 5", 1, 4, false, "5", nil},
		{"scale 6", 1, 5, false, "", ErrNoOption},
		{"scale N/A", 1, 0, true, "na", nil},
		{"yes/no no N/A", 0, 0, true, "", ErrNoNA},
		{"choice", 2, 1, false, "made", nil},
		{"negative", 2, -1, false, "", ErrNoOption},
		{"comment row", 3, 0, false, "", ErrNoCriterion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := New(&ecoutev1.Evaluation{}, grid())
			f.Move(c.row)
			id := f.Current().Criterion.GetCriterionId()
			var err error
			if c.na {
				err = f.AnswerNA()
			} else {
				err = f.Answer(c.option)
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if got := f.Value(id); got != c.want {
				t.Errorf("value = %q, want %q", got, c.want)
			}
			if f.Dirty() != (c.err == nil) {
				t.Errorf("dirty = %v after err %v", f.Dirty(), err)
			}
			if c.err == nil && f.Cursor() != min(c.row+1, 3) {
				t.Errorf("cursor = %d, want the next row", f.Cursor())
			}
		})
	}
}

func TestDirtyUntilConfirmedAtTheLatestEdit(t *testing.T) {
	f := New(&ecoutev1.Evaluation{}, grid())
	if f.Dirty() {
		t.Fatal("fresh form dirty")
	}
	_ = f.Answer(0)
	sent := f.Edit()
	f.SetText("said hello late") // typed while the save travels
	f.Confirm(&ecoutev1.Evaluation{}, sent)
	if !f.Dirty() {
		t.Fatal("clean although an edit came after the save")
	}
	f.Confirm(&ecoutev1.Evaluation{}, f.Edit())
	if f.Dirty() {
		t.Fatal("dirty after the latest edit was confirmed")
	}
	if f.Value("greet") != "yes" || f.Note("tone") != "said hello late" {
		t.Errorf("confirm lost local answers: %q %q", f.Value("greet"), f.Note("tone"))
	}
	f.SetText("said hello late") // the same text: no change
	if f.Dirty() {
		t.Error("setting the same text made the form dirty")
	}
}

func TestAnswersSentInGridOrder(t *testing.T) {
	f := New(&ecoutev1.Evaluation{Comment: "overall", Answers: []*ecoutev1.Answer{
		{CriterionId: "offer", Value: "made"}, {CriterionId: "greet", Comment: "late"}}}, grid())
	got := f.Answers()
	if len(got) != 2 || got[0].GetCriterionId() != "greet" || got[0].GetComment() != "late" || got[1].GetValue() != "made" {
		t.Fatalf("answers = %v", got)
	}
	if f.Comment() != "overall" {
		t.Errorf("comment = %q", f.Comment())
	}
}

func TestProblems(t *testing.T) {
	f := New(&ecoutev1.Evaluation{
		Answers: []*ecoutev1.Answer{{CriterionId: "greet", Value: "no"}, {CriterionId: "offer", Value: "gone"}},
		Score:   &ecoutev1.Score{Failed: []string{"greet"}},
	}, grid())
	want := []Problem{
		{CriterionID: "greet", Label: "Greeting", Kind: NeedsComment},
		{CriterionID: "tone", Label: "Tone", Kind: Unanswered},
		{CriterionID: "offer", Label: "Offer", Kind: UnknownAnswer},
	}
	if got := f.Problems(); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems = %+v\nwant %+v", got, want)
	}
	f.SetText("customer hung up") // on greet, the current row
	f.Move(1)
	_ = f.AnswerNA()
	_ = f.Answer(1) // offer: made
	if got := f.Problems(); len(got) != 0 {
		t.Fatalf("problems after fixing = %+v", got)
	}
}

func TestDraftRoundTrip(t *testing.T) {
	f := New(&ecoutev1.Evaluation{}, grid())
	_ = f.Answer(1)
	f.SetText("note")
	d := f.Draft(7)
	g := New(&ecoutev1.Evaluation{}, grid())
	g.Restore(d)
	if !g.Dirty() || g.Value("greet") != "no" || g.Note("tone") != "note" || d.Version != 7 {
		t.Fatalf("restored: dirty %v, %q %q, version %d", g.Dirty(), g.Value("greet"), g.Note("tone"), d.Version)
	}
	d.Answers["greet"] = "yes"
	if g.Value("greet") != "no" {
		t.Error("the draft shares its maps with the form")
	}
}
