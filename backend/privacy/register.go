package privacy

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
)

// Person is one line of the register: a named account and what its role
// grants.
type Person struct {
	User store.User
	// CallsScope says which calls the role reaches ("own teams"…).
	CallsScope                    string
	AllowedMethods, VisibleFields []string
}

// AuthorizedPersons is the nominative register of R8: every account, what
// its role may call and see, and which calls it reaches. The gRPC service
// and the command line give the same register.
func AuthorizedPersons(users []store.User) []Person {
	out := make([]Person, 0, len(users))
	for _, u := range users {
		out = append(out, Person{User: u, CallsScope: policy.Table[u.Role].Rows.String(),
			AllowedMethods: policy.AllowedMethods(u.Role), VisibleFields: policy.VisibleFields(u.Role)})
	}
	return out
}

// registerHeader names the CSV columns of the exported register.
var registerHeader = []string{"login", "name", "role", "disabled", "teams", "agent_id", "created_at",
	"calls_reached", "visible_fields", "allowed_methods"}

// WriteRegister writes the register as CSV encrypted with age to recipient
// (an export, R9: never in clear outside the server).
func WriteRegister(persons []Person, recipient string, w io.Writer) error {
	rcp, err := ParseRecipient(recipient)
	if err != nil {
		return err
	}
	enc, err := age.Encrypt(w, rcp)
	if err != nil {
		return fmt.Errorf("encrypt register: %w", err)
	}
	cw := csv.NewWriter(enc)
	cw.Write(registerHeader)
	for _, p := range persons {
		u := p.User
		cw.Write([]string{u.Login, u.DisplayName, u.Role, fmt.Sprint(u.Disabled), strings.Join(u.TeamIDs, " "),
			u.AgentID, u.CreatedAt.UTC().Format(time.RFC3339), p.CallsScope, strings.Join(p.VisibleFields, " "),
			strings.Join(p.AllowedMethods, " ")})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write register: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encrypt register: %w", err)
	}
	return nil
}
