package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/fieldcrypt"
	"github.com/ecoute/ecoute/backend/store"
)

// TestPeerQueriesReturnTheStoresRows: the sqlite3 shell, given the peer
// queries, returns the very calls (and filter choices) the store returns,
// for every listing case of the report, on a small database.
func TestPeerQueriesReturnTheStoresRows(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 not installed (apt-get install sqlite3)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ecoute.db")
	st, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		must(st.CreateTeam(ctx, store.Team{ID: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("Team %d", 2-i)}))
	}
	must(st.CreateCampaign(ctx, store.Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	for i := range 6 {
		must(st.CreateAgent(ctx, store.Agent{ID: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("Agent %d", (i*5)%6), TeamID: fmt.Sprintf("t%d", i%3)}))
	}
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	var calls []store.NewCall
	for i := range 600 {
		at := base.Add(time.Duration(i/2) * time.Minute) // pairs share a start: the id breaks ties
		a := i % 6
		calls = append(calls, store.NewCall{Call: store.Call{
			ID: fmt.Sprintf("call-%04d", i), ExternalID: fmt.Sprintf("x-%d", i), StartedAt: at, EndedAt: at.Add(time.Minute),
			AgentID: fmt.Sprintf("a%d", a), TeamID: fmt.Sprintf("t%d", a%3), CampaignID: "c1", Direction: "inbound",
			ConsentRequestedAt: at, ConsentAccepted: true, State: store.StateKept, RetainedUntil: at.AddDate(1, 0, 0),
			Audio: store.Audio{Key: "k", Size: 10, Codec: "mp3", Duration: time.Duration(20+i%7) * time.Second},
			// Personal data the shell prints: text with a newline and a
			// quote, then sealed (a BLOB).
			CustomerName: "Line one\nO'Brien, Ann",
		}, Waveform: store.Waveform{Peaks: []byte{1}, FrameOffsets: []int64{0}}})
	}
	must(st.InsertCalls(ctx, calls))
	mid := &store.Cursor{Int: base.Add(150 * time.Minute).UnixMilli(), ID: "call-0300"}
	all := store.Scope{All: true}
	cases := []listCase{
		{name: "date", q: store.ListQuery{Scope: all, Order: store.OrderStartedAt, Desc: true, Limit: 51}},
		{name: "date deep", q: store.ListQuery{Scope: all, Order: store.OrderStartedAt, Desc: true, Limit: 51, After: mid}},
		{name: "team agent deep", q: store.ListQuery{Scope: store.Scope{TeamIDs: []string{"t1"}}, Filter: store.Filter{AgentIDs: []string{"a1"}},
			Order: store.OrderStartedAt, Desc: true, Limit: 51, After: mid}},
		{name: "duration", q: store.ListQuery{Scope: all, Order: store.OrderDuration, Desc: true, Limit: 51}},
		{name: "team month", q: store.ListQuery{Scope: store.Scope{TeamIDs: []string{"t1"}}, Filter: store.Filter{StartedAfter: base.Add(time.Hour),
			StartedBefore: base.Add(4 * time.Hour)}, Order: store.OrderStartedAt, Desc: true, Limit: 51}},
		{name: "duration deep", q: store.ListQuery{Scope: all, Order: store.OrderDuration, Desc: true, Limit: 51,
			After: &store.Cursor{Int: 23000, ID: "call-0300"}}},
		{name: "agent", q: store.ListQuery{Scope: all, Order: store.OrderAgentName, Limit: 51}},
		{name: "agent deep", q: store.ListQuery{Scope: all, Order: store.OrderAgentName, Limit: 51,
			After: &store.Cursor{Str: "Agent 3", Agent: "a3", ID: "call-0303"}}},
		{name: "choices", q: store.ListQuery{Scope: store.Scope{TeamIDs: []string{"t0", "t2"}}}, choices: true},
	}
	sh, err := openShell(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.close()
	check := func(phase string) {
		t.Helper()
		for _, c := range cases {
			var want []string
			if c.choices {
				ch, err := st.FilterChoices(ctx, c.q.Scope)
				must(err)
				for _, k := range [][]store.Choice{ch.Agents, ch.Teams, ch.Campaigns} {
					for _, x := range k {
						want = append(want, x.ID)
					}
				}
				got, _, err := sh.query(peerChoices(c.q.Scope))
				must(err)
				if !slices.Equal(got, want) {
					t.Errorf(phase+" %s: shell %v, store %v", c.name, got, want)
				}
				continue
			}
			p, err := st.ListCallsPage(ctx, c.q)
			must(err)
			for _, x := range p.Calls {
				want = append(want, x.ID)
			}
			got, _, err := sh.query(peerPage(c.q))
			must(err)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf(phase+" %s: shell %d rows %v…, store %d rows %v…", c.name, len(got), head(got), len(want), head(want))
			}
			n, _, err := sh.query(peerCount(c.q))
			must(err)
			if len(n) != 1 || n[0] != fmt.Sprint(p.Total) || p.TotalIsEstimate {
				t.Errorf(phase+" %s: shell count %v, store total %d (estimate: %v)", c.name, n, p.Total, p.TotalIsEstimate)
			}
		}
	}
	check("in clear:")
	key := make([]byte, 32)
	rand.Read(key)
	fc, err := fieldcrypt.New(key)
	must(err)
	_, err = st.EnableFieldEncryption(ctx, fc)
	must(err)
	check("sealed:")
}
