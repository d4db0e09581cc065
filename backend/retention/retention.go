// Package retention deletes what has outlived its lawful period (R4):
// recordings (file and row), connection logs (sessions and, through
// registered purgers, the audit trail), evaluations; then it hands the
// freed database space back, so deleted means gone rather than hidden.
package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/store"
)

// JobName names the runs in the job record.
const JobName = "purge"

// Purger deletes one kind of data that has outlived its retention as of
// now and says how many items went. Other packages register theirs (the
// audit trail, evaluations) so one job, one clock and one record cover all.
type Purger interface {
	Purge(ctx context.Context, now time.Time) (int, error)
}

// PurgerFunc adapts a function to Purger.
type PurgerFunc func(ctx context.Context, now time.Time) (int, error)

// Purge implements Purger.
func (f PurgerFunc) Purge(ctx context.Context, now time.Time) (int, error) { return f(ctx, now) }

// OlderThan makes a Purger from a "delete what is older than t" function
// and a period: it runs f with t = now − p.
func OlderThan(p config.Period, f func(ctx context.Context, before time.Time) (int, error)) Purger {
	return PurgerFunc(func(ctx context.Context, now time.Time) (int, error) { return f(ctx, p.Before(now)) })
}

// Job is the retention purge.
type Job struct {
	Store store.JobStore
	Blobs jobs.Deleter
	// Retention gives the cutoffs (only its retention periods are read:
	// recordings ≤ 6 months, connection logs 3–12 months, as validated).
	Retention config.Config

	mu      sync.Mutex
	purgers map[string]Purger
}

// Register adds a purger under a unique name (used in the run's counts).
func (j *Job) Register(name string, p Purger) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.purgers == nil {
		j.purgers = map[string]Purger{}
	}
	if _, dup := j.purgers[name]; dup || builtin[name] {
		return fmt.Errorf("retention: purger %q registered twice", name)
	}
	j.purgers[name] = p
	return nil
}

// Registered lists the names of the registered purgers, sorted.
func (j *Job) Registered() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	names := make([]string, 0, len(j.purgers))
	for n := range j.purgers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var builtin = map[string]bool{"recordings": true, "files_deleted": true, "sessions": true, "pages_reclaimed": true}

// Run deletes everything expired as of now and returns counts per kind.
// A failing purger does not stop the others; the errors are joined.
func (j *Job) Run(ctx context.Context, now time.Time) (map[string]int, error) {
	sum := map[string]int{}
	var errs []error
	n, err := jobs.DrainBlobs(ctx, j.Store, j.Blobs) // work left by a crash
	sum["files_deleted"] += n
	if err != nil {
		return sum, err
	}

	n, err = j.Store.DeleteRecordings(ctx, j.Retention.RecordingCutoff(now), now)
	sum["recordings"] = n
	if err != nil {
		return sum, err
	}
	n, err = jobs.DrainBlobs(ctx, j.Store, j.Blobs)
	sum["files_deleted"] += n
	if err != nil {
		return sum, err
	}

	n, err = j.Store.DeleteSessions(ctx, j.Retention.ConnectionLogCutoff(now))
	sum["sessions"] = n
	errs = append(errs, err)

	for _, name := range j.Registered() {
		j.mu.Lock()
		p := j.purgers[name]
		j.mu.Unlock()
		n, err := p.Purge(ctx, now)
		sum[name] = n
		if err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %w", name, err))
		}
	}

	pages, err := j.Store.Reclaim(ctx)
	sum["pages_reclaimed"] = int(pages)
	errs = append(errs, err)
	return sum, errors.Join(errs...)
}
