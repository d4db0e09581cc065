package backend

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/service"
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

// Privacy carries out the privacy requests (export, erase) for the command
// line and the gRPC service.
func (a *App) Privacy() *privacy.Requests {
	return &privacy.Requests{Store: a.store, Blobs: a.blobs, Audit: a.audit, Clock: a.cfg.Clock}
}

// AuditPurger deletes audit entries older than the cutoff for the
// retention jobs (connection logs, R4), behind a signed checkpoint.
func (a *App) AuditPurger(cutoff func(now time.Time) time.Time) audit.Purger {
	return audit.Purger{Log: a.audit, Cutoff: cutoff}
}

func (a *App) auditInterceptor() *audit.Interceptor {
	return audit.NewInterceptor(a.audit, a.cfg.Clock, a.store, a.log)
}

func (a *App) auditService() *service.Audit { return &service.Audit{Trail: a.audit, Log: a.log} }

func (a *App) privacyService() *service.Privacy {
	return &service.Privacy{Requests: a.Privacy(), Users: a.store, Audit: a.audit, Log: a.log}
}
