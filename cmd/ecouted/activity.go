package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ecoute/ecoute/backend/core"
)

const activitySynopsis = `activity import [--dry-run] FILE.csv

Imports the telephony side's activity figures (R5): one row per agent, campaign,
activity type and interval, with the header

  ` + "agent_id,campaign_id,activity_type,started_at,ended_at,calls_handled,calls_lost,talk_seconds,back_office_seconds,ring_seconds" + `

Times are RFC 3339 with their offset (2026-03-02T09:00:00Z): a date without its
zone, or written day/month, is refused (R14). An interval covers at most 24 hours;
talk plus back-office time fit in it. The file is checked whole and stored whole:
a bad line is named and nothing is stored. A row sent again (same agent, campaign,
type and start) replaces the stored one. Figures are kept 12 months (R4, like
connection logs); older rows are refused.`

func cmdActivity(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New(`unknown activity command: use "ecouted activity import FILE.csv"`)
	}
	fs := newFlags("activity import", activitySynopsis, stderr)
	dry := fs.Bool("dry-run", false, "check the file and say what would be stored, store nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("activity import: give one FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("activity import: %w", err)
	}
	defer f.Close()
	rows, err := core.ParseActivityCSV(f)
	if err != nil {
		return fmt.Errorf("activity import %s: %w", fs.Arg(0), err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	if *dry {
		if err := app.Core().CheckActivity(ctx, rows); err != nil {
			return fmt.Errorf("activity import %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "%d intervals would be stored (dry run: nothing stored)\n", len(rows))
		return nil
	}
	n, err := app.Core().ImportActivity(ctx, core.Local(), rows, "line", 2)
	if err != nil {
		return fmt.Errorf("activity import %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "%d intervals stored\n", n)
	return nil
}

func cmdUserCompany(data string, args []string, stderr io.Writer) error {
	fs := newFlags("user company", "user company LOGIN COMPANY\n\n"+
		"Links a client account to its company: the client_name of the company's campaigns\n"+
		"(ecouted campaign list). The account then reads that company's monthly tables and\n"+
		"nothing of any other company. An empty COMPANY (\"\") unlinks it.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("user company: give LOGIN and COMPANY")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	login, company := fs.Arg(0), strings.TrimSpace(fs.Arg(1))
	if err := app.Core().LinkClientCompany(ctx, core.Local(), login, company); err != nil {
		return fmt.Errorf("user company: %w", err)
	}
	if company == "" {
		fmt.Fprintf(stderr, "%s is linked to no company\n", login)
	} else {
		fmt.Fprintf(stderr, "%s reads the tables of %s\n", login, company)
	}
	return nil
}
