package backend_test

import (
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The demo shows statistics to every role that has them: figures for the
// supervisor, the trainer, the agent and hr; for the client a monthly
// table with published cells and at least one hidden one, with its reason.
func TestDemoStatisticsForEveryRole(t *testing.T) {
	st := ecoutev1.NewStatsServiceClient(env.conn)
	for _, role := range []string{"supervisor", "trainer", "agent", "hr"} {
		ctx := login(t, role)
		q, err := st.QualityStats(ctx, &ecoutev1.QualityStatsRequest{})
		if err != nil || q.Total.GetEvaluations() == 0 || len(q.Criteria) == 0 {
			t.Errorf("%s quality: %v %v", role, q.GetTotal(), err)
		}
		a, err := st.AgentActivity(ctx, &ecoutev1.AgentActivityRequest{})
		if err != nil || a.Total.GetCallsHandled() == 0 {
			t.Errorf("%s activity: %v %v", role, a.GetTotal(), err)
		}
	}
	tab, err := st.ClientTables(login(t, "client"), &ecoutev1.ClientTablesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	published, hidden := 0, 0
	for _, c := range tab.Cells {
		if c.Suppression == ecoutev1.Suppression_SUPPRESSION_UNSPECIFIED && c.Figure.GetEvaluations() > 0 {
			published++
		}
		if c.Suppression != ecoutev1.Suppression_SUPPRESSION_UNSPECIFIED {
			hidden++
		}
		if c.CampaignId == "camp-opinion" {
			t.Errorf("Azur Énergie's client sees %v", c)
		}
	}
	if tab.Company != "Azur Énergie" || published == 0 || hidden == 0 {
		t.Errorf("client table of %s: %d published, %d hidden: %v", tab.Company, published, hidden, tab.Cells)
	}
}
