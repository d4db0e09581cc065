package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// IngestStore is what ingestion needs beyond the call rows.
type IngestStore interface {
	// AudioKeys lists the blob key of every call row, whatever its state;
	// the start-up sweep removes blobs that no row names.
	AudioKeys(ctx context.Context) (map[string]bool, error)
	// IngestedAudio is what ingestion recorded about a call's audio, in any
	// state (pending calls are invisible to GetCall and GetWaveform).
	IngestedAudio(ctx context.Context, callID string) (Audio, Waveform, error)
	// SyncCommitted makes every transaction committed so far survive a power
	// loss, not only a process crash; ingestion calls it before it
	// acknowledges an upload.
	SyncCommitted(ctx context.Context) error
}

// AudioKeys implements IngestStore.
func (s *SQLite) AudioKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT audio_key FROM calls`)
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
	err := s.db.QueryRowContext(ctx, `SELECT audio_key, audio_size, audio_codec, audio_sample_rate, audio_channels,
		audio_bitrate_kbps, audio_frame_count, audio_samples_per_frame, duration_ms, peaks, peak_bucket_ms, frame_offsets,
		audio_repair, channel_peaks
		FROM calls WHERE id = ?`, callID).Scan(&a.Key, &a.Size, &a.Codec, &a.SampleRate, &a.Channels, &a.BitrateKbps,
		&a.FrameCount, &a.SamplesPerFrame, &dur, &wf.Peaks, &bucket, &offs, &a.Repair, &ch)
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

// SyncCommitted implements IngestStore. The database runs in WAL mode with
// synchronous=NORMAL: a commit is written to the WAL but not fsynced, which
// survives a crash of ecouted but not of the machine. Rather than pay an fsync
// on every write (sessions, audit), ingestion fsyncs the WAL itself after its
// commit: the frames are then durable, or already checkpointed into the
// database file, which SQLite syncs after each checkpoint.
func (s *SQLite) SyncCommitted(ctx context.Context) error {
	var path string
	if err := s.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return fmt.Errorf("sync database: %w", err)
	}
	f, err := os.OpenFile(path+"-wal", os.O_RDWR, 0)
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
