// Package blobs stores recordings as opaque byte objects under a key,
// encrypted at rest (see crypt.go for the format).
//
// Store is an interface so that S3-compatible storage can replace the file
// implementation without touching the services.
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

// Blob is an opened object: random access to the plaintext plus its size.
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
	// Create starts a blob to be written piece by piece and published with
	// Pending.Commit; until then it is invisible under key.
	Create(key string) (Pending, error)
	Open(ctx context.Context, key string) (Blob, error)
	Delete(ctx context.Context, key string) error
}

// Pending is a blob being written. Write, then Close (seal), then read it
// back with Open if needed, then Commit or Discard. Discard after Commit does
// nothing, so `defer p.Discard()` is the way to leave nothing behind.
type Pending interface {
	io.Writer
	// Close seals the blob and syncs it; no more writes.
	Close() error
	// Size is the plaintext length written so far.
	Size() int64
	// Open reads the sealed plaintext back (after Close).
	Open() (Blob, error)
	// Commit publishes the blob under its key durably (rename, then sync of
	// the directory).
	Commit(ctx context.Context) error
	// Discard removes the temporary file unless committed.
	Discard()
}

// TempDir is the directory under the root that holds blobs being written;
// it is emptied by Sweep at start.
const TempDir = ".tmp"

// keyCheckFile holds a small blob encrypted with the master key, so that
// starting with another key fails at once rather than at the first play.
const keyCheckFile = ".key-check"

const keyCheckText = "ecoute data key check"

// Files stores each blob as an encrypted file under a root directory.
type Files struct {
	root   string
	master []byte
	// NoSync skips fsync. Only for throw-away data (the demo seeding), where
	// durability costs seconds and buys nothing.
	NoSync bool
}

// NewFiles uses root (created if missing, mode 0700) with the master key
// (KeySize bytes; see LoadKey). It refuses a root whose blobs were written
// with another key.
func NewFiles(root string, master []byte) (*Files, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("blob key: %d bytes, want %d", len(master), KeySize)
	}
	if err := os.MkdirAll(filepath.Join(root, TempDir), 0o700); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	f := &Files{root: root, master: master}
	if err := f.checkKey(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Files) checkKey() error {
	_, err := os.Stat(filepath.Join(f.root, keyCheckFile))
	if errors.Is(err, fs.ErrNotExist) {
		if err := f.encryptPlain(); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	return CheckKey(context.Background(), f, f.root)
}

// KeyCheckKey names the small blob that CheckKey writes; sweeps keep it.
const KeyCheckKey = keyCheckFile

// CheckKey makes sure that the blobs of s were sealed with s's master key,
// so that starting with another key fails at once rather than at the first
// play: the first time it stores a small known blob, afterwards it reads it
// back. where names the store in errors.
func CheckKey(ctx context.Context, s Store, where string) error {
	b, err := s.Open(ctx, keyCheckFile)
	if errors.Is(err, ErrNotFound) {
		if _, err := s.Put(ctx, keyCheckFile, strings.NewReader(keyCheckText)); err != nil {
			return fmt.Errorf("key check: %w", err)
		}
		return nil
	}
	if errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("the data key does not open %s (another key?): %w", where, err)
	}
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	defer b.Close()
	got := make([]byte, b.Size())
	if _, err := b.ReadAt(got, 0); err != nil || string(got) != keyCheckText {
		return fmt.Errorf("the data key does not open %s (another key?): %w", where, ErrCorrupt)
	}
	return nil
}

// encryptPlain encrypts, in place, blobs written before encryption at rest
// existed (a data directory kept from an earlier version). It runs once: on
// the first start without a key check.
func (f *Files) encryptPlain() error {
	var plain []string
	err := filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil || strings.HasPrefix(filepath.ToSlash(rel), TempDir+"/") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, len(magic))
		n, _ := io.ReadFull(fh, head)
		fh.Close()
		if string(head[:n]) != magic {
			plain = append(plain, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("look for unencrypted blobs: %w", err)
	}
	for _, key := range plain {
		fh, err := os.Open(filepath.Join(f.root, filepath.FromSlash(key)))
		if err != nil {
			return fmt.Errorf("encrypt %s: %w", key, err)
		}
		_, err = f.Put(context.Background(), key, fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("encrypt %s: %w", key, err)
		}
	}
	return nil
}

// Root is the directory holding the blobs.
func (f *Files) Root() string { return f.root }

