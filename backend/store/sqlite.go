package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is the embedded store: one database file, WAL journal.
type SQLite struct {
	db *sql.DB
	// postgres is set for the PostgreSQL store (postgres.go): same code,
	// a few statements differ.
	postgres bool
	// counts are the exact totals of filtered listings, made in the
	// background (calllist.go).
	counts *countCache
	stmts  stmtCache
	// fc seals personal data (sealed.go); nil only in tests of the store.
	fc FieldCipher

	promoteMu sync.Mutex
	promote   string // the sampling's copy of kept calls (jobs.go)
	walMu     sync.Mutex
	walPath   string // the write-ahead log SyncCommitted syncs
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database at path and brings its
// schema to the latest migration.
func OpenSQLite(ctx context.Context, path string, logger *slog.Logger) (*SQLite, error) {
	// The file is readable by its owner only (R9), and so are the WAL and
	// shared-memory files, which SQLite creates with the database's mode.
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	// _txlock=immediate: a write transaction takes the lock at BEGIN, so two
	// writers wait on busy_timeout instead of failing on lock upgrade.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
		// secure_delete: deleted rows are overwritten, not left in free pages
		// (R4; costs ~2% of a sampling run). cache_size 32 MB: the daily
		// sampling's deletes thrash the 2 MB default (−35% CPU measured).
		"&_pragma=secure_delete(1)&_pragma=cache_size(-32000)" +
		// mmap_size: pages are read from the mapped file instead of being
		// copied into each connection's cache, which SQLite empties
		// whenever another connection has written (every audited request
		// writes): −30% CPU per request under load (issue 19).
		// The statistics read thousands of aggregate rows a query, too.
		"&_pragma=mmap_size(1073741824)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// database/sql keeps 2 idle connections by default: under 50 consoles
	// the others were opened and closed again for each request (schema
	// parsed, file opened, cache cold): 15% of the CPU; concurrent uploads
	// each run a few queries too.
	db.SetMaxIdleConns(MaxIdleConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if err := runMigrations(ctx, db, goose.DialectSQLite3, sub, logger); err != nil {
		db.Close()
		return nil, err
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(side, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("database %s: %w", side, err)
		}
	}
	return &SQLite{db: db, counts: newCountCache()}, nil
}

// MaxIdleConns is how many database connections are kept open between
// requests.
const MaxIdleConns = 32

// ownerOnly creates the database file with mode 0600 if it is missing,
// and takes away the rights of group and others from an existing one.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	return nil
}

func runMigrations(ctx context.Context, db *sql.DB, dialect goose.Dialect, sub fs.FS, logger *slog.Logger, extra ...goose.ProviderOption) error {
	opts := append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, extra...)
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	return nil
}

// SchemaVersion is the latest applied migration.
func (s *SQLite) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Close closes the database.
func (s *SQLite) Close() error {
	s.counts.stop()
	s.closeStmts()
	return s.db.Close()
}

// DB exposes the handle to tests in this package and to maintenance tools.
func (s *SQLite) DB() *sql.DB { return s.db }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isUnique(err error) bool {
	if isUniquePG(err) {
		return true
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *SQLite) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	if s.postgres {
		return s.inTxPG(ctx, f)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CreateUser inserts a user and its team links.
func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var agent any
		if u.AgentID != "" {
			agent = u.AgentID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, login, display_name, role, password_hash,
			password_change_required, agent_id, disabled, created_at, first_name, last_name, password_changed_at,
			pending_grant) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.ID, u.Login, u.DisplayName, u.Role, u.PasswordHash, b2i(u.PasswordChangeRequired), agent,
			b2i(u.Disabled), ms(u.CreatedAt), u.FirstName, u.LastName, ms(u.PasswordChangedAt), u.PendingGrant)
		if err != nil {
			return err
		}
		for _, t := range u.TeamIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_teams (user_id, team_id) VALUES (?,?)`, u.ID, t); err != nil {
				return fmt.Errorf("link team %s: %w", t, err)
			}
		}
		return recordRequest(ctx, tx, u.ID, 0)
	})
	if isUnique(err) {
		return fmt.Errorf("create user %s: %w", u.Login, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Login, err)
	}
	return nil
}

const userCols = `id, login, display_name, role, password_hash, password_change_required, COALESCE(agent_id, ''), disabled, created_at,
	first_name, last_name, password_changed_at, failed_logins, locked_until, pending_grant`

func (s *SQLite) scanUser(ctx context.Context, row *sql.Row, what string) (User, error) {
	var u User
	var pcr, dis int
	var created, changed, locked int64
	if err := row.Scan(&u.ID, &u.Login, &u.DisplayName, &u.Role, &u.PasswordHash, &pcr, &u.AgentID, &dis, &created,
		&u.FirstName, &u.LastName, &changed, &u.FailedLogins, &locked, &u.PendingGrant); err != nil {
		return User{}, notFound(err, what)
	}
	u.PasswordChangeRequired, u.Disabled, u.CreatedAt = pcr != 0, dis != 0, fromMS(created)
	u.PasswordChangedAt, u.LockedUntil = fromMS(changed), fromMS(locked)
	rows, err := s.db.QueryContext(ctx, `SELECT team_id FROM user_teams WHERE user_id = ? ORDER BY team_id`, u.ID)
	if err != nil {
		return User{}, fmt.Errorf("%s teams: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return User{}, err
		}
		u.TeamIDs = append(u.TeamIDs, t)
	}
	return u, rows.Err()
}

// UserByLogin finds a user by login.
func (s *SQLite) UserByLogin(ctx context.Context, login string) (User, error) {
	return s.scanUser(ctx, s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE login = ?`, login), "user "+login)
}

