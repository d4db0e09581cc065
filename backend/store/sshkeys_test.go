package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSSHKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for _, u := range []User{
		{ID: "u1", Login: "zoe", DisplayName: "Zoé Martin", Role: RoleSupervisor, PasswordHash: "h", CreatedAt: t0},
		{ID: "u2", Login: "alain", DisplayName: "Alain Roux", Role: RoleTrainer, PasswordHash: "h", CreatedAt: t0},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	keys := []SSHKey{
		{Fingerprint: "SHA256:b", UserID: "u1", Type: "ssh-ed25519", PublicKey: "ssh-ed25519 AAAAb", Comment: "zoe@portable",
			AddedAt: t0.Add(time.Hour), AddedBy: "admin"},
		{Fingerprint: "SHA256:a", UserID: "u1", Type: "ssh-ed25519", PublicKey: "ssh-ed25519 AAAAa", AddedAt: t0, AddedBy: "admin"},
		{Fingerprint: "SHA256:c", UserID: "u2", Type: "ecdsa-sha2-nistp256", PublicKey: "ecdsa-sha2-nistp256 AAAAc", AddedAt: t0},
	}
	for _, k := range keys {
		if err := s.AddSSHKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	// A fingerprint is one account's only.
	dup := keys[0]
	dup.UserID = "u2"
	if err := s.AddSSHKey(ctx, dup); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same key for another account: %v", err)
	}
	all, err := s.SSHKeys(ctx, "")
	if err != nil || len(all) != 3 || all[0].Login != "alain" || all[1].Fingerprint != "SHA256:a" || all[2].Fingerprint != "SHA256:b" {
		t.Fatalf("all keys, by login then date: %+v %v", all, err)
	}
	mine, err := s.SSHKeys(ctx, "u1")
	if err != nil || len(mine) != 2 || mine[1].Comment != "zoe@portable" || !mine[1].AddedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("zoe's keys: %+v %v", mine, err)
	}
	if err := s.TouchSSHKey(ctx, "SHA256:a", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	k, err := s.SSHKey(ctx, "SHA256:a")
	if err != nil || k.Login != "zoe" || !k.LastUsedAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("key a: %+v %v", k, err)
	}
	if _, err := s.SSHKey(ctx, "SHA256:none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	// Removing another account's key is not found and removes nothing.
	if err := s.RemoveSSHKey(ctx, "u2", "SHA256:a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove zoe's key as alain's: %v", err)
	}
	if err := s.RemoveSSHKey(ctx, "u1", "SHA256:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SSHKey(ctx, "SHA256:a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed key still found: %v", err)
	}
	if n, _ := s.SSHKeys(ctx, ""); len(n) != 2 {
		t.Errorf("%d keys left, want 2", len(n))
	}
}
