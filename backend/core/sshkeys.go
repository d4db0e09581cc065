package core

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the SSH keys of the accounts.
const (
	ActionSSHKeyAdd    = "ssh_key.add"
	ActionSSHKeyRemove = "ssh_key.remove"
)

// Limits of a registered SSH key.
const (
	// MinRSABits is the smallest RSA key accepted.
	MinRSABits = 2048
	// MaxSSHKeyComment bounds the comment kept with a key.
	MaxSSHKeyComment = 200
	// MaxSSHKeyLine bounds the authorized_keys line read.
	MaxSSHKeyLine = 16 << 10
)

// SSHKeyTypes are the key algorithms an account may register: no DSA, no
// certificates (an organisation's CA is configured on the SSH server).
var SSHKeyTypes = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoRSA,
}

// ParseSSHKey reads one line of an authorized_keys file ("ssh-ed25519
// AAAA… comment") and checks that it may be registered. The refusals are
// INVALID_ARGUMENT naming field.
func ParseSSHKey(field, line string) (ssh.PublicKey, string, error) {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return nil, "", domain.Invalid(field, "is required: one line of an authorized_keys file, such as the content of ~/.ssh/id_ed25519.pub")
	case len(line) > MaxSSHKeyLine:
		return nil, "", domain.Invalid(field, "longer than %d bytes", MaxSSHKeyLine)
	case strings.ContainsAny(line, "\r\n"):
		return nil, "", domain.Invalid(field, "holds several lines: give one key at a time")
	}
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	switch {
	case err != nil:
		return nil, "", domain.Invalid(field, "not an SSH public key (expected \"ssh-ed25519 AAAA… comment\", as in ~/.ssh/id_ed25519.pub)")
	case len(options) > 0:
		return nil, "", domain.Invalid(field, "options before the key (%s) are not accepted: give the key alone", strings.Join(options, ","))
	case len(strings.TrimSpace(string(rest))) > 0:
		return nil, "", domain.Invalid(field, "holds several keys: give one at a time")
	}
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, "", domain.Invalid(field, "is a certificate: register the key itself (certificates are checked against the organisation's CA by the SSH server)")
	}
	if !slices.Contains(SSHKeyTypes, pub.Type()) {
		return nil, "", domain.Invalid(field, "%s keys are not accepted: use ssh-ed25519 (ssh-keygen -t ed25519), ECDSA or RSA of %d bits or more", pub.Type(), MinRSABits)
	}
	if ck, ok := pub.(ssh.CryptoPublicKey); ok {
		if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < MinRSABits {
			return nil, "", domain.Invalid(field, "an RSA key of %d bits is too weak: %d bits at least, or better ssh-ed25519", rk.N.BitLen(), MinRSABits)
		}
	}
	comment = strings.TrimSpace(comment)
	switch {
	case !utf8.ValidString(comment):
		return nil, "", domain.Invalid(field, "its comment is not valid UTF-8")
	case utf8.RuneCountInString(comment) > MaxSSHKeyComment:
		return nil, "", domain.Invalid(field, "its comment is longer than %d characters", MaxSSHKeyComment)
	case strings.IndexFunc(comment, unicode.IsControl) >= 0:
		return nil, "", domain.Invalid(field, "its comment contains a control character")
	}
	return pub, comment, nil
}

// SSHFingerprint names a key as `ssh-keygen -l` does ("SHA256:…").
func SSHFingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

// AddSSHKey registers a public key (an authorized_keys line) to an account
// for remote review over SSH. A key belongs to one account.
func (b *Backend) AddSSHKey(ctx context.Context, c Caller, userID, line string) (store.SSHKey, error) {
	return once(ctx, b, c, "ssh_key.add", ActionSSHKeyAdd,
		func(ctx context.Context) (store.SSHKey, entry, error) {
			e := entry{target: userID}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return store.SSHKey{}, e, err
			}
			e.target = u.Login
			pub, comment, err := ParseSSHKey("public_key", line)
			if err != nil {
				return store.SSHKey{}, e, err
			}
			k := store.SSHKey{Fingerprint: SSHFingerprint(pub), UserID: u.ID, Login: u.Login, Type: pub.Type(),
				PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), Comment: comment,
				AddedAt: b.Clock.Now(), AddedBy: c.User.Login}
			e.details = map[string]string{"fingerprint": k.Fingerprint, "type": k.Type}
			switch err := b.Store.AddSSHKey(ctx, k); {
			case errors.Is(err, store.ErrDuplicate):
				return k, e, domain.New(domain.ReasonAlreadyExists, "public_key: the key %s is registered already", k.Fingerprint).
					With(domain.MetaField, "public_key")
			case err != nil:
				return k, e, domain.Internal("add ssh key", err)
			}
			return k, e, nil
		},
		func(ctx context.Context, r store.Request) (store.SSHKey, error) {
			return again(b.Store.SSHKey(ctx, r.ObjectID))
		})
}

// ListSSHKeys lists the SSH keys of an account ("" = every account's).
func (b *Backend) ListSSHKeys(ctx context.Context, userID string) ([]store.SSHKey, error) {
	if userID != "" {
		if _, err := b.userByID(ctx, userID); err != nil {
			return nil, err
		}
	}
	ks, err := b.Store.SSHKeys(ctx, userID)
	if err != nil {
		return nil, domain.Internal("list ssh keys", err)
	}
	return ks, nil
}

// RemoveSSHKey unregisters a key of an account: it opens no new SSH
// session (those it opened go on until they end). A request sent again
// answers the fingerprint and the account only.
func (b *Backend) RemoveSSHKey(ctx context.Context, c Caller, userID, fingerprint string) (store.SSHKey, error) {
	return once(ctx, b, c, "ssh_key.remove", ActionSSHKeyRemove,
		func(ctx context.Context) (store.SSHKey, entry, error) {
			e := entry{target: userID, details: map[string]string{"fingerprint": fingerprint}}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return store.SSHKey{}, e, err
			}
			e.target = u.Login
			if strings.TrimSpace(fingerprint) == "" {
				return store.SSHKey{}, e, domain.Invalid("fingerprint", "is required (\"SHA256:…\", as ecouted user key list prints it)")
			}
			k, err := b.Store.SSHKey(ctx, fingerprint)
			if errors.Is(err, store.ErrNotFound) || (err == nil && k.UserID != u.ID) {
				return store.SSHKey{}, e, domain.NotFound("fingerprint: %s has no key %s", u.Login, fingerprint)
			} else if err != nil {
				return store.SSHKey{}, e, domain.Internal("remove ssh key", err)
			}
			switch err := b.Store.RemoveSSHKey(ctx, u.ID, fingerprint); {
			case errors.Is(err, store.ErrNotFound):
				return store.SSHKey{}, e, domain.NotFound("fingerprint: %s has no key %s", u.Login, fingerprint)
			case err != nil:
				return store.SSHKey{}, e, domain.Internal("remove ssh key", err)
			}
			return k, e, nil
		},
		func(_ context.Context, r store.Request) (store.SSHKey, error) {
			return store.SSHKey{Fingerprint: r.ObjectID, UserID: userID}, nil
		})
}

// sshKeyOf is the account's registered key with this fingerprint.
func (b *Backend) sshKeyOf(ctx context.Context, login, fingerprint string) (store.SSHKey, bool, error) {
	k, err := b.Store.SSHKey(ctx, fingerprint)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.SSHKey{}, false, nil
	case err != nil:
		return store.SSHKey{}, false, fmt.Errorf("ssh key %s: %w", fingerprint, err)
	}
	return k, k.Login == login, nil
}
