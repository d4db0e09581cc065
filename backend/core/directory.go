package core

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecoute/ecoute/backend/directory"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the directory. Agents' names are not written in the
// audit trail: the entries name agents by id.
const (
	ActionAgentCreate    = "agent.create"
	ActionAgentRename    = "agent.rename"
	ActionAgentMove      = "agent.move"
	ActionAgentEnd       = "agent.end"
	ActionCampaignCreate = "campaign.create"
	ActionCampaignRename = "campaign.rename"
	ActionCampaignEnd    = "campaign.end"
	ActionTeamRename     = "team.rename"
	ActionTeamEnd        = "team.end"
)

// Kinds of directory entries, as errors and the import name them.
const (
	KindTeam     = directory.KindTeam
	KindAgent    = directory.KindAgent
	KindCampaign = directory.KindCampaign
)

// MaxNameLen bounds a directory name, in characters.
const MaxNameLen = 200

// directoryID is what an id of the directory may hold: a PBX's extension
// or agent number, an HR employee number, a slug.
var directoryID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,63}$`)

// CheckID checks a directory id given in field.
func CheckID(field, id string) error {
	if id == "" {
		return domain.Invalid(field, "is required")
	}
	if !directoryID.MatchString(id) {
		return domain.Invalid(field, "%q is not an id: 1 to 64 letters, digits and . _ : @ / + - , starting with a letter or digit", id)
	}
	return nil
}

// CheckName checks a directory name given in field and returns it trimmed.
func CheckName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", domain.Invalid(field, "is required")
	case !utf8.ValidString(name):
		return "", domain.Invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", domain.Invalid(field, "longer than %d characters", MaxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", domain.Invalid(field, "contains a control character")
	}
	return name, nil
}

// Ended is the refusal to use or change an ended entry of the directory.
func Ended(kind, id string, at time.Time) error {
	return domain.New(domain.ReasonDirectoryEnded, "%s %s was ended on %s", kind, id, at.UTC().Format(time.RFC3339)).
		With(domain.MetaKind, kind).With(domain.MetaEndedAt, at.UTC().Format(time.RFC3339))
}

// directoryError turns the store's errors about the entry id of kind (given
// in field) into typed refusals.
func directoryError(err error, kind, field, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*domain.Error)):
		return err
	case errors.Is(err, store.ErrNotFound):
		return domain.NotFound("%s: no %s %q", field, kind, id)
	case errors.Is(err, store.ErrDuplicate):
		return domain.New(domain.ReasonAlreadyExists, "%s: %q exists", field, id).With(domain.MetaField, field)
	}
	return domain.Internal(kind+" "+id, err)
}

// activeTeam reads a team that may take members; field names it in errors.
func (b *Backend) activeTeam(ctx context.Context, field, id string) (store.Team, error) {
	if err := CheckID(field, id); err != nil {
		return store.Team{}, err
	}
	t, err := b.Store.TeamByID(ctx, id)
	if err != nil {
		return t, directoryError(err, KindTeam, field, id)
	}
	if !t.EndedAt.IsZero() {
		return t, Ended(KindTeam, id, t.EndedAt)
	}
	return t, nil
}

func (b *Backend) agent(ctx context.Context, id string) (store.Agent, error) {
	if err := CheckID("agent_id", id); err != nil {
		return store.Agent{}, err
	}
	a, err := b.Store.AgentByID(ctx, id)
	return a, directoryError(err, KindAgent, "agent_id", id)
}

func (b *Backend) activeAgent(ctx context.Context, id string) (store.Agent, error) {
	a, err := b.agent(ctx, id)
	if err == nil && !a.EndedAt.IsZero() {
		err = Ended(KindAgent, id, a.EndedAt)
	}
	return a, err
}

func (b *Backend) campaign(ctx context.Context, id string) (store.Campaign, error) {
	if err := CheckID("campaign_id", id); err != nil {
		return store.Campaign{}, err
	}
	p, err := b.Store.CampaignByID(ctx, id)
	if err == nil && !p.EndedAt.IsZero() {
		err = Ended(KindCampaign, id, p.EndedAt)
	}
	return p, directoryError(err, KindCampaign, "campaign_id", id)
}

func (b *Backend) team(ctx context.Context, id string) (store.Team, error) {
	if err := CheckID("team_id", id); err != nil {
		return store.Team{}, err
	}
	t, err := b.Store.TeamByID(ctx, id)
	return t, directoryError(err, KindTeam, "team_id", id)
}

// ListAgents lists the agents, by id, of team ("" = every team the caller
// reaches), ended ones only with ended. Supervisors and trainers reach the
// agents of their own teams (another team is NOT_FOUND); the roles that
// manage or audit the directory, and the command line, reach every agent.
func (b *Backend) ListAgents(ctx context.Context, c Caller, team string, ended bool) ([]store.Agent, error) {
	var teams []string // nil: every team
	switch policy.Table[c.User.Role].Rows {
	case policy.RowsOwnTeams, policy.RowsTrainees:
		teams = append([]string{}, c.User.TeamIDs...)
	}
	if team != "" {
		if teams != nil && !slices.Contains(teams, team) {
			return nil, domain.NotFound("team_id: no team %q", team)
		}
		teams = []string{team}
	}
	as, err := b.Store.ListAgents(ctx, teams, ended)
	if err != nil {
		return nil, domain.Internal("list agents", err)
	}
	return as, nil
}

// ListCampaigns lists the campaigns by id, ended ones only with ended.
func (b *Backend) ListCampaigns(ctx context.Context, ended bool) ([]store.Campaign, error) {
	ps, err := b.Store.ListCampaigns(ctx, ended)
	if err != nil {
		return nil, domain.Internal("list campaigns", err)
	}
	return ps, nil
}

func (b *Backend) readAgent(ctx context.Context, r store.Request) (store.Agent, error) {
	return again(b.Store.AgentByID(ctx, r.ObjectID))
}

func (b *Backend) readCampaign(ctx context.Context, r store.Request) (store.Campaign, error) {
	return again(b.Store.CampaignByID(ctx, r.ObjectID))
}

func (b *Backend) readTeam(ctx context.Context, r store.Request) (store.Team, error) {
	return again(b.Store.TeamByID(ctx, r.ObjectID))
}

// CreateAgent adds an agent to an active team.
func (b *Backend) CreateAgent(ctx context.Context, c Caller, id, name, team string) (store.Agent, error) {
	return once(ctx, b, c, "agent.create", ActionAgentCreate,
		func(ctx context.Context) (store.Agent, entry, error) {
			e := entry{target: id, details: map[string]string{"team": team}}
			if err := CheckID("agent_id", id); err != nil {
				return store.Agent{}, e, err
			}
			name, err := CheckName("name", name)
			if err != nil {
				return store.Agent{}, e, err
			}
			if _, err := b.activeTeam(ctx, "team_id", team); err != nil {
				return store.Agent{}, e, err
			}
			a := store.Agent{ID: id, Name: name, TeamID: team, CreatedAt: b.Clock.Now()}
			return a, e, directoryError(b.Store.CreateAgent(ctx, a), KindAgent, "agent_id", id)
		}, b.readAgent)
}

// RenameAgent changes an active agent's name.
func (b *Backend) RenameAgent(ctx context.Context, c Caller, id, name string) (store.Agent, error) {
	return once(ctx, b, c, "agent.rename", ActionAgentRename,
		func(ctx context.Context) (store.Agent, entry, error) {
			e := entry{target: id}
			a, err := b.activeAgent(ctx, id)
			if err != nil {
				return a, e, err
			}
			if a.Name, err = CheckName("name", name); err != nil {
				return a, e, err
			}
			return a, e, directoryError(b.Store.UpdateAgent(ctx, a.ID, a.Name, a.TeamID), KindAgent, "agent_id", id)
		}, b.readAgent)
}

// MoveAgent puts an active agent in another active team.
func (b *Backend) MoveAgent(ctx context.Context, c Caller, id, team string) (store.Agent, error) {
	return once(ctx, b, c, "agent.move", ActionAgentMove,
		func(ctx context.Context) (store.Agent, entry, error) {
			e := entry{target: id, details: map[string]string{"team": team}}
			a, err := b.activeAgent(ctx, id)
			if err != nil {
				return a, e, err
			}
			e.details["from"] = a.TeamID
			if _, err := b.activeTeam(ctx, "team_id", team); err != nil {
				return a, e, err
			}
			a.TeamID = team
			return a, e, directoryError(b.Store.UpdateAgent(ctx, a.ID, a.Name, a.TeamID), KindAgent, "agent_id", id)
		}, b.readAgent)
}

// EndedAgent is an agent just ended, with the number of their accounts
// that were disabled.
type EndedAgent struct {
	Agent            store.Agent
	AccountsDisabled int
}

// EndAgent records that an agent left their recorded position: no
// recording started later is accepted for them and their accounts are
// disabled; their recordings stay until their own retention, and their
// name until the purge erases it (R4, see config.AgentNameCutoff).
func (b *Backend) EndAgent(ctx context.Context, c Caller, id string) (EndedAgent, error) {
	return once(ctx, b, c, "agent.end", ActionAgentEnd,
		func(ctx context.Context) (EndedAgent, entry, error) {
			e := entry{target: id}
			a, err := b.activeAgent(ctx, id)
			if err != nil {
				return EndedAgent{Agent: a}, e, err
			}
			a.EndedAt = b.Clock.Now()
			n, err := b.Store.EndAgent(ctx, id, a.EndedAt)
			e.details = map[string]string{"accounts_disabled": strconv.Itoa(n)}
			return EndedAgent{Agent: a, AccountsDisabled: n}, e, directoryError(err, KindAgent, "agent_id", id)
		},
		func(ctx context.Context, r store.Request) (EndedAgent, error) {
			a, err := b.readAgent(ctx, r)
			return EndedAgent{Agent: a, AccountsDisabled: int(r.Count)}, err
		})
}

// CreateCampaign adds a campaign.
func (b *Backend) CreateCampaign(ctx context.Context, c Caller, id, name, client string) (store.Campaign, error) {
	return once(ctx, b, c, "campaign.create", ActionCampaignCreate,
		func(ctx context.Context) (store.Campaign, entry, error) {
			e := entry{target: id, details: map[string]string{"name": name, "client": client}}
			if err := CheckID("campaign_id", id); err != nil {
				return store.Campaign{}, e, err
			}
			name, err := CheckName("name", name)
			if err != nil {
				return store.Campaign{}, e, err
			}
			if client, err = checkClient(client); err != nil {
				return store.Campaign{}, e, err
			}
			p := store.Campaign{ID: id, Name: name, ClientName: client, CreatedAt: b.Clock.Now()}
			return p, e, directoryError(b.Store.CreateCampaign(ctx, p), KindCampaign, "campaign_id", id)
		}, b.readCampaign)
}

func checkClient(client string) (string, error) {
	if strings.TrimSpace(client) == "" {
		return "", nil
	}
	return CheckName("client_name", client)
}

// RenameCampaign changes an active campaign's name and client ("" keeps
// the client).
func (b *Backend) RenameCampaign(ctx context.Context, c Caller, id, name, client string) (store.Campaign, error) {
	return once(ctx, b, c, "campaign.rename", ActionCampaignRename,
		func(ctx context.Context) (store.Campaign, entry, error) {
			e := entry{target: id, details: map[string]string{"name": name, "client": client}}
			p, err := b.campaign(ctx, id)
			if err != nil {
				return p, e, err
			}
			if p.Name, err = CheckName("name", name); err != nil {
				return p, e, err
			}
			if client, err = checkClient(client); err != nil {
				return p, e, err
			} else if client != "" {
				p.ClientName = client
			}
			return p, e, directoryError(b.Store.UpdateCampaign(ctx, p.ID, p.Name, p.ClientName), KindCampaign, "campaign_id", id)
		}, b.readCampaign)
}

// EndCampaign ends a campaign: no recording started later is accepted for
// it.
func (b *Backend) EndCampaign(ctx context.Context, c Caller, id string) (store.Campaign, error) {
	return once(ctx, b, c, "campaign.end", ActionCampaignEnd,
		func(ctx context.Context) (store.Campaign, entry, error) {
			e := entry{target: id}
			p, err := b.campaign(ctx, id)
			if err != nil {
				return p, e, err
			}
			p.EndedAt = b.Clock.Now()
			return p, e, directoryError(b.Store.EndCampaign(ctx, id, p.EndedAt), KindCampaign, "campaign_id", id)
		}, b.readCampaign)
}

// RenameTeam changes an active team's name.
func (b *Backend) RenameTeam(ctx context.Context, c Caller, id, name string) (store.Team, error) {
	return once(ctx, b, c, "team.rename", ActionTeamRename,
		func(ctx context.Context) (store.Team, entry, error) {
			e := entry{target: id, details: map[string]string{"name": name}}
			t, err := b.activeTeam(ctx, "team_id", id)
			if err != nil {
				return t, e, err
			}
			if t.Name, err = CheckName("name", name); err != nil {
				return t, e, err
			}
			return t, e, directoryError(b.Store.RenameTeam(ctx, id, t.Name), KindTeam, "team_id", id)
		}, b.readTeam)
}

// EndTeam ends a team that has no active agent left.
func (b *Backend) EndTeam(ctx context.Context, c Caller, id string) (store.Team, error) {
	return once(ctx, b, c, "team.end", ActionTeamEnd,
		func(ctx context.Context) (store.Team, entry, error) {
			e := entry{target: id}
			t, err := b.activeTeam(ctx, "team_id", id)
			if err != nil {
				return t, e, err
			}
			t.EndedAt = b.Clock.Now()
			err = b.Store.EndTeam(ctx, id, t.EndedAt)
			if errors.Is(err, store.ErrInUse) {
				as, lerr := b.Store.ListAgents(ctx, []string{id}, false)
				if lerr != nil {
					return t, e, domain.Internal("end team", lerr)
				}
				return t, e, domain.New(domain.ReasonDirectoryInUse,
					"team %s still has %d active agents: end them or move them to another team first", id, len(as)).
					With(domain.MetaAgents, strconv.Itoa(len(as)))
			}
			return t, e, directoryError(err, KindTeam, "team_id", id)
		}, b.readTeam)
}
