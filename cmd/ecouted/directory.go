package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/directory"
)

// withApp opens the data directory, runs f with the front door and closes.
func withApp(data string, f func(ctx context.Context, b *core.Backend) error) error {
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	return f(ctx, app.Core())
}

// subcommand is one verb of a command: its synopsis and what it runs.
type subcommand struct {
	synopsis string
	run      func(data string, args []string, stdout, stderr io.Writer) error
}

func dispatch(cmd, data string, args []string, stdout, stderr io.Writer, subs map[string]subcommand, order []string) error {
	use := fmt.Sprintf("use \"ecouted %s %s\"", cmd, joinOr(order))
	if len(args) == 0 {
		return fmt.Errorf("unknown %s command: %s", cmd, use)
	}
	s, ok := subs[args[0]]
	if !ok {
		return fmt.Errorf("unknown %s command %q: %s", cmd, args[0], use)
	}
	return s.run(data, args[1:], stdout, stderr)
}

func joinOr(verbs []string) string {
	out := ""
	for i, v := range verbs {
		if i > 0 {
			out += "|"
		}
		out += v
	}
	return out
}

func state(ended time.Time, erased bool) string {
	switch {
	case ended.IsZero():
		return "active"
	case erased:
		return "ended " + ended.UTC().Format(time.DateOnly) + ", name erased (R4)"
	}
	return "ended " + ended.UTC().Format(time.DateOnly)
}

func need(cmd string, vals map[string]string) error {
	for _, f := range []string{"id", "name", "team"} {
		if v, asked := vals[f]; asked && v == "" {
			return fmt.Errorf("%s: --%s is required", cmd, f)
		}
	}
	return nil
}

var agentOrder = []string{"add", "rename", "move", "end", "list"}

func cmdAgent(data string, args []string, stdout, stderr io.Writer) error {
	return dispatch("agent", data, args, stdout, stderr, map[string]subcommand{
		"add": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("agent add", "agent add --id ID --name NAME --team TEAM\n\n"+
				"Adds an agent whose calls may be recorded to an active team. ID is the one the telephony side\n"+
				"sends in uploads (metadata.agent_id), e.g. the PBX's agent or extension number.", stderr)
			id := fs.String("id", "", "agent id (required)")
			name := fs.String("name", "", "the agent's name (required)")
			team := fs.String("team", "", "team id (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("agent add", map[string]string{"id": *id, "name": *name, "team": *team}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.CreateAgent(ctx, core.Local(), *id, *name, *team); err != nil {
					return fmt.Errorf("agent add: %w", err)
				}
				fmt.Fprintf(stderr, "agent %s added to team %s\n", safe(*id), safe(*team))
				return nil
			})
		}},
		"rename": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("agent rename", "agent rename --id ID --name NAME\n\n"+
				"Changes an active agent's name (shown on their recordings and evaluations).", stderr)
			id := fs.String("id", "", "agent id (required)")
			name := fs.String("name", "", "the new name (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("agent rename", map[string]string{"id": *id, "name": *name}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.RenameAgent(ctx, core.Local(), *id, *name); err != nil {
					return fmt.Errorf("agent rename: %w", err)
				}
				fmt.Fprintf(stderr, "agent %s renamed\n", safe(*id))
				return nil
			})
		}},
		"move": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("agent move", "agent move --id ID --team TEAM\n\n"+
				"Puts an active agent in another active team; recordings already stored keep their team.", stderr)
			id := fs.String("id", "", "agent id (required)")
			team := fs.String("team", "", "the new team (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("agent move", map[string]string{"id": *id, "team": *team}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.MoveAgent(ctx, core.Local(), *id, *team); err != nil {
					return fmt.Errorf("agent move: %w", err)
				}
				fmt.Fprintf(stderr, "agent %s moved to team %s\n", safe(*id), safe(*team))
				return nil
			})
		}},
		"end": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("agent end", "agent end --id ID\n\n"+
				"Records that the agent left their recorded position: recordings started later are refused,\n"+
				"the accounts linked to the agent are disabled. Their recordings stay until their own\n"+
				"retention; their name is replaced by a pseudonym by the purge once no recording or\n"+
				"evaluation collected within the last year names them (R4). An ended agent's id is not reused.", stderr)
			id := fs.String("id", "", "agent id (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("agent end", map[string]string{"id": *id}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				e, err := b.EndAgent(ctx, core.Local(), *id)
				if err != nil {
					return fmt.Errorf("agent end: %w", err)
				}
				fmt.Fprintf(stderr, "agent %s ended; %d account(s) disabled\n", safe(*id), e.AccountsDisabled)
				return nil
			})
		}},
		"list": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("agent list", "agent list [--team TEAM] [--all]\n\nLists the agents: id, name, team, state.", stderr)
			team := fs.String("team", "", "only this team's agents")
			all := fs.Bool("all", false, "include the ended agents")
			if err := parse(fs, args); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				as, err := b.ListAgents(ctx, core.Local(), *team, *all)
				if err != nil {
					return fmt.Errorf("agent list: %w", err)
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tTEAM\tSTATE")
				for _, a := range as {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safe(a.ID), safe(a.Name), safe(a.TeamID), state(a.EndedAt, !a.NameErasedAt.IsZero()))
				}
				return tw.Flush()
			})
		}},
	}, agentOrder)
}

