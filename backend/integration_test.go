package backend_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/hajimehoshi/go-mp3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// TestEcoutedBinary builds the real ecouted, initialises a data directory,
// seeds the demo, serves TLS on loopback and plays the supervisor's part:
// log in, list, open a call, fetch all its audio and decode it.
func TestEcoutedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ecouted binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ecouted")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ecoute/ecoute/cmd/ecouted").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	run := func(stdin string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}

	if out, errOut, err := run("", "--help"); err != nil || !strings.Contains(out+errOut, "seed-demo") {
		t.Errorf("--help: %v, does not list the commands: %q", err, out+errOut)
	}
	if _, errOut, err := run("", "serve", "--help"); err != nil || !strings.Contains(errOut, "--insecure") && !strings.Contains(errOut, "-insecure") {
		t.Errorf("serve --help: %v %q", err, errOut)
	}
	if _, errOut, err := run("", "frobnicate"); err == nil || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %v %q", err, errOut)
	}
	if _, errOut, err := run("un mot de passe solide\n", "init", "--login", "admin", "--name", "Paul Renaud"); err != nil {
		t.Fatalf("init: %v %s", err, errOut)
	}
	if _, _, err := run("un autre mot de passe\n", "init", "--login", "admin2", "--name", "Autre Admin"); err == nil {
		t.Error("second init accepted")
	}
	for _, f := range []string{"ca-key.pem", "server-key.pem"} {
		if st, err := os.Stat(filepath.Join(data, "tls", f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v", f, err, st.Mode())
		}
	}
	t0 := time.Now()
	out, errOut, err := run("", "seed-demo")
	if err != nil {
		t.Fatalf("seed-demo: %v %s", err, errOut)
	}
	t.Logf("seed-demo command took %v (%s)", time.Since(t0), strings.TrimSpace(errOut))
	accounts := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("seed-demo line %q is not \"<role> <login> <password>\"", line)
		}
		accounts[f[0]] = [2]string{f[1], f[2]}
	}
	if len(accounts) < 8 {
		t.Errorf("seed-demo printed %d accounts", len(accounts))
	}

	if _, errOut, err := run("", "serve", "--insecure", "--listen", "0.0.0.0:0"); err == nil || !strings.Contains(errOut, "loopback") {
		t.Errorf("--insecure on 0.0.0.0 not refused: %v %q", err, errOut)
	}

	// serve, reading the address from stderr.
	cmd := exec.Command(bin, "--data", data, "serve", "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrc := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		// Keep reading until the process ends, so its logs never block it.
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrc <- a
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not say where it listens")
	}

	// Trust only the CA from the data directory, and check the server
	// presents it (leaf + CA) so a client could pin it on first use.
	caPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	raw, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("TLS with the data directory's CA: %v", err)
	}
	if chain := raw.ConnectionState().PeerCertificates; len(chain) != 2 || !chain[1].IsCA {
		t.Errorf("server presents %d certificates, want leaf + CA", len(chain))
	}
	raw.Close()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	cc := ecoutev1.NewCallServiceClient(conn)
	if _, err := cc.ListCalls(ctx, &ecoutev1.ListCallsRequest{}); code(err) != codes.Unauthenticated {
		t.Errorf("unauthenticated ListCalls: %v", err)
	}
	sup := accounts["supervisor"]
	lr, err := ecoutev1.NewAuthServiceClient(conn).Login(ctx, &ecoutev1.LoginRequest{Login: sup[0], Password: sup[1]})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	teams := map[string]bool{}
	for _, id := range lr.Principal.TeamIds {
		teams[id] = true
	}
	if len(teams) != 2 {
		t.Errorf("demo supervisor has teams %v, want 2", lr.Principal.TeamIds)
	}
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+lr.Token)

	var all []*ecoutev1.Call
	req := &ecoutev1.ListCallsRequest{PageSize: 40}
	var total int64
	pages := 0
	for {
		resp, err := cc.ListCalls(actx, req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total = resp.TotalSize
		all = append(all, resp.Calls...)
		if resp.NextPageToken == "" {
			break
		}
		req.PageToken = resp.NextPageToken
	}
	if int64(len(all)) != total || pages < 2 {
		t.Errorf("%d calls in %d pages, total_size %d", len(all), pages, total)
	}
	for _, c := range all {
		if !teams[c.TeamId] {
			t.Errorf("call %s of team %s is outside the supervisor's teams", c.CallId, c.TeamId)
		}
	}

	gc, err := cc.GetCall(actx, &ecoutev1.GetCallRequest{CallId: all[0].CallId})
	if err != nil || gc.Call.CallId != all[0].CallId {
		t.Fatalf("GetCall: %v", err)
	}
	st, err := cc.StreamAudio(actx, &ecoutev1.StreamAudioRequest{CallId: gc.Call.CallId})
	if err != nil {
		t.Fatal(err)
	}
	var audio []byte
	var size int64
	for {
		ch, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ch.TotalSize > 0 {
			size = ch.TotalSize
		}
		audio = append(audio, ch.Data...)
	}
	if int64(len(audio)) != size {
		t.Fatalf("got %d bytes, first chunk said %d", len(audio), size)
	}
	dec, err := mp3.NewDecoder(bytes.NewReader(audio))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	pcm, err := io.ReadAll(dec)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	got := time.Duration(len(pcm)/4) * time.Second / time.Duration(dec.SampleRate())
	want := gc.Call.Duration.AsDuration()
	frame := 576 * time.Second / time.Duration(dec.SampleRate())
	if got < want-frame || got > want+frame {
		t.Errorf("decoded %v of audio, call says %v (±%v)", got, want, frame)
	}
	t.Logf("decoded %v of PCM at %d Hz from %d bytes", got, dec.SampleRate(), len(audio))

	// Graceful stop on SIGTERM.
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { <-drained; done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve did not stop on SIGTERM")
	}
}
