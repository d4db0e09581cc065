package blobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func newFiles(t testing.TB, root string) *Files {
	t.Helper()
	f, err := NewFiles(root, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// files lists every regular file under root.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Name() != keyCheckFile {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	f := newFiles(t, filepath.Join(t.TempDir(), "audio"))
	data := bytes.Repeat([]byte("écoute"), 30000)
	n, err := f.Put(ctx, "calls/ab/abc.mp3", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("put = %d, %v", n, err)
	}
	b, err := f.Open(ctx, "calls/ab/abc.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("size = %d", b.Size())
	}
	got := make([]byte, 7)
	if _, err := b.ReadAt(got, 7); err != nil || string(got) != "écoute" {
		t.Errorf("ReadAt = %q, %v", got, err)
	}
	b.Close()
	if err := f.Delete(ctx, "calls/ab/abc.mp3"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Open(ctx, "calls/ab/abc.mp3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("open after delete: %v", err)
	}
	if err := f.Delete(ctx, "calls/ab/abc.mp3"); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// mp3Like is plaintext full of MPEG frame syncs, as a recording is.
func mp3Like(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	for i := 0; i+4 <= n; i += 96 {
		copy(b[i:], []byte{0xFF, 0xF3, 0x48, 0xC4})
	}
	return b
}

func TestCiphertextHidesPlaintext(t *testing.T) {
	root := t.TempDir()
	f := newFiles(t, root)
	data := mp3Like(3*ChunkSize + 1234)
	if _, err := f.Put(context.Background(), "calls/aa/x.mp3", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(filepath.Join(root, "calls", "aa", "x.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	if want := HeaderSize + len(data) + 4*tagSize; len(disk) != want {
		t.Errorf("file is %d bytes, want %d (header + 4 chunks)", len(disk), want)
	}
	// A 4-byte MP3 header appears by chance about once per 4 GiB; this file
	// is 200 KiB.
	if bytes.Contains(disk, []byte{0xFF, 0xF3, 0x48, 0xC4}) {
		t.Error("ciphertext contains the plaintext's MP3 frame header")
	}
	if bytes.Contains(disk, data[100:132]) {
		t.Error("ciphertext contains a run of plaintext")
	}
}

func TestRandomRangesReadBack(t *testing.T) {
	ctx := context.Background()
	f := newFiles(t, t.TempDir())
	for _, size := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 5*ChunkSize + 777} {
		data := make([]byte, size)
		rand.Read(data)
		if _, err := f.Put(ctx, "calls/r/x.mp3", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		b, err := f.Open(ctx, "calls/r/x.mp3")
		if err != nil {
			t.Fatal(err)
		}
		if b.Size() != int64(size) {
			t.Fatalf("size %d read as %d", size, b.Size())
		}
		for range 200 {
			if size == 0 {
				break
			}
			off := mrand.IntN(size)
			n := mrand.IntN(min(size-off, 3*ChunkSize)) + 1
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

func TestTamperingDetected(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	f := newFiles(t, root)
	data := mp3Like(3 * ChunkSize)
	path := filepath.Join(root, "calls", "t", "x.mp3")
	put := func() []byte {
		if _, err := f.Put(ctx, "calls/t/x.mp3", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		disk, _ := os.ReadFile(path)
		return disk
	}
	readAll := func() error {
		b, err := f.Open(ctx, "calls/t/x.mp3")
		if err != nil {
			return err
		}
		defer b.Close()
		_, err = io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
		return err
	}
	if err := readAll(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before put: %v", err)
	}
	cases := map[string]func(d []byte) []byte{
		"flipped bit in chunk 1": func(d []byte) []byte { d[HeaderSize+sealedSize+100] ^= 1; return d },
		"flipped bit in file id": func(d []byte) []byte { d[len(magic)] ^= 1; return d },
		"chunks 0 and 1 swapped": func(d []byte) []byte {
			c0 := append([]byte{}, d[HeaderSize:HeaderSize+sealedSize]...)
			copy(d[HeaderSize:], d[HeaderSize+sealedSize:HeaderSize+2*sealedSize])
			copy(d[HeaderSize+sealedSize:], c0)
			return d
		},
		"last chunk dropped":  func(d []byte) []byte { return d[:HeaderSize+2*sealedSize] },
		"truncated mid-chunk": func(d []byte) []byte { return d[:len(d)-1000] },
	}
	for name, mutate := range cases {
		if err := os.WriteFile(path, mutate(put()), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := readAll(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: read = %v, want ErrCorrupt", name, err)
		}
	}
	// A blob moved under another key does not open either: the key is bound
	// into the file's own AES key.
	disk := put()
	os.WriteFile(filepath.Join(root, "calls", "t", "y.mp3"), disk, 0o600)
	b, err := f.Open(ctx, "calls/t/y.mp3")
	if err == nil {
		_, err = b.ReadAt(make([]byte, 10), 0)
		b.Close()
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("blob under another key: %v", err)
	}
}

func TestPlainBlobsEncryptedOnFirstStart(t *testing.T) {
	root := t.TempDir()
	plain := mp3Like(ChunkSize + 10)
	os.MkdirAll(filepath.Join(root, "calls", "ab"), 0o700)
	os.WriteFile(filepath.Join(root, "calls", "ab", "old.mp3"), plain, 0o600)
	f := newFiles(t, root)
	disk, _ := os.ReadFile(filepath.Join(root, "calls", "ab", "old.mp3"))
	if !bytes.HasPrefix(disk, []byte(magic)) || bytes.Contains(disk, plain[:4]) {
		t.Error("a blob from before encryption was left in plaintext")
	}
	b, err := f.Open(context.Background(), "calls/ab/old.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("encrypted old blob reads back wrong: %v", err)
	}
}

func TestWrongKeyRefused(t *testing.T) {
	root := t.TempDir()
	newFiles(t, root)
	if _, err := NewFiles(root, testKey(t)); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("second key accepted: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, KeyFileName)
	t.Setenv(KeyEnv, "")
	os.Unsetenv(KeyEnv)
	k1, err := LoadKey("", def)
	if err != nil || len(k1) != KeySize {
		t.Fatalf("create: %v", err)
	}
	if st, _ := os.Stat(def); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o", st.Mode().Perm())
	}
	if k2, err := LoadKey("", def); err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("reload: %v", err)
	}
	os.Chmod(def, 0o644)
	if _, err := LoadKey("", def); err == nil {
		t.Error("world-readable key file accepted")
	}
	os.Chmod(def, 0o600)
	t.Setenv(KeyEnv, "AAAA")
	if _, err := LoadKey("", def); err == nil || !strings.Contains(err.Error(), KeyEnv) {
		t.Errorf("short env key: %v", err)
	}
	if k3, err := LoadKey(def, filepath.Join(dir, "other")); err != nil || !bytes.Equal(k3, k1) {
		t.Errorf("--key-file wins over env: %v", err)
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

func TestFailedPutLeavesNothing(t *testing.T) {
	root := t.TempDir()
	f := newFiles(t, root)
	if _, err := f.Put(context.Background(), "calls/x/y.mp3", &failing{n: 3}); err == nil {
		t.Fatal("put of a failing reader succeeded")
	}
	if left := files(t, root); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	f := newFiles(t, root)
	f.Put(ctx, "calls/a/kept.mp3", strings.NewReader("kept"))
	f.Put(ctx, "calls/a/orphan.mp3", strings.NewReader("orphan"))
	p, _ := f.Create("calls/a/inflight.mp3")
	p.Write([]byte("half"))
	n, err := f.Sweep(ctx, func(k string) bool { return k == "calls/a/kept.mp3" })
	if err != nil || n != 2 {
		t.Fatalf("sweep removed %d, %v", n, err)
	}
	left := files(t, root)
	if len(left) != 1 || filepath.Base(left[0]) != "kept.mp3" {
		t.Errorf("left: %v", left)
	}
}

func TestKeysCannotEscapeRoot(t *testing.T) {
	f := newFiles(t, t.TempDir())
	for _, k := range []string{"", "../x", "/etc/passwd", "a/../../b", `a\b`, ".tmp/x"} {
		if _, err := f.Put(context.Background(), k, bytes.NewReader(nil)); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func BenchmarkReadAt(b *testing.B) {
	f := newFiles(b, b.TempDir())
	data := make([]byte, 4<<20)
	f.Put(context.Background(), "calls/b/x.mp3", bytes.NewReader(data))
	bl, _ := f.Open(context.Background(), "calls/b/x.mp3")
	defer bl.Close()
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for off := int64(0); off < bl.Size(); off += int64(len(buf)) {
			bl.ReadAt(buf, off)
		}
	}
}
