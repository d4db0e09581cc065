package core

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"time"

	"filippo.io/age"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/privacy"
)

// Export kinds and formats.
const (
	ExportQuality  = "quality"
	ExportActivity = "activity"
	ExportClient   = "client"

	FormatCSV  = "csv"
	FormatJSON = "json"
)

// StatsExport asks for the data of a dashboard or table, encrypted.
type StatsExport struct {
	Kind      string
	Filter    StatsFilter // quality, activity
	Month     time.Time   // client
	Format    string
	Recipient string
}

// Exported is an encrypted export and how many rows it holds.
type Exported struct {
	Data []byte
	Rows int
}

// ExportStats renders the data of a dashboard or table as CSV or JSON and
// encrypts it with age to the recipient (R9): the plaintext exists only
// in memory on its way through age. The caller reaches exactly what the
// dashboard would show; the export is audited once (stats.export).
func (b *Backend) ExportStats(ctx context.Context, c Caller, x StatsExport) (Exported, error) {
	d := x.Filter.details()
	d["kind"], d["format"] = x.Kind, x.Format
	out, err := b.exportStats(ctx, c, x)
	if err == nil {
		d["rows"] = strconv.Itoa(out.Rows)
	}
	if rerr := b.recordRead(ctx, c, ActionStatsExport, d, err); rerr != nil {
		return Exported{}, rerr
	}
	return out, nil
}

func (b *Backend) exportStats(ctx context.Context, c Caller, x StatsExport) (Exported, error) {
	if x.Format != FormatCSV && x.Format != FormatJSON {
		return Exported{}, domain.Invalid("format", "csv or json")
	}
	rcp, err := privacy.ParseRecipient(x.Recipient)
	if err != nil {
		return Exported{}, err
	}
	var tab table
	switch x.Kind {
	case ExportQuality:
		q, err := b.qualityStats(ctx, c, x.Filter)
		if err != nil {
			return Exported{}, err
		}
		tab = qualityTable(q)
	case ExportActivity:
		a, err := b.agentActivity(ctx, c, x.Filter)
		if err != nil {
			return Exported{}, err
		}
		tab = activityTable(a)
	case ExportClient:
		t, err := b.clientTables(ctx, c, x.Month)
		if err != nil {
			return Exported{}, err
		}
		tab = clientTable(t)
	default:
		return Exported{}, domain.Invalid("data", "quality, activity or client")
	}
	var plain bytes.Buffer
	if x.Format == FormatCSV {
		w := csv.NewWriter(&plain)
		w.Write(tab.cols)
		for _, r := range tab.rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = cellText(v)
			}
			w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return Exported{}, domain.Internal("write csv", err)
		}
	} else {
		objs := make([]map[string]any, len(tab.rows))
		for i, r := range tab.rows {
			objs[i] = map[string]any{}
			for j, v := range r {
				objs[i][tab.cols[j]] = v
			}
		}
		enc := json.NewEncoder(&plain)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"kind": x.Kind, "columns": tab.cols, "rows": objs}); err != nil {
			return Exported{}, domain.Internal("write json", err)
		}
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rcp)
	if err != nil {
		return Exported{}, domain.Internal("encrypt export", err)
	}
	if _, err := w.Write(plain.Bytes()); err != nil {
		return Exported{}, domain.Internal("encrypt export", err)
	}
	clear(plain.Bytes())
	if err := w.Close(); err != nil {
		return Exported{}, domain.Internal("encrypt export", err)
	}
	return Exported{Data: out.Bytes(), Rows: len(tab.rows)}, nil
}

