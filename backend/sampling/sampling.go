// Package sampling is the daily random sampling of recordings (R2): every
// recording arrives waiting and invisible; for each past day, a fraction of
// each agent's recordings is kept and the rest deleted, row and audio.
//
// The choice is stratified per agent so every agent is recorded at the same
// rate (no one is favoured or targeted), with randomised rounding so an
// agent with 10 calls at 5% keeps one call half of the days rather than
// never. The draw of a day is a function of a fresh 32-byte seed from
// crypto/rand, committed to the audit trail before the draw and revealed
// in the day's record after it (commit–reveal): agents cannot predict
// which calls are kept, the operator cannot draw again until the outcome
// suits them without the trail showing it, and an auditor can recompute
// the draw afterwards (Verify).
//
// A sampled-out call leaves only a keyed hash of its external id
// (HMAC-SHA-256 with a key derived from the data key), so the same call
// uploaded again is refused rather than drawn again.
//
// The audio of the calls kept is copied out of the day's packs into a
// pack of its own, so that the day's packs die whole and go with one file
// deletion each: deleting 95 % of a day costs what copying 5 % costs.
package sampling

import (
	"bufio"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// JobName names the runs in the job record.
const JobName = "sample"

// Audit actions of the draw.
const (
	// ActionCommit is appended before a day's draw: its target is the
	// day, its details the round, the rate and the commitment.
	ActionCommit = "job.sampling.commit"
	// ActionWithdrawn is appended when a committed draw was not made
	// (another sampler took the round, nothing was left to sample, or the
	// draw failed): its details say why.
	ActionWithdrawn = "job.sampling.withdrawn"
)

// IDKeyPurpose names the key of the external ids' hashes, derived from the
// data key (blobs.Files.DeriveKey).
const IDKeyPurpose = "sampled-out external ids"

// Copier moves blobs out of their packs into a pack of their own
// (blobs.Files).
type Copier interface {
	CopyOut(ctx context.Context, group string, keys []string) (*blobs.Copied, error)
}

// Sealer stops appending to a group's pack in this process (blobs.Files):
// a day is sealed before its draw, so its packs can be removed whole.
type Sealer interface {
	SealGroup(group string)
}

// Sampler settles the recordings waiting for the sampling.
type Sampler struct {
	Store store.JobStore
	// Blobs deletes the audio; a Copier also moves the kept audio out of
	// the day's packs.
	Blobs jobs.Deleter
	Rate  float64 // fraction kept, 0 < Rate ≤ 1 (the configuration's lawful range is narrower)
	// IDKey keys the hashes of external ids.
	IDKey []byte
	// Trail receives each draw's commitment before the draw; nil records
	// none (tests of the draw alone).
	Trail audit.Appender
	// Clock dates the records; nil is the real clock.
	Clock clock.Clock
}

// Report is what a run did, in counts.
type Report struct {
	Days         []Day
	Received     int // recordings settled
	Kept         int
	FilesDeleted int
}

// Day is one sampled day.
type Day struct {
	Day            time.Time
	Round          int
	Received, Kept int
}

// Run samples every UTC day before now's day that still holds waiting
// recordings. A day already sampled has none left, so a second run changes
// nothing; recordings uploaded late for a sampled day are sampled on their
// own at the next run (another round), at the same rate. Each day is one
// transaction: an interrupted run leaves the day as it was, to be sampled
// again (with a new seed; the withdrawn commitment stays in the trail).
func (s *Sampler) Run(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	if s.Rate <= 0 || s.Rate > 1 {
		return rep, fmt.Errorf("sampling rate %g is outside (0, 1]", s.Rate)
	}
	if len(s.IDKey) == 0 {
		return rep, errors.New("sampling: no key for the hashes of external ids")
	}
	n, err := jobs.DrainBlobs(ctx, s.Store, s.Blobs)
	rep.FilesDeleted += n
	if err != nil {
		return rep, err
	}
	days, err := s.Store.PendingDays(ctx, now)
	if err != nil {
		return rep, err
	}
	for _, d := range days {
		day, err := s.sampleDay(ctx, d, now)
		if err != nil {
			return rep, err
		}
		if day.Received == 0 {
			continue
		}
		rep.Days = append(rep.Days, day)
		rep.Received += day.Received
		rep.Kept += day.Kept
		// Audio goes day by day so a long backlog does not pile up on disk.
		n, err := jobs.DrainBlobs(ctx, s.Store, s.Blobs)
		rep.FilesDeleted += n
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// drawAttempts bounds how often a day is read again when uploads change it
// while its kept audio is copied.
const drawAttempts = 5

func (s *Sampler) sampleDay(ctx context.Context, day, now time.Time) (Day, error) {
	if sl, ok := s.Blobs.(Sealer); ok {
		sl.SealGroup(day.UTC().Format(time.DateOnly))
	}
	done, err := s.Store.SamplingRoundCount(ctx, day)
	if err != nil {
		return Day{}, err
	}
	round := done + 1
	seed := make([]byte, SeedSize)
	crand.Read(seed)
	commitment := Commitment(day, round, s.Rate, seed)
	details := map[string]string{"round": strconv.Itoa(round), "rate": strconv.FormatFloat(s.Rate, 'g', -1, 64),
		"commitment": commitment}
	if err := s.trail(ctx, ActionCommit, day, details); err != nil {
		return Day{}, fmt.Errorf("commit the draw of %s: %w", day.Format(time.DateOnly), err)
	}
	var out Day
	for attempt := 1; ; attempt++ {
		out, err = s.draw(ctx, day, now, round, seed, commitment)
		if !errors.Is(err, store.ErrPendingChanged) || attempt == drawAttempts {
			break
		}
	}
	if err != nil {
		// The commitment stays in the trail; say why no draw followed it.
		withdrawn := errors.Is(err, store.ErrRoundTaken) || errors.Is(err, store.ErrNothingPending)
		switch {
		case errors.Is(err, store.ErrRoundTaken):
			details["why"] = "another sampler drew this round"
		case errors.Is(err, store.ErrNothingPending):
			details["why"] = "nothing left to sample"
		default:
			details["why"] = "the draw failed"
		}
		if werr := s.trail(context.WithoutCancel(ctx), ActionWithdrawn, day, details); werr != nil {
			return Day{}, errors.Join(err, werr)
		}
		if withdrawn {
			return Day{}, nil
		}
		return Day{}, err
	}
	return out, nil
}

// draw reads the day, draws, moves the kept audio and applies the
// settlement; store.ErrPendingChanged when uploads changed the day
// meanwhile (nothing was changed).
func (s *Sampler) draw(ctx context.Context, day, now time.Time, round int, seed []byte, commitment string) (Day, error) {
	pd, err := s.Store.PendingOfDay(ctx, day)
	if err != nil {
		return Day{}, err
	}
	if len(pd.Calls) == 0 {
		return Day{}, store.ErrNothingPending
	}
	set, err := Draw(pd.Calls, DrawParams{Day: day, Round: round, Rate: s.Rate, Seed: seed,
		Commitment: commitment, RunFor: now, SampledAt: s.now()})
	if err != nil {
		return Day{}, err
	}
	rows := make([]int64, len(set.Keep))
	for i, k := range set.Keep {
		rows[i] = k.Row
	}
	keys, err := s.Store.AudioKeysOf(ctx, rows)
	if err != nil {
		return Day{}, err
	}
	var copied *blobs.Copied
	if co, ok := s.Blobs.(Copier); ok {
		if copied, err = co.CopyOut(ctx, set.Group, keys); err != nil {
			return Day{}, err
		}
		keys, set.Compacted = copied.Keys, true
	}
	for i := range set.Keep {
		set.Keep[i].AudioKey = keys[i]
	}
	err = s.Store.ApplySettlement(ctx, day, round, pd.Stamp, set)
	switch {
	case errors.Is(err, store.ErrPendingChanged), errors.Is(err, store.ErrRoundTaken), errors.Is(err, store.ErrNothingPending):
		copied.Discard() // refused before anything was written
		return Day{}, err
	case err != nil:
		// Whether the transaction committed is unknown: the copies stay
		// until nothing names them (the next drain removes them then).
		copied.Release()
		return Day{}, err
	}
	copied.Release()
	return Day{Day: store.DayOf(day), Round: round, Received: set.Round.Received, Kept: set.Round.Kept}, nil
}

func (s *Sampler) trail(ctx context.Context, action string, day time.Time, details map[string]string) error {
	if s.Trail == nil {
		return nil
	}
	return s.Trail.Append(ctx, audit.Entry{Actor: audit.System, Source: "local", Action: action,
		Target: day.UTC().Format(time.DateOnly), Details: details})
}

func (s *Sampler) now() time.Time {
	if s.Clock == nil {
		return clock.Real{}.Now()
	}
	return s.Clock.Now()
}

// Summary is the report as the counts recorded for the run.
func (r Report) Summary() map[string]int {
	return map[string]int{"days": len(r.Days), "received": r.Received, "kept": r.Kept,
		"deleted": r.Received - r.Kept, "files_deleted": r.FilesDeleted}
}

// SeedSize is the length of a draw's seed.
const SeedSize = 32

// DrawParams is what a day's draw depends on.
type DrawParams struct {
	Day        time.Time
	Round      int
	Rate       float64
	Seed       []byte
	Commitment string
	RunFor     time.Time
	SampledAt  time.Time
}

// Stratum is one agent's part of a round's draw, as recorded.
type Stratum struct {
	Agent    string `json:"agent"`
	Received int    `json:"received"`
	Kept     int    `json:"kept"`
	// KeptHashes are the keyed hashes of the kept calls' external ids.
	KeptHashes []int64 `json:"kept_hashes"`
}

// Draw decides a day's round: per agent (strata in the order of the agent
// ids), QuotaFor of the agent's calls, those whose rank under the seed is
// smallest (the rank of a call is a function of the seed and of the keyed
// hash of its external id, so an auditor can draw again). It returns the
// settlement, the kept audio's new keys left to fill.
func Draw(calls []store.PendingCall, p DrawParams) (store.Settlement, error) {
	if len(p.Seed) != SeedSize {
		return store.Settlement{}, fmt.Errorf("draw: a seed of %d bytes, want %d", len(p.Seed), SeedSize)
	}
	byAgent := map[string][]int{}
	for i, c := range calls {
		byAgent[c.AgentID] = append(byAgent[c.AgentID], i)
	}
	agents := make([]string, 0, len(byAgent))
	for a := range byAgent {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	if len(agents) >= 1<<16 {
		return store.Settlement{}, fmt.Errorf("draw: %d agents in a day, at most %d", len(agents), 1<<16-1)
	}
	rk := newRanker(p.Seed)
	ranks := make([]uint64, len(calls))
	for i, c := range calls {
		ranks[i] = rk.rank(c.IDHash)
	}
	set := store.Settlement{Group: store.DayOf(p.Day).Format(time.DateOnly)}
	strata := make([]Stratum, len(agents))
	for si, a := range agents {
		idx := byAgent[a]
		slices.SortFunc(idx, func(x, y int) int {
			if ranks[x] != ranks[y] {
				return cmpU64(ranks[x], ranks[y])
			}
			return cmpI64(calls[x].IDHash, calls[y].IDHash)
		})
		k := QuotaFor(p.Seed, a, len(idx), p.Rate)
		st := Stratum{Agent: a, Received: len(idx), Kept: k, KeptHashes: make([]int64, 0, k)}
		for _, i := range idx[:k] {
			set.Keep = append(set.Keep, store.KeptRow{Row: calls[i].Row})
			st.KeptHashes = append(st.KeptHashes, calls[i].IDHash)
		}
		for _, i := range idx[k:] {
			set.SampledOut = append(set.SampledOut, store.SampledOut{H: calls[i].IDHash, Stratum: p.Round<<16 | si})
		}
		slices.Sort(st.KeptHashes)
		strata[si] = st
	}
	slices.SortFunc(set.SampledOut, func(x, y store.SampledOut) int { return cmpI64(x.H, y.H) })
	js, err := json.Marshal(strata)
	if err != nil {
		return store.Settlement{}, err
	}
	set.Round = store.SamplingRound{Day: store.DayOf(p.Day), Round: p.Round, Rate: p.Rate, Received: len(calls),
		Kept: len(set.Keep), Strata: js, Seed: p.Seed, Commitment: p.Commitment, RunFor: p.RunFor, SampledAt: p.SampledAt}
	return set, nil
}

// Commitment binds a draw's seed to its day, round and rate:
// hex(SHA-256("ecoute.sampling.v1", day, round, rate, seed)), NUL-separated.
func Commitment(day time.Time, round int, rate float64, seed []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "ecoute.sampling.v1\x00%s\x00%d\x00%s\x00", store.DayOf(day).Format(time.DateOnly), round,
		strconv.FormatFloat(rate, 'g', -1, 64))
	h.Write(seed)
	return hex.EncodeToString(h.Sum(nil))
}

// Hasher computes the keyed hashes of external ids. Not safe for
// concurrent use.
type Hasher struct{ mac hash.Hash }

// NewHasher keys a Hasher.
func NewHasher(key []byte) *Hasher { return &Hasher{mac: hmac.New(sha256.New, key)} }

// Hash is the first 8 bytes of HMAC-SHA-256(key, "ecoute.external_id.v1",
// NUL, id). 64 bits: at 17 million hashes kept (six months of 100,000
// calls a day), an unrelated new id collides with one of them with a
// probability below one in a trillion.
func (h *Hasher) Hash(externalID string) int64 {
	h.mac.Reset()
	io.WriteString(h.mac, "ecoute.external_id.v1\x00")
	io.WriteString(h.mac, externalID)
	var sum [sha256.Size]byte
	return int64(binary.BigEndian.Uint64(h.mac.Sum(sum[:0])))
}

// ranker orders a round's calls: HMAC-SHA-256(seed, "rank", hash).
type ranker struct{ mac hash.Hash }

func newRanker(seed []byte) *ranker { return &ranker{mac: hmac.New(sha256.New, seed)} }

func (r *ranker) rank(h int64) uint64 {
	r.mac.Reset()
	var b [13]byte
	copy(b[:], "rank\x00")
	binary.BigEndian.PutUint64(b[5:], uint64(h))
	r.mac.Write(b[:])
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(r.mac.Sum(sum[:0]))
}

// QuotaFor is how many of an agent's n calls a round keeps: Quota, its
// rounding drawn from the seed (HMAC-SHA-256(seed, "quota", agent)).
func QuotaFor(seed []byte, agent string, n int, rate float64) int {
	m := hmac.New(sha256.New, seed)
	io.WriteString(m, "quota\x00")
	io.WriteString(m, agent)
	u := float64(binary.BigEndian.Uint64(m.Sum(nil))>>11) / (1 << 53)
	return quota(n, rate, u)
}

// Quota is how many of n recordings to keep at rate: ⌊n·rate⌋, plus one
// with probability equal to the fractional part, so the expected number is
// exactly n·rate for every n.
func Quota(n int, rate float64, r *rand.Rand) int { return quota(n, rate, r.Float64()) }

// quota is Quota with the uniform draw u in [0, 1) given.
func quota(n int, rate float64, u float64) int {
	exact := float64(n) * rate
	// Round off float noise (100 × 0.05 = 5.000000000000001) so an exact
	// quota never gains a spurious extra call.
	exact = math.Round(exact*1e9) / 1e9
	k := int(exact)
	if frac := exact - float64(k); frac > 0 && u < frac {
		k++
	}
	return min(k, n)
}

// NewRand is a generator whose every bit is read from crypto/rand.
func NewRand() *rand.Rand {
	return rand.New(&cryptoSource{r: bufio.NewReaderSize(crand.Reader, 4096)})
}

type cryptoSource struct{ r *bufio.Reader }

func (c *cryptoSource) Uint64() uint64 {
	var b [8]byte
	if _, err := io.ReadFull(c.r, b[:]); err != nil {
		// crypto/rand never fails since Go 1.24 (it crashes the program
		// instead), so this is unreachable; never fall back to weaker bits.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return binary.LittleEndian.Uint64(b[:])
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpI64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
