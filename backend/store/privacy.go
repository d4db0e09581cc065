package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PrivacyStore answers the rights of the people concerned (R7): gather
// everything held about one person, erase a customer's recordings.
//
// "Everything" is found by walking the schema rather than by a fixed list
// of tables, so the tables later migrations add are covered: from the
// subject's root rows, every table whose foreign key points at a table
// already reached is followed, and for an agent's export so is every table
// with a call_id or agent_id column and no foreign key on it (evaluations,
// which outlive their call on purpose). A customer's export and erasure
// follow real foreign keys only: the evaluations of the agent's work are
// the agent's data, and an objection removes the customer's recordings
// (R7), not those evaluations, which keep only what they copied of the
// call. In an agent's export the customers' identities are withheld.
type PrivacyStore interface {
	// SubjectData collects the rows about s; ErrNotFound when there are none.
	SubjectData(ctx context.Context, s Subject) (SubjectData, error)
	// EraseCustomer deletes the calls with this customer phone and every
	// row that references them, and queues their audio keys in
	// blob_deletions, in one transaction: files go afterwards (DrainBlobs),
	// so a crash leaves work to finish, never a row without its file.
	EraseCustomer(ctx context.Context, phone string, now time.Time) (calls, related int64, err error)
}

// Subject is one person: an agent, or a customer known by phone number.
type Subject struct {
	AgentID       string
	CustomerPhone string
}

// Row is one table row as column → value; times (columns ending in _at or
// _until, stored as Unix milliseconds) are RFC 3339 UTC strings (R14),
// secrets (columns naming a hash or password) are withheld, binary columns
// are summarised.
type Row map[string]any

// SubjectData is what SubjectData found.
type SubjectData struct {
	Tables []string         // tables holding rows about the subject, in walk order
	Rows   map[string][]Row // by table
	// Calls are the subject's calls, with their audio keys.
	Calls []SubjectCall
	// UserIDs are the accounts of an agent (whose audit entries belong to
	// the export too).
	UserIDs []string
	// Captures are the screen captures of a customer's calls (R11: they
	// show the customer's data). An agent's export lists the captures'
	// rows without their images, which show customers: third parties.
	Captures []Capture
}

// SubjectCall names a call and its audio blob.
type SubjectCall struct{ ID, AudioKey string }

type fkEdge struct {
	child, from, parent, to string
	pseudo                  bool // a column naming the parent, without a foreign key
}

// pseudoKeys are the columns that name a call or an agent by convention.
var pseudoKeys = map[string]string{"call_id": "calls", "agent_id": "agents"}

// schemaEdges lists the foreign keys of every table, plus pseudo keys
// calls.id ← T.call_id and agents.id ← T.agent_id for tables with such a
// column and no foreign key on it.
func schemaEdges(ctx context.Context, q schemaQuerier, postgres bool) ([]fkEdge, error) {
	cat := catalogOf(postgres)
	rows, err := q.QueryContext(ctx, cat.tables)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var edges []fkEdge
	for _, t := range tables {
		fks, err := q.QueryContext(ctx, cat.foreignKeys, t)
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", t, err)
		}
		keyed := map[string]bool{}
		for fks.Next() {
			e := fkEdge{child: t}
			if err := fks.Scan(&e.parent, &e.from, &e.to); err != nil {
				fks.Close()
				return nil, err
			}
			if e.to == "" {
				e.to = "id" // every table of ours keys on id
			}
			keyed[e.from] = true
			edges = append(edges, e)
		}
		fks.Close()
		for col, parent := range pseudoKeys {
			if t == parent || keyed[col] {
				continue
			}
			var n int
			if err := q.QueryRowContext(ctx, cat.hasColumn, t, col).Scan(&n); err != nil {
				return nil, fmt.Errorf("columns of %s: %w", t, err)
			}
			if n > 0 {
				edges = append(edges, fkEdge{child: t, from: col, parent: parent, to: "id", pseudo: true})
			}
		}
	}
	return edges, nil
}

type schemaQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reach is one table reached by the walk and the condition selecting its
// rows (args bound in order).
type reach struct {
	table string
	cond  string
	args  []any
}

// maxWalkDepth bounds the walk: the schema is shallow (calls →
// evaluations → answers), a cycle must not loop.
const maxWalkDepth = 5

