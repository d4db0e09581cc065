// Package privacy answers the rights of the people concerned (R7, R9):
// export everything held about one person, encrypted with age to a key the
// requester gives, and erase a customer's recordings on objection. The gRPC
// service and the ecouted command line both go through it, so both are
// audited alike.
package privacy

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// Store is what the requests need of the database.
type Store interface {
	store.PrivacyStore
	store.JobStore // the queue of audio files to delete
}

// AuditLog is the trail the requests are recorded in and, for an agent,
// exported from.
type AuditLog interface {
	audit.Appender
	List(ctx context.Context, q audit.Query) ([]audit.Link, error)
}

// Requests carries out privacy requests.
type Requests struct {
	Store Store
	Blobs blobs.Store
	Audit AuditLog
	Clock clock.Clock
}

// Caller is who asks and from where, for the audit trail, and the request
// of the dpo's register the export or erasure answers (its id only goes in
// the trail: the reasons and outcomes are kept, sealed, in the register).
type Caller struct {
	Actor   audit.Actor
	Source  string
	Request string
}

// ErrNoRecord is an export of someone of whom nothing is held.
var ErrNoRecord = domain.NotFound("nothing is held about this person")

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// CheckPhone accepts an E.164 number ("+33612345678").
func CheckPhone(p string) error {
	if !e164.MatchString(p) {
		return domain.Invalid("customer_phone_e164", "%q is not an E.164 number (+ then 7 to 15 digits)", p)
	}
	return nil
}

// ParseRecipient reads an age recipient ("age1…", or the post-quantum
// "age1pq1…") or an SSH public key ("ssh-ed25519 …", "ssh-rsa …").
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	var r age.Recipient
	var err error
	switch {
	case s == "":
		return nil, domain.Invalid("recipient", "is required (an age public key age1… or an SSH public key)")
	case strings.HasPrefix(s, "age1pq1"):
		r, err = age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		r, err = age.ParseX25519Recipient(s)
	case strings.HasPrefix(s, "ssh-"):
		r, err = agessh.ParseRecipient(s)
	default:
		return nil, domain.Invalid("recipient", "must be an age public key (age1…) or an SSH public key (ssh-ed25519 …, ssh-rsa …)")
	}
	if err != nil {
		return nil, domain.Invalid("recipient", "%v", err)
	}
	return r, nil
}

// subjectTarget names the subject in the audit trail. A customer is named
// by the masked number only: the trail must show that a request was
// answered without itself becoming a register of who objected.
func subjectTarget(s store.Subject) string {
	if s.AgentID != "" {
		return "agent:" + s.AgentID
	}
	digits := []rune{}
	for _, r := range s.CustomerPhone {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 2 {
		return "customer"
	}
	return "customer:••••••••" + string(digits[len(digits)-2:])
}

func recipientKind(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "ssh-") {
		kind, _, _ := strings.Cut(s, " ")
		return kind
	}
	if strings.HasPrefix(s, "age1pq1") {
		return "age-pq"
	}
	return "age-x25519"
}

// Summary is what an export contained.
type Summary struct {
	Calls, Rows, AuditEntries int
	AudioBytes                int64
}

