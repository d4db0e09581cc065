package service

import (
	"context"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/stats"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Stats implements StatsService; core scopes and audits every read.
type Stats struct {
	ecoutev1.UnimplementedStatsServiceServer
	Core *core.Backend
}

var groupingOf = map[ecoutev1.StatsGrouping]stats.Grouping{
	ecoutev1.StatsGrouping_STATS_GROUPING_UNSPECIFIED: stats.Month,
	ecoutev1.StatsGrouping_STATS_GROUPING_MONTH:       stats.Month,
	ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:        stats.Week,
	ecoutev1.StatsGrouping_STATS_GROUPING_DAY:         stats.Day,
}

func groupingProto(g stats.Grouping) ecoutev1.StatsGrouping {
	switch g {
	case stats.Day:
		return ecoutev1.StatsGrouping_STATS_GROUPING_DAY
	case stats.Week:
		return ecoutev1.StatsGrouping_STATS_GROUPING_WEEK
	}
	return ecoutev1.StatsGrouping_STATS_GROUPING_MONTH
}

// FilterFromProto converts a statistics filter.
func FilterFromProto(f *ecoutev1.StatsFilter) core.StatsFilter {
	return core.StatsFilter{From: timeOf(f.GetFrom()), To: timeOf(f.GetTo()), Teams: f.GetTeamIds(),
		Campaigns: f.GetCampaignIds(), Grids: f.GetGridIds(), Agent: f.GetAgentIds(), Grouping: groupingOf[f.GetGrouping()]}
}

func scoreFigure(f core.ScoreFigure) *ecoutev1.ScoreFigure {
	return &ecoutev1.ScoreFigure{Evaluations: f.Evaluations, MeanScore: f.Mean(), CriticalFailed: f.CriticalFailed}
}

func scoreGroup(g core.ScoreGroup) *ecoutev1.GroupScore {
	return &ecoutev1.GroupScore{Id: g.ID, Name: g.Name, TeamId: g.TeamID, Figure: scoreFigure(g.Figure),
		Series: each(g.Series, scoreFigure)}
}

// QualityStatsOf converts the quality dashboard.
func QualityStatsOf(q core.QualityStats) *ecoutev1.QualityStatsResponse {
	r := &ecoutev1.QualityStatsResponse{Total: scoreFigure(q.Total), Agents: each(q.Agents, scoreGroup),
		Teams: each(q.Teams, scoreGroup), Evaluators: each(q.Evaluators, scoreGroup),
		TeamMeans: each(q.TeamMeans, scoreGroup), Distribution: q.Distribution[:], From: ts(q.Period.From),
		To: ts(q.Period.To), Grouping: groupingProto(q.Period.Grouping)}
	for i, s := range q.Buckets {
		r.Trend = append(r.Trend, &ecoutev1.ScorePoint{Start: ts(s), Figure: scoreFigure(q.Trend[i])})
	}
	for _, c := range q.Criteria {
		r.Criteria = append(r.Criteria, &ecoutev1.CriterionRate{GridId: c.GridID, GridName: c.GridName,
			SectionId: c.SectionID, CriterionId: c.CriterionID, Label: c.Label, Answered: c.Answered, Failed: c.Failed})
	}
	for _, s := range q.Sections {
		r.Sections = append(r.Sections, &ecoutev1.SectionMean{GridId: s.GridID, SectionId: s.SectionID, Title: s.Title,
			Evaluations: s.Evaluations, MeanScore: core.ScoreFigure{Evaluations: s.Evaluations, SumTenths: s.SumTenths}.Mean()})
	}
	return r
}

func ms(v int64) *durationpb.Duration { return durationpb.New(time.Duration(v) * time.Millisecond) }

func activityFigure(f core.ActivityFigure) *ecoutev1.ActivityFigure {
	return &ecoutev1.ActivityFigure{CallsHandled: f.Handled, CallsLost: f.Lost, TalkTime: ms(f.TalkMS),
		BackOfficeTime: ms(f.BackOfficeMS), RingTime: ms(f.RingMS), Intervals: f.Intervals}
}

func activityGroup(g core.ActivityGroup) *ecoutev1.ActivityGroup {
	return &ecoutev1.ActivityGroup{Id: g.ID, Name: g.Name, TeamId: g.TeamID, Figure: activityFigure(g.Figure),
		Series: each(g.Series, activityFigure)}
}

// AgentActivityOf converts the activity dashboard.
func AgentActivityOf(a core.ActivityStats) *ecoutev1.AgentActivityResponse {
	r := &ecoutev1.AgentActivityResponse{Total: activityFigure(a.Total), Agents: each(a.Agents, activityGroup),
		Teams: each(a.Teams, activityGroup), From: ts(a.Period.From), To: ts(a.Period.To),
		Grouping: groupingProto(a.Period.Grouping)}
	for i, s := range a.Buckets {
		r.Trend = append(r.Trend, &ecoutev1.ActivityPoint{Start: ts(s), Figure: activityFigure(a.Trend[i])})
	}
	for _, t := range a.Types {
		r.Types = append(r.Types, &ecoutev1.ActivityTypeTime{ActivityType: t.Type, Time: durationpb.New(t.Time),
			CallsHandled: t.Handled})
	}
	return r
}

var suppressionOf = map[stats.Reason]ecoutev1.Suppression{
	stats.Published:      ecoutev1.Suppression_SUPPRESSION_UNSPECIFIED,
	stats.FewAgents:      ecoutev1.Suppression_SUPPRESSION_FEW_AGENTS,
	stats.FewEvaluations: ecoutev1.Suppression_SUPPRESSION_FEW_EVALUATIONS,
	stats.Dominant:       ecoutev1.Suppression_SUPPRESSION_DOMINANCE,
	stats.Complementary:  ecoutev1.Suppression_SUPPRESSION_COMPLEMENTARY,
}

// ClientTablesOf converts a client table.
func ClientTablesOf(t core.ClientTable) *ecoutev1.ClientTablesResponse {
	r := &ecoutev1.ClientTablesResponse{Company: t.Company, Month: ts(t.Month), Months: each(t.Months, ts),
		ComputedAt: ts(t.ComputedAt)}
	for _, c := range t.Cells {
		pc := &ecoutev1.ClientCell{TeamId: c.TeamID, TeamName: c.TeamName, CampaignId: c.CampaignID,
			CampaignName: c.CampaignName, Suppression: suppressionOf[c.Reason]}
		if f := c.Figure; f != nil {
			pc.Figure = &ecoutev1.ClientFigure{Agents: f.Agents, Evaluations: f.Evaluations, MeanScore: f.MeanScore,
				CallsHandled: f.Handled, CallsLost: f.Lost, MeanTalkTime: durationpb.New(f.MeanTalk),
				MeanRingTime: durationpb.New(f.MeanRing), MeanBackOfficeTime: durationpb.New(f.MeanBackOffice)}
		}
		r.Cells = append(r.Cells, pc)
	}
	return r
}

// QualityStats answers the quality dashboard.
func (s *Stats) QualityStats(ctx context.Context, req *ecoutev1.QualityStatsRequest) (*ecoutev1.QualityStatsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.QualityStats, error) {
		return s.Core.QualityStats(ctx, c, FilterFromProto(req.GetFilter()))
	}, QualityStatsOf)
}

