// Package blobstest is the conformance suite that every blob store passes
// (files on disk, S3-compatible object storage): what the services rely on —
// durable puts, invisible pending blobs, random-access reads of the
// plaintext — and what encryption at rest promises (R9): the stored bytes
// hide the plaintext and any change to them is detected.
package blobstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/ecoute/ecoute/backend/blobs"
)

// Harness is one fresh, empty store and the back door a test needs.
type Harness struct {
	Store blobs.Store
	// Raw is what is stored under key, as a thief of the disk or the bucket
	// would read it.
	Raw func(t *testing.T, key string) []byte
	// SetRaw replaces what is stored under key (an attacker's write).
	SetRaw func(t *testing.T, key string, b []byte)
	// WithKey opens the same storage with another master key.
	WithKey func(master []byte) (blobs.Store, error)
	// Stored lists every key held, committed or not, temporary files
	// included, but not blobs.KeyCheckKey.
	Stored func(t *testing.T) []string
}

// NewKey is a random master key.
func NewKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, blobs.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// Run runs the suite; open makes a fresh store for each test.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"PutOpenDelete", putOpenDelete},
		{"RandomRangesReadBack", randomRanges},
		{"PutReplaces", putReplaces},
		{"PendingInvisibleUntilCommit", pendingLifecycle},
		{"DiscardLeavesNothing", discardLeavesNothing},
		{"FailedPutLeavesNothing", failedPut},
		{"CanceledPutLeavesNothing", canceledPut},
		{"ConcurrentReaders", concurrentReaders},
		{"CiphertextHidesPlaintext", ciphertextHides},
		{"TamperingDetected", tampering},
		{"WrongKeyRefused", wrongKey},
		{"InvalidKeysRefused", invalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// MP3Like is plaintext full of MPEG frame syncs, as a recording is.
func MP3Like(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	for i := 0; i+4 <= n; i += 96 {
		copy(b[i:], []byte{0xFF, 0xF3, 0x48, 0xC4})
	}
	return b
}

func put(t *testing.T, s blobs.Store, key string, data []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("put %s = %d, %v", key, n, err)
	}
}

// readAll opens key and reads all of it.
func readAll(s blobs.Store, key string) ([]byte, error) {
	b, err := s.Open(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
}

func putOpenDelete(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	data := bytes.Repeat([]byte("écoute"), 30000)
	put(t, s, "calls/ab/abc.mp3", data)
	b, err := s.Open(ctx, "calls/ab/abc.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("size = %d, want %d", b.Size(), len(data))
	}
	got := make([]byte, 7)
	if _, err := b.ReadAt(got, 7); err != nil || string(got) != "écoute" {
		t.Errorf("ReadAt = %q, %v", got, err)
	}
	b.Close()
	if err := s.Delete(ctx, "calls/ab/abc.mp3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "calls/ab/abc.mp3"); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("open after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "calls/ab/abc.mp3"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Open(ctx, "calls/never/put.mp3"); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("open of a key never put: %v, want ErrNotFound", err)
	}
}

func randomRanges(t *testing.T, h Harness) {
	s := h.Store
	for _, size := range []int{0, 1, blobs.ChunkSize - 1, blobs.ChunkSize, blobs.ChunkSize + 1, 2 * blobs.ChunkSize, 5*blobs.ChunkSize + 777} {
		data := make([]byte, size)
		rand.Read(data)
		put(t, s, "calls/r/x.mp3", data)
		b, err := s.Open(context.Background(), "calls/r/x.mp3")
		if err != nil {
			t.Fatal(err)
		}
		if b.Size() != int64(size) {
			t.Fatalf("size %d read as %d", size, b.Size())
		}
		for range 100 {
			if size == 0 {
				break
			}
			off := mrand.IntN(size)
			n := mrand.IntN(min(size-off, 3*blobs.ChunkSize)) + 1
			got := make([]byte, n)
			k, err := b.ReadAt(got, int64(off))
			if k != n || (err != nil && !errors.Is(err, io.EOF)) {
				t.Fatalf("size %d: ReadAt(%d, %d) = %d, %v", size, n, off, k, err)
			}
			if !bytes.Equal(got, data[off:off+n]) {
				t.Fatalf("size %d: range [%d,%d) differs", size, off, off+n)
			}
		}
		all, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("size %d: whole read: %v", size, err)
		}
		if k, err := b.ReadAt(make([]byte, 10), int64(size)); k != 0 || !errors.Is(err, io.EOF) {
			t.Errorf("read at end = %d, %v", k, err)
		}
		b.Close()
	}
}

func putReplaces(t *testing.T, h Harness) {
	put(t, h.Store, "calls/p/x.mp3", []byte("first version, longer than the second"))
	put(t, h.Store, "calls/p/x.mp3", []byte("second"))
	got, err := readAll(h.Store, "calls/p/x.mp3")
	if err != nil || string(got) != "second" {
		t.Errorf("after a second put: %q, %v", got, err)
	}
}