// Export writes to w an age-encrypted tar archive of everything held about
// subj. Plaintext exists only in memory on its way through age.Encrypt:
// callers pass the network stream or the destination file. The export is
// recorded before the first byte is written (no trace, no export), and a
// failure afterwards is recorded too.
func (q *Requests) Export(ctx context.Context, who Caller, subj store.Subject, recipient string, w io.Writer) (Summary, error) {
	if subj.CustomerPhone != "" {
		if err := CheckPhone(subj.CustomerPhone); err != nil {
			return Summary{}, err
		}
	}
	if (subj.AgentID == "") == (subj.CustomerPhone == "") {
		return Summary{}, domain.Invalid("subject", "give either agent_id or customer_phone_e164")
	}
	rcp, err := ParseRecipient(recipient)
	if err != nil {
		return Summary{}, err
	}
	data, err := q.Store.SubjectData(ctx, subj)
	if errors.Is(err, store.ErrNotFound) {
		return Summary{}, ErrNoRecord
	}
	if err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	var entries []audit.Link
	for _, uid := range data.UserIDs {
		es, err := q.auditOf(ctx, uid)
		if err != nil {
			return Summary{}, err
		}
		entries = append(entries, es...)
	}
	sum := Summary{Calls: len(data.Calls), AuditEntries: len(entries)}
	for _, t := range data.Tables {
		sum.Rows += len(data.Rows[t])
	}
	target := subjectTarget(subj)
	details := map[string]string{"calls": strconv.Itoa(sum.Calls), "rows": strconv.Itoa(sum.Rows),
		"audit_entries": strconv.Itoa(sum.AuditEntries), "recipient": recipientKind(recipient), "result": "started"}
	if who.Request != "" {
		details["request"] = who.Request
	}
	if err := q.Audit.Append(ctx, audit.Entry{Actor: who.Actor, Source: who.Source, Action: audit.ActionExport,
		Target: target, Details: details}); err != nil {
		return Summary{}, &domain.Error{Reason: domain.ReasonAuditUnavailable,
			Message: "export not started: the audit trail is unavailable", Err: err}
	}
	sum.AudioBytes, err = q.writeArchive(ctx, subj, data, entries, rcp, w)
	if err != nil {
		q.Audit.Append(ctx, audit.Entry{Actor: who.Actor, Source: who.Source, Action: audit.ActionExport,
			Target: target, Details: map[string]string{"result": "failed", "error": err.Error()}})
		return sum, fmt.Errorf("export: %w", err)
	}
	return sum, nil
}