// path maps a key to a file; keys are slash-separated relative names made by
// the backend, but check them anyway so no key escapes the root.
func (f *Files) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(f.root, filepath.FromSlash(key)), nil
}

// ValidKey refuses keys that no store accepts: empty, absolute, with a
// backslash, a "." or ".." element, or under TempDir.
func ValidKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || !fs.ValidPath(key) ||
		strings.HasPrefix(key, TempDir+"/") {
		return fmt.Errorf("invalid blob key %q", key)
	}
	return nil
}

// Put writes r under key: sealed into a temporary file, synced, renamed into
// place, directory synced — a crash leaves either the whole blob or none.
func (f *Files) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return PutVia(ctx, f, key, r)
}

// PutVia is Put made of Create, Write, Close and Commit: what every store's
// Put does.
func PutVia(ctx context.Context, s Store, key string, r io.Reader) (int64, error) {
	p, err := s.Create(key)
	if err != nil {
		return 0, err
	}
	defer p.Discard()
	n, err := io.Copy(p, ContextReader(ctx, r))
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	if err := p.Close(); err != nil {
		return 0, err
	}
	if err := p.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}

type pending struct {
	f         *Files
	key, dest string
	tmp       *os.File
	s         *sealer
	closed    bool
	committed bool
}

// Create starts a blob in the temporary directory.
func (f *Files) Create(key string) (Pending, error) {
	dest, err := f.path(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.root, TempDir), "blob-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	s, err := newSealer(tmp, f.master, key)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &pending{f: f, key: key, dest: dest, tmp: tmp, s: s}, nil
}

func (p *pending) Write(b []byte) (int, error) {
	if p.closed {
		return 0, fmt.Errorf("write %s: already sealed", p.key)
	}
	n, err := p.s.Write(b)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", p.key, err)
	}
	return n, nil
}

func (p *pending) Size() int64 { return p.s.n }

func (p *pending) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if err := p.s.Close(); err != nil {
		return fmt.Errorf("seal %s: %w", p.key, err)
	}
	if !p.f.NoSync {
		if err := p.tmp.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", p.key, err)
		}
	}
	if err := p.tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p.key, err)
	}
	return nil
}

func (p *pending) Open() (Blob, error) {
	if !p.closed {
		return nil, fmt.Errorf("open %s: not sealed yet", p.key)
	}
	fh, err := os.Open(p.tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p.key, err)
	}
	o, err := openSealed(fh, p.f.master, p.key)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", p.key, err)
	}
	return o, nil
}

func (p *pending) Commit(ctx context.Context) error {
	if !p.closed {
		return fmt.Errorf("commit %s: not sealed yet", p.key)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit %s: %w", p.key, err)
	}
	dir := filepath.Dir(p.dest)
	if err := p.f.mkdir(dir); err != nil {
		return fmt.Errorf("commit %s: %w", p.key, err)
	}
	if err := os.Rename(p.tmp.Name(), p.dest); err != nil {
		return fmt.Errorf("commit %s: %w", p.key, err)
	}
	p.committed = true
	if !p.f.NoSync {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("commit %s: %w", p.key, err)
		}
	}
	return nil
}

func (p *pending) Discard() {
	if p.committed {
		return
	}
	if !p.closed {
		p.closed = true
		p.tmp.Close()
	}
	os.Remove(p.tmp.Name())
}

// mkdir creates dir and any missing parent, syncing the parent of each
// directory it creates: a new directory's own name must be durable too, or
// the blob renamed into it could vanish with it after a power loss.
func (f *Files) mkdir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := f.mkdir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if f.NoSync {
		return nil
	}
	return syncDir(parent)
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

// Open opens a blob for random access to its plaintext.
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
	o, err := openSealed(fh, f.master, key)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return o, nil
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

// Sweep removes what a crash can leave behind: every temporary file, and
// every blob for which known returns false (written, then the process died
// before its row was committed). Run it only while no upload is in flight.
func (f *Files) Sweep(ctx context.Context, known func(key string) bool) (removed int, err error) {
	err = filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if key == keyCheckFile {
			return nil
		}
		temp := strings.HasPrefix(key, TempDir+"/") || strings.HasPrefix(d.Name(), ".tmp-")
		if temp || !known(key) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep %s: %w", f.root, err)
	}
	return removed, nil
}

// ContextReader reads r until ctx is done.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

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
