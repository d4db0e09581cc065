package core

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Pairing: a console whose sound plays elsewhere (a console served over
// SSH runs on the server, which plays no sound) publishes what its player
// does; a companion on the reviewer's machine, logged in as the same
// account, follows it and plays the call itself. A pairing belongs to the
// session that created it, lives in this process's memory and ends with
// the session. A companion joins it with a one-time code: short-lived,
// single use, valid for the same account only.

// Audit actions of pairings.
const (
	ActionPairingCreate  = "pairing.create"
	ActionPairingFollow  = "pairing.follow"
	ActionPairingPublish = "pairing.publish" // a new call for the companions
)

// Pairing limits.
const (
	// PairingCodeTTL is how long an unused code works.
	PairingCodeTTL = 5 * time.Minute
	// PairingHeartbeat is the longest a follower waits for a message
	// while the pairing lives (the position is sent again).
	PairingHeartbeat = 5 * time.Second
	// maxFollowFailures refused follows of an account within
	// PairingCodeTTL stop its further attempts until the window passes.
	maxFollowFailures = 10
	// maxFollowers per pairing.
	maxFollowers = 4
)

// pairingAlphabet has no look-alikes (0/O, 1/I/L) and no vowels that
// spell words: 8 characters give about 39 bits.
const pairingAlphabet = "BCDFGHJKMNPQRSTVWXZ23456789"

// PlaybackState is what a player is doing (see ecoute.v1.PlaybackState).
type PlaybackState struct {
	CallID             string
	Playing            bool
	Position           time.Duration
	Speed              float64
	LoopStart, LoopEnd time.Duration
	VolumeDB           float64
	Muted              bool
	Balance            float64
	PartyMuted         [2]bool
	Sequence           uint64
}

// Pairing is a session's pairing with its current code.
type Pairing struct {
	ID          string
	Code        string // XXXX-XXXX
	CodeExpires time.Time
}

// PlaybackUpdate is one message to a follower.
type PlaybackUpdate struct {
	PairingID string
	Login     string
	State     PlaybackState // the position as of SentAt
	SentAt    time.Time
	Ended     bool
}

type pairing struct {
	id      string
	userID  string
	login   string
	session string // the publisher's token hash

	code        string
	codeExpires time.Time

	state     PlaybackState
	at        time.Time // when state was published
	followers int
	changed   chan struct{} // closed and replaced at each change
	ended     bool
}

type followFailures struct {
	n     int
	since time.Time
}

// pairings is the Backend's hub; its zero value is ready.
type pairings struct {
	mu        sync.Mutex
	byID      map[string]*pairing
	bySession map[string]*pairing
	byCode    map[string]*pairing
	failures  map[string]followFailures // by user id
}

func (h *pairings) init() {
	if h.byID == nil {
		h.byID, h.bySession, h.byCode = map[string]*pairing{}, map[string]*pairing{}, map[string]*pairing{}
		h.failures = map[string]followFailures{}
	}
}

// hubInit guards the making of a Backend's hub (a Backend may be copied
// before: the copy makes its own).
var hubInit sync.Mutex

// hub is the Backend's pairings.
func (b *Backend) hub() *pairings {
	hubInit.Lock()
	defer hubInit.Unlock()
	if b.pairing == nil {
		b.pairing = &pairings{}
	}
	return b.pairing
}

// NormalizePairingCode is a code as typed (any case, with or without the
// dash or spaces) in its canonical form.
func NormalizePairingCode(code string) string {
	code = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, code))
	if len(code) != 8 {
		return code
	}
	return code[:4] + "-" + code[4:]
}

func newPairingCode() string {
	var b strings.Builder
	for i := range 8 {
		if i == 4 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(pairingAlphabet))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		b.WriteByte(pairingAlphabet[n.Int64()])
	}
	return b.String()
}

// session is the caller's token hash, required for pairing.
func sessionOf(session string) error {
	if session == "" {
		return domain.New(domain.ReasonUnauthenticated, "a session is required")
	}
	return nil
}

