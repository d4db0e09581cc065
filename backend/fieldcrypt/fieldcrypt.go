// Package fieldcrypt encrypts single database values at rest (R9): the
// customer identity fields of a call, the free text of evaluations and of
// the dpo's register. Both keys are derived from the data key of the data
// directory (the one that encrypts the audio), never stored in the
// database:
//
//   - values are sealed with AES-256-GCM under HKDF-SHA256(data key,
//     info "ecoute field v1"); each value gets a random 96-bit nonce, and
//     the additional data names the table, the column and the row, so a
//     sealed value moved to another column or row no longer opens;
//   - a field that must be looked up (a customer's phone number, for an
//     export or an erasure) also gets a keyed hash, HMAC-SHA256 under
//     HKDF-SHA256(data key, info "ecoute index v1"): equal values give
//     equal hashes, which only the holder of the key can compute.
//
// Sealed form: 0x01 | nonce (12 bytes) | ciphertext | tag (16 bytes).
package fieldcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

const version = 0x01

// ErrCorrupt means a sealed value failed authentication: altered, moved
// to another row or column, or sealed under another key.
var ErrCorrupt = errors.New("sealed value failed authentication (altered, moved or another key)")

// Cipher seals and opens values and computes keyed hashes.
type Cipher struct {
	aead  cipher.AEAD
	index []byte
}

// New derives the field and index keys from the data key (32 bytes).
func New(dataKey []byte) (*Cipher, error) {
	if len(dataKey) != 32 {
		return nil, fmt.Errorf("field encryption: data key of %d bytes, want 32", len(dataKey))
	}
	fk, err := hkdf.Key(sha256.New, dataKey, nil, "ecoute field v1", 32)
	if err != nil {
		return nil, fmt.Errorf("field encryption: %w", err)
	}
	ik, err := hkdf.Key(sha256.New, dataKey, nil, "ecoute index v1", 32)
	if err != nil {
		return nil, fmt.Errorf("field encryption: %w", err)
	}
	block, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Cipher{aead: aead, index: ik}, nil
}

// Seal encrypts plain for the place named by where ("calls.customer_name",
// the row id…).
func (c *Cipher) Seal(where, plain string) []byte {
	out := make([]byte, 1+c.aead.NonceSize(), 1+c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	out[0] = version
	rand.Read(out[1:])
	return c.aead.Seal(out, out[1:1+c.aead.NonceSize()], []byte(plain), []byte(where))
}

// Open decrypts what Seal made for the same place.
func (c *Cipher) Open(where string, sealed []byte) (string, error) {
	n := c.aead.NonceSize()
	if len(sealed) < 1+n+c.aead.Overhead() || sealed[0] != version {
		return "", ErrCorrupt
	}
	p, err := c.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(where))
	if err != nil {
		return "", ErrCorrupt
	}
	return string(p), nil
}

// Index is the keyed hash of value in a domain ("phone"), in hex.
func (c *Cipher) Index(domain, value string) string {
	m := hmac.New(sha256.New, c.index)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
