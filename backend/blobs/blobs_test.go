package blobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	f, err := NewFiles(filepath.Join(t.TempDir(), "audio"))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("écoute"), 10000)
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
	f, _ := NewFiles(root)
	if _, err := f.Put(context.Background(), "calls/x/y.mp3", &failing{n: 3}); err == nil {
		t.Fatal("put of a failing reader succeeded")
	}
	var files []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

func TestKeysCannotEscapeRoot(t *testing.T) {
	f, _ := NewFiles(t.TempDir())
	for _, k := range []string{"", "../x", "/etc/passwd", "a/../../b", `a\b`} {
		if _, err := f.Put(context.Background(), k, bytes.NewReader(nil)); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}