// CreatePairing gives the caller's session its pairing (made at the first
// call) with a fresh code; the previous unused code stops working.
func (b *Backend) CreatePairing(ctx context.Context, c Caller, session string) (Pairing, error) {
	e := entry{}
	b.sweepPairings(ctx)
	p, err := func() (Pairing, error) {
		if err := sessionOf(session); err != nil {
			return Pairing{}, err
		}
		h := b.hub()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.init()
		pr := h.bySession[session]
		if pr == nil {
			pr = &pairing{id: NewID(), userID: c.User.ID, login: c.User.Login, session: session,
				changed: make(chan struct{}), state: PlaybackState{Speed: 1}}
			h.byID[pr.id], h.bySession[session] = pr, pr
		}
		if pr.code != "" {
			delete(h.byCode, pr.code)
		}
		pr.code, pr.codeExpires = newPairingCode(), b.Clock.Now().Add(PairingCodeTTL)
		h.byCode[pr.code] = pr
		e.target = pr.id
		e.details = map[string]string{"code_expires": pr.codeExpires.UTC().Format(time.RFC3339)}
		return Pairing{ID: pr.id, Code: pr.code, CodeExpires: pr.codeExpires}, nil
	}()
	return p, b.record(ctx, c, ActionPairingCreate, e, err)
}

// PublishPlayback sets the state of the caller session's pairing and wakes
// its followers; it returns how many follow. A state not newer than the
// last (by sequence) is ignored. Refusals are recorded, and so is each new
// call the companions are asked to play (not every key press).
func (b *Backend) PublishPlayback(ctx context.Context, c Caller, session, pairingID string, st PlaybackState) (int, error) {
	n, newCall, err := b.publish(session, pairingID, &st)
	switch {
	case err != nil:
		return 0, b.record(ctx, c, ActionPairingPublish, entry{target: pairingID}, err)
	case newCall:
		// What the companions are asked to play is traced; their own
		// reads of the audio are recorded as any console's.
		return n, b.record(ctx, c, ActionPairingPublish, entry{target: st.CallID,
			details: map[string]string{"pairing": pairingID, "followers": strconv.Itoa(n)}}, nil)
	}
	return n, nil
}

func (b *Backend) publish(session, pairingID string, st *PlaybackState) (followers int, newCall bool, err error) {
	if err := sessionOf(session); err != nil {
		return 0, false, err
	}
	if pairingID == "" {
		return 0, false, domain.Invalid("pairing_id", "is required")
	}
	if st.Speed == 0 {
		st.Speed = 1
	}
	if st.Speed < 0 || st.Speed > 4 || st.Position < 0 || st.LoopStart < 0 || st.LoopEnd < 0 {
		return 0, false, domain.Invalid("state", "speed, position or loop out of range")
	}
	h := b.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.init()
	pr := h.byID[pairingID]
	if pr == nil || pr.session != session || pr.ended {
		return 0, false, domain.NotFound("pairing_id: no pairing %q of this session", pairingID)
	}
	if st.Sequence > pr.state.Sequence || (st.Sequence == 0 && pr.state.Sequence == 0) {
		newCall = st.CallID != "" && st.CallID != pr.state.CallID
		pr.state, pr.at = *st, b.Clock.Now()
		close(pr.changed)
		pr.changed = make(chan struct{})
	}
	return pr.followers, newCall, nil
}

// Follower receives a pairing's states.
type Follower struct {
	b  *Backend
	pr *pairing
	// last is the change channel seen by the last Next.
	last chan struct{}
	sent bool
	once sync.Once
}

// FollowPlayback joins a pairing by its one-time code or, to rejoin, by
// its id (for the account that joined it before). Recorded as
// pairing.follow.
func (b *Backend) FollowPlayback(ctx context.Context, c Caller, code, pairingID string) (*Follower, error) {
	e := entry{details: map[string]string{"by": "code"}}
	if code == "" {
		e.details["by"] = "rejoin"
	}
	f, err := b.follow(c, code, pairingID, &e)
	return f, b.record(ctx, c, ActionPairingFollow, e, err)
}

