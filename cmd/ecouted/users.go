package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/policy"
)

const userUsage = `usage: ecouted [--data DIR] user <add|disable|enable|reset-password|list|locks> [flags]`

// cmdUser runs the account commands on the local data directory.
func cmdUser(data string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`unknown user command: use "ecouted user add|disable|enable|reset-password|list|locks"`)
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(data, args[1:], stdin, stdout, stderr)
	case "disable", "enable":
		return cmdUserDisable(data, args[0], args[1:], stderr)
	case "reset-password":
		return cmdUserReset(data, args[1:], stdout, stderr)
	case "list":
		return cmdUserList(data, args[1:], stdout, stderr)
	case "locks":
		return cmdUserLocks(data, args[1:], stdout, stderr)
	case "company":
		return cmdUserCompany(data, args[1:], stderr)
	}
	return fmt.Errorf("unknown user command %q: use \"ecouted user add|disable|enable|reset-password|list|locks\"", args[0])
}

func cmdUserAdd(data string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", `user add --login LOGIN --first FIRST --last LAST --role ROLE [--team TEAM]... [--agent AGENT]`+"\n\n"+
		"Creates a named account. The password is read from stdin (one line) when piped, otherwise\n"+
		"a random one is generated and printed once. Either way it is one-time: the user must choose\n"+
		"a new one at first login. Passwords: 12 characters at least, hard to guess, without the\n"+
		"login or the name. Roles: "+strings.Join(policy.Roles, ", ")+".\n"+
		"A supervisor or trainer needs --team; an agent needs --agent.", stderr)
	login := fs.String("login", "", "login (required, unique)")
	first := fs.String("first", "", "first name (required)")
	last := fs.String("last", "", "last name (required)")
	name := fs.String("name", "", `full name "First Last", instead of --first and --last`)
	role := fs.String("role", "", "role (required)")
	agent := fs.String("agent", "", "agent id an agent account is linked to")
	var teams listFlag
	fs.Var(&teams, "team", "team id (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name != "" && *first == "" && *last == "" {
		*first, *last = auth.SplitName(*name)
	}
	if *login == "" || *first == "" || *last == "" || *role == "" {
		return errors.New("user add: --login, --first and --last (or --name \"First Last\") and --role are required")
	}
	pw, _, err := readPassword(stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	_, generated, err := app.Core().CreateUser(ctx, core.Local(), core.NewAccount{Login: *login, FirstName: *first,
		LastName: *last, Role: *role, Password: pw, TeamIDs: teams, AgentID: *agent})
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(stderr, "user %s (%s) created; the password must be changed at first login\n", safe(*login), safe(*role))
	if generated != "" {
		fmt.Fprintf(stdout, "one-time password (shown once): %s\n", generated)
	}
	return nil
}

func cmdUserDisable(data, verb string, args []string, stderr io.Writer) error {
	fs := newFlags("user "+verb, "user "+verb+" LOGIN\n\n"+
		"disable: the account can no longer log in and its sessions end at once.\n"+
		"enable: the account can log in again.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("user %s: give exactly one LOGIN", verb)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Core().UserByLogin(ctx, fs.Arg(0))
	if err == nil {
		_, err = app.Core().SetDisabled(ctx, core.Local(), u.ID, verb == "disable")
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	fmt.Fprintf(stderr, "user %s %sd\n", safe(fs.Arg(0)), verb)
	return nil
}

func cmdUserReset(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user reset-password", "user reset-password LOGIN\n\n"+
		"Gives the account a random one-time password, printed once, and ends its sessions. On the\n"+
		"command line the operator of the data directory gets it whole; over the API an\n"+
		"administrator gets half of it, and the second person who approves the reset the other half.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("user reset-password: give exactly one LOGIN")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Core().UserByLogin(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("user reset-password: %w", err)
	}
	r, err := app.Core().ResetPassword(ctx, core.Local(), u.ID)
	if err != nil {
		return fmt.Errorf("user reset-password: %w", err)
	}
	fmt.Fprintf(stdout, "one-time password for %s (shown once): %s\n", safe(fs.Arg(0)), r.Password)
	return nil
}

func cmdUserList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user list", "user list\n\nLists the accounts: login, name, role, teams or agent, state.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	us, err := app.Core().ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tLINKED TO\tSTATE")
	for _, u := range us {
		link := strings.Join(u.TeamIDs, ",")
		if u.AgentID != "" {
			link = u.AgentID
		}
		var state []string
		if u.Disabled {
			state = append(state, "disabled")
		}
		if u.PasswordChangeRequired {
			state = append(state, "must change password")
		}
		if u.PendingGrant != "" {
			state = append(state, "awaiting approval (grant "+u.PendingGrant+")")
		}
		if len(state) == 0 {
			state = append(state, "active")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safe(u.Login), safe(u.DisplayName), safe(u.Role), orDash(safe(link)),
			strings.Join(state, ", "))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// periodLayouts are the accepted --from/--to forms; a date alone is 00:00
// UTC of that day. Day first or month first is never guessed (R14).
var periodLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"}

func parseWhen(flagName, v string) (time.Time, error) {
	for _, l := range periodLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q: use YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or RFC 3339", flagName, v)
}

func cmdPeriod(data string, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New(`unknown period command: use "ecouted period add --team TEAM --from DATE --to DATE"`)
	}
	fs := newFlags("period add", "period add --team TEAM --from WHEN --to WHEN [--informed-on WHEN] [--note TEXT]\n\n"+
		"Declares a recording period [from, to) for a team (R6): uploads of the team's calls outside\n"+
		"every declared period are refused, and the team's agents see the current and next periods.\n"+
		"Agents are told in advance: a period starts at least 24 hours after they were told, which is\n"+
		"now unless --informed-on says they were told earlier (a letter, a meeting; at most 90 days ago).\n"+
		"WHEN is YYYY-MM-DD (00:00 UTC), YYYY-MM-DDTHH:MM (UTC) or RFC 3339.", stderr)
	team := fs.String("team", "", "team id (required)")
	from := fs.String("from", "", "start, included (required)")
	to := fs.String("to", "", "end, excluded (required)")
	note := fs.String("note", "", "what the period is for")
	informedOn := fs.String("informed-on", "", "when the agents were told (default: now)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *team == "" || *from == "" || *to == "" {
		return errors.New("period add: --team, --from and --to are required")
	}
	start, err := parseWhen("from", *from)
	if err != nil {
		return err
	}
	end, err := parseWhen("to", *to)
	if err != nil {
		return err
	}
	var informed time.Time
	if *informedOn != "" {
		if informed, err = parseWhen("informed-on", *informedOn); err != nil {
			return err
		}
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := app.Core().AddRecordingPeriod(ctx, core.Local(), *team, start, end, *note, informed)
	if err != nil {
		return fmt.Errorf("period add: %w", err)
	}
	fmt.Fprintf(stderr, "recording period %s for %s: %s → %s\n", p.ID, safe(p.TeamID),
		p.StartsAt.Format(time.RFC3339), p.EndsAt.Format(time.RFC3339))
	return nil
}
