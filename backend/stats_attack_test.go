package backend_test

import (
	"encoding/csv"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// cellKey names a cell of a client table: a month, a team ("" = every
// team) and a campaign ("" = every campaign).
type cellKey struct{ month, team, camp string }

// published is one fetched cell: published with its figures, or hidden.
type publishedCell struct {
	key       cellKey
	hidden    string // the suppression reason, "" when published
	evals     int64
	handled   int64
	agentsPub int64
}

// TestClientTablesResistALinearAttack plays the client department trying
// to recover one agent's figures. Team t6 has 6 agents (a6 works in
// February and March, not April: months with and without one agent's
// month), team t7 has 7; the company Alpha has campaigns p1 and p2, where
// a5 is alone in t6. The client fetches every request it is allowed —
// each offered month's table, the default month, each month's CSV and
// JSON exports, and the same months again after a late evaluation of a6
// changed the underlying data — and tries the requests it is not allowed
// (free filters, other RPCs), which are refused. Every published figure
// is a linear equation over the unknowns "agent x's contribution to inner
// cell (month, team, campaign)"; the system is solved exactly (rational
// Gaussian elimination): for every agent and month, the row space of the
// equations meets the span of that agent's unknowns only in 0, so no
// figure of one agent (a cell, a month's total, any combination) is
// determined. The same equations with the complementary cells published
// (primary suppression alone) do determine one: the test can fail.
func TestClientTablesResistALinearAttack(t *testing.T) {
	w := newStatsWorld(t)
	members := map[cellKey]map[string]bool{} // inner cells → agents contributing
	join := func(k cellKey, agent string) {
		if members[k] == nil {
			members[k] = map[string]bool{}
		}
		members[k][agent] = true
	}
	var es []eval
	var acts []core.ActivityRow
	months := []time.Month{time.February, time.March, time.April}
	for _, m := range months {
		mk := fmt.Sprintf("2026-%02d", int(m))
		add := func(agent, team, camp string, n int, handled int64) {
			for k := range n {
				ans := []string{"yyy", "yny", "yyn", "nny"}[(k+len(agent))%4]
				es = append(es, eval{agent: agent, team: team, camp: camp, at: day(2026, m, 2+k), answers: ans})
			}
			for k := range 2 {
				acts = append(acts, interval(agent, camp, time.Date(2026, m, 3+k, 8+len(camp), 0, 0, 0, time.UTC), handled, 20*time.Minute))
			}
			join(cellKey{mk, team, camp}, agent)
		}
		for i := 1; i <= 6; i++ {
			if i == 6 && m == time.April {
				continue // a6's month missing
			}
			add(fmt.Sprintf("a%d", i), "t6", "p1", 3, int64(10+i))
		}
		add("a5", "t6", "p2", 4, 9) // alone: hidden, and recomputable from t6's total unless protected
		for i := 1; i <= 7; i++ {
			handled := int64(8 + i)
			if i == 7 && m == time.March {
				handled = 900 // b7 dominates t7 × p1 in March
			}
			add(fmt.Sprintf("b%d", i), "t7", "p1", 2, handled)
			if i <= 6 {
				add(fmt.Sprintf("b%d", i), "t7", "p2", 2, int64(7+i))
			}
		}
	}
	w.write(t, es...)
	w.activity(t, acts...)

	ctx := w.as(t, "client-alpha")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var fetched [][]publishedCell
	requests := 0
	fromTable := func(tab *ecoutev1.ClientTablesResponse) {
		mk := tab.Month.AsTime().Format("2006-01")
		var cells []publishedCell
		for _, c := range tab.Cells {
			p := publishedCell{key: cellKey{mk, c.TeamId, c.CampaignId}}
			if c.Suppression != ecoutev1.Suppression_SUPPRESSION_UNSPECIFIED {
				p.hidden = c.Suppression.String()
			} else {
				p.evals, p.handled, p.agentsPub = c.Figure.GetEvaluations(), c.Figure.GetCallsHandled(), c.Figure.GetAgents()
			}
			cells = append(cells, p)
		}
		fetched = append(fetched, cells)
	}
	fromCSV := func(plain string) {
		recs, err := csv.NewReader(strings.NewReader(plain)).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("export: %v\n%s", err, plain)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		var cells []publishedCell
		for _, r := range recs[1:] {
			p := publishedCell{key: cellKey{r[col["month"]], r[col["team_id"]], r[col["campaign_id"]]},
				hidden: r[col["suppressed"]]}
			if p.hidden == "" {
				fmt.Sscan(r[col["evaluations"]], &p.evals)
				fmt.Sscan(r[col["calls_handled"]], &p.handled)
				fmt.Sscan(r[col["agents"]], &p.agentsPub)
			}
			cells = append(cells, p)
		}
		fetched = append(fetched, cells)
	}
	fetchAll := func() {
		def, err := w.stats().ClientTables(ctx, &ecoutev1.ClientTablesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		requests++
		fromTable(def)
		// The closed months less than a year old: June 2025 – April 2026.
		if len(def.Months) != 11 || def.Months[0].AsTime().Format("2006-01") != "2026-04" {
			t.Errorf("months offered: %v", def.Months)
		}
		for _, m := range def.Months {
			tab, err := w.stats().ClientTables(ctx, &ecoutev1.ClientTablesRequest{Month: m})
			if err != nil {
				t.Fatal(err)
			}
			requests++
			fromTable(tab)
			data, err := w.export(t, ctx, &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Client{
				Client: &ecoutev1.ClientTablesRequest{Month: m}}, Format: ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_CSV,
				Recipient: id.Recipient().String()})
			if err != nil {
				t.Fatal(err)
			}
			requests++
			fromCSV(decrypt(t, id, data))
			if _, err := w.export(t, ctx, &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Client{
				Client: &ecoutev1.ClientTablesRequest{Month: m}}, Format: ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_JSON,
				Recipient: id.Recipient().String()}); err != nil {
				t.Fatal(err)
			}
			requests++
		}
	}
	fetchAll()
	// One agent's month changes (a late evaluation of a6 in March, a6's
	// activity in April): the published months do not move, so the two
	// fetches cannot be subtracted.
	w.write(t, eval{agent: "a6", team: "t6", camp: "p2", at: day(2026, 3, 25), answers: "nnn"})
	w.activity(t, interval("a6", "p1", time.Date(2026, 4, 20, 8, 0, 0, 0, time.UTC), 30, 50*time.Minute))
	before := len(fetched)
	fetchAll()
	for i := range before {
		if !slices.Equal(fetched[i], fetched[before+i]) {
			t.Errorf("request %d answered differently after the data changed:\n%v\n%v", i, fetched[i], fetched[before+i])
		}
	}
	// What the client may not ask: free filters, other dashboards, the
	// evaluations themselves.
	jan := timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for name, call := range map[string]func() error{
		"QualityStats by campaign": func() error {
			_, err := w.stats().QualityStats(ctx, &ecoutev1.QualityStatsRequest{Filter: &ecoutev1.StatsFilter{
				CampaignIds: []string{"p2"}, TeamIds: []string{"t6"}, From: jan}})
			return err
		},
		"AgentActivity": func() error {
			_, err := w.stats().AgentActivity(ctx, &ecoutev1.AgentActivityRequest{Filter: &ecoutev1.StatsFilter{AgentIds: []string{"a5"}}})
			return err
		},
		"StatsEvaluations": func() error {
			_, err := w.stats().StatsEvaluations(ctx, &ecoutev1.StatsEvaluationsRequest{})
			return err
		},
		"export of activity": func() error {
			_, err := w.export(t, ctx, &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Activity{
				Activity: &ecoutev1.AgentActivityRequest{}}, Recipient: id.Recipient().String()})
			return err
		},
	} {
		if err := call(); code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v", name, err)
		}
	}

	// The unknowns: each agent's contribution to each inner cell of the
	// months with data.
	type unknown struct {
		agent string
		cell  cellKey
	}
	var unknowns []unknown
	index := map[unknown]int{}
	keys := slices.Collect(func(yield func(cellKey) bool) {
		for k := range members {
			if !yield(k) {
				return
			}
		}
	})
	slices.SortFunc(keys, func(a, b cellKey) int { return strings.Compare(a.month+a.team+a.camp, b.month+b.team+b.camp) })
	for _, k := range keys {
		agents := slices.Sorted(func(yield func(string) bool) {
			for a := range members[k] {
				if !yield(a) {
					return
				}
			}
		})
		for _, a := range agents {
			u := unknown{a, k}
			index[u] = len(unknowns)
			unknowns = append(unknowns, u)
		}
	}
	covers := func(k cellKey) []int {
		var out []int
		for i, u := range unknowns {
			if u.cell.month == k.month && (k.team == "" || u.cell.team == k.team) && (k.camp == "" || u.cell.camp == k.camp) {
				out = append(out, i)
			}
		}
		return out
	}
	equations := func(primaryOnly bool) [][]*big.Rat {
		seen := map[cellKey]bool{}
		var rows [][]*big.Rat
		for _, cells := range fetched {
			for _, c := range cells {
				use := c.hidden == "" || primaryOnly && strings.Contains(strings.ToLower(c.hidden), "complementary")
				if !use || seen[c.key] {
					continue
				}
				seen[c.key] = true
				row := make([]*big.Rat, len(unknowns))
				for i := range row {
					row[i] = new(big.Rat)
				}
				for _, i := range covers(c.key) {
					row[i].SetInt64(1)
				}
				rows = append(rows, row)
			}
		}
		return rows
	}
	// The published figures are the data's: the cells are mapped right.
	var published, hidden, complementary int
	for _, cells := range fetched {
		for _, c := range cells {
			switch {
			case c.hidden == "":
				published++
				var agents int64
				seen := map[string]bool{}
				for _, i := range covers(c.key) {
					if !seen[unknowns[i].agent] {
						seen[unknowns[i].agent] = true
						agents++
					}
				}
				if agents != c.agentsPub || agents > 0 && agents < 5 || agents > 0 && c.evals < 10 {
					t.Errorf("published cell %v: %d agents published, %d in the data, %d evaluations", c.key, c.agentsPub,
						agents, c.evals)
				}
			case strings.Contains(strings.ToLower(c.hidden), "complementary"):
				complementary++
				hidden++
			default:
				hidden++
			}
		}
	}
	if published == 0 || hidden == 0 || complementary == 0 {
		t.Fatalf("%d published, %d hidden (%d complementary): the data set does not exercise the rules", published, hidden,
			complementary)
	}
	leaks := func(rows [][]*big.Rat) []string {
		r := rank(rows, len(unknowns))
		var out []string
		agentsMonths := map[[2]string][]int{}
		for i, u := range unknowns {
			k := [2]string{u.agent, u.cell.month}
			agentsMonths[k] = append(agentsMonths[k], i)
		}
		for k, cols := range agentsMonths {
			// dim(row space ∩ span(e_i, i ∈ cols)) = rank(A) + |cols| − rank([A; E]).
			e := slices.Clone(rows)
			for _, c := range cols {
				v := make([]*big.Rat, len(unknowns))
				for i := range v {
					v[i] = new(big.Rat)
				}
				v[c].SetInt64(1)
				e = append(e, v)
			}
			if r+len(cols)-rank(e, len(unknowns)) > 0 {
				out = append(out, k[0]+" in "+k[1])
			}
		}
		slices.Sort(out)
		return out
	}
	if l := leaks(equations(false)); len(l) > 0 {
		t.Errorf("the published tables determine a figure of %v", l)
	}
	if l := leaks(equations(true)); len(l) == 0 {
		t.Errorf("without complementary suppression no figure is determined: the attack would not see a leak")
	} else {
		t.Logf("without complementary suppression, figures of %v would be determined", l)
	}
	t.Logf("%d requests, %d unknowns, %d published equations (rank %d), %d cells hidden (%d complementary)", requests,
		len(unknowns), len(equations(false)), rank(equations(false), len(unknowns)), hidden, complementary)
	if n := auditCount(t, w.app, core.ActionStatsClient, ""); n != 24 {
		t.Errorf("client tables audited %d times", n)
	}
	_ = store.SpanMonth
}

// rank is the exact rank of rows (each of width n) over the rationals.
func rank(rows [][]*big.Rat, n int) int {
	m := make([][]*big.Rat, len(rows))
	for i, r := range rows {
		m[i] = make([]*big.Rat, n)
		for j := range n {
			m[i][j] = new(big.Rat).Set(r[j])
		}
	}
	r := 0
	for col := 0; col < n && r < len(m); col++ {
		p := -1
		for i := r; i < len(m); i++ {
			if m[i][col].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		for i := r + 1; i < len(m); i++ {
			if m[i][col].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(m[i][col], m[r][col])
			for j := col; j < n; j++ {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[r][j]))
			}
		}
		r++
	}
	return r
}
