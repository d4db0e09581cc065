package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
)

// dateLayout is year-month-day, 24-hour clock: never ambiguous (R14).
const dateLayout = "2006-01-02 15:04"

// dayLayout is a date alone, year first (R14).
const dayLayout = "2006-01-02"

// fmtTime writes a time year first; a time the server did not send (nil, or
// the zero of the wire, 1970-01-01) is "" — never a date it did not mean.
func fmtTime(ts *timestamppb.Timestamp, loc *time.Location) string {
	if !sent(ts) {
		return ""
	}
	return ts.AsTime().In(loc).Format(dateLayout)
}

// fmtDay writes the date alone, or "—" when the server sent none.
func fmtDay(ts *timestamppb.Timestamp, loc *time.Location) string {
	if !sent(ts) {
		return "—"
	}
	return ts.AsTime().In(loc).Format(dayLayout)
}

// sent tells whether a timestamp holds a time: proto3 cannot tell an unset
// message field from the epoch when a server fills one with zero.
func sent(ts *timestamppb.Timestamp) bool {
	return ts != nil && (ts.GetSeconds() != 0 || ts.GetNanos() != 0)
}

func fmtDurationPB(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	return fmtClock(d.AsDuration())
}

// fmtClock writes m:ss, or h:mm:ss from one hour.
func fmtClock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// reasonArgs are, for each reason the console words itself, the metadata
// of the server's ErrorInfo its message takes, in order.
var reasonArgs = map[string][]string{
	"ACCOUNT_LOCKED":           {"locked_until"},
	"ROLE_FORBIDDEN":           {"role"},
	"FIELD_FORBIDDEN":          {"role", "field"},
	"STALE_VERSION":            {"current_version"},
	"ALREADY_SUBMITTED":        {"status"},
	"WRONG_STATUS":             {"status"},
	"EVALUATION_INCOMPLETE":    {"answered", "criteria"},
	"OVERRIDE_REASON_REQUIRED": {"categories"},
	"FLAGGED_TERMS":            {"categories"},
	"RESPOND_WINDOW_CLOSED":    {"respond_until"},
	"NO_GRID":                  {"direction"},
	"OUTSIDE_RECORDING_PERIOD": {"team_id"},
	"OUTSIDE_SCOPE":            {"field", "id"},
	"MONTH_NOT_CLOSED":         {"closes_at"},
}

// reasonText is a refusal in the console's words and language, from the
// server's stable reason and its arguments (never from its English
// message); false when the catalogue has no words for the reason.
func (c *Common) reasonText(err error) (string, bool) {
	reason, meta := client.Details(err)
	k := i18n.Key("reason." + reason)
	if reason == "" || !i18n.Has(c.printer().Lang(), k) {
		return "", false
	}
	var args []any
	for _, name := range reasonArgs[reason] {
		v := meta[name]
		switch name {
		case "locked_until", "respond_until", "closes_at":
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				v = c.printer().DayTime(t.In(c.loc()))
			}
		case "role":
			v = c.roleText(v)
		case "status":
			v = c.statusWord(v)
		case "direction":
			v = c.directionText(v)
		case "categories":
			var cats []string
			for _, cat := range strings.Split(v, ",") {
				if cat = strings.TrimSpace(cat); cat != "" {
					cats = append(cats, c.categoryText(cat))
				}
			}
			v = strings.Join(cats, ", ")
		}
		args = append(args, v)
	}
	return c.T(k, args...), true
}

// statusWord is an evaluation status the server names in words.
func (c *Common) statusWord(s string) string {
	if v, ok := ecoutev1.EvaluationStatus_value["EVALUATION_STATUS_"+strings.ToUpper(s)]; ok {
		return c.statusText(ecoutev1.EvaluationStatus(v))
	}
	return s
}

// explain turns an error of the gateway into a sentence for the user.
func (c *Common) explain(err error) string {
	var forbidden *client.ErrForbidden
	switch {
	case errors.Is(err, client.ErrUnreachable):
		return c.T(errUnreachable, c.ServerAddr)
	case errors.Is(err, client.ErrTimeout):
		return c.T(errTimeout)
	case errors.Is(err, client.ErrSessionEnded):
		return c.T(errSessionExpired)
	case errors.As(err, &forbidden):
		if text, ok := c.reasonText(err); ok {
			return c.T(errPermission, text)
		}
		return c.T(errPermission, forbidden.Message)
	case errors.Is(err, client.ErrNotFound):
		return c.T(errNotFound)
	case errors.Is(err, client.ErrUnsupported):
		return c.T(errUnsupported)
	case errors.Is(err, errNoEngine):
		return c.T(errNoAudioEngine)
	}
	if text, ok := c.reasonText(err); ok {
		return text
	}
	return client.ServerMessage(err)
}
