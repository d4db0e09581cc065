// Package auth hashes passwords, opens and checks sessions, and puts the
// authenticated principal in the gRPC context.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id costs. They are written beside each hash, so raising
// them later leaves old hashes verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen int
}

// DefaultParams follow the OWASP minimum for argon2id (19 MiB, 2 passes):
// about 30 ms a hash here, bearable on a 2-core server at login rate.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

var b64 = base64.RawStdEncoding

// HashPassword returns a PHC-style string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password mismatch")

// VerifyPassword checks password against a HashPassword string in constant
// time.
func VerifyPassword(encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unknown password hash format")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("bad argon2 parameters %q: %w", parts[3], err)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("bad hash: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 12

// Rules is the password and lockout policy (R9). DefaultRules are the
// issue's figures; MaxAge is configurable.
type Rules struct {
	MinLength int
	MinBits   float64 // strength estimate, see Strength
	// MinGuesses is the least zxcvbn estimate (with French dictionaries),
	// see Guesses; 0 skips that check.
	MinGuesses float64
	History    int           // a new password may not be one of the last History
	MaxAge     time.Duration // after this a password must be changed at next login
	// LockAfter failures of a login from one source address lock that
	// pair for LockFor; each further failure doubles it, up to MaxLockFor.
	LockAfter  int
	LockFor    time.Duration
	MaxLockFor time.Duration
}

// DefaultRules: 12 characters, 40 bits and 10^8 zxcvbn guesses, last 5, 90
// days; 5 failures from one address lock that login from that address for
// 1 minute, then 2, 4, 8… up to 1 hour.
var DefaultRules = Rules{MinLength: MinPasswordLen, MinBits: MinStrengthBits, MinGuesses: MinGuesses, History: 5,
	MaxAge: 90 * 24 * time.Hour, LockAfter: 5, LockFor: time.Minute, MaxLockFor: time.Hour}

// MaxPasswordLen bounds a password, in bytes: a passphrase fits, a
// megabyte pasted by mistake (or malice) does not.
const MaxPasswordLen = 1024

// Person is who a password belongs to, for the "contains your login/name"
// checks.
type Person struct {
	Login string
	Names []string // first name, last name, display name
}

// CheckPassword applies the policy rules that need no history: length,
// login, name, strength. The error is a *PolicyError whose text says why,
// in words a user can act on.
func (r Rules) CheckPassword(p Person, password string) error {
	if len(password) > MaxPasswordLen {
		return &PolicyError{fmt.Errorf("too long: %d bytes at most", MaxPasswordLen)}
	}
	if utf8.RuneCountInString(password) < r.MinLength {
		return &PolicyError{fmt.Errorf("too short: %d characters at least", r.MinLength)}
	}
	low := strings.ToLower(password)
	// Logins of one or two letters would forbid half the alphabet.
	if l := strings.ToLower(strings.TrimSpace(p.Login)); utf8.RuneCountInString(l) >= 3 && strings.Contains(low, l) {
		return &PolicyError{errors.New("contains your login")}
	}
	var parts []string
	for _, n := range p.Names {
		for _, part := range strings.FieldsFunc(strings.ToLower(n), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if utf8.RuneCountInString(part) >= 3 {
				parts = append(parts, part)
				if strings.Contains(low, part) {
					return &PolicyError{errors.New("contains your name")}
				}
			}
		}
	}
	if _, ok := commonRank()[low]; ok {
		return &PolicyError{errors.New("too common: it is on the list of most used passwords")}
	}
	// Swapped letters sit before the usual trailing number ("p4ssw0rd1234").
	head := strings.TrimRight(low, "0123456789")
	if _, ok := commonRank()[leet.Replace(head)+low[len(head):]]; ok {
		return &PolicyError{errors.New("too common: a most used password with letters swapped for digits")}
	}
	personal := append(parts, p.Login)
	if bits, why := Strength(password, personal); bits < r.MinBits {
		return &PolicyError{fmt.Errorf("too easy to guess (%s): add unrelated words or characters", why)}
	}
	if r.MinGuesses > 0 {
		if g, why := estimate(password, personal); g < r.MinGuesses {
			basis := why()
			if basis == "" {
				basis = "too few unpredictable characters"
			}
			return &PolicyError{fmt.Errorf("too easy to guess (%s): add unrelated words or characters", basis)}
		}
	}
	return nil
}

// CheckPolicy checks a password against DefaultRules for a login alone.
func CheckPolicy(login, password string) error {
	return DefaultRules.CheckPassword(Person{Login: login}, password)
}

// GeneratePassword returns a random password of 26 characters (128 bits,
// base32 alphabet).
func GeneratePassword() string { return rand.Text() }
