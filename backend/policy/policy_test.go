package policy

import (
	"slices"
	"strings"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The expected matrix is written out by hand, independently of Table: a
// change to the table must change this test too.
func TestRoleMethodMatrix(t *testing.T) {
	methods := []string{MLogin, MLogout, MWhoAmI, MChangePassword, MListCalls, MGetCall, MStreamAudio, MGetWaveform, MUpload}
	//                              Li Lo Wh Ch  List Get Strm Wave  Upl
	want := map[string]string{
		domain.RoleSupervisor:  "1111 1111 0",
		domain.RoleTrainer:     "1111 1111 0",
		domain.RoleAgent:       "1111 1111 0",
		domain.RoleHR:          "1111 0000 0",
		domain.RoleClient:      "1111 0000 0",
		domain.RoleMaintenance: "1111 1100 0",
		domain.RoleDPO:         "1111 0000 0",
		domain.RoleAdmin:       "1111 0000 0",
		domain.RoleTelephony:   "1111 0000 1",
	}
	if len(want) != len(Table) {
		t.Fatalf("table has %d roles, test %d", len(Table), len(want))
	}
	for role, row := range want {
		bits := strings.ReplaceAll(row, " ", "")
		for i, m := range methods {
			if got := Allowed(role, m); got != (bits[i] == '1') {
				t.Errorf("Allowed(%s, %s) = %v", role, m, got)
			}
		}
	}
	if Allowed("nobody", MLogin) || Allowed(domain.RoleAdmin, "/ecoute.v1.CallService/Unknown") {
		t.Error("unknown role or method allowed")
	}
}

func TestPublic(t *testing.T) {
	for m, want := range map[string]bool{
		MLogin: true, "/grpc.health.v1.Health/Check": true,
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": true,
		MWhoAmI: false, MListCalls: false, MUpload: false,
	} {
		if Public(m) != want {
			t.Errorf("Public(%s) = %v", m, !want)
		}
	}
}

func fullCall() *ecoutev1.Call {
	return &ecoutev1.Call{
		CallId: "c1", StartedAt: timestamppb.Now(), EndedAt: timestamppb.Now(), Duration: durationpb.New(1e9),
		AgentId: "a1", AgentName: "Camille Lefèvre", TeamId: "t1", TeamName: "Énergie", CampaignId: "p1",
		CampaignName: "Azur", Direction: "inbound",
		Customer: &ecoutev1.Customer{Name: "Jean Martin", PhoneE164: "+33612345642", Address: "1 rue X", CustomerNumber: "AZ-1"},
		Consent:  &ecoutev1.Consent{RequestedAt: timestamppb.Now(), Accepted: true}, RetainedUntil: timestamppb.Now(),
		Evaluated: true, Audio: &ecoutev1.AudioInfo{Codec: "mp3", SizeBytes: 10},
	}
}

func TestRedactCall(t *testing.T) {
	cases := []struct {
		role     string
		check    func(c *ecoutev1.Call) string
		nonEmpty bool
	}{
		{domain.RoleSupervisor, func(c *ecoutev1.Call) string {
			switch {
			case c.AgentName == "" || c.TeamName == "" || c.CallId == "":
				return "lost core fields"
			case c.Customer.GetPhoneE164() != "••••••••42":
				return "phone not masked: " + c.Customer.GetPhoneE164()
			case c.Customer.Name != "" || c.Customer.Address != "" || c.Customer.CustomerNumber != "":
				return "customer identity leaked"
			case c.Audio != nil:
				return "technical audio info leaked"
			}
			return ""
		}, true},
		{domain.RoleTrainer, func(c *ecoutev1.Call) string {
			if c.Customer != nil {
				return "customer sent to trainer"
			}
			if c.AgentName == "" {
				return "agent name missing"
			}
			return ""
		}, true},
		{domain.RoleAgent, func(c *ecoutev1.Call) string {
			if c.Customer.GetPhoneE164() != "••••••••42" || c.Customer.GetName() != "" {
				return "agent customer view wrong"
			}
			return ""
		}, true},
		{domain.RoleMaintenance, func(c *ecoutev1.Call) string {
			want := &ecoutev1.Call{CallId: c.CallId, StartedAt: c.StartedAt, EndedAt: c.EndedAt, Duration: c.Duration,
				RetainedUntil: c.RetainedUntil, Audio: &ecoutev1.AudioInfo{Codec: "mp3", SizeBytes: 10}}
			if !proto.Equal(c, want) || c.CallId == "" {
				return "maintenance sees more than technical fields: " + c.String()
			}
			return ""
		}, true},
		{domain.RoleDPO, func(c *ecoutev1.Call) string {
			if c.Customer.GetPhoneE164() != "+33612345642" || c.Customer.GetName() != "Jean Martin" {
				return "DPO does not see the customer"
			}
			if c.CallId != "" || c.Audio != nil {
				return "DPO sees call fields outside the table"
			}
			return ""
		}, true},
		{domain.RoleClient, func(c *ecoutev1.Call) string {
			if proto.Size(c) != 0 {
				return "client receives call data: " + c.String()
			}
			return ""
		}, false},
		{domain.RoleHR, func(c *ecoutev1.Call) string {
			if c.AgentName == "" || c.Customer != nil || c.CallId != "" {
				return "hr view wrong: " + c.String()
			}
			return ""
		}, true},
		{domain.RoleAdmin, func(c *ecoutev1.Call) string {
			if c.AgentName != "" || c.Customer != nil || c.Audio == nil {
				return "admin view wrong: " + c.String()
			}
			return ""
		}, true},
		{"unknown-role", func(c *ecoutev1.Call) string {
			if proto.Size(c) != 0 {
				return "unknown role receives data"
			}
			return ""
		}, false},
	}
	for _, c := range cases {
		call := fullCall()
		RedactCall(c.role, call)
		if msg := c.check(call); msg != "" {
			t.Errorf("%s: %s", c.role, msg)
		}
	}
}

// Every field a role receives after redaction must be listed in its visible
// fields: the table and the redaction cannot drift apart.
func TestRedactionMatchesVisibleFields(t *testing.T) {
	for role := range Table {
		call := fullCall()
		RedactCall(role, call)
		call.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
			p := "call." + string(fd.Name())
			if !Visible(role, p) && !slices.ContainsFunc(VisibleFields(role), func(v string) bool { return strings.HasPrefix(v, p+".") }) {
				t.Errorf("%s receives %s, which is not in its visible fields", role, p)
			}
			return true
		})
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"+33612345642": "••••••••42", "": "", "+3": "••••••••"} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScope(t *testing.T) {
	u := domain.User{Role: domain.RoleSupervisor, TeamIDs: []string{"t1", "t2"}, AgentID: "a9"}
	if s := Scope(u); s.All || !slices.Equal(s.TeamIDs, []string{"t1", "t2"}) || len(s.AgentIDs) != 0 {
		t.Errorf("supervisor scope %+v", s)
	}
	u.Role = domain.RoleAgent
	if s := Scope(u); !slices.Equal(s.AgentIDs, []string{"a9"}) || len(s.TeamIDs) != 0 {
		t.Errorf("agent scope %+v", s)
	}
	if s := Scope(domain.User{Role: domain.RoleAgent}); !s.Empty() {
		t.Errorf("agent without agent id sees %+v", s)
	}
	// A trainer reaches their trainees and their sessions' calls, not
	// every call of their teams.
	tr := domain.User{ID: "u7", Role: domain.RoleTrainer, TeamIDs: []string{"t1"}}
	if s := Scope(tr); s.Trainer != "u7" || !slices.Equal(s.TrainerTeams, []string{"t1"}) || len(s.TeamIDs) != 0 || s.Empty() {
		t.Errorf("trainer scope %+v", s)
	}
	if s := Scope(domain.User{Role: domain.RoleMaintenance}); !s.All {
		t.Errorf("maintenance scope %+v", s)
	}
	for _, r := range []string{domain.RoleHR, domain.RoleClient, domain.RoleDPO, domain.RoleAdmin, domain.RoleTelephony} {
		if s := Scope(domain.User{Role: r, TeamIDs: []string{"t1"}, AgentID: "a1"}); !s.Empty() {
			t.Errorf("%s scope %+v, want none", r, s)
		}
	}
}
