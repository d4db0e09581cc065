package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/blobs/s3blobs"
)

// IngestLockFile is taken shared by every process that writes audio (serve,
// ingest) and exclusively by the start-up sweep, so a sweep never removes
// another process's upload in flight.
const IngestLockFile = "ingest.lock"

// blobStore is what the backend needs of the encrypted audio store: the
// files of the data directory, or S3-compatible object storage.
type blobStore interface {
	blobs.Store
	// DeriveKey is a key for purpose derived from the data key.
	DeriveKey(purpose string) []byte
}

// SpoolDir holds, under the data directory, the blobs being written
// before they go to object storage.
const SpoolDir = "spool"

// s3Grace is how old an object no row names must be before a start-up
// sweep removes it: younger, it may be another server's upload whose row
// is being committed.
const s3Grace = time.Hour

// openBlobs loads the data key (never from the database) and opens the
// encrypted audio store the settings name.
func openBlobs(ctx context.Context, cfg Config) (blobStore, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, err := blobs.LoadKey(cfg.KeyFile, filepath.Join(cfg.DataDir, blobs.KeyFileName))
	if err != nil {
		return nil, err
	}
	if u := cfg.Settings.Blobs; u != "" {
		c, err := s3blobs.ParseURL(u)
		if err != nil {
			return nil, err
		}
		return s3blobs.New(ctx, c, key, filepath.Join(cfg.DataDir, SpoolDir))
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
	known := func(k string) bool {
		switch {
		case strings.HasPrefix(k, "calls/"):
			return keys[k]
		case strings.HasPrefix(k, "captures/"):
			return caps[k]
		}
		return true
	}
	files, ok := a.blobs.(*blobs.Files)
	if !ok {
		n, err := a.blobs.(*s3blobs.Store).Sweep(ctx, known, a.cfg.Clock.Now().Add(-s3Grace))
		if n > 0 {
			a.log.Warn("removed objects left by interrupted uploads", "objects", n)
		}
		return n, err
	}
	n, err := files.Sweep(ctx, known)
	if n > 0 {
		a.log.Warn("removed files left by interrupted uploads", "files", n)
	}
	if err != nil {
		return n, err
	}
	// Audio appended to packs for a batch whose rows were never committed.
	p, err := files.SweepPacks(ctx, keys)
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
