package blobs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/blobs/blobstest"
)

// TestFilesConformance runs the blob store suite on encrypted files.
func TestFilesConformance(t *testing.T) {
	blobstest.Run(t, func(t *testing.T) blobstest.Harness {
		root := filepath.Join(t.TempDir(), "audio")
		f, err := blobs.NewFiles(root, blobstest.NewKey(t))
		if err != nil {
			t.Fatal(err)
		}
		file := func(key string) string { return filepath.Join(root, filepath.FromSlash(key)) }
		return blobstest.Harness{
			Store: f,
			Raw: func(t *testing.T, key string) []byte {
				b, err := os.ReadFile(file(key))
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			SetRaw: func(t *testing.T, key string, b []byte) {
				if err := os.MkdirAll(filepath.Dir(file(key)), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file(key), b, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			WithKey: func(master []byte) (blobs.Store, error) { return blobs.NewFiles(root, master) },
			Stored: func(t *testing.T) []string {
				var out []string
				err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					rel, err := filepath.Rel(root, p)
					if key := filepath.ToSlash(rel); err == nil && key != blobs.KeyCheckKey {
						out = append(out, key)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(out)
				return out
			},
		}
	})
}
