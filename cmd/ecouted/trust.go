package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/termsafe"
)

// safe escapes what a listing prints that someone else typed (logins,
// names, ids, notes): control characters would rewrite the operator's
// terminal.
func safe(s string) string { return termsafe.Escape(s) }

const requestsUsage = `usage: ecouted [--data DIR] requests <add|list|close> [flags]`

// cmdRequests is the dpo's register of the requests of the people
// concerned (R7).
func cmdRequests(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`unknown requests command: use "ecouted requests add|list|close"`)
	}
	switch args[0] {
	case "add":
		return cmdRequestsAdd(data, args[1:], stdout, stderr)
	case "list":
		return cmdRequestsList(data, args[1:], stdout, stderr)
	case "close":
		return cmdRequestsClose(data, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown requests command %q: use \"ecouted requests add|list|close\"", args[0])
}

func cmdRequestsAdd(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("requests add", "requests add --kind KIND --received WHEN --channel CHANNEL (--phone E164 | --agent ID)\n"+
		"             [--identity TEXT] [--requester NAME] [--note TEXT]\n\n"+
		"Records a request of a person concerned (R7) in the register, due one calendar month after\n"+
		"its receipt. KIND: "+strings.Join(store.RequestKinds, ", ")+". CHANNEL: "+strings.Join(store.RequestChannels, ", ")+".\n"+
		"An e-mail request needs --identity (how the requester's identity was checked). WHEN is\n"+
		"YYYY-MM-DD (00:00 UTC), YYYY-MM-DDTHH:MM (UTC) or RFC 3339. Prints the request's id.", stderr)
	kind := fs.String("kind", "", "access, rectification, objection or erasure (required)")
	received := fs.String("received", "", "when the request was received (required)")
	channel := fs.String("channel", "", "how it came (required)")
	phone := fs.String("phone", "", "the customer concerned, E.164")
	agent := fs.String("agent", "", "the agent concerned")
	identity := fs.String("identity", "", "how the identity was checked (required for email)")
	requester := fs.String("requester", "", "who asked")
	note := fs.String("note", "", "free note")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *kind == "" || *received == "" || *channel == "" {
		return errors.New("requests add: --kind, --received and --channel are required")
	}
	at, err := parseWhen("received", *received)
	if err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	r, err := app.Core().RecordPrivacyRequest(ctx, core.Local(), core.NewPrivacyRequest{Kind: *kind, ReceivedAt: at,
		Channel: *channel, IdentityCheck: *identity, Subject: store.Subject{AgentID: *agent, CustomerPhone: *phone},
		Requester: *requester, Note: *note})
	if err != nil {
		return fmt.Errorf("requests add: %w", err)
	}
	fmt.Fprintf(stdout, "request %s recorded: %s, due %s (%s)\n", r.ID, r.Kind, r.DueAt.Format(time.DateOnly), daysLeft(r))
	return nil
}