// AgentActivity answers the activity dashboard.
func (s *Stats) AgentActivity(ctx context.Context, req *ecoutev1.AgentActivityRequest) (*ecoutev1.AgentActivityResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.ActivityStats, error) {
		return s.Core.AgentActivity(ctx, c, FilterFromProto(req.GetFilter()))
	}, AgentActivityOf)
}

// ClientTables answers the client role's table.
func (s *Stats) ClientTables(ctx context.Context, req *ecoutev1.ClientTablesRequest) (*ecoutev1.ClientTablesResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.ClientTable, error) {
		return s.Core.ClientTables(ctx, c, timeOf(req.GetMonth()))
	}, ClientTablesOf)
}

// StatsEvaluations lists the evaluations behind a figure.
func (s *Stats) StatsEvaluations(ctx context.Context, req *ecoutev1.StatsEvaluationsRequest) (*ecoutev1.StatsEvaluationsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]core.EvaluationView, error) {
		return s.Core.StatsEvaluations(ctx, c, core.DrillDown{Filter: FilterFromProto(req.GetFilter()),
			FailedCriterion: req.GetFailedCriterionId(), EvaluatorID: req.GetEvaluatorId(), PageSize: int(req.GetPageSize())})
	}, func(list []core.EvaluationView) *ecoutev1.StatsEvaluationsResponse {
		return &ecoutev1.StatsEvaluationsResponse{Evaluations: each(list, evaluationOf)}
	})
}

// ExportStats streams an encrypted export with its progress.
func (s *Stats) ExportStats(req *ecoutev1.ExportStatsRequest, stream grpc.ServerStreamingServer[ecoutev1.ExportStatsResponse]) error {
	ctx := stream.Context()
	c, err := caller(ctx, nil)
	if err != nil {
		return err
	}
	x := core.StatsExport{Format: core.FormatCSV, Recipient: req.GetRecipient()}
	if req.GetFormat() == ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_JSON {
		x.Format = core.FormatJSON
	}
	switch d := req.GetData().(type) {
	case *ecoutev1.ExportStatsRequest_Quality:
		x.Kind, x.Filter = core.ExportQuality, FilterFromProto(d.Quality.GetFilter())
	case *ecoutev1.ExportStatsRequest_Activity:
		x.Kind, x.Filter = core.ExportActivity, FilterFromProto(d.Activity.GetFilter())
	case *ecoutev1.ExportStatsRequest_Client:
		x.Kind, x.Month = core.ExportClient, timeOf(d.Client.GetMonth())
	}
	out, err := s.Core.ExportStats(ctx, c, x)
	if err != nil {
		return err
	}
	total := int64(len(out.Data))
	for sent := 0; sent < len(out.Data) || sent == 0; {
		end := min(sent+ExportChunk, len(out.Data))
		if err := stream.Send(&ecoutev1.ExportStatsResponse{Data: out.Data[sent:end], Sent: int64(end), Total: total,
			Rows: int64(out.Rows)}); err != nil {
			return err
		}
		if end == sent {
			break
		}
		sent = end
	}
	return nil
}
