package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// IngestStore is what ingestion needs beyond the call rows.
type IngestStore interface {
	// InsertPending stores uploads waiting for the sampling, in one
	// transaction, each unless its external id is known already (kept or
	// waiting: Outcome.Existing) or was sampled out (Outcome.SampledOut,
	// by the keyed hash of its id).
	InsertPending(ctx context.Context, uploads []PendingUpload) ([]Outcome, error)
	// SampledOut tells whether the keyed hash of an external id is that of
	// a call the sampling deleted.
	SampledOut(ctx context.Context, h int64) (bool, error)
	// AgentTeams lists the team an agent is in, then those it was moved
	// out of; ErrNotFound for an unknown agent.
	AgentTeams(ctx context.Context, agentID string) ([]string, error)
	// AudioKeys lists the blob key of every call row, whatever its state;
	// the start-up sweep removes blobs that no row names.
	AudioKeys(ctx context.Context) (map[string]bool, error)
	// IngestedAudio is what ingestion recorded about a call's audio, in any
	// state (waiting calls are invisible to GetCall and GetWaveform).
	IngestedAudio(ctx context.Context, callID string) (Audio, Waveform, error)
	// SetWaveform stores what playback needs of a kept call, computed
	// after the sampling: the frame index, and the peaks when Bucket is
	// set (Bucket zero: the peaks are still to come).
	SetWaveform(ctx context.Context, callID string, w Waveform) error
	// CallsWithoutPeaks lists up to limit kept calls whose peaks are still
	// to come, the most recent first.
	CallsWithoutPeaks(ctx context.Context, limit int) ([]string, error)
	// SyncCommitted makes every transaction committed so far survive a power
	// loss, not only a process crash; ingestion calls it before it
	// acknowledges an upload.
	SyncCommitted(ctx context.Context) error
}

// PendingUpload is an upload to store until the sampling, with the keyed
// hash of its external id.
type PendingUpload struct {
	Call   NewCall
	IDHash int64
}

// Outcome is what became of one upload of InsertPending.
type Outcome struct {
	// Existing is the id of the call that already has the external id
	// (nothing was stored); empty when the upload was stored.
	Existing string
	// SampledOut says the external id is that of a call the sampling
	// deleted: nothing was stored.
	SampledOut bool
}

// InsertPending implements IngestStore.
func (s *SQLite) InsertPending(ctx context.Context, uploads []PendingUpload) ([]Outcome, error) {
	out := make([]Outcome, len(uploads))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO pending_calls (`+callInsertCols+`, id_hash)
			VALUES (`+callInsertParams+`, ?) ON CONFLICT (external_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		known, err := tx.PrepareContext(ctx, `SELECT id FROM calls WHERE external_id = ?
			UNION ALL SELECT id FROM pending_calls WHERE external_id = ? LIMIT 1`)
		if err != nil {
			return err
		}
		defer known.Close()
		gone, err := tx.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM sampled_out WHERE h = ?)`)
		if err != nil {
			return err
		}
		defer gone.Close()
		for i, u := range uploads {
			ext := u.Call.Call.ExternalID
			var id string
			err := known.QueryRowContext(ctx, ext, ext).Scan(&id)
			switch {
			case err == nil:
				out[i].Existing = id
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("call %s: %w", ext, err)
			}
			if err := gone.QueryRowContext(ctx, u.IDHash).Scan(&out[i].SampledOut); err != nil {
				return fmt.Errorf("call %s: %w", ext, err)
			}
			if out[i].SampledOut {
				continue
			}
			args, err := s.callValues(u.Call)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, append(args, u.IDHash)...); err != nil {
				return fmt.Errorf("call %s: %w", ext, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store uploads: %w", err)
	}
	return out, nil
}

// SampledOut implements IngestStore.
func (s *SQLite) SampledOut(ctx context.Context, h int64) (bool, error) {
	var gone bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sampled_out WHERE h = ?)`, h).Scan(&gone); err != nil {
		return false, fmt.Errorf("sampled-out lookup: %w", err)
	}
	return gone, nil
}