func pendingLifecycle(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	p, err := s.Create("calls/q/x.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Discard()
	data := MP3Like(2*blobs.ChunkSize + 5)
	for i := 0; i < len(data); i += 1000 {
		if _, err := p.Write(data[i:min(i+1000, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if p.Size() != int64(len(data)) {
		t.Errorf("pending size %d, want %d", p.Size(), len(data))
	}
	if _, err := p.Open(); err == nil {
		t.Error("a pending blob opened before it was sealed")
	}
	if err := p.Commit(ctx); err == nil {
		t.Error("a pending blob committed before it was sealed")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte("more")); err == nil {
		t.Error("write after seal accepted")
	}
	b, err := p.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	b.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("sealed pending reads back wrong: %v", err)
	}
	if _, err := s.Open(ctx, "calls/q/x.mp3"); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("pending blob visible before commit: %v", err)
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	p.Discard() // after commit: nothing
	got, err = readAll(s, "calls/q/x.mp3")
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("committed blob reads back wrong: %v", err)
	}
	if left := h.Stored(t); len(left) != 1 || left[0] != "calls/q/x.mp3" {
		t.Errorf("stored after commit: %v, want the blob alone", left)
	}
}

func discardLeavesNothing(t *testing.T, h Harness) {
	for _, seal := range []bool{false, true} {
		p, err := h.Store.Create("calls/d/x.mp3")
		if err != nil {
			t.Fatal(err)
		}
		p.Write(MP3Like(blobs.ChunkSize + 1))
		if seal {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
		p.Discard()
		if left := h.Stored(t); len(left) != 0 {
			t.Errorf("discard (sealed %v) left %v", seal, left)
		}
	}
}

type failing struct{ n int }

func (r *failing) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, "partial data"), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func failedPut(t *testing.T, h Harness) {
	if _, err := h.Store.Put(context.Background(), "calls/x/y.mp3", &failing{n: 3}); err == nil {
		t.Fatal("put of a failing reader succeeded")
	}
	if left := h.Stored(t); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func canceledPut(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Store.Put(ctx, "calls/c/y.mp3", bytes.NewReader(MP3Like(3*blobs.ChunkSize))); !errors.Is(err, context.Canceled) {
		t.Errorf("put with a canceled context: %v, want context.Canceled", err)
	}
	if left := h.Stored(t); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func concurrentReaders(t *testing.T, h Harness) {
	data := MP3Like(6*blobs.ChunkSize + 99)
	put(t, h.Store, "calls/c/x.mp3", data)
	b, err := h.Store.Open(context.Background(), "calls/c/x.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				off := (g*7919 + i*104729) % len(data)
				n := min(len(data)-off, 40000)
				got := make([]byte, n)
				if _, err := b.ReadAt(got, int64(off)); err != nil && !errors.Is(err, io.EOF) {
					errs <- err
					return
				}
				if !bytes.Equal(got, data[off:off+n]) {
					errs <- fmt.Errorf("reader %d: range at %d differs", g, off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func ciphertextHides(t *testing.T, h Harness) {
	data := MP3Like(3*blobs.ChunkSize + 1234)
	put(t, h.Store, "calls/aa/x.mp3", data)
	raw := h.Raw(t, "calls/aa/x.mp3")
	if want := blobs.SealedSize(int64(len(data))); int64(len(raw)) != want {
		t.Errorf("stored %d bytes, want %d (header + 4 chunks)", len(raw), want)
	}
	// A 4-byte MP3 header appears by chance about once per 4 GiB; this blob
	// is 200 KiB.
	if bytes.Contains(raw, []byte{0xFF, 0xF3, 0x48, 0xC4}) {
		t.Error("stored bytes contain the plaintext's MP3 frame header")
	}
	if bytes.Contains(raw, data[100:132]) {
		t.Error("stored bytes contain a run of plaintext")
	}
}

func tampering(t *testing.T, h Harness) {
	const sealed = blobs.ChunkSize + blobs.TagSize
	hdr := blobs.HeaderSize
	data := MP3Like(3 * blobs.ChunkSize)
	cases := []struct {
		name   string
		mutate func(d []byte) []byte
	}{
		{"flipped bit in chunk 1", func(d []byte) []byte { d[hdr+sealed+100] ^= 1; return d }},
		{"flipped bit in the blob id", func(d []byte) []byte { d[hdr-1] ^= 1; return d }},
		{"chunks 0 and 1 swapped", func(d []byte) []byte {
			c0 := append([]byte{}, d[hdr:hdr+sealed]...)
			copy(d[hdr:], d[hdr+sealed:hdr+2*sealed])
			copy(d[hdr+sealed:], c0)
			return d
		}},
		{"last chunk dropped", func(d []byte) []byte { return d[:hdr+2*sealed] }},
		{"truncated mid-chunk", func(d []byte) []byte { return d[:len(d)-1000] }},
	}
	for _, c := range cases {
		put(t, h.Store, "calls/t/x.mp3", data)
		h.SetRaw(t, "calls/t/x.mp3", c.mutate(h.Raw(t, "calls/t/x.mp3")))
		if _, err := readAll(h.Store, "calls/t/x.mp3"); !errors.Is(err, blobs.ErrCorrupt) {
			t.Errorf("%s: read = %v, want ErrCorrupt", c.name, err)
		}
	}
	// A blob moved under another key does not open either: the key is bound
	// into the blob's own AES key.
	put(t, h.Store, "calls/t/x.mp3", data)
	h.SetRaw(t, "calls/t/y.mp3", h.Raw(t, "calls/t/x.mp3"))
	if _, err := readAll(h.Store, "calls/t/y.mp3"); !errors.Is(err, blobs.ErrCorrupt) {
		t.Errorf("blob under another key: %v, want ErrCorrupt", err)
	}
}

func wrongKey(t *testing.T, h Harness) {
	put(t, h.Store, "calls/w/x.mp3", []byte("sealed with the first key"))
	if _, err := h.WithKey(NewKey(t)); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("a second key accepted: %v", err)
	}
}

func invalidKeys(t *testing.T, h Harness) {
	for _, k := range []string{"", "../x", "/etc/passwd", "a/../../b", `a\b`, blobs.TempDir + "/x"} {
		if _, err := h.Store.Put(context.Background(), k, bytes.NewReader(nil)); err == nil {
			t.Errorf("key %q accepted", k)
		}
		if _, err := h.Store.Create(k); err == nil {
			t.Errorf("key %q accepted by Create", k)
		}
	}
}
