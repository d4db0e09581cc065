package blobs

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Packs keep many small blobs in one file, so that storing a batch of
// uploads costs one write and one sync, and deleting most of a day's
// recordings costs a few hole punches, not one file deletion each.
//
// A pack is a file packs/GROUP/RANDOM.pack (GROUP is the caller's: the UTC
// day of the recordings) that one process appends to while it holds a
// shared flock on it; every blob in it is sealed exactly as a file of its
// own would be (crypt.go), starts on a 4 KiB boundary and is named by the
// key "NAME@packs/GROUP/RANDOM.pack:OFFSET+LENGTH", NAME being the key it
// was sealed under. Deleting such a key punches its blocks out of the pack
// (fallocate PUNCH_HOLE); a pack that no stored key names any more and no
// process appends to is removed whole (RemovePacks).

// PackDir is the directory under the root that holds the packs.
const PackDir = "packs"

const (
	// packAlign is where blobs start in a pack: whole blocks, so punching
	// a blob out frees every block it used.
	packAlign = 4096
	// MaxPacked is the largest sealed blob Pack puts in a pack; a larger
	// one gets a file of its own (copying it would cost more than its
	// own sync).
	MaxPacked = 32 << 20
	// maxPackSize is when a pack is closed and a new one started.
	maxPackSize = 1 << 30
	// maxOpenPacks bounds the packs a process keeps open (one per group,
	// the most recently used).
	maxOpenPacks = 4
)

// Staged is a sealed blob to store with Pack, in the pack of Group.
type Staged struct {
	Group string
	Blob  Pending
}

// Packer is a Store that keeps small blobs in packs.
type Packer interface {
	Store
	// Stage starts a blob like Create, for Pack: it is not synced on
	// Close, Pack makes it durable.
	Stage(key string) (Pending, error)
	// Pack stores sealed staged blobs durably, each in the pack of its
	// group (one sync per pack) or, when large, in a file of its own, and
	// returns their keys, in order. On error nothing of the batch is
	// durable.
	Pack(ctx context.Context, items []Staged) ([]string, error)
}

var _ Packer = (*Files)(nil)

// packWriter is a pack this process appends to.
type packWriter struct {
	f    *os.File
	rel  string // packs/GROUP/RANDOM.pack
	size int64
}

// packs is the state of the packs a Files appends to.
type packs struct {
	mu    sync.Mutex
	open  map[string]*packWriter // by group
	order []string               // groups, least recently used first
}

// Stage implements Packer.
func (f *Files) Stage(key string) (Pending, error) {
	p, err := f.Create(key)
	if err != nil {
		return nil, err
	}
	p.(*pending).staged = true
	return p, nil
}

// Pack implements Packer.
func (f *Files) Pack(ctx context.Context, items []Staged) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([]string, len(items))
	f.packs.mu.Lock()
	defer f.packs.mu.Unlock()
	touched := map[*packWriter]bool{}
	var fail error
	for i, it := range items {
		p, ok := it.Blob.(*pending)
		if !ok || p.f != f || !p.closed || p.committed {
			return nil, fmt.Errorf("pack: item %d is not a sealed blob staged here", i)
		}
		st, err := os.Stat(p.tmp.Name())
		if err != nil {
			fail = fmt.Errorf("pack %s: %w", p.key, err)
			break
		}
		if st.Size() > MaxPacked || !validGroup(it.Group) {
			if err := f.commitAlone(ctx, p); err != nil {
				fail = err
				break
			}
			keys[i] = p.key
			continue
		}
		w, err := f.packFor(it.Group)
		if err != nil {
			fail = err
			break
		}
		off := alignUp(w.size)
		n, err := appendFile(w.f, off, p.tmp.Name())
		if err != nil {
			f.dropPack(it.Group)
			fail = fmt.Errorf("pack %s: %w", p.key, err)
			break
		}
		w.size = off + n
		touched[w] = true
		keys[i] = fmt.Sprintf("%s@%s:%d+%d", p.key, w.rel, off, n)
	}
	if fail == nil && !f.NoSync {
		for w := range touched {
			if err := fdatasync(w.f); err != nil {
				// What the pack holds is unknown now: start another.
				f.dropPack(groupOf(w.rel))
				fail = fmt.Errorf("pack: sync %s: %w", w.rel, err)
			}
		}
	}
	if fail != nil {
		// Blobs of their own already committed are removed; blobs appended
		// to packs stay as garbage no stored key names (RemovePacks drops
		// them with their pack).
		for i, k := range keys {
			if k != "" && !strings.Contains(k, "@") {
				_ = f.Delete(ctx, k)
			}
			keys[i] = ""
		}
		return nil, fail
	}
	for _, it := range items {
		p := it.Blob.(*pending)
		if !p.committed {
			p.committed = true
			os.Remove(p.tmp.Name())
		}
	}
	return keys, nil
}

