package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Page is one page of a listing and how many calls match the listing.
type Page struct {
	Calls []Call
	Total int64
	// TotalIsEstimate says Total is an estimate: the filter has dates,
	// durations or scores and matches more calls than are counted while
	// the page waits. The exact count is then made in the background and
	// given with the next page that asks after it is done.
	TotalIsEstimate bool
}

// CallLister lists calls for the console.
type CallLister interface {
	// ListCallsPage returns one page of kept calls and their total. The
	// total of a filter on teams, agents, campaigns and the evaluated mark
	// is exact and read from the call tally (migration 00061); with dates,
	// durations or scores it is counted exactly up to SyncCountMax calls,
	// else taken from the last exact count of the same scope and filter
	// while no kept call changed since, else estimated (see Page).
	ListCallsPage(ctx context.Context, q ListQuery) (Page, error)
}

// SyncCountMax is how many calls (of a filter's teams, agents, campaigns
// and evaluated mark, before its dates, durations and scores) the listing
// counts exactly while the page waits: a few milliseconds of index reads.
const SyncCountMax = 5000

// syncCountMax is SyncCountMax; tests lower it.
var syncCountMax int64 = SyncCountMax

// forcePlan makes every listing narrow ("narrow") or not ("wide"); tests
// set it to read each page both ways.
var forcePlan string

