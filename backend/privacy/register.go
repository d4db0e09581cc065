package privacy

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// AuthorizedPersons is the nominative register of R8: every account, what
// its role may call and see, and which calls it reaches. The gRPC service
// and the command line give the same register.
func AuthorizedPersons(users []store.User) []*ecoutev1.AuthorizedPerson {
	out := make([]*ecoutev1.AuthorizedPerson, 0, len(users))
	for _, u := range users {
		out = append(out, &ecoutev1.AuthorizedPerson{UserId: u.ID, Login: u.Login,
			DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled, TeamIds: u.TeamIDs, AgentId: u.AgentID,
			CreatedAt: timestamppb.New(u.CreatedAt), CallsScope: policy.Table[u.Role].Rows.String(),
			AllowedMethods: policy.AllowedMethods(u.Role), VisibleFields: policy.VisibleFields(u.Role)})
	}
	return out
}

// registerHeader names the CSV columns of the exported register.
var registerHeader = []string{"login", "name", "role", "disabled", "teams", "agent_id", "created_at",
	"calls_reached", "visible_fields", "allowed_methods"}

// WriteRegister writes the register as CSV encrypted with age to recipient
// (an export, R9: never in clear outside the server).
func WriteRegister(persons []*ecoutev1.AuthorizedPerson, recipient string, w io.Writer) error {
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
		cw.Write([]string{p.GetLogin(), p.GetDisplayName(), p.GetRole(), fmt.Sprint(p.GetDisabled()),
			strings.Join(p.GetTeamIds(), " "), p.GetAgentId(), p.GetCreatedAt().AsTime().UTC().Format(time.RFC3339),
			p.GetCallsScope(), strings.Join(p.GetVisibleFields(), " "), strings.Join(p.GetAllowedMethods(), " ")})
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
