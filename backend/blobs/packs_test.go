package blobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// stage seals data under key, ready for Pack.
func stage(t *testing.T, f *Files, group, key string, data []byte) Staged {
	t.Helper()
	p, err := f.Stage(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return Staged{Group: group, Blob: p}
}

func readAll(t *testing.T, f *Files, key string) []byte {
	t.Helper()
	b, err := f.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer b.Close()
	out, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// blocks is the disk space a file takes, in 512-byte blocks.
func blocks(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks
}

func TestPackStoresReadsAndPunches(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "audio")
	f := newFiles(t, root)
	defer f.ClosePacks()
	var items []Staged
	var want [][]byte
	for i := range 12 {
		data := bytes.Repeat([]byte(fmt.Sprintf("call %02d ", i)), 3000+i*500) // 24–90 kB, over a chunk
		group := "2027-03-01"
		if i%3 == 2 {
			group = "2027-03-02"
		}
		items = append(items, stage(t, f, group, fmt.Sprintf("calls/%02d/c%02d.mp3", i, i), data))
		want = append(want, data)
	}
	keys, err := f.Pack(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	packsSeen := map[string]bool{}
	for i, k := range keys {
		pack, group, ok := PackOf(k)
		if !ok || !strings.HasPrefix(k, fmt.Sprintf("calls/%02d/c%02d.mp3@packs/%s/", i, i, group)) {
			t.Fatalf("key %q", k)
		}
		packsSeen[pack] = true
		if got := readAll(t, f, k); !bytes.Equal(got, want[i]) {
			t.Errorf("blob %d reads back %d bytes, want %d", i, len(got), len(want[i]))
		}
	}
	if len(packsSeen) != 2 {
		t.Errorf("%d packs, want one per group", len(packsSeen))
	}
	// Nothing left in the temporary directory; two files in all.
	if got := files(t, root); len(got) != 2 {
		t.Errorf("files %v, want the two packs", got)
	}
	// A blob named under another key does not open (the key is bound).
	swapped := "calls/99/other.mp3" + keys[0][strings.IndexByte(keys[0], '@'):]
	if b, err := f.Open(ctx, swapped); err == nil {
		_, err = b.ReadAt(make([]byte, 10), 0)
		b.Close()
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("read under another name: %v", err)
		}
	}
	// Deleting blobs 0–5 of the first group frees their blocks; the others
	// still read back.
	pack, _, _ := PackOf(keys[0])
	path := filepath.Join(root, filepath.FromSlash(pack))
	before := blocks(t, path)
	var gone []string
	for i := range 6 {
		if i%3 != 2 {
			gone = append(gone, keys[i])
		}
	}
	if err := f.DeleteAll(ctx, Coalesce(gone), func(context.Context, string) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	after := blocks(t, path)
	if after >= before {
		t.Errorf("blocks %d → %d: nothing freed", before, after)
	}
	for i, k := range keys {
		if i < 6 && i%3 != 2 {
			continue
		}
		if got := readAll(t, f, k); !bytes.Equal(got, want[i]) {
			t.Errorf("blob %d damaged by the deletion of its neighbours", i)
		}
	}
	// Deleting again is not an error.
	if err := f.Delete(ctx, keys[0]); err != nil {
		t.Error(err)
	}
}

func TestPackLargeBlobsGetTheirOwnFile(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "audio")
	f := newFiles(t, root)
	defer f.ClosePacks()
	big := bytes.Repeat([]byte{7}, MaxPacked+1)
	keys, err := f.Pack(ctx, []Staged{stage(t, f, "2027-03-01", "calls/aa/big.mp3", big),
		stage(t, f, "2027-03-01", "calls/aa/small.mp3", []byte("small"))})
	if err != nil {
		t.Fatal(err)
	}
	if keys[0] != "calls/aa/big.mp3" || !strings.Contains(keys[1], "@") {
		t.Fatalf("keys %q", keys)
	}
	if got := readAll(t, f, keys[0]); !bytes.Equal(got, big) {
		t.Error("big blob damaged")
	}
}

func TestCoalesce(t *testing.T) {
	k := func(off, n int) string { return fmt.Sprintf("x@packs/g/p.pack:%d+%d", off, n) }
	// 0+5000 ends in the second block: 8192 follows it; 8192+100 ends in
	// the third block: 12288 follows; 20480 does not follow 12288+10.
	got := Coalesce([]string{k(8192, 100), "calls/aa/alone.mp3", k(0, 5000), k(12288, 10), k(20480, 1), k(32768, 1)})
	want := []string{"@packs/g/p.pack:0+12298", "@packs/g/p.pack:20480+1", "@packs/g/p.pack:32768+1", "calls/aa/alone.mp3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestPackedKeysCannotEscape(t *testing.T) {
	ctx := context.Background()
	f := newFiles(t, filepath.Join(t.TempDir(), "audio"))
	for _, k := range []string{"x@packs/../../etc/passwd:0+10", "x@packs/g/p.pack:1+10", "x@other/g/p.pack:0+10",
		"x@packs/g/p.pack:0+0", "x@packs/g/p.pack:-4096+10", "x@packs/g/p.pack:0", "x@/packs/g/p.pack:0+1"} {
		if _, err := f.Open(ctx, k); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("open %q: %v", k, err)
		}
		if err := f.Delete(ctx, k); err == nil {
			t.Errorf("delete %q accepted", k)
		}
	}
	for _, k := range []string{"packs/g/p.pack", "calls/a@b"} {
		if _, err := f.Create(k); err == nil {
			t.Errorf("create %q accepted", k)
		}
	}
}

// TestRemovePacks: a pack goes once no key names it and no process appends
// to it; the pack a process still appends to stays.
func TestRemovePacks(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "audio")
	w := newFiles(t, root)
	keys, err := w.Pack(ctx, []Staged{stage(t, w, "2027-03-01", "calls/aa/a.mp3", []byte("a"))})
	if err != nil {
		t.Fatal(err)
	}
	pack, _, _ := PackOf(keys[0])
	other, err := NewFiles(root, w.master) // another process's view
	if err != nil {
		t.Fatal(err)
	}
	dead := func(context.Context, string) (bool, error) { return false, nil }
	if n, err := other.RemovePacks(ctx, nil, dead); err != nil || n != 0 {
		t.Fatalf("removed %d (%v) while the writer holds it", n, err)
	}
	w.ClosePacks()
	alive := func(_ context.Context, p string) (bool, error) { return p == pack, nil }
	if n, err := other.RemovePacks(ctx, []string{"2027-03-01"}, alive); err != nil || n != 0 {
		t.Fatalf("removed %d (%v) a pack still named", n, err)
	}
	if n, err := other.RemovePacks(ctx, []string{"2027-03-01"}, dead); err != nil || n != 1 {
		t.Fatalf("removed %d (%v), want 1", n, err)
	}
	if _, err := os.Stat(filepath.Join(root, PackDir, "2027-03-01")); !os.IsNotExist(err) {
		t.Errorf("empty group directory left: %v", err)
	}
	if _, err := other.Open(ctx, keys[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("open after removal: %v", err)
	}
}

func TestDeriveKey(t *testing.T) {
	f := newFiles(t, filepath.Join(t.TempDir(), "audio"))
	a, b := f.DeriveKey("one"), f.DeriveKey("two")
	if len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, f.DeriveKey("one")) || bytes.Equal(a, f.master) {
		t.Errorf("derived keys %x %x", a, b)
	}
}

