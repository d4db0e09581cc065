package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/i18n"
)

// The filter prompt's language: space-separated key:value tokens, values
// with spaces in double quotes (agent:"Marie Girard"). Names are matched
// against the choices the server sends with the first page (every agent,
// team and campaign having calls the user may see) and the calls loaded,
// case and accents kept, letters' case ignored; a part of a name matches
// every name that contains it, so agent:Girard finds all the Girards. The
// filter itself runs on the server, over all the calls.

// The filter keys, in the order completion offers them.
const (
	fkAgent     = "agent"
	fkTeam      = "team"
	fkCampaign  = "campaign"
	fkFrom      = "from"
	fkTo        = "to"
	fkEvaluated = "evaluated"
	fkMin       = "min"
	fkMax       = "max"
	fkScore     = "score"
)

// fieldScore stands for "may read evaluations" in the sees function: a
// score is not a call field.
const fieldScore = "evaluation.total"

var filterKeys = []string{fkAgent, fkTeam, fkCampaign, fkFrom, fkTo, fkEvaluated, fkMin, fkMax, fkScore}

// filterField is the visible field a key filters on: the server refuses a
// filter on a field the role may not see, so the console says it first.
var filterField = map[string]string{
	fkAgent:     "call.agent_id",
	fkTeam:      "call.team_id",
	fkCampaign:  "call.campaign_id",
	fkFrom:      "call.started_at",
	fkTo:        "call.started_at",
	fkEvaluated: "call.evaluated",
	fkMin:       "call.duration",
	fkMax:       "call.duration",
	fkScore:     fieldScore,
}

// directory maps the agent, team and campaign names seen in loaded calls
// to their ids; it only grows while the call list lives.
type directory map[string]map[string][]string // kind -> name -> ids

func (d directory) add(kind, name, id string) {
	if name == "" || id == "" {
		return
	}
	if d[kind] == nil {
		d[kind] = map[string][]string{}
	}
	if !slices.Contains(d[kind][name], id) {
		d[kind][name] = append(d[kind][name], id)
	}
}

// learnChoices records the server's list of filterable names.
func (d directory) learnChoices(resp *ecoutev1.ListCallsResponse) {
	for kind, cs := range map[string][]*ecoutev1.FilterChoice{
		fkAgent: resp.GetAgents(), fkTeam: resp.GetTeams(), fkCampaign: resp.GetCampaigns(),
	} {
		for _, c := range cs {
			d.add(kind, c.GetName(), c.GetId())
		}
	}
}

func (d directory) learn(calls []*ecoutev1.Call) {
	for _, c := range calls {
		d.add(fkAgent, c.GetAgentName(), c.GetAgentId())
		d.add(fkTeam, c.GetTeamName(), c.GetTeamId())
		d.add(fkCampaign, c.GetCampaignName(), c.GetCampaignId())
	}
}