// walk lists, parents before children, every table reachable from root
// through the edges. A table reached by two paths appears twice.
func walk(edges []fkEdge, root reach) []reach {
	out := []reach{root}
	var visit func(r reach, depth int)
	visit = func(r reach, depth int) {
		if depth >= maxWalkDepth {
			return
		}
		for _, e := range edges {
			if e.parent != r.table || e.child == r.table {
				continue
			}
			c := reach{table: e.child, args: r.args,
				cond: fmt.Sprintf(`%s IN (SELECT %s FROM %s WHERE %s)`, quoteIdent(e.from), quoteIdent(e.to),
					quoteIdent(r.table), r.cond)}
			out = append(out, c)
			visit(c, depth+1)
		}
	}
	visit(root, 0)
	return out
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (st *SQLite) subjectRoot(s Subject) (reach, error) {
	switch {
	case s.AgentID != "" && s.CustomerPhone != "":
		return reach{}, errors.New("subject: either an agent or a customer phone, not both")
	case s.AgentID != "":
		return reach{table: "agents", cond: "id = ?", args: []any{s.AgentID}}, nil
	case s.CustomerPhone != "":
		// By the keyed hash: the number itself is sealed (sealed.go).
		return reach{table: "calls", cond: "customer_phone_hash = ?", args: []any{st.PhoneIndex(s.CustomerPhone)}}, nil
	}
	return reach{}, errors.New("subject: an agent id or a customer phone is required")
}

// withheld columns never leave in an export, even to the person: they
// protect the accounts, not the person's data.
func withheld(col string) bool {
	c := strings.ToLower(col)
	return strings.Contains(c, "hash") || strings.Contains(c, "password") || strings.Contains(c, "secret") ||
		c == "signature"
}

func isTimeColumn(col string) bool {
	return strings.HasSuffix(col, "_at") || strings.HasSuffix(col, "_until") || col == "day"
}

func exportValue(col string, v any) any {
	switch x := v.(type) {
	case []byte:
		if json.Valid(x) && len(x) > 0 && (x[0] == '{' || x[0] == '[') {
			return json.RawMessage(x)
		}
		return fmt.Sprintf("[binary, %d bytes]", len(x))
	case int64:
		if isTimeColumn(col) && x != 0 {
			return time.UnixMilli(x).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
	}
	return v
}

// customerColumns identify a caller: in an agent's export they are a third
// party's data and are withheld (the calls stay, their customers do not).
var customerColumns = map[string]bool{"customer_name": true, "customer_phone": true, "customer_address": true,
	"customer_number": true, "customer_phone_hash": true}

func (s *SQLite) selectRows(ctx context.Context, q schemaQuerier, r reach, hideCustomer bool) ([]Row, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+quoteIdent(r.table)+` WHERE `+r.cond, r.args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	// A waiting upload's row is sealed as the row of calls it becomes.
	sealedAs := r.table
	if sealedAs == "pending_calls" {
		sealedAs = "calls"
	}
	var out []Row
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for n := range vals {
			ptrs[n] = &vals[n]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", r.table, err)
		}
		row := Row{}
		id := ""
		for n, c := range cols {
			if c == "id" {
				id = fmt.Sprint(vals[n])
			}
		}
		for n, c := range cols {
			if isSealed(sealedAs, c) {
				// Sealed at rest, opened for the person it is about.
				if vals[n], err = s.open(sealedAs, c, id, vals[n]); err != nil {
					return nil, fmt.Errorf("read %s: %w", r.table, err)
				}
			}
			if hideCustomer && customerColumns[c] {
				row[c] = "[withheld: third party]"
				continue
			}
			if withheld(c) {
				row[c] = "[withheld]"
				continue
			}
			row[c] = exportValue(c, vals[n])
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// SubjectData walks the schema from the subject's root rows.
func (s *SQLite) SubjectData(ctx context.Context, subj Subject) (SubjectData, error) {
	root, err := s.subjectRoot(subj)
	if err != nil {
		return SubjectData{}, err
	}
	// One read transaction: a consistent picture even while uploads go on.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return SubjectData{}, fmt.Errorf("subject data: %w", err)
	}
	defer tx.Rollback()
	edges, err := schemaEdges(ctx, tx, s.postgres)
	if err != nil {
		return SubjectData{}, err
	}
	if subj.AgentID == "" {
		// A customer gets what is bound to their calls by a foreign key,
		// not the evaluations of the agent's work on those calls: those are
		// the agent's personal data (R8).
		edges = slices.DeleteFunc(edges, func(e fkEdge) bool { return e.pseudo })
	}
	d := SubjectData{Rows: map[string][]Row{}}
	seen := map[string]bool{}
	for _, r := range walk(edges, root) {
		rows, err := s.selectRows(ctx, tx, r, subj.AgentID != "")
		if err != nil {
			return SubjectData{}, err
		}
		for _, row := range rows {
			// A row reached by two paths (an evaluation through the agent
			// and through the call) is exported once.
			b, _ := json.Marshal(row)
			k := r.table + "\x00" + string(b)
			if seen[k] {
				continue
			}
			seen[k] = true
			if !slices.Contains(d.Tables, r.table) {
				d.Tables = append(d.Tables, r.table)
			}
			d.Rows[r.table] = append(d.Rows[r.table], row)
		}
		if r.table == "calls" {
			q, err := tx.QueryContext(ctx, `SELECT id, audio_key FROM calls WHERE `+r.cond+` ORDER BY started_at, id`, r.args...)
			if err != nil {
				return SubjectData{}, fmt.Errorf("subject calls: %w", err)
			}
			for q.Next() {
				var c SubjectCall
				if err := q.Scan(&c.ID, &c.AudioKey); err != nil {
					q.Close()
					return SubjectData{}, err
				}
				if !slices.Contains(d.Calls, c) {
					d.Calls = append(d.Calls, c)
				}
			}
			q.Close()
		}
	}
	// Uploads waiting for the sampling are the subject's too; no foreign
	// key leads to them.
	if err := s.pendingOfSubject(ctx, tx, subj, &d); err != nil {
		return SubjectData{}, err
	}
	if len(d.Tables) == 0 {
		return SubjectData{}, fmt.Errorf("subject: %w", ErrNotFound)
	}
	if subj.CustomerPhone != "" {
		for _, c := range d.Calls {
			rows, err := tx.QueryContext(ctx, `SELECT `+captureCols+` FROM screen_captures WHERE call_id = ?
				ORDER BY offset_ms`, c.ID)
			if err != nil {
				return SubjectData{}, fmt.Errorf("subject captures: %w", err)
			}
			for rows.Next() {
				cp, err := scanCapture(rows)
				if err != nil {
					rows.Close()
					return SubjectData{}, fmt.Errorf("subject captures: %w", err)
				}
				d.Captures = append(d.Captures, cp)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return SubjectData{}, err
			}
		}
	}
	if subj.AgentID != "" {
		for _, u := range d.Rows["users"] {
			if id, ok := u["id"].(string); ok {
				d.UserIDs = append(d.UserIDs, id)
			}
		}
	}
	return d, nil
}

// pendingOfSubject adds the subject's uploads waiting for the sampling to d.
func (s *SQLite) pendingOfSubject(ctx context.Context, tx *sql.Tx, subj Subject, d *SubjectData) error {
	r := reach{table: "pending_calls", cond: "customer_phone_hash = ?", args: []any{s.PhoneIndex(subj.CustomerPhone)}}
	if subj.AgentID != "" {
		r = reach{table: "pending_calls", cond: "agent_id = ?", args: []any{subj.AgentID}}
	}
	rows, err := s.selectRows(ctx, tx, r, subj.AgentID != "")
	if err != nil || len(rows) == 0 {
		return err
	}
	d.Tables = append(d.Tables, r.table)
	d.Rows[r.table] = rows
	q, err := tx.QueryContext(ctx, `SELECT id, audio_key FROM pending_calls WHERE `+r.cond+` ORDER BY started_at, id`, r.args...)
	if err != nil {
		return fmt.Errorf("subject calls: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var c SubjectCall
		if err := q.Scan(&c.ID, &c.AudioKey); err != nil {
			return err
		}
		d.Calls = append(d.Calls, c)
	}
	return q.Err()
}

// EraseCustomer deletes the customer's calls and, children first, every row
// that references them.
func (s *SQLite) EraseCustomer(ctx context.Context, phone string, now time.Time) (int64, int64, error) {
	if phone == "" {
		return 0, 0, errors.New("erase: customer phone is required")
	}
	var calls, related int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		all, err := schemaEdges(ctx, tx, s.postgres)
		if err != nil {
			return err
		}
		var edges []fkEdge
		for _, e := range all {
			if !e.pseudo {
				edges = append(edges, e)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blob_deletions (key, queued_at)
			SELECT audio_key, ? FROM calls WHERE customer_phone_hash = ? ON CONFLICT (key) DO NOTHING`, ms(now), s.PhoneIndex(phone)); err != nil {
			return fmt.Errorf("queue audio: %w", err)
		}
		// Uploads waiting for the sampling go too.
		if _, err := tx.ExecContext(ctx, `INSERT INTO blob_deletions (key, queued_at)
			SELECT audio_key, ? FROM pending_calls WHERE customer_phone_hash = ? ON CONFLICT (key) DO NOTHING`, ms(now), s.PhoneIndex(phone)); err != nil {
			return fmt.Errorf("queue audio: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_calls WHERE customer_phone_hash = ?`, s.PhoneIndex(phone))
		if err != nil {
			return fmt.Errorf("delete waiting uploads: %w", err)
		}
		waiting, _ := res.RowsAffected()
		// Children before parents: reverse walk order, the root last.
		order := walk(edges, reach{table: "calls", cond: "customer_phone_hash = ?", args: []any{s.PhoneIndex(phone)}})
		for n := len(order) - 1; n >= 0; n-- {
			r := order[n]
			res, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(r.table)+` WHERE `+r.cond, r.args...)
			if err != nil {
				return fmt.Errorf("delete from %s: %w", r.table, err)
			}
			k, _ := res.RowsAffected()
			if n == 0 {
				calls = k + waiting
			} else {
				related += k
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("erase customer recordings: %w", err)
	}
	return calls, related, nil
}
