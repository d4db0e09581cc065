package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
)

// localActor is who runs a maintenance command: the operating-system
// account, since the command line has no Écoute session.
func localActor() audit.Actor {
	login := "ecouted"
	if u, err := user.Current(); err == nil && u.Username != "" {
		login = "ecouted:" + u.Username
	}
	return audit.Actor{Login: login, Role: "system"}
}

// recordLocal writes the audit entry of a change made from the command
// line (R10). The change is already made when it runs, so a failure is
// returned for the operator to see, not to undo anything.
func recordLocal(ctx context.Context, trail audit.Appender, action, target string, details map[string]string) error {
	err := trail.Append(ctx, audit.Entry{Actor: localActor(), Source: "local", Action: action, Target: target, Details: details})
	if err != nil {
		return fmt.Errorf("done, but the audit entry %s could not be written: %w", action, err)
	}
	return nil
}

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
	rep, err := app.Audit().Verify(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	// The check itself is traced, after the walk so it does not count.
	if aerr := app.Audit().Append(ctx, audit.Entry{Actor: localActor(), Source: "local", Action: audit.ActionAuditVerify,
		Details: map[string]string{"chain_ok": fmt.Sprint(rep.OK)}}); aerr != nil {
		fmt.Fprintf(stderr, "warning: could not record the verification: %v\n", aerr)
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "FAILED: %s\n", rep)
		return fmt.Errorf("%w: first bad entry is seq %d (%s)", errChainBroken, rep.BadSeq, rep.Reason)
	}
	fmt.Fprintf(stdout, "OK: %s\n", rep)
	return nil
}

func cmdAuditList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit list", "audit list [--user LOGIN] [--action ACTION] [--since RFC3339] [--until RFC3339] [--limit N]\n\n"+
		"Prints audit entries, newest first, one per line. ACTION ending in \".\" is a prefix\n"+
		"(\"auth.\" lists logins and logouts).", stderr)
	login := fs.String("user", "", "login of the actor")
	action := fs.String("action", "", "action, or action prefix ending in \".\"")
	since := fs.String("since", "", "oldest time, RFC 3339 (2026-03-01T00:00:00Z)")
	until := fs.String("until", "", "time before which entries are listed, RFC 3339")
	limit := fs.Int("limit", 100, "at most this many entries")
	if err := parse(fs, args); err != nil {
		return err
	}
	q := audit.Query{ActorLogin: *login, Action: *action, Limit: *limit}
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
	links, err := app.Audit().List(ctx, q)
	if err != nil {
		return fmt.Errorf("audit list: %w", err)
	}
	for _, l := range links {
		var det []string
		for k, v := range l.Details {
			det = append(det, k+"="+v)
		}
		fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Seq, l.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			l.Actor.Login, l.Actor.Role, l.Source, l.Action, l.Target, strings.Join(sortedStrings(det), " "))
	}
	return nil
}
