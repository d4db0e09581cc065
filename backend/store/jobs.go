package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// JobStore is what the data-life jobs need: the daily sampling (R2), the
// retention purge (R4) and the record of their runs.
type JobStore interface {
	// PendingDays lists the UTC days (00:00) before `before` that hold
	// pending recordings, oldest first.
	PendingDays(ctx context.Context, before time.Time) ([]time.Time, error)
	// SampleDay settles the pending recordings of one UTC day, in short
	// transactions of whole agents: choose gets one agent's ids (a one-entry map)
	// and returns those to keep; the others are deleted and their blobs
	// queued for deletion. The day's sampling counts grow by what was
	// settled.
	SampleDay(ctx context.Context, day time.Time, choose func(byAgent map[string][]string) []string) (SampleCounts, error)
	SamplingCounts(ctx context.Context, day time.Time) (SampleCounts, error)

	// DeleteRecordings deletes every recording, in any state, that started
	// before cutoff or whose retained_until is not after now, queueing its
	// blob for deletion.
	DeleteRecordings(ctx context.Context, cutoff, now time.Time) (int, error)
	// DeleteSessions deletes sessions (login records) last used and
	// expired before cutoff.
	DeleteSessions(ctx context.Context, cutoff time.Time) (int, error)

	// BlobDeletions returns up to limit queued blob keys.
	BlobDeletions(ctx context.Context, limit int) ([]string, error)
	// ForgetBlobDeletions removes keys whose files are gone.
	ForgetBlobDeletions(ctx context.Context, keys []string) error
	// Reclaim returns free database pages to the file system and empties
	// the write-ahead log, so deleted rows leave no copy behind (R4).
	Reclaim(ctx context.Context) (pages int64, err error)

	RecordJobRun(ctx context.Context, r JobRun) error
	// LastJobRun is the latest run of job, or ErrNotFound.
	LastJobRun(ctx context.Context, job string) (JobRun, error)
	// TryJobLock takes the lock named name across every ecouted sharing
	// the database, without waiting: ok is false when another holds it.
	// The lock goes with unlock, or with the holder's connection when its
	// process dies.
	TryJobLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// SampleCounts are one day's figures: recordings settled and kept.
type SampleCounts struct {
	Received, Kept int
}

// JobRun is one run of a data-life job. Summary holds counts only.
type JobRun struct {
	Job        string
	RunFor     time.Time // the "now" the job used
	StartedAt  time.Time
	FinishedAt time.Time
	Err        string
	Summary    map[string]int
}

const msPerDay = int64(24 * time.Hour / time.Millisecond)

// PendingDays lists the days before `before` with pending recordings.
func (s *SQLite) PendingDays(ctx context.Context, before time.Time) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT started_at / ? FROM calls
		WHERE state = 'pending' AND started_at < ? ORDER BY 1`, msPerDay, ms(DayOf(before)))
	if err != nil {
		return nil, fmt.Errorf("pending days: %w", err)
	}
	defer rows.Close()
	var days []time.Time
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("pending days: %w", err)
		}
		days = append(days, time.UnixMilli(d*msPerDay).UTC())
	}
	return days, rows.Err()
}

// SampleDay settles one day's pending recordings, a few agents at a time.
func (s *SQLite) SampleDay(ctx context.Context, day time.Time, choose func(map[string][]string) []string) (SampleCounts, error) {
	d0 := ms(DayOf(day))
	d1 := d0 + msPerDay
	var out SampleCounts
	batches, err := s.pendingAgents(ctx, d0, d1)
	if err != nil {
		return out, fmt.Errorf("sample %s: %w", DayOf(day).Format(time.DateOnly), err)
	}
	for _, agents := range batches {
		c, err := s.sampleAgents(ctx, agents, d0, d1, choose)
		if err != nil {
			return out, fmt.Errorf("sample %s: %w", DayOf(day).Format(time.DateOnly), err)
		}
		out.Received += c.Received
		out.Kept += c.Kept
	}
	return out, nil
}

// sampleBatch is about how many recordings one sampling transaction
// settles: few enough that the write lock is held for a fraction of a
// second (uploads wait on busy_timeout), many enough that index pages are
// not rewritten to the log once per agent.
const sampleBatch = 5000

// pendingAgents groups the day's agents with pending recordings into
// batches of about sampleBatch recordings.
func (s *SQLite) pendingAgents(ctx context.Context, d0, d1 int64) ([][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT agent_id, COUNT(*) FROM calls
		WHERE state = 'pending' AND started_at >= ? AND started_at < ? GROUP BY agent_id ORDER BY agent_id`, d0, d1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batches [][]string
	var cur []string
	n := 0
	for rows.Next() {
		var a string
		var c int
		if err := rows.Scan(&a, &c); err != nil {
			return nil, err
		}
		cur = append(cur, a)
		if n += c; n >= sampleBatch {
			batches, cur, n = append(batches, cur), nil, 0
		}
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches, rows.Err()
}

// sampleAgents settles some agents' day in one transaction, choosing per
// agent (the strata). The lock is taken at BEGIN (_txlock=immediate), so no
// upload slips in between the choice and the delete, and a concurrent
// sampler waits, then finds nothing pending.
func (s *SQLite) sampleAgents(ctx context.Context, agents []string, d0, d1 int64, choose func(map[string][]string) []string) (SampleCounts, error) {
	var out SampleCounts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, agent := range agents {
			c, err := sampleAgentDay(ctx, tx, agent, d0, d1, choose)
			if err != nil {
				return err
			}
			out.Received += c.Received
			out.Kept += c.Kept
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sampling_counts (day, received, kept) VALUES (?, ?, ?)
			ON CONFLICT (day) DO UPDATE SET received = sampling_counts.received + excluded.received,
			kept = sampling_counts.kept + excluded.kept`, d0, out.Received, out.Kept)
		return err
	})
	return out, err
}

// sampleAgentDay settles one agent's day inside tx.
func sampleAgentDay(ctx context.Context, tx *sql.Tx, agent string, d0, d1 int64, choose func(map[string][]string) []string) (SampleCounts, error) {
	var out SampleCounts
	rows, err := tx.QueryContext(ctx, `SELECT id FROM calls
		WHERE state = 'pending' AND agent_id = ? AND started_at >= ? AND started_at < ?`, agent, d0, d1)
	if err != nil {
		return out, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return out, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Received = len(ids)
	if out.Received == 0 {
		return out, nil
	}
	keep := choose(map[string][]string{agent: ids})
	st, err := tx.PrepareContext(ctx, `UPDATE calls SET state = 'kept'
		WHERE id = ? AND agent_id = ? AND state = 'pending' AND started_at >= ? AND started_at < ?`)
	if err != nil {
		return out, err
	}
	defer st.Close()
	for _, id := range keep {
		res, err := st.ExecContext(ctx, id, agent, d0, d1)
		if err != nil {
			return out, fmt.Errorf("keep %s: %w", id, err)
		}
		n, _ := res.RowsAffected()
		out.Kept += int(n)
	}
	const rest = ` FROM calls WHERE state = 'pending' AND agent_id = ? AND started_at >= ? AND started_at < ?`
	if _, err := tx.ExecContext(ctx, `INSERT INTO blob_deletions (key, queued_at) SELECT audio_key, ?`+rest+`
		ON CONFLICT (key) DO NOTHING`, d0, agent, d0, d1); err != nil {
		return out, fmt.Errorf("queue blobs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE`+rest, agent, d0, d1); err != nil {
		return out, fmt.Errorf("delete unsampled: %w", err)
	}
	return out, nil
}

// SamplingCounts reads one day's figures (zero when the day was never
// sampled).
func (s *SQLite) SamplingCounts(ctx context.Context, day time.Time) (SampleCounts, error) {
	var c SampleCounts
	err := s.db.QueryRowContext(ctx, `SELECT received, kept FROM sampling_counts WHERE day = ?`, ms(DayOf(day))).
		Scan(&c.Received, &c.Kept)
	if errors.Is(err, sql.ErrNoRows) {
		return SampleCounts{}, nil
	}
	if err != nil {
		return SampleCounts{}, fmt.Errorf("sampling counts: %w", err)
	}
	return c, nil
}

// DeleteRecordings deletes recordings past their retention, in batches of
// recordBatch per transaction so that a large first purge (after shortening
// the period, or a long downtime) never holds the write lock for long.
func (s *SQLite) DeleteRecordings(ctx context.Context, cutoff, now time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, audio_key FROM calls
				WHERE started_at < ? OR retained_until <= ? LIMIT ?`, ms(cutoff), ms(now), recordBatch)
			if err != nil {
				return err
			}
			var ids, keys []string
			for rows.Next() {
				var id, key string
				if err := rows.Scan(&id, &key); err != nil {
					rows.Close()
					return err
				}
				ids, keys = append(ids, id), append(keys, key)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			queue, err := tx.PrepareContext(ctx, `INSERT INTO blob_deletions (key, queued_at) VALUES (?, ?)
				ON CONFLICT (key) DO NOTHING`)
			if err != nil {
				return err
			}
			defer queue.Close()
			del, err := tx.PrepareContext(ctx, `DELETE FROM calls WHERE id = ?`)
			if err != nil {
				return err
			}
			defer del.Close()
			for i, id := range ids {
				if _, err := queue.ExecContext(ctx, keys[i], ms(now)); err != nil {
					return fmt.Errorf("queue blob: %w", err)
				}
				if _, err := del.ExecContext(ctx, id); err != nil {
					return err
				}
			}
			n = int64(len(ids))
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("delete expired recordings: %w", err)
		}
		total += int(n)
		if n < recordBatch {
			return total, nil
		}
	}
}

// recordBatch bounds the rows one purge transaction deletes.
const recordBatch = 2000

// DeleteSessions deletes old login records.
func (s *SQLite) DeleteSessions(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_used_at < ? AND expires_at < ?`, ms(cutoff), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete old sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// BlobDeletions returns queued keys in primary-key order (no sort).
func (s *SQLite) BlobDeletions(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM blob_deletions ORDER BY key LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("blob deletions: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("blob deletions: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// ForgetBlobDeletions drops keys from the queue.
func (s *SQLite) ForgetBlobDeletions(ctx context.Context, keys []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `DELETE FROM blob_deletions WHERE key = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, k := range keys {
			if _, err := st.ExecContext(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget blob deletions: %w", err)
	}
	return nil
}

// Reclaim frees pages (auto_vacuum is INCREMENTAL since migration 00002)
// and truncates the write-ahead log, whose frames may still hold copies of
// deleted rows. Both run on one connection: PRAGMAs are per connection.
func (s *SQLite) Reclaim(ctx context.Context) (int64, error) {
	if s.postgres {
		return s.reclaimPG(ctx)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	defer conn.Close()
	var before, after int64
	if err := conn.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&before); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	if before > 0 {
		// incremental_vacuum returns no rows but must be stepped to the end.
		rows, err := conn.QueryContext(ctx, `PRAGMA incremental_vacuum`)
		if err != nil {
			return 0, fmt.Errorf("reclaim: incremental vacuum: %w", err)
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("reclaim: incremental vacuum: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, fmt.Errorf("reclaim: checkpoint: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&after); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	return before - after, nil
}

// RecordJobRun appends one run.
func (s *SQLite) RecordJobRun(ctx context.Context, r JobRun) error {
	sum, err := json.Marshal(r.Summary)
	if err != nil {
		return fmt.Errorf("record %s run: %w", r.Job, err)
	}
	if r.Summary == nil {
		sum = []byte("{}")
	}
	return s.exec(ctx, "record "+r.Job+" run", `INSERT INTO job_runs (job, run_for, started_at, finished_at, error, summary)
		VALUES (?,?,?,?,?,?)`, r.Job, ms(r.RunFor), ms(r.StartedAt), ms(r.FinishedAt), r.Err, string(sum))
}

// LastJobRun reads the latest run of job.
func (s *SQLite) LastJobRun(ctx context.Context, job string) (JobRun, error) {
	var r JobRun
	var rf, st, fi int64
	var sum string
	err := s.db.QueryRowContext(ctx, `SELECT job, run_for, started_at, finished_at, error, summary FROM job_runs
		WHERE job = ? ORDER BY run_for DESC, id DESC LIMIT 1`, job).Scan(&r.Job, &rf, &st, &fi, &r.Err, &sum)
	if err != nil {
		return JobRun{}, notFound(err, "last "+job+" run")
	}
	r.RunFor, r.StartedAt, r.FinishedAt = fromMS(rf), fromMS(st), fromMS(fi)
	if err := json.Unmarshal([]byte(sum), &r.Summary); err != nil {
		return JobRun{}, fmt.Errorf("last %s run: %w", job, err)
	}
	return r, nil
}