// UserByID finds a user by id.
func (s *SQLite) UserByID(ctx context.Context, id string) (User, error) {
	return s.scanUser(ctx, s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), "user "+id)
}

// SetPassword replaces a user's password hash.
func (s *SQLite) SetPassword(ctx context.Context, userID, hash string, changeRequired bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_change_required = ? WHERE id = ?`,
		hash, b2i(changeRequired), userID)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password of %s: %w", userID, ErrNotFound)
	}
	return nil
}

// CountUsers counts accounts.
func (s *SQLite) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// CreateSession stores a new session.
func (s *SQLite) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, source_addr, created_at, last_used_at, expires_at)
		VALUES (?,?,?,?,?,?)`, se.TokenHash, se.UserID, se.SourceAddr, ms(se.CreatedAt), ms(se.LastUsedAt), ms(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByHash finds a session by token hash.
func (s *SQLite) SessionByHash(ctx context.Context, hash string) (Session, error) {
	var se Session
	var c, l, e int64
	err := s.db.QueryRowContext(ctx, `SELECT token_hash, user_id, source_addr, created_at, last_used_at, expires_at
		FROM sessions WHERE token_hash = ?`, hash).Scan(&se.TokenHash, &se.UserID, &se.SourceAddr, &c, &l, &e)
	if err != nil {
		return Session{}, notFound(err, "session")
	}
	se.CreatedAt, se.LastUsedAt, se.ExpiresAt = fromMS(c), fromMS(l), fromMS(e)
	return se, nil
}

// TouchSession records a use of the session (idle expiry counts from it).
func (s *SQLite) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_used_at = ? WHERE token_hash = ?`, ms(at), hash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession revokes one session.
func (s *SQLite) DeleteSession(ctx context.Context, hash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return recordRequest(ctx, tx, hash, n)
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions revokes every session of a user but except.
func (s *SQLite) DeleteUserSessions(ctx context.Context, userID, except string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, except)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return recordRequest(ctx, tx, userID, n)
	})
	if err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return nil
}

func (s *SQLite) exec(ctx context.Context, what, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, q, args...)
	return execErr(what, err)
}

// create inserts one row that a request may have asked for (see
// WithRequest): the request is recorded in the same transaction.
func (s *SQLite) create(ctx context.Context, what, id, q string, args ...any) error {
	return execErr(what, s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		return recordRequest(ctx, tx, id, 0)
	}))
}

func execErr(what string, err error) error {
	if isUnique(err) {
		return fmt.Errorf("%s: %w", what, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CreateTeam inserts a team.
func (s *SQLite) CreateTeam(ctx context.Context, t Team) error {
	return s.create(ctx, "create team "+t.ID, t.ID, `INSERT INTO teams (id, name, created_at) VALUES (?,?,?)`, t.ID, t.Name, ms(t.CreatedAt))
}

// CreateAgent inserts an agent.
func (s *SQLite) CreateAgent(ctx context.Context, a Agent) error {
	return s.create(ctx, "create agent "+a.ID, a.ID, `INSERT INTO agents (id, name, team_id, created_at) VALUES (?,?,?,?)`,
		a.ID, a.Name, a.TeamID, ms(a.CreatedAt))
}

// CreateCampaign inserts a campaign.
func (s *SQLite) CreateCampaign(ctx context.Context, c Campaign) error {
	return s.create(ctx, "create campaign "+c.ID, c.ID, `INSERT INTO campaigns (id, name, client_name, created_at) VALUES (?,?,?,?)`,
		c.ID, c.Name, c.ClientName, ms(c.CreatedAt))
}

// TeamByID finds a team.
func (s *SQLite) TeamByID(ctx context.Context, id string) (Team, error) {
	t, err := scanTeam(s.db.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE id = ?`, id))
	if err != nil {
		return Team{}, notFound(err, "team "+id)
	}
	return t, nil
}

