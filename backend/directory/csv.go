// Package directory reads the CSV export of a PBX or an HR system that
// `ecouted directory import` applies: one team, agent or campaign per line.
// It checks the file's shape (header, columns, kinds, statuses) and gives
// each row its line number; what the rows mean against the directory in
// force is decided by the front door (core.PlanImport).
//
// The format (README, "The directory CSV"):
//
//	kind,id,name,team,client,status
//	team,T-SUPPORT,Support,,,
//	campaign,C-BOX,Offre Box,,Orange,
//	agent,1001,Marie Curie,T-SUPPORT,,
//	agent,1002,Jean Dupont,T-SUPPORT,,ended
//
// The header names the columns, in any order; kind and id are required,
// the others optional (French names are accepted: type, identifiant,
// matricule, nom, équipe, statut). The separator is ";" or "," (or a tab),
// taken from the header line, as spreadsheets write it. A UTF-8 byte order
// mark is skipped; a file that is not UTF-8 is read as Windows-1252 (what
// a French spreadsheet writes as "CSV (séparateur : point-virgule)").
// Empty lines and lines starting with # are skipped.
package directory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Kinds of rows.
const (
	KindTeam     = "team"
	KindAgent    = "agent"
	KindCampaign = "campaign"
)

// Limits of one file.
const (
	MaxFileBytes = 32 << 20
	MaxRows      = 100_000
	// MaxErrors is how many line errors are reported before giving up.
	MaxErrors = 100
)

// Row is one line of the file.
type Row struct {
	Line   int // 1-based line of the file where the row starts
	Kind   string
	ID     string
	Name   string
	Team   string
	Client string
	// Ended is true when the status says the entry was ended (the agent
	// left their recorded position, the campaign or team stopped).
	Ended bool
}

// LineError is what is wrong with one line (Line 0: the file as a whole).
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Column names and the names accepted for them (lower case, without
// accents).
var columns = map[string]string{
	"kind": "kind", "type": "kind",
	"id": "id", "identifiant": "id", "matricule": "id",
	"name": "name", "nom": "name",
	"team": "team", "equipe": "team",
	"client": "client", "client_name": "client",
	"status": "status", "statut": "status", "state": "status", "etat": "status",
}

var kinds = map[string]string{
	"team": KindTeam, "equipe": KindTeam,
	"agent":    KindAgent,
	"campaign": KindCampaign, "campagne": KindCampaign,
}

// statuses maps a status to "ended?".
var statuses = map[string]bool{
	"": false, "active": false, "actif": false,
	"ended": true, "inactive": true, "left": true, "termine": true, "inactif": true, "parti": true, "sorti": true,
}

// fold lowers s and drops the accents of French letters, for headers and
// keywords.
func fold(s string) string {
	return strings.NewReplacer("é", "e", "è", "e", "ê", "e", "É", "e", "È", "e", "à", "a", "ç", "c").
		Replace(strings.ToLower(strings.TrimSpace(s)))
}

// decode returns the file as UTF-8: without a byte order mark, and read as
// Windows-1252 when it is not valid UTF-8.
func decode(b []byte) ([]byte, bool, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return b, false, nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return nil, false, fmt.Errorf("the file is neither UTF-8 nor Windows-1252: %w", err)
	}
	return out, true, nil
}

// separator picks ";", "," or tab, the one the header line holds most of.
func separator(b []byte) rune {
	line := b
	for len(line) > 0 {
		l, rest, _ := bytes.Cut(line, []byte("\n"))
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			line = l
			break
		}
		line = rest
	}
	best, n := ',', bytes.Count(line, []byte(","))
	for _, r := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte(string(r))); c > n {
			best, n = r, c
		}
	}
	return best
}

// File is a parsed file: its rows, and what was wrong with it.
type File struct {
	Rows   []Row
	Errors []LineError
	// Windows1252 tells that the file was not UTF-8 and was read as
	// Windows-1252.
	Windows1252 bool
}

// Parse reads a file. Errors of reading are returned; problems of the
// content are in File.Errors, one per line at fault (at most MaxErrors).
func Parse(r io.Reader) (File, error) {
	var f File
	raw, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return f, fmt.Errorf("read the file: %w", err)
	}
	if len(raw) > MaxFileBytes {
		return f, fmt.Errorf("the file is larger than %d MiB", MaxFileBytes>>20)
	}
	b, cp1252, err := decode(raw)
	if err != nil {
		return f, err
	}
	f.Windows1252 = cp1252
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = separator(b)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	// Fields are trimmed below; trimming here too lets `, "x"` be quoted,
	// but would swallow the empty fields of a tab-separated file.
	cr.TrimLeadingSpace = cr.Comma != '\t'

	fail := func(line int, format string, a ...any) {
		f.Errors = append(f.Errors, LineError{Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		fail(0, "the file is empty: the first line must name the columns (kind, id, name, team, client, status)")
		return f, nil
	}
	if err != nil {
		fail(lineOf(err, 1), "%s", csvMsg(err))
		return f, nil
	}
	hline, _ := cr.FieldPos(0)
	index := map[string]int{}
	for i, h := range header {
		col, ok := columns[fold(h)]
		switch {
		case !ok:
			fail(hline, "unknown column %q: the columns are kind, id, name, team, client, status", h)
		case index[col] != 0:
			fail(hline, "column %q is given twice", col)
		default:
			index[col] = i + 1 // 0 = absent
		}
	}
	for _, need := range []string{"kind", "id"} {
		if index[need] == 0 && len(f.Errors) == 0 {
			fail(hline, "no %q column: the first line must name the columns (kind, id, name, team, client, status)", need)
		}
	}
	if len(f.Errors) > 0 {
		return f, nil
	}
	seen := map[[2]string]int{}
	for len(f.Errors) < MaxErrors {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(lineOf(err, 0), "%s", csvMsg(err))
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(f.Rows) >= MaxRows {
			fail(line, "more than %d rows: split the file", MaxRows)
			break
		}
		if len(rec) > len(header) {
			fail(line, "%d fields, but the header names %d columns", len(rec), len(header))
			continue
		}
		get := func(col string) string {
			if i := index[col]; i > 0 && i <= len(rec) {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // a line of separators only
		}
		row := Row{Line: line, ID: get("id"), Name: get("name"), Team: get("team"), Client: get("client")}
		kind, ok := kinds[fold(get("kind"))]
		if !ok {
			fail(line, "kind %q: use team, agent or campaign", get("kind"))
			continue
		}
		row.Kind = kind
		ended, ok := statuses[fold(get("status"))]
		if !ok {
			fail(line, "status %q: use active (or leave it empty) or ended", get("status"))
			continue
		}
		row.Ended = ended
		if msg := row.shape(); msg != "" {
			fail(line, "%s %s: %s", row.Kind, row.ID, msg)
			continue
		}
		key := [2]string{row.Kind, row.ID}
		if first, dup := seen[key]; dup {
			fail(line, "%s %s is already on line %d", row.Kind, row.ID, first)
			continue
		}
		seen[key] = line
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// shape says what is missing or out of place in a row, "" when nothing.
func (r Row) shape() string {
	switch {
	case r.ID == "":
		return "the id is empty"
	case r.Kind != KindAgent && r.Team != "":
		return "only an agent row names a team"
	case r.Kind != KindCampaign && r.Client != "":
		return "only a campaign row names a client"
	case r.Ended:
		return "" // ending needs only the id
	case r.Name == "":
		return "the name is empty"
	case r.Kind == KindAgent && r.Team == "":
		return "an active agent needs a team"
	}
	return ""
}

func lineOf(err error, fallback int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine
	}
	return fallback
}

func csvMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
