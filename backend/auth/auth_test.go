package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc/metadata"
)

// fast keeps the tests quick; the parameters travel with the hash anyway.
var fast = Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q does not carry its parameters", h)
	}
	if err := VerifyPassword(h, "correct horse battery"); err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if err := VerifyPassword(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery", fast)
	if h == h2 {
		t.Error("same hash twice: salt not random")
	}
	d, _ := HashPassword("x", DefaultParams)
	if !strings.Contains(d, "m=19456,t=2,p=1") {
		t.Errorf("default params not encoded: %s", d)
	}
	if err := VerifyPassword("$bcrypt$whatever", "x"); err == nil {
		t.Error("foreign hash format accepted")
	}
}

func newSessions(t *testing.T) (*Sessions, *clock.Fake, store.Store) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "a.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, _ := HashPassword("le bon mot de passe", fast)
	if err := st.CreateUser(context.Background(), store.User{ID: "u1", Login: "claire", DisplayName: "Claire Dubois",
		FirstName: "Claire", LastName: "Dubois", Role: "supervisor", PasswordHash: h,
		CreatedAt: time.Date(2026, 5, 6, 8, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	c := clock.NewFake(time.Date(2026, 5, 6, 8, 0, 0, 0, time.UTC))
	s, err := NewSessions(st, c, fast)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, st
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	s, c, st := newSessions(t)
	if _, _, _, err := s.Login(ctx, "claire", "mauvais", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "nobody", "le bon mot de passe", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown login: %v", err)
	}
	tok, exp, u, err := s.Login(ctx, "claire", "le bon mot de passe", "10.0.0.1:5555")
	if err != nil || u.ID != "u1" {
		t.Fatalf("login: %v", err)
	}
	if !exp.Equal(c.Now().Add(AbsoluteTimeout)) {
		t.Errorf("expires %v", exp)
	}
	se, err := st.SessionByHash(ctx, HashToken(tok))
	if err != nil || se.SourceAddr != "10.0.0.1:5555" {
		t.Errorf("session %+v, %v", se, err)
	}
	if _, err := st.SessionByHash(ctx, tok); err == nil {
		t.Error("raw token stored")
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSessions(t)
	tok, _, _, _ := s.Login(ctx, "claire", "le bon mot de passe", "")
	// Used every 29 minutes, the session lives until the absolute limit.
	for i := 0; i < 24; i++ {
		c.Advance(29 * time.Minute)
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatalf("after %d uses (%v): %v", i, 29*time.Minute*time.Duration(i+1), err)
		}
	}
	c.Advance(29 * time.Minute) // 12 h 05 in total
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("past absolute expiry: %v", err)
	}

	tok, _, _, _ = s.Login(ctx, "claire", "le bon mot de passe", "")
	c.Advance(IdleTimeout - time.Second)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("just before idle expiry: %v", err)
	}
	c.Advance(IdleTimeout)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("after idle expiry: %v", err)
	}
}

func TestLogoutRevokes(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newSessions(t)
	tok, _, _, _ := s.Login(ctx, "claire", "le bon mot de passe", "")
	p, err := s.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
}

func TestBearer(t *testing.T) {
	cases := map[string]bool{"Bearer abc": true, "bearer abc": true, "Basic abc": false, "Bearer ": false, "abc": false}
	for v, ok := range cases {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", v))
		if _, err := bearer(ctx); (err == nil) != ok {
			t.Errorf("bearer(%q) err = %v, want ok=%v", v, err, ok)
		}
	}
	if _, err := bearer(context.Background()); err == nil {
		t.Error("no metadata accepted")
	}
}
