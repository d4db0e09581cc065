package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// privacyFixture adds, beside the calls of fixture, tables of the kinds
// later migrations bring: one with a foreign key to calls and a child of
// it, and one naming calls and agents without a foreign key (as the
// evaluations do).
func privacyFixture(t *testing.T) (*SQLite, time.Time) {
	t.Helper()
	s, _ := openTest(t)
	base := fixture(t, s, 3)
	for _, q := range []string{
		`UPDATE calls SET customer_phone = '+33600000009', audio_key = 'calls/' || id`,
		`UPDATE calls SET customer_phone = '+33600000001', customer_name = 'Jeanne Martin' WHERE id IN ('a1-00', 'a2-01')`,
		`CREATE TABLE t_notes (id TEXT PRIMARY KEY, call_id TEXT NOT NULL REFERENCES calls(id), written_at INTEGER NOT NULL)`,
		`CREATE TABLE t_note_items (id TEXT PRIMARY KEY, note_id TEXT NOT NULL REFERENCES t_notes(id), body TEXT NOT NULL)`,
		`CREATE TABLE t_evals (id TEXT PRIMARY KEY, call_id TEXT NOT NULL, agent_id TEXT NOT NULL)`,
		`INSERT INTO t_notes VALUES ('n1', 'a1-00', 1772614800000), ('n2', 'a3-00', 1772614800000)`,
		`INSERT INTO t_note_items VALUES ('i1', 'n1', 'first'), ('i2', 'n2', 'other')`,
		// e2's call is gone already (recordings live 6 months, evaluations a year).
		`INSERT INTO t_evals VALUES ('e1', 'a1-00', 'a1'), ('e2', 'gone-call', 'a1'), ('e3', 'a3-01', 'a3')`,
		`INSERT INTO users (id, login, display_name, role, password_hash, agent_id, created_at)
			VALUES ('u-a1', 'zoe', 'Zoé Agent', 'agent', '$argon2id$secret', 'a1', 1)`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The customers were written in clear, as before issue 12: sealing them
	// finds them again by the keyed hash of their phone.
	if n, err := s.EnableFieldEncryption(context.Background(), testCipher(t)); err != nil || n != 10 {
		t.Fatalf("sealed %d rows: %v", n, err)
	}
	return s, base
}

func ids(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r["id"].(string))
	}
	slices.Sort(out)
	return out
}

func TestSubjectDataOfACustomer(t *testing.T) {
	s, _ := privacyFixture(t)
	d, err := s.SubjectData(context.Background(), Subject{CustomerPhone: "+33600000001"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(d.Rows["calls"]); !slices.Equal(got, []string{"a1-00", "a2-01"}) {
		t.Errorf("calls %v", got)
	}
	if got := ids(d.Rows["t_notes"]); !slices.Equal(got, []string{"n1"}) {
		t.Errorf("notes %v", got)
	}
	if got := ids(d.Rows["t_note_items"]); !slices.Equal(got, []string{"i1"}) {
		t.Errorf("note items %v", got)
	}
	if _, ok := d.Rows["t_evals"]; ok {
		t.Error("a customer export holds the agent's evaluations")
	}
	if d.Rows["calls"][0]["customer_name"] != "Jeanne Martin" {
		t.Errorf("customer name %v", d.Rows["calls"][0]["customer_name"])
	}
	if len(d.Calls) != 2 || d.Calls[0].AudioKey != "calls/"+d.Calls[0].ID {
		t.Errorf("calls with audio %v", d.Calls)
	}
	if at := d.Rows["t_notes"][0]["written_at"]; at != "2026-03-04T09:00:00.000Z" {
		t.Errorf("written_at = %v, want an RFC 3339 UTC time", at)
	}
	if _, ok := d.Rows["users"]; ok {
		t.Error("a customer export holds accounts")
	}
	if _, err := s.SubjectData(context.Background(), Subject{CustomerPhone: "+33699999999"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown phone: %v", err)
	}
}

func TestSubjectDataOfAnAgent(t *testing.T) {
	s, _ := privacyFixture(t)
	d, err := s.SubjectData(context.Background(), Subject{AgentID: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(d.Rows["calls"]); !slices.Equal(got, []string{"a1-00", "a1-01", "a1-02", "pending"}) {
		t.Errorf("calls %v", got)
	}
	// e1 is reached through the call and through the agent: once only.
	if got := ids(d.Rows["t_evals"]); !slices.Equal(got, []string{"e1", "e2"}) {
		t.Errorf("evaluations %v", got)
	}
	u := d.Rows["users"]
	if len(u) != 1 || u[0]["login"] != "zoe" || u[0]["password_hash"] != "[withheld]" || !slices.Equal(d.UserIDs, []string{"u-a1"}) {
		t.Errorf("users %v, ids %v", u, d.UserIDs)
	}
	for _, c := range d.Rows["calls"] {
		if c["customer_phone"] != "[withheld: third party]" || c["customer_name"] != "[withheld: third party]" {
			t.Errorf("an agent's export shows a customer: %v", c)
		}
	}
	if _, ok := d.Rows["teams"]; ok {
		t.Error("the walk went up to the teams table")
	}
}

func TestEraseCustomerKeepsOthersAndQueuesAudio(t *testing.T) {
	ctx := context.Background()
	s, base := privacyFixture(t)
	calls, related, err := s.EraseCustomer(ctx, "+33600000001", base)
	if err != nil {
		t.Fatal(err)
	}
	// n1 and its item i1 go (they reference the calls); e1 stays: it has no
	// foreign key and is the agent's evaluation, not the recording.
	if calls != 2 || related != 2 {
		t.Errorf("erased %d calls, %d related rows; want 2, 2", calls, related)
	}
	count := func(q string) int {
		var n int
		if err := s.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM calls WHERE customer_phone_hash = '` + s.PhoneIndex("+33600000001") + `'`); n != 0 {
		t.Errorf("%d calls of the customer left", n)
	}
	if n := count(`SELECT COUNT(*) FROM calls`); n != 8 {
		t.Errorf("%d other calls left, want 8", n)
	}
	if n := count(`SELECT COUNT(*) FROM t_notes WHERE id = 'n2'`) + count(`SELECT COUNT(*) FROM t_note_items WHERE id = 'i2'`); n != 2 {
		t.Error("rows of other calls were deleted")
	}
	if n := count(`SELECT COUNT(*) FROM t_evals`); n != 3 {
		t.Errorf("evaluations: %d left, want 3", n)
	}
	keys, err := s.BlobDeletions(ctx, 10)
	if err != nil || !slices.Equal(keys, []string{"calls/a1-00", "calls/a2-01"}) {
		t.Errorf("queued audio %v, %v", keys, err)
	}
	if calls, _, err := s.EraseCustomer(ctx, "+33600000001", base); err != nil || calls != 0 {
		t.Errorf("second erasure: %d, %v", calls, err)
	}
}

func TestSubjectNeedsExactlyOneKey(t *testing.T) {
	s, _ := privacyFixture(t)
	for _, subj := range []Subject{{}, {AgentID: "a1", CustomerPhone: "+33600000001"}} {
		if _, err := s.SubjectData(context.Background(), subj); err == nil || !strings.Contains(err.Error(), "subject") {
			t.Errorf("%+v: %v", subj, err)
		}
	}
}
