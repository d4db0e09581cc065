package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecoute/ecoute/backend/store/pgdb"
	"github.com/ecoute/ecoute/internal/pgtest"
)

// The store's tests are the conformance suite of both engines: the test
// binary runs them on SQLite files, then runs itself again with
// storeUnderTest=postgres, where every test gets a fresh database of a
// throw-away PostgreSQL cluster. Tests of what only SQLite has (its file,
// its pragmas) call sqliteOnly.
const storeUnderTest = "ECOUTE_STORE_UNDER_TEST"

var (
	pgCluster *pgtest.Cluster
	pgAdmin   *sql.DB
	pgSeq     atomic.Int64
)

func TestMain(m *testing.M) {
	if os.Getenv(storeUnderTest) != "postgres" {
		if code := m.Run(); code != 0 {
			os.Exit(code)
		}
		if testing.Short() { // unit tests only: no database server
			os.Exit(0)
		}
		fmt.Println("--- the store's tests again, on PostgreSQL")
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), storeUnderTest+"=postgres")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "on PostgreSQL:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	var err error
	if pgCluster, err = pgtest.NewPrimary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer pgCluster.Remove()
		if pgAdmin, err = pgdb.Open(pgCluster.DSN("postgres")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pgAdmin.Close()
		// Migrate once into a template; each test copies it.
		if _, err := pgAdmin.Exec(`CREATE DATABASE ecoute_template`); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		s, err := OpenPostgres(context.Background(), pgCluster.DSN("ecoute_template"), nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		s.Close()
		return m.Run()
	}()
	os.Exit(code)
}

// onPostgres says whether this run tests the PostgreSQL store.
func onPostgres() bool { return pgCluster != nil }

// sqliteOnly skips a test of what only the embedded store has.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite only")
	}
}

// openTest opens a fresh store of the engine under test; path is the
// SQLite file ("" on PostgreSQL).
func openTest(t testing.TB) (*SQLite, string) {
	t.Helper()
	ctx := context.Background()
	if onPostgres() {
		name := fmt.Sprintf("t%d", pgSeq.Add(1))
		if _, err := pgAdmin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE ecoute_template`); err != nil {
			t.Fatal(err)
		}
		s, err := OpenPostgres(ctx, pgCluster.DSN(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			pgAdmin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`) //nolint:errcheck // the cluster goes anyway
		})
		return s, ""
	}
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// anyRows makes a test statement that picks arbitrary rows by "rowid"
// (rowid % 4 = 0) run on PostgreSQL too, with a hash of the id instead.
func anyRows(q string) string {
	if onPostgres() {
		return strings.ReplaceAll(q, "rowid", "abs(hashtext(id))")
	}
	return q
}
