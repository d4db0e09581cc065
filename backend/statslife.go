package backend

import (
	"context"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/retention"
)

// registerStatsPurgers adds the statistics' data to the retention purge:
// the activity feed after config.ActivityFigures (R4, like connection
// logs), and the client's published monthly tables with the same cutoff,
// so that no table outlives the figures it was drawn from.
func registerStatsPurgers(a *App, job *retention.Job) error {
	if err := job.Register("activity", retention.PurgerFunc(func(ctx context.Context, now time.Time) (int, error) {
		return a.store.DeleteExpiredActivity(ctx, config.ActivityCutoff(now))
	})); err != nil {
		return err
	}
	return job.Register("client_tables", retention.PurgerFunc(func(ctx context.Context, now time.Time) (int, error) {
		return a.store.DeleteClientTablesBefore(ctx, config.ActivityCutoff(now))
	}))
}
