package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// An anchor seals the signed head of the chain outside the database, so
// that rolling the database back is seen (R10): a file that only grows, one
// line per entry appended, each line signed on its own with the audit key.
// The head log lives beside the data (HeadLogFile); a witness is a second
// anchor on another volume or host (the setting audit.witness), out of
// reach of whoever holds the data directory. Verify compares the newest
// line of each anchor with the chain: a line beyond the chain's end means
// the newest entries were deleted (or every table wiped); a line whose
// hash is not the chain's at that seq means the chain was rolled back and
// written again.
//
// Line format (text, one per line):
//
//	a1 SEQ HASH UNIX-MS SIGNATURE
//
// SIGNATURE is Ed25519, in hex, over "ecoute.audit.anchor.v1\x00SEQ\x00HASH\x00UNIX-MS".
// Seq 0 with an all-zero hash opens the file (the chain as it stood when
// the anchor was made is its next line).
//
// The anchors are written after the entry is committed, without fsync (as
// the database's own WAL commits): after a power cut the database may be
// ahead of an anchor, which is fine; an anchor is never ahead of a commit.
// Make the files append-only for good measure (chattr +a).

// HeadLogFile is the head log's name in the data directory.
const HeadLogFile = "audit-head.log"

// Anchor is one file the head is sealed in.
type Anchor struct {
	Name string // "head log", "witness"
	Path string

	mu sync.Mutex
	f  *os.File
}

func anchorMessage(seq int64, h Hash, ms int64) []byte {
	return fmt.Appendf(nil, "ecoute.audit.anchor.v1\x00%d\x00%s\x00%d", seq, h, ms)
}

func (l *Log) anchorLine(seq int64, h Hash, at time.Time) string {
	ms := at.UnixMilli()
	sig := ed25519.Sign(l.key, anchorMessage(seq, h, ms))
	return fmt.Sprintf("a1 %d %s %d %s\n", seq, h, ms, hex.EncodeToString(sig))
}

// ErrAnchorMissing is an anchor file that should exist and does not.
var ErrAnchorMissing = errors.New("anchor file missing")

// AddAnchor makes l seal every appended head into the file at path too.
// create says the file may be made when it is missing (a new trail, or a
// trail anchored for the first time): it then opens with the chain's
// current head. When create is false a missing file is ErrAnchorMissing;
// Verify will report it, and appends keep working.
func (l *Log) AddAnchor(ctx context.Context, name, path string, create bool) error {
	a := &Anchor{Name: name, Path: path}
	l.anchors = append(l.anchors, a)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	switch {
	case err == nil:
		a.f = f
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("audit %s %s: %w", name, path, err)
	case !create:
		return fmt.Errorf("audit %s %s: %w", name, path, ErrAnchorMissing)
	}
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", name, path, err)
	}
	a.f = f
	head, err := l.store.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", name, err)
	}
	now := l.clock.Now()
	lines := l.anchorLine(0, Hash{}, now)
	if head.Seq > 0 {
		h, err := ParseHash(head.Hash)
		if err != nil {
			return fmt.Errorf("audit %s: head: %w", name, err)
		}
		lines += l.anchorLine(head.Seq, h, now)
	}
	if _, err := f.WriteString(lines); err != nil {
		return fmt.Errorf("audit %s %s: %w", name, path, err)
	}
	return f.Sync()
}

// Close closes the anchor files.
func (l *Log) Close() error {
	var errs []error
	for _, a := range l.anchors {
		a.mu.Lock()
		if a.f != nil {
			errs = append(errs, a.f.Close())
			a.f = nil
		}
		a.mu.Unlock()
	}
	return errors.Join(errs...)
}

// seal writes the head to every anchor; a failure is logged, not returned:
// the entry is committed, and Verify reports an anchor that fell behind.
func (l *Log) seal(seq int64, h Hash, at time.Time) {
	if len(l.anchors) == 0 {
		return
	}
	line := l.anchorLine(seq, h, at)
	for _, a := range l.anchors {
		a.mu.Lock()
		var err error
		if a.f == nil {
			err = ErrAnchorMissing
		} else {
			_, err = a.f.WriteString(line)
		}
		a.mu.Unlock()
		if err != nil {
			l.log.Error("audit anchor not written", "anchor", a.Name, "path", a.Path, "seq", seq, "err", err)
		}
	}
}

// AnchorState is what Verify found in one anchor.
type AnchorState struct {
	Name, Path string
	Lines      int
	// Seq, Hash and At are the newest head the anchor holds (Seq 0: none).
	Seq  int64
	Hash Hash
	At   time.Time
	line int // of the newest head, for reports
}

