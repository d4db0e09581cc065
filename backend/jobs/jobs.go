// Package jobs runs the data-life jobs (sampling, retention purge): once on
// demand or every day at a set hour, reading "now" from the injectable clock
// and recording every run with its counts.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// Task is one job. Run returns counts only (never ids: R2, R10).
type Task struct {
	Name string
	Run  func(ctx context.Context, now time.Time) (map[string]int, error)
}

// Runner runs tasks one at a time and records each run.
type Runner struct {
	Store store.JobStore
	Clock clock.Clock
	Log   *slog.Logger
	// Observe, when set, hears of every recorded run; the audit trail
	// hooks in here (R10: every job run is traced).
	Observe func(ctx context.Context, r store.JobRun)
	// Settled, when set, hears that Daily is done with a slot (it ran the
	// tasks or found them run by another server).
	Settled func(slot time.Time)

	mu sync.Mutex // a CLI run and the scheduler never overlap in one process
}

// Run runs t for now and records the run, failed or not.
func (r *Runner) Run(ctx context.Context, t Task, now time.Time) (store.JobRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := store.JobRun{Job: t.Name, RunFor: now, StartedAt: r.Clock.Now()}
	sum, err := t.Run(ctx, now)
	run.FinishedAt, run.Summary = r.Clock.Now(), sum
	if err != nil {
		run.Err = err.Error()
	}
	// Record even when ctx was cancelled mid-run: what was deleted is gone.
	if rerr := r.Store.RecordJobRun(context.WithoutCancel(ctx), run); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if r.Observe != nil {
		r.Observe(ctx, run)
	}
	if r.Log != nil && err == nil {
		args := []any{"job", t.Name, "for", now.UTC().Format(time.RFC3339), "took", run.FinishedAt.Sub(run.StartedAt)}
		for _, k := range slices.Sorted(maps.Keys(sum)) {
			args = append(args, k, sum[k])
		}
		r.Log.Info("job done", args...)
	}
	if err != nil {
		return run, fmt.Errorf("job %s: %w", t.Name, err)
	}
	return run, nil
}

// NextAt is the first hour:00 UTC strictly after t.
func NextAt(t time.Time, hour int) time.Time {
	t = t.UTC()
	n := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, time.UTC)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}

// Daily runs tasks, in order, every day at hour:00 UTC until ctx ends. It
// reads the clock every poll (a fake clock moves in jumps, so the loop
// polls rather than sleeping until the next slot). If the first task's last
// recorded run predates the latest slot — the server was down at that hour
// — the tasks run once at start to catch up; a database that never ran them
// waits for the next slot.
//
// Several ecouted sharing a database run each slot once between them: the
// one that takes the store's job lock runs what no server has run since
// the slot; the others try again at the next poll, find it done, and wait
// for the next slot. If the runner dies, its lock goes with it and another
// finishes the work.
func (r *Runner) Daily(ctx context.Context, hour int, poll time.Duration, tasks ...Task) {
	if len(tasks) == 0 {
		return
	}
	if poll <= 0 {
		poll = time.Minute
	}
	now := r.Clock.Now()
	next := NextAt(now, hour)
	if last, err := r.Store.LastJobRun(ctx, tasks[0].Name); err == nil && last.RunFor.Before(next.AddDate(0, 0, -1)) {
		next = now
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if now := r.Clock.Now(); !now.Before(next) && r.runSlot(ctx, NextAt(now, hour).AddDate(0, 0, -1), now, tasks) {
			next = NextAt(now, hour)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runSlot runs, under the job lock, the tasks that no server has run since
// slot; false means try again later (another server holds the lock, or
// the database did not answer).
func (r *Runner) runSlot(ctx context.Context, slot, now time.Time, tasks []Task) bool {
	unlock, ok, err := r.Store.TryJobLock(ctx, "daily")
	if err != nil {
		if r.Log != nil {
			r.Log.Error("daily jobs: lock", "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	defer unlock()
	for _, t := range tasks {
		if ctx.Err() != nil {
			return false
		}
		last, err := r.Store.LastJobRun(ctx, t.Name)
		if err == nil && !last.RunFor.Before(slot) {
			continue // run since the slot, here or by another server
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			if r.Log != nil {
				r.Log.Error("daily jobs: last run", "job", t.Name, "err", err)
			}
			return false
		}
		if _, err := r.Run(ctx, t, now); err != nil && r.Log != nil {
			r.Log.Error("scheduled job failed", "job", t.Name, "err", err)
		}
	}
	if r.Settled != nil {
		r.Settled(slot)
	}
	return true
}

// Deleter removes a blob; removing a missing one is not an error.
type Deleter interface {
	Delete(ctx context.Context, key string) error
}

// PackDeleter deletes many blobs in one call (blobs.Files): packs no
// stored key names any more whole, what is left of the others punched
// out. live says whether a stored key names a pack.
type PackDeleter interface {
	DeleteAll(ctx context.Context, keys []string, live func(ctx context.Context, pack string) (bool, error)) error
}

// drainBatch is how many queued deletions one round of DrainBlobs takes.
const drainBatch = 5000

// DrainBlobs deletes the audio of rows already deleted, then forgets their
// keys. It runs after every sampling and purge, and first thing in each, so
// work left by a crash is finished. It returns how many queued deletions
// it carried out (a range of a pack, or a day's packs, counts once).
func DrainBlobs(ctx context.Context, st store.JobStore, b Deleter) (int, error) {
	total := 0
	for {
		keys, err := st.BlobDeletions(ctx, drainBatch)
		if err != nil {
			return total, err
		}
		if len(keys) == 0 {
			return total, nil
		}
		if pd, ok := b.(PackDeleter); ok {
			err = pd.DeleteAll(ctx, keys, st.PackLive)
		} else {
			err = deleteAll(ctx, b, keys)
		}
		if err != nil {
			return total, err
		}
		if err := st.ForgetBlobDeletions(ctx, keys); err != nil {
			return total, err
		}
		total += len(keys)
	}
}

// deleteAll removes keys with a few workers: unlinking is a system call
// that mostly waits on the file system, so overlapping a few shortens the
// work.
func deleteAll(ctx context.Context, b Deleter, keys []string) error {
	const workers = 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				if err := b.Delete(ctx, keys[i]); err != nil {
					errs[w] = fmt.Errorf("delete blob: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
