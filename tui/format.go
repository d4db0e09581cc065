package tui

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ecoute/ecoute/client"
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
		return c.T(errPermission, forbidden.Message)
	case errors.Is(err, client.ErrNotFound):
		return c.T(errNotFound)
	case errors.Is(err, client.ErrUnsupported):
		return c.T(errUnsupported)
	}
	return client.ServerMessage(err)
}
