package fieldcrypt

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpenAndPlaces(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	c, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Seal("calls.customer_name\x00c1", "Jeanne Martin")
	if bytes.Contains(s, []byte("Jeanne")) {
		t.Fatal("plaintext in the sealed value")
	}
	if got, err := c.Open("calls.customer_name\x00c1", s); err != nil || got != "Jeanne Martin" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := c.Open("calls.customer_name\x00c2", s); !errors.Is(err, ErrCorrupt) {
		t.Errorf("moved to another row: %v", err)
	}
	s[len(s)-1] ^= 1
	if _, err := c.Open("calls.customer_name\x00c1", s); !errors.Is(err, ErrCorrupt) {
		t.Errorf("altered: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open("x", c.Seal("x", "y")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("another key: %v", err)
	}
	if c.Index("phone", "+33612345678") != c.Index("phone", "+33612345678") ||
		c.Index("phone", "+33612345678") == other.Index("phone", "+33612345678") ||
		c.Index("phone", "+33612345678") == c.Index("login", "+33612345678") {
		t.Error("index is not a keyed, domain-separated hash")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}