// AgentTeams implements IngestStore.
func (s *SQLite) AgentTeams(ctx context.Context, agentID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT team_id FROM agents WHERE id = ?
		UNION ALL SELECT team_id FROM agent_past_teams WHERE agent_id = ?`, agentID, agentID)
	if err != nil {
		return nil, fmt.Errorf("teams of agent %s: %w", agentID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("teams of agent %s: %w", agentID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teams of agent %s: %w", agentID, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("agent %s: %w", agentID, ErrNotFound)
	}
	return out, nil
}

// AudioKeys implements IngestStore.
func (s *SQLite) AudioKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT audio_key FROM calls UNION ALL SELECT audio_key FROM pending_calls`)
	if err != nil {
		return nil, fmt.Errorf("list audio keys: %w", err)
	}
	defer rows.Close()
	keys := make(map[string]bool)
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("list audio keys: %w", err)
		}
		keys[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audio keys: %w", err)
	}
	return keys, nil
}

// IngestedAudio implements IngestStore.
func (s *SQLite) IngestedAudio(ctx context.Context, callID string) (Audio, Waveform, error) {
	var a Audio
	var wf Waveform
	var dur, bucket int64
	var offs, ch []byte
	const cols = `audio_key, audio_size, audio_codec, audio_sample_rate, audio_channels,
		audio_bitrate_kbps, audio_frame_count, audio_samples_per_frame, duration_ms, peaks, peak_bucket_ms, frame_offsets,
		audio_repair, channel_peaks`
	err := s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM calls WHERE id = ?
		UNION ALL SELECT `+cols+` FROM pending_calls WHERE id = ? LIMIT 1`, callID, callID).Scan(&a.Key, &a.Size,
		&a.Codec, &a.SampleRate, &a.Channels, &a.BitrateKbps, &a.FrameCount, &a.SamplesPerFrame, &dur, &wf.Peaks,
		&bucket, &offs, &a.Repair, &ch)
	if err != nil {
		return Audio{}, Waveform{}, notFound(err, "audio of "+callID)
	}
	a.Duration = time.Duration(dur) * time.Millisecond
	wf.Bucket = time.Duration(bucket) * time.Millisecond
	wf.SamplesPerFrame, wf.SampleRate = a.SamplesPerFrame, a.SampleRate
	if n := len(wf.Peaks); n > 0 && len(ch) == 2*n {
		wf.ChannelPeaks = [][]byte{ch[:n], ch[n:]}
	}
	if wf.FrameOffsets, err = DecodeOffsets(offs); err != nil {
		return Audio{}, Waveform{}, fmt.Errorf("audio of %s: %w", callID, err)
	}
	return a, wf, nil
}

// SetWaveform implements IngestStore.
func (s *SQLite) SetWaveform(ctx context.Context, callID string, w Waveform) error {
	offs, err := EncodeOffsets(w.FrameOffsets)
	if err != nil {
		return fmt.Errorf("waveform of %s: %w", callID, err)
	}
	if w.Peaks == nil {
		w.Peaks = []byte{}
	}
	res, err := s.db.ExecContext(ctx, `UPDATE calls SET frame_offsets = ?, peaks = ?, peak_bucket_ms = ?, channel_peaks = ?
		WHERE id = ? AND state = 'kept'`, offs, w.Peaks, w.Bucket.Milliseconds(), joinPeaks(w), callID)
	if err != nil {
		return fmt.Errorf("waveform of %s: %w", callID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("waveform of %s: %w", callID, ErrNotFound)
	}
	return nil
}

// CallsWithoutPeaks implements IngestStore (index calls_without_peaks).
func (s *SQLite) CallsWithoutPeaks(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM calls WHERE peak_bucket_ms = 0
		ORDER BY started_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("calls without peaks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("calls without peaks: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// SyncCommitted implements IngestStore. The database runs in WAL mode with
// synchronous=NORMAL: a commit is written to the WAL but not fsynced, which
// survives a crash of ecouted but not of the machine. Rather than pay an fsync
// on every write (sessions, audit), ingestion fsyncs the WAL itself after its
// commit: the frames are then durable, or already checkpointed into the
// database file, which SQLite syncs after each checkpoint.
func (s *SQLite) SyncCommitted(ctx context.Context) error {
	if s.postgres {
		return nil // a PostgreSQL commit is durable when it returns (synchronous_commit)
	}
	s.walMu.Lock()
	path := s.walPath
	s.walMu.Unlock()
	if path == "" {
		var db string
		if err := s.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&db); err != nil {
			return fmt.Errorf("sync database: %w", err)
		}
		path = db + "-wal"
		s.walMu.Lock()
		s.walPath = path
		s.walMu.Unlock()
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no WAL: everything is in the database file
	}
	if err != nil {
		return fmt.Errorf("sync database: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync database: %w", err)
	}
	return nil
}