// commitAlone stores a staged blob as a file of its own.
func (f *Files) commitAlone(ctx context.Context, p *pending) error {
	if !f.NoSync {
		fh, err := os.OpenFile(p.tmp.Name(), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("sync %s: %w", p.key, err)
		}
		err = fh.Sync()
		fh.Close()
		if err != nil {
			return fmt.Errorf("sync %s: %w", p.key, err)
		}
	}
	return p.Commit(ctx)
}

// packFor returns the open pack of group, creating one when there is none
// or it is full. The caller holds f.packs.mu.
func (f *Files) packFor(group string) (*packWriter, error) {
	ps := f.packs
	if w := ps.open[group]; w != nil && w.size < maxPackSize {
		ps.order = append(slices.DeleteFunc(ps.order, func(g string) bool { return g == group }), group)
		return w, nil
	}
	f.dropPack(group)
	for len(ps.order) >= maxOpenPacks {
		f.dropPack(ps.order[0])
	}
	w, err := f.newPack(group, "")
	if err != nil {
		return nil, err
	}
	if ps.open == nil {
		ps.open = map[string]*packWriter{}
	}
	ps.open[group] = w
	ps.order = append(ps.order, group)
	return w, nil
}

// newPack creates an empty pack of group, locked (shared) so RemovePacks
// leaves it alone while it is written. prefix starts its name.
func (f *Files) newPack(group, prefix string) (*packWriter, error) {
	dir := filepath.Join(f.root, PackDir, group)
	if err := f.mkdir(dir); err != nil {
		return nil, fmt.Errorf("pack directory %s: %w", group, err)
	}
	var id [8]byte
	rand.Read(id[:])
	name := prefix + hex.EncodeToString(id[:]) + ".pack"
	// Locked before it is visible, so RemovePacks never takes a pack that
	// is being written for one that is dead.
	tmp := filepath.Join(f.root, TempDir, "pack-"+name)
	fh, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create pack: %w", err)
	}
	if err := flock(fh, unix.LOCK_SH); err != nil {
		fh.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("lock pack: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		fh.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("create pack: %w", err)
	}
	if !f.NoSync {
		if err := syncDir(dir); err != nil {
			fh.Close()
			return nil, fmt.Errorf("create pack: %w", err)
		}
	}
	return &packWriter{f: fh, rel: PackDir + "/" + group + "/" + name}, nil
}

// dropPack closes the pack of group (releasing its lock). The caller holds
// f.packs.mu.
func (f *Files) dropPack(group string) {
	ps := f.packs
	if w := ps.open[group]; w != nil {
		w.f.Close()
		delete(ps.open, group)
	}
	ps.order = slices.DeleteFunc(ps.order, func(g string) bool { return g == group })
}

// SealGroup stops appending to the pack of group in this process: the
// next blob of the group starts a new pack. The sampling seals a day before
// it draws, so that the day's packs can die whole once the kept blobs are
// copied out (a pack a writer holds is never removed).
func (f *Files) SealGroup(group string) {
	f.packs.mu.Lock()
	defer f.packs.mu.Unlock()
	f.dropPack(group)
}

