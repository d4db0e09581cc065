package limits

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
)

func TestLimits(t *testing.T) {
	ok := []error{
		Line("name", "Hélène Brunet", MaxName), Text("comment", "ligne 1\nligne 2\tfin", MaxText),
		ID("team_id", "team-energie"), ID("team_id", ""), Login("login", "h.brunet@example.org"),
		ExternalID("external_id", "pbx-42/7"), Count("agent_ids", 1000, MaxFilterIDs), Finite("min_score", 50),
		Instant("starts_at", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), Duration("ring_time", time.Second, time.Hour),
	}
	for i, err := range ok {
		if err != nil {
			t.Errorf("case %d refused: %v", i, err)
		}
	}
	bad := map[string]error{
		"name: 3145728 bytes":                         Line("name", strings.Repeat("x", 3<<20), MaxName),
		"login: holds the control":                    Line("login", "\r\x1b[2K", MaxLogin),
		"comment: holds the control character U+001B": Text("comment", "a\x1bb", MaxText),
		"note: holds the control character U+202E":    Line("note", "a\u202eb", MaxNote),
		"team_id: \"../etc\" is not an id":            ID("team_id", "../etc"),
		"team_id: \"team/../x\" is not an id":         ID("team_id", "team/../x"),
		"login: \"a b\" is not a login":               Login("login", "a b"),
		"agent_ids: 40000 entries, at most 1000":      Count("agent_ids", 40000, MaxFilterIDs),
		"min_score: NaN is not a number":              Finite("min_score", math.NaN()),
		"max_score: +Inf is not a number":             Finite("max_score", math.Inf(1)),
		"starts_at: 9999":                             Instant("starts_at", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)),
		"ring_time: must not be negative":             Duration("ring_time", -time.Second, time.Hour),
		"name: is not valid UTF-8":                    Line("name", "a\xffb", MaxName),
	}
	for want, err := range bad {
		e, isTyped := domain.As(err)
		if err == nil || !isTyped || e.Reason != domain.ReasonInvalidArgument || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want a refusal starting %q", err, want)
		}
	}
}
