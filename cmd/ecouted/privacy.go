package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
)

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}

// recipientArg takes the key itself or a file holding it (an SSH .pub
// file, an age recipients file: its first key line).
func recipientArg(v string) (string, error) {
	if strings.HasPrefix(v, "age1") || strings.HasPrefix(v, "ssh-") {
		return v, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--recipient: neither a key (age1…, ssh-…) nor a readable file: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	return "", fmt.Errorf("--recipient: %s holds no key", v)
}

func cmdExportSubject(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export-subject", "export-subject (--agent ID | --phone E164) --recipient KEY --out FILE [--request ID]\n\n"+
		"Writes everything held about one person (call metadata, audio, evaluations, and for an\n"+
		"agent the account and its audit entries) as a tar archive encrypted with age to KEY (an\n"+
		"age public key age1…, an SSH public key, or a file holding one). Only ciphertext is\n"+
		"written; decrypt with: age -d -i IDENTITY FILE | tar x. The export is audited; with\n"+
		"--request it answers that open access request of the register, which it closes.", stderr)
	agent := fs.String("agent", "", "agent id")
	phone := fs.String("phone", "", "customer phone number, E.164 (+33612345678)")
	rcp := fs.String("recipient", "", "age or SSH public key, or a file holding one (required)")
	out := fs.String("out", "", `encrypted archive to write (required; "-" for stdout)`)
	request := fs.String("request", "", "the open access request of the register this export answers (see requests list)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*agent == "") == (*phone == "") {
		return errors.New("export-subject: give either --agent ID or --phone E164")
	}
	if *rcp == "" || *out == "" {
		return errors.New("export-subject: --recipient and --out are required")
	}
	key, err := recipientArg(*rcp)
	if err != nil {
		return fmt.Errorf("export-subject: %w", err)
	}
	if _, err := privacy.ParseRecipient(key); err != nil {
		return fmt.Errorf("export-subject: %w", err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	subj := store.Subject{AgentID: *agent, CustomerPhone: *phone}
	if *out == "-" {
		sum, err := app.Core().ExportSubject(ctx, core.Local(), subj, key, stdout, *request)
		if err != nil {
			return fmt.Errorf("export-subject: %w", err)
		}
		fmt.Fprintf(stderr, "exported %d calls, %d rows, %d audit entries\n", sum.Calls, sum.Rows, sum.AuditEntries)
		return nil
	}
	var sum privacy.Summary
	err = writeAside(*out, func(w io.Writer) (err error) {
		sum, err = app.Core().ExportSubject(ctx, core.Local(), subj, key, w, *request)
		return err
	})
	if err != nil {
		return fmt.Errorf("export-subject: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d calls (%d bytes of audio), %d rows, %d audit entries, encrypted to %s\n",
		*out, sum.Calls, sum.AudioBytes, sum.Rows, sum.AuditEntries, strings.Fields(key)[0])
	return nil
}

// writeAside writes an export next to out and renames it into place, so a
// failed export leaves no partial file.
func writeAside(out string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(out), ".export-*.age")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	return err
}

func cmdAuthorizedPersons(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("authorized-persons", "authorized-persons --recipient KEY --out FILE\n\n"+
		"Exports the nominative register of who may access what (R8): every account, its role,\n"+
		"teams, the calls it reaches and the fields it sees, as CSV encrypted with age to KEY (an\n"+
		"age public key age1…, an SSH public key, or a file holding one). The export is audited.", stderr)
	rcp := fs.String("recipient", "", "age or SSH public key, or a file holding one (required)")
	out := fs.String("out", "", "encrypted CSV to write (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *rcp == "" || *out == "" {
		return errors.New("authorized-persons: --recipient and --out are required")
	}
	key, err := recipientArg(*rcp)
	if err != nil {
		return fmt.Errorf("authorized-persons: %w", err)
	}
	if _, err := privacy.ParseRecipient(key); err != nil {
		return fmt.Errorf("authorized-persons: %w", err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	persons, csv, err := app.Core().AuthorizedPersons(ctx, core.Local(), key)
	if err != nil {
		return fmt.Errorf("authorized-persons: %w", err)
	}
	if err := writeAside(*out, func(w io.Writer) error { _, err := w.Write(csv); return err }); err != nil {
		return fmt.Errorf("authorized-persons: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d persons, encrypted to %s\n", *out, len(persons), strings.Fields(key)[0])
	return nil
}

func cmdEraseSubject(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("erase-subject", "erase-subject --phone E164 --reason TEXT [--request ID]\n\n"+
		"Deletes every recording of the customer with this phone number (objection, R7): the\n"+
		"audio files, the call rows and the rows tied to them (evaluations…). The reason is kept,\n"+
		"sealed, as the outcome of the request of the register it closes: --request names an open\n"+
		"objection or erasure request; without it, one received now is recorded and closed.\n"+
		"Audited (the trail names the request).", stderr)
	phone := fs.String("phone", "", "customer phone number, E.164 (required)")
	reason := fs.String("reason", "", "why, e.g. the reference of the objection letter (required)")
	request := fs.String("request", "", "the open objection or erasure request of the register this erasure answers")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *phone == "" || strings.TrimSpace(*reason) == "" {
		return errors.New("erase-subject: --phone E164 and --reason TEXT are required")
	}
	if err := privacy.CheckPhone(*phone); err != nil {
		return fmt.Errorf("erase-subject: %w", err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	r, err := app.Core().EraseSubject(ctx, core.Local(), *phone, *reason, *request)
	if err != nil {
		return fmt.Errorf("erase-subject: %w", err)
	}
	fmt.Fprintf(stdout, "erased %d recordings and %d related rows; request %s of the register closed\n",
		r.Calls, r.Related, r.Request)
	return nil
}
