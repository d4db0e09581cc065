package grid_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/internal/demo/grids"
)

func TestDemoGridsParseAndRoundTrip(t *testing.T) {
	names, files, err := grids.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("want the two demo grids, got %v", names)
	}
	for _, n := range names {
		g, err := grid.ParseYAML(files[n])
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		critical := 0
		for _, s := range g.Sections {
			for _, c := range s.Criteria {
				if c.Critical {
					critical++
				}
			}
		}
		if critical == 0 {
			t.Errorf("%s has no critical criterion", n)
		}
		out, err := grid.MarshalYAML(g)
		if err != nil {
			t.Fatal(err)
		}
		back, err := grid.ParseYAML(out)
		if err != nil {
			t.Fatalf("%s: exported form does not parse: %v\n%s", n, err, out)
		}
		if !reflect.DeepEqual(g, back) {
			t.Errorf("%s: round trip changed the grid", n)
		}
	}
}

func TestParseYAMLReportsLines(t *testing.T) {
	src := `id: test
name: Test
sections:
  - id: one
    title: One
    weight: 1
    criteria:
      - id: a
        label: A
        type: yes_no
        weight: 0
      - id: b
        label: B
        type: maybe
        weight: 1
        colour: red
      - id: a
        label: again
        type: choice
        weight: 1
        choices:
          - id: x
            label: X
            points: 0
`
	_, err := grid.ParseYAML([]byte(src))
	var ps grid.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := map[string]int{
		"sections[0].criteria[0].weight":  11,
		"sections[0].criteria[1].type":    14,
		"sections[0].criteria[1].colour":  16,
		"sections[0].criteria[2].id":      17,
		"sections[0].criteria[2].choices": 21,
	}
	got := map[string]int{}
	for _, p := range ps {
		got[p.Path] = p.Line
	}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("%s: line %d, want %d (all: %v)", path, got[path], line, err)
		}
	}
	if !strings.Contains(err.Error(), "line 14: sections[0].criteria[1].type") {
		t.Errorf("message does not name line and field: %v", err)
	}
}

func TestParseYAMLTypeErrorHasLine(t *testing.T) {
	_, err := grid.ParseYAML([]byte("id: t\nname: T\nsections:\n  - id: s\n    title: S\n    weight: lourd\n"))
	var ps grid.Problems
	if !errors.As(err, &ps) || ps[0].Line != 6 {
		t.Fatalf("want a problem on line 6, got %v", err)
	}
}

func TestParseYAMLMissingKeyAtItsMapping(t *testing.T) {
	_, err := grid.ParseYAML([]byte("id: t\nname: T\nsections:\n  - id: s\n    weight: 1\n    criteria:\n      - id: c\n        label: C\n        type: scale\n        weight: 1\n"))
	var ps grid.Problems
	if !errors.As(err, &ps) {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Path != "sections[0].title" || ps[0].Line != 4 {
		t.Errorf("got %v", err)
	}
}

func TestCheckValueAndFailed(t *testing.T) {
	c := grid.Criterion{ID: "c", Type: grid.TypeScale}
	for v, ok := range map[string]bool{"": true, "1": true, "5": true, "0": false, "6": false, "na": false, "yes": false} {
		if err := c.CheckValue(v); (err == nil) != ok {
			t.Errorf("scale %q: err %v", v, err)
		}
	}
	if !c.Failed("2") || c.Failed("3") {
		t.Error("scale fails at 2 and below only")
	}
	y := grid.Criterion{ID: "y", Type: grid.TypeYesNo, AllowNA: true}
	if y.CheckValue("na") != nil || y.CheckValue("oui") == nil || !y.Failed("no") || y.Failed("na") {
		t.Error("yes_no values")
	}
}

func TestCriticalChoiceMustBeAbleToFail(t *testing.T) {
	g := grid.Grid{ID: "g", Name: "G", Sections: []grid.Section{{ID: "s", Title: "S", Weight: 1, Criteria: []grid.Criterion{
		{ID: "c", Label: "C", Type: grid.TypeChoice, Weight: 1, Critical: true,
			Choices: []grid.Choice{{ID: "good", Label: "Good", Points: 2}, {ID: "fair", Label: "Fair", Points: 1}}},
	}}}}
	err := grid.Validate(g)
	if err == nil || !strings.Contains(err.Error(), "sections[0].criteria[0].choices") {
		t.Fatalf("a critical choice criterion that cannot fail was accepted: %v", err)
	}
	g.Sections[0].Criteria[0].Choices[1].Points = 0
	if err := grid.Validate(g); err != nil {
		t.Fatal(err)
	}
}
