// Package blobs stores recordings as opaque byte objects under a key.
//
// Store is an interface so that encryption at rest or S3-compatible storage
// can wrap or replace the file implementation without touching the services.
package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound means no blob has that key.
var ErrNotFound = errors.New("blob not found")

// Blob is an opened object: random access plus its size.
type Blob interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Store keeps blobs.
type Store interface {
	// Put writes the whole of r under key durably: when Put returns nil the
	// blob survives a crash; when it fails nothing is left behind.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (Blob, error)
	Delete(ctx context.Context, key string) error
}

// Files stores each blob as a file under a root directory.
type Files struct {
	root string
	// NoSync skips fsync. Only for throw-away data (the demo seeding), where
	// durability costs seconds and buys nothing.
	NoSync bool
}

// NewFiles uses root (created if missing, mode 0700).
func NewFiles(root string) (*Files, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &Files{root: root}, nil
}

// Root is the directory holding the blobs.
func (f *Files) Root() string { return f.root }

// path maps a key to a file; keys are slash-separated relative names made by
// the backend, but check them anyway so no key escapes the root.
func (f *Files) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || !fs.ValidPath(key) {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(f.root, filepath.FromSlash(key)), nil
}

// Put writes to a temporary file in the target directory, syncs it, renames
// it into place and syncs the directory, so a crash leaves either the whole
// blob or none.
func (f *Files) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := f.path(key)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	if !f.NoSync {
		if err := tmp.Sync(); err != nil {
			return 0, fmt.Errorf("put %s: sync: %w", key, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	done = true
	if !f.NoSync {
		if err := syncDir(dir); err != nil {
			return 0, fmt.Errorf("put %s: %w", key, err)
		}
	}
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

type file struct {
	*os.File
	size int64
}

func (f file) Size() int64 { return f.size }

// Open opens a blob for random access.
func (f *Files) Open(_ context.Context, key string) (Blob, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return file{fh, st.Size()}, nil
}

// Delete removes a blob; deleting a missing blob is not an error.
func (f *Files) Delete(_ context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