func (b *Backend) follow(c Caller, code, pairingID string, e *entry) (*Follower, error) {
	invalid := domain.New(domain.ReasonPairingCodeInvalid,
		"code: unknown, expired or already used; ask the console for a new one")
	h := b.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.init()
	now := b.Clock.Now()
	ff := h.failures[c.User.ID]
	if now.Sub(ff.since) >= PairingCodeTTL {
		ff = followFailures{since: now}
	}
	if ff.n >= maxFollowFailures {
		return nil, invalid
	}
	fail := func(err error) (*Follower, error) {
		ff.n++
		h.failures[c.User.ID] = ff
		return nil, err
	}
	var pr *pairing
	switch {
	case code != "":
		code = NormalizePairingCode(code)
		pr = h.byCode[code]
		if pr == nil || pr.userID != c.User.ID || !now.Before(pr.codeExpires) {
			return fail(invalid)
		}
		delete(h.byCode, code)
		pr.code = ""
	case pairingID != "":
		pr = h.byID[pairingID]
		if pr == nil || pr.userID != c.User.ID {
			return fail(domain.NotFound("pairing_id: no pairing %q of this account", pairingID))
		}
		if pr.ended {
			return nil, domain.New(domain.ReasonPairingEnded, "the session this pairing belonged to has ended")
		}
	default:
		return nil, domain.Invalid("code", "is required: the code the console shows")
	}
	e.target = pr.id
	if pr.followers >= maxFollowers {
		return nil, domain.New(domain.ReasonResourceExhausted, "pairing %s has %d companions already", pr.id, maxFollowers)
	}
	pr.followers++
	return &Follower{b: b, pr: pr}, nil
}

// Next waits for the pairing's next state: at once the first time, then
// at each change, or after PairingHeartbeat; the last update has Ended
// set. It checks meanwhile that the publisher's session is still open.
func (f *Follower) Next(ctx context.Context) (PlaybackUpdate, error) {
	h := f.b.hub()
	if f.sent {
		h.mu.Lock()
		ch, ended := f.pr.changed, f.pr.ended
		h.mu.Unlock()
		if !ended && ch == f.last {
			t := time.NewTimer(PairingHeartbeat)
			select {
			case <-ctx.Done():
				t.Stop()
				return PlaybackUpdate{}, ctx.Err()
			case <-ch:
			case <-t.C:
			}
			t.Stop()
		}
		if !f.b.sessionAlive(ctx, f.pr.session) {
			f.b.endPairings(f.pr.session)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f.sent = true
	f.last = f.pr.changed
	now := f.b.Clock.Now()
	st := f.pr.state
	if st.Playing {
		st.Position += time.Duration(float64(now.Sub(f.pr.at)) * st.Speed)
		if st.LoopEnd > st.LoopStart && st.Position >= st.LoopEnd {
			st.Position = st.LoopStart + (st.Position-st.LoopStart)%(st.LoopEnd-st.LoopStart)
		}
	}
	return PlaybackUpdate{PairingID: f.pr.id, Login: f.pr.login, State: st, SentAt: now, Ended: f.pr.ended}, nil
}

// Close leaves the pairing.
func (f *Follower) Close() {
	f.once.Do(func() {
		h := f.b.hub()
		h.mu.Lock()
		f.pr.followers--
		h.mu.Unlock()
	})
}

// sessionAlive tells whether the session (token hash) is still open.
func (b *Backend) sessionAlive(ctx context.Context, hash string) bool {
	se, err := b.Store.SessionByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		return true // a store hiccup does not end a pairing
	}
	now := b.Clock.Now()
	return now.Before(se.ExpiresAt) && now.Before(se.LastUsedAt.Add(auth.IdleTimeout))
}

// endPairings ends the pairing of a session (token hash): its followers
// get a last message, its code stops working.
func (b *Backend) endPairings(session string) {
	h := b.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.init()
	pr := h.bySession[session]
	if pr == nil {
		return
	}
	delete(h.bySession, session)
	if pr.code != "" {
		delete(h.byCode, pr.code)
		pr.code = ""
	}
	pr.ended = true
	close(pr.changed)
	pr.changed = make(chan struct{})
	// Kept by id for a while so that a rejoining companion is told the
	// session ended; forgotten with the next sweep.
	h.sweepLocked(b.Clock.Now())
}

// sweepPairings ends the pairings whose session has ended without saying
// so (a console's logout, an expiry, a revocation).
func (b *Backend) sweepPairings(ctx context.Context) {
	h := b.hub()
	h.mu.Lock()
	h.init()
	var sessions []string
	for s := range h.bySession {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		if !b.sessionAlive(ctx, s) {
			b.endPairings(s)
		}
	}
}

// sweepLocked forgets ended pairings nobody follows any more, and expired
// codes.
func (h *pairings) sweepLocked(now time.Time) {
	for id, pr := range h.byID {
		if pr.ended && pr.followers == 0 {
			delete(h.byID, id)
		}
	}
	for code, pr := range h.byCode {
		if !now.Before(pr.codeExpires) {
			delete(h.byCode, code)
			pr.code = ""
		}
	}
}
