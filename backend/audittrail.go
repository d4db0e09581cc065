package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/store"
)

// anchoredKey is the setting that says the trail has its head log: from
// then on a missing head log is damage to report, not a file to make.
const anchoredKey = "audit_head_log_since"

// openAudit opens the audit chain of the data directory, with its signing
// key (DIR/audit.key, 0600, made on first start), its head log
// (DIR/audit-head.log) and the witness of the settings (audit.witness).
func openAudit(ctx context.Context, cfg Config, st *store.SQLite) (*audit.Log, error) {
	key, err := audit.LoadOrCreateKey(filepath.Join(cfg.DataDir, audit.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("open audit trail: %w", err)
	}
	l := audit.New(st, cfg.Clock, key, cfg.Logger)
	_, err = st.Setting(ctx, anchoredKey)
	first := errors.Is(err, store.ErrNotFound)
	if err != nil && !first {
		return nil, fmt.Errorf("open audit trail: %w", err)
	}
	err = l.AddAnchor(ctx, "head log", filepath.Join(cfg.DataDir, audit.HeadLogFile), first)
	if errors.Is(err, audit.ErrAnchorMissing) {
		// Deleted: left missing, for audit verify to report.
		cfg.Logger.Error("the audit head log is missing: audit verify will fail", "path",
			filepath.Join(cfg.DataDir, audit.HeadLogFile))
	} else if err != nil {
		return nil, err
	}
	if first {
		if err := st.SetSetting(ctx, anchoredKey, strconv.FormatInt(cfg.Clock.Now().UnixMilli(), 10)); err != nil {
			return nil, fmt.Errorf("open audit trail: %w", err)
		}
	}
	if w := cfg.Settings.AuditWitness; w != "" {
		// The witness is the operator's: made when first configured.
		if err := l.AddAnchor(ctx, "witness", w, true); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Audit is the audit trail: jobs and commands append to it, `ecouted audit
// verify` walks it.
func (a *App) Audit() *audit.Log { return a.audit }

// AuditPurger deletes audit entries older than the cutoff for the
// retention jobs (connection logs, R4), behind a signed checkpoint.
func (a *App) AuditPurger(cutoff func(now time.Time) time.Time) audit.Purger {
	return audit.Purger{Log: a.audit, Cutoff: cutoff}
}
