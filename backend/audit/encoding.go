package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Canonical encoding of an entry, version 1. The hash of an entry is
// SHA-256 over these bytes, in this order; every variable-length field is
// preceded by its length so no two entries encode alike:
//
//	str("ecoute.audit.v1")          domain and version
//	u64(seq)                        big-endian
//	i64(at)                         Unix milliseconds UTC, big-endian two's complement
//	str(actor_id) str(actor_login) str(actor_role)
//	str(source) str(action) str(target)
//	u32(n)                          number of details
//	n × (str(key) str(value))       keys sorted bytewise, unique
//	str(prev_hash)                  the 32 raw bytes of the previous entry's hash
//	                                (32 zero bytes for the first entry ever)
//
// where str(s) = u32(len(s)) followed by the bytes of s (UTF-8), and u32 is
// big-endian. The JSON form of the details in the database is only storage:
// it is parsed back into the map before encoding, so its spacing or key
// order do not matter, its content does.
const hashDomain = "ecoute.audit.v1"

// Hash is a SHA-256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hex digest.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("hash %q is not 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// Encode returns the canonical encoding of e (its Hash field is ignored).
func Encode(e Link) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		b.WriteString(s)
	}
	str(hashDomain)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(e.Seq)))
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixMilli())))
	str(e.Actor.UserID)
	str(e.Actor.Login)
	str(e.Actor.Role)
	str(e.Source)
	str(e.Action)
	str(e.Target)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(keys))))
	for _, k := range keys {
		str(k)
		str(e.Details[k])
	}
	str(string(e.PrevHash[:]))
	return b.Bytes()
}

// ComputeHash is the hash an entry must carry.
func ComputeHash(e Link) Hash { return sha256.Sum256(Encode(e)) }

// encodeDetails is the storage form: JSON with sorted keys (encoding/json
// sorts map keys).
func encodeDetails(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func decodeDetails(s string) (map[string]string, error) {
	var d map[string]string
	if err := json.Unmarshal([]byte(s), &d); err != nil || d == nil {
		return nil, errors.New("details are not a JSON object of strings")
	}
	if len(d) == 0 {
		return nil, nil
	}
	return d, nil
}
