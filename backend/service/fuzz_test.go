package service

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/internal/termsafe"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func token(pt pageToken) string {
	b, _ := json.Marshal(pt)
	return base64.RawURLEncoding.EncodeToString(b)
}

// FuzzPageToken: a page token from anywhere never panics the listing; it
// is either the cursor of the order and filter it was made for, or a
// refusal naming page_token.
func FuzzPageToken(f *testing.F) {
	f.Add(token(pageToken{Order: "started_at desc", Int: 1772614800000, ID: "abc", Filter: "00ff"}), "started_at desc", "00ff")
	f.Add(token(pageToken{Order: "agent_name", Str: "Girard", ID: "x"}), "agent_name", "")
	f.Add("", "", "")
	f.Add("!!!", "duration", "x")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"o":1}`)), "", "")
	f.Fuzz(func(t *testing.T, tok, order, fh string) {
		c, err := parsePageToken(tok, order, fh)
		if err != nil {
			if e, ok := domain.As(err); !ok || e.Reason != domain.ReasonInvalidArgument || e.Fields[0].Field != "page_token" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if c == nil || c.ID == "" || limits.ID("id", c.ID) != nil {
			t.Fatalf("accepted cursor %+v", c)
		}
		again, err := parsePageToken(token(pageToken{Order: order, Int: c.Int, Str: c.Str, ID: c.ID, Filter: fh}), order, fh)
		if err != nil || *again != *c {
			t.Fatalf("round trip: %+v %v", again, err)
		}
	})
}

// FuzzRecordingMetadata: upload metadata as it comes off the wire never
// panics the checks, and what passes them is bounded and holds no control
// character.
func FuzzRecordingMetadata(f *testing.F) {
	start := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	good := &ecoutev1.RecordingMetadata{ExternalId: "pbx-42", StartedAt: timestamppb.New(start),
		EndedAt: timestamppb.New(start.Add(time.Minute)), AgentId: "agent-01", TeamId: "team-energie",
		CampaignId: "camp-azur", Direction: "inbound",
		Customer: &ecoutev1.Customer{Name: "Jeanne Martin", PhoneE164: "+33612345678"},
		Consent:  &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-time.Second)), Accepted: true}}
	b, _ := proto.Marshal(good)
	f.Add(b)
	bad := proto.Clone(good).(*ecoutev1.RecordingMetadata)
	bad.ExternalId, bad.Customer.Name, bad.TeamId = "pbx 42\x1b[2K", strings.Repeat("n", 300), "team/../x"
	b, _ = proto.Marshal(bad)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var md ecoutev1.RecordingMetadata
		if proto.Unmarshal(raw, &md) != nil {
			return
		}
		r := RecordingFromProto(&md)
		err := core.CheckRecording(r)
		if err != nil {
			if e, ok := domain.As(err); !ok || e.Reason != domain.ReasonInvalidArgument ||
				!strings.HasPrefix(e.Fields[0].Field, "metadata") {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		for _, s := range []string{r.ExternalID, r.AgentID, r.TeamID, r.CampaignID, r.Direction, r.Customer.Name,
			r.Customer.PhoneE164, r.Customer.Address, r.Customer.Number, r.Activity.Type} {
			if len(s) > limits.MaxExternalID+limits.MaxCustomer || strings.ContainsFunc(s, termsafe.Dangerous) {
				t.Fatalf("accepted %q", s)
			}
		}
		if r.Activity.RingTime < 0 || r.Activity.TalkTime < 0 || r.Activity.BackOfficeTime < 0 {
			t.Fatalf("negative activity accepted: %+v", r.Activity)
		}
	})
}
