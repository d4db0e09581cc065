// Package core is the backend's one front door: the operations of Écoute as
// transport-agnostic Go methods. Each takes the caller (who, from where,
// and, for a write the client may send again, its request id) and plain Go
// values, returns domain values or a typed error (*domain.Error), and
// records its own audit entry, once. The gRPC services (backend/service)
// and the ecouted command line both call it; neither audits these
// operations again, and neither decides anything the other would not.
//
// Access by role is the gRPC guard's (the command line is the operator of
// the data directory); what a caller reaches (scopes) and every rule of
// the operations are decided here, with the rules packages (policy,
// lifecycle, scoring, lexicon, config).
package core

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os/user"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/lexicon"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// Backend holds what the operations need.
type Backend struct {
	Store    store.Store
	Sessions *auth.Sessions
	Blobs    blobs.Store
	// Trail is the audit trail: every operation appends to it; the audit
	// operations read and verify it.
	Trail   *audit.Log
	Privacy *privacy.Requests
	Clock   clock.Clock
	Lexicon *lexicon.Lexicon
	// Settings are ecouted.yaml's: retention periods date what is stored.
	Settings config.Config
	// Transcoder converts uploads outside the canonical audio profile; nil
	// means they are refused.
	Transcoder *audio.Transcoder
	Log        *slog.Logger
	// IDKey keys the hashes of external ids that the sampling keeps of the
	// calls it deletes (sampling.IDKeyPurpose, derived from the data key).
	IDKey []byte

	commits groupCommit // uploads made durable together (commit.go)
	peaks   peakWorker  // peaks computed in the background (waveform.go)

	// pairing holds the pairings of consoles and companions (pairing.go),
	// made at first use.
	pairing *pairings
}

// Caller is who calls an operation, from where, and which request of
// theirs it is.
type Caller struct {
	User domain.User
	// Source is the client's network address, or "local" for the command
	// line.
	Source string
	// Request names a write the client may send again (see once); zero
	// for the command line and the reads.
	Request Request
}

// MaxRequestID bounds a request id (a UUID takes 36 bytes).
const MaxRequestID = 128

// Request is the client's id of a write, and a hash of the rest of the
// request (to refuse an id reused for another request).
type Request struct{ ID, Fingerprint string }

// Local is the operator of the command line: the operating-system account
// running ecouted, with the system role.
func Local() Caller {
	login := "ecouted"
	if u, err := user.Current(); err == nil && u.Username != "" {
		login = "ecouted:" + u.Username
	}
	return Caller{User: domain.User{Login: login, Role: domain.RoleSystem}, Source: "local"}
}

// Actor is how the audit trail names the caller.
func (c Caller) Actor() audit.Actor {
	return audit.Actor{UserID: c.User.ID, Login: c.User.Login, Role: c.User.Role}
}

// entry is the audit entry an operation leaves: its target and details;
// the result is added.
type entry struct {
	target  string
	details map[string]string
}

// record appends the audit entry of an operation that ended with err:
// "result" is "ok" or the error's reason. A success whose entry cannot be
// written is reported (the change is made: the client must know its trace
// is missing); a refusal keeps its own error.
func (b *Backend) record(ctx context.Context, c Caller, action string, e entry, err error) error {
	d := maps.Clone(e.details)
	if d == nil {
		d = map[string]string{}
	}
	d["result"] = "ok"
	if err != nil {
		d["result"] = string(domain.ReasonOf(err))
	}
	aerr := b.Trail.Append(ctx, audit.Entry{Actor: c.Actor(), Source: c.Source, Action: action, Target: e.target,
		Details: d})
	switch {
	case aerr == nil:
		return err
	case err != nil:
		b.Log.Error("audit", "action", action, "err", aerr)
		return err
	}
	return domain.Internal("audit "+action, aerr)
}

// once runs a write of the front door and audits it: at most once per
// request id. A request already applied (by this user, for this
// operation, within config.RequestIDs) is answered by replay from what the
// store recorded with the write, without applying it again or auditing it
// twice; the same id for a different request is refused. The write records
// the request in its own transaction (store.WithRequest), so a reply lost
// after the commit still finds it.
func once[T any](ctx context.Context, b *Backend, c Caller, op, action string,
	apply func(ctx context.Context) (T, entry, error), replay func(ctx context.Context, r store.Request) (T, error)) (T, error) {
	var zero T
	if c.Request.ID == "" {
		v, e, err := apply(ctx)
		return v, b.record(ctx, c, action, e, err)
	}
	if len(c.Request.ID) > MaxRequestID {
		return zero, b.record(ctx, c, action, entry{}, domain.Invalid("request_id", "longer than %d bytes", MaxRequestID))
	}
	switch v, done, err := replayed(ctx, b, c, op, replay); {
	case done && err == nil:
		return v, nil // answered; audited when it was applied
	case done:
		return zero, b.record(ctx, c, action, entry{}, err) // the id was reused
	case err != nil:
		return zero, err
	}
	req := &store.Request{UserID: c.User.ID, Method: op, ID: c.Request.ID, Fingerprint: c.Request.Fingerprint,
		At: b.Clock.Now()}
	v, e, err := apply(store.WithRequest(ctx, req))
	if err != nil {
		// A twin sent meanwhile may have applied it first: answer as it.
		if tv, done, terr := replayed(ctx, b, c, op, replay); done && terr == nil {
			return tv, nil
		}
		if errors.Is(err, store.ErrDuplicateRequest) {
			err = domain.Internal(op, err)
		}
	}
	return v, b.record(ctx, c, action, e, err)
}

// again is what a request made, read back to answer the request once more.
func again[T any](v T, err error) (T, error) {
	if err != nil {
		return v, domain.Internal("read back the request's outcome", err)
	}
	return v, nil
}

// replayed answers a request already applied. done is false when it was
// not; err with done is a refusal to audit (an id reused), err without
// done a failure to look it up or to read the object again.
func replayed[T any](ctx context.Context, b *Backend, c Caller, op string,
	replay func(ctx context.Context, r store.Request) (T, error)) (v T, done bool, err error) {
	r, err := b.Store.Request(ctx, c.User.ID, op, c.Request.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return v, false, nil
	case err != nil:
		return v, false, domain.Internal("look up request", err)
	case r.Fingerprint != c.Request.Fingerprint:
		return v, true, domain.InvalidAs(domain.ReasonRequestIDReused, "request_id",
			"%q was used for another request; choose a new id for each request", c.Request.ID)
	}
	if v, err = replay(ctx, r); err != nil {
		return v, false, err
	}
	return v, true, nil
}