// table is flat export data: columns and rows of strings, numbers or
// nil (an empty cell).
type table struct {
	cols []string
	rows [][]any
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func mean(f ScoreFigure) any {
	if f.Evaluations == 0 {
		return nil
	}
	return f.Mean()
}

func qualityTable(q QualityStats) table {
	t := table{cols: []string{"table", "bucket", "id", "name", "team_id", "evaluations", "mean_score", "critical_failed",
		"answered", "failed"}}
	add := func(kind, bucket, id, name, team string, f ScoreFigure) {
		t.rows = append(t.rows, []any{kind, bucket, id, name, team, f.Evaluations, mean(f), f.CriticalFailed, nil, nil})
	}
	add("total", "", "", "", "", q.Total)
	for i, s := range q.Buckets {
		add("trend", day(s), "", "", "", q.Trend[i])
	}
	for _, part := range []struct {
		kind string
		gs   []ScoreGroup
	}{{"team", q.Teams}, {"agent", q.Agents}, {"evaluator", q.Evaluators}} {
		for _, g := range part.gs {
			add(part.kind, "", g.ID, g.Name, g.TeamID, g.Figure)
			for i, s := range q.Buckets {
				if g.Series[i].Evaluations > 0 {
					add(part.kind, day(s), g.ID, g.Name, g.TeamID, g.Series[i])
				}
			}
		}
	}
	for _, c := range q.Criteria {
		t.rows = append(t.rows, []any{"criterion", "", c.GridID + "/" + c.CriterionID, c.Label, "", nil, nil, nil,
			c.Answered, c.Failed})
	}
	for _, s := range q.Sections {
		add("section", "", s.GridID+"/"+s.SectionID, s.Title, "", ScoreFigure{Evaluations: s.Evaluations, SumTenths: s.SumTenths})
	}
	for i, n := range q.Distribution {
		t.rows = append(t.rows, []any{"distribution", "", strconv.Itoa(i * 10), "", "", n, nil, nil, nil, nil})
	}
	return t
}

func activityTable(a ActivityStats) table {
	t := table{cols: []string{"table", "bucket", "id", "name", "team_id", "calls_handled", "calls_lost", "talk_seconds",
		"back_office_seconds", "ring_seconds", "intervals"}}
	add := func(kind, bucket, id, name, team string, f ActivityFigure) {
		t.rows = append(t.rows, []any{kind, bucket, id, name, team, f.Handled, f.Lost, f.TalkMS / 1000,
			f.BackOfficeMS / 1000, f.RingMS / 1000, f.Intervals})
	}
	add("total", "", "", "", "", a.Total)
	for i, s := range a.Buckets {
		add("trend", day(s), "", "", "", a.Trend[i])
	}
	for _, part := range []struct {
		kind string
		gs   []ActivityGroup
	}{{"team", a.Teams}, {"agent", a.Agents}} {
		for _, g := range part.gs {
			add(part.kind, "", g.ID, g.Name, g.TeamID, g.Figure)
		}
	}
	for _, ty := range a.Types {
		t.rows = append(t.rows, []any{"activity_type", "", ty.Type, ty.Type, "", ty.Handled, nil,
			int64(ty.Time / time.Second), nil, nil, nil})
	}
	return t
}

func clientTable(c ClientTable) table {
	t := table{cols: []string{"month", "team_id", "team", "campaign_id", "campaign", "suppressed", "agents",
		"evaluations", "mean_score", "calls_handled", "calls_lost", "mean_talk_seconds", "mean_ring_seconds",
		"mean_back_office_seconds"}}
	for _, cell := range c.Cells {
		r := []any{c.Month.UTC().Format("2006-01"), cell.TeamID, cell.TeamName, cell.CampaignID, cell.CampaignName,
			string(cell.Reason), nil, nil, nil, nil, nil, nil, nil, nil}
		if f := cell.Figure; f != nil {
			r[6], r[7], r[9], r[10] = f.Agents, f.Evaluations, f.Handled, f.Lost
			if f.Evaluations > 0 {
				r[8] = f.MeanScore
			}
			r[11], r[12], r[13] = int64(f.MeanTalk/time.Second), int64(f.MeanRing/time.Second),
				int64(f.MeanBackOffice/time.Second)
		}
		t.rows = append(t.rows, r)
	}
	return t
}
