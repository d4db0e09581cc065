// Package grid defines evaluation grids: sections of criteria, each with an
// answer type, a weight, and flags saying whether failing it fails the whole
// evaluation (critical) or needs a written justification. A grid is a
// versioned template; an evaluation always refers to the exact version it was
// filled with, so editing a grid never changes past scores.
//
// The package knows nothing of storage or gRPC: it validates grids, reads and
// writes their YAML form, and checks that an answer fits its criterion.
package grid

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ecoute/ecoute/internal/termsafe"
)

// Answer types.
const (
	TypeYesNo  = "yes_no" // yes, no, or N/A when allowed
	TypeScale  = "scale"  // 1..5
	TypeChoice = "choice" // one of the criterion's choices, each worth points
)

// Answer values that are not numbers or choice ids.
const (
	Yes = "yes"
	No  = "no"
	NA  = "na"
)

// Scale bounds, and the highest scale value that counts as a failure (for
// critical criteria and "comment required when failed").
const (
	ScaleMin    = 1
	ScaleMax    = 5
	ScaleFailAt = 2
)

// Directions a grid may be meant for; empty means any call.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// Grid is one version of an evaluation template.
type Grid struct {
	ID          string    `yaml:"id" json:"id"`
	Version     int       `yaml:"version,omitempty" json:"version,omitempty"`
	Name        string    `yaml:"name" json:"name"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	Direction   string    `yaml:"direction,omitempty" json:"direction,omitempty"`
	Sections    []Section `yaml:"sections" json:"sections"`
}

// Section groups criteria; its weight is its share of the total.
type Section struct {
	ID       string      `yaml:"id" json:"id"`
	Title    string      `yaml:"title" json:"title"`
	Weight   float64     `yaml:"weight" json:"weight"`
	Criteria []Criterion `yaml:"criteria" json:"criteria"`
}

// Criterion is one question of the grid.
type Criterion struct {
	ID     string  `yaml:"id" json:"id"`
	Label  string  `yaml:"label" json:"label"`
	Help   string  `yaml:"help,omitempty" json:"help,omitempty"`
	Type   string  `yaml:"type" json:"type"`
	Weight float64 `yaml:"weight" json:"weight"`
	// Critical: failing it sets the evaluation's total to 0 and flags it.
	Critical bool `yaml:"critical,omitempty" json:"critical,omitempty"`
	// AllowNA: "not applicable" may be answered; the criterion then leaves
	// the denominator.
	AllowNA bool `yaml:"allow_na,omitempty" json:"allow_na,omitempty"`
	// CommentWhenFailed: a failed answer needs a comment saying why.
	CommentWhenFailed bool     `yaml:"comment_when_failed,omitempty" json:"comment_when_failed,omitempty"`
	Choices           []Choice `yaml:"choices,omitempty" json:"choices,omitempty"`
}

// Choice is one option of a choice criterion. A choice worth 0 points is a
// failure.
type Choice struct {
	ID     string  `yaml:"id" json:"id"`
	Label  string  `yaml:"label" json:"label"`
	Points float64 `yaml:"points" json:"points"`
}

// Answer is what the evaluator chose for one criterion: "yes", "no", "na",
// "1".."5" or a choice id; empty means not answered yet.
type Answer struct {
	CriterionID string
	Value       string
	Comment     string
}

// Problem is one thing wrong with a grid, located by its path
// ("sections[1].criteria[0].weight") and, for YAML input, its line.
type Problem struct {
	Path string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Path, p.Msg)
	}
	return p.Path + ": " + p.Msg
}

// Problems is a validation failure listing every problem found.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "invalid grid: " + strings.Join(s, "; ")
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidID tells whether s may be a grid, section, criterion or choice id:
// lower-case letters, digits, "-" and "_", at most 64 characters.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Size limits of a grid: an evaluator reads it whole for every call, and
// every listing sends it.
const (
	MaxYAML     = 64 << 10 // bytes of the YAML form
	MaxSections = 20
	MaxCriteria = 100 // in the whole grid
	MaxChoices  = 10  // per criterion
	MaxName     = 100 // grid name
	MaxTitle    = 200 // section title, criterion and choice label
	MaxText     = 2000
	MaxWeight   = 1e6 // weights and points
	maxProblems = 50
)

// badText says what is wrong with a text field, or "".
func badText(v string, max int, multiline bool) string {
	if len(v) > max {
		return fmt.Sprintf("%d bytes, at most %d", len(v), max)
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	for _, r := range v {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if termsafe.Dangerous(r) {
			return fmt.Sprintf("holds the control character %U: not allowed", r)
		}
	}
	return ""
}

// badNumber says what is wrong with a weight or a number of points, or "".
func badNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%v is not a number", v)
	}
	if v > MaxWeight {
		return fmt.Sprintf("%g is more than %g", v, MaxWeight)
	}
	return ""
}

// Validate checks a grid and returns every problem found, or nil.
func Validate(g Grid) error {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	text := func(path, v string, max int, multiline bool) {
		if why := badText(v, max, multiline); why != "" {
			add(path, "%s", why)
		}
	}
	number := func(path string, v float64) {
		if why := badNumber(v); why != "" {
			add(path, "%s", why)
		}
	}
	criteria := 0
	for _, s := range g.Sections {
		criteria += len(s.Criteria)
	}
	switch {
	case len(g.Sections) > MaxSections:
		return Problems{{Path: "sections", Msg: fmt.Sprintf("%d sections, at most %d", len(g.Sections), MaxSections)}}
	case criteria > MaxCriteria:
		return Problems{{Path: "sections", Msg: fmt.Sprintf("%d criteria in all, at most %d", criteria, MaxCriteria)}}
	}
	text("name", g.Name, MaxName, false)
	text("description", g.Description, MaxText, true)
	if !ValidID(g.ID) {
		add("id", "%q is not a valid id (a-z, 0-9, - and _, at most 64)", g.ID)
	}
	if strings.TrimSpace(g.Name) == "" {
		add("name", "is required")
	}
	switch g.Direction {
	case "", DirectionInbound, DirectionOutbound:
	default:
		add("direction", "%q is not inbound, outbound or empty", g.Direction)
	}
	if len(g.Sections) == 0 {
		add("sections", "at least one section is required")
	}
	secIDs, critIDs := map[string]bool{}, map[string]string{}
	for i, s := range g.Sections {
		sp := fmt.Sprintf("sections[%d]", i)
		if !ValidID(s.ID) {
			add(sp+".id", "%q is not a valid id", s.ID)
		} else if secIDs[s.ID] {
			add(sp+".id", "%q is used by another section", s.ID)
		}
		secIDs[s.ID] = true
		if strings.TrimSpace(s.Title) == "" {
			add(sp+".title", "is required")
		}
		text(sp+".title", s.Title, MaxTitle, false)
		if !(s.Weight > 0) {
			add(sp+".weight", "must be greater than 0")
		}
		number(sp+".weight", s.Weight)
		if len(s.Criteria) == 0 {
			add(sp+".criteria", "at least one criterion is required")
		}
		for j, c := range s.Criteria {
			cp := fmt.Sprintf("%s.criteria[%d]", sp, j)
			if !ValidID(c.ID) {
				add(cp+".id", "%q is not a valid id", c.ID)
			} else if prev, dup := critIDs[c.ID]; dup {
				add(cp+".id", "%q is already used at %s", c.ID, prev)
			} else {
				critIDs[c.ID] = cp
			}
			if strings.TrimSpace(c.Label) == "" {
				add(cp+".label", "is required")
			}
			text(cp+".label", c.Label, MaxTitle, false)
			text(cp+".help", c.Help, MaxText, true)
			if !(c.Weight > 0) {
				add(cp+".weight", "must be greater than 0")
			}
			number(cp+".weight", c.Weight)
			if len(c.Choices) > MaxChoices {
				add(cp+".choices", "%d choices, at most %d", len(c.Choices), MaxChoices)
				continue
			}
			switch c.Type {
			case TypeYesNo, TypeScale:
				if len(c.Choices) > 0 {
					add(cp+".choices", "only a choice criterion has choices")
				}
			case TypeChoice:
				if len(c.Choices) < 2 {
					add(cp+".choices", "a choice criterion needs at least two choices")
				}
				chIDs, best := map[string]bool{}, 0.0
				for k, ch := range c.Choices {
					chp := fmt.Sprintf("%s.choices[%d]", cp, k)
					if !ValidID(ch.ID) || ch.ID == Yes || ch.ID == No || ch.ID == NA {
						add(chp+".id", "%q is not a valid choice id (yes, no and na are reserved)", ch.ID)
					} else if chIDs[ch.ID] {
						add(chp+".id", "%q is used by another choice", ch.ID)
					}
					chIDs[ch.ID] = true
					if strings.TrimSpace(ch.Label) == "" {
						add(chp+".label", "is required")
					}
					text(chp+".label", ch.Label, MaxTitle, false)
					if ch.Points < 0 {
						add(chp+".points", "must not be negative")
					}
					number(chp+".points", ch.Points)
					best = max(best, ch.Points)
				}
				if len(c.Choices) >= 2 && best == 0 {
					add(cp+".choices", "at least one choice must be worth more than 0 points")
				}
				if (c.Critical || c.CommentWhenFailed) && c.MinPoints() > 0 {
					// Failing a choice criterion means picking a 0-point choice.
					add(cp+".choices", "a critical or comment_when_failed choice criterion needs a choice worth 0 points (its failure)")
				}
			default:
				add(cp+".type", "%q is not yes_no, scale or choice", c.Type)
			}
		}
	}
	if len(ps) == 0 {
		return nil
	}
	if len(ps) > maxProblems {
		ps = append(ps[:maxProblems], Problem{Path: "grid", Msg: fmt.Sprintf("and %d more problems", len(ps)-maxProblems)})
	}
	return ps
}

// Criterion finds a criterion by id.
func (g Grid) Criterion(id string) (Criterion, bool) {
	for _, s := range g.Sections {
		for _, c := range s.Criteria {
			if c.ID == id {
				return c, true
			}
		}
	}
	return Criterion{}, false
}

// CheckValue tells whether v is an acceptable answer to c; empty (not yet
// answered) is acceptable.
func (c Criterion) CheckValue(v string) error {
	if v == "" {
		return nil
	}
	if v == NA {
		if !c.AllowNA {
			return fmt.Errorf("criterion %s does not allow N/A", c.ID)
		}
		return nil
	}
	switch c.Type {
	case TypeYesNo:
		if v != Yes && v != No {
			return fmt.Errorf("criterion %s: %q is not yes or no", c.ID, v)
		}
	case TypeScale:
		n, err := strconv.Atoi(v)
		if err != nil || n < ScaleMin || n > ScaleMax {
			return fmt.Errorf("criterion %s: %q is not a whole number from %d to %d", c.ID, v, ScaleMin, ScaleMax)
		}
	case TypeChoice:
		if _, ok := c.Choice(v); !ok {
			return fmt.Errorf("criterion %s: %q is not one of its choices", c.ID, v)
		}
	default:
		return fmt.Errorf("criterion %s: unknown type %q", c.ID, c.Type)
	}
	return nil
}

// Choice finds a choice by id.
func (c Criterion) Choice(id string) (Choice, bool) {
	for _, ch := range c.Choices {
		if ch.ID == id {
			return ch, true
		}
	}
	return Choice{}, false
}

// Failed tells whether the (valid) answer v counts as a failure of c: "no",
// a scale value of ScaleFailAt or less, or a choice worth 0 points.
func (c Criterion) Failed(v string) bool {
	switch c.Type {
	case TypeYesNo:
		return v == No
	case TypeScale:
		n, err := strconv.Atoi(v)
		return err == nil && n <= ScaleFailAt
	case TypeChoice:
		ch, ok := c.Choice(v)
		return ok && ch.Points == 0
	}
	return false
}

// MaxPoints is the best choice's points (choice criteria).
func (c Criterion) MaxPoints() float64 {
	best := 0.0
	for _, ch := range c.Choices {
		best = max(best, ch.Points)
	}
	return best
}

// MinPoints is the worst choice's points (choice criteria).
func (c Criterion) MinPoints() float64 {
	if len(c.Choices) == 0 {
		return 0
	}
	worst := c.Choices[0].Points
	for _, ch := range c.Choices {
		worst = min(worst, ch.Points)
	}
	return worst
}

// CriterionCount is how many criteria the grid has.
func (g Grid) CriterionCount() int {
	n := 0
	for _, s := range g.Sections {
		n += len(s.Criteria)
	}
	return n
}
