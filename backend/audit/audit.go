// Package audit is the tamper-evident audit trail (R10): an append-only
// chain of entries in which each carries the SHA-256 of the previous one
// over a canonical encoding (encoding.go). Verify walks the chain and names
// the first entry that was edited, deleted or moved. Entries are connection
// logs under R4: PurgeBefore deletes an old prefix and leaves a checkpoint
// signed with the Ed25519 key of the data directory, from which the rest of
// the chain still verifies.
package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/termsafe"
)

// Actions recorded. Jobs and later features may record others; an action
// is a dotted lower-case name, the first word naming the area.
const (
	ActionLoginSuccess   = "auth.login.success"
	ActionLoginFailure   = "auth.login.failure"
	ActionLogout         = "auth.logout"
	ActionPasswordChange = "auth.password.change"
	ActionCallList       = "call.list"
	ActionCallView       = "call.view"
	ActionAudioStream    = "call.audio.stream"
	ActionIngestAccepted = "ingest.accepted"
	ActionIngestDup      = "ingest.duplicate"
	ActionIngestRefused  = "ingest.refused"
	// ActionIngestOptOut carries nothing about the call: no target, no
	// details. Counting these entries is all it allows (R3).
	ActionIngestOptOut = "ingest.refused.optout"
	ActionJobSampling  = "job.sampling"
	ActionJobPurge     = "job.purge"
	ActionUserCreate   = "user.create"
	ActionSeedDemo     = "demo.seed"
	ActionAuditList    = "audit.list"
	ActionAuditVerify  = "audit.verify"
	ActionAuditPurge   = "audit.purge"
	// ActionAccessDenied is a call refused before its handler ran: no or
	// expired session, or a method the role may not call.
	ActionAccessDenied = "access.denied"
	ActionExport       = "privacy.export"
	ActionErase        = "privacy.erase"
	ActionAuthorized   = "privacy.authorized.list"
)

// Actor is who did it.
type Actor struct {
	UserID, Login, Role string
}

// System is the actor of the command line and the scheduled jobs.
var System = Actor{Login: "ecouted", Role: "system"}

// Entry is what happened, as a caller appends it.
type Entry struct {
	Time    time.Time // zero: now, by the Log's clock
	Actor   Actor
	Source  string // network address of the client, "local" for the command line
	Action  string
	Target  string            // what was acted on, e.g. a call id
	Details map[string]string // small; never customer data
}

// Link is an entry as chained: its position and the hashes that bind it.
type Link struct {
	Seq int64
	Entry
	PrevHash, Hash Hash
}

// Appender records events. Services and jobs depend on this, not on Log.
type Appender interface {
	Append(ctx context.Context, e Entry) error
}

// Discard records nothing (tests of code that does not care).
var Discard Appender = discard{}

type discard struct{}

func (discard) Append(context.Context, Entry) error { return nil }

// JobEvent is the event of a scheduled job run: action (ActionJobSampling,
// ActionJobPurge…), target (e.g. the day sampled, "2025-03-14"), counts.
func JobEvent(action, target string, counts map[string]int64) Entry {
	d := make(map[string]string, len(counts))
	for k, v := range counts {
		d[k] = strconv.FormatInt(v, 10)
	}
	return Entry{Actor: System, Source: "local", Action: action, Target: target, Details: d}
}

// Store is what the Log needs of the database (implemented by
// *store.SQLite).
type Store = store.AuditStore

// Log is the audit chain.
type Log struct {
	store Store
	clock clock.Clock
	key   ed25519.PrivateKey
	log   *slog.Logger

	// mu spares concurrent appenders of this process the database's busy
	// wait; the write transaction is what serialises across processes.
	mu sync.Mutex
	// purgeMu keeps this process's purges out of its verifications, which
	// would otherwise see the purged rows vanish mid-walk.
	purgeMu sync.RWMutex
	// anchors seal the head outside the database (anchor.go).
	anchors []*Anchor
}