// ClosePacks closes every pack this Files appends to.
func (f *Files) ClosePacks() {
	f.packs.mu.Lock()
	defer f.packs.mu.Unlock()
	for len(f.packs.order) > 0 {
		f.dropPack(f.packs.order[0])
	}
}

// appendFile copies the file at src to w at off (copy_file_range on Linux)
// and returns its length.
func appendFile(w *os.File, off int64, src string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if _, err := w.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, in)
}

func alignUp(n int64) int64 { return (n + packAlign - 1) / packAlign * packAlign }

// packLoc is where a blob lies in a pack.
type packLoc struct {
	name   string // the key it is sealed under; "" for a bare range
	pack   string // packs/GROUP/RANDOM.pack
	off, n int64
}

type span struct{ off, n int64 }

// parsePacked reads "NAME@PACK:OFF+LEN" (NAME may be empty: a range of a
// pack, see Coalesce); ok is false for the key of a blob of its own.
func parsePacked(key string) (packLoc, bool, error) {
	at := strings.LastIndexByte(key, '@')
	if at < 0 {
		return packLoc{}, false, nil
	}
	bad := fmt.Errorf("invalid blob key %q", key)
	loc := packLoc{name: key[:at]}
	rest := key[at+1:]
	colon := strings.LastIndexByte(rest, ':')
	plus := strings.LastIndexByte(rest, '+')
	if colon < 0 || plus < colon {
		return packLoc{}, true, bad
	}
	loc.pack = rest[:colon]
	var err1, err2 error
	loc.off, err1 = strconv.ParseInt(rest[colon+1:plus], 10, 64)
	loc.n, err2 = strconv.ParseInt(rest[plus+1:], 10, 64)
	if err1 != nil || err2 != nil || loc.off < 0 || loc.n <= 0 || loc.off%packAlign != 0 || !validPack(loc.pack) {
		return packLoc{}, true, bad
	}
	return loc, true, nil
}

// validPack accepts packs/GROUP/NAME.pack with plain names.
func validPack(rel string) bool {
	parts := strings.Split(rel, "/")
	return len(parts) == 3 && parts[0] == PackDir && validGroup(parts[1]) && strings.HasSuffix(parts[2], ".pack") &&
		fs.ValidPath(rel) && !strings.ContainsAny(parts[2], "@:+\\")
}

func validGroup(g string) bool {
	return g != "" && g != "." && g != ".." && fs.ValidPath(g) && !strings.ContainsAny(g, "/\\@:+")
}

func groupOf(rel string) string { return strings.Split(rel, "/")[1] }

// PackOf names the pack (packs/GROUP/RANDOM.pack) that holds the blob of
// key, and its group; ok is false for a blob of its own.
func PackOf(key string) (pack, group string, ok bool) {
	loc, ok, err := parsePacked(key)
	if !ok || err != nil {
		return "", "", false
	}
	return loc.pack, groupOf(loc.pack), true
}

// Coalesce turns keys to delete into fewer: blobs that follow one another
// in a pack, with nothing between them, become one range of it. Other keys
// are returned as they are. The result is sorted.
func Coalesce(keys []string) []string {
	var out []string
	byPack := map[string][]span{}
	for _, k := range keys {
		loc, ok, err := parsePacked(k)
		if !ok || err != nil {
			out = append(out, k)
			continue
		}
		byPack[loc.pack] = append(byPack[loc.pack], span{loc.off, loc.n})
	}
	for pack, spans := range byPack {
		for _, s := range merge(spans) {
			out = append(out, fmt.Sprintf("@%s:%d+%d", pack, s.off, s.n))
		}
	}
	slices.Sort(out)
	return out
}

// merge sorts spans and joins those where one starts at the block after
// the other ends.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return int(a.off - b.off) })
	var out []span
	for _, s := range spans {
		if k := len(out) - 1; k >= 0 && alignUp(out[k].off+out[k].n) == s.off {
			out[k].n = s.off + s.n - out[k].off
			continue
		}
		if k := len(out) - 1; k >= 0 && s.off < out[k].off+out[k].n {
			continue // the same blob twice
		}
		out = append(out, s)
	}
	return out
}

