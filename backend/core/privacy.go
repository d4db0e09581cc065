package core

import (
	"bytes"
	"context"
	"io"
	"strconv"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/domain"
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
func (b *Backend) ExportSubject(ctx context.Context, c Caller, subj store.Subject, recipient string, w io.Writer) (privacy.Summary, error) {
	sum, err := b.Privacy.Export(ctx, c.privacy(), subj, recipient, w)
	return sum, failure("export subject", err)
}

// EraseSubject deletes the recordings of the customer with this phone
// number (objection, R7), with the reason given; recorded.
func (b *Backend) EraseSubject(ctx context.Context, c Caller, phone, reason string) (calls, related int64, err error) {
	calls, related, err = b.Privacy.Erase(ctx, c.privacy(), phone, reason)
	return calls, related, failure("erase subject", err)
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
