package core

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
)

// Page sizes of ListAudit.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// AuditListing asks for one page of the trail, newest first; zero fields
// do not filter.
type AuditListing struct {
	UserID, UserLogin string
	// Action matches exactly, or as a prefix when it ends with "." or "/".
	Action       string
	Since, Until time.Time
	// PageSize is at most MaxAuditPage; 0 means DefaultAuditPage.
	PageSize int
	// PageToken is NextPageToken of the previous page.
	PageToken string

	areas []string // what the caller's role may read (policy.AuditAreas)
}

// AuditPage is one page of entries and the token of the next (older) one.
type AuditPage struct {
	Links         []audit.Link
	NextPageToken string
}

// The page token is the seq the next page starts below; it is opaque to
// clients so the paging scheme can change.
func auditToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a1:" + strconv.FormatInt(seq, 10)))
}

func parseAuditToken(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 3 && string(b[:3]) == "a1:" {
		if n, err := strconv.ParseInt(string(b[3:]), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, domain.Invalid("page_token", "not a token from a previous ListAuditEvents response")
}

// ListAudit lists audit entries. Reading the trail is itself recorded
// (audit.list, with the filters): if that entry cannot be written, nothing
// is returned (R10).
func (b *Backend) ListAudit(ctx context.Context, c Caller, q AuditListing) (AuditPage, error) {
	d := map[string]string{}
	for k, v := range map[string]string{"user_id": q.UserID, "user_login": q.UserLogin, "action": q.Action} {
		if v != "" {
			d[k] = v
		}
	}
	if q.PageToken != "" {
		d["next_page"] = "true"
	}
	areas, readable := policy.AuditReadable(c.User.Role)
	q.areas = areas
	if areas != nil {
		q.areas = append([]string{}, areas...)
	}
	var page AuditPage
	var lerr error
	if !readable {
		lerr = domain.Forbidden(c.User.Role, "read audit", "role %s may not read the audit trail", c.User.Role)
	} else {
		page, lerr = b.listAudit(ctx, q)
	}
	if lerr == nil {
		d["returned"] = strconv.Itoa(len(page.Links))
	}
	if err := b.record(ctx, c, audit.ActionAuditList, entry{details: d}, lerr); err != nil {
		if lerr == nil {
			return AuditPage{}, domain.New(domain.ReasonAuditUnavailable, "audit trail unavailable: content not sent")
		}
		return AuditPage{}, err
	}
	return page, nil
}

func (b *Backend) listAudit(ctx context.Context, q AuditListing) (AuditPage, error) {
	for _, err := range []error{limits.ID("user_id", q.UserID), limits.Line("user_login", q.UserLogin, limits.MaxLogin),
		limits.Line("action", q.Action, limits.MaxName), limits.Line("page_token", q.PageToken, limits.MaxPageToken),
		limits.Instant("since", q.Since), limits.Instant("until", q.Until)} {
		if err != nil {
			return AuditPage{}, err
		}
	}
	size := q.PageSize
	switch {
	case size < 0:
		return AuditPage{}, domain.Invalid("page_size", "must not be negative")
	case size == 0:
		size = DefaultAuditPage
	case size > MaxAuditPage:
		size = MaxAuditPage
	}
	aq := audit.Query{ActorID: q.UserID, ActorLogin: q.UserLogin, Action: q.Action, Since: q.Since, Until: q.Until,
		Limit: size + 1, Areas: q.areas}
	if !aq.Since.IsZero() && !aq.Until.IsZero() && !aq.Until.After(aq.Since) {
		return AuditPage{}, domain.Invalid("until", "must be after since")
	}
	if q.PageToken != "" {
		seq, err := parseAuditToken(q.PageToken)
		if err != nil {
			return AuditPage{}, err
		}
		aq.BeforeSeq = seq
	}
	links, err := b.Trail.List(ctx, aq)
	if err != nil {
		return AuditPage{}, domain.Internal("list audit events", err)
	}
	page := AuditPage{Links: links}
	if page.Links == nil {
		page.Links = []audit.Link{}
	}
	if len(links) > size {
		page.Links = links[:size]
		page.NextPageToken = auditToken(links[size-1].Seq)
	}
	return page, nil
}

// VerifyAudit walks the trail's hash chain and signed head. The check is
// itself recorded (audit.verify), after the walk so it does not count; a
// failure to record it is logged, the report still returned.
func (b *Backend) VerifyAudit(ctx context.Context, c Caller) (audit.Report, error) {
	rep, err := b.Trail.Verify(ctx)
	if err != nil {
		err = domain.Internal("verify audit chain", err)
	}
	d := map[string]string{}
	if err == nil {
		d["chain_ok"] = strconv.FormatBool(rep.OK)
	}
	if rerr := b.record(ctx, c, audit.ActionAuditVerify, entry{details: d}, err); rerr != nil && err == nil {
		b.Log.Warn("the audit verification could not be recorded", "err", rerr)
	}
	return rep, err
}
