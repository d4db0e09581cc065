// Package pki makes the backend's own certificate authority and server
// certificate on first start, so TLS is on by default (R9) without any
// setup. Clients pin the CA on first use, like SSH known_hosts.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

// File names under the TLS directory.
const (
	CAFile      = "ca.pem"
	CAKeyFile   = "ca-key.pem"
	CertFile    = "server.pem"
	CertKeyFile = "server-key.pem"
)

// PKI is the CA and server certificate kept in Dir.
type PKI struct {
	Dir string

	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	leaf   tls.Certificate
	leafX  *x509.Certificate
	clock  clock.Clock
	extras []string
}

// Ensure loads the CA and server certificate from dir, creating what is
// missing. The server certificate is reissued (by the same CA) when a host
// in extraHosts is not among its names, or when it expires within 30 days.
func Ensure(dir string, c clock.Clock, extraHosts []string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls directory: %w", err)
	}
	p := &PKI{Dir: dir, clock: c, extras: extraHosts}
	if err := p.loadOrMakeCA(); err != nil {
		return nil, err
	}
	if err := p.loadOrMakeLeaf(); err != nil {
		return nil, err
	}
	return p, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func (p *PKI) path(name string) string { return filepath.Join(p.Dir, name) }

func (p *PKI) loadOrMakeCA() error {
	certPEM, err := os.ReadFile(p.path(CAFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p.makeCA()
	}
	if err != nil {
		return fmt.Errorf("read CA: %w", err)
	}
	keyPEM, err := os.ReadFile(p.path(CAKeyFile))
	if err != nil {
		return fmt.Errorf("read CA key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("load CA: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("load CA: key is not ECDSA")
	}
	p.ca, p.caKey, p.caPEM = pair.Leaf, key, certPEM
	return nil
}

func (p *PKI) makeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("CA key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	now := p.clock.Now()
	host, _ := os.Hostname()
	tpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "Écoute CA " + host, Organization: []string{"Écoute"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("CA certificate: %w", err)
	}
	ca, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKey(p.path(CAKeyFile), key); err != nil {
		return err
	}
	if err := os.WriteFile(p.path(CAFile), certPEM, 0o644); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	p.ca, p.caKey, p.caPEM = ca, key, certPEM
	return nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return nil
}

// Hosts are the names the server certificate must carry.
func (p *PKI) Hosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	for _, h := range p.extras {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func (p *PKI) loadOrMakeLeaf() error {
	pair, err := tls.LoadX509KeyPair(p.path(CertFile), p.path(CertKeyFile))
	if err == nil && p.leafFits(pair.Leaf) {
		p.leaf, p.leafX = pair, pair.Leaf
		p.leaf.Certificate = append(p.leaf.Certificate[:1], p.ca.Raw)
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("load server certificate: %w", err)
	}
	return p.makeLeaf()
}

func (p *PKI) leafFits(c *x509.Certificate) bool {
	if c == nil || p.clock.Now().Add(30*24*time.Hour).After(c.NotAfter) || c.CheckSignatureFrom(p.ca) != nil {
		return false
	}
	for _, h := range p.Hosts() {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func (p *PKI) makeLeaf() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	now := p.clock.Now()
	tpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: "ecouted", Organization: []string{"Écoute"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tpl.NotAfter.After(p.ca.NotAfter) {
		tpl.NotAfter = p.ca.NotAfter
	}
	for _, h := range p.Hosts() {
		if ip := net.ParseIP(h); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	if err := writeKey(p.path(CertKeyFile), key); err != nil {
		return err
	}
	if err := os.WriteFile(p.path(CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write server certificate: %w", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	p.leafX = leaf
	// Present leaf + CA so that a client can see and pin the CA on first use.
	p.leaf = tls.Certificate{Certificate: [][]byte{der, p.ca.Raw}, PrivateKey: key, Leaf: leaf}
	return nil
}

// ServerTLS is the server's TLS configuration.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.leaf}, MinVersion: tls.VersionTLS12}
}

// CACertPEM is the CA certificate clients trust.
func (p *PKI) CACertPEM() []byte { return slices.Clone(p.caPEM) }
