package backend

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
)

// openAudit opens the audit chain of the data directory, with its signing
// key (DIR/audit.key, 0600, made on first start).
func openAudit(cfg Config, st audit.Store) (*audit.Log, error) {
	key, err := audit.LoadOrCreateKey(filepath.Join(cfg.DataDir, audit.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("open audit trail: %w", err)
	}
	return audit.New(st, cfg.Clock, key, cfg.Logger), nil
}

// Audit is the audit trail: jobs and commands append to it, `ecouted audit
// verify` walks it.
func (a *App) Audit() *audit.Log { return a.audit }

// AuditPurger deletes audit entries older than the cutoff for the
// retention jobs (connection logs, R4), behind a signed checkpoint.
func (a *App) AuditPurger(cutoff func(now time.Time) time.Time) audit.Purger {
	return audit.Purger{Log: a.audit, Cutoff: cutoff}
}
