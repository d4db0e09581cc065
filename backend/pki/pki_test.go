package pki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

func TestEnsureMakesAndReusesCA(t *testing.T) {
	dir := t.TempDir()
	c := clock.Real{}
	p, err := Ensure(dir, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CAKeyFile, CertKeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode().Perm())
		}
	}
	cfg := p.ServerTLS()
	chain := cfg.Certificates[0].Certificate
	if len(chain) != 2 {
		t.Fatalf("chain of %d certificates, want leaf + CA", len(chain))
	}
	leaf, _ := x509.ParseCertificate(chain[0])
	ca, _ := x509.ParseCertificate(chain[1])
	if !ca.IsCA || ca.NotAfter.Sub(time.Now()) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA=%v, expires %v", ca.IsCA, ca.NotAfter)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	host, _ := os.Hostname()
	for _, h := range []string{"localhost", "127.0.0.1", "::1", host} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err != nil {
			t.Errorf("leaf does not verify for %s: %v", h, err)
		}
	}

	// Reopen with an extra host: same CA, new leaf that carries the host.
	p2, err := Ensure(dir, c, []string{"ecoute.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p2.CACertPEM(), p.CACertPEM()) {
		t.Error("CA changed on reopen")
	}
	leaf2, _ := x509.ParseCertificate(p2.ServerTLS().Certificates[0].Certificate[0])
	if _, err := leaf2.Verify(x509.VerifyOptions{Roots: pool, DNSName: "ecoute.example.org"}); err != nil {
		t.Errorf("extra host not in reissued leaf: %v", err)
	}
	if n := len(p2.ServerTLS().Certificates[0].Certificate); n != 2 {
		t.Errorf("reloaded chain has %d certificates", n)
	}
	// Reopen again without change: the leaf is reused.
	p3, _ := Ensure(dir, c, []string{"ecoute.example.org"})
	if !bytes.Equal(p3.ServerTLS().Certificates[0].Certificate[0], leaf2.Raw) {
		t.Error("leaf reissued without reason")
	}
	if n := len(p3.ServerTLS().Certificates[0].Certificate); n != 2 {
		t.Errorf("loaded chain has %d certificates", n)
	}
}
