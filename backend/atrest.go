package backend

import (
	"context"
	"path/filepath"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/fieldcrypt"
)

// sealPersonalData makes the store encrypt the personal data it holds
// (customer identities, evaluation comments, the dpo's register) with the
// data key, the one that encrypts the audio, and seals what an older
// version left in clear (R9).
func (a *App) sealPersonalData(ctx context.Context) error {
	key, err := blobs.LoadKey(a.cfg.KeyFile, filepath.Join(a.cfg.DataDir, blobs.KeyFileName))
	if err != nil {
		return err
	}
	fc, err := fieldcrypt.New(key)
	if err != nil {
		return err
	}
	n, err := a.store.EnableFieldEncryption(ctx, fc)
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.Info("personal data sealed at rest", "rows", n)
	}
	return nil
}
