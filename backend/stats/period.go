package stats

import (
	"time"

	"github.com/ecoute/ecoute/backend/domain"
)

// Grouping is the bucket of a trend.
type Grouping int

// Groupings; the zero value is Month.
const (
	Month Grouping = iota
	Week
	Day
)

// Span is the pre-aggregate span of the grouping ("d", "w", "m" as the
// store names them).
func (g Grouping) Span() string {
	switch g {
	case Day:
		return "d"
	case Week:
		return "w"
	}
	return "m"
}

// Limits of a period: at most MaxDays long, and at most MaxDayBuckets
// days when grouped by day.
const (
	MaxDays       = 366
	MaxDayBuckets = 93
)

// Day0 is 00:00 UTC of t's day.
func Day0(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Start is the first instant of the bucket of g holding t (UTC; weeks
// start on Monday).
func Start(t time.Time, g Grouping) time.Time {
	d := Day0(t)
	switch g {
	case Day:
		return d
	case Week:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Next is the start of the bucket after the one starting at s.
func Next(s time.Time, g Grouping) time.Time {
	switch g {
	case Day:
		return s.AddDate(0, 0, 1)
	case Week:
		return s.AddDate(0, 0, 7)
	}
	return s.AddDate(0, 1, 0)
}

// Period is a resolved period: whole days [From, To), and its grouping.
type Period struct {
	From, To time.Time
	Grouping Grouping
}

// Resolve checks and completes a requested period: From and To are
// rounded to their day (To up to the next 00:00 when inside a day);
// unset To is tomorrow, unset From 365 days before To.
func Resolve(from, to time.Time, g Grouping, now time.Time) (Period, error) {
	if to.IsZero() {
		to = Day0(now).AddDate(0, 0, 1)
	} else if d := Day0(to); !d.Equal(to.UTC()) {
		to = d.AddDate(0, 0, 1)
	} else {
		to = d
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -365)
	} else {
		from = Day0(from)
	}
	switch days := int(to.Sub(from).Hours() / 24); {
	case !to.After(from):
		return Period{}, domain.Invalid("filter.to", "must be after from")
	case days > MaxDays:
		return Period{}, domain.Invalid("filter.from", "a period is at most %d days (this one is %d)", MaxDays, days)
	case g == Day && days > MaxDayBuckets:
		return Period{}, domain.Invalid("filter.grouping", "group by week or month a period of more than %d days (this one is %d)",
			MaxDayBuckets, days)
	}
	return Period{From: from, To: to, Grouping: g}, nil
}

// Buckets lists the starts of the period's buckets, in order (the first
// may start before From).
func (p Period) Buckets() []time.Time {
	var out []time.Time
	for s := Start(p.From, p.Grouping); s.Before(p.To); s = Next(s, p.Grouping) {
		out = append(out, s)
	}
	return out
}

// Piece is a part of a period to read from the pre-aggregates of one
// grouping: the buckets starting in [From, To).
type Piece struct {
	Grouping Grouping
	From, To time.Time
}

// finer is the next finer grouping (Day is the finest).
func finer(g Grouping) Grouping {
	if g == Month {
		return Week
	}
	return Day
}

// Pieces splits [from, to) (whole days) into the whole buckets of g it
// holds, and the ranges around them into whole buckets of the finer
// groupings (weeks, then days), so that a year by month reads twelve month
// rows per agent instead of 365 day rows, and a year starting mid-month
// reads weeks, not weeks of days, at its ends. Every bucket of a piece
// lies inside [from, to), and inside one bucket of g.
func Pieces(from, to time.Time, g Grouping) []Piece {
	if !to.After(from) {
		return nil
	}
	if g == Day {
		return []Piece{{Day, from, to}}
	}
	first := Start(from, g)
	if first.Before(from) {
		first = Next(first, g)
	}
	last := first
	for !Next(last, g).After(to) {
		last = Next(last, g)
	}
	if !last.After(first) { // no whole bucket inside
		return Pieces(from, to, finer(g))
	}
	out := Pieces(from, first, finer(g))
	out = append(out, Piece{g, first, last})
	return append(out, Pieces(last, to, finer(g))...)
}
