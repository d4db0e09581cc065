package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
)

func (c Caller) privacy() privacy.Caller { return privacy.Caller{Actor: c.Actor(), Source: c.Source} }

// failure keeps a typed error as it is and makes anything else an
// internal failure of what.
func failure(what string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := domain.As(err); ok {
		return err
	}
	return domain.Internal(what, err)
}

// ExportSubject writes to w everything held about one person, as a tar
// archive encrypted with age to recipient (R7, R9). The export is recorded
// before its first byte (no trace, no export), and a failure after it too.
// requestID, when given, is the open access request of the register it
// answers: it is closed once the archive is written.
func (b *Backend) ExportSubject(ctx context.Context, c Caller, subj store.Subject, recipient string, w io.Writer,
	requestID string) (privacy.Summary, error) {
	if err := limits.Line("recipient", recipient, limits.MaxReason); err != nil {
		return privacy.Summary{}, err
	}
	who := c.privacy()
	if requestID != "" {
		if _, err := b.openRequest(ctx, requestID, subj, store.RequestAccess); err != nil {
			return privacy.Summary{}, b.record(ctx, c, audit.ActionExport, entry{target: requestID}, err)
		}
		who.Request = requestID
	}
	sum, err := b.Privacy.Export(ctx, who, subj, recipient, w)
	if err != nil {
		return sum, failure("export subject", err)
	}
	if requestID != "" {
		outcome := fmt.Sprintf("exported: %d calls, %d rows, %d audit entries, encrypted to the requester's key",
			sum.Calls, sum.Rows, sum.AuditEntries)
		if err := b.closeRequest(ctx, c, requestID, outcome); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// Erasure is what EraseSubject did.
type Erasure struct {
	Calls, Related int64
	// Request is the request of the register the erasure closed.
	Request string
}

// EraseSubject deletes the recordings of the customer with this phone
// number (objection, R7). A reason is required: it is kept, sealed, as the
// outcome of the request of the register the erasure answers (requestID,
// an open objection or erasure request about this customer; when empty, a
// request received now is recorded and closed), and the audit trail
// points to that request.
func (b *Backend) EraseSubject(ctx context.Context, c Caller, phone, reason, requestID string) (Erasure, error) {
	reason = strings.TrimSpace(reason)
	fail := func(err error) (Erasure, error) {
		return Erasure{}, b.record(ctx, c, audit.ActionErase, entry{target: requestID}, err)
	}
	if reason == "" {
		return fail(domain.Invalid("reason", "an erasure says why (the objection it answers, its reference)"))
	}
	for _, err := range []error{privacy.CheckPhone(phone), limits.Text("reason", reason, limits.MaxReason)} {
		if err != nil {
			return fail(err)
		}
	}
	subj := store.Subject{CustomerPhone: phone}
	if requestID != "" {
		if _, err := b.openRequest(ctx, requestID, subj, store.RequestObjection, store.RequestErasure); err != nil {
			return fail(err)
		}
	} else {
		r, err := b.RecordPrivacyRequest(ctx, Caller{User: c.User, Source: c.Source}, NewPrivacyRequest{
			Kind: store.RequestObjection, ReceivedAt: b.Clock.Now(), Channel: "other", Subject: subj,
			IdentityCheck: "not recorded: erased without a request of the register",
		})
		if err != nil {
			return Erasure{}, err
		}
		requestID = r.ID
	}
	who := c.privacy()
	who.Request = requestID
	calls, related, err := b.Privacy.Erase(ctx, who, phone)
	res := Erasure{Calls: calls, Related: related, Request: requestID}
	if err != nil {
		return res, failure("erase subject", err)
	}
	outcome := fmt.Sprintf("erased %d recordings and %d related rows. Reason: %s", calls, related, reason)
	return res, b.closeRequest(ctx, c, requestID, outcome)
}

// AuthorizedPersons is the nominative register of R8. With a recipient it
// also comes as CSV encrypted with age to it (the dpo's export, and the
// command line's): the clear form is then not to be sent anywhere.
// Recorded (privacy.authorized.list).
func (b *Backend) AuthorizedPersons(ctx context.Context, c Caller, recipient string) (persons []privacy.Person, encrypted []byte, err error) {
	d := map[string]string{}
	err = func() error {
		if recipient != "" && c.User.Role != domain.RoleDPO && c.User.Role != domain.RoleSystem {
			return domain.Forbidden(c.User.Role, "export", "only the dpo exports the register of authorized persons")
		}
		users, err := b.ListUsers(ctx)
		if err != nil {
			return err
		}
		persons = privacy.AuthorizedPersons(users)
		d["persons"] = strconv.Itoa(len(persons))
		if recipient == "" {
			return nil
		}
		var buf bytes.Buffer
		if err := privacy.WriteRegister(persons, recipient, &buf); err != nil {
			return failure("export authorized persons", err)
		}
		encrypted, d["export"] = buf.Bytes(), "age"
		return nil
	}()
	if err := b.record(ctx, c, audit.ActionAuthorized, entry{details: d}, err); err != nil {
		return nil, nil, err
	}
	return persons, encrypted, nil
}
