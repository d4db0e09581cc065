package blobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
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
