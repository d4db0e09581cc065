package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/mp3frame"
)

// The journey's size: how many recordings, in which formats, from how many
// concurrent uploaders. ECOUTE_E2E_UPLOADS, ECOUTE_E2E_FORMATS (a comma
// list of the names below) and ECOUTE_E2E_UPLOADERS change them.
const (
	defaultUploads   = 500
	defaultUploaders = 4
	defaultFormats   = "mp3,mp3-8k,wav-pcm16,wav-ulaw,wav-alaw"
)

// pbxFormats are the recordings a PBX writes, made with ffmpeg from a demo
// call: the canonical MP3 is stored as it is, the others go through the
// transcoder.
var pbxFormats = map[string][]string{
	"mp3":       {"-ar", "16000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"},
	"mp3-8k":    {"-ar", "8000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "16k", "-f", "mp3"},
	"wav-pcm16": {"-ar", "8000", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav"},
	"wav-ulaw":  {"-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "wav"},
	"wav-alaw":  {"-ar", "8000", "-ac", "1", "-c:a", "pcm_alaw", "-f", "wav"},
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// recording is one upload: its metadata and audio.
type recording struct {
	md     *ecoutev1.RecordingMetadata
	audio  []byte
	format string
}

// ecoutedCmd runs one ecouted command on the data directory and returns
// its standard output; stdin is piped in when given.
func ecoutedCmd(t *testing.T, bin, data, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ecouted %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// TestFirstRealDeployment is README's "Your first real deployment", from
// an empty data directory and with the real binaries: init, directory
// import (the HR export of a French spreadsheet), recording periods,
// uploads in the formats PBXs write (a part with `ecouted ingest --dir`,
// the rest from concurrent uploaders over gRPC as the telephony account),
// the daily sampling, then a supervisor made with `user add` logs in,
// lists the kept calls of their teams and streams one whole.
func TestFirstRealDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (apt-get install ffmpeg)")
		}
		t.Skip("ffmpeg not installed")
	}
	uploads := envInt(t, "ECOUTE_E2E_UPLOADS", defaultUploads)
	uploaders := envInt(t, "ECOUTE_E2E_UPLOADERS", defaultUploaders)
	formats := strings.Split(os.Getenv("ECOUTE_E2E_FORMATS"), ",")
	if os.Getenv("ECOUTE_E2E_FORMATS") == "" {
		formats = strings.Split(defaultFormats, ",")
	}
	t0 := time.Now()
	bin := buildBin(t, "../../cmd/ecouted", "ecouted")
	data := t.TempDir()

	// The settings: every format a PBX writes is converted with ffmpeg;
	// the sampling rate keeps at least one call of every agent (each of
	// the 10 agents has uploads/10 calls), so the supervisor has calls to
	// see whatever the draw.
	const agents = 10
	minPerAgent := uploads / agents // every agent has at least this many calls
	if minPerAgent < 1 {
		t.Fatalf("ECOUTE_E2E_UPLOADS=%d: at least %d, one per agent", uploads, agents)
	}
	rate := max(0.05, 1/float64(minPerAgent))
	rate = min(1, float64(int(rate*1000+0.999))/1000)
	if err := os.WriteFile(filepath.Join(data, "ecouted.yaml"),
		fmt.Appendf(nil, "sampling:\n  rate: %g\ningest:\n  transcoder: ffmpeg\n", rate), 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. init
	out := ecoutedCmd(t, bin, data, "", "init", "--name", "Paul Renaud")
	if !strings.Contains(out, "administrator: admin") {
		t.Fatalf("init:\n%s", out)
	}

	// 2. The directory, from the HR export.
	csv := "\ufeffType;Identifiant;Nom;Équipe;Client;Statut\r\n" +
		"équipe;T-ENERGIE;Énergie;;;\r\n" +
		"équipe;T-BANQUE;Banque;;;\r\n" +
		"campagne;C-CONTRATS;Contrats;;Fournisseur SA;\r\n"
	for i := range agents {
		team := []string{"T-ENERGIE", "T-BANQUE"}[i%2]
		csv += fmt.Sprintf("agent;%d;Agent Numéro %d;%s;;actif\r\n", 2001+i, i+1, team)
	}
	csvPath := filepath.Join(t.TempDir(), "annuaire.csv")
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := ecoutedCmd(t, bin, data, "", "directory", "import", csvPath); !strings.Contains(out, fmt.Sprintf("%d change(s) made", agents+3)) {
		t.Fatalf("directory import:\n%s", out)
	}

	// 3. Recording periods: the calls are yesterday's (UTC), so that the
	// sampling of today takes them. The agents were told by letter a week
	// ago (R6: a period starts at least a day after they were told).
	now := time.Now().UTC()
	day := now.Truncate(24*time.Hour).AddDate(0, 0, -1)
	for _, team := range []string{"T-ENERGIE", "T-BANQUE"} {
		ecoutedCmd(t, bin, data, "", "period", "add", "--team", team, "--from", day.Format(time.DateOnly),
			"--to", now.AddDate(0, 0, 30).Format(time.DateOnly), "--note", "first campaign",
			"--informed-on", now.AddDate(0, 0, -7).Format(time.DateOnly))
	}

	// The recordings, in the formats asked for.
	audio := map[string][]byte{}
	for _, f := range formats {
		args, ok := pbxFormats[f]
		if !ok {
			t.Fatalf("ECOUTE_E2E_FORMATS: unknown format %q (known: %s)", f, defaultFormats)
		}
		cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-i",
			"../../internal/demo/audio/05-box.mp3", "-t", "6"}, args...), "pipe:1")...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("ffmpeg %s: %v", f, err)
		}
		audio[f] = b
	}
	recs := make([]recording, uploads)
	for i := range recs {
		f := formats[i%len(formats)]
		start := day.Add(8*time.Hour + time.Duration(i)*20*time.Second)
		agent := i % agents
		recs[i] = recording{format: f, audio: audio[f], md: &ecoutev1.RecordingMetadata{
			ExternalId: fmt.Sprintf("pbx-%05d", i), StartedAt: timestamppb.New(start),
			EndedAt: timestamppb.New(start.Add(6 * time.Second)), AgentId: strconv.Itoa(2001 + agent),
			TeamId: []string{"T-ENERGIE", "T-BANQUE"}[agent%2], CampaignId: "C-CONTRATS",
			Direction: []string{"inbound", "outbound"}[i%2],
			Customer:  &ecoutev1.Customer{PhoneE164: fmt.Sprintf("+3361234%04d", i)},
			Consent:   &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-8 * time.Second)), Accepted: true},
		}}
	}

	// 4a. A first export of the PBX, imported with ingest --dir.
	offline := max(1, uploads/5)
	exportDir := t.TempDir()
	for _, r := range recs[:offline] {
		js, err := protojson.Marshal(r.md)
		if err != nil {
			t.Fatal(err)
		}
		ext := ".mp3"
		if strings.HasPrefix(r.format, "wav") {
			ext = ".wav"
		}
		name := filepath.Join(exportDir, r.md.ExternalId)
		if err := errors.Join(os.WriteFile(name+".json", js, 0o600), os.WriteFile(name+ext, r.audio, 0o600)); err != nil {
			t.Fatal(err)
		}
	}
	out = ecoutedCmd(t, bin, data, "", "ingest", "--dir", exportDir)
	if want := fmt.Sprintf("%d recordings in %s: %d stored", offline, exportDir, offline); !strings.Contains(out, want) {
		t.Fatalf("ingest --dir: want %q in\n%s", want, out)
	}
	tIngestDir := time.Since(t0)

	// 4b. The PBX's service account, then the server, then the live
	// uploads from concurrent uploaders.
	pbxPassword := "quatre chevaux blancs sur la colline verte"
	ecoutedCmd(t, bin, data, pbxPassword+"\n", "user", "add", "--login", "pbx", "--name", "Centrale Téléphonique",
		"--role", "telephony")
	addr := serveEcouted(t, bin, data)
	ca, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pbxToken := firstLogin(ctx, t, addr, ca, "pbx", pbxPassword, "le serveur vocal du premier sous-sol")
	ingest := ingestClient(t, addr, ca)
	uctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+pbxToken)
	var next atomic.Int64
	next.Store(int64(offline))
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	tLive := time.Now()
	for range uploaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= uploads {
					return
				}
				res, err := uploadRecording(uctx, ingest, recs[i])
				if err != nil {
					errs <- fmt.Errorf("%s (%s): %w", recs[i].md.ExternalId, recs[i].format, err)
					continue
				}
				if res.Duplicate {
					errs <- fmt.Errorf("%s: answered as a duplicate", recs[i].md.ExternalId)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	live := uploads - offline
	t.Logf("%d recordings (%s): %d by ingest --dir, %d by %d concurrent uploaders in %v",
		uploads, strings.Join(formats, ", "), offline, live, uploaders, time.Since(tLive).Round(time.Millisecond))

	// 5. The daily sampling (serve would run it at sampling.hour; the
	// command runs it now, for yesterday).
	out = ecoutedCmd(t, bin, data, "", "sample")
	m := regexp.MustCompile(`(?m)^sampled 1 day\(s\) at rate [0-9.]+: (\d+) recordings, (\d+) kept`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sample:\n%s", out)
	}
	received, _ := strconv.Atoi(m[1])
	kept, _ := strconv.Atoi(m[2])
	perAgent := float64(minPerAgent) * rate // ≥ 1: the quota's floor is kept whatever the draw
	if received != uploads || kept < agents*int(perAgent) || kept > uploads {
		t.Fatalf("sampled %d recordings, kept %d; want %d received and at least ⌊%.2f⌋ per agent", received, kept, uploads, perAgent)
	}

	// 6. A supervisor of both teams logs in, lists the kept calls and
	// plays one.
	supPassword := "une superviseuse et ses deux equipes"
	ecoutedCmd(t, bin, data, supPassword+"\n", "user", "add", "--login", "cdubois", "--name", "Claire Dubois",
		"--role", "supervisor", "--team", "T-ENERGIE", "--team", "T-BANQUE")
	cl, _ := firstConsole(ctx, t, addr, ca, "cdubois", supPassword, "ma propre phrase de superviseuse")
	defer cl.Close()
	var calls []*ecoutev1.Call
	page := client.CallQuery{PageSize: 100}
	for {
		resp, err := cl.ListCalls(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TotalSize != int64(kept) {
			t.Fatalf("the supervisor sees %d calls, the sampling kept %d", resp.TotalSize, kept)
		}
		calls = append(calls, resp.Calls...)
		if page.PageToken = resp.NextPageToken; page.PageToken == "" {
			break
		}
	}
	if len(calls) != kept {
		t.Fatalf("paged through %d calls of %d", len(calls), kept)
	}
	agentsSeen := map[string]bool{}
	for _, c := range calls {
		agentsSeen[c.AgentId] = true
		if !strings.HasPrefix(c.AgentName, "Agent Numéro ") || c.GetDuration().AsDuration() < 5*time.Second {
			t.Errorf("call %s: agent %q, %v", c.CallId, c.AgentName, c.GetDuration().AsDuration())
		}
	}
	if len(agentsSeen) != agents {
		t.Errorf("kept calls of %d agents, want every one of the %d", len(agentsSeen), agents)
	}
	// Play the first: stream it whole and check it is MP3 of its length.
	c := calls[0]
	size, err := cl.AudioSize(ctx, c.CallId)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cl.AudioSource(c.CallId, size).Open(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	played, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || int64(len(played)) != size {
		t.Fatalf("streamed %d of %d bytes: %v", len(played), size, err)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(played))
	if err != nil {
		t.Fatalf("the streamed call is not MP3: %v", err)
	}
	if d := ix.Duration(); d < 5*time.Second || d > 7*time.Second {
		t.Errorf("the streamed call lasts %v, recorded 6 s", d)
	}
	t.Logf("journey of %d uploads in %v (ingest --dir done at %v); supervisor saw %d kept calls of %d agents, played %s (%d bytes, %v)",
		uploads, time.Since(t0).Round(time.Millisecond), tIngestDir.Round(time.Millisecond), len(calls), len(agentsSeen),
		c.CallId, size, ix.Duration().Round(time.Millisecond))
}

// uploadRecording sends one recording as the telephony side does:
// metadata first, then the audio in 64 KiB chunks.
func uploadRecording(ctx context.Context, ingest ecoutev1.IngestServiceClient, r recording) (*ecoutev1.UploadRecordingResponse, error) {
	st, err := ingest.UploadRecording(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: r.md}}); err != nil {
		return st.CloseAndRecv()
	}
	for b := r.audio; len(b) > 0; {
		n := min(len(b), 64<<10)
		if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: b[:n]}}); err != nil {
			break // the server answered early: CloseAndRecv says why
		}
		b = b[n:]
	}
	return st.CloseAndRecv()
}

