package backend

import (
	"github.com/ecoute/ecoute/backend/retention"
)

// registerTrainingPurgers adds to the daily purge the analysis documents of
// training (R4, R12): coaching sessions, with their goals, clips and notes,
// and calibrations, with their scores, a year after their creation. A
// session's clips and a call's screen captures go earlier, with the
// recording itself (the recordings purge; the database removes them with
// their call and queues the captures' files).
func (a *App) registerTrainingPurgers() error {
	if err := a.life.retention.Register("coaching_sessions", retention.PurgerFunc(a.store.DeleteExpiredCoaching)); err != nil {
		return err
	}
	return a.life.retention.Register("calibrations", retention.PurgerFunc(a.store.DeleteExpiredCalibrations))
}
