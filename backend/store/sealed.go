package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// FieldCipher seals the personal data the database holds (R9): the
// customer identity fields of calls, the free text of evaluations and of
// the dpo's register. backend/fieldcrypt implements it with the data key.
type FieldCipher interface {
	// Seal encrypts plain for a place (table, column, row).
	Seal(where, plain string) []byte
	// Open decrypts what Seal made for the same place.
	Open(where string, sealed []byte) (string, error)
	// Index is a keyed hash, for the fields looked up by value.
	Index(domain, value string) string
}

// SealedColumns lists, per table, the columns whose values are sealed:
// BLOBs that only the data key opens. Their rows are named by column "id".
// Later migrations that add personal text add their columns here.
var SealedColumns = map[string][]string{
	"calls":            {"customer_name", "customer_phone", "customer_address", "customer_number"},
	"evaluations":      {"answers", "comment", "override_reason", "agent_comment", "resolution_reason"},
	"privacy_requests": {"subject_phone", "requester", "identity_check", "note", "outcome"},
	"grant_requests":   {"secret"},
	// Training (issue 13): titles, notes and comments about an agent's
	// work, and calibration answers, sealed like the evaluations' (R13).
	"coaching_sessions":  {"title", "notes", "override_reason", "agent_comment"},
	"coaching_items":     {"note", "override_reason"},
	"calibration_scores": {"answers", "comment", "override_reason"},
}

// sealedPlace names where a value lives: its sealed form is bound to it.
func sealedPlace(table, col, id string) string { return table + "." + col + "\x00" + id }

func isSealed(table, col string) bool {
	for _, c := range SealedColumns[table] {
		if c == col {
			return true
		}
	}
	return false
}

// seal is the stored form of v: a sealed BLOB, or "" for an empty value
// (nothing to hide). Without a cipher (store tests) the text itself.
func (s *SQLite) seal(table, col, id, v string) any {
	if s.postgres && (v == "" || s.fc == nil) { // BYTEA columns: bytes
		return []byte(v)
	}
	if v == "" || s.fc == nil {
		return v
	}
	return s.fc.Seal(sealedPlace(table, col, id), v)
}

// open reads a stored value back: a sealed BLOB is opened, a TEXT value is
// plaintext from before the encryption (sealed at the next start).
func (s *SQLite) open(table, col, id string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		if len(x) == 0 {
			return "", nil
		}
		if s.postgres && s.fc == nil { // no cipher (store tests): the text itself
			return string(x), nil
		}
		if s.fc == nil {
			return "", fmt.Errorf("%s.%s of %s is sealed and no data key is set", table, col, id)
		}
		p, err := s.fc.Open(sealedPlace(table, col, id), x)
		if err != nil {
			return "", fmt.Errorf("%s.%s of %s: %w", table, col, id, err)
		}
		return p, nil
	}
	return "", fmt.Errorf("%s.%s of %s: unexpected %T", table, col, id, v)
}

// PhoneIndex is the keyed hash a customer's phone number is looked up by.
func (s *SQLite) PhoneIndex(phone string) string {
	if phone == "" {
		return ""
	}
	if s.fc == nil {
		return "plain:" + phone
	}
	return s.fc.Index("phone", phone)
}

// raw scans any column as stored (string for TEXT, []byte for BLOB).
type raw struct{ v any }

func (r *raw) Scan(src any) error {
	if b, ok := src.([]byte); ok {
		src = append([]byte(nil), b...)
	}
	r.v = src
	return nil
}

// EnableFieldEncryption makes the store seal personal data with fc from
// now on, and seals what an older version left in clear: every TEXT value
// of a sealed column, and the phone hashes of calls. The database file,
// its journal and the WAL are then checkpointed and truncated, so the
// plaintext does not linger in them (secure_delete overwrites the freed
// cells).
func (s *SQLite) EnableFieldEncryption(ctx context.Context, fc FieldCipher) (sealed int, err error) {
	s.fc = fc
	if s.postgres {
		// A PostgreSQL database was never written by a version that did not
		// seal: nothing is in clear.
		return 0, nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for table, cols := range SealedColumns {
			n, err := sealTable(ctx, tx, s, table, cols)
			if err != nil {
				return err
			}
			sealed += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("encrypt personal data at rest: %w", err)
	}
	if sealed > 0 {
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return sealed, fmt.Errorf("encrypt personal data at rest: checkpoint: %w", err)
		}
	}
	return sealed, nil
}

func sealTable(ctx context.Context, tx *sql.Tx, s *SQLite, table string, cols []string) (int, error) {
	var exists int
	if err := tx.QueryRowContext(ctx, sqliteCatalog.hasTable, table).
		Scan(&exists); err != nil || exists == 0 {
		return 0, err
	}
	var plain []string
	for _, c := range cols {
		plain = append(plain, fmt.Sprintf(`(typeof(%s) = 'text' AND %s <> '')`, quoteIdent(c), quoteIdent(c)))
	}
	cond := strings.Join(plain, " OR ")
	if table == "calls" {
		cond += ` OR (customer_phone_hash = '' AND customer_phone <> '')`
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, `+strings.Join(quoted(cols), ", ")+` FROM `+quoteIdent(table)+
		` WHERE `+cond)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", table, err)
	}
	type update struct {
		id   string
		vals []any
	}
	var ups []update
	for rows.Next() {
		var id string
		vals := make([]raw, len(cols))
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%s: %w", table, err)
		}
		u := update{id: id}
		for i, c := range cols {
			p, err := s.open(table, c, id, vals[i].v)
			if err != nil {
				rows.Close()
				return 0, err
			}
			u.vals = append(u.vals, s.seal(table, c, id, p))
			if table == "calls" && c == "customer_phone" {
				u.vals = append(u.vals, s.PhoneIndex(p))
			}
		}
		ups = append(ups, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	set := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		set = append(set, quoteIdent(c)+" = ?")
		if table == "calls" && c == "customer_phone" {
			set = append(set, "customer_phone_hash = ?")
		}
	}
	st, err := tx.PrepareContext(ctx, `UPDATE `+quoteIdent(table)+` SET `+strings.Join(set, ", ")+` WHERE id = ?`)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", table, err)
	}
	defer st.Close()
	for _, u := range ups {
		if _, err := st.ExecContext(ctx, append(u.vals, u.id)...); err != nil {
			return 0, fmt.Errorf("%s %s: %w", table, u.id, err)
		}
	}
	return len(ups), nil
}

func quoted(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = quoteIdent(c)
	}
	return out
}
