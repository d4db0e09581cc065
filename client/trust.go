package client

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The pin file holds one line per server, like SSH's known_hosts:
//
//	ADDR SHA256:HEX BASE64-DER
//
// BASE64-DER is the body of the CA certificate's PEM block on one line, so a
// pin can be removed by deleting exactly one line.

// ErrCAChanged is returned (wrapped) when a server presents a CA other than
// the one pinned for its address.
var ErrCAChanged = errors.New("server certificate authority changed")

// DefaultPinFile is $XDG_CONFIG_HOME/ecoute/known_servers (or the platform's
// equivalent).
func DefaultPinFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir for the pin file: %w", err)
	}
	return filepath.Join(dir, "ecoute", "known_servers"), nil
}

// Fingerprint is the SHA-256 of a certificate's DER bytes, as "SHA256:hex".
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

type pin struct {
	addr        string
	fingerprint string
	der         []byte
	line        int
}

// pinStore reads and appends the pin file. The mutex guards concurrent
// handshakes of one process; two processes pinning the same new server at
// the same instant would both write the same line, which is harmless.
type pinStore struct {
	mu   sync.Mutex
	path string
}

func (s *pinStore) lookup(addr string) (pin, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pins, err := s.readLocked()
	if err != nil {
		return pin{}, false, err
	}
	for _, p := range pins {
		if p.addr == addr {
			return p, true, nil
		}
	}
	return pin{}, false, nil
}

func (s *pinStore) readLocked() ([]pin, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pin file: %w", err)
	}
	var pins []pin
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("pin file %s line %d: want \"ADDR SHA256:HEX CERT\", got %d fields", s.path, n, len(f))
		}
		der, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			return nil, fmt.Errorf("pin file %s line %d: certificate: %w", s.path, n, err)
		}
		if Fingerprint(der) != f[1] {
			return nil, fmt.Errorf("pin file %s line %d: fingerprint does not match the certificate", s.path, n)
		}
		pins = append(pins, pin{addr: f[0], fingerprint: f[1], der: der, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pin file: %w", err)
	}
	return pins, nil
}

// add appends a pin unless one for addr already exists (then it returns the
// existing one, so a concurrent first use cannot pin two different CAs).
func (s *pinStore) add(addr string, der []byte) (pin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pins, err := s.readLocked()
	if err != nil {
		return pin{}, err
	}
	for _, p := range pins {
		if p.addr == addr {
			return p, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return pin{}, fmt.Errorf("create pin file dir: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return pin{}, fmt.Errorf("open pin file: %w", err)
	}
	p := pin{addr: addr, fingerprint: Fingerprint(der), der: der, line: countLines(pins) + 1}
	_, werr := fmt.Fprintf(f, "%s %s %s\n", addr, p.fingerprint, base64.StdEncoding.EncodeToString(der))
	cerr := f.Close()
	if werr != nil {
		return pin{}, fmt.Errorf("write pin file: %w", werr)
	}
	if cerr != nil {
		return pin{}, fmt.Errorf("write pin file: %w", cerr)
	}
	// Re-read for the true line number (comments and blank lines count).
	if again, err := s.readLocked(); err == nil {
		for _, q := range again {
			if q.addr == addr {
				p.line = q.line
			}
		}
	}
	return p, nil
}

func countLines(pins []pin) int {
	if len(pins) == 0 {
		return 0
	}
	return pins[len(pins)-1].line
}

// verifier checks the chain a server presents. It is used by a first raw
// handshake in Dial (so trust problems surface there, with a clear message)
// and then by every handshake gRPC makes.
type verifier struct {
	addr  string
	fixed *x509.Certificate // Options.CAPEM: trust this CA, pin nothing
	store *pinStore

	mu     sync.Mutex
	notice string // set when a new pin was written
}

func newFixedCA(pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("CA PEM: no CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA PEM: %w", err)
	}
	return cert, nil
}

func (v *verifier) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Standard verification is replaced, not skipped: VerifyConnection
		// checks the chain against the pinned (or given) CA. The host name
		// is not checked because the CA is the server's own, pinned per
		// address, and the server may be reached by names its certificate
		// does not list (tunnels, IP addresses).
		InsecureSkipVerify: true, //nolint:gosec // see VerifyConnection
		VerifyConnection:   v.verify,
		NextProtos:         []string{"h2"},
	}
}

func (v *verifier) verify(cs tls.ConnectionState) error {
	chain := cs.PeerCertificates
	if len(chain) == 0 {
		return errors.New("server presented no certificate")
	}
	if v.fixed != nil {
		return verifyChain(chain, v.fixed)
	}
	p, ok, err := v.store.lookup(v.addr)
	if err != nil {
		return err
	}
	if ok {
		ca, err := x509.ParseCertificate(p.der)
		if err != nil {
			return fmt.Errorf("pin file %s line %d: %w", v.store.path, p.line, err)
		}
		if err := verifyChain(chain, ca); err != nil {
			presented := Fingerprint(chain[len(chain)-1].Raw)
			return fmt.Errorf("%w for %s: pinned %s, server presents %s (%v). "+
				"If the change is expected (server reinstalled, new CA), delete line %d of %s and connect again",
				ErrCAChanged, v.addr, p.fingerprint, presented, err, p.line, v.store.path)
		}
		return nil
	}
	// First use: the last certificate of the chain is the server's CA.
	ca := chain[len(chain)-1]
	if !ca.IsCA && len(chain) > 1 {
		return fmt.Errorf("server %s did not send its CA certificate (last of %d is not a CA)", v.addr, len(chain))
	}
	if err := verifyChain(chain, ca); err != nil {
		return fmt.Errorf("server %s presented an inconsistent chain: %w", v.addr, err)
	}
	p, err = v.store.add(v.addr, ca.Raw)
	if err != nil {
		return err
	}
	if p.fingerprint != Fingerprint(ca.Raw) {
		// Another handshake pinned a different CA in the meantime.
		return fmt.Errorf("%w for %s while connecting (pinned %s)", ErrCAChanged, v.addr, p.fingerprint)
	}
	v.mu.Lock()
	v.notice = fmt.Sprintf("New server %s: its certificate authority was trusted on first use and pinned in %s. "+
		"Compare its fingerprint with the one ecouted printed:\n%s", v.addr, v.store.path, p.fingerprint)
	v.mu.Unlock()
	return nil
}

func verifyChain(chain []*x509.Certificate, ca *x509.Certificate) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}