// daysLeft says how long an open request has until it is due.
func daysLeft(r core.PrivacyRequest) string {
	switch {
	case r.Status != store.RequestOpen:
		return "closed " + r.ClosedAt.Format(time.DateOnly)
	case r.Overdue:
		return fmt.Sprintf("OVERDUE by %d days", -r.DaysLeft)
	case r.DaysLeft == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", r.DaysLeft)
}

func cmdRequestsList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("requests list", "requests list [--all]\n\n"+
		"Lists the open requests of the register, soonest due first, with the days left (overdue\n"+
		"ones say so); --all adds the closed ones with their outcome.", stderr)
	all := fs.Bool("all", false, "closed requests too")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	rs, err := app.Core().ListPrivacyRequests(ctx, *all)
	if err != nil {
		return fmt.Errorf("requests list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tRECEIVED\tCHANNEL\tSUBJECT\tREQUESTER\tDUE\tSTATE\tOUTCOME")
	for _, r := range rs {
		subject := "agent " + r.Subject.AgentID
		if r.Subject.CustomerPhone != "" {
			subject = "customer " + r.Subject.CustomerPhone
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.ReceivedAt.Format(time.DateOnly), r.Channel,
			safe(subject), orDash(safe(r.Requester)), r.DueAt.Format(time.DateOnly), daysLeft(r), orDash(safe(r.Outcome)))
	}
	return tw.Flush()
}

func cmdRequestsClose(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("requests close", "requests close ID --outcome TEXT\n\n"+
		"Closes an open request of the register with what was done (a rectification made, a\n"+
		"request refused and why). Exports and erasures close theirs themselves (--request).", stderr)
	outcome := fs.String("outcome", "", "what was done (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("requests close: give exactly one request ID")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	r, err := app.Core().ClosePrivacyRequest(ctx, core.Local(), fs.Arg(0), *outcome)
	if err != nil {
		return fmt.Errorf("requests close: %w", err)
	}
	fmt.Fprintf(stdout, "request %s closed\n", r.ID)
	return nil
}

// cmdGrant lists and decides the grant requests of the four-eyes rule.
func cmdGrant(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`unknown grant command: use "ecouted grant list|approve|refuse"`)
	}
	verb := args[0]
	fs := newFlags("grant "+verb, "grant list [--all] | grant approve ID | grant refuse ID\n\n"+
		"The privileged grants asked over the API (an account that hears calls or reads personal\n"+
		"data, teams added, a password reset) wait for a second person. approve applies one (for a\n"+
		"reset it prints the second half of the one-time password, once); refuse drops it. Nobody\n"+
		"decides a request they made, or one about their own account.", stderr)
	all := fs.Bool("all", false, "list decided and expired requests too")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	switch verb {
	case "list":
		if fs.NArg() != 0 {
			return fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		app, err := open(ctx, data, nil, nil)
		if err != nil {
			return err
		}
		defer app.Close()
		gs, err := app.Core().ListGrants(ctx, *all)
		if err != nil {
			return fmt.Errorf("grant list: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tLOGIN\tROLE\tTEAMS\tASKED BY\tASKED\tSTATE")
		for _, g := range gs {
			state := g.Status
			if g.Status == store.GrantPending {
				state += " until " + g.ExpiresAt.UTC().Format("2006-01-02 15:04")
			} else if g.DecidedLogin != "" {
				state += " by " + safe(g.DecidedLogin)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Kind, safe(g.Login), g.Role,
				orDash(safe(strings.Join(g.TeamIDs, ","))), safe(g.RequestedByLogin),
				g.RequestedAt.UTC().Format("2006-01-02 15:04"), state)
		}
		return tw.Flush()
	case "approve", "refuse":
		if fs.NArg() != 1 {
			return fmt.Errorf("grant %s: give exactly one grant ID", verb)
		}
		app, err := open(ctx, data, nil, nil)
		if err != nil {
			return err
		}
		defer app.Close()
		if verb == "refuse" {
			g, err := app.Core().RefuseGrant(ctx, core.Local(), fs.Arg(0))
			if err != nil {
				return fmt.Errorf("grant refuse: %w", err)
			}
			fmt.Fprintf(stdout, "grant %s refused (%s of %s)\n", g.ID, g.Kind, safe(g.Login))
			return nil
		}
		g, second, err := app.Core().ApproveGrant(ctx, core.Local(), fs.Arg(0))
		if err != nil {
			return fmt.Errorf("grant approve: %w", err)
		}
		fmt.Fprintf(stdout, "grant %s approved (%s of %s)\n", g.ID, g.Kind, safe(g.Login))
		if second != "" {
			fmt.Fprintf(stdout, "second half of the one-time password for %s (shown once): %s\n", safe(g.Login), second)
		}
		return nil
	}
	return fmt.Errorf("unknown grant command %q: use \"ecouted grant list|approve|refuse\"", verb)
}

// cmdUserLocks lists the login and source pairs throttled now.
func cmdUserLocks(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user locks", "user locks\n\n"+
		"Lists the logins throttled from a source address after repeated failures, with the number\n"+
		"of failures and when the lock ends. The owner of a login is never locked out from another\n"+
		"address. Every lock is also in the audit trail (auth.login.throttled).", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	ls, err := app.Core().LoginLocks(ctx)
	if err != nil {
		return fmt.Errorf("user locks: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN TRIED\tFROM\tFAILURES\tLOCKED UNTIL")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", safe(l.Login), safe(l.Source), l.Failures, l.LockedUntil.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
