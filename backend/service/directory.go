package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
)

// Directory implements DirectoryService: agents, campaigns, and the
// renaming and ending of teams. The guard has already checked the
// caller's role; core decides the rest.
type Directory struct {
	ecoutev1.UnimplementedDirectoryServiceServer
	Core *core.Backend
}

// AgentOf converts an agent.
func AgentOf(a store.Agent) *ecoutev1.Agent {
	return &ecoutev1.Agent{AgentId: a.ID, Name: a.Name, TeamId: a.TeamID, CreatedAt: ts(a.CreatedAt),
		EndedAt: ts(a.EndedAt), NameErased: !a.NameErasedAt.IsZero()}
}

// CampaignOf converts a campaign.
func CampaignOf(p store.Campaign) *ecoutev1.Campaign {
	return &ecoutev1.Campaign{CampaignId: p.ID, Name: p.Name, ClientName: p.ClientName, CreatedAt: ts(p.CreatedAt),
		EndedAt: ts(p.EndedAt)}
}

// ListAgents lists the agents the caller reaches.
func (s *Directory) ListAgents(ctx context.Context, req *ecoutev1.ListAgentsRequest) (*ecoutev1.ListAgentsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]store.Agent, error) {
		return s.Core.ListAgents(ctx, c, req.GetTeamId(), req.GetIncludeEnded())
	}, func(as []store.Agent) *ecoutev1.ListAgentsResponse {
		return &ecoutev1.ListAgentsResponse{Agents: each(as, AgentOf)}
	})
}

// CreateAgent adds an agent.
func (s *Directory) CreateAgent(ctx context.Context, req *ecoutev1.CreateAgentRequest) (*ecoutev1.CreateAgentResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Agent, error) {
		return s.Core.CreateAgent(ctx, c, req.GetAgentId(), req.GetName(), req.GetTeamId())
	}, func(a store.Agent) *ecoutev1.CreateAgentResponse {
		return &ecoutev1.CreateAgentResponse{Agent: AgentOf(a)}
	})
}

// RenameAgent changes an agent's name.
func (s *Directory) RenameAgent(ctx context.Context, req *ecoutev1.RenameAgentRequest) (*ecoutev1.RenameAgentResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Agent, error) {
		return s.Core.RenameAgent(ctx, c, req.GetAgentId(), req.GetName())
	}, func(a store.Agent) *ecoutev1.RenameAgentResponse {
		return &ecoutev1.RenameAgentResponse{Agent: AgentOf(a)}
	})
}

// MoveAgent puts an agent in another team.
func (s *Directory) MoveAgent(ctx context.Context, req *ecoutev1.MoveAgentRequest) (*ecoutev1.MoveAgentResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Agent, error) {
		return s.Core.MoveAgent(ctx, c, req.GetAgentId(), req.GetTeamId())
	}, func(a store.Agent) *ecoutev1.MoveAgentResponse { return &ecoutev1.MoveAgentResponse{Agent: AgentOf(a)} })
}

// EndAgent ends an agent.
func (s *Directory) EndAgent(ctx context.Context, req *ecoutev1.EndAgentRequest) (*ecoutev1.EndAgentResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EndedAgent, error) {
		return s.Core.EndAgent(ctx, c, req.GetAgentId())
	}, func(e core.EndedAgent) *ecoutev1.EndAgentResponse {
		return &ecoutev1.EndAgentResponse{Agent: AgentOf(e.Agent), AccountsDisabled: int32(e.AccountsDisabled)}
	})
}

// ListCampaigns lists the campaigns.
func (s *Directory) ListCampaigns(ctx context.Context, req *ecoutev1.ListCampaignsRequest) (*ecoutev1.ListCampaignsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.Campaign, error) {
		return s.Core.ListCampaigns(ctx, req.GetIncludeEnded())
	}, func(ps []store.Campaign) *ecoutev1.ListCampaignsResponse {
		return &ecoutev1.ListCampaignsResponse{Campaigns: each(ps, CampaignOf)}
	})
}

// CreateCampaign adds a campaign.
func (s *Directory) CreateCampaign(ctx context.Context, req *ecoutev1.CreateCampaignRequest) (*ecoutev1.CreateCampaignResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Campaign, error) {
		return s.Core.CreateCampaign(ctx, c, req.GetCampaignId(), req.GetName(), req.GetClientName())
	}, func(p store.Campaign) *ecoutev1.CreateCampaignResponse {
		return &ecoutev1.CreateCampaignResponse{Campaign: CampaignOf(p)}
	})
}

// RenameCampaign changes a campaign's name and client.
func (s *Directory) RenameCampaign(ctx context.Context, req *ecoutev1.RenameCampaignRequest) (*ecoutev1.RenameCampaignResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Campaign, error) {
		return s.Core.RenameCampaign(ctx, c, req.GetCampaignId(), req.GetName(), req.GetClientName())
	}, func(p store.Campaign) *ecoutev1.RenameCampaignResponse {
		return &ecoutev1.RenameCampaignResponse{Campaign: CampaignOf(p)}
	})
}

// EndCampaign ends a campaign.
func (s *Directory) EndCampaign(ctx context.Context, req *ecoutev1.EndCampaignRequest) (*ecoutev1.EndCampaignResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Campaign, error) {
		return s.Core.EndCampaign(ctx, c, req.GetCampaignId())
	}, func(p store.Campaign) *ecoutev1.EndCampaignResponse {
		return &ecoutev1.EndCampaignResponse{Campaign: CampaignOf(p)}
	})
}

// RenameTeam changes a team's name.
func (s *Directory) RenameTeam(ctx context.Context, req *ecoutev1.RenameTeamRequest) (*ecoutev1.RenameTeamResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Team, error) {
		return s.Core.RenameTeam(ctx, c, req.GetTeamId(), req.GetName())
	}, func(t store.Team) *ecoutev1.RenameTeamResponse { return &ecoutev1.RenameTeamResponse{Team: teamOf(t)} })
}

// EndTeam ends a team.
func (s *Directory) EndTeam(ctx context.Context, req *ecoutev1.EndTeamRequest) (*ecoutev1.EndTeamResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.Team, error) {
		return s.Core.EndTeam(ctx, c, req.GetTeamId())
	}, func(t store.Team) *ecoutev1.EndTeamResponse { return &ecoutev1.EndTeamResponse{Team: teamOf(t)} })
}
