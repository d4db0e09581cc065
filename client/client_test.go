package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf returns a server certificate whose chain is leaf + CA, as ecouted sends.
func (ca testCA) leaf(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "ecouted"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

type fakeServer struct {
	ecoutev1.UnimplementedAuthServiceServer
	ecoutev1.UnimplementedCallServiceServer
	audio     []byte
	chunk     int
	gotTokens chan string
}

func (s *fakeServer) Login(_ context.Context, r *ecoutev1.LoginRequest) (*ecoutev1.LoginResponse, error) {
	if r.GetPassword() != "right" {
		return nil, status.Error(codes.Unauthenticated, "wrong login or password")
	}
	return &ecoutev1.LoginResponse{Token: "tok-" + r.GetLogin(), Principal: &ecoutev1.Principal{Login: r.GetLogin(), Role: "supervisor"}}, nil
}

func (s *fakeServer) WhoAmI(ctx context.Context, _ *ecoutev1.WhoAmIRequest) (*ecoutev1.WhoAmIResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
		return nil, status.Error(codes.Unauthenticated, "no token")
	}
	return &ecoutev1.WhoAmIResponse{Principal: &ecoutev1.Principal{Login: strings.TrimPrefix(auth[0], "Bearer tok-")}}, nil
}

func (s *fakeServer) StreamAudio(r *ecoutev1.StreamAudioRequest, st grpc.ServerStreamingServer[ecoutev1.AudioChunk]) error {
	if r.GetCallId() != "c1" {
		return status.Error(codes.NotFound, "no such call")
	}
	for off := r.GetOffset(); off < int64(len(s.audio)); off += int64(s.chunk) {
		end := min(off+int64(s.chunk), int64(len(s.audio)))
		if err := st.Send(&ecoutev1.AudioChunk{Offset: off, Data: s.audio[off:end], TotalSize: int64(len(s.audio)), Codec: "mp3"}); err != nil {
			return err
		}
	}
	return nil
}

// serve starts a TLS gRPC server on a loopback port and returns its address.
func serve(t *testing.T, cert *tls.Certificate, fs *fakeServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cert}})))
	}
	srv := grpc.NewServer(opts...)
	ecoutev1.RegisterAuthServiceServer(srv, fs)
	ecoutev1.RegisterCallServiceServer(srv, fs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTrustOnFirstUse(t *testing.T) {
	ctx := ctxT(t)
	pins := filepath.Join(t.TempDir(), "cfg", "known_servers")
	ca := newCA(t)
	cert := ca.leaf(t)
	addr := serve(t, &cert, &fakeServer{})

	// First use pins the CA and says so.
	c, err := Dial(ctx, addr, Options{PinFile: pins})
	if err != nil {
		t.Fatalf("first dial: %v", err)
	}
	fp := Fingerprint(ca.cert.Raw)
	if !strings.Contains(c.TrustNotice(), fp) {
		t.Errorf("notice %q does not show fingerprint %s", c.TrustNotice(), fp)
	}
	if _, err := c.Login(ctx, "ana", "right"); err != nil {
		t.Fatalf("login over pinned TLS: %v", err)
	}
	c.Close()
	data, err := os.ReadFile(pins)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), addr+" "+fp+" ") {
		t.Errorf("pin file = %q", data)
	}
	st, _ := os.Stat(pins)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("pin file mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(pins))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("pin dir mode %v, want 0700", dst.Mode().Perm())
	}

	// Second use passes quietly.
	c, err = Dial(ctx, addr, Options{PinFile: pins})
	if err != nil {
		t.Fatalf("second dial: %v", err)
	}
	if c.TrustNotice() != "" {
		t.Errorf("second dial notice = %q, want none", c.TrustNotice())
	}
	c.Close()

	// A server at the same address with another CA is refused.
	other := newCA(t)
	otherCert := other.leaf(t)
	addr2 := serve(t, &otherCert, &fakeServer{})
	// Pin addr2 to the first CA by copying the line under the new address.
	line := strings.Replace(string(data), addr, addr2, 1)
	if err := os.WriteFile(pins, []byte("# comment\n"+string(data)+line), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Dial(ctx, addr2, Options{PinFile: pins})
	if !errors.Is(err, ErrCAChanged) {
		t.Fatalf("changed CA: err = %v, want ErrCAChanged", err)
	}
	for _, want := range []string{pins, "line 3", Fingerprint(other.cert.Raw)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("changed-CA error %q does not mention %q", err, want)
		}
	}
}

func TestFixedCA(t *testing.T) {
	ctx := ctxT(t)
	ca := newCA(t)
	cert := ca.leaf(t)
	addr := serve(t, &cert, &fakeServer{})
	pins := filepath.Join(t.TempDir(), "known_servers")
	c, err := Dial(ctx, addr, Options{CAPEM: ca.pem, PinFile: pins})
	if err != nil {
		t.Fatalf("dial with CA: %v", err)
	}
	c.Close()
	if _, err := os.Stat(pins); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fixed CA wrote a pin file (stat err %v)", err)
	}
	if _, err := Dial(ctx, addr, Options{CAPEM: newCA(t).pem}); err == nil {
		t.Error("dial with the wrong CA succeeded")
	}
}

func TestInsecureLoopbackOnly(t *testing.T) {
	if _, err := Dial(context.Background(), "192.0.2.1:7443", Options{Insecure: true}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("insecure non-loopback: err = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	lis.Close()
	_, err := Dial(ctxT(t), addr, Options{PinFile: filepath.Join(t.TempDir(), "k")})
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("err = %v, want unreachable", err)
	}
}

func TestTokenAndAudio(t *testing.T) {
	ctx := ctxT(t)
	audio := make([]byte, 10000)
	for i := range audio {
		audio[i] = byte(i * 7)
	}
	fs := &fakeServer{audio: audio, chunk: 333}
	addr := serve(t, nil, fs)
	c, err := Dial(ctx, addr, Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WhoAmI(ctx); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("whoami before login: %v, want ErrSessionEnded", err)
	}
	var bad *ErrBadCredentials
	if _, err := c.Login(ctx, "ana", "wrong"); !errors.As(err, &bad) {
		t.Errorf("wrong password: %v, want *ErrBadCredentials", err)
	}
	if _, err := c.Login(ctx, "ana", "right"); err != nil {
		t.Fatal(err)
	}
	p, err := c.WhoAmI(ctx)
	if err != nil || p.GetLogin() != "ana" {
		t.Fatalf("whoami = %v, %v", p, err)
	}

	if n, err := c.AudioSize(ctx, "c1"); err != nil || n != int64(len(audio)) {
		t.Errorf("AudioSize = %d, %v; want %d", n, err, len(audio))
	}
	src := c.AudioSource("c1", int64(len(audio)))
	for _, off := range []int64{0, 1234, 9999} {
		rc, err := src.Open(ctx, off)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read from %d: %v", off, err)
		}
		if !bytes.Equal(got, audio[off:]) {
			t.Errorf("from %d: got %d bytes, want %d equal ones", off, len(got), len(audio)-int(off))
		}
	}
	rc, err := src.Open(ctx, int64(len(audio)))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := io.ReadAll(rc); len(n) != 0 {
		t.Error("open at the end returned bytes")
	}
	// Closing early stops the stream; reads then fail.
	rc, _ = src.Open(ctx, 0)
	buf := make([]byte, 10)
	if _, err := rc.Read(buf); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := io.ReadAll(rc); err == nil {
		t.Error("read after close succeeded")
	}
	if _, err := c.AudioSource("nope", 10).Open(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown call: %v, want NotFound from Open", err)
	}
}
