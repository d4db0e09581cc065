package core

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
)

// ActivityColumns is the header of an activity CSV file, in this order.
// Times are RFC 3339 with their offset ("2026-03-02T09:00:00Z",
// "2026-03-02T10:00:00+01:00"): a date without its zone, or written
// day/month, is refused (R14). Durations are whole seconds.
var ActivityColumns = []string{"agent_id", "campaign_id", "activity_type", "started_at", "ended_at", "calls_handled",
	"calls_lost", "talk_seconds", "back_office_seconds", "ring_seconds"}

// ParseActivityCSV reads an activity file whole. The first row is the
// header; the rows are numbered as the file's lines (line 2 is the first
// interval). A bad cell fails with the line and column named, and nothing
// is returned.
func ParseActivityCSV(r io.Reader) ([]ActivityRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(ActivityColumns)
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, domain.Invalid("file", "is empty: the first line is the header %s", strings.Join(ActivityColumns, ","))
	}
	if err != nil {
		return nil, domain.Invalid("line 1", "%v (the header is %s)", err, strings.Join(ActivityColumns, ","))
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	if !slices.Equal(head, ActivityColumns) {
		return nil, domain.Invalid("line 1", "the header must be %s", strings.Join(ActivityColumns, ","))
	}
	var out []ActivityRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, domain.Invalid(fmt.Sprintf("line %d", line), "%v", err)
		}
		var row ActivityRow
		cell := func(i int) string { return strings.TrimSpace(rec[i]) }
		bad := func(i int, format string, a ...any) error {
			return domain.Invalid(fmt.Sprintf("line %d: %s", line, ActivityColumns[i]), format, a...)
		}
		row.AgentID, row.CampaignID, row.ActivityType = cell(0), cell(1), cell(2)
		for i, dst := range []*time.Time{&row.StartedAt, &row.EndedAt} {
			v := cell(3 + i)
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, bad(3+i, "%q is not an RFC 3339 time with its offset (2026-03-02T09:00:00Z)", v)
			}
			*dst = t
		}
		for i, dst := range []*int64{&row.Handled, &row.Lost} {
			n, err := strconv.ParseInt(cell(5+i), 10, 64)
			if err != nil {
				return nil, bad(5+i, "%q is not a whole number", cell(5+i))
			}
			*dst = n
		}
		for i, dst := range []*time.Duration{&row.Talk, &row.BackOffice, &row.Ring} {
			n, err := strconv.ParseInt(cell(7+i), 10, 64)
			if err != nil || n > int64(MaxActivityInterval/time.Second) {
				return nil, bad(7+i, "%q is not a whole number of seconds (at most a day)", cell(7+i))
			}
			*dst = time.Duration(n) * time.Second
		}
		out = append(out, row)
	}
}
