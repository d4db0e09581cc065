package core

import (
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
)

// FuzzAuditPageToken: a page token of the audit listing from anywhere is
// the position it was made for, or a refusal naming page_token.
func FuzzAuditPageToken(f *testing.F) {
	f.Add(auditToken(42))
	f.Add("")
	f.Add("YTE6LTE")                            // a1:-1
	f.Add("YTE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ") // overflow
	f.Fuzz(func(t *testing.T, tok string) {
		seq, err := parseAuditToken(tok)
		if err != nil {
			if e, ok := domain.As(err); !ok || e.Fields[0].Field != "page_token" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if seq <= 0 {
			t.Fatalf("%q gives seq %d", tok, seq)
		}
		if again, err := parseAuditToken(auditToken(seq)); err != nil || again != seq {
			t.Fatalf("round trip of %d: %d %v", seq, again, err)
		}
	})
}