// firstLogin logs in with a one-time password, changes it and returns the
// session token.
func firstLogin(ctx context.Context, t *testing.T, addr string, ca []byte, login, once, chosen string) string {
	t.Helper()
	cl, token := firstConsole(ctx, t, addr, ca, login, once, chosen)
	cl.Close()
	return token
}

// firstConsole is a console logged in for the first time with a one-time
// password, then with the password chosen; the test closes it.
func firstConsole(ctx context.Context, t *testing.T, addr string, ca []byte, login, once, chosen string) (*client.Client, string) {
	t.Helper()
	cl, err := client.Dial(ctx, addr, client.Options{CAPEM: ca})
	if err != nil {
		t.Fatal(err)
	}
	if lr, err := cl.Login(ctx, login, once); err != nil || !lr.PasswordChangeRequired {
		cl.Close()
		t.Fatalf("%s's first login: %v %v", login, lr, err)
	}
	resp, err := cl.ChangePassword(ctx, once, chosen)
	if err != nil {
		cl.Close()
		t.Fatalf("%s's password change: %v", login, err)
	}
	return cl, resp.Token
}

// ingestClient dials addr as the telephony side does, trusting the data
// directory's CA; the connection closes at the end of the test.
func ingestClient(t *testing.T, addr string, ca []byte) ecoutev1.IngestServiceClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ecoutev1.NewIngestServiceClient(conn)
}

// serveEcouted starts `ecouted serve` on a free loopback port and returns
// its address once it listens; the server is stopped at the end of the test.
func serveEcouted(t *testing.T, bin, data string) string {
	t.Helper()
	cmd := exec.Command(bin, "--data", data, "serve", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrc <- a
				for sc.Scan() { // keep draining so the server never blocks on its log
				}
				return
			}
			seen = append(seen, sc.Text())
		}
		t.Logf("ecouted exited before listening:\n%s", strings.Join(seen, "\n"))
		close(addrc)
	}()
	select {
	case a, ok := <-addrc:
		if !ok {
			t.Fatal("ecouted serve did not start")
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("ecouted did not listen within 30 s")
	}
	return ""
}
