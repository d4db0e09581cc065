package tui

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// dateLayout is year-month-day, 24-hour clock: never ambiguous (R14).
const dateLayout = "2006-01-02 15:04"

func fmtTime(ts *timestamppb.Timestamp, loc *time.Location) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().In(loc).Format(dateLayout)
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

// explain turns an error from the server into a sentence for the user.
func explain(err error, addr string) string {
	switch status.Code(err) {
	case codes.Unavailable:
		return fmt.Sprintf(errUnreachable, addr)
	case codes.DeadlineExceeded:
		return errTimeout
	case codes.Unauthenticated:
		return errSessionExpired
	case codes.PermissionDenied:
		return fmt.Sprintf(errPermission, status.Convert(err).Message())
	case codes.NotFound:
		return errNotFound
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return s.Message()
	}
	return err.Error()
}