// names lists a kind's names, sorted.
func (d directory) names(kind string) []string {
	out := make([]string, 0, len(d[kind]))
	for n := range d[kind] {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ids resolves what was typed: an exact name (any case) wins, otherwise
// every name containing it.
func (d directory) ids(kind, typed string) []string {
	want := strings.ToLower(typed)
	for n, ids := range d[kind] {
		if strings.ToLower(n) == want {
			return slices.Clone(ids)
		}
	}
	var out []string
	for _, n := range d.names(kind) {
		if strings.Contains(strings.ToLower(n), want) {
			out = append(out, d[kind][n]...)
		}
	}
	return out
}

// filterToken is one key:value of the prompt.
type filterToken struct{ key, value string }

// tokenize splits the prompt on spaces outside double quotes.
func tokenize(text string) []string {
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
			started = true
		case unicode.IsSpace(r) && !quoted:
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}

// parseFilter turns the prompt into a CallFilter. sees says whether the
// role may see a field; errors are sentences for the user, naming the
// token at fault.
func parseFilter(tr *i18n.Printer, text string, dir directory, loc *time.Location, sees func(string) bool) (*ecoutev1.CallFilter, error) {
	f := &ecoutev1.CallFilter{}
	var to time.Time
	for _, tok := range tokenize(text) {
		k, v, ok := strings.Cut(tok, ":")
		k = strings.ToLower(k)
		if !ok {
			return nil, errors.New(tr.T(filterErrNoKey, tok, tok))
		}
		field, known := filterField[k]
		if !known {
			return nil, errors.New(tr.T(filterErrUnknownKey, k, strings.Join(filterKeys, ": ")))
		}
		if !sees(field) {
			return nil, errors.New(tr.T(filterErrNotAllowed, k))
		}
		if v == "" {
			return nil, errors.New(tr.T(filterErrEmpty, k))
		}
		switch k {
		case fkAgent, fkTeam, fkCampaign:
			ids := dir.ids(k, v)
			if len(ids) == 0 {
				return nil, errors.New(tr.T(filterErrNoName, k, v))
			}
			switch k {
			case fkAgent:
				f.AgentIds = append(f.AgentIds, ids...)
			case fkTeam:
				f.TeamIds = append(f.TeamIds, ids...)
			default:
				f.CampaignIds = append(f.CampaignIds, ids...)
			}
		case fkFrom, fkTo:
			d, err := time.ParseInLocation(time.DateOnly, v, loc)
			if err != nil {
				return nil, errors.New(tr.T(filterErrDate, k, v))
			}
			if k == fkFrom {
				f.StartedAfter = timestamppb.New(d)
			} else {
				// "to" includes the whole day.
				to = d
				f.StartedBefore = timestamppb.New(d.AddDate(0, 0, 1))
			}
		case fkEvaluated:
			switch strings.ToLower(v) {
			case "yes", "y", "true":
				f.Evaluated = ecoutev1.EvaluatedFilter_EVALUATED_FILTER_YES
			case "no", "n", "false":
				f.Evaluated = ecoutev1.EvaluatedFilter_EVALUATED_FILTER_NO
			default:
				return nil, errors.New(tr.T(filterErrYesNo, v))
			}
		case fkScore:
			lo, hi, err := parseScoreRange(v)
			if err != nil {
				return nil, errors.New(tr.T(filterErrScore, v))
			}
			f.MinScore, f.MaxScore = lo, hi
		case fkMin, fkMax:
			d, err := parseFilterDuration(v)
			if err != nil {
				return nil, errors.New(tr.T(filterErrDuration, k, v))
			}
			if k == fkMin {
				f.MinDuration = durationpb.New(d)
			} else {
				f.MaxDuration = durationpb.New(d)
			}
		}
	}
	if f.StartedAfter != nil && f.StartedBefore != nil && !f.StartedAfter.AsTime().Before(f.StartedBefore.AsTime()) {
		return nil, errors.New(tr.T(filterErrDateOrder, f.StartedAfter.AsTime().In(loc).Format(time.DateOnly), to.Format(time.DateOnly)))
	}
	if f.MinDuration != nil && f.MaxDuration != nil && f.MinDuration.AsDuration() > f.MaxDuration.AsDuration() {
		return nil, errors.New(tr.T(filterErrDurationOrder))
	}
	return f, nil
}

// parseScoreRange reads 60..80, 80.. or ..50 (percent, ends included).
func parseScoreRange(v string) (lo, hi *float64, err error) {
	a, b, ok := strings.Cut(v, "..")
	if !ok || a == "" && b == "" {
		return nil, nil, errors.New("want LOW..HIGH") // i18n: the caller words it (filterErrScore)
	}
	num := func(s string) (*float64, error) {
		if s == "" {
			return nil, nil
		}
		x, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || !(x >= 0 && x <= 100) { // NaN too (found by FuzzParseFilter)
			return nil, errors.New("not a percentage")
		}
		return &x, nil
	}
	if lo, err = num(a); err != nil {
		return nil, nil, err
	}
	if hi, err = num(b); err != nil {
		return nil, nil, err
	}
	if lo != nil && hi != nil && *lo > *hi {
		return nil, nil, errors.New("low above high") // i18n: the caller words it (filterErrScore)
	}
	return lo, hi, nil
}

// parseFilterDuration reads 90s, 2m, 1m30s or 1:30; a unit is required so
// "5" is never guessed as seconds or minutes.
func parseFilterDuration(v string) (time.Duration, error) {
	if m, s, ok := strings.Cut(v, ":"); ok {
		var mm, ss int
		if _, err := fmt.Sscanf(m+" "+s, "%d %d", &mm, &ss); err != nil || mm < 0 || mm > 100000 || ss < 0 || ss > 59 || len(s) != 2 {
			return 0, errors.New("bad m:ss")
		}
		return time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration") // i18n: the caller words it (filterErrDuration)
	}
	return d, nil
}

// completion is the result of tab in the prompt.
type completion struct {
	text       string   // the prompt after completing
	candidates []string // what the last token could still become
}

// complete completes the prompt's last token: a key, a name, yes/no.
func complete(text string, dir directory, sees func(string) bool) completion {
	if text == "" || strings.HasSuffix(text, " ") && strings.Count(text, `"`)%2 == 0 {
		return completion{text: text, candidates: allowedKeys(sees, "")}
	}
	start := lastTokenStart(text)
	head, tok := text[:start], text[start:]
	k, v, hasColon := strings.Cut(tok, ":")
	if !hasColon {
		keys := allowedKeys(sees, strings.ToLower(k))
		if len(keys) == 1 {
			return completion{text: head + keys[0]}
		}
		return completion{text: text, candidates: keys}
	}
	var options []string
	switch strings.ToLower(k) {
	case fkAgent, fkTeam, fkCampaign:
		options = dir.names(strings.ToLower(k))
	case fkEvaluated:
		options = []string{"yes", "no"}
	default:
		return completion{text: text}
	}
	typed := strings.ToLower(strings.Trim(v, `"`))
	// Names that start with what was typed win over names with a later
	// word that does (Mar: Marie Girard before Lucie Martin).
	var match, words []string
	for _, o := range options {
		switch lo := strings.ToLower(o); {
		case strings.HasPrefix(lo, typed):
			match = append(match, o)
		case wordPrefix(lo, typed):
			words = append(words, o)
		}
	}
	if len(match) == 0 {
		match = words
	}
	switch len(match) {
	case 0:
		return completion{text: text}
	case 1:
		return completion{text: head + k + ":" + quoteIfSpaced(match[0]) + " "}
	}
	if p := commonPrefix(match); len(p) > len(typed) && strings.HasPrefix(strings.ToLower(p), typed) {
		return completion{text: head + k + ":" + openQuote(p), candidates: match}
	}
	return completion{text: text, candidates: match}
}

func allowedKeys(sees func(string) bool, prefix string) []string {
	var out []string
	for _, k := range filterKeys {
		if strings.HasPrefix(k, prefix) && sees(filterField[k]) {
			out = append(out, k+":")
		}
	}
	return out
}

// lastTokenStart is the byte index where the last token begins.
func lastTokenStart(text string) int {
	quoted, start := false, 0
	for i, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
		case unicode.IsSpace(r) && !quoted:
			start = i + 1
		}
	}
	return start
}

func wordPrefix(name, typed string) bool {
	for _, w := range strings.Fields(name) {
		if strings.HasPrefix(w, typed) {
			return true
		}
	}
	return false
}

func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			_, size := lastRune(p)
			p = p[:len(p)-size]
		}
	}
	return p
}

func lastRune(s string) (rune, int) {
	rs := []rune(s)
	if len(rs) == 0 {
		return 0, 0
	}
	r := rs[len(rs)-1]
	return r, len(string(r))
}

func quoteIfSpaced(s string) string {
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return `"` + s + `"`
	}
	return s
}

// openQuote starts a quote when a partial name has a space, so the rest
// can be typed or completed.
func openQuote(s string) string {
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return `"` + s
	}
	return s
}