func (f *Files) openPacked(key string, loc packLoc) (Blob, error) {
	if loc.name == "" {
		return nil, fmt.Errorf("open %s: a range, not a blob", key)
	}
	fh, err := os.Open(filepath.Join(f.root, filepath.FromSlash(loc.pack)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	o, err := openSealedAt(io.NewSectionReader(fh, loc.off, loc.n), fh, loc.n, f.master, loc.name)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return o, nil
}

// punch frees the blocks of spans of a pack. A missing pack is already
// gone; a file system that cannot punch holes keeps the blocks until the
// pack is removed whole.
func (f *Files) punch(pack string, spans []span) error {
	fh, err := os.OpenFile(filepath.Join(f.root, filepath.FromSlash(pack)), os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete from %s: %w", pack, err)
	}
	defer fh.Close()
	raw, err := fh.SyscallConn()
	if err != nil {
		return fmt.Errorf("delete from %s: %w", pack, err)
	}
	var perr error
	cerr := raw.Control(func(fd uintptr) {
		for _, s := range spans {
			end := alignUp(s.off + s.n)
			err := unix.Fallocate(int(fd), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, s.off, end-s.off)
			if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
				return
			}
			if err != nil {
				perr = fmt.Errorf("delete from %s at %d: %w", pack, s.off, err)
				return
			}
		}
	})
	return errors.Join(cerr, perr)
}

// GroupKey is the deletion key that stands for every pack of group no
// stored key names any more (DeleteAll removes them whole): what the
// sampling queues once it has copied the kept recordings of a day out of
// the day's packs.
func GroupKey(group string) string { return PackDir + "/" + group + "/" }

// groupOfKey is the group of a GroupKey.
func groupOfKey(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, PackDir+"/")
	if !ok || !strings.HasSuffix(rest, "/") {
		return "", false
	}
	g := strings.TrimSuffix(rest, "/")
	return g, validGroup(g)
}

