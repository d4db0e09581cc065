package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the dpo's register.
const (
	ActionRequestRecord = "privacy.request.record"
	ActionRequestClose  = "privacy.request.close"
)

// PrivacyRequest is a request of the register as shown: with the days
// left until it is due (negative once overdue).
type PrivacyRequest struct {
	store.PrivacyRequest
	DaysLeft int
	Overdue  bool
}

// NewPrivacyRequest is a request received, to record.
type NewPrivacyRequest struct {
	Kind          string
	ReceivedAt    time.Time
	Channel       string
	IdentityCheck string
	Subject       store.Subject
	Requester     string
	Note          string
}

// MaxRequester bounds who asked.
const MaxRequester = limits.MaxCustomer

func (b *Backend) shown(r store.PrivacyRequest) PrivacyRequest {
	p := PrivacyRequest{PrivacyRequest: r}
	if r.Status == store.RequestOpen {
		left := r.DueAt.Sub(b.Clock.Now()).Hours() / 24
		p.DaysLeft = int(math.Floor(left))
		if left >= 0 {
			p.DaysLeft = int(math.Ceil(left))
		}
		p.Overdue = left < 0
	}
	return p
}

func checkSubject(s store.Subject) error {
	switch {
	case s.AgentID != "" && s.CustomerPhone != "":
		return domain.Invalid("subject", "give either agent_id or customer_phone_e164, not both")
	case s.AgentID != "":
		return limits.ID("agent_id", s.AgentID)
	case s.CustomerPhone != "":
		return privacy.CheckPhone(s.CustomerPhone)
	}
	return domain.Invalid("subject", "agent_id or customer_phone_e164 is required")
}

// RecordPrivacyRequest adds a request of the people concerned to the
// register (R7), due one calendar month after its receipt. An e-mail
// request needs the identity check it went through.
func (b *Backend) RecordPrivacyRequest(ctx context.Context, c Caller, n NewPrivacyRequest) (PrivacyRequest, error) {
	r, err := once(ctx, b, c, "privacy.request.record", ActionRequestRecord,
		func(ctx context.Context) (store.PrivacyRequest, entry, error) {
			e := entry{}
			now := b.Clock.Now()
			switch {
			case !slices.Contains(store.RequestKinds, n.Kind):
				return store.PrivacyRequest{}, e, domain.Invalid("kind", "%q is not one of %s", n.Kind, strings.Join(store.RequestKinds, ", "))
			case !slices.Contains(store.RequestChannels, n.Channel):
				return store.PrivacyRequest{}, e, domain.Invalid("channel", "%q is not one of %s", n.Channel,
					strings.Join(store.RequestChannels, ", "))
			case n.ReceivedAt.IsZero():
				return store.PrivacyRequest{}, e, domain.Invalid("received_at", "is required")
			case n.ReceivedAt.After(now.Add(5 * time.Minute)):
				return store.PrivacyRequest{}, e, domain.Invalid("received_at", "is in the future")
			case n.Channel == "email" && strings.TrimSpace(n.IdentityCheck) == "":
				return store.PrivacyRequest{}, e, domain.Invalid("identity_check",
					"an e-mail request needs an identity check (R7): say how the requester's identity was verified")
			}
			for _, err := range []error{limits.Instant("received_at", n.ReceivedAt), checkSubject(n.Subject),
				limits.Text("identity_check", n.IdentityCheck, limits.MaxReason),
				limits.Line("requester", n.Requester, MaxRequester), limits.Text("note", n.Note, limits.MaxReason)} {
				if err != nil {
					return store.PrivacyRequest{}, e, err
				}
			}
			r := store.PrivacyRequest{ID: NewID(), Kind: n.Kind, ReceivedAt: n.ReceivedAt.UTC(), Channel: n.Channel,
				IdentityCheck: strings.TrimSpace(n.IdentityCheck), Subject: n.Subject,
				Requester: strings.TrimSpace(n.Requester), Note: strings.TrimSpace(n.Note),
				DueAt: config.PrivacyRequestDue(n.ReceivedAt), Status: store.RequestOpen, RecordedAt: now,
				RecordedBy: c.User.Login}
			e = entry{target: r.ID, details: map[string]string{"kind": r.Kind, "channel": r.Channel,
				"due": r.DueAt.Format(time.RFC3339)}}
			if err := b.Store.CreatePrivacyRequest(ctx, r); err != nil {
				return r, e, domain.Internal("record privacy request", err)
			}
			return r, e, nil
		},
		func(ctx context.Context, rq store.Request) (store.PrivacyRequest, error) {
			return again(b.Store.PrivacyRequest(ctx, rq.ObjectID))
		})
	return b.shown(r), err
}