// ListCallsPage returns one page of kept calls and their total.
func (s *SQLite) ListCallsPage(ctx context.Context, q ListQuery) (Page, error) {
	st, err := s.listStats(ctx, q.Scope, q.Filter)
	if err != nil {
		return Page{}, err
	}
	calls, err := s.listPage(ctx, q, &st)
	if err != nil {
		return Page{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if q.After == nil && len(calls) < limit {
		// The first page holds every match: that is the count.
		return Page{Calls: calls, Total: int64(len(calls))}, nil
	}
	total, estimate, err := s.total(ctx, q.Scope, q.Filter, st)
	if err != nil {
		return Page{}, err
	}
	if estimate && q.After == nil {
		total = max(total, int64(len(calls)))
	}
	return Page{Calls: calls, Total: total, TotalIsEstimate: estimate}, nil
}

// countCalls is the exact number of kept calls in scope matching f.
func (s *SQLite) countCalls(ctx context.Context, scope Scope, f Filter) (int64, error) {
	w, args := where(scope, f)
	var total int64
	// The filter only names columns of calls: counting without the joins.
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM calls c`+w, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count calls: %w", err)
	}
	return total, nil
}

// hasRange tells whether f bounds dates, durations or scores: what the
// call tally does not count.
func hasRange(f Filter) bool {
	return !f.StartedAfter.IsZero() || !f.StartedBefore.IsZero() || f.MinDuration > 0 || f.MaxDuration > 0 ||
		f.MinScore != nil || f.MaxScore != nil
}

// tallyWhere is where's clause for the call tally (alias k): the scope,
// teams, agents, campaigns and the evaluated mark; prefix starts it
// (" WHERE " or " AND ").
func tallyWhere(prefix string, scope Scope, f Filter) (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) string {
		for _, v := range vals {
			args = append(args, v)
		}
		return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")"
	}
	if !scope.All {
		var or []string
		if len(scope.TeamIDs) > 0 {
			or = append(or, in("k.team_id", scope.TeamIDs))
		}
		if len(scope.AgentIDs) > 0 {
			or = append(or, in("k.agent_id", scope.AgentIDs))
		}
		if len(or) == 0 {
			or = []string{"1 = 0"}
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if len(f.TeamIDs) > 0 {
		conds = append(conds, in("k.team_id", f.TeamIDs))
	}
	if len(f.AgentIDs) > 0 {
		conds = append(conds, in("k.agent_id", f.AgentIDs))
	}
	if len(f.CampaignIDs) > 0 {
		conds = append(conds, in("k.campaign_id", f.CampaignIDs))
	}
	if f.Evaluated != nil {
		conds = append(conds, "k.evaluated = ?")
		args = append(args, b2i(*f.Evaluated))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return prefix + strings.Join(conds, " AND "), args
}

// total is the number of calls of a listing, and whether it is an
// estimate (see ListCallsPage).
func (s *SQLite) total(ctx context.Context, scope Scope, f Filter, st listStats) (int64, bool, error) {
	if st.exact || !hasRange(f) || st.tallied == 0 {
		return st.tallied, false, nil
	}
	if st.tallied <= syncCountMax {
		n, err := s.countCalls(ctx, scope, f)
		return n, false, err
	}
	gen, err := s.changeCount(ctx, counterCalls)
	if err != nil {
		return 0, false, err
	}
	key := countKey(scope, f)
	if n, ok := s.counts.get(key, gen); ok {
		return n, false, nil
	}
	s.counts.start(key, gen, func(ctx context.Context) (int64, error) { return s.countCalls(ctx, scope, f) })
	// Durations and scores are not estimated: their exact count follows.
	return roundTwoDigits(st.estimate()), true, nil
}

// dateShare is the share of the kept calls that f's dates hold, from
// call_days (a day prorated at each end of the range).
func (s *SQLite) dateShare(ctx context.Context, f Filter) (float64, error) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.StartedAfter.IsZero() {
		from = ms(f.StartedAfter)
	}
	if !f.StartedBefore.IsZero() {
		to = ms(f.StartedBefore)
	}
	rows, err := s.query(ctx, `SELECT day, n FROM call_days`)
	if err != nil {
		return 0, fmt.Errorf("share of dates: %w", err)
	}
	defer rows.Close()
	var all, in float64
	for rows.Next() {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			return 0, fmt.Errorf("share of dates: %w", err)
		}
		all += float64(n)
		if lo, hi := max(day, from), min(day+dayMS, to); hi > lo {
			in += float64(n) * float64(hi-lo) / float64(dayMS)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("share of dates: %w", err)
	}
	if all == 0 {
		return 1, nil
	}
	return in / all, nil
}

// roundTwoDigits rounds a positive count to two significant digits (at
// least 1): 52,341 → 52,000.
func roundTwoDigits(v float64) int64 {
	if v < 1 {
		return 1
	}
	p := math.Pow(10, math.Max(0, math.Floor(math.Log10(v))-1))
	return int64(math.Round(v/p) * p)
}

// countKey names a scope and filter in the count cache.
func countKey(scope Scope, f Filter) string {
	var b strings.Builder
	list := func(name string, v []string) {
		v = slices.Clone(v)
		slices.Sort(v)
		fmt.Fprintf(&b, "%s=%q;", name, v)
	}
	fmt.Fprintf(&b, "all=%v;", scope.All)
	list("steams", scope.TeamIDs)
	list("sagents", scope.AgentIDs)
	list("teams", f.TeamIDs)
	list("agents", f.AgentIDs)
	list("campaigns", f.CampaignIDs)
	fmt.Fprintf(&b, "after=%d;before=%d;min=%d;max=%d;", ms(f.StartedAfter), ms(f.StartedBefore), f.MinDuration, f.MaxDuration)
	opt := func(name string, v any, ok bool) {
		if ok {
			fmt.Fprintf(&b, "%s=%v;", name, v)
		}
	}
	opt("evaluated", deref(f.Evaluated), f.Evaluated != nil)
	opt("minscore", deref(f.MinScore), f.MinScore != nil)
	opt("maxscore", deref(f.MaxScore), f.MaxScore != nil)
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// countCache keeps the exact counts of filtered listings, each with the
// 'calls' change counter it was made at, and runs the counts in the
// background, one at a time.
type countCache struct {
	mu      sync.Mutex
	done    map[string]countEntry
	running map[string]bool
	slot    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type countEntry struct{ gen, n int64 }

// maxCounts bounds the cache: beyond it the entries of older changes go,
// then the others.
const maxCounts = 256

// countTimeout bounds one background count.
const countTimeout = time.Minute

func newCountCache() *countCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &countCache{done: map[string]countEntry{}, running: map[string]bool{}, slot: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel}
}

func (c *countCache) get(key string, gen int64) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.done[key]
	return e.n, ok && e.gen == gen
}

// start counts key in the background unless it is being counted or
// another count runs (the next page asks again).
func (c *countCache) start(key string, gen int64, count func(context.Context) (int64, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running[key] || c.ctx.Err() != nil {
		return
	}
	select {
	case c.slot <- struct{}{}:
	default:
		return
	}
	c.running[key] = true
	c.wg.Go(func() {
		defer func() { <-c.slot }()
		ctx, cancel := context.WithTimeout(c.ctx, countTimeout)
		n, err := count(ctx)
		cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.running, key)
		if err != nil {
			return // the next page tries again
		}
		if len(c.done) >= maxCounts {
			for k, e := range c.done {
				if e.gen < gen {
					delete(c.done, k)
				}
			}
			if len(c.done) >= maxCounts {
				clear(c.done)
			}
		}
		c.done[key] = countEntry{gen: gen, n: n}
	})
}

// wait waits for the background counts (tests).
func (c *countCache) wait() { c.wg.Wait() }

// stop cancels the background counts and waits for them.
func (c *countCache) stop() {
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

// listStats are what the listing knows before reading a call: how many
// kept calls there are, how many of them the filter's teams, agents,
// campaigns and evaluated mark keep (exact, from the call tally), and the
// share of kept calls its dates hold (from call_days; 1 without dates).
type listStats struct {
	all, tallied int64
	share        float64
	// exact: tallied is the exact number of matches, counted on the calls
	// (a trainer's reach, trainees and the calls of their coaching
	// sessions, is not a sum of the tally's teams and agents).
	exact bool
}

// estimate is how many calls the filter is expected to match: exact
// without dates, durations and scores; durations and scores are not
// estimated.
func (st listStats) estimate() float64 { return float64(st.tallied) * st.share }

func (s *SQLite) listStats(ctx context.Context, scope Scope, f Filter) (listStats, error) {
	st := listStats{share: 1}
	if scope.Trainer != "" && !scope.All {
		// A trainer reaches few calls: count them, and list them by
		// sorting (narrow), never through the tally.
		n, err := s.countCalls(ctx, scope, f)
		if err != nil {
			return st, err
		}
		st.tallied, st.exact = n, true
		if err := s.queryRow(ctx, `SELECT COALESCE(SUM(n), 0) FROM call_tally`).Scan(&st.all); err != nil {
			return st, fmt.Errorf("count calls: %w", err)
		}
		return st, nil
	}
	tw, targs := tallyWhere(" WHERE ", scope, f)
	err := s.queryRow(ctx, `SELECT COALESCE(SUM(k.n), 0), (SELECT COALESCE(SUM(n), 0) FROM call_tally)
		FROM call_tally k`+tw, targs...).Scan(&st.tallied, &st.all)
	if err != nil {
		return st, fmt.Errorf("count calls: %w", err)
	}
	if st.tallied > 0 && (!f.StartedAfter.IsZero() || !f.StartedBefore.IsZero()) {
		if st.share, err = s.dateShare(ctx, f); err != nil {
			return st, err
		}
	}
	return st, nil
}

// narrow tells whether a page is read by sorting the calls the filter
// matches rather than by walking an index in the page's order and testing
// each call. Walking reads about limit·all/matched index entries,
// sorting about matched: sorting is cheaper below √(limit·all), about
// 14,000 calls for a page of 200 among a million.
func (st listStats) narrow(limit int) bool {
	if st.exact {
		return true
	}
	switch forcePlan {
	case "narrow":
		return true
	case "wide":
		return false
	}
	m := st.estimate()
	return m*m < float64(limit)*float64(st.all)
}

// listPage returns one page of kept calls.
func (s *SQLite) listPage(ctx context.Context, q ListQuery, st *listStats) ([]Call, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var key string
	switch q.Order {
	case OrderStartedAt, "":
		key = "c.started_at"
	case OrderDuration:
		key = "c.duration_ms"
	case OrderAgentName:
	default:
		return nil, fmt.Errorf("unknown order %q", q.Order)
	}
	if st == nil {
		v, err := s.listStats(ctx, q.Scope, q.Filter)
		if err != nil {
			return nil, err
		}
		st = &v
	}
	if st.tallied == 0 {
		return nil, nil
	}
	if q.Order == OrderAgentName {
		return s.pageByAgent(ctx, q, limit, st)
	}
	w, args := where(q.Scope, q.Filter)
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if !st.narrow(limit) {
		// Walk the (state, key, id) index in the page's order; the
		// keyset position is a row value, a range of that index (in
		// SQLite and PostgreSQL alike).
		if q.After != nil {
			w += fmt.Sprintf(" AND (%s, c.id) %s (?, ?)", key, cmp)
			args = append(args, q.After.Int, q.After.ID)
		}
		idx := map[string]string{"c.started_at": "calls_state_started", "c.duration_ms": "calls_state_duration"}[key]
		return s.queryCalls(ctx, `SELECT `+callCols+callFromIndexed(idx)+w+
			fmt.Sprintf(" ORDER BY %s %s, c.id %s LIMIT %d", key, dir, dir, limit), args...)
	}
	// Few calls match: find them through the filter's own index and sort
	// their keys only, then read the page's rows.
	from, err := s.narrowFrom(ctx, q.Scope, q.Filter, st)
	if err != nil {
		return nil, err
	}
	if q.After != nil {
		w += fmt.Sprintf(" AND (%s, c.id) %s (?, ?)", key, cmp)
		args = append(args, q.After.Int, q.After.ID)
	}
	order := fmt.Sprintf(" ORDER BY %s %s, c.id %s", key, dir, dir)
	return s.queryCalls(ctx, `SELECT `+callCols+callFrom+` WHERE c.id IN (SELECT c.id`+from+w+order+
		fmt.Sprintf(" LIMIT %d)", limit)+order, args...)
}

// narrowFrom is the FROM clause of the calls a narrow listing sorts: the
// index of its scope or filter that holds the fewest calls, by the call
// tally and call_days. SQLite's planner cannot tell (its statistics say a
// campaign holds half the calls when it is one of two, however small it
// is), and without statistics it guesses.
func (s *SQLite) narrowFrom(ctx context.Context, scope Scope, f Filter, st *listStats) (string, error) {
	best, bestN := "", math.Inf(1)
	consider := func(idx string, n float64) {
		if n < bestN {
			best, bestN = idx, n
		}
	}
	if !f.StartedAfter.IsZero() || !f.StartedBefore.IsZero() {
		consider("calls_state_started", float64(st.all)*st.share)
	}
	sum := func(col string, vals []string) (float64, error) {
		q := `SELECT COALESCE(SUM(n), 0) FROM call_tally WHERE ` + col + ` IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + `)`
		var args []any
		for _, v := range vals {
			args = append(args, v)
		}
		var n int64
		if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("list calls: %w", err)
		}
		return float64(n), nil
	}
	for _, d := range []struct {
		idx, col string
		vals     []string
	}{
		{"calls_agent_started", "agent_id", f.AgentIDs},
		{"calls_team_started", "team_id", f.TeamIDs},
		{"calls_campaign_started", "campaign_id", f.CampaignIDs},
		{"calls_agent_started", "agent_id", onlyOf(!scope.All && len(scope.TeamIDs) == 0, scope.AgentIDs)},
		{"calls_team_started", "team_id", onlyOf(!scope.All && len(scope.AgentIDs) == 0, scope.TeamIDs)},
	} {
		if len(d.vals) == 0 {
			continue
		}
		n, err := sum(d.col, d.vals)
		if err != nil {
			return "", err
		}
		consider(d.idx, n)
	}
	if best == "" {
		return " FROM calls c", nil
	}
	return " FROM calls c INDEXED BY " + best, nil
}

func onlyOf(ok bool, v []string) []string {
	if ok {
		return v
	}
	return nil
}

func (s *SQLite) queryCalls(ctx context.Context, query string, args ...any) ([]Call, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		c, err := s.scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

// pageByAgent lists in agent-name order: agent name, agent id, call id.
// When few calls match, they are found through the filter's index and
// sorted. Otherwise: SQLite cannot keep an index's order through the join
// of agents and calls (it sorted every kept call for each page), so the
// agents with calls in the scope are taken in order from the call tally
// and each one's calls read in id order from calls_agent_state_id, until
// the page is full.
func (s *SQLite) pageByAgent(ctx context.Context, q ListQuery, limit int, st *listStats) ([]Call, error) {
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	after := q.After
	if after != nil && after.Agent == "" {
		// A cursor without its agent: the agent of its call.
		var a string
		err := s.queryRow(ctx, `SELECT agent_id FROM calls WHERE id = ?`, after.ID).Scan(&a)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		after = &Cursor{Str: after.Str, ID: after.ID, Agent: a}
	}
	w, wargs := where(q.Scope, q.Filter)
	if st.narrow(limit) {
		args := slices.Clone(wargs)
		switch {
		case after != nil && after.Agent == "":
			w += fmt.Sprintf(" AND a.name %s ?", cmp)
			args = append(args, after.Str)
		case after != nil:
			w += fmt.Sprintf(" AND (a.name, a.id, c.id) %s (?, ?, ?)", cmp)
			args = append(args, after.Str, after.Agent, after.ID)
		}
		from, err := s.narrowFrom(ctx, q.Scope, q.Filter, st)
		if err != nil {
			return nil, err
		}
		order := fmt.Sprintf(" ORDER BY a.name %s, a.id %s, c.id %s", dir, dir, dir)
		return s.queryCalls(ctx, `SELECT `+callCols+callFrom+` WHERE c.id IN (SELECT c.id`+from+
			` JOIN agents a ON a.id = c.agent_id`+w+order+fmt.Sprintf(" LIMIT %d)", limit)+order, args...)
	}
	tw, args := tallyWhere(" AND ", q.Scope, q.Filter)
	query := `SELECT x.id FROM agents x WHERE EXISTS (SELECT 1 FROM call_tally k WHERE k.agent_id = x.id` + tw + `)`
	switch {
	case after != nil && after.Agent == "":
		query += fmt.Sprintf(" AND x.name %s ?", cmp)
		args = append(args, after.Str)
	case after != nil:
		query += fmt.Sprintf(" AND (x.name, x.id) %s= (?, ?)", cmp)
		args = append(args, after.Str, after.Agent)
	}
	query += fmt.Sprintf(" ORDER BY x.name %s, x.id %s", dir, dir)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list calls by agent: %w", err)
	}
	var agents []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list calls by agent: %w", err)
		}
		agents = append(agents, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls by agent: %w", err)
	}
	var out []Call
	for _, a := range agents {
		cond := w + " AND c.agent_id = ?"
		args := append(slices.Clone(wargs), a)
		if after != nil && a == after.Agent {
			cond += fmt.Sprintf(" AND c.id %s ?", cmp)
			args = append(args, after.ID)
		}
		calls, err := s.queryCalls(ctx, `SELECT `+callCols+callFromIndexed("calls_agent_state_id")+cond+
			fmt.Sprintf(" ORDER BY c.id %s LIMIT %d", dir, limit-len(out)), args...)
		if err != nil {
			return nil, err
		}
		out = append(out, calls...)
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// callFromIndexed is callFrom reading calls through the index idx.
func callFromIndexed(idx string) string {
	return strings.Replace(callFrom, "FROM calls c", "FROM calls c INDEXED BY "+idx, 1)
}
