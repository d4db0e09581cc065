package auth

import (
	"slices"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/store"
)

// The session check of every request read the session, the user and the
// user's teams (three queries) and wrote the session's last use: 21% of
// the backend's CPU under 50 consoles, and a write that empties every
// other database connection's page cache. The check's result is now kept
// per token with the store's 'auth' change counter (store.ChangeCounters),
// which every change of accounts, their teams and sessions raises, from
// any process: while it has not moved, the result still holds and one
// small read confirms it. The last use is kept in memory and written at
// most once per TouchEvery; the idle timeout counts from the last use all
// the same (from the last write, to within TouchEvery, after a restart).

// TouchEvery is how often a session's last use is written to the store.
const TouchEvery = time.Minute

// maxCachedSessions bounds the cache; beyond it, idle sessions are
// dropped, then all.
const maxCachedSessions = 10000

type cachedSession struct {
	p        Principal
	gen      int64     // the 'auth' change counter when it was checked
	expires  time.Time // absolute expiry
	lastUsed time.Time
	touched  time.Time // last use written to the store
}

// sessionCache is usable as its zero value.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]*cachedSession
}

// use returns the principal of token hash h when it was checked while the
// change counter was gen and the session has not expired by now, and
// records the use; touch says the last use should be written. Otherwise
// lastUsed is the last use it knew of (zero if none), which the store may
// not have yet.
func (c *sessionCache) use(h string, gen int64, now time.Time) (p Principal, touch, ok bool, lastUsed time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[h]
	if e == nil {
		return Principal{}, false, false, time.Time{}
	}
	if e.gen != gen || !now.Before(e.expires) || !now.Before(e.lastUsed.Add(IdleTimeout)) {
		delete(c.m, h)
		return Principal{}, false, false, e.lastUsed
	}
	e.lastUsed = now
	if now.Sub(e.touched) >= TouchEvery {
		e.touched, touch = now, true
	}
	return clonePrincipal(e.p), touch, true, e.lastUsed
}

// put keeps what a full check found at now (which it wrote as the last
// use).
func (c *sessionCache) put(h string, gen int64, p Principal, se store.Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*cachedSession{}
	}
	if len(c.m) >= maxCachedSessions {
		for k, e := range c.m {
			if !now.Before(e.lastUsed.Add(IdleTimeout)) || !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedSessions {
			clear(c.m)
		}
	}
	c.m[h] = &cachedSession{p: clonePrincipal(p), gen: gen, expires: se.ExpiresAt, lastUsed: now, touched: now}
}

// clonePrincipal copies the slices a caller could change.
func clonePrincipal(p Principal) Principal {
	p.User.TeamIDs = slices.Clone(p.User.TeamIDs)
	return p
}
