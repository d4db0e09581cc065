package backend

import (
	"context"
	"path/filepath"

	"github.com/ecoute/ecoute/backend/store"
)

// openStore opens the database the settings name: the embedded SQLite file
// of the data directory, or a PostgreSQL server that several ecouted share.
func openStore(ctx context.Context, cfg Config) (*store.SQLite, error) {
	if dsn := cfg.Settings.Store; dsn != "" {
		return store.OpenPostgres(ctx, dsn, cfg.Logger)
	}
	return store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, DBFile), nil)
}
