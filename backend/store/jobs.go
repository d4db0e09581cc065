package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/blobs"
)

// JobStore is what the data-life jobs need: the daily sampling (R2), the
// retention purge (R4) and the record of their runs.
type JobStore interface {
	// PendingDays lists the UTC days (00:00) before `before` that hold
	// recordings waiting for the sampling, oldest first.
	PendingDays(ctx context.Context, before time.Time) ([]time.Time, error)
	// SamplingRoundCount is how many times the day was sampled.
	SamplingRoundCount(ctx context.Context, day time.Time) (int, error)
	// PendingOfDay reads the recordings of a UTC day waiting for the
	// sampling, with a stamp that ApplySettlement checks.
	PendingOfDay(ctx context.Context, day time.Time) (PendingDay, error)
	// AudioKeysOf returns the audio keys of waiting recordings, by row.
	AudioKeysOf(ctx context.Context, rows []int64) ([]string, error)
	// ApplySettlement samples a day, in one transaction: the kept calls
	// go to calls (with their new audio keys), the keyed hashes of the
	// others are recorded, their audio queued for deletion, the day's
	// waiting rows deleted and the round recorded. The day must still be
	// as stamped (ErrPendingChanged: read it again) and round must be the
	// next (ErrRoundTaken: another sampler got there first);
	// ErrNothingPending when nothing of the day waits any more.
	ApplySettlement(ctx context.Context, day time.Time, round int, stamp DayStamp, set Settlement) error
	// SamplingCounts is what the day received and kept, all rounds.
	SamplingCounts(ctx context.Context, day time.Time) (SampleCounts, error)
	// SamplingRounds lists the rounds of the days in [from, to), by day
	// and round.
	SamplingRounds(ctx context.Context, from, to time.Time) ([]SamplingRound, error)
	// SampledOutHashes lists the keyed hashes recorded for a round, by
	// stratum (see SamplingRound).
	SampledOutHashes(ctx context.Context, day time.Time, round int) (map[int][]int64, error)
	// KeptOfDay lists the kept calls of a UTC day: agent and external id.
	KeptOfDay(ctx context.Context, day time.Time) ([]KeptCall, error)

	// DeleteRecordings deletes every recording (kept or waiting) that
	// started before cutoff, queueing its audio for deletion, and the
	// keyed hashes of sampled-out calls of the days wholly before it.
	DeleteRecordings(ctx context.Context, cutoff, now time.Time) (int, error)
	// DeleteSamplingRounds deletes the records of the days before cutoff.
	DeleteSamplingRounds(ctx context.Context, cutoff time.Time) (int, error)
	// DeleteSessions deletes sessions (login records) last used and
	// expired before cutoff.
	DeleteSessions(ctx context.Context, cutoff time.Time) (int, error)

	// BlobDeletions returns up to limit queued blob keys.
	BlobDeletions(ctx context.Context, limit int) ([]string, error)
	// ForgetBlobDeletions removes keys whose files are gone.
	ForgetBlobDeletions(ctx context.Context, keys []string) error
	// PackLive tells whether a stored recording's audio key still names
	// the pack (packs/GROUP/NAME.pack, GROUP being the calls' UTC day).
	PackLive(ctx context.Context, pack string) (bool, error)
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

// Sampling outcomes of ApplySettlement.
var (
	ErrRoundTaken     = errors.New("the day was sampled meanwhile")
	ErrNothingPending = errors.New("nothing of the day waits for the sampling")
	ErrPendingChanged = errors.New("the day's waiting recordings changed meanwhile")
)

// SampleCounts are one day's figures: recordings settled and kept.
type SampleCounts struct {
	Received, Kept int
}

// PendingCall is what the sampling reads of a recording waiting for it.
type PendingCall struct {
	Row     int64 // the row, for the settlement
	IDHash  int64 // the keyed hash of its external id
	AgentID string
}

// PendingDay is a day's waiting recordings as read for the sampling.
type PendingDay struct {
	Calls []PendingCall
	Stamp DayStamp
}

// DayStamp identifies a set of waiting recordings: any upload or deletion
// changes it.
type DayStamp struct {
	Count, MaxRow, HashSum int64
}

// KeptCall is a kept call as an auditor of the sampling sees it.
type KeptCall struct {
	AgentID, ExternalID string
}

// KeptRow is a call the sampling keeps, and where its audio now is.
type KeptRow struct {
	Row      int64
	AudioKey string
}

// SampledOut is the keyed hash of a sampled-out call's external id and
// its stratum (round << 16 | the agent's index in the round's strata).
type SampledOut struct {
	H       int64
	Stratum int
}

// Settlement is what the sampling decided for a day.
type Settlement struct {
	Keep []KeptRow
	// SampledOut are the hashes of the others, in increasing order.
	SampledOut []SampledOut
	// Compacted says the kept audio was copied out of the day's packs
	// (into packs of their own): those packs die whole, and one deletion
	// of the group (Group) frees them. Otherwise each sampled-out
	// recording's audio is queued.
	Compacted bool
	Group     string
	// Round is the record of the round.
	Round SamplingRound
}

// SamplingRound is the record of one sampling of a day.
type SamplingRound struct {
	Day            time.Time
	Round          int
	Rate           float64
	Received, Kept int
	// Strata is the draw per agent (JSON, the sampling package's format).
	Strata     []byte
	Seed       []byte
	Commitment string
	RunFor     time.Time
	SampledAt  time.Time
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

// PendingDays lists the days before `before` with recordings waiting: one
// index probe a day, not one row per recording.
func (s *SQLite) PendingDays(ctx context.Context, before time.Time) ([]time.Time, error) {
	var days []time.Time
	end := ms(DayOf(before))
	for from := int64(math.MinInt64); ; {
		var next sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MIN(started_at) FROM pending_calls WHERE started_at >= ? AND started_at < ?`,
			from, end).Scan(&next); err != nil {
			return nil, fmt.Errorf("pending days: %w", err)
		}
		if !next.Valid {
			return days, nil
		}
		d := DayOf(time.UnixMilli(next.Int64))
		days = append(days, d)
		from = ms(d) + msPerDay
	}
}

// SamplingRoundCount implements JobStore.
func (s *SQLite) SamplingRoundCount(ctx context.Context, day time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sampling_rounds WHERE day = ?`, ms(DayOf(day))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sampling rounds: %w", err)
	}
	return n, nil
}

// PendingOfDay implements JobStore.
func (s *SQLite) PendingOfDay(ctx context.Context, day time.Time) (PendingDay, error) {
	d0 := ms(DayOf(day))
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PendingDay{}, fmt.Errorf("waiting recordings: %w", err)
	}
	defer tx.Rollback()
	var out PendingDay
	rows, err := tx.QueryContext(ctx, `SELECT rowid, id_hash, agent_id FROM pending_calls
		WHERE started_at >= ? AND started_at < ?`, d0, d0+msPerDay)
	if err != nil {
		return PendingDay{}, fmt.Errorf("waiting recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c PendingCall
		if err := rows.Scan(&c.Row, &c.IDHash, &c.AgentID); err != nil {
			return PendingDay{}, fmt.Errorf("waiting recordings: %w", err)
		}
		out.Calls = append(out.Calls, c)
		out.Stamp.add(c)
	}
	if err := rows.Err(); err != nil {
		return PendingDay{}, fmt.Errorf("waiting recordings: %w", err)
	}
	return out, nil
}

func (st *DayStamp) add(c PendingCall) {
	st.Count++
	st.MaxRow = max(st.MaxRow, c.Row)
	st.HashSum += c.IDHash & 0xffffff
}

func dayStamp(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, d0 int64) (DayStamp, error) {
	var st DayStamp
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(rowid), 0), COALESCE(SUM(id_hash & 16777215), 0)
		FROM pending_calls WHERE started_at >= ? AND started_at < ?`, d0, d0+msPerDay).Scan(&st.Count, &st.MaxRow, &st.HashSum)
	return st, err
}

// AudioKeysOf implements JobStore.
func (s *SQLite) AudioKeysOf(ctx context.Context, rowids []int64) ([]string, error) {
	ids, err := json.Marshal(rowids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.dialect(`SELECT j.key, p.audio_key FROM json_each(?) j
		JOIN pending_calls p ON p.rowid = j.value`, `SELECT j.key - 1, p.audio_key
		FROM json_array_elements_text(?::json) WITH ORDINALITY AS j(value, key)
		JOIN pending_calls p ON p.rowid = j.value::bigint`), string(ids))
	if err != nil {
		return nil, fmt.Errorf("audio keys: %w", err)
	}
	defer rows.Close()
	out := make([]string, len(rowids))
	n := 0
	for rows.Next() {
		var i int
		var k string
		if err := rows.Scan(&i, &k); err != nil {
			return nil, fmt.Errorf("audio keys: %w", err)
		}
		out[i] = k
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audio keys: %w", err)
	}
	if n != len(rowids) {
		return nil, fmt.Errorf("audio keys: %d of %d rows found: %w", n, len(rowids), ErrPendingChanged)
	}
	return out, nil
}

// ApplySettlement implements JobStore. The write lock is taken at BEGIN
// (_txlock=immediate): no upload slips in between the check and the
// delete, and a concurrent sampler waits, then finds the round taken.
// Every statement works on the whole day at once: no row goes through Go.
func (s *SQLite) ApplySettlement(ctx context.Context, day time.Time, round int, stamp DayStamp, set Settlement) error {
	d0 := ms(DayOf(day))
	d1 := d0 + msPerDay
	what := "sample " + DayOf(day).Format(time.DateOnly)
	promote, err := s.promoteStatement(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	keep := make([][2]any, len(set.Keep))
	for i, k := range set.Keep {
		keep[i] = [2]any{k.Row, k.AudioKey}
	}
	keepJSON, err := json.Marshal(keep)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	notKept := ` p.started_at >= ? AND p.started_at < ?
		AND p.rowid NOT IN ` + s.dialect(`(SELECT json_extract(value, '$[0]') FROM json_each(?))`,
		`(SELECT (value->>0)::bigint FROM json_array_elements(?::json))`)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sampling_rounds WHERE day = ?`, d0).Scan(&done); err != nil {
			return err
		}
		if done != round-1 {
			return ErrRoundTaken
		}
		st, err := dayStamp(ctx, tx, d0)
		switch {
		case err != nil:
			return err
		case st.Count == 0:
			return ErrNothingPending
		case st != stamp:
			return ErrPendingChanged
		}
		r := set.Round
		if int64(r.Received) != st.Count || r.Kept != len(set.Keep) || r.Round != round ||
			len(set.Keep)+len(set.SampledOut) != r.Received {
			return fmt.Errorf("the settlement does not add up: %d waiting, %d kept, %d sampled out, record %d/%d",
				st.Count, len(set.Keep), len(set.SampledOut), r.Received, r.Kept)
		}
		if len(set.Keep) > 0 {
			res, err := tx.ExecContext(ctx, promote, string(keepJSON))
			if err != nil {
				return fmt.Errorf("keep: %w", err)
			}
			if n, _ := res.RowsAffected(); int(n) != len(set.Keep) {
				return fmt.Errorf("keep: %d of %d calls copied", n, len(set.Keep))
			}
		}
		if err := insertSampledOut(ctx, tx, d0, set.SampledOut); err != nil {
			return err
		}
		queue := `INSERT INTO blob_deletions (key, queued_at) SELECT p.audio_key, ? FROM pending_calls p WHERE` + notKept
		if set.Compacted {
			// The day's packs die whole; only blobs of their own go one by
			// one (index pending_calls_alone).
			queue += ` AND instr(p.audio_key, '@') = 0`
			if _, err := tx.ExecContext(ctx, `INSERT INTO blob_deletions (key, queued_at) VALUES (?, ?)
				ON CONFLICT (key) DO NOTHING`, blobs.GroupKey(set.Group), ms(r.SampledAt)); err != nil {
				return fmt.Errorf("queue the day's packs: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, queue+` ON CONFLICT (key) DO NOTHING`, ms(r.SampledAt), d0, d1, string(keepJSON)); err != nil {
			return fmt.Errorf("queue audio for deletion: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_calls WHERE started_at >= ? AND started_at < ?`, d0, d1); err != nil {
			return fmt.Errorf("delete the day's waiting rows: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sampling_rounds (day, round, rate, received, kept, strata, seed,
			commitment, run_for, sampled_at) VALUES (?,?,?,?,?,?,?,?,?,?)`, d0, round, r.Rate, r.Received, r.Kept,
			string(r.Strata), r.Seed, r.Commitment, ms(r.RunFor), ms(r.SampledAt)); err != nil {
			return fmt.Errorf("record the round: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sampling_counts (day, received, kept) VALUES (?, ?, ?)
			ON CONFLICT (day) DO UPDATE SET received = sampling_counts.received + excluded.received,
			kept = sampling_counts.kept + excluded.kept`, d0, r.Received, r.Kept)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// insertSampledOut writes the hashes a few hundred rows a statement, in
// key order (each lands at the end of the page it goes to).
func insertSampledOut(ctx context.Context, tx *sql.Tx, day int64, hs []SampledOut) error {
	const per = 500
	for len(hs) > 0 {
		n := min(per, len(hs))
		q := `INSERT OR IGNORE INTO sampled_out (h, day, stratum) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?,?),", n), ",")
		args := make([]any, 0, 3*n)
		for _, h := range hs[:n] {
			args = append(args, h.H, day, h.Stratum)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("record sampled-out hashes: %w", err)
		}
		hs = hs[n:]
	}
	return nil
}

// queueDeletions queues blob keys for deletion, a few hundred a statement.
func queueDeletions(ctx context.Context, tx *sql.Tx, keys []string, at time.Time) error {
	const per = 500
	for len(keys) > 0 {
		n := min(per, len(keys))
		q := `INSERT INTO blob_deletions (key, queued_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") + ` ON CONFLICT (key) DO NOTHING`
		args := make([]any, 0, 2*n)
		for _, k := range keys[:n] {
			args = append(args, k, ms(at))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("queue audio for deletion: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// promoteStatement copies kept calls (a JSON array of [row, audio key])
// from pending_calls into calls: every column both tables have, state
// 'kept', the new audio key.
func (s *SQLite) promoteStatement(ctx context.Context) (string, error) {
	s.promoteMu.Lock()
	defer s.promoteMu.Unlock()
	if s.promote != "" {
		return s.promote, nil
	}
	cols := func(table string) ([]string, error) {
		rows, err := s.db.QueryContext(ctx, catalogOf(s.postgres).columns, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, rows.Err()
	}
	calls, err := cols("calls")
	if err != nil {
		return "", err
	}
	pending, err := cols("pending_calls")
	if err != nil {
		return "", err
	}
	var into, from []string
	for _, c := range pending {
		if !containsStr(calls, c) {
			continue
		}
		into = append(into, quoteIdent(c))
		switch c {
		case "state":
			from = append(from, "'"+StateKept+"'")
		case "audio_key":
			from = append(from, s.dialect("json_extract(j.value, '$[1]')", "(j.value->>1)"))
		default:
			from = append(from, "p."+quoteIdent(c))
		}
	}
	s.promote = `INSERT INTO calls (` + strings.Join(into, ", ") + `) SELECT ` + strings.Join(from, ", ") +
		s.dialect(` FROM json_each(?) j JOIN pending_calls p ON p.rowid = json_extract(j.value, '$[0]')`,
			` FROM json_array_elements(?::json) AS j(value) JOIN pending_calls p ON p.rowid = (j.value->>0)::bigint`)
	return s.promote, nil
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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

// SamplingRounds implements JobStore.
func (s *SQLite) SamplingRounds(ctx context.Context, from, to time.Time) ([]SamplingRound, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT day, round, rate, received, kept, strata, seed, commitment, run_for,
		sampled_at FROM sampling_rounds WHERE day >= ? AND day < ? ORDER BY day, round`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("sampling rounds: %w", err)
	}
	defer rows.Close()
	var out []SamplingRound
	for rows.Next() {
		var r SamplingRound
		var day, runFor, at int64
		var strata string
		if err := rows.Scan(&day, &r.Round, &r.Rate, &r.Received, &r.Kept, &strata, &r.Seed, &r.Commitment,
			&runFor, &at); err != nil {
			return nil, fmt.Errorf("sampling rounds: %w", err)
		}
		r.Day, r.RunFor, r.SampledAt, r.Strata = time.UnixMilli(day).UTC(), fromMS(runFor), fromMS(at), []byte(strata)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SampledOutHashes implements JobStore.
func (s *SQLite) SampledOutHashes(ctx context.Context, day time.Time, round int) (map[int][]int64, error) {
	lo, hi := round<<16, (round+1)<<16
	rows, err := s.db.QueryContext(ctx, `SELECT h, stratum FROM sampled_out WHERE day = ? AND stratum >= ? AND stratum < ?`,
		ms(DayOf(day)), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("sampled-out hashes: %w", err)
	}
	defer rows.Close()
	out := map[int][]int64{}
	for rows.Next() {
		var h int64
		var st int
		if err := rows.Scan(&h, &st); err != nil {
			return nil, fmt.Errorf("sampled-out hashes: %w", err)
		}
		out[st] = append(out[st], h)
	}
	return out, rows.Err()
}

// KeptOfDay implements JobStore.
func (s *SQLite) KeptOfDay(ctx context.Context, day time.Time) ([]KeptCall, error) {
	d0 := ms(DayOf(day))
	rows, err := s.db.QueryContext(ctx, `SELECT agent_id, external_id FROM calls
		WHERE state = 'kept' AND started_at >= ? AND started_at < ?`, d0, d0+msPerDay)
	if err != nil {
		return nil, fmt.Errorf("kept calls: %w", err)
	}
	defer rows.Close()
	var out []KeptCall
	for rows.Next() {
		var k KeptCall
		if err := rows.Scan(&k.AgentID, &k.ExternalID); err != nil {
			return nil, fmt.Errorf("kept calls: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// purgeChunk bounds the recordings one purge transaction deletes, so that
// a first purge after a long downtime does not hold the write lock for
// long; 100,000 recordings of a day take two.
var purgeChunk = 50_000

// DeleteRecordings implements JobStore: each chunk is one transaction that
// reads the audio keys, queues them (packs' neighbours coalesced into
// ranges) and deletes the rows with one statement per table.
func (s *SQLite) DeleteRecordings(ctx context.Context, cutoff, now time.Time) (int, error) {
	total := 0
	for _, table := range []string{"pending_calls", "calls"} {
		for more := true; more; {
			var n int
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				var err error
				n, more, err = deleteChunk(ctx, tx, table, ms(cutoff), now)
				return err
			})
			if err != nil {
				return total, fmt.Errorf("delete expired recordings: %w", err)
			}
			total += n
		}
	}
	// A day's hashes go once every call of it is past its retention.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sampled_out WHERE day < ?`, ms(DayOf(cutoff))); err != nil {
		return total, fmt.Errorf("delete sampled-out hashes: %w", err)
	}
	return total, nil
}

// deleteChunk deletes up to about purgeChunk recordings of table started
// before cutoff; more says that some are left.
func deleteChunk(ctx context.Context, tx *sql.Tx, table string, cutoff int64, now time.Time) (n int, more bool, err error) {
	state := ""
	if table == "calls" {
		state = "state = 'kept' AND " // every row is; the condition picks the index
	}
	// The chunk ends just after the start of the row after the first
	// purgeChunk (or at the cutoff): it always takes that row, so every
	// chunk makes progress.
	end := cutoff
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT started_at FROM `+table+` WHERE `+state+`started_at < ?
		ORDER BY started_at LIMIT 1 OFFSET ?`, cutoff, purgeChunk).Scan(&at)
	switch {
	case err == nil:
		end = min(at+1, cutoff)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT audio_key FROM `+table+` WHERE `+state+`started_at < ?`, end)
	if err != nil {
		return 0, false, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, false, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	if len(keys) > 0 {
		if err := queueDeletions(ctx, tx, blobs.Coalesce(keys), now); err != nil {
			return 0, false, err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+state+`started_at < ?`, end)
		if err != nil {
			return 0, false, err
		}
		if k, _ := res.RowsAffected(); int(k) != len(keys) {
			return 0, false, fmt.Errorf("%s: deleted %d rows, queued %d files", table, k, len(keys))
		}
	}
	return len(keys), end < cutoff, nil
}

// DeleteSamplingRounds implements JobStore.
func (s *SQLite) DeleteSamplingRounds(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sampling_rounds WHERE day < ?`, ms(DayOf(cutoff)))
	if err != nil {
		return 0, fmt.Errorf("delete sampling records: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

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

// ForgetBlobDeletions drops keys from the queue, with one statement.
func (s *SQLite) ForgetBlobDeletions(ctx context.Context, keys []string) error {
	b, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("forget blob deletions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM blob_deletions WHERE key IN `+
		s.dialect(`(SELECT value FROM json_each(?))`, `(SELECT value FROM json_array_elements_text(?::json))`),
		string(b)); err != nil {
		return fmt.Errorf("forget blob deletions: %w", err)
	}
	return nil
}

// PackLive implements JobStore. Packs are grouped by the calls' UTC day,
// so only that day's rows are looked at (any group that is not a day:
// every row).
func (s *SQLite) PackLive(ctx context.Context, pack string) (bool, error) {
	needle := "@" + pack + ":"
	parts := strings.Split(pack, "/")
	q := `SELECT EXISTS (SELECT 1 FROM calls WHERE instr(audio_key, ?) > 0)
		OR EXISTS (SELECT 1 FROM pending_calls WHERE instr(audio_key, ?) > 0)`
	args := []any{needle, needle}
	if len(parts) == 3 {
		if day, err := time.Parse(time.DateOnly, parts[1]); err == nil {
			d0 := ms(day)
			q = `SELECT EXISTS (SELECT 1 FROM calls WHERE state = 'kept' AND started_at >= ? AND started_at < ?
				AND instr(audio_key, ?) > 0)
				OR EXISTS (SELECT 1 FROM pending_calls WHERE started_at >= ? AND started_at < ? AND instr(audio_key, ?) > 0)`
			args = []any{d0, d0 + msPerDay, needle, d0, d0 + msPerDay, needle}
		}
	}
	var live bool
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&live); err != nil {
		return false, fmt.Errorf("pack %s in use: %w", pack, err)
	}
	return live, nil
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