// auditOf lists every audit entry an account made, oldest first.
func (q *Requests) auditOf(ctx context.Context, userID string) ([]audit.Link, error) {
	var out []audit.Link
	var before int64
	for {
		page, err := q.Audit.List(ctx, audit.Query{ActorID: userID, BeforeSeq: before, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("audit entries of %s: %w", userID, err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].Seq
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

const readme = `Écoute — export of the personal data held about one person (R7).

subject.json       who this export is about, when it was made, what it holds
data/<table>.json  every database row about the person, one JSON array per table
                   (times are RFC 3339 UTC; password and token hashes are withheld)
audio/<call>.mp3   the recordings of the calls listed in data/calls.json
captures/<call>/   for a customer: the screen captures of those calls, named by their
                   position in the call (milliseconds); an agent's export lists them in
                   data/screen_captures.json without the images, which show customers
audit.json         for an agent with an account: the audit entries of that account
`

type auditJSON struct {
	Seq     int64             `json:"seq"`
	Time    string            `json:"time"`
	Login   string            `json:"login"`
	Role    string            `json:"role"`
	Source  string            `json:"source"`
	Action  string            `json:"action"`
	Target  string            `json:"target,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

func (q *Requests) writeArchive(ctx context.Context, subj store.Subject, data store.SubjectData,
	entries []audit.Link, rcp age.Recipient, w io.Writer) (int64, error) {
	enc, err := age.Encrypt(w, rcp)
	if err != nil {
		return 0, fmt.Errorf("age: %w", err)
	}
	tw := tar.NewWriter(enc)
	now := q.Clock.Now().UTC()
	put := func(name string, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), ModTime: now,
			Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	putJSON := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return put(name, append(b, '\n'))
	}
	if err := put("README.txt", []byte(readme)); err != nil {
		return 0, err
	}
	head := map[string]any{"generated_at": now.Format(time.RFC3339), "tables": data.Tables, "calls": len(data.Calls)}
	if subj.AgentID != "" {
		head["agent_id"] = subj.AgentID
	} else {
		head["customer_phone_e164"] = subj.CustomerPhone
	}
	if err := putJSON("subject.json", head); err != nil {
		return 0, err
	}
	for _, t := range data.Tables {
		if err := putJSON("data/"+t+".json", data.Rows[t]); err != nil {
			return 0, err
		}
	}
	if len(entries) > 0 {
		out := make([]auditJSON, len(entries))
		for i, e := range entries {
			out[i] = auditJSON{Seq: e.Seq, Time: e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Login: e.Actor.Login,
				Role: e.Actor.Role, Source: e.Source, Action: e.Action, Target: e.Target, Details: e.Details}
		}
		if err := putJSON("audit.json", out); err != nil {
			return 0, err
		}
	}
	var audio int64
	for _, c := range data.Calls {
		if err := ctx.Err(); err != nil {
			return audio, err
		}
		n, err := q.putAudio(ctx, tw, c, now)
		if err != nil {
			return audio, err
		}
		audio += n
	}
	for _, cp := range data.Captures {
		if err := ctx.Err(); err != nil {
			return audio, err
		}
		n, err := q.putCapture(ctx, tw, cp, now)
		if err != nil {
			return audio, err
		}
		audio += n
	}
	if err := tw.Close(); err != nil {
		return audio, err
	}
	if err := enc.Close(); err != nil {
		return audio, fmt.Errorf("age: %w", err)
	}
	return audio, nil
}

func (q *Requests) putAudio(ctx context.Context, tw *tar.Writer, c store.SubjectCall, now time.Time) (int64, error) {
	b, err := q.Blobs.Open(ctx, c.AudioKey)
	if errors.Is(err, blobs.ErrNotFound) {
		return 0, nil // a row without audio (erased, or never committed) exports as metadata only
	}
	if err != nil {
		return 0, fmt.Errorf("audio of %s: %w", c.ID, err)
	}
	defer b.Close()
	if err := tw.WriteHeader(&tar.Header{Name: "audio/" + c.ID + ".mp3", Mode: 0o600, Size: b.Size(), ModTime: now,
		Typeflag: tar.TypeReg}); err != nil {
		return 0, err
	}
	n, err := io.Copy(tw, io.NewSectionReader(b, 0, b.Size()))
	if err != nil {
		return n, fmt.Errorf("audio of %s: %w", c.ID, err)
	}
	return n, nil
}

// putCapture adds one screen capture's image, read from its blob.
func (q *Requests) putCapture(ctx context.Context, tw *tar.Writer, cp store.Capture, now time.Time) (int64, error) {
	b, err := q.Blobs.Open(ctx, cp.BlobKey)
	if errors.Is(err, blobs.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("captures of %s: %w", cp.CallID, err)
	}
	defer b.Close()
	ext := "png"
	if cp.Format == "jpeg" {
		ext = "jpg"
	}
	name := fmt.Sprintf("captures/%s/%09d.%s", cp.CallID, cp.Offset.Milliseconds(), ext)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: cp.Size, ModTime: now,
		Typeflag: tar.TypeReg}); err != nil {
		return 0, err
	}
	n, err := io.Copy(tw, io.NewSectionReader(b, cp.BlobOffset, cp.Size))
	if err != nil {
		return n, fmt.Errorf("capture %s of %s: %w", cp.ID, cp.CallID, err)
	}
	return n, nil
}

// Erase deletes the recordings of the customer with this phone number
// (objection, R7): call rows and the rows that reference them in one
// transaction that also queues the audio files, then the files. It is
// recorded in the audit trail, with the request of the register it
// answers (who.Request), where the reason is kept.
func (q *Requests) Erase(ctx context.Context, who Caller, phone string) (calls, related int64, err error) {
	if err := CheckPhone(phone); err != nil {
		return 0, 0, err
	}
	calls, related, err = q.Store.EraseCustomer(ctx, phone, q.Clock.Now())
	if err == nil && calls > 0 {
		// Also finishes what an earlier crash left queued. Should it fail,
		// the rows are gone already and the next purge deletes the files.
		if _, derr := jobs.DrainBlobs(ctx, q.Store, q.Blobs); derr != nil {
			err = fmt.Errorf("recordings erased from the database, audio files still queued for deletion: %w", derr)
		}
	}
	d := map[string]string{"calls": strconv.FormatInt(calls, 10), "related_rows": strconv.FormatInt(related, 10),
		"result": "ok"}
	if who.Request != "" {
		d["request"] = who.Request
	}
	if err != nil {
		d["result"] = "failed"
		d["error"] = err.Error()
	}
	aerr := q.Audit.Append(ctx, audit.Entry{Actor: who.Actor, Source: who.Source, Action: audit.ActionErase,
		Target: subjectTarget(store.Subject{CustomerPhone: phone}), Details: d})
	if err != nil {
		return calls, related, err
	}
	if aerr != nil {
		return calls, related, fmt.Errorf("recordings erased, but the audit entry failed: %w", aerr)
	}
	return calls, related, nil
}
