package config

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Period is a retention length as people say it: "90d", "6mo", "1y", "12w",
// "36h". Months and years are calendar units: "6mo" from 12 August is 12
// February, same time of day. A day the target month lacks (the 29th to
// 31st) stands for the whole rest of that month, so "6mo" from 31 August
// is the end of February (1 March 00:00), not 3 March as time.AddDate
// would have it, and not 180 days later. With that rule a later start
// never gives an earlier end, which the purge relies on (config.Config.
// RecordingCutoff inverts RecordingKeptUntil).
type Period struct {
	N    int
	Unit string // "h", "d", "w", "mo" or "y"
}

var periodRE = regexp.MustCompile(`^([0-9]+)(h|d|w|mo|y)$`)

// ParsePeriod reads "90d", "6mo", "1y", "12w" or "36h".
func ParsePeriod(s string) (Period, error) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil {
		hint := ""
		if regexp.MustCompile(`^[0-9]+m$`).MatchString(s) {
			hint = ` ("m" is ambiguous: write "mo" for months)`
		}
		return Period{}, fmt.Errorf("invalid period %q%s: want a whole number and a unit among h, d, w, mo, y (e.g. 90d, 6mo, 1y)", s, hint)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return Period{}, fmt.Errorf("invalid period %q: the number must be positive", s)
	}
	return Period{N: n, Unit: m[2]}, nil
}

// MustPeriod is ParsePeriod for constants.
func MustPeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

func (p Period) String() string { return strconv.Itoa(p.N) + p.Unit }

// IsZero tells whether p was never set.
func (p Period) IsZero() bool { return p.N == 0 }

func (p Period) shift(t time.Time, sign int) time.Time {
	n := sign * p.N
	switch p.Unit {
	case "h":
		return t.Add(time.Duration(n) * time.Hour)
	case "d":
		return t.AddDate(0, 0, n)
	case "w":
		return t.AddDate(0, 0, 7*n)
	case "mo":
		return addMonths(t, n)
	case "y":
		return addMonths(t, 12*n)
	}
	return t
}

// addMonths moves t by n calendar months, keeping the day and the time of
// day; when the target month is too short for the day, the result is the
// first instant of the month after it (the end of the target month).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	if d > daysIn(first.Year(), first.Month(), t.Location()) {
		return first.AddDate(0, 1, 0)
	}
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

func daysIn(y int, m time.Month, loc *time.Location) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day()
}

// After is t + p.
func (p Period) After(t time.Time) time.Time { return p.shift(t, 1) }

// Before is t − p: data older than p.Before(now) has outlived p.
func (p Period) Before(t time.Time) time.Time { return p.shift(t, -1) }

// approxHours measures p with the average Gregorian month, only to compare
// periods written in different units against a limit (so "183d" counts as
// longer than "6mo", which is 181 to 184 days depending on the month).
func (p Period) approxHours() float64 {
	const day = 24.0
	const month = 365.2425 / 12 * day
	switch p.Unit {
	case "h":
		return float64(p.N)
	case "d":
		return float64(p.N) * day
	case "w":
		return float64(p.N) * 7 * day
	case "mo":
		return float64(p.N) * month
	case "y":
		return float64(p.N) * 12 * month
	}
	return 0
}

// Compare is −1, 0 or +1 as p is shorter than, as long as or longer than q.
// Same units compare exactly; mixed units through the average month.
func (p Period) Compare(q Period) int {
	var a, b float64
	if p.Unit == q.Unit {
		a, b = float64(p.N), float64(q.N)
	} else if months(p) >= 0 && months(q) >= 0 {
		a, b = float64(months(p)), float64(months(q))
	} else {
		a, b = p.approxHours(), q.approxHours()
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// months is p in months when it is a whole number of them, else −1.
func months(p Period) int {
	switch p.Unit {
	case "mo":
		return p.N
	case "y":
		return 12 * p.N
	}
	return -1
}
