package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/core"
)

func cmdAudit(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`audit: use "ecouted audit verify" or "ecouted audit list"`)
	}
	switch args[0] {
	case "verify":
		return cmdAuditVerify(data, args[1:], stdout, stderr)
	case "list":
		return cmdAuditList(data, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown audit command %q (verify, list)", args[0])
}

// errChainBroken makes the exit status non-zero once the report is printed.
var errChainBroken = errors.New("audit trail damaged")

func cmdAuditVerify(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", "audit verify\n\n"+
		"Walks the audit trail from the first entry (or from the signed checkpoint left by the\n"+
		"last purge) and checks every hash link and the signed head. Prints the result; exits\n"+
		"non-zero naming the first entry that was edited, deleted or reordered.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	// The check itself is recorded, after the walk so it does not count.
	rep, err := app.Core().VerifyAudit(ctx, core.Local())
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "FAILED: %s\n", safe(rep.String()))
		return fmt.Errorf("%w: first bad entry is seq %d (%s)", errChainBroken, rep.BadSeq, rep.Reason)
	}
	fmt.Fprintf(stdout, "OK: %s\n", safe(rep.String()))
	return nil
}

func cmdAuditList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit list", "audit list [--user LOGIN] [--action ACTION] [--since RFC3339] [--until RFC3339] [--limit N]\n\n"+
		"Prints audit entries, newest first, one per line. ACTION ending in \".\" is a prefix\n"+
		"(\"auth.\" lists logins and logouts). Reading the trail is itself recorded (audit.list).", stderr)
	login := fs.String("user", "", "login of the actor")
	action := fs.String("action", "", "action, or action prefix ending in \".\"")
	since := fs.String("since", "", "oldest time, RFC 3339 (2026-03-01T00:00:00Z)")
	until := fs.String("until", "", "time before which entries are listed, RFC 3339")
	limit := fs.Int("limit", 100, "at most this many entries")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit <= 0 {
		return errors.New("audit list: --limit must be positive")
	}
	q := core.AuditListing{UserLogin: *login, Action: *action}
	var err error
	if *since != "" {
		if q.Since, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("audit list: --since: %w", err)
		}
	}
	if *until != "" {
		if q.Until, err = time.Parse(time.RFC3339, *until); err != nil {
			return fmt.Errorf("audit list: --until: %w", err)
		}
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	// Page by page, as over gRPC; each page read is recorded.
	var links []audit.Link
	for len(links) < *limit {
		q.PageSize = min(*limit-len(links), core.MaxAuditPage)
		page, err := app.Core().ListAudit(ctx, core.Local(), q)
		if err != nil {
			return fmt.Errorf("audit list: %w", err)
		}
		links = append(links, page.Links...)
		if q.PageToken = page.NextPageToken; q.PageToken == "" {
			break
		}
	}
	for _, l := range links {
		// Escaped again: entries recorded before the trail escaped them
		// may hold what an attacker typed as a login.
		var det []string
		for k, v := range l.Details {
			det = append(det, safe(k)+"="+safe(v))
		}
		fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Seq, l.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			safe(l.Actor.Login), safe(l.Actor.Role), safe(l.Source), safe(l.Action), safe(l.Target),
			strings.Join(sortedStrings(det), " "))
	}
	return nil
}