// DeleteAll deletes keys: a pack that no stored key names any more (live
// says which, from committed data) is removed whole, which frees all its
// blocks at once; in the others the blobs of keys are punched out, in one
// pass per pack; a GroupKey removes the dead packs of its group; other
// keys are files of their own. Punching costs the file system about a
// millisecond a range, removing a pack next to nothing, so the sampling
// arranges for whole packs to die.
func (f *Files) DeleteAll(ctx context.Context, keys []string, live func(ctx context.Context, pack string) (bool, error)) error {
	byPack := map[string][]span{}
	var alone, groups []string
	for _, k := range keys {
		if g, ok := groupOfKey(k); ok {
			groups = append(groups, g)
			continue
		}
		loc, ok, err := parsePacked(k)
		switch {
		case err != nil:
			return err
		case ok:
			byPack[loc.pack] = append(byPack[loc.pack], span{loc.off, loc.n})
		default:
			alone = append(alone, k)
		}
	}
	for pack, spans := range byPack {
		if err := ctx.Err(); err != nil {
			return err
		}
		if live != nil {
			gone, err := f.removeDead(ctx, pack, live)
			if err != nil {
				return err
			}
			if gone {
				continue
			}
		}
		if err := f.punch(pack, merge(spans)); err != nil {
			return err
		}
	}
	if len(groups) > 0 && live != nil {
		if _, err := f.RemovePacks(ctx, groups, live); err != nil {
			return err
		}
	}
	for _, k := range alone {
		if err := f.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// Copied is a pack made by CopyOut, locked until Release.
type Copied struct {
	// Keys are the blobs' keys in the new pack, in the order given.
	Keys []string
	f    *Files
	w    *packWriter
}

// Release lets the pack be removed once no stored key names it: call it
// once the keys are committed (or abandoned).
func (c *Copied) Release() {
	if c != nil && c.w != nil {
		c.w.f.Close()
		c.w = nil
	}
}

// Discard removes the pack: its keys were not stored.
func (c *Copied) Discard() {
	if c != nil && c.w != nil {
		os.Remove(filepath.Join(c.f.root, filepath.FromSlash(c.w.rel)))
		c.Release()
	}
}

// CopyOut copies the blobs of keys into a new pack of group, synced, and
// returns their new keys: a blob is moved, sealed as it is, with
// copy_file_range. Keys of blobs of their own file are returned as they
// are. The sampling moves the few recordings it keeps out of a day's
// packs, so that the packs die whole.
func (f *Files) CopyOut(ctx context.Context, group string, keys []string) (*Copied, error) {
	if !validGroup(group) {
		return nil, fmt.Errorf("copy out: invalid group %q", group)
	}
	w, err := f.newPack(group, "k")
	if err != nil {
		return nil, err
	}
	c := &Copied{f: f, w: w, Keys: make([]string, len(keys))}
	srcs := map[string]*os.File{}
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			c.Discard()
			return nil, err
		}
		loc, ok, err := parsePacked(k)
		if err != nil || (ok && loc.name == "") {
			c.Discard()
			return nil, fmt.Errorf("copy out %q: %w", k, errors.Join(err, errors.New("not a blob")))
		}
		if !ok {
			c.Keys[i] = k
			continue
		}
		src := srcs[loc.pack]
		if src == nil {
			if src, err = os.Open(filepath.Join(f.root, filepath.FromSlash(loc.pack))); err != nil {
				c.Discard()
				return nil, fmt.Errorf("copy out %s: %w", k, err)
			}
			srcs[loc.pack] = src
		}
		off := alignUp(w.size)
		if err := copyRange(w.f, off, src, loc.off, loc.n); err != nil {
			c.Discard()
			return nil, fmt.Errorf("copy out %s: %w", k, err)
		}
		w.size = off + loc.n
		c.Keys[i] = fmt.Sprintf("%s@%s:%d+%d", loc.name, w.rel, off, loc.n)
	}
	if !f.NoSync {
		if err := fdatasync(w.f); err != nil {
			c.Discard()
			return nil, fmt.Errorf("copy out: sync %s: %w", w.rel, err)
		}
	}
	return c, nil
}

// copyRange copies n bytes of src at soff to dst at doff.
func copyRange(dst *os.File, doff int64, src *os.File, soff, n int64) error {
	for n > 0 {
		k, err := unix.CopyFileRange(int(src.Fd()), &soff, int(dst.Fd()), &doff, int(n), 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || k == 0 {
			// No copy_file_range (another file system, an old kernel):
			// through memory.
			if err == nil || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
				_, err = io.Copy(io.NewOffsetWriter(dst, doff), io.NewSectionReader(src, soff, n))
			}
			return err
		}
		n -= int64(k)
	}
	return nil
}

// RemovePacks removes the packs of groups (every group when nil) that no
// process appends to and that live says no stored key names any more; it
// returns how many it removed. live must answer from committed data only.
func (f *Files) RemovePacks(ctx context.Context, groups []string, live func(ctx context.Context, pack string) (bool, error)) (int, error) {
	root := filepath.Join(f.root, PackDir)
	if groups == nil {
		entries, err := os.ReadDir(root)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("list packs: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				groups = append(groups, e.Name())
			}
		}
	}
	removed := 0
	for _, g := range groups {
		if !validGroup(g) {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, g))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("list packs: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			rel := PackDir + "/" + g + "/" + e.Name()
			if !validPack(rel) {
				continue
			}
			gone, err := f.removeDead(ctx, rel, live)
			if err != nil {
				return removed, err
			}
			if gone {
				removed++
			}
		}
		os.Remove(filepath.Join(root, g)) // only when empty
	}
	return removed, nil
}

