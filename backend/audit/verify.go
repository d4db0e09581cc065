package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ecoute/ecoute/backend/store"
)

// Report is the outcome of Verify.
type Report struct {
	OK      bool
	Entries int64 // entries checked
	// FromSeq is where checking started: 1, or the entry after the
	// checkpoint of the last purge.
	FromSeq, LastSeq int64
	// BadSeq names the first bad entry (0 when OK) and Reason says why.
	BadSeq int64
	Reason string
	// Checkpoint is the purge checkpoint the walk started from, if any.
	Checkpoint *store.AuditCheckpoint
	// KeyFingerprint identifies the key signatures were checked against.
	KeyFingerprint string
	// Anchors are the files the head is sealed in outside the database,
	// as found (anchor.go).
	Anchors []AnchorState
}

func (r Report) String() string {
	if r.OK {
		s := fmt.Sprintf("%d entries, chain intact (from seq %d)", r.Entries, r.FromSeq)
		if r.Checkpoint != nil {
			s += fmt.Sprintf("; earlier entries purged, signed checkpoint at seq %d (%d purged, key %s)", r.Checkpoint.Seq,
				r.Checkpoint.Purged, r.KeyFingerprint)
		}
		for _, a := range r.Anchors {
			s += fmt.Sprintf("; %s %s agrees (%d lines, last seq %d)", a.Name, a.Path, a.Lines, a.Seq)
		}
		return s
	}
	return fmt.Sprintf("chain broken at seq %d: %s (%d entries checked from seq %d)", r.BadSeq, r.Reason, r.Entries, r.FromSeq)
}

const verifyBatch = 1000

// Verify walks the chain from the last purge checkpoint (its signature
// checked) or from seq 1, and reports the first entry that does not hold:
//
//   - a seq that is not the previous one plus one: entries deleted;
//   - a prev_hash that is not the previous entry's hash: deleted or moved;
//   - a hash that is not the hash of the entry's own fields: edited;
//   - a signed head that does not match the last entry: the newest entries
//     deleted, or entries added outside Append.
//
// It checks the chain as it stood when the walk began (the signed head read
// first): entries appended meanwhile by a live server are left for the next
// verification rather than mistaken for damage. The error is for failures
// to read; a broken chain is a Report with OK false.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	l.purgeMu.RLock()
	defer l.purgeMu.RUnlock()
	return l.verify(ctx)
}

func (l *Log) verify(ctx context.Context) (Report, error) {
	rep := Report{FromSeq: 1, KeyFingerprint: l.Fingerprint()}
	bad := func(seq int64, format string, a ...any) (Report, error) {
		rep.BadSeq, rep.Reason = seq, fmt.Sprintf(format, a...)
		return rep, nil
	}
	pub := l.PublicKey()
	head, err := l.store.AuditHead(ctx)
	if err != nil {
		return rep, err
	}
	var prev Hash
	cp, err := l.store.LatestAuditCheckpoint(ctx)
	switch {
	case err == nil:
		rep.Checkpoint = &cp
		h, herr := ParseHash(cp.Hash)
		sig, serr := hex.DecodeString(cp.Signature)
		if cp.PublicKey != hex.EncodeToString(pub) {
			return bad(cp.Seq, "purge checkpoint signed by another key (%.16s…), not this data directory's", cp.PublicKey)
		}
		if herr != nil || serr != nil || !ed25519.Verify(pub, checkpointMessage(cp), sig) {
			return bad(cp.Seq, "purge checkpoint signature does not verify: checkpoint forged or altered (its seq, hash, cutoff, purged count or date edited)")
		}
		prev, rep.FromSeq = h, cp.Seq+1
	case errors.Is(err, store.ErrNotFound):
	default:
		return rep, err
	}
	if rep.FromSeq > 1 {
		// Rows at or below the checkpoint should have gone with the purge.
		if old, err := l.store.AuditRows(ctx, 0, 1); err != nil {
			return rep, err
		} else if len(old) > 0 && old[0].Seq < rep.FromSeq {
			return bad(old[0].Seq, "entry precedes the purge checkpoint at seq %d: re-inserted after the purge", rep.FromSeq-1)
		}
	}
	next := rep.FromSeq
	rep.LastSeq = next - 1
walk:
	for {
		rows, err := l.store.AuditRows(ctx, rep.LastSeq, verifyBatch)
		if err != nil {
			return rep, err
		}
		for _, r := range rows {
			if r.Seq > head.Seq {
				break walk // appended after the walk began, or added outside Append: judged below
			}
			if r.Seq != next {
				if r.Seq == next+1 {
					return bad(next, "entry missing (deleted): the next entry is %d", r.Seq)
				}
				return bad(next, "entries %d–%d missing (deleted)", next, r.Seq-1)
			}
			e, perr := fromRow(r)
			if r.PrevHash != prev.String() {
				return bad(r.Seq, "prev_hash does not match the hash of entry %d: entries deleted or reordered", r.Seq-1)
			}
			if perr != nil {
				return bad(r.Seq, "entry malformed (edited): %v", perr)
			}
			if ComputeHash(e) != e.Hash {
				return bad(r.Seq, "hash does not match the entry's content: entry edited")
			}
			prev = e.Hash
			rep.LastSeq = r.Seq
			rep.Entries++
			next++
		}
		if len(rows) < verifyBatch {
			break
		}
	}
	if head.Seq == 0 {
		if rep.LastSeq == 0 {
			if extra, err := l.store.AuditRows(ctx, 0, 1); err != nil {
				return rep, err
			} else if len(extra) == 0 {
				// Nothing recorded, or everything wiped: the anchors tell.
				ok, err := l.checkAnchors(ctx, &rep)
				rep.OK = ok
				return rep, err
			}
		}
		return bad(max(rep.LastSeq, 1), "the signed head of the chain is missing")
	}
	hh, herr := ParseHash(head.Hash)
	sig, serr := hex.DecodeString(head.Signature)
	if herr != nil || serr != nil || !ed25519.Verify(pub, headMessage(head.Seq, hh), sig) {
		return bad(head.Seq, "the signed head does not verify: head forged or altered")
	}
	switch {
	case head.Seq > rep.LastSeq:
		if head.Seq == rep.LastSeq+1 {
			return bad(head.Seq, "entry missing (deleted): it was the newest")
		}
		return bad(rep.LastSeq+1, "entries %d–%d missing (deleted): they were the newest", rep.LastSeq+1, head.Seq)
	case hh != prev:
		return bad(head.Seq, "hash differs from the signed head: entry replaced")
	}
	// Rows beyond the snapshot are fine if the head has moved over them
	// since (a live server appending); otherwise someone added them.
	for cur := head; ; {
		extra, err := l.store.AuditRows(ctx, cur.Seq, 1)
		if err != nil {
			return rep, err
		}
		if len(extra) == 0 {
			break
		}
		now, err := l.store.AuditHead(ctx)
		if err != nil {
			return rep, err
		}
		if now.Seq < extra[0].Seq {
			return bad(extra[0].Seq, "entry added outside the audit log (the signed head is at %d)", now.Seq)
		}
		if now.Seq == cur.Seq {
			break
		}
		cur = now
	}
	ok, err := l.checkAnchors(ctx, &rep)
	rep.OK = ok
	return rep, err
}