// TestCopyOut: blobs moved to a new pack read back under their new keys;
// the old pack, named by nothing any more, goes whole with its group's key.
func TestCopyOut(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "audio")
	f := newFiles(t, root)
	var items []Staged
	for i := range 10 {
		items = append(items, stage(t, f, "2027-03-01", fmt.Sprintf("calls/%02d/c.mp3", i), bytes.Repeat([]byte{byte(i)}, 70000)))
	}
	keys, err := f.Pack(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	f.ClosePacks()
	old, _, _ := PackOf(keys[0])
	c, err := f.CopyOut(ctx, "2027-03-01", []string{keys[3], keys[7], "calls/aa/own.mp3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys[2] != "calls/aa/own.mp3" {
		t.Errorf("a blob of its own moved: %q", c.Keys[2])
	}
	for i, k := range c.Keys[:2] {
		want := bytes.Repeat([]byte{byte([]int{3, 7}[i])}, 70000)
		if got := readAll(t, f, k); !bytes.Equal(got, want) {
			t.Errorf("copied blob %d damaged", i)
		}
		if p, _, _ := PackOf(k); p == old {
			t.Errorf("copied into the old pack")
		}
	}
	newPack, _, _ := PackOf(c.Keys[0])
	live := func(_ context.Context, p string) (bool, error) { return p == newPack, nil }
	// Until released, the new pack is not removed even if nothing names it.
	if err := f.DeleteAll(ctx, []string{GroupKey("2027-03-01")}, func(context.Context, string) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f, c.Keys[0]); len(got) != 70000 {
		t.Fatal("the new pack went before its release")
	}
	c.Release()
	if err := f.DeleteAll(ctx, []string{GroupKey("2027-03-01")}, live); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(old))); !os.IsNotExist(err) {
		t.Errorf("old pack still there: %v", err)
	}
	if got := readAll(t, f, c.Keys[1]); len(got) != 70000 {
		t.Error("the new pack went with the old")
	}
	// A discarded copy leaves nothing.
	d, err := f.CopyOut(ctx, "2027-03-01", []string{c.Keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	d.Discard()
	if got := files(t, root); len(got) != 1 {
		t.Errorf("files after a discarded copy: %v", got)
	}
}

// TestSweepPacks: what a crash left in packs (blobs appended for rows never
// committed) is freed at start-up; what keys name stays whole.
func TestSweepPacks(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "audio")
	w := newFiles(t, root)
	big := bytes.Repeat([]byte("x"), 3*packAlign)
	var items []Staged
	for i := range 4 {
		items = append(items, stage(t, w, "2027-03-01", fmt.Sprintf("calls/aa/%d.mp3", i), big))
	}
	items = append(items, stage(t, w, "2027-03-02", "calls/bb/x.mp3", big))
	keys, err := w.Pack(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	pack, _, _ := PackOf(keys[0])
	other, _, _ := PackOf(keys[4])
	path := filepath.Join(root, filepath.FromSlash(pack))
	before := blocks(t, path)
	// The writer still appends: nothing is touched.
	named := map[string]bool{keys[1]: true, keys[3]: true}
	if n, err := w.SweepPacks(ctx, named); err != nil || n != 0 {
		t.Fatalf("swept %d (%v) packs a writer holds", n, err)
	}
	w.ClosePacks()
	if n, err := w.SweepPacks(ctx, named); err != nil || n != 2 {
		t.Fatalf("swept %d packs (%v), want 2", n, err)
	}
	for _, k := range []string{keys[1], keys[3]} {
		if got := readAll(t, w, k); !bytes.Equal(got, big) {
			t.Errorf("%s: %d bytes back after the sweep", k, len(got))
		}
	}
	if after := blocks(t, path); after > before/2+8 {
		t.Errorf("pack takes %d blocks after the sweep, %d before: the unnamed blobs were not freed", after, before)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(other))); !os.IsNotExist(err) {
		t.Errorf("a pack no key names is still there: %v", err)
	}
	if n, err := w.SweepPacks(ctx, named); err != nil || n != 0 {
		t.Errorf("a second sweep found %d packs to sweep (%v)", n, err)
	}
}
