package backend_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc/codes"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// newKey is a fresh ed25519 public key as an authorized_keys line.
func newKey(t *testing.T, comment string) (ssh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " " + comment
}

// TestSSHKeysOverGRPC: an administrator registers, lists and removes the
// SSH keys of an account; bad keys are refused with the field named; other
// roles may not; every change is in the trail.
func TestSSHKeysOverGRPC(t *testing.T) {
	actx, adm := adminCtx(t)
	// The shared backend's trail may hold key changes of other tests
	// (those that call every method): count this test's own.
	ctx := context.Background()
	entries := func(action string) int {
		t.Helper()
		links, err := env.app.Audit().List(ctx, audit.Query{Action: action, ActorLogin: env.accounts["admin"].Login, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(links)
	}
	before := map[string]int{core.ActionSSHKeyAdd: entries(core.ActionSSHKeyAdd), core.ActionSSHKeyRemove: entries(core.ActionSSHKeyRemove)}
	sup := env.accounts["supervisor"]
	users, err := adm.ListUsers(actx, &ecoutev1.ListUsersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var supID string
	for _, u := range users.Accounts {
		if u.Login == sup.Login {
			supID = u.UserId
		}
	}
	pub, line := newKey(t, "claire@portable")
	resp, err := adm.AddSshKey(actx, &ecoutev1.AddSshKeyRequest{UserId: supID, PublicKey: line, RequestId: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	k := resp.Key
	if k.Fingerprint != ssh.FingerprintSHA256(pub) || k.Login != sup.Login || k.Type != "ssh-ed25519" ||
		k.Comment != "claire@portable" || k.AddedBy != env.accounts["admin"].Login || k.AddedAt == nil || k.LastUsedAt != nil {
		t.Errorf("added key: %v", k)
	}
	// The same request again is answered, not applied twice.
	again, err := adm.AddSshKey(actx, &ecoutev1.AddSshKeyRequest{UserId: supID, PublicKey: line, RequestId: "k1"})
	if err != nil || again.Key.Fingerprint != k.Fingerprint {
		t.Errorf("resent request: %v %v", again, err)
	}
	// A second key for the same account; the first again is refused.
	_, line2 := newKey(t, "claire@bureau")
	if _, err := adm.AddSshKey(actx, &ecoutev1.AddSshKeyRequest{UserId: supID, PublicKey: line2}); err != nil {
		t.Fatal(err)
	}
	_, err = adm.AddSshKey(actx, &ecoutev1.AddSshKeyRequest{UserId: supID, PublicKey: line})
	if code(err) != codes.AlreadyExists {
		t.Errorf("key registered twice: %v", err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPub, _ := ssh.NewPublicKey(&weak.PublicKey)
	for name, bad := range map[string]string{
		"empty":       "",
		"not a key":   "bonjour",
		"weak RSA":    string(ssh.MarshalAuthorizedKey(weakPub)),
		"with option": `command="ls" ` + line2,
		"two keys":    line + "\n" + line2,
	} {
		_, err := adm.AddSshKey(actx, &ecoutev1.AddSshKeyRequest{UserId: supID, PublicKey: bad})
		if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "public_key") {
			t.Errorf("%s: %v", name, err)
		}
	}
	list, err := adm.ListSshKeys(actx, &ecoutev1.ListSshKeysRequest{UserId: supID})
	if err != nil || len(list.Keys) != 2 || list.Keys[0].Fingerprint != k.Fingerprint || list.Keys[1].Comment != "claire@bureau" {
		t.Fatalf("list: %v %v", list, err)
	}
	// Only administrators manage keys.
	if _, err := adm.ListSshKeys(login(t, "supervisor"), &ecoutev1.ListSshKeysRequest{}); code(err) != codes.PermissionDenied {
		t.Errorf("supervisor lists keys: %v", err)
	}
	if _, err := adm.RemoveSshKey(actx, &ecoutev1.RemoveSshKeyRequest{UserId: supID, Fingerprint: "SHA256:nope"}); code(err) != codes.NotFound {
		t.Errorf("remove unknown: %v", err)
	}
	rm, err := adm.RemoveSshKey(actx, &ecoutev1.RemoveSshKeyRequest{UserId: supID, Fingerprint: k.Fingerprint})
	if err != nil || rm.Key.Comment != "claire@portable" {
		t.Fatalf("remove: %v %v", rm, err)
	}
	if list, _ = adm.ListSshKeys(actx, &ecoutev1.ListSshKeysRequest{UserId: supID}); len(list.GetKeys()) != 1 {
		t.Errorf("%d keys after removal", len(list.GetKeys()))
	}
	for action, want := range map[string]int{core.ActionSSHKeyAdd: 3 + 5, core.ActionSSHKeyRemove: 2} {
		if got := entries(action) - before[action]; got != want {
			t.Errorf("%s: %d entries, want %d", action, got, want)
		}
	}
}

// sshWorld is a backend of its own, on a clock the test moves.
type sshWorld struct {
	app   *backend.App
	core  *core.Backend
	clock *clock.Fake
	ctx   context.Context
}

func newSSHWorld(t *testing.T) *sshWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	app, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	if err := app.Store().CreateTeam(ctx, store.Team{ID: "team-a", Name: "Équipe A", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []backend.NewUser{
		{Login: "claire", DisplayName: "Claire Dubois", Role: "supervisor", TeamIDs: []string{"team-a"}, Password: hrPassword},
		{Login: "marc", DisplayName: "Marc Petit", Role: "supervisor", TeamIDs: []string{"team-a"}, Password: hrPassword},
	} {
		if err := app.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return &sshWorld{app: app, core: app.Core(), clock: clk, ctx: ctx}
}

func (w *sshWorld) user(t *testing.T, login string) domain.User {
	t.Helper()
	u, err := w.core.UserByLogin(w.ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *sshWorld) trail(t *testing.T, action string) []audit.Link {
	t.Helper()
	links, err := w.app.Audit().List(w.ctx, audit.Query{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// TestSSHLoginTwoFactors: the key must be the account's, then the
// password goes through the console's login path, failures counting
// toward the same lockout; start and end are in the trail with the source.
func TestSSHLoginTwoFactors(t *testing.T) {
	w := newSSHWorld(t)
	claire := w.user(t, "claire")
	pub, line := newKey(t, "claire")
	if _, err := w.core.AddSSHKey(w.ctx, core.Local(), claire.ID, line); err != nil {
		t.Fatal(err)
	}
	fp := ssh.FingerprintSHA256(pub)
	other, _ := newKey(t, "nobody")
	for _, c := range []struct {
		login, fp string
		want      bool
	}{{"claire", fp, true}, {"marc", fp, false}, {"ghost", fp, false}, {"claire", ssh.FingerprintSHA256(other), false}} {
		if got, err := w.core.SSHKeyOwned(w.ctx, c.login, c.fp); err != nil || got != c.want {
			t.Errorf("SSHKeyOwned(%s, %s) = %v, %v", c.login, c.fp, got, err)
		}
	}
	const src = "198.51.100.7:50022"
	// A key of nobody's is refused even with the right password.
	_, err := w.core.SSHLogin(w.ctx, core.SSHAttempt{Login: "claire", Password: hrPassword, Fingerprint: ssh.FingerprintSHA256(other), Source: src})
	if domain.ReasonOf(err) != domain.ReasonBadCredentials {
		t.Errorf("unregistered key: %v", err)
	}
	// Wrong passwords with the right key count toward the throttle of this
	// login from this address, the console's: past LockAfter, even the
	// right password is refused there, with the same answer (nobody learns
	// that the login is throttled).
	for i := 1; i <= auth.DefaultRules.LockAfter; i++ {
		_, err := w.core.SSHLogin(w.ctx, core.SSHAttempt{Login: "claire", Password: "pas le bon", Fingerprint: fp, Source: src})
		if domain.ReasonOf(err) != domain.ReasonBadCredentials {
			t.Fatalf("failure %d: %v, want %s", i, err, domain.ReasonBadCredentials)
		}
	}
	if _, err := w.core.SSHLogin(w.ctx, core.SSHAttempt{Login: "claire", Password: hrPassword, Fingerprint: fp, Source: src}); domain.ReasonOf(err) != domain.ReasonBadCredentials {
		t.Errorf("right password while throttled: %v", err)
	}
	// The console's login from that address is throttled too: one throttle
	// for both doors. From elsewhere the account's owner still logs in.
	if _, err := w.core.Login(w.ctx, "claire", hrPassword, "198.51.100.7:1"); domain.ReasonOf(err) != domain.ReasonBadCredentials {
		t.Errorf("console login from the same address after SSH failures: %v", err)
	}
	if _, err := w.core.Login(w.ctx, "claire", hrPassword, "127.0.0.1:1"); err != nil {
		t.Errorf("console login from another address: %v", err)
	}
	w.clock.Advance(auth.DefaultRules.LockFor + time.Second)
	se, err := w.core.SSHLogin(w.ctx, core.SSHAttempt{Login: "claire", Password: hrPassword, Fingerprint: fp, Source: src, Client: "SSH-2.0-OpenSSH_9.2"})
	if err != nil || se.User.Login != "claire" || se.User.Role != "supervisor" || se.Token == "" {
		t.Fatalf("SSH login: %+v %v", se, err)
	}
	if k, _ := w.app.Store().SSHKey(w.ctx, fp); !k.LastUsedAt.Equal(w.clock.Now()) {
		t.Errorf("key last use %v, want %v", k.LastUsedAt, w.clock.Now())
	}
	w.core.SSHRefused(w.ctx, "marc", src, "key", "SSH-2.0-Go")
	refused := w.trail(t, core.ActionSSHLogin)
	if len(refused) != 1+auth.DefaultRules.LockAfter+1+1 {
		t.Errorf("%d refusals recorded", len(refused))
	}
	for _, l := range refused {
		if l.Source != src || l.Details["result"] == "ok" || l.Details["step"] == "" {
			t.Errorf("refusal entry: %+v", l.Entry)
		}
	}
	starts := w.trail(t, core.ActionSSHSessionStart)
	if len(starts) != 1 || starts[0].Actor.Login != "claire" || starts[0].Source != src || starts[0].Details["key"] != fp {
		t.Fatalf("start: %+v", starts)
	}
	w.clock.Advance(90 * time.Second)
	if err := w.core.SSHSessionEnded(w.ctx, core.SSHEnd{User: se.User, Token: se.Token, Source: src, Reason: "idle",
		Started: w.clock.Now().Add(-90 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	ends := w.trail(t, core.ActionSSHSessionEnd)
	if len(ends) != 1 || ends[0].Details["reason"] != "idle" || ends[0].Details["duration"] != "1m30s" || ends[0].Source != src {
		t.Errorf("end: %+v", ends)
	}
	// The backend session is closed with it.
	if _, err := w.app.Store().SessionByHash(w.ctx, auth.HashToken(se.Token)); err == nil {
		t.Error("the SSH session's backend session is still open")
	}
}

// TestPairing: a code joins the pairing of the session that made it, once,
// for the same account, within its life; the follower gets the published
// state with the position carried forward; the session's end ends it.
func TestPairing(t *testing.T) {
	w := newSSHWorld(t)
	open := func(login string) (core.Caller, core.Session) {
		se, err := w.core.Login(w.ctx, login, hrPassword, "127.0.0.1:2")
		if err != nil {
			t.Fatal(err)
		}
		return core.Caller{User: se.User, Source: "127.0.0.1:2"}, se
	}
	pub, pubSe := open("claire")
	comp, _ := open("claire")
	marc, _ := open("marc")
	hash := auth.HashToken(pubSe.Token)

	p, err := w.core.CreatePairing(w.ctx, pub, hash)
	if err != nil || len(p.Code) != 9 || p.Code[4] != '-' || !p.CodeExpires.Equal(w.clock.Now().Add(core.PairingCodeTTL)) {
		t.Fatalf("pairing: %+v %v", p, err)
	}
	// Another account's code is invalid, and does not consume it.
	if _, err := w.core.FollowPlayback(w.ctx, marc, p.Code, ""); domain.ReasonOf(err) != domain.ReasonPairingCodeInvalid {
		t.Errorf("marc follows claire's code: %v", err)
	}
	// A new code replaces the unused one.
	p2, err := w.core.CreatePairing(w.ctx, pub, hash)
	if err != nil || p2.ID != p.ID || p2.Code == p.Code {
		t.Fatalf("second code: %+v %v", p2, err)
	}
	if _, err := w.core.FollowPlayback(w.ctx, comp, p.Code, ""); domain.ReasonOf(err) != domain.ReasonPairingCodeInvalid {
		t.Errorf("replaced code: %v", err)
	}
	// Codes expire.
	w.clock.Advance(core.PairingCodeTTL)
	if _, err := w.core.FollowPlayback(w.ctx, comp, p2.Code, ""); domain.ReasonOf(err) != domain.ReasonPairingCodeInvalid {
		t.Errorf("expired code: %v", err)
	}
	p3, err := w.core.CreatePairing(w.ctx, pub, hash)
	if err != nil {
		t.Fatal(err)
	}
	// Typed in lower case without the dash, it works; once.
	typed := strings.ToLower(strings.ReplaceAll(p3.Code, "-", ""))
	f, err := w.core.FollowPlayback(w.ctx, comp, typed, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.core.FollowPlayback(w.ctx, comp, p3.Code, ""); domain.ReasonOf(err) != domain.ReasonPairingCodeInvalid {
		t.Errorf("code used twice: %v", err)
	}
	first, err := f.Next(w.ctx)
	if err != nil || first.PairingID != p.ID || first.Login != "claire" || first.State.Playing || first.Ended {
		t.Fatalf("first update: %+v %v", first, err)
	}
	// Publishing: only the pairing's own session may.
	st := core.PlaybackState{CallID: "call-1", Playing: true, Position: 10 * time.Second, Speed: 1.5, Sequence: 1}
	if _, err := w.core.PublishPlayback(w.ctx, comp, "another-session", p.ID, st); domain.ReasonOf(err) != domain.ReasonNotFound {
		t.Errorf("publish from another session: %v", err)
	}
	n, err := w.core.PublishPlayback(w.ctx, pub, hash, p.ID, st)
	if err != nil || n != 1 {
		t.Fatalf("publish: %d %v", n, err)
	}
	// An older state arriving late changes nothing.
	if _, err := w.core.PublishPlayback(w.ctx, pub, hash, p.ID, core.PlaybackState{CallID: "call-0", Sequence: 0}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Second)
	u, err := f.Next(w.ctx)
	if err != nil || u.State.CallID != "call-1" || !u.State.Playing || u.State.Speed != 1.5 || u.State.Position != 13*time.Second {
		t.Fatalf("update: %+v %v", u, err)
	}
	// The new call is traced once, not every publication.
	if l := w.trail(t, core.ActionPairingPublish); len(l) != 2 || l[0].Target != "call-1" { // + the refused one
		t.Errorf("publish entries: %+v", l)
	}
	// The session's end ends the pairing: the follower is told.
	done := make(chan core.PlaybackUpdate, 1)
	go func() {
		u, _ := f.Next(w.ctx)
		done <- u
	}()
	if err := w.core.SSHSessionEnded(w.ctx, core.SSHEnd{User: pub.User, Token: pubSe.Token, Reason: "quit"}); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-done:
		if !u.Ended {
			t.Errorf("last update not ended: %+v", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower was not told the session ended")
	}
	if _, err := w.core.FollowPlayback(w.ctx, comp, "", p.ID); domain.ReasonOf(err) != domain.ReasonPairingEnded {
		t.Errorf("rejoin an ended pairing: %v", err)
	}
	if l := w.trail(t, core.ActionPairingFollow); len(l) != 6 {
		t.Errorf("%d follow entries, want 6", len(l))
	}
}