var campaignOrder = []string{"add", "rename", "end", "list"}

func cmdCampaign(data string, args []string, stdout, stderr io.Writer) error {
	return dispatch("campaign", data, args, stdout, stderr, map[string]subcommand{
		"add": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("campaign add", "campaign add --id ID --name NAME [--client CLIENT]\n\n"+
				"Adds a campaign (a client's service the calls belong to; metadata.campaign_id of uploads).", stderr)
			id := fs.String("id", "", "campaign id (required)")
			name := fs.String("name", "", "campaign name (required)")
			client := fs.String("client", "", "the client company")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("campaign add", map[string]string{"id": *id, "name": *name}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.CreateCampaign(ctx, core.Local(), *id, *name, *client); err != nil {
					return fmt.Errorf("campaign add: %w", err)
				}
				fmt.Fprintf(stderr, "campaign %s added\n", safe(*id))
				return nil
			})
		}},
		"rename": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("campaign rename", "campaign rename --id ID --name NAME [--client CLIENT]\n\n"+
				"Changes an active campaign's name, and its client when --client is given.", stderr)
			id := fs.String("id", "", "campaign id (required)")
			name := fs.String("name", "", "the new name (required)")
			client := fs.String("client", "", "the new client (default: unchanged)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("campaign rename", map[string]string{"id": *id, "name": *name}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.RenameCampaign(ctx, core.Local(), *id, *name, *client); err != nil {
					return fmt.Errorf("campaign rename: %w", err)
				}
				fmt.Fprintf(stderr, "campaign %s renamed\n", safe(*id))
				return nil
			})
		}},
		"end": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("campaign end", "campaign end --id ID\n\n"+
				"Ends a campaign: recordings started later are refused; those stored stay until their retention.", stderr)
			id := fs.String("id", "", "campaign id (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("campaign end", map[string]string{"id": *id}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.EndCampaign(ctx, core.Local(), *id); err != nil {
					return fmt.Errorf("campaign end: %w", err)
				}
				fmt.Fprintf(stderr, "campaign %s ended\n", safe(*id))
				return nil
			})
		}},
		"list": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("campaign list", "campaign list [--all]\n\nLists the campaigns: id, name, client, state.", stderr)
			all := fs.Bool("all", false, "include the ended campaigns")
			if err := parse(fs, args); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				ps, err := b.ListCampaigns(ctx, *all)
				if err != nil {
					return fmt.Errorf("campaign list: %w", err)
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tCLIENT\tSTATE")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safe(p.ID), safe(p.Name), safe(orDash(p.ClientName)), state(p.EndedAt, false))
				}
				return tw.Flush()
			})
		}},
	}, campaignOrder)
}

var teamOrder = []string{"add", "rename", "end", "list"}

