// Package policy is the role table of DESIGN.md as data: which methods each
// role may call, which fields it may receive, and which calls it may see. The
// services consult it for every request; nothing else decides access.
package policy

import (
	"slices"
	"strings"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/store"
)

// Rows is which calls a role may read.
type Rows int

const (
	// RowsNone: no call at all.
	RowsNone Rows = iota
	// RowsOwnTeams: the calls of the teams the user is linked to.
	RowsOwnTeams
	// RowsTrainees: the calls of the trainer's trainees, for now the agents
	// of the teams the trainer is linked to (training calls come later).
	RowsTrainees
	// RowsOwnCalls: the calls of the agent the user is.
	RowsOwnCalls
	// RowsAllTechnical: every call, technical fields only.
	RowsAllTechnical
)

func (r Rows) String() string {
	return [...]string{"none", "own teams", "trainees", "own calls", "all, technical only"}[r]
}

// Rule is what one role may do and see.
type Rule struct {
	Methods []string // full gRPC method names
	Fields  []string // visible field paths, "call.<proto field>[.<sub field>]" or pseudo fields
	Masked  []string // visible fields sent masked (all but the last two digits)
	Rows    Rows
}

// Method names, as gRPC spells them.
const (
	MLogin          = "/ecoute.v1.AuthService/Login"
	MLogout         = "/ecoute.v1.AuthService/Logout"
	MWhoAmI         = "/ecoute.v1.AuthService/WhoAmI"
	MChangePassword = "/ecoute.v1.AuthService/ChangePassword"
	MListCalls      = "/ecoute.v1.CallService/ListCalls"
	MGetCall        = "/ecoute.v1.CallService/GetCall"
	MStreamAudio    = "/ecoute.v1.CallService/StreamAudio"
	MGetWaveform    = "/ecoute.v1.CallService/GetWaveform"
	MUpload         = "/ecoute.v1.IngestService/UploadRecording"
)

// Field paths. FieldAudioStream is a pseudo field: the right to hear the
// call (StreamAudio, GetWaveform); FieldAudio is the technical AudioInfo.
const (
	FieldCallID         = "call.call_id"
	FieldStartedAt      = "call.started_at"
	FieldEndedAt        = "call.ended_at"
	FieldDuration       = "call.duration"
	FieldAgentID        = "call.agent_id"
	FieldAgentName      = "call.agent_name"
	FieldTeamID         = "call.team_id"
	FieldTeamName       = "call.team_name"
	FieldCampaignID     = "call.campaign_id"
	FieldCampaignName   = "call.campaign_name"
	FieldDirection      = "call.direction"
	FieldCustomerName   = "call.customer.name"
	FieldCustomerPhone  = "call.customer.phone_e164"
	FieldCustomerAddr   = "call.customer.address"
	FieldCustomerNumber = "call.customer.customer_number"
	FieldConsent        = "call.consent"
	FieldRetainedUntil  = "call.retained_until"
	FieldEvaluated      = "call.evaluated"
	FieldAudio          = "call.audio"
	FieldAudioStream    = "call.audio_stream"
)

