package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ecoute/ecoute/backend/blobs"
)

// IngestLockFile is taken shared by every process that writes audio (serve,
// ingest) and exclusively by the start-up sweep, so a sweep never removes
// another process's upload in flight.
const IngestLockFile = "ingest.lock"

// openBlobs loads the data key (never from the database) and opens the
// encrypted audio store.
func openBlobs(cfg Config) (*blobs.Files, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, err := blobs.LoadKey(cfg.KeyFile, filepath.Join(cfg.DataDir, blobs.KeyFileName))
	if err != nil {
		return nil, err
	}
	return blobs.NewFiles(filepath.Join(cfg.DataDir, AudioDir), key)
}

// PrepareIngest is called once before a process starts writing audio. When
// no other process is writing, it removes what an interrupted upload left:
// temporary files and blobs that no committed row names. It then holds a
// shared lock until the process exits (or the App is closed).
func (a *App) PrepareIngest(ctx context.Context) (removed int, err error) {
	if a.ingestLock != nil {
		return 0, nil
	}
	f, err := os.OpenFile(filepath.Join(a.cfg.DataDir, IngestLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("ingest lock: %w", err)
	}
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		removed, err = a.sweep(ctx)
		if err != nil {
			f.Close()
			return removed, err
		}
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return 0, fmt.Errorf("ingest lock: %w", err)
	} else {
		a.log.Info("another process is writing audio: start-up sweep skipped")
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		f.Close()
		return removed, fmt.Errorf("ingest lock: %w", err)
	}
	a.ingestLock = f
	return removed, nil
}

func (a *App) sweep(ctx context.Context) (int, error) {
	keys, err := a.store.AudioKeys(ctx)
	if err != nil {
		return 0, err
	}
	// Call audio and screen captures have rows to check against; other
	// kinds of blob are left to their owners.
	caps, err := a.store.CaptureBlobKeys(ctx)
	if err != nil {
		return 0, err
	}
	n, err := a.blobs.Sweep(ctx, func(k string) bool {
		switch {
		case strings.HasPrefix(k, "calls/"):
			return keys[k]
		case strings.HasPrefix(k, "captures/"):
			return caps[k]
		}
		return true
	})
	if n > 0 {
		a.log.Warn("removed files left by interrupted uploads", "files", n)
	}
	if err != nil {
		return n, err
	}
	// Audio appended to packs for a batch whose rows were never committed.
	p, err := a.blobs.SweepPacks(ctx, keys)
	if p > 0 {
		a.log.Warn("freed audio left in packs by interrupted uploads", "packs", p)
	}
	return n + p, err
}

func (a *App) releaseIngest() {
	if a.ingestLock != nil {
		a.ingestLock.Close()
		a.ingestLock = nil
	}
}

// Blobs exposes the encrypted audio store to tests and maintenance commands.
func (a *App) Blobs() blobs.Store { return a.blobs }