// ListPrivacyRequests lists the register: open requests first, soonest
// due first, with the days left; closed ones too when all.
func (b *Backend) ListPrivacyRequests(ctx context.Context, all bool) ([]PrivacyRequest, error) {
	rs, err := b.Store.ListPrivacyRequests(ctx, all)
	if err != nil {
		return nil, domain.Internal("list privacy requests", err)
	}
	out := make([]PrivacyRequest, len(rs))
	for i, r := range rs {
		out[i] = b.shown(r)
	}
	return out, nil
}

// openRequest finds an open request of one of kinds about subj: the one an
// export or an erasure answers.
func (b *Backend) openRequest(ctx context.Context, id string, subj store.Subject, kinds ...string) (store.PrivacyRequest, error) {
	if err := limits.ID("privacy_request_id", id); err != nil {
		return store.PrivacyRequest{}, err
	}
	r, err := b.Store.PrivacyRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, domain.NotFound("privacy_request_id: no request %s in the register", id)
	} else if err != nil {
		return r, domain.Internal("find privacy request", err)
	}
	closed := func(format string, a ...any) error {
		return domain.New(domain.ReasonPrivacyRequestClosed, "privacy request %s: %s", id, fmt.Sprintf(format, a...)).
			With(domain.MetaStatus, r.Status)
	}
	switch {
	case r.Status != store.RequestOpen:
		return r, closed("already closed on %s", r.ClosedAt.Format(time.DateOnly))
	case !slices.Contains(kinds, r.Kind):
		return r, closed("is a request of %s, not of %s", r.Kind, strings.Join(kinds, " or "))
	case r.Subject != subj:
		return r, closed("is about another person")
	}
	return r, nil
}

// closeRequest closes an open request with its outcome; audited.
func (b *Backend) closeRequest(ctx context.Context, c Caller, id, outcome string) error {
	err := b.Store.ClosePrivacyRequest(ctx, id, outcome, c.User.Login, b.Clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		err = domain.New(domain.ReasonPrivacyRequestClosed, "privacy request %s is not open", id)
	} else if err != nil {
		err = domain.Internal("close privacy request", err)
	}
	return b.record(ctx, c, ActionRequestClose, entry{target: id}, err)
}

// ClosePrivacyRequest closes an open request with what was done (a
// rectification made, a request refused and why).
func (b *Backend) ClosePrivacyRequest(ctx context.Context, c Caller, id, outcome string) (PrivacyRequest, error) {
	r, err := once(ctx, b, c, "privacy.request.close", ActionRequestClose,
		func(ctx context.Context) (store.PrivacyRequest, entry, error) {
			e := entry{target: id}
			outcome = strings.TrimSpace(outcome)
			switch {
			case id == "":
				return store.PrivacyRequest{}, e, domain.Invalid("privacy_request_id", "is required")
			case outcome == "":
				return store.PrivacyRequest{}, e, domain.Invalid("outcome", "say what was done")
			}
			for _, err := range []error{limits.ID("privacy_request_id", id), limits.Text("outcome", outcome, limits.MaxReason)} {
				if err != nil {
					return store.PrivacyRequest{}, e, err
				}
			}
			err := b.Store.ClosePrivacyRequest(ctx, id, outcome, c.User.Login, b.Clock.Now())
			if errors.Is(err, store.ErrNotFound) {
				if _, ferr := b.Store.PrivacyRequest(ctx, id); errors.Is(ferr, store.ErrNotFound) {
					return store.PrivacyRequest{}, e, domain.NotFound("privacy_request_id: no request %s in the register", id)
				}
				return store.PrivacyRequest{}, e, domain.New(domain.ReasonPrivacyRequestClosed, "privacy request %s is already closed", id).
					With(domain.MetaStatus, store.RequestClosed)
			} else if err != nil {
				return store.PrivacyRequest{}, e, domain.Internal("close privacy request", err)
			}
			r, err := b.Store.PrivacyRequest(ctx, id)
			return r, e, failure("read privacy request", err)
		},
		func(ctx context.Context, rq store.Request) (store.PrivacyRequest, error) {
			return again(b.Store.PrivacyRequest(ctx, rq.ObjectID))
		})
	return b.shown(r), err
}