var (
	authMethods = []string{MLogin, MLogout, MWhoAmI, MChangePassword}
	readCalls   = []string{MListCalls, MGetCall}
	hearCalls   = []string{MStreamAudio, MGetWaveform}

	// callCore is what every role that reviews calls sees of a call.
	callCore = []string{FieldCallID, FieldStartedAt, FieldEndedAt, FieldDuration, FieldAgentID, FieldTeamID,
		FieldTeamName, FieldCampaignID, FieldCampaignName, FieldDirection, FieldConsent, FieldRetainedUntil,
		FieldEvaluated}
	technical = []string{FieldCallID, FieldStartedAt, FieldEndedAt, FieldDuration, FieldRetainedUntil, FieldAudio}
)

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Table is the role table (DESIGN.md "Roles and what they see"). Only the
// methods that exist so far are listed; later issues add theirs here.
var Table = map[string]Rule{
	store.RoleSupervisor: {
		Methods: join(authMethods, readCalls, hearCalls),
		Fields:  join(callCore, []string{FieldAgentName, FieldCustomerPhone, FieldAudioStream}),
		Masked:  []string{FieldCustomerPhone},
		Rows:    RowsOwnTeams,
	},
	store.RoleTrainer: {
		Methods: join(authMethods, readCalls, hearCalls),
		Fields:  join(callCore, []string{FieldAgentName, FieldAudioStream}),
		Rows:    RowsTrainees,
	},
	store.RoleAgent: {
		Methods: join(authMethods, readCalls, hearCalls),
		Fields:  join(callCore, []string{FieldAgentName, FieldCustomerPhone, FieldAudioStream}),
		Masked:  []string{FieldCustomerPhone},
		Rows:    RowsOwnCalls,
	},
	store.RoleHR: {
		Methods: authMethods,
		Fields:  []string{FieldAgentName},
		Rows:    RowsNone,
	},
	store.RoleClient: {
		Methods: authMethods,
		Rows:    RowsNone,
	},
	store.RoleMaintenance: {
		Methods: join(authMethods, readCalls),
		Fields:  technical,
		Rows:    RowsAllTechnical,
	},
	store.RoleDPO: {
		Methods: authMethods,
		Fields:  []string{FieldAgentName, FieldCustomerName, FieldCustomerPhone, FieldCustomerAddr, FieldCustomerNumber},
		Rows:    RowsNone,
	},
	store.RoleAdmin: {
		Methods: authMethods,
		Fields:  []string{FieldAudio},
		Rows:    RowsNone,
	},
	// The telephony side's service account: uploads, reads nothing.
	store.RoleTelephony: {
		Methods: join(authMethods, []string{MUpload}),
		Rows:    RowsNone,
	},
}

// Roles lists the roles in the table's order of presentation.
var Roles = []string{store.RoleSupervisor, store.RoleTrainer, store.RoleAgent, store.RoleHR, store.RoleClient,
	store.RoleMaintenance, store.RoleDPO, store.RoleAdmin, store.RoleTelephony}

// ValidRole tells whether role is in the table.
func ValidRole(role string) bool {
	_, ok := Table[role]
	return ok
}

// Public methods need no session.
func Public(method string) bool {
	return method == MLogin || strings.HasPrefix(method, "/grpc.health.v1.") ||
		strings.HasPrefix(method, "/grpc.reflection.")
}

// Allowed tells whether role may call method.
func Allowed(role, method string) bool {
	return slices.Contains(Table[role].Methods, method)
}

// AllowedMethods lists the methods of role, sorted.
func AllowedMethods(role string) []string {
	return sorted(Table[role].Methods)
}

// VisibleFields lists the field paths of role, sorted.
func VisibleFields(role string) []string {
	return sorted(Table[role].Fields)
}

// Visible tells whether role may receive field.
func Visible(role, field string) bool {
	return slices.Contains(Table[role].Fields, field)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Scope is the set of calls a user may read.
func Scope(u store.User) store.Scope {
	switch Table[u.Role].Rows {
	case RowsOwnTeams, RowsTrainees:
		return store.Scope{TeamIDs: slices.Clone(u.TeamIDs)}
	case RowsOwnCalls:
		if u.AgentID == "" {
			return store.Scope{}
		}
		return store.Scope{AgentIDs: []string{u.AgentID}}
	case RowsAllTechnical:
		return store.Scope{All: true}
	}
	return store.Scope{}
}

// RedactCall clears, in place, every field of c that role may not receive
// and masks the masked ones. It runs before the response is serialised.
func RedactCall(role string, c *ecoutev1.Call) {
	r := Table[role]
	clearHidden(c.ProtoReflect(), "call", r.Fields)
	for _, f := range r.Masked {
		if f == FieldCustomerPhone && c.GetCustomer() != nil {
			c.Customer.PhoneE164 = MaskPhone(c.Customer.PhoneE164)
		}
	}
}

// MaskPhone keeps the last two digits: "+33612345642" → "••••••••42". The
// dots make it obvious that the number is masked, not short.
func MaskPhone(p string) string {
	if p == "" {
		return ""
	}
	var digits []rune
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 2 {
		return "••••••••"
	}
	return "••••••••" + string(digits[len(digits)-2:])
}
