package sshserve

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ecoute/ecoute/internal/clock"
)

// Rates are the rate limits, each a token bucket (golang.org/x/time/rate,
// read on the injectable clock). Counting per source alone would make a
// call centre behind one address share one budget, and counting
// connections alone would let an attacker try passwords at leisure:
// connections are counted per source with a generous budget, failed
// authentications per source and per account with tight ones.
type Rates struct {
	// Connections from one source address: Every one, Burst at once.
	ConnEvery time.Duration
	ConnBurst int
	// Failed authentications of one source address (a connection that
	// proved no key, a wrong password): past the budget, the source's
	// connections are refused until it refills.
	SourceFailEvery time.Duration
	SourceFailBurst int
	// Password attempts refused for one account, on top of the backend's
	// own lockout (which the console logins share).
	AccountFailEvery time.Duration
	AccountFailBurst int
}

// DefaultRates: 30 connections at once then one a second per source; 10
// failures then one every 30 s per source; 5 wrong passwords then one a
// minute per account.
var DefaultRates = Rates{
	ConnEvery: time.Second, ConnBurst: 30,
	SourceFailEvery: 30 * time.Second, SourceFailBurst: 10,
	AccountFailEvery: time.Minute, AccountFailBurst: 5,
}

// maxBuckets bounds each map of buckets: full buckets are forgotten first.
const maxBuckets = 10000

type buckets struct {
	every time.Duration
	burst int
	m     map[string]*rate.Limiter
}

func newBuckets(every time.Duration, burst int) *buckets {
	return &buckets{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

func (b *buckets) get(key string, now time.Time) *rate.Limiter {
	l := b.m[key]
	if l == nil {
		if len(b.m) >= maxBuckets {
			for k, x := range b.m {
				if x.TokensAt(now) >= float64(b.burst) {
					delete(b.m, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Every(b.every), b.burst)
		b.m[key] = l
	}
	return l
}

// limits holds the buckets.
type limits struct {
	mu          sync.Mutex
	clock       clock.Clock
	conn        *buckets
	sourceFail  *buckets
	accountFail *buckets
}

func newLimits(r Rates, c clock.Clock) *limits {
	return &limits{clock: c, conn: newBuckets(r.ConnEvery, r.ConnBurst),
		sourceFail:  newBuckets(r.SourceFailEvery, r.SourceFailBurst),
		accountFail: newBuckets(r.AccountFailEvery, r.AccountFailBurst)}
}

// admit takes a connection's token of the source, and refuses a source
// that has failed too often.
func (l *limits) admit(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if l.sourceFail.get(source, now).TokensAt(now) < 1 {
		return false
	}
	return l.conn.get(source, now).AllowN(now, 1)
}

// sourceOK tells whether the source has failed authentications left.
func (l *limits) sourceOK(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	return l.sourceFail.get(source, now).TokensAt(now) >= 1
}

// passwordAllowed tells whether a password may be tried now.
func (l *limits) passwordAllowed(source, account string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	return l.sourceFail.get(source, now).TokensAt(now) >= 1 && l.accountFail.get(account, now).TokensAt(now) >= 1
}

// failed counts a failed authentication against the source, and against
// the account when a password was wrong.
func (l *limits) failed(source, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.sourceFail.get(source, now).AllowN(now, 1)
	if account != "" {
		l.accountFail.get(account, now).AllowN(now, 1)
	}
}

var errTooMany = errors.New("too many sessions") // i18n: a sentinel

// slots caps the sessions open at once.
type slots struct {
	mu         sync.Mutex
	max, per   int
	total      int
	perAccount map[string]int
}

func newSlots(max, per int) *slots { return &slots{max: max, per: per, perAccount: map[string]int{}} }

// room tells whether a session of login could open now.
func (s *slots) room(login string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total < s.max && s.perAccount[login] < s.per
}

// take reserves a session of login; release gives it back.
func (s *slots) take(login string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.max || s.perAccount[login] >= s.per {
		return false
	}
	s.total++
	s.perAccount[login]++
	return true
}

func (s *slots) release(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.perAccount[login]--; s.perAccount[login] <= 0 {
		delete(s.perAccount, login)
	}
}
