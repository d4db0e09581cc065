package backend

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/store"
)

// Several ecouted may share one PostgreSQL database and one bucket. Each
// has its own data directory, but four secrets must be the first server's
// copies: the data key (audio and personal data are sealed with it), the
// audit key (every server signs the one chain's head), and the CA's
// certificate and key (consoles trust every server). The database keeps a
// fingerprint of the first two, so that a server started with other keys
// refuses to start instead of writing what the others cannot read.
const (
	dataKeySetting  = "cluster.data_key_check"
	auditKeySetting = "cluster.audit_public_key"
)

// SharedFiles are the files a new server copies from the first one, under
// the same names in its data directory.
var SharedFiles = []string{blobs.KeyFileName, audit.KeyFile, filepath.Join(TLSDir, "ca.pem"), filepath.Join(TLSDir, "ca-key.pem")}

// checkSharedKeys records the keys' fingerprints on the first start and
// refuses other keys afterwards.
func (a *App) checkSharedKeys(ctx context.Context) error {
	dataKey, err := blobs.LoadKey(a.cfg.KeyFile, filepath.Join(a.cfg.DataDir, blobs.KeyFileName))
	if err != nil {
		return err
	}
	auditKey, err := audit.LoadOrCreateKey(filepath.Join(a.cfg.DataDir, audit.KeyFile))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, dataKey)
	mac.Write([]byte("ecoute data key check v1"))
	pub := auditKey.Public().(ed25519.PublicKey)
	for _, k := range []struct{ setting, value, file string }{
		{dataKeySetting, hex.EncodeToString(mac.Sum(nil)), blobs.KeyFileName},
		{auditKeySetting, hex.EncodeToString(pub), audit.KeyFile},
	} {
		got, err := a.store.Setting(ctx, k.setting)
		if errors.Is(err, store.ErrNotFound) {
			if err := a.store.SetSetting(ctx, k.setting, k.value); err != nil {
				return fmt.Errorf("record the %s fingerprint: %w", k.file, err)
			}
			continue
		}
		if err != nil {
			return err
		}
		if got != k.value {
			return fmt.Errorf("this database was set up with another %s: a server that shares it needs the first server's copy "+
				"(copy %s, %s, tls/ca.pem and tls/ca-key.pem into %s; see \"Several servers\" in the README)",
				k.file, blobs.KeyFileName, audit.KeyFile, a.cfg.DataDir)
		}
	}
	return nil
}

// serverName names this server in the settings: its host and data
// directory.
func serverName(dataDir string) string {
	host, _ := os.Hostname()
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return host + ":" + dataDir
}
