// Package limits is the one table of what the backend accepts as input:
// sizes, counts, numbers, the alphabet of ids, and the characters text may
// hold. Every operation checks its input here before anything else, and a
// refusal is an INVALID_ARGUMENT naming the field (backend/domain), so bad
// input gets a clear error and loses nothing.
//
// Control characters (C0, DEL, C1) and the Unicode bidirectional controls
// are refused in every field: in a login, a name or an id they would rewrite
// an operator's terminal when listed (internal/termsafe escapes what gets
// printed anyway). Free text (comments, notes, reasons) may hold line
// breaks and tabs, nothing else of the kind.
package limits

import (
	"math"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/internal/termsafe"
)

// Sizes, in bytes of UTF-8, and counts.
const (
	MaxLogin      = 64   // a login
	MaxName       = 100  // a first, last or display name, a team name
	MaxID         = 64   // a team, agent, campaign, user, call or grid id
	MaxExternalID = 128  // a telephony call id
	MaxNote       = 500  // a short note (a recording period's)
	MaxReason     = 1000 // a reason (erasure, override, resolution, handover)
	MaxText       = 4000 // a free-text comment
	MaxCustomer   = 200  // a customer's name, address or number
	MaxPageToken  = 512  // a page token
	MaxRequestID  = 128  // a client's request id

	// MaxFilterIDs bounds each id list of a call filter (agents, teams,
	// campaigns): a listing names at most this many.
	MaxFilterIDs = 1000
	// MaxTeams bounds the teams of one account.
	MaxTeams = 50
	// MaxStatuses bounds a list of statuses asked for.
	MaxStatuses = 10
)

// MaxFilterDuration bounds a call length asked for in a filter.
const MaxFilterDuration = 48 * time.Hour

// idRE is the alphabet of every id a client chooses or names: letters,
// digits, '.', '_', '-', starting with a letter or digit — no '/', no
// spaces, nothing a path or a terminal would interpret.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// loginRE also allows '@' and '+', for logins that are e-mail addresses.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`)

// externalRE is a telephony call id: printable ASCII without spaces.
var externalRE = regexp.MustCompile(`^[!-~]+$`)

func tooLong(field string, n, max int) error {
	return domain.Invalid(field, "%d bytes, at most %d", n, max)
}

// control finds the first character a field may not hold.
func control(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if r == utf8.RuneError || termsafe.Dangerous(r) {
			return r, true
		}
	}
	return 0, false
}

func clean(field, v string, max int, multiline bool) error {
	if len(v) > max {
		return tooLong(field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return domain.Invalid(field, "is not valid UTF-8")
	}
	if r, bad := control(v, multiline); bad {
		return domain.Invalid(field, "holds the control character %U: not allowed", r)
	}
	return nil
}

// Line checks a one-line text field (a name, a title): at most max bytes,
// valid UTF-8, no control characters. Empty is accepted.
func Line(field, v string, max int) error { return clean(field, v, max, false) }

// Text checks free text (a comment, a reason): at most max bytes, valid
// UTF-8, no control characters but line breaks and tabs.
func Text(field, v string, max int) error { return clean(field, v, max, true) }

// ID checks an id given or chosen by a client: at most MaxID bytes of the
// safe alphabet. Empty is accepted (the caller says when it is required).
func ID(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > MaxID {
		return tooLong(field, len(v), MaxID)
	}
	if !idRE.MatchString(v) {
		return domain.Invalid(field, "%s is not an id: letters, digits, '.', '_' and '-' only, starting with a letter or digit",
			termsafe.Escape(quote(v)))
	}
	return nil
}

// IDs checks a list of ids: at most max of them, each an ID.
func IDs(field string, vs []string, max int) error {
	if err := Count(field, len(vs), max); err != nil {
		return err
	}
	for i, v := range vs {
		if v == "" {
			return domain.Invalid(field, "entry %d is empty", i)
		}
		if err := ID(field, v); err != nil {
			return err
		}
	}
	return nil
}

// Login checks a login chosen for a new account.
func Login(field, v string) error {
	if len(v) > MaxLogin {
		return tooLong(field, len(v), MaxLogin)
	}
	if v != "" && !loginRE.MatchString(v) {
		return domain.Invalid(field, "%s is not a login: letters, digits, '.', '_', '-', '@' and '+' only, starting with a letter or digit",
			termsafe.Escape(quote(v)))
	}
	return nil
}

// ExternalID checks a telephony call id.
func ExternalID(field, v string) error {
	if len(v) > MaxExternalID {
		return tooLong(field, len(v), MaxExternalID)
	}
	if v != "" && !externalRE.MatchString(v) {
		return domain.Invalid(field, "printable ASCII without spaces only")
	}
	return nil
}

// Count checks that a list holds at most max entries.
func Count(field string, n, max int) error {
	if n > max {
		return domain.Invalid(field, "%d entries, at most %d", n, max)
	}
	return nil
}

// Finite checks that a number is neither NaN nor infinite.
func Finite(field string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return domain.Invalid(field, "%v is not a number", f)
	}
	return nil
}

// Time bounds: times before 2000 or after 2200 are mistakes (a unit
// error, an uninitialised clock), not calls or periods.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Instant checks that a time given is plausible (zero is accepted: the
// caller says when it is required).
func Instant(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return domain.Invalid(field, "%s is outside %d–%d", t.UTC().Format(time.RFC3339), MinTime.Year(), MaxTime.Year()-1)
	}
	return nil
}

// Duration checks that a duration is not negative and at most max.
func Duration(field string, d, max time.Duration) error {
	if d < 0 {
		return domain.Invalid(field, "must not be negative")
	}
	if d > max {
		return domain.Invalid(field, "%s is longer than %s", d, max)
	}
	return nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}
