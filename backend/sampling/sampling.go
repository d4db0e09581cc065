// Package sampling is the daily random sampling of recordings (R2): every
// recording arrives pending and invisible; for each past day, a fraction of
// each agent's recordings is kept and the rest deleted, row and file.
//
// The choice is stratified per agent so every agent is recorded at the same
// rate (no one is favoured or targeted), with randomised rounding so an
// agent with 10 calls at 5% keeps one call half of the days rather than
// never; every random bit comes from crypto/rand, so agents cannot predict
// which calls are kept.
package sampling

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/store"
)

// JobName names the runs in the job record.
const JobName = "sample"

// Sampler settles pending recordings.
type Sampler struct {
	Store store.JobStore
	Blobs jobs.Deleter
	Rate  float64 // fraction kept, 0 < Rate ≤ 1
}

// Report is what a run did, in counts.
type Report struct {
	Days         []Day
	Received     int // pending recordings settled
	Kept         int
	FilesDeleted int
}

// Day is one sampled day.
type Day struct {
	Day            time.Time
	Received, Kept int
}

// Run samples every UTC day before now's day that still holds pending
// recordings. A day already sampled has none left, so a second run changes
// nothing; recordings uploaded late for a sampled day are sampled on their
// own at the next run, at the same rate.
func (s *Sampler) Run(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	if s.Rate <= 0 || s.Rate > 1 {
		return rep, fmt.Errorf("sampling rate %g is outside (0, 1]", s.Rate)
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
	r := NewRand()
	for _, d := range days {
		c, err := s.Store.SampleDay(ctx, d, func(byAgent map[string][]string) []string {
			return Choose(byAgent, s.Rate, r)
		})
		if err != nil {
			return rep, err
		}
		rep.Days = append(rep.Days, Day{Day: d, Received: c.Received, Kept: c.Kept})
		rep.Received += c.Received
		rep.Kept += c.Kept
		// Files go day by day so a long backlog does not pile up on disk.
		n, err := jobs.DrainBlobs(ctx, s.Store, s.Blobs)
		rep.FilesDeleted += n
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Summary is the report as the counts recorded for the run.
func (r Report) Summary() map[string]int {
	return map[string]int{"days": len(r.Days), "received": r.Received, "kept": r.Kept,
		"deleted": r.Received - r.Kept, "files_deleted": r.FilesDeleted}
}

// Choose picks, for each agent, Quota(len(ids)) of their ids uniformly at
// random (partial Fisher–Yates). The slices in byAgent are reordered.
func Choose(byAgent map[string][]string, rate float64, r *rand.Rand) []string {
	var keep []string
	for _, ids := range byAgent {
		k := Quota(len(ids), rate, r)
		for i := range k {
			j := i + r.IntN(len(ids)-i)
			ids[i], ids[j] = ids[j], ids[i]
		}
		keep = append(keep, ids[:k]...)
	}
	return keep
}

// Quota is how many of n recordings to keep at rate: ⌊n·rate⌋, plus one
// with probability equal to the fractional part, so the expected number is
// exactly n·rate for every n.
func Quota(n int, rate float64, r *rand.Rand) int {
	exact := float64(n) * rate
	// Round off float noise (100 × 0.05 = 5.000000000000001) so an exact
	// quota never gains a spurious extra call.
	exact = math.Round(exact*1e9) / 1e9
	k := int(exact)
	if frac := exact - float64(k); frac > 0 && r.Float64() < frac {
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