// AgentByID finds an agent.
func (s *SQLite) AgentByID(ctx context.Context, id string) (Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ?`, id))
	if err != nil {
		return Agent{}, notFound(err, "agent "+id)
	}
	return a, nil
}

// CampaignByID finds a campaign.
func (s *SQLite) CampaignByID(ctx context.Context, id string) (Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if err != nil {
		return Campaign{}, notFound(err, "campaign "+id)
	}
	return c, nil
}

// InsertCalls adds calls in one transaction.
func (s *SQLite) InsertCalls(ctx context.Context, calls []NewCall) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO calls (`+callInsertCols+`) VALUES (`+callInsertParams+`)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, nc := range calls {
			args, err := s.callValues(nc)
			if err != nil {
				return err
			}
			if _, err = st.ExecContext(ctx, args...); err != nil {
				if isUnique(err) {
					return fmt.Errorf("call %s: %w", nc.Call.ExternalID, ErrDuplicate)
				}
				return fmt.Errorf("call %s: %w", nc.Call.ExternalID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert calls: %w", err)
	}
	return nil
}

// callInsertCols are the columns a new call row is written with, in the
// order of callValues; the uploads waiting for the sampling (pending_calls)
// are written with the same.
const callInsertCols = `id, external_id, started_at, ended_at, agent_id, team_id,
	campaign_id, direction, customer_name, customer_phone, customer_address, customer_number,
	customer_phone_hash, consent_requested_at, consent_answered_at, consent_accepted, ring_ms, talk_ms, back_office_ms,
	activity_type, lost, state, retained_until, audio_key, audio_size, audio_codec, audio_sample_rate,
	audio_channels, audio_bitrate_kbps, audio_frame_count, audio_samples_per_frame, duration_ms,
	peak_bucket_ms, peaks, frame_offsets, evaluated, created_at, audio_repair, channel_peaks`

const callInsertParams = `?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?`

// callValues are the values of callInsertCols for nc, personal data
// sealed as a row of calls (a waiting upload's row is copied into calls as
// it is when the sampling keeps it).
func (s *SQLite) callValues(nc NewCall) ([]any, error) {
	c, w := nc.Call, nc.Waveform
	offs, err := EncodeOffsets(w.FrameOffsets)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", c.ExternalID, err)
	}
	a := c.Audio
	if w.Peaks == nil {
		w.Peaks = []byte{} // nil would be NULL
	}
	return []any{c.ID, c.ExternalID, ms(c.StartedAt), ms(c.EndedAt), c.AgentID, c.TeamID,
		c.CampaignID, c.Direction, s.seal("calls", "customer_name", c.ID, c.CustomerName),
		s.seal("calls", "customer_phone", c.ID, c.CustomerPhone),
		s.seal("calls", "customer_address", c.ID, c.CustomerAddress),
		s.seal("calls", "customer_number", c.ID, c.CustomerNumber), s.PhoneIndex(c.CustomerPhone),
		ms(c.ConsentRequestedAt), nullMS(c.ConsentAnsweredAt), b2i(c.ConsentAccepted),
		c.RingTime.Milliseconds(), c.TalkTime.Milliseconds(), c.BackOfficeTime.Milliseconds(),
		c.ActivityType, b2i(c.Lost), c.State, ms(c.RetainedUntil), a.Key, a.Size, a.Codec, a.SampleRate,
		a.Channels, a.BitrateKbps, a.FrameCount, a.SamplesPerFrame, a.Duration.Milliseconds(),
		w.Bucket.Milliseconds(), w.Peaks, offs, b2i(c.Evaluated), ms(c.CreatedAt), a.Repair, joinPeaks(w)}, nil
}

// CallIDByExternalID finds a call (kept or waiting for the sampling) by
// telephony id.
func (s *SQLite) CallIDByExternalID(ctx context.Context, externalID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM calls WHERE external_id = ?
		UNION ALL SELECT id FROM pending_calls WHERE external_id = ? LIMIT 1`, externalID, externalID).Scan(&id)
	if err != nil {
		return "", notFound(err, "call "+externalID)
	}
	return id, nil
}

