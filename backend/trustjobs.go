package backend

import (
	"context"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/retention"
)

// registerTrustPurgers adds to the daily purge what the trust rules leave
// behind: grant requests nobody decided in time (their pending accounts
// deleted, their secrets destroyed), and login throttles a day after their
// last failure.
func (a *App) registerTrustPurgers() error {
	if err := a.life.retention.Register("grant_requests", retention.PurgerFunc(a.core.ExpireGrants)); err != nil {
		return err
	}
	return a.life.retention.Register("login_throttles", retention.PurgerFunc(func(ctx context.Context, now time.Time) (int, error) {
		return a.store.DeleteLoginThrottles(ctx, config.LoginThrottleCutoff(now))
	}))
}
