package blobs

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeyEnv is the environment variable that may carry the data key (base64).
const KeyEnv = "ECOUTE_DATA_KEY"

// KeyFileName is the data key's file inside the data directory when neither
// a key file nor KeyEnv is given.
const KeyFileName = "data.key"

// LoadKey finds the master key for encryption at rest, never in the
// database: keyFile when given, else $ECOUTE_DATA_KEY, else defaultFile,
// which is created (mode 0600, random key) when missing. A key file readable
// by group or others is refused, as ssh does.
func LoadKey(keyFile, defaultFile string) ([]byte, error) {
	if keyFile != "" {
		return readKeyFile(keyFile)
	}
	if v, ok := os.LookupEnv(KeyEnv); ok {
		k, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEnv, err)
		}
		return k, nil
	}
	k, err := readKeyFile(defaultFile)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k = make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(defaultFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(defaultFile) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create data key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(defaultFile)
		return nil, fmt.Errorf("write data key %s: %w", defaultFile, err)
	}
	return k, nil
}

func readKeyFile(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("data key %s is readable by others (mode %o): run chmod 600 %s", p, st.Mode().Perm(), p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w", p, err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("%d bytes, want %d (e.g. head -c 32 /dev/urandom | base64)", len(k), KeySize)
	}
	return k, nil
}