// New returns the chain kept in st, signed with key.
func New(st Store, c clock.Clock, key ed25519.PrivateKey, logger *slog.Logger) *Log {
	if c == nil {
		c = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{store: st, clock: c, key: key, log: logger}
}

// PublicKey is the key checkpoints and the head are verified with.
func (l *Log) PublicKey() ed25519.PublicKey { return l.key.Public().(ed25519.PublicKey) }

// Fingerprint identifies the key in reports: the hex of its first 8 bytes.
func (l *Log) Fingerprint() string { return hex.EncodeToString(l.PublicKey()[:8]) }

// MaxDetailLen bounds one detail value; longer values are cut.
const MaxDetailLen = 256

// Append adds e at the tail of the chain. It is written even when ctx is
// cancelled (a client hanging up must not erase its trace).
func (l *Log) Append(ctx context.Context, e Entry) error {
	if e.Action == "" {
		return errors.New("audit: event without action")
	}
	if e.Time.IsZero() {
		e.Time = l.clock.Now()
	}
	e.Time = time.UnixMilli(e.Time.UnixMilli()).UTC()
	// Hashed strings must survive the trip through the database and JSON
	// unchanged, or an honest entry would later look edited: invalid UTF-8
	// (a login tried by anyone) is replaced before hashing.
	// What anyone could type (a login tried, an id asked for) is kept with
	// its control characters escaped (termsafe): the trail is read on
	// terminals, and an entry must not rewrite the screen that shows it.
	e.Actor = Actor{UserID: safe(e.Actor.UserID), Login: safe(e.Actor.Login), Role: safe(e.Actor.Role)}
	e.Source, e.Action, e.Target = safe(e.Source), safe(e.Action), safe(e.Target)
	if len(e.Details) > 0 {
		d := make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			if len(v) > MaxDetailLen {
				v = v[:MaxDetailLen]
			}
			d[safe(k)] = safe(v)
		}
		e.Details = d
	}
	details := encodeDetails(e.Details)
	l.mu.Lock()
	defer l.mu.Unlock()
	var sealed Link
	_, err := l.store.AppendAudit(context.WithoutCancel(ctx), func(head store.AuditHead) (store.AuditRow, store.AuditHead, error) {
		ent := Link{Seq: head.Seq + 1, Entry: e}
		if head.Seq > 0 {
			h, err := ParseHash(head.Hash)
			if err != nil {
				return store.AuditRow{}, store.AuditHead{}, fmt.Errorf("audit head: %w", err)
			}
			ent.PrevHash = h
		}
		ent.Hash = ComputeHash(ent)
		row := store.AuditRow{Seq: ent.Seq, At: e.Time, ActorID: e.Actor.UserID, ActorLogin: e.Actor.Login,
			ActorRole: e.Actor.Role, Source: e.Source, Action: e.Action, Target: e.Target, Details: details,
			PrevHash: ent.PrevHash.String(), Hash: ent.Hash.String()}
		sig := ed25519.Sign(l.key, headMessage(ent.Seq, ent.Hash))
		sealed = ent
		return row, store.AuditHead{Seq: ent.Seq, Hash: row.Hash, Signature: hex.EncodeToString(sig)}, nil
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	// Committed: now sealed outside the database too.
	l.seal(sealed.Seq, sealed.Hash, e.Time)
	return nil
}

// Query filters List.
type Query = store.AuditQuery

// List returns the entries matching q, newest first.
func (l *Log) List(ctx context.Context, q Query) ([]Link, error) {
	rows, err := l.store.ListAudit(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(rows))
	for _, r := range rows {
		e, err := fromRow(r)
		if err != nil {
			// Listing shows what is stored; Verify is where damage is judged.
			l.log.Warn("audit entry unreadable", "seq", r.Seq, "err", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// fromRow converts a row; on a malformed field it returns what it could
// read along with the error.
func fromRow(r store.AuditRow) (Link, error) {
	e := Link{Seq: r.Seq, Entry: Entry{Time: r.At, Actor: Actor{UserID: r.ActorID, Login: r.ActorLogin, Role: r.ActorRole},
		Source: r.Source, Action: r.Action, Target: r.Target}}
	var errs []error
	var err error
	if e.Details, err = decodeDetails(r.Details); err != nil {
		errs = append(errs, err)
	}
	if e.PrevHash, err = ParseHash(r.PrevHash); err != nil {
		errs = append(errs, fmt.Errorf("prev_hash: %w", err))
	}
	if e.Hash, err = ParseHash(r.Hash); err != nil {
		errs = append(errs, fmt.Errorf("hash: %w", err))
	}
	return e, errors.Join(errs...)
}

// PurgeBefore deletes the entries older than t (the longest such prefix of
// the chain) and stores a signed checkpoint of the last one deleted, so
// Verify still works on what is left. It refuses when the chain does not
// verify: purging would destroy the evidence. It returns the number of
// entries deleted and records an audit.purge entry when it deleted any.
func (l *Log) PurgeBefore(ctx context.Context, t time.Time) (int64, error) {
	l.purgeMu.Lock()
	defer l.purgeMu.Unlock()
	rep, err := l.verify(ctx)
	if err != nil {
		return 0, err
	}
	if !rep.OK {
		return 0, fmt.Errorf("audit purge refused: the chain is broken at seq %d (%s); run \"ecouted audit verify\"",
			rep.BadSeq, rep.Reason)
	}
	now := l.clock.Now()
	l.mu.Lock()
	n, err := l.store.PurgeAudit(ctx, t, func(last store.AuditRow, purged int64) (store.AuditCheckpoint, error) {
		e, err := fromRow(last)
		if err != nil {
			return store.AuditCheckpoint{}, fmt.Errorf("entry %d: %w", last.Seq, err)
		}
		if ComputeHash(e) != e.Hash {
			return store.AuditCheckpoint{}, fmt.Errorf("entry %d changed since it was verified", last.Seq)
		}
		cp := store.AuditCheckpoint{Seq: last.Seq, Hash: last.Hash, PurgedBefore: t, Purged: purged, CreatedAt: now,
			PublicKey: hex.EncodeToString(l.PublicKey()), Version: CheckpointVersion}
		cp.Signature = hex.EncodeToString(ed25519.Sign(l.key, checkpointMessage(cp)))
		return cp, nil
	})
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if n > 0 {
		err = l.Append(ctx, Entry{Actor: System, Source: "local", Action: ActionAuditPurge,
			Details: map[string]string{"purged": strconv.FormatInt(n, 10), "before": t.UTC().Format(time.RFC3339)}})
	}
	return n, err
}

func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func safe(s string) string { return termsafe.Escape(validUTF8(s)) }

// Purger deletes the audit entries older than the connection-log retention
// (R4), for the retention registry. Cutoff maps "now" to the oldest instant
// kept, e.g. now.AddDate(0, -6, 0) for six months.
type Purger struct {
	Log    *Log
	Cutoff func(now time.Time) time.Time
}

// Purge deletes the old prefix of the chain behind a signed checkpoint.
func (p Purger) Purge(ctx context.Context, now time.Time) (int, error) {
	n, err := p.Log.PurgeBefore(ctx, p.Cutoff(now))
	return int(n), err
}

func headMessage(seq int64, h Hash) []byte {
	return fmt.Appendf(nil, "ecoute.audit.head.v1\x00%d\x00%s", seq, h)
}

// CheckpointVersion is the signature form of new checkpoints: version 2
// signs every field of the checkpoint (the purged count, when it was made
// and by which key included); version 1, of checkpoints made before, signed
// only the seq, the hash and the purge's cutoff.
const CheckpointVersion = 2

func checkpointMessage(cp store.AuditCheckpoint) []byte {
	if cp.Version < 2 {
		return fmt.Appendf(nil, "ecoute.audit.checkpoint.v1\x00%d\x00%s\x00%d", cp.Seq, cp.Hash, cp.PurgedBefore.UnixMilli())
	}
	return fmt.Appendf(nil, "ecoute.audit.checkpoint.v2\x00%d\x00%s\x00%d\x00%d\x00%d\x00%s", cp.Seq, cp.Hash,
		cp.PurgedBefore.UnixMilli(), cp.Purged, cp.CreatedAt.UnixMilli(), cp.PublicKey)
}