// readAnchor reads an anchor file, checking the format of every line; it
// returns the newest head. A damaged line is an error naming it.
func readAnchor(path string) (AnchorState, []byte, error) {
	st := AnchorState{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return st, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	var sig []byte
	for sc.Scan() {
		st.Lines++
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 || fs[0] != "a1" {
			return st, nil, fmt.Errorf("line %d is not an anchor line", st.Lines)
		}
		seq, err1 := strconv.ParseInt(fs[1], 10, 64)
		h, err2 := ParseHash(fs[2])
		ms, err3 := strconv.ParseInt(fs[3], 10, 64)
		s, err4 := hex.DecodeString(fs[4])
		if err := errors.Join(err1, err2, err3, err4); err != nil || seq < 0 || len(s) != ed25519.SignatureSize {
			return st, nil, fmt.Errorf("line %d is malformed", st.Lines)
		}
		if st.Lines == 1 || seq > st.Seq {
			st.Seq, st.Hash, st.At, st.line, sig = seq, h, time.UnixMilli(ms).UTC(), st.Lines, s
		}
	}
	if err := sc.Err(); err != nil {
		return st, nil, fmt.Errorf("line %d: %w", st.Lines+1, err)
	}
	if st.Lines == 0 {
		return st, nil, errors.New("the file is empty")
	}
	return st, sig, nil
}

// checkAnchors compares each anchor's newest head with the chain. It is
// called once the walk has found the chain itself intact, with rep filled;
// on a failure it fills rep.BadSeq and rep.Reason and returns false.
func (l *Log) checkAnchors(ctx context.Context, rep *Report) (bool, error) {
	pub := l.PublicKey()
	for _, a := range l.anchors {
		st, sig, err := readAnchor(a.Path)
		st.Name = a.Name
		if errors.Is(err, fs.ErrNotExist) {
			rep.BadSeq, rep.Reason = max(rep.LastSeq, 1), fmt.Sprintf("the audit %s %s is missing: deleted, so the trail can no longer be checked against it", a.Name, a.Path)
			return false, nil
		}
		if err != nil {
			rep.BadSeq, rep.Reason = max(rep.LastSeq, 1), fmt.Sprintf("the audit %s %s is damaged: %v (edited by hand)", a.Name, a.Path, err)
			return false, nil
		}
		if !ed25519.Verify(pub, anchorMessage(st.Seq, st.Hash, st.At.UnixMilli()), sig) {
			rep.BadSeq, rep.Reason = max(st.Seq, 1), fmt.Sprintf("the audit %s %s: line %d is not signed by this data directory's key (forged)", a.Name, a.Path, st.line)
			return false, nil
		}
		rep.Anchors = append(rep.Anchors, st)
		if st.Seq == 0 {
			continue
		}
		// The anchors are written after the commit: the chain now holds at
		// least what they saw, unless it was rolled back.
		head, err := l.store.AuditHead(ctx)
		if err != nil {
			return false, err
		}
		when := st.At.Format(time.RFC3339)
		if st.Seq > head.Seq {
			what := fmt.Sprintf("the chain ends at seq %d", head.Seq)
			if head.Seq == 0 && rep.Checkpoint == nil {
				what = "the database holds no audit entry at all: the audit tables were wiped"
			}
			rep.BadSeq = max(head.Seq+1, 1)
			rep.Reason = fmt.Sprintf("rolled back: the audit %s recorded seq %d on %s, but %s (entries %d–%d deleted and the head restored)",
				a.Name, st.Seq, when, what, head.Seq+1, st.Seq)
			if head.Seq == 0 {
				rep.Reason = fmt.Sprintf("the audit %s recorded seq %d on %s, but %s", a.Name, st.Seq, when, what)
			}
			return false, nil
		}
		var want string
		switch {
		case rep.Checkpoint != nil && st.Seq < rep.Checkpoint.Seq:
			continue // purged since: the checkpoint stands for it
		case rep.Checkpoint != nil && st.Seq == rep.Checkpoint.Seq:
			want = rep.Checkpoint.Hash
		default:
			rows, err := l.store.AuditRows(ctx, st.Seq-1, 1)
			if err != nil {
				return false, err
			}
			if len(rows) == 0 || rows[0].Seq != st.Seq {
				rep.BadSeq, rep.Reason = st.Seq, fmt.Sprintf("entry missing: the audit %s recorded seq %d on %s", a.Name, st.Seq, when)
				return false, nil
			}
			want = rows[0].Hash
		}
		if want != st.Hash.String() {
			rep.BadSeq, rep.Reason = st.Seq, fmt.Sprintf("rolled back and rewritten: the entry at seq %d is not the one the audit %s recorded on %s",
				st.Seq, a.Name, when)
			return false, nil
		}
	}
	return true, nil
}
