package grid

import (
	"math"
	"strings"
	"testing"
)

func smallGrid() Grid {
	return Grid{ID: "g", Name: "G", Sections: []Section{{ID: "s", Title: "S", Weight: 1, Criteria: []Criterion{
		{ID: "c", Label: "C", Type: TypeChoice, Weight: 1, Choices: []Choice{{ID: "a", Label: "A", Points: 1}, {ID: "b", Label: "B"}}},
	}}}}
}

// Every limit of a grid is refused with the path at fault.
func TestGridLimits(t *testing.T) {
	if err := Validate(smallGrid()); err != nil {
		t.Fatal(err)
	}
	many := smallGrid()
	for i := range MaxCriteria + 1 {
		many.Sections[0].Criteria = append(many.Sections[0].Criteria, Criterion{ID: "x" + strings.Repeat("y", i%50) +
			string(rune('a'+i%26)), Label: "L", Type: TypeYesNo, Weight: 1})
	}
	cases := map[string]func(g *Grid){
		"sections: 102 criteria in all, at most 100": func(g *Grid) { *g = many },
		"name: 101 bytes, at most 100":               func(g *Grid) { g.Name = strings.Repeat("n", 101) },
		"sections[0].weight: NaN is not a number":    func(g *Grid) { g.Sections[0].Weight = math.NaN() },
		"sections[0].criteria[0].weight: +Inf is not a number": func(g *Grid) {
			g.Sections[0].Criteria[0].Weight = math.Inf(1)
		},
		"sections[0].criteria[0].choices[0].points: NaN is not a number": func(g *Grid) {
			g.Sections[0].Criteria[0].Choices[0].Points = math.NaN()
		},
		"sections[0].criteria[0].label: holds the control character U+001B": func(g *Grid) {
			g.Sections[0].Criteria[0].Label = "a\x1b[2Kb"
		},
		"sections[0].criteria[0].choices: 11 choices, at most 10": func(g *Grid) {
			for range 9 {
				g.Sections[0].Criteria[0].Choices = append(g.Sections[0].Criteria[0].Choices, Choice{ID: "z", Label: "Z"})
			}
		},
	}
	for want, change := range cases {
		g := smallGrid()
		change(&g)
		err := Validate(g)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
	if _, err := ParseYAML([]byte(strings.Repeat("# padding\n", MaxYAML/10+1))); err == nil ||
		!strings.Contains(err.Error(), "at most 65536") {
		t.Errorf("a YAML file over the limit: %v", err)
	}
}
