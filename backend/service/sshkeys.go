package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
)

// SSHKeyOf converts a registered SSH key.
func SSHKeyOf(k store.SSHKey) *ecoutev1.SshKey {
	return &ecoutev1.SshKey{Fingerprint: k.Fingerprint, UserId: k.UserID, Login: k.Login, Type: k.Type,
		Comment: k.Comment, PublicKey: k.PublicKey, AddedAt: ts(k.AddedAt), AddedBy: k.AddedBy,
		LastUsedAt: ts(k.LastUsedAt)}
}

// AddSshKey registers an SSH public key to an account.
func (s *Admin) AddSshKey(ctx context.Context, req *ecoutev1.AddSshKeyRequest) (*ecoutev1.AddSshKeyResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.SSHKey, error) {
		return s.Core.AddSSHKey(ctx, c, req.GetUserId(), req.GetPublicKey())
	}, func(k store.SSHKey) *ecoutev1.AddSshKeyResponse { return &ecoutev1.AddSshKeyResponse{Key: SSHKeyOf(k)} })
}

// ListSshKeys lists the registered SSH keys.
func (s *Admin) ListSshKeys(ctx context.Context, req *ecoutev1.ListSshKeysRequest) (*ecoutev1.ListSshKeysResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.SSHKey, error) { return s.Core.ListSSHKeys(ctx, req.GetUserId()) },
		func(ks []store.SSHKey) *ecoutev1.ListSshKeysResponse {
			return &ecoutev1.ListSshKeysResponse{Keys: each(ks, SSHKeyOf)}
		})
}

// RemoveSshKey unregisters an SSH key of an account.
func (s *Admin) RemoveSshKey(ctx context.Context, req *ecoutev1.RemoveSshKeyRequest) (*ecoutev1.RemoveSshKeyResponse, error) {
	return serve(ctx, req, func(c core.Caller) (store.SSHKey, error) {
		return s.Core.RemoveSSHKey(ctx, c, req.GetUserId(), req.GetFingerprint())
	}, func(k store.SSHKey) *ecoutev1.RemoveSshKeyResponse {
		return &ecoutev1.RemoveSshKeyResponse{Key: SSHKeyOf(k)}
	})
}
