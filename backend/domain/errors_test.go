package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrors(t *testing.T) {
	e := Invalid("metadata.agent_id", "unknown %q", "ghost")
	if e.Error() != `metadata.agent_id: unknown "ghost"` || e.Fields[0].Field != "metadata.agent_id" {
		t.Errorf("invalid: %q %+v", e.Error(), e.Fields)
	}
	wrapped := fmt.Errorf("ingest: %w", e)
	if ReasonOf(wrapped) != ReasonInvalidArgument || !Is(wrapped, ReasonInvalidArgument) {
		t.Errorf("reason through a wrap: %s", ReasonOf(wrapped))
	}
	if ReasonOf(errors.New("disk")) != ReasonInternal || ReasonOf(nil) != "" {
		t.Error("untyped errors are internal, nil has no reason")
	}
	// With copies: the refusal it came from keeps its metadata.
	base := New(ReasonWrongStatus, "no")
	with := base.With(MetaStatus, "draft")
	if base.Meta != nil || with.Meta[MetaStatus] != "draft" {
		t.Errorf("With changed its receiver: %v %v", base.Meta, with.Meta)
	}
	// Internal failures keep their cause for the log and the operator.
	in := Internal("save grid", errors.New("disk full"))
	if in.Error() != "save grid failed: disk full" || in.Message != "save grid failed" {
		t.Errorf("internal: %q", in.Error())
	}
	// Describe adds the field problems the message does not say.
	p := fmt.Errorf("grid import: %w", Problems("yaml: invalid grid", []FieldViolation{
		{Field: "yaml", Description: "line 3: id: is required"}, {Field: "yaml", Description: "line 9: weight: negative"}}))
	want := "grid import: yaml: invalid grid\n  yaml: line 3: id: is required\n  yaml: line 9: weight: negative"
	if got := Describe(p); got != want {
		t.Errorf("describe:\n%s\nwant\n%s", got, want)
	}
	if got := Describe(fmt.Errorf("user add: %w", e)); got != `user add: metadata.agent_id: unknown "ghost"` {
		t.Errorf("describe repeats the field: %q", got)
	}
}