const callCols = `c.id, c.external_id, c.started_at, c.ended_at, c.agent_id, a.name, c.team_id, t.name,
	c.campaign_id, p.name, c.direction, c.customer_name, c.customer_phone, c.customer_address, c.customer_number,
	c.consent_requested_at, COALESCE(c.consent_answered_at, 0), c.consent_accepted, c.ring_ms, c.talk_ms,
	c.back_office_ms, c.activity_type, c.lost, c.state, c.retained_until, c.audio_key, c.audio_size, c.audio_codec,
	c.audio_sample_rate, c.audio_channels, c.audio_bitrate_kbps, c.audio_frame_count, c.audio_samples_per_frame,
	c.duration_ms, c.evaluated, c.created_at, c.audio_repair`

const callFrom = ` FROM calls c JOIN agents a ON a.id = c.agent_id JOIN teams t ON t.id = c.team_id
	JOIN campaigns p ON p.id = c.campaign_id`

type scanner interface{ Scan(dest ...any) error }

func (s *SQLite) scanCall(r scanner) (Call, error) {
	var c Call
	var st, en, cr, ca, ring, talk, bo, ret, dur, created int64
	var acc, lost, ev int
	var cust [4]raw
	err := r.Scan(&c.ID, &c.ExternalID, &st, &en, &c.AgentID, &c.AgentName, &c.TeamID, &c.TeamName,
		&c.CampaignID, &c.CampaignName, &c.Direction, &cust[0], &cust[1], &cust[2],
		&cust[3], &cr, &ca, &acc, &ring, &talk, &bo, &c.ActivityType, &lost, &c.State, &ret,
		&c.Audio.Key, &c.Audio.Size, &c.Audio.Codec, &c.Audio.SampleRate, &c.Audio.Channels, &c.Audio.BitrateKbps,
		&c.Audio.FrameCount, &c.Audio.SamplesPerFrame, &dur, &ev, &created, &c.Audio.Repair)
	if err != nil {
		return Call{}, err
	}
	for i, f := range []*string{&c.CustomerName, &c.CustomerPhone, &c.CustomerAddress, &c.CustomerNumber} {
		if *f, err = s.open("calls", SealedColumns["calls"][i], c.ID, cust[i].v); err != nil {
			return Call{}, err
		}
	}
	c.StartedAt, c.EndedAt = fromMS(st), fromMS(en)
	c.ConsentRequestedAt, c.ConsentAnsweredAt, c.ConsentAccepted = fromMS(cr), fromMS(ca), acc != 0
	c.RingTime, c.TalkTime, c.BackOfficeTime = time.Duration(ring)*time.Millisecond, time.Duration(talk)*time.Millisecond, time.Duration(bo)*time.Millisecond
	c.Lost, c.Evaluated = lost != 0, ev != 0
	c.RetainedUntil, c.CreatedAt = fromMS(ret), fromMS(created)
	c.Audio.Duration = time.Duration(dur) * time.Millisecond
	return c, nil
}

