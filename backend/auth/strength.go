package auth

import (
	_ "embed"
	"math"
	"strings"
	"sync"
	"unicode"
)

// The strength estimate is a small zxcvbn-like one: the password is cut into
// the cheapest patterns an attacker tries first (common passwords and words,
// the user's own login and name, repeats, sequences, keyboard runs, years),
// each pattern costs the guesses needed to find it, and the characters left
// over cost the full alphabet each. The total, in bits, must reach
// MinStrengthBits. A second estimate, zxcvbn with French dictionaries, is in
// guesses.go; a new password must pass both.

// MinStrengthBits is the least estimated entropy accepted. 40 bits is about
// 10^12 guesses: years of offline work against argon2id at 19 MiB.
const MinStrengthBits = 40

//go:embed common_passwords.txt
var commonPasswordsText string

// commonRank maps a common password or word to its rank (1 = most used).
// Built by the first check that needs it, not at start.
var commonRank = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, ok := m[line]; !ok {
			m[line] = len(m) + 1
		}
	}
	return m
})

var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
	"1qaz2wsx3edc", "a1z2e3r4t5y6"}

// leet undoes the usual letter-for-symbol swaps.
var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

type pattern int

const (
	patRandom pattern = iota
	patCommon
	patPersonal
	patRepeat
	patSequence
	patKeyboard
	patYear
)

var patternReason = map[pattern]string{
	patCommon:   "built on a common word or password",
	patPersonal: "built on your login or name",
	patRepeat:   "repeated characters",
	patSequence: "a sequence like abcd or 1234",
	patKeyboard: "a keyboard pattern like azerty or qwerty",
	patYear:     "built on a year",
	patRandom:   "use more characters, and more varied ones",
}

// Strength estimates the password's entropy in bits and names the pattern
// that weakens it most (the one covering the most characters).
func Strength(password string, personal []string) (bits float64, weakest string) {
	runes := []rune(password)
	lower := []rune(strings.ToLower(password))
	plain := []rune(leet.Replace(strings.ToLower(password)))
	if len(plain) != len(lower) {
		plain = lower // a replacement changed the length: compare as typed
	}
	perChar := math.Log2(float64(alphabetSize(runes)))
	covered := map[pattern]int{}
	var personalLower []string
	for _, p := range personal {
		if p = strings.ToLower(strings.TrimSpace(p)); len([]rune(p)) >= 3 {
			personalLower = append(personalLower, p)
		}
	}
	for i := 0; i < len(runes); {
		n, cost, kind := bestMatch(lower, plain, i, personalLower)
		if n == 0 {
			n, cost, kind = 1, perChar, patRandom
		}
		if hasUpper(runes[i:i+n]) && kind != patRandom {
			cost++ // capitalisation is tried early too
		}
		bits += cost
		covered[kind] += n
		i += n
	}
	best, most := patRandom, 0
	for _, k := range []pattern{patCommon, patPersonal, patRepeat, patSequence, patKeyboard, patYear} {
		if covered[k] > most {
			best, most = k, covered[k]
		}
	}
	return bits, patternReason[best]
}

// bestMatch finds the longest cheap pattern starting at i.
func bestMatch(lower, plain []rune, i int, personal []string) (n int, cost float64, kind pattern) {
	consider := func(m int, c float64, k pattern) {
		if m > n || (m == n && c < cost) {
			n, cost, kind = m, c, k
		}
	}
	for _, s := range [][]rune{lower, plain} {
		rest := string(s[i:])
		for _, p := range personal {
			if strings.HasPrefix(rest, p) {
				consider(len([]rune(p)), 1, patPersonal)
			}
		}
		for l := len(s) - i; l >= 1; l-- {
			// Short words count only when they are the whole password.
			if l < 4 && (i != 0 || l != len(s)) {
				break
			}
			if rank, ok := commonRank()[string(s[i:i+l])]; ok {
				consider(l, math.Log2(float64(rank))+1, patCommon)
				break
			}
		}
	}
	// Repeats: the same character three times or more.
	j := i + 1
	for j < len(lower) && lower[j] == lower[i] {
		j++
	}
	if j-i >= 3 {
		consider(j-i, math.Log2(95)+math.Log2(float64(j-i)), patRepeat)
	}
	// Sequences: steps of +1 or -1 (abcd, 4321).
	if i+1 < len(lower) {
		d := lower[i+1] - lower[i]
		if d == 1 || d == -1 {
			j := i + 1
			for j < len(lower) && lower[j]-lower[j-1] == d {
				j++
			}
			if j-i >= 3 {
				consider(j-i, math.Log2(26*2)+math.Log2(float64(j-i)), patSequence)
			}
		}
	}
	// Keyboard runs of four or more keys, either direction.
	for _, row := range keyboardRows {
		for _, r := range []string{row, reverse(row)} {
			k := 0
			for start := range len(r) {
				m := 0
				for i+m < len(lower) && start+m < len(r) && rune(r[start+m]) == lower[i+m] {
					m++
				}
				k = max(k, m)
			}
			if k >= 4 {
				consider(k, math.Log2(float64(len(keyboardRows)*2*len(r)))+math.Log2(float64(k)), patKeyboard)
			}
		}
	}
	// Years 1900–2099.
	if i+4 <= len(lower) {
		y := string(lower[i : i+4])
		if (strings.HasPrefix(y, "19") || strings.HasPrefix(y, "20")) && isDigits(y) {
			consider(4, math.Log2(200), patYear)
		}
	}
	return n, cost, kind
}

func alphabetSize(rs []rune) int {
	var lower, upper, digit, other, nonASCII bool
	for _, r := range rs {
		switch {
		case r > unicode.MaxASCII:
			nonASCII = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, c := range []struct {
		on   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 33}, {nonASCII, 100}} {
		if c.on {
			n += c.size
		}
	}
	return max(n, 2)
}

func hasUpper(rs []rune) bool {
	for _, r := range rs {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