func cmdTeam(data string, args []string, stdout, stderr io.Writer) error {
	return dispatch("team", data, args, stdout, stderr, map[string]subcommand{
		"add": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("team add", "team add --id ID --name NAME\n\nCreates a team.", stderr)
			id := fs.String("id", "", "team id, e.g. team-energie (required)")
			name := fs.String("name", "", "team name (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.CreateTeam(ctx, core.Local(), *id, *name); err != nil {
					return fmt.Errorf("team add: %w", err)
				}
				fmt.Fprintf(stderr, "team %s created\n", safe(*id))
				return nil
			})
		}},
		"rename": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("team rename", "team rename --id ID --name NAME\n\nChanges an active team's name.", stderr)
			id := fs.String("id", "", "team id (required)")
			name := fs.String("name", "", "the new name (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("team rename", map[string]string{"id": *id, "name": *name}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.RenameTeam(ctx, core.Local(), *id, *name); err != nil {
					return fmt.Errorf("team rename: %w", err)
				}
				fmt.Fprintf(stderr, "team %s renamed\n", safe(*id))
				return nil
			})
		}},
		"end": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("team end", "team end --id ID\n\n"+
				"Ends a team that has no active agent left: recordings started later are refused, no agent joins\n"+
				"it and no recording period is added to it.", stderr)
			id := fs.String("id", "", "team id (required)")
			if err := parse(fs, args); err != nil {
				return err
			}
			if err := need("team end", map[string]string{"id": *id}); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				if _, err := b.EndTeam(ctx, core.Local(), *id); err != nil {
					return fmt.Errorf("team end: %w", err)
				}
				fmt.Fprintf(stderr, "team %s ended\n", safe(*id))
				return nil
			})
		}},
		"list": {run: func(data string, args []string, stdout, stderr io.Writer) error {
			fs := newFlags("team list", "team list\n\nLists the teams: id, name, state.", stderr)
			if err := parse(fs, args); err != nil {
				return err
			}
			return withApp(data, func(ctx context.Context, b *core.Backend) error {
				ts, err := b.ListTeams(ctx)
				if err != nil {
					return fmt.Errorf("team list: %w", err)
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSTATE")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", safe(t.ID), safe(t.Name), state(t.EndedAt, false))
				}
				return tw.Flush()
			})
		}},
	}, teamOrder)
}

const importSynopsis = `directory import [--dry-run] FILE.csv

Brings the directory in line with a CSV export of the PBX or the HR system:
each line's team, agent or campaign is created, renamed, moved (agents) or
ended so that it matches the line; a line that already matches changes
nothing, so importing the same file again changes nothing. Entries the file
does not name are left as they are. Every change is audited, as the agent,
campaign and team commands do. When any line is at fault nothing is changed
and every such line is reported with its number. --dry-run reports what
would change without changing anything.

The first line names the columns, in any order (kind and id required):
  kind,id,name,team,client,status
  team,T-SUPPORT,Support,,,
  campaign,C-BOX,Offre Box,,Orange,
  agent,1001,Marie Curie,T-SUPPORT,,
  agent,1002,Jean Dupont,T-SUPPORT,,ended
kind is team, agent or campaign; status is active (or empty) or ended; team
is for agents, client for campaigns. The separator is ; or , (or a tab), as
the header line has it; a UTF-8 byte order mark is skipped and a file that
is not UTF-8 is read as Windows-1252. French column names are accepted
(type, identifiant, matricule, nom, équipe, statut; actif, terminé).`

func cmdDirectory(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New(`unknown directory command: use "ecouted directory import [--dry-run] FILE.csv"`)
	}
	fs := newFlags("directory import", importSynopsis, stderr)
	dry := fs.Bool("dry-run", false, "report what would change, change nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("directory import: give exactly one FILE.csv")
	}
	name := fs.Arg(0)
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	defer fh.Close()
	file, err := directory.Parse(fh)
	if err != nil {
		return fmt.Errorf("directory import: %s: %w", name, err)
	}
	if file.Windows1252 {
		fmt.Fprintf(stderr, "%s is not UTF-8: read as Windows-1252\n", safe(name))
	}
	return withApp(data, func(ctx context.Context, b *core.Backend) error {
		rep, err := b.ImportDirectory(ctx, core.Local(), file, *dry)
		if err != nil && len(rep.Errors) > 0 {
			return fmt.Errorf("directory import: %s: %w", name, err)
		}
		printImport(stdout, rep)
		switch {
		case err != nil:
			return fmt.Errorf("directory import: %w", err)
		case *dry:
			fmt.Fprintf(stdout, "dry run: %d change(s) would be made; nothing was changed\n", rep.Changes)
		default:
			fmt.Fprintf(stdout, "%d change(s) made\n", rep.Applied)
		}
		return nil
	})
}

func printImport(w io.Writer, rep core.ImportReport) {
	fmt.Fprintf(w, "%-10s %8s %8s %6s %6s %10s\n", "", "created", "renamed", "moved", "ended", "unchanged")
	row := func(kind string, n core.ImportCounts, moves bool) {
		moved := "-"
		if moves {
			moved = fmt.Sprint(n.Moved)
		}
		fmt.Fprintf(w, "%-10s %8d %8d %6s %6d %10d\n", kind, n.Created, n.Renamed, moved, n.Ended, n.Unchanged)
	}
	row("teams", rep.Teams, false)
	row("agents", rep.Agents, true)
	row("campaigns", rep.Campaigns, false)
}
