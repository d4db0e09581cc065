package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SSHKey is a public key registered to an account for remote review over
// SSH. Fingerprint ("SHA256:…") names it; a key belongs to one account.
type SSHKey struct {
	Fingerprint string
	UserID      string
	Login       string // the account's, read with the key
	Type        string // "ssh-ed25519", "ecdsa-sha2-nistp256"…
	PublicKey   string // authorized_keys form, without the comment
	Comment     string
	AddedAt     time.Time
	AddedBy     string
	LastUsedAt  time.Time // zero: never used
}

// SSHKeyStore keeps the accounts' SSH public keys.
type SSHKeyStore interface {
	// AddSSHKey registers a key; ErrDuplicate when its fingerprint is
	// registered already (to any account).
	AddSSHKey(ctx context.Context, k SSHKey) error
	// SSHKeys lists the keys of an account ("" = every account's), by
	// login then registration.
	SSHKeys(ctx context.Context, userID string) ([]SSHKey, error)
	// SSHKey finds a key by fingerprint, or ErrNotFound.
	SSHKey(ctx context.Context, fingerprint string) (SSHKey, error)
	// RemoveSSHKey unregisters a key of an account; ErrNotFound when the
	// account has no such key.
	RemoveSSHKey(ctx context.Context, userID, fingerprint string) error
	// TouchSSHKey records that the key opened a session at at.
	TouchSSHKey(ctx context.Context, fingerprint string, at time.Time) error
}

var _ SSHKeyStore = (*SQLite)(nil)

const sshKeyCols = `k.fingerprint, k.user_id, u.login, k.type, k.public_key, k.comment, k.added_at, k.added_by,
	k.last_used_at`

func scanSSHKey(sc interface{ Scan(...any) error }) (SSHKey, error) {
	var k SSHKey
	var added, used int64
	err := sc.Scan(&k.Fingerprint, &k.UserID, &k.Login, &k.Type, &k.PublicKey, &k.Comment, &added, &k.AddedBy, &used)
	k.AddedAt, k.LastUsedAt = fromMS(added), fromMS(used)
	return k, err
}

// AddSSHKey implements SSHKeyStore.
func (s *SQLite) AddSSHKey(ctx context.Context, k SSHKey) error {
	return s.create(ctx, "add ssh key "+k.Fingerprint, k.Fingerprint, `INSERT INTO ssh_keys
		(fingerprint, user_id, type, public_key, comment, added_at, added_by) VALUES (?,?,?,?,?,?,?)`,
		k.Fingerprint, k.UserID, k.Type, k.PublicKey, k.Comment, ms(k.AddedAt), k.AddedBy)
}

// SSHKeys implements SSHKeyStore.
func (s *SQLite) SSHKeys(ctx context.Context, userID string) ([]SSHKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sshKeyCols+` FROM ssh_keys k JOIN users u ON u.id = k.user_id
		WHERE ? = '' OR k.user_id = ? ORDER BY u.login, k.added_at, k.fingerprint`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	defer rows.Close()
	var out []SSHKey
	for rows.Next() {
		k, err := scanSSHKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list ssh keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SSHKey implements SSHKeyStore.
func (s *SQLite) SSHKey(ctx context.Context, fingerprint string) (SSHKey, error) {
	k, err := scanSSHKey(s.db.QueryRowContext(ctx, `SELECT `+sshKeyCols+` FROM ssh_keys k
		JOIN users u ON u.id = k.user_id WHERE k.fingerprint = ?`, fingerprint))
	if err != nil {
		return SSHKey{}, notFound(err, "ssh key "+fingerprint)
	}
	return k, nil
}

// RemoveSSHKey implements SSHKeyStore.
func (s *SQLite) RemoveSSHKey(ctx context.Context, userID, fingerprint string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ssh_keys WHERE user_id = ? AND fingerprint = ?`, userID, fingerprint)
		if err != nil {
			return fmt.Errorf("remove ssh key %s: %w", fingerprint, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("remove ssh key %s: %w", fingerprint, err)
		} else if n == 0 {
			return fmt.Errorf("ssh key %s of %s: %w", fingerprint, userID, ErrNotFound)
		}
		return recordRequest(ctx, tx, fingerprint, 0)
	})
}

// TouchSSHKey implements SSHKeyStore.
func (s *SQLite) TouchSSHKey(ctx context.Context, fingerprint string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE ssh_keys SET last_used_at = ? WHERE fingerprint = ?`,
		ms(at), fingerprint); err != nil {
		return fmt.Errorf("touch ssh key %s: %w", fingerprint, err)
	}
	return nil
}
