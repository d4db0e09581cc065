package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path"
	"regexp"
	"strings"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ecoute/ecoute/backend/store/pgdb"
)

// The PostgreSQL store is the same code as the embedded one: the queries
// are written once, with "?" placeholders (pgdb rebinds them) and types
// both engines have; the few statements that differ ask s.postgres. The
// schema is the same migrations, translated (translatePG), except where a
// file of migrations/postgres/ with the same name replaces one.

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

// OpenPostgres connects to dsn (postgres://user@host/db?…) and brings its
// schema to the latest migration. Several ecouted may share the database.
func OpenPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*SQLite, error) {
	db, err := pgdb.Open(dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(MaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	where := pgdb.Redact(dsn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	migs, err := pgMigrationFS()
	if err != nil {
		db.Close()
		return nil, err
	}
	// Several ecouted may start at once on an empty database: the first
	// migrates under a session advisory lock, the others wait for it.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := runMigrations(ctx, db, goose.DialectPostgres, migs, logger, goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", where, err)
	}
	return &SQLite{db: db, postgres: true, counts: newCountCache()}, nil
}

// pgMigrationFS is the embedded migrations for PostgreSQL: each SQLite
// file translated, or its replacement from migrations/postgres/.
func pgMigrationFS() (fs.FS, error) {
	out := fstest.MapFS{}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, f := range files {
		name := path.Base(f)
		if b, err := pgMigrations.ReadFile("migrations/postgres/" + name); err == nil {
			out[name] = &fstest.MapFile{Data: b}
			used[name] = true
			continue
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sql := translatePG(string(b))
		// NNNNN_name.extra.sql: statements PostgreSQL needs on top of the
		// translation, run at the end of the migration's Up.
		extraName := strings.TrimSuffix(name, ".sql") + ".extra.sql"
		if extra, err := pgMigrations.ReadFile("migrations/postgres/" + extraName); err == nil {
			i := strings.Index(sql, "-- +goose Down")
			if i < 0 {
				i = len(sql)
			}
			sql = sql[:i] + string(extra) + "\n" + sql[i:]
			used[extraName] = true
		}
		out[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	extra, err := fs.Glob(pgMigrations, "migrations/postgres/*.sql")
	if err != nil {
		return nil, err
	}
	for _, f := range extra {
		if !used[path.Base(f)] {
			return nil, fmt.Errorf("migration %s replaces or extends no SQLite migration", f)
		}
	}
	return out, nil
}

var (
	pgIntegerPK = regexp.MustCompile(`\bINTEGER PRIMARY KEY\b`)
	pgInteger   = regexp.MustCompile(`\bINTEGER\b`)
	pgBlob      = regexp.MustCompile(`\bBLOB\b`)
	pgReal      = regexp.MustCompile(`\bREAL\b`)
	pgEmptyCopy = regexp.MustCompile(`CREATE TABLE (\w+) AS SELECT \* FROM (\w+) WHERE 0;`)
	pgOrIgnore  = regexp.MustCompile(`(?s)INSERT OR IGNORE INTO ([^;]*);`)
	pgNoRowID   = regexp.MustCompile(`\)\s*WITHOUT ROWID`)
	pgSQLiteOps = regexp.MustCompile(`(?m)^\s*(PRAGMA [^;]*|VACUUM);\s*$`)
	pgTrigger   = regexp.MustCompile(`(?s)CREATE TRIGGER (\w+) AFTER (INSERT|UPDATE|DELETE)((?: OF [^\n]*?)?) ON (\w+)\s*(?:WHEN (.*?))?\s*\bBEGIN\b(.*?)\bEND;`)
	pgDropTrig  = regexp.MustCompile(`DROP TRIGGER (?:IF EXISTS )?(\w+);`)
)

// translatePG turns a migration written for SQLite into PostgreSQL's
// dialect: 64-bit integers (SQLite's INTEGER) and floats (REAL), an
// INTEGER PRIMARY KEY that numbers itself when no value is given (as
// SQLite's rowid does), BYTEA for BLOB, no WITHOUT ROWID, no PRAGMA or
// VACUUM, an empty copy of a table's columns by LIKE, INSERT OR IGNORE as
// ON CONFLICT DO NOTHING, strpos for instr; a trigger (ours are
// all AFTER … FOR EACH ROW) becomes a PL/pgSQL function and the trigger
// that runs it.
func translatePG(sql string) string {
	sql = pgSQLiteOps.ReplaceAllString(sql, "")
	sql = pgTrigger.ReplaceAllStringFunc(sql, translateTrigger)
	sql = pgDropTrig.ReplaceAllString(sql, "DROP FUNCTION IF EXISTS ${1}_fn() CASCADE;")
	sql = pgNoRowID.ReplaceAllString(sql, ")")
	sql = pgEmptyCopy.ReplaceAllString(sql, "CREATE TABLE $1 (LIKE $2 INCLUDING DEFAULTS);")
	sql = pgOrIgnore.ReplaceAllString(sql, "INSERT INTO $1 ON CONFLICT DO NOTHING;")
	sql = strings.ReplaceAll(sql, "instr(", "strpos(")
	sql = pgReal.ReplaceAllString(sql, "DOUBLE PRECISION")
	sql = pgIntegerPK.ReplaceAllString(sql, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	sql = pgInteger.ReplaceAllString(sql, "BIGINT")
	return pgBlob.ReplaceAllString(sql, "BYTEA")
}

// translateTrigger turns one SQLite trigger (inside a goose statement
// block) into a PL/pgSQL function and a trigger, two statements.
func translateTrigger(t string) string {
	m := pgTrigger.FindStringSubmatch(t)
	name, event, of, table, when, body := m[1], m[2], m[3], m[4], strings.TrimSpace(m[5]), strings.TrimSpace(m[6])
	switch {
	case strings.Contains(strings.ToUpper(when), "SELECT"):
		// PostgreSQL allows no subquery in WHEN: the function tests it.
		body = "IF " + when + " THEN\n" + body + "\nEND IF;"
		when = ""
	case when != "":
		when = " WHEN (" + when + ")"
	}
	return fmt.Sprintf("CREATE FUNCTION %s_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n%s\nRETURN NULL;\nEND\n$fn$;\n"+
		"-- +goose StatementEnd\n-- +goose StatementBegin\n"+
		"CREATE TRIGGER %s AFTER %s%s ON %s FOR EACH ROW%s EXECUTE FUNCTION %s_fn();",
		name, body, name, event, of, table, when, name)
}

// isUniquePG says whether err is PostgreSQL's unique violation.
func isUniquePG(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// errConflict marks an error of a transaction that lost a race and may
// be run again.
var errConflict = errors.New("concurrent transaction won")

// retryable says whether a transaction failed only because a concurrent one
// won (serialization failure or deadlock): running it again is correct.
func retryable(err error) bool {
	if errors.Is(err, errConflict) {
		return true
	}
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// catalog is how each engine describes its own schema.
type catalog struct {
	// tables lists the application's tables (not the migration tool's).
	tables string
	// foreignKeys of table ?: parent table, column, parent column.
	foreignKeys string
	// hasColumn counts the columns of table ? named ?.
	hasColumn string
	// hasTable counts the tables named ?.
	hasTable string
	// columns lists the columns of table ?, in order.
	columns string
}

var (
	sqliteCatalog = catalog{
		tables: `SELECT name FROM sqlite_master WHERE type = 'table'
			AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'goose_%' ORDER BY name`,
		foreignKeys: `SELECT "table", "from", COALESCE("to", '') FROM pragma_foreign_key_list(?)`,
		hasColumn:   `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`,
		hasTable:    `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
		columns:     `SELECT name FROM pragma_table_info(?) ORDER BY cid`,
	}
	pgCatalog = catalog{
		tables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'goose_%' ORDER BY table_name`,
		foreignKeys: `SELECT ccu.table_name, kcu.column_name, ccu.column_name
			FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu
				ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
			JOIN information_schema.constraint_column_usage ccu
				ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ?
			ORDER BY kcu.column_name`,
		hasColumn: `SELECT COUNT(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`,
		hasTable: `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = ?`,
		columns: `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
	}
)

func catalogOf(postgres bool) catalog {
	if postgres {
		return pgCatalog
	}
	return sqliteCatalog
}

// dialect picks the engine's text of a statement that differs.
func (s *SQLite) dialect(sqlite, postgres string) string {
	if s.postgres {
		return postgres
	}
	return sqlite
}

// rowID names a row's physical identity, in insertion order for a table
// that is only appended to and trimmed.
func (s *SQLite) rowID() string { return s.dialect("rowid", "ctid") }

// inTxPG runs f in a serializable transaction, again when a concurrent one
// won: the embedded store's writers are serialized by its write lock, and
// the code relies on it (read, decide, write); SERIALIZABLE gives the same
// guarantee on a server shared by several ecouted.
func (s *SQLite) inTxPG(ctx context.Context, f func(tx *sql.Tx) error) error {
	const attempts = 20
	var err error
	for i := range attempts {
		if i > 0 {
			// Back off a little, more each time, with jitter, so that the
			// losers of a conflict do not meet again at once.
			d := time.Duration(1<<min(i, 6)) * time.Millisecond
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d/2 + time.Duration(rand.Int64N(int64(d)))):
			}
		}
		var tx *sql.Tx
		tx, err = s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
		if err != nil {
			return err
		}
		if err = f(tx); err != nil {
			tx.Rollback()
			if retryable(err) {
				continue
			}
			return err
		}
		if err = tx.Commit(); err == nil || !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("transaction gave up after %d conflicts: %w", attempts, err)
}

// reclaimPG vacuums the database after a purge: the deleted rows' space is
// made reusable at once rather than when autovacuum comes by. PostgreSQL
// does not report pages, so it says 0.
func (s *SQLite) reclaimPG(ctx context.Context) (int64, error) {
	if _, err := s.db.ExecContext(ctx, `VACUUM`); err != nil {
		return 0, fmt.Errorf("reclaim: vacuum: %w", err)
	}
	return 0, nil
}

// TryJobLock implements JobStore. On PostgreSQL it is a session advisory
// lock, held by one connection set aside until unlock: when the holding
// ecouted dies, its connection closes and the lock is free. The embedded
// database has one server: the lock is always free there.
func (s *SQLite) TryJobLock(ctx context.Context, name string) (func(), bool, error) {
	if !s.postgres {
		return func() {}, true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("job lock %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(?))`, "ecoute job "+name).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("job lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext(?))`, "ecoute job "+name) //nolint:errcheck // closing frees it anyway
		conn.Raw(func(driverConn any) error { return driver.ErrBadConn })                                          //nolint:errcheck // never reuse a connection that held a lock
		conn.Close()
	}, true, nil
}
