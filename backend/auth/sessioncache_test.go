package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
)

// countingStore counts the session check's reads and writes.
type countingStore struct {
	store.Store
	mu                    sync.Mutex
	sessions, users, each int
	touches               []time.Time
}

func (c *countingStore) SessionByHash(ctx context.Context, h string) (store.Session, error) {
	c.mu.Lock()
	c.sessions++
	c.mu.Unlock()
	return c.Store.SessionByHash(ctx, h)
}

func (c *countingStore) UserByID(ctx context.Context, id string) (store.User, error) {
	c.mu.Lock()
	c.users++
	c.mu.Unlock()
	return c.Store.UserByID(ctx, id)
}

func (c *countingStore) TouchSession(ctx context.Context, h string, at time.Time) error {
	c.mu.Lock()
	c.touches = append(c.touches, at)
	c.mu.Unlock()
	return c.Store.TouchSession(ctx, h, at)
}

func (c *countingStore) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions + c.users
}

// exec runs SQL on the store's database, as another process would.
func exec(t *testing.T, st store.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.(*store.SQLite).DB().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestSessionCheckCached: a checked session is answered without reading
// the session or the user again, its last use is written once a minute,
// and the idle timeout still counts from the last use.
func TestSessionCheckCached(t *testing.T) {
	ctx := context.Background()
	s, c, st := newSessions(t)
	cs := &countingStore{Store: st}
	s.Store = cs
	tok, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	reads := cs.reads()
	start := c.Now()
	for range 120 {
		c.Advance(time.Second)
		p, err := s.Authenticate(ctx, tok)
		if err != nil || p.User.Login != "claire" {
			t.Fatalf("cached check: %+v, %v", p, err)
		}
	}
	if cs.reads() != reads {
		t.Errorf("120 checks read the session or user %d times; want none", cs.reads()-reads)
	}
	// Written at the full check, then at +60 s and +120 s.
	if len(cs.touches) != 3 || !cs.touches[1].Equal(start.Add(time.Minute)) || !cs.touches[2].Equal(start.Add(2*time.Minute)) {
		t.Errorf("last use written at %v; want once a minute from %v", cs.touches, start)
	}
	se, _ := st.SessionByHash(ctx, HashToken(tok))
	if !se.LastUsedAt.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("stored last use %v", se.LastUsedAt)
	}
	// Used at +150 s (not written: within a minute of the last write),
	// then idle: alive until +150 s + IdleTimeout, even when another
	// session's change sends the check back to the store, whose last use
	// is 30 s older.
	c.Advance(30 * time.Second)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	c.Advance(IdleTimeout - 10*time.Second)
	exec(t, st, `DELETE FROM sessions WHERE token_hash = 'someone else'`) // no row: no change
	exec(t, st, `INSERT INTO sessions (token_hash, user_id, created_at, last_used_at, expires_at) VALUES ('other', 'u1', 0, 0, 1)`)
	exec(t, st, `DELETE FROM sessions WHERE token_hash = 'other'`)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("%v after the last use, checked against the store: %v", IdleTimeout-10*time.Second, err)
	}
	c.Advance(IdleTimeout)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("idle past the timeout: %v", err)
	}
}

// TestSessionCacheNeverStale: a change made to the account, its teams or
// its sessions, by this process or another, is seen by the very next
// check.
func TestSessionCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	s, _, st := newSessions(t)
	for _, id := range []string{"t1", "t2"} {
		if err := st.CreateTeam(ctx, store.Team{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	login := func() string {
		t.Helper()
		tok, _, _, err := s.Login(ctx, "claire", "le bon mot de passe", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok); err != nil { // now cached
			t.Fatal(err)
		}
		return tok
	}
	tok := login()
	exec(t, st, `INSERT INTO user_teams (user_id, team_id) VALUES ('u1', 't1'), ('u1', 't2')`)
	if p, err := s.Authenticate(ctx, tok); err != nil || !slices.Equal(p.User.TeamIDs, []string{"t1", "t2"}) {
		t.Errorf("teams added: %v, %v", p.User.TeamIDs, err)
	}
	exec(t, st, `DELETE FROM user_teams WHERE team_id = 't2'`)
	if p, err := s.Authenticate(ctx, tok); err != nil || !slices.Equal(p.User.TeamIDs, []string{"t1"}) {
		t.Errorf("team removed: %v, %v", p.User.TeamIDs, err)
	}
	exec(t, st, `UPDATE users SET role = 'trainer' WHERE id = 'u1'`)
	if p, err := s.Authenticate(ctx, tok); err != nil || p.User.Role != "trainer" {
		t.Errorf("role changed: %q, %v", p.User.Role, err)
	}
	exec(t, st, `UPDATE users SET disabled = 1 WHERE id = 'u1'`)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("disabled account: %v", err)
	}
	exec(t, st, `UPDATE users SET disabled = 0 WHERE id = 'u1'`)
	tok = login()
	exec(t, st, `DELETE FROM sessions WHERE token_hash = ?`, HashToken(tok))
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("session revoked by another process: %v", err)
	}
	tok = login()
	p, _ := s.Authenticate(ctx, tok)
	p.User.TeamIDs[0] = "changed by a caller"
	if p2, _ := s.Authenticate(ctx, tok); p2.User.TeamIDs[0] != "t1" {
		t.Errorf("a caller's change reached the cache: %v", p2.User.TeamIDs)
	}
	if err := s.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
}
