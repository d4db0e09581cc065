// Package stats holds the rules of the statistics (issue 17, R1, R5, R8):
// the periods and buckets of a dashboard, and the disclosure control of
// the client role's tables — primary suppression (fewer than MinAgents
// agents or MinEvaluations evaluations, one agent over Dominance of a
// cell) and complementary suppression checked by linear algebra, so that
// no hidden cell and no agent's figure can be recomputed from what is
// published. It is a plain package on plain values: no storage, no gRPC.
package stats

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// The client role's thresholds (issue 17): every published cell covers at
// least MinAgents agents and MinEvaluations evaluations, and no agent makes
// more than Dominance of any of its figures.
const (
	MinAgents      = 5
	MinEvaluations = 10
	Dominance      = 0.85
)

// Reason says why a cell is hidden; "" is published.
type Reason string

// Suppression reasons.
const (
	Published      Reason = ""
	FewAgents      Reason = "few_agents"
	FewEvaluations Reason = "few_evaluations"
	Dominant       Reason = "dominance"
	Complementary  Reason = "complementary"
)

// Measures is what one agent contributes to a cell: every additive figure
// a published cell reveals (means are these sums divided by counts).
type Measures struct {
	Evaluations, ScoreTenths                    int64
	Handled, Lost, TalkMS, BackOfficeMS, RingMS int64
}

func (m Measures) vector() [7]int64 {
	return [7]int64{m.Evaluations, m.ScoreTenths, m.Handled, m.Lost, m.TalkMS, m.BackOfficeMS, m.RingMS}
}

func (m *Measures) add(o Measures) {
	m.Evaluations += o.Evaluations
	m.ScoreTenths += o.ScoreTenths
	m.Handled += o.Handled
	m.Lost += o.Lost
	m.TalkMS += o.TalkMS
	m.BackOfficeMS += o.BackOfficeMS
	m.RingMS += o.RingMS
}

func (m Measures) zero() bool { return m == Measures{} }

// Table is a two-way table before disclosure control: Inner[r][c] holds
// each agent's contribution to row r (a team) and column c (a campaign).
type Table struct {
	Rows, Cols int
	Inner      [][]map[string]Measures
}

// NewTable makes an empty rows × cols table.
func NewTable(rows, cols int) *Table {
	t := &Table{Rows: rows, Cols: cols, Inner: make([][]map[string]Measures, rows)}
	for r := range t.Inner {
		t.Inner[r] = make([]map[string]Measures, cols)
		for c := range t.Inner[r] {
			t.Inner[r][c] = map[string]Measures{}
		}
	}
	return t
}

// Add adds an agent's contribution to a cell.
func (t *Table) Add(r, c int, agent string, m Measures) {
	cur := t.Inner[r][c][agent]
	cur.add(m)
	t.Inner[r][c][agent] = cur
}

// Total is the index of the total row or column.
const Total = -1

// Cell is a cell of the published table: Row and Col are indexes, or
// Total for the margins.
type Cell struct {
	Row, Col int
	Reason   Reason
	// Agents counted, and the sums: set for every cell (the caller drops
	// them from hidden ones).
	Agents int
	Sums   Measures
}

// covers lists the inner cells a cell sums.
func (t *Table) covers(row, col int) [][2]int {
	var out [][2]int
	for r := range t.Rows {
		if row != Total && r != row {
			continue
		}
		for c := range t.Cols {
			if col != Total && c != col {
				continue
			}
			out = append(out, [2]int{r, c})
		}
	}
	return out
}

// contributions sums each agent's contribution over the inner cells.
func (t *Table) contributions(cells [][2]int) map[string]Measures {
	out := map[string]Measures{}
	for _, rc := range cells {
		for a, m := range t.Inner[rc[0]][rc[1]] {
			cur := out[a]
			cur.add(m)
			out[a] = cur
		}
	}
	return out
}

// primary is the primary suppression rule of one cell.
func primary(contrib map[string]Measures) (Reason, int, Measures) {
	var sum Measures
	agents := 0
	for _, m := range contrib {
		if !m.zero() {
			agents++
			sum.add(m)
		}
	}
	switch {
	case agents == 0:
		return Published, 0, sum // nothing to hide: an empty cell
	case agents < MinAgents:
		return FewAgents, agents, sum
	case sum.Evaluations < MinEvaluations:
		return FewEvaluations, agents, sum
	}
	tot := sum.vector()
	for _, m := range contrib {
		v := m.vector()
		for i := range v {
			if tot[i] > 0 && float64(v[i]) > Dominance*float64(tot[i]) {
				return Dominant, agents, sum
			}
		}
	}
	return Published, agents, sum
}