// removeDead removes one pack if no writer holds it and live says no key
// names it.
func (f *Files) removeDead(ctx context.Context, rel string, live func(context.Context, string) (bool, error)) (bool, error) {
	p := filepath.Join(f.root, filepath.FromSlash(rel))
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove pack %s: %w", rel, err)
	}
	defer fh.Close()
	if err := flock(fh, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return false, nil // a process appends to it
		}
		return false, fmt.Errorf("remove pack %s: %w", rel, err)
	}
	ok, err := live(ctx, rel)
	if err != nil || ok {
		return false, err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove pack %s: %w", rel, err)
	}
	return true, nil
}

// DeriveKey is a key for purpose derived from the data key (HKDF-SHA256),
// for data that must be keyed but never decrypted (the keyed hashes of
// sampled-out calls' ids).
func (f *Files) DeriveKey(purpose string) []byte { return DeriveKey(f.master, purpose) }

// DeriveKey is a key for purpose derived from the master key (HKDF-SHA256):
// the same on every server that holds the master key, whichever store
// keeps the blobs.
func DeriveKey(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, "ecoute derived key v1 "+purpose, 32)
	if err != nil {
		panic(fmt.Sprintf("derive key: %v", err)) // only for lengths HKDF refuses
	}
	return k
}

func flock(fh *os.File, how int) error {
	raw, err := fh.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

func fdatasync(fh *os.File) error {
	raw, err := fh.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fdatasync(int(fd)) }); err != nil {
		return err
	}
	return serr
}

// SweepPacks frees what a crash left in packs: the blobs appended for a
// batch whose rows were never committed. A pack no key names is removed;
// in the others every range no key names is punched out. Only packs no
// process appends to are touched; run it, like Sweep, while no upload is
// in flight. It returns how many packs it removed or punched.
func (f *Files) SweepPacks(ctx context.Context, keys map[string]bool) (int, error) {
	live := map[string][]span{}
	for k := range keys {
		if loc, ok, err := parsePacked(k); ok && err == nil {
			live[loc.pack] = append(live[loc.pack], span{loc.off, loc.n})
		}
	}
	root := filepath.Join(f.root, PackDir)
	groups, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sweep packs: %w", err)
	}
	swept := 0
	for _, g := range groups {
		if !g.IsDir() || !validGroup(g.Name()) {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, g.Name()))
		if err != nil {
			return swept, fmt.Errorf("sweep packs: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return swept, err
			}
			rel := PackDir + "/" + g.Name() + "/" + e.Name()
			if !validPack(rel) {
				continue
			}
			did, err := f.sweepPack(rel, merge(live[rel]))
			if err != nil {
				return swept, err
			}
			if did {
				swept++
			}
		}
		os.Remove(filepath.Join(root, g.Name())) // only when empty
	}
	return swept, nil
}

// sweepPack removes a pack no key names, or punches out of it what lies
// outside the sorted spans of its keys; did says it found garbage.
func (f *Files) sweepPack(rel string, spans []span) (did bool, err error) {
	p := filepath.Join(f.root, filepath.FromSlash(rel))
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sweep %s: %w", rel, err)
	}
	defer fh.Close()
	if err := flock(fh, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return false, nil // a process appends to it
		}
		return false, fmt.Errorf("sweep %s: %w", rel, err)
	}
	if len(spans) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("sweep %s: %w", rel, err)
		}
		return true, nil
	}
	st, err := fh.Stat()
	if err != nil {
		return false, fmt.Errorf("sweep %s: %w", rel, err)
	}
	var holes []span
	at := int64(0)
	for _, s := range append(spans, span{off: alignUp(st.Size()), n: 0}) {
		if s.off > at && hasData(fh, at, s.off) {
			holes = append(holes, span{at, s.off - at})
		}
		at = max(at, alignUp(s.off+s.n))
	}
	if len(holes) == 0 {
		return false, nil
	}
	return true, f.punch(rel, holes)
}

// hasData says whether [from, to) of fh holds data, not only holes (a
// file system without SEEK_DATA says yes).
func hasData(fh *os.File, from, to int64) bool {
	off, err := unix.Seek(int(fh.Fd()), from, unix.SEEK_DATA)
	if err != nil {
		return !errors.Is(err, unix.ENXIO)
	}
	return off < to
}