// where builds the clause shared by listing and counting: kept calls only,
// inside the scope, matching the filter.
func where(scope Scope, f Filter) (string, []any) {
	conds := []string{"c.state = 'kept'"}
	var args []any
	in := func(col string, vals []string) string {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
		for _, v := range vals {
			args = append(args, v)
		}
		return col + " IN (" + ph + ")"
	}
	if !scope.All {
		var or []string
		if len(scope.TeamIDs) > 0 {
			or = append(or, in("c.team_id", scope.TeamIDs))
		}
		if len(scope.AgentIDs) > 0 {
			or = append(or, in("c.agent_id", scope.AgentIDs))
		}
		if scope.Trainer != "" {
			cond, targs := trainerReach(scope, "c.agent_id", "c.team_id", "c.id")
			or, args = append(or, cond), append(args, targs...)
		}
		if len(or) == 0 {
			or = []string{"1 = 0"}
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if !f.StartedAfter.IsZero() {
		conds = append(conds, "c.started_at >= ?")
		args = append(args, ms(f.StartedAfter))
	}
	if !f.StartedBefore.IsZero() {
		conds = append(conds, "c.started_at < ?")
		args = append(args, ms(f.StartedBefore))
	}
	if len(f.TeamIDs) > 0 {
		conds = append(conds, in("c.team_id", f.TeamIDs))
	}
	if len(f.AgentIDs) > 0 {
		conds = append(conds, in("c.agent_id", f.AgentIDs))
	}
	if len(f.CampaignIDs) > 0 {
		conds = append(conds, in("c.campaign_id", f.CampaignIDs))
	}
	if f.Evaluated != nil {
		conds = append(conds, "c.evaluated = ?")
		args = append(args, b2i(*f.Evaluated))
	}
	if f.MinDuration > 0 {
		conds = append(conds, "c.duration_ms >= ?")
		args = append(args, f.MinDuration.Milliseconds())
	}
	if f.MaxDuration > 0 {
		conds = append(conds, "c.duration_ms <= ?")
		args = append(args, f.MaxDuration.Milliseconds())
	}
	if cond, sargs := scoreCond(f); cond != "" {
		conds = append(conds, cond)
		args = append(args, sargs...)
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// GetCall returns one kept call within scope.
func (s *SQLite) GetCall(ctx context.Context, id string, scope Scope) (Call, error) {
	w, args := where(scope, Filter{})
	row := s.queryRow(ctx, `SELECT `+callCols+callFrom+w+` AND c.id = ?`, append(args, id)...)
	c, err := s.scanCall(row)
	if err != nil {
		return Call{}, notFound(err, "call "+id)
	}
	return c, nil
}

// ListCalls returns one page of kept calls and the exact count of all
// matches (ListCallsPage is the listing the console gets: its total never
// makes the page wait).
func (s *SQLite) ListCalls(ctx context.Context, q ListQuery) ([]Call, int64, error) {
	total, err := s.countCalls(ctx, q.Scope, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	calls, err := s.listPage(ctx, q, nil)
	if err != nil {
		return nil, 0, err
	}
	return calls, total, nil
}

// GetWaveform returns the peaks and frame index of a kept call within scope.
func (s *SQLite) GetWaveform(ctx context.Context, id string, scope Scope) (Waveform, error) {
	w, args := where(scope, Filter{})
	var wf Waveform
	var bucket int64
	var offs []byte
	var ch []byte
	err := s.queryRow(ctx, `SELECT c.peaks, c.peak_bucket_ms, c.frame_offsets, c.audio_samples_per_frame,
		c.audio_sample_rate, c.audio_size, c.channel_peaks, c.audio_channels`+callFrom+w+` AND c.id = ?`, append(args, id)...).
		Scan(&wf.Peaks, &bucket, &offs, &wf.SamplesPerFrame, &wf.SampleRate, &wf.AudioSize, &ch, &wf.Channels)
	if err != nil {
		return Waveform{}, notFound(err, "waveform of "+id)
	}
	wf.Bucket = time.Duration(bucket) * time.Millisecond
	if n := len(wf.Peaks); n > 0 && len(ch) == 2*n {
		wf.ChannelPeaks = [][]byte{ch[:n], ch[n:]}
	}
	if wf.FrameOffsets, err = DecodeOffsets(offs); err != nil {
		return Waveform{}, fmt.Errorf("waveform of %s: %w", id, err)
	}
	return wf, nil
}

// joinPeaks packs a stereo recording's peaks per channel for the
// channel_peaks column; nil (NULL) for mono.
func joinPeaks(w Waveform) []byte {
	if len(w.ChannelPeaks) != 2 || len(w.ChannelPeaks[0]) != len(w.Peaks) || len(w.ChannelPeaks[1]) != len(w.Peaks) {
		return nil
	}
	return append(append(make([]byte, 0, 2*len(w.Peaks)), w.ChannelPeaks[0]...), w.ChannelPeaks[1]...)
}

// AddOptOut counts n opted-out calls on day.
func (s *SQLite) AddOptOut(ctx context.Context, day time.Time, n int) error {
	return s.exec(ctx, "count opt-out", `INSERT INTO optout_counts (day, count) VALUES (?, ?)
		ON CONFLICT (day) DO UPDATE SET count = optout_counts.count + excluded.count`, ms(DayOf(day)), n)
}

// OptOutCount is the number of opted-out calls on day.
func (s *SQLite) OptOutCount(ctx context.Context, day time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count FROM optout_counts WHERE day = ?`, ms(DayOf(day))).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// AddSamplingCounts records how many recordings a day received and kept.
func (s *SQLite) AddSamplingCounts(ctx context.Context, day time.Time, received, kept int) error {
	return s.exec(ctx, "count sampling", `INSERT INTO sampling_counts (day, received, kept) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET received = sampling_counts.received + excluded.received,
		kept = sampling_counts.kept + excluded.kept`, ms(DayOf(day)), received, kept)
}

// Setting reads a key; ErrNotFound when unset.
func (s *SQLite) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err != nil {
		return "", notFound(err, "setting "+key)
	}
	return v, nil
}

// SetSetting writes a key.
func (s *SQLite) SetSetting(ctx context.Context, key, value string) error {
	return s.exec(ctx, "set "+key, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
}