// Protect applies the rules to t and returns every cell of the published
// table: the inner cells in row order, then each row's total, each
// column's total and the grand total. Primary suppression first; then
// complementary suppression until the published cells determine, as a
// linear system over each agent's contribution to each inner cell,
// neither any hidden cell's sum nor any combination of one agent's
// contributions (Disclosed). A greedy choice adds, each round, the
// published cell with the fewest evaluations that shares a row or
// column with a disclosed one; suppressing everything is always safe, so
// the loop ends.
func Protect(t *Table) []Cell {
	var cells []Cell
	for r := range t.Rows {
		for c := range t.Cols {
			cells = append(cells, Cell{Row: r, Col: c})
		}
	}
	for r := range t.Rows {
		cells = append(cells, Cell{Row: r, Col: Total})
	}
	for c := range t.Cols {
		cells = append(cells, Cell{Row: Total, Col: c})
	}
	cells = append(cells, Cell{Row: Total, Col: Total})
	for i := range cells {
		cells[i].Reason, cells[i].Agents, cells[i].Sums = primary(t.contributions(t.covers(cells[i].Row, cells[i].Col)))
	}
	for {
		leaks := Disclosed(t, cells)
		if len(leaks) == 0 {
			return prune(t, cells)
		}
		next := -1
		for i, c := range cells {
			if c.Reason != Published || c.Agents == 0 || !sharesLine(c, cells, leaks) {
				continue
			}
			if next < 0 || less(c, cells[next]) {
				next = i
			}
		}
		if next < 0 { // no neighbour left: take the smallest anywhere
			for i, c := range cells {
				if c.Reason == Published && c.Agents > 0 && (next < 0 || less(c, cells[next])) {
					next = i
				}
			}
		}
		if next < 0 {
			return cells // cannot happen: a leak needs a published cell
		}
		cells[next].Reason = Complementary
	}
}

// prune publishes again, one at a time and largest first, each
// complementary cell whose publication keeps the table safe: the greedy
// choice may hide more than needed.
func prune(t *Table, cells []Cell) []Cell {
	var comp []int
	for i, c := range cells {
		if c.Reason == Complementary {
			comp = append(comp, i)
		}
	}
	slices.SortFunc(comp, func(a, b int) int { return cmp.Compare(b, a) })
	slices.SortStableFunc(comp, func(a, b int) int {
		if less(cells[a], cells[b]) {
			return 1
		}
		if less(cells[b], cells[a]) {
			return -1
		}
		return 0
	})
	for _, i := range comp {
		cells[i].Reason = Published
		if len(Disclosed(t, cells)) > 0 {
			cells[i].Reason = Complementary
		}
	}
	return cells
}

func less(a, b Cell) bool {
	return cmp.Or(cmp.Compare(a.Sums.Evaluations, b.Sums.Evaluations), cmp.Compare(a.Agents, b.Agents),
		// inner cells before margins
		cmp.Compare(isMargin(a), isMargin(b))) < 0
}

func isMargin(c Cell) int {
	if c.Row == Total || c.Col == Total {
		return 1
	}
	return 0
}

func sharesLine(c Cell, cells []Cell, leaks []int) bool {
	for _, i := range leaks {
		l := cells[i]
		if (c.Row == l.Row || c.Col == l.Col) && c != l {
			return true
		}
	}
	return false
}

