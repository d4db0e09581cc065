package sampling

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/store"
)

// TrailEntry is an audit entry about a day's draws (ActionCommit or
// ActionWithdrawn), as the trail holds it.
type TrailEntry struct {
	Seq     int64
	At      time.Time
	Action  string
	Details map[string]string
}

// Check is the verdict on one round of a day.
type Check struct {
	Round store.SamplingRound
	// Problems are what does not hold: the round cannot be trusted.
	Problems []string
	// Notes are what could not be checked (data already purged).
	Notes []string
}

// OK says the round passed every check that could be made.
func (c Check) OK() bool { return len(c.Problems) == 0 }

// Verify checks a round of a day, as an auditor would, afterwards:
//
//   - the seed revealed in the record opens the commitment, and the trail
//     received that commitment for that day and round before the draw,
//     once: every other commitment of the round was withdrawn (no draw
//     made again until the outcome suited someone);
//   - the rate was within the lawful maximum;
//   - the per-agent counts add up, and each agent's quota is the one the
//     seed gives (same rate for everyone, randomised rounding);
//   - while the hashes of the sampled-out calls are kept, the draw itself:
//     each agent's kept calls are exactly those of smallest rank under
//     the seed.
//
// sampledOut holds the round's hashes by stratum (store.SampledOutHashes).
func Verify(r store.SamplingRound, trail []TrailEntry, sampledOut map[int][]int64, maxRate float64) Check {
	c := Check{Round: r}
	bad := func(format string, a ...any) { c.Problems = append(c.Problems, fmt.Sprintf(format, a...)) }
	if len(r.Seed) != SeedSize || Commitment(r.Day, r.Round, r.Rate, r.Seed) != r.Commitment {
		bad("the seed does not open the commitment %s", r.Commitment)
	}
	round := strconv.Itoa(r.Round)
	var committed *TrailEntry
	open := 0
	withdrawn := map[string]bool{}
	for _, e := range trail {
		if e.Action == ActionWithdrawn && e.Details["round"] == round {
			withdrawn[e.Details["commitment"]] = true
		}
	}
	for i, e := range trail {
		if e.Action != ActionCommit || e.Details["round"] != round {
			continue
		}
		if e.Details["commitment"] == r.Commitment {
			committed = &trail[i]
			continue
		}
		if !withdrawn[e.Details["commitment"]] {
			open++
		}
	}
	switch {
	case committed == nil:
		bad("the audit trail holds no commitment for round %d of %s", r.Round, r.Day.Format(time.DateOnly))
	case committed.At.After(r.SampledAt):
		bad("the commitment was recorded at %s, after the draw at %s", committed.At.Format(time.RFC3339), r.SampledAt.Format(time.RFC3339))
	case committed.Details["rate"] != strconv.FormatFloat(r.Rate, 'g', -1, 64):
		bad("the commitment declared the rate %s, the record says %g", committed.Details["rate"], r.Rate)
	}
	if open > 0 {
		bad("%d other commitment(s) for round %d were neither drawn nor withdrawn", open, r.Round)
	}
	if r.Rate <= 0 || r.Rate > maxRate {
		bad("the rate %g is outside the lawful range (0, %g]", r.Rate, maxRate)
	}
	var strata []Stratum
	if err := json.Unmarshal(r.Strata, &strata); err != nil {
		bad("the per-agent record does not read: %v", err)
		return c
	}
	received, kept := 0, 0
	sawHashes := false
	for i, st := range strata {
		received += st.Received
		kept += st.Kept
		if want := QuotaFor(r.Seed, st.Agent, st.Received, r.Rate); st.Kept != want || len(st.KeptHashes) != st.Kept {
			bad("agent %s: %d of %d kept (%d hashes), the seed's quota is %d", st.Agent, st.Kept, st.Received,
				len(st.KeptHashes), want)
			continue
		}
		out := sampledOut[r.Round<<16|i]
		if len(out) == 0 && st.Received > st.Kept {
			continue // purged with the day's recordings
		}
		sawHashes = true
		if len(out) != st.Received-st.Kept {
			bad("agent %s: %d sampled-out hashes kept, %d calls were sampled out", st.Agent, len(out), st.Received-st.Kept)
			continue
		}
		rk := newRanker(r.Seed)
		type ranked struct {
			h    int64
			rank uint64
		}
		all := make([]ranked, 0, st.Received)
		for _, h := range st.KeptHashes {
			all = append(all, ranked{h, rk.rank(h)})
		}
		for _, h := range out {
			all = append(all, ranked{h, rk.rank(h)})
		}
		slices.SortFunc(all, func(x, y ranked) int {
			if x.rank != y.rank {
				return cmpU64(x.rank, y.rank)
			}
			return cmpI64(x.h, y.h)
		})
		drawn := make([]int64, st.Kept)
		for j := range drawn {
			drawn[j] = all[j].h
		}
		slices.Sort(drawn)
		if !slices.Equal(drawn, st.KeptHashes) {
			bad("agent %s: the calls kept are not those the seed draws", st.Agent)
		}
	}
	if received != r.Received || kept != r.Kept {
		bad("the agents' figures add up to %d received, %d kept; the record says %d, %d", received, kept, r.Received, r.Kept)
	}
	if !sawHashes && r.Received > r.Kept {
		c.Notes = append(c.Notes, "the sampled-out hashes were purged with the day's recordings: the draw itself can no longer be recomputed")
	}
	return c
}

// VerifyKept checks the kept calls of a day that are still stored
// against the day's rounds: each is one the draws kept, for its agent.
// hash is the keyed hash of an external id (Hasher.Hash).
func VerifyKept(rounds []store.SamplingRound, kept []store.KeptCall, hash func(string) int64) []string {
	drawn := map[string]map[int64]bool{}
	for _, r := range rounds {
		var strata []Stratum
		if json.Unmarshal(r.Strata, &strata) != nil {
			continue
		}
		for _, st := range strata {
			if drawn[st.Agent] == nil {
				drawn[st.Agent] = map[int64]bool{}
			}
			for _, h := range st.KeptHashes {
				drawn[st.Agent][h] = true
			}
		}
	}
	var problems []string
	outside := map[string]int{}
	for _, k := range kept {
		if !drawn[k.AgentID][hash(k.ExternalID)] {
			outside[k.AgentID]++
		}
	}
	agents := make([]string, 0, len(outside))
	for a := range outside {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	for _, a := range agents {
		problems = append(problems, fmt.Sprintf("agent %s: %d kept call(s) that no draw of the day kept", a, outside[a]))
	}
	return problems
}