// Disclosed returns the indexes of the hidden cells that the published
// ones reveal: a hidden cell whose sum is a linear combination of
// published sums, or one holding an agent some of whose contributions
// combine into a determined figure. The unknowns are each agent's
// contribution to each inner cell; a published cell is the equation
// "the sum of its agents' contributions is known". An empty cell counts
// as published (everyone may know a team does not work on a campaign).
func Disclosed(t *Table, cells []Cell) []int {
	type key struct {
		agent string
		r, c  int
	}
	idx := map[key]int{}
	var keys []key
	for r := range t.Rows {
		for c := range t.Cols {
			agents := make([]string, 0, len(t.Inner[r][c]))
			for a, m := range t.Inner[r][c] {
				if !m.zero() {
					agents = append(agents, a)
				}
			}
			slices.Sort(agents)
			for _, a := range agents {
				idx[key{a, r, c}] = len(keys)
				keys = append(keys, key{a, r, c})
			}
		}
	}
	n := len(keys)
	vec := func(cell Cell) []float64 {
		v := make([]float64, n)
		for _, rc := range t.covers(cell.Row, cell.Col) {
			for a := range t.Inner[rc[0]][rc[1]] {
				if i, ok := idx[key{a, rc[0], rc[1]}]; ok {
					v[i] = 1
				}
			}
		}
		return v
	}
	var published [][]float64
	for _, c := range cells {
		if c.Reason == Published {
			published = append(published, vec(c))
		}
	}
	basis := rowEchelon(published, n)
	// leaked tells whether the row space meets the span of one agent's
	// unknowns: it does iff keeping only the other agents' columns loses
	// rank.
	leakedAgent := map[string]bool{}
	leaked := func(a string) bool {
		if v, ok := leakedAgent[a]; ok {
			return v
		}
		keep := make([]bool, n)
		for j, k := range keys {
			keep[j] = k.agent != a
		}
		v := rankOf(basis, keep) < len(basis)
		leakedAgent[a] = v
		return v
	}
	var out []int
	for i, c := range cells {
		if c.Reason == Published {
			continue
		}
		if inSpan(basis, vec(c)) {
			out = append(out, i)
			continue
		}
	agents:
		for _, rc := range t.covers(c.Row, c.Col) {
			for a, m := range t.Inner[rc[0]][rc[1]] {
				if !m.zero() && leaked(a) {
					out = append(out, i)
					break agents
				}
			}
		}
	}
	return out
}

const eps = 1e-9

// rowEchelon reduces rows (each of width n) to a basis of their span in
// reduced row echelon form.
func rowEchelon(rows [][]float64, n int) [][]float64 {
	m := make([][]float64, len(rows))
	for i := range rows {
		m[i] = slices.Clone(rows[i])
	}
	var basis [][]float64
	r := 0
	for col := 0; col < n && r < len(m); col++ {
		p := -1
		best := eps
		for i := r; i < len(m); i++ {
			if a := math.Abs(m[i][col]); a > best {
				p, best = i, a
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		piv := m[r][col]
		for j := range m[r] {
			m[r][j] /= piv
		}
		for i := range m {
			if i != r && math.Abs(m[i][col]) > eps {
				f := m[i][col]
				for j := range m[i] {
					m[i][j] -= f * m[r][j]
				}
			}
		}
		r++
	}
	for i := range r {
		basis = append(basis, m[i])
	}
	return basis
}

// inSpan tells whether v is a combination of the basis rows.
func inSpan(basis [][]float64, v []float64) bool {
	rows := append(slices.Clone(basis), v)
	return len(rowEchelon(rows, len(v))) == len(basis)
}

// rankOf is the rank of the basis rows restricted to the kept columns.
func rankOf(basis [][]float64, keep []bool) int {
	rows := make([][]float64, len(basis))
	for i, b := range basis {
		row := make([]float64, 0, len(b))
		for j, x := range b {
			if keep[j] {
				row = append(row, x)
			}
		}
		rows[i] = row
	}
	if len(rows) == 0 {
		return 0
	}
	return len(rowEchelon(rows, len(rows[0])))
}

// Figure is a published cell's figures, as the client reads them.
type Figure struct {
	Agents, Evaluations int64
	// MeanScore is percent, one decimal.
	MeanScore                          float64
	Handled, Lost                      int64
	MeanTalk, MeanRing, MeanBackOffice time.Duration
}

// FigureOf turns a published cell's sums into its figures: means rounded
// to one decimal (score) and to the second (times per handled call).
func FigureOf(c Cell) Figure {
	f := Figure{Agents: int64(c.Agents), Evaluations: c.Sums.Evaluations, Handled: c.Sums.Handled, Lost: c.Sums.Lost}
	if c.Sums.Evaluations > 0 {
		f.MeanScore = math.Round(float64(c.Sums.ScoreTenths)/float64(c.Sums.Evaluations)) / 10
	}
	if c.Sums.Handled > 0 {
		per := func(ms int64) time.Duration {
			return time.Duration(math.Round(float64(ms)/float64(c.Sums.Handled)/1000)) * time.Second
		}
		f.MeanTalk, f.MeanRing, f.MeanBackOffice = per(c.Sums.TalkMS), per(c.Sums.RingMS), per(c.Sums.BackOfficeMS)
	}
	return f
}
