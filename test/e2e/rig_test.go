package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
)

// rig is a real backend (ecouted's App, demo directory, every recording
// kept by the sampling) on a loopback TLS port, with a supervisor's and a
// maintenance account's consoles and the telephony account's uploads.
type rig struct {
	app   *backend.App
	addr  string
	ca    []byte
	sup   *client.Client
	maint *client.Client
	tel   string // the telephony account's token
	like  *ecoutev1.Call
	seq   atomic.Int64
}

// newRig starts a backend converting uploads with transcoder ("" for none).
func newRig(t testing.TB, transcoder string) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	settings := config.Defaults()
	app, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), Settings: settings, Transcoder: transcoder, SampleAll: true})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, lis, true) }()
	t.Cleanup(func() {
		cancel()
		<-done
		app.Close()
	})
	r := &rig{app: app, addr: lis.Addr().String()}
	if r.ca, err = app.CACertPEM(); err != nil {
		t.Fatal(err)
	}
	login := func(role string) (*client.Client, string) {
		c, err := client.Dial(ctx, r.addr, client.Options{CAPEM: r.ca})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		for _, a := range accounts {
			if a.Role == role {
				resp, err := c.Login(ctx, a.Login, a.Password)
				if err != nil {
					t.Fatal(err)
				}
				return c, resp.GetToken()
			}
		}
		t.Fatalf("no demo %s", role)
		return nil, ""
	}
	r.sup, _ = login("supervisor")
	r.maint, _ = login("maintenance")
	_, r.tel = login("telephony")
	list, err := r.sup.ListCalls(ctx, client.CallQuery{PageSize: 1})
	if err != nil || len(list.GetCalls()) == 0 {
		t.Fatalf("list calls: %v", err)
	}
	r.like = list.GetCalls()[0] // an agent, team and campaign the supervisor sees
	return r
}

// upload sends a recording of about dur as the telephony side does, then
// runs the sampling (which keeps it) and draws its peaks: the call is
// listenable, its waveform whole, when it returns nil.
func (r *rig) upload(t testing.TB, data []byte, dur time.Duration) (*ecoutev1.UploadRecordingResponse, error) {
	t.Helper()
	ctx := context.Background()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.ca)
	conn, err := grpc.NewClient(r.addr, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	up, err := ecoutev1.NewIngestServiceClient(conn).UploadRecording(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+r.tel))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	start := day.Add(8*time.Hour + time.Duration(r.seq.Add(1))*time.Minute)
	md := &ecoutev1.RecordingMetadata{
		ExternalId: fmt.Sprintf("e2e-%d-%d", time.Now().UnixNano(), r.seq.Load()),
		StartedAt:  timestamppb.New(start), EndedAt: timestamppb.New(start.Add(max(dur, time.Second))),
		AgentId: r.like.GetAgentId(), TeamId: r.like.GetTeamId(), CampaignId: r.like.GetCampaignId(),
		Direction: "inbound",
		Consent: &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-time.Minute)),
			AnsweredAt: timestamppb.New(start.Add(-30 * time.Second)), Accepted: true},
	}
	if err := up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: md}}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		part := data[off:min(off+1<<20, len(data))]
		if err := up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: part}}); err != nil {
			break // the server answered early: CloseAndRecv says why
		}
	}
	resp, err := up.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	if _, err := r.app.Sample(ctx, time.Now()); err != nil {
		t.Fatalf("sampling: %v", err)
	}
	// The peaks of kept calls are drawn after the sampling (the daily job
	// does it, or the first open in the background): draw them now.
	if _, err := r.app.Waveforms(ctx, time.Now()); err != nil {
		t.Fatalf("waveforms: %v", err)
	}
	return resp, nil
}

// open opens a call as the call screen does: GetWaveform (peaks at screen
// resolution, the first page of the index), the size, a track over a fresh
// audio source, the rest of the index fetched page by page.
func (r *rig) open(t testing.TB, c *client.Client, eng *player.Engine, id string) (player.Track, *ecoutev1.GetWaveformResponse) {
	t.Helper()
	ctx := context.Background()
	wf, err := c.GetWaveform(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	size, err := c.AudioSize(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := eng.Open(c.AudioSource(id, size), playerInfo(c.PlaybackInfo(id, wf, size)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, wf
}

// stored downloads a call's stored audio, as a console would stream it.
func (r *rig) stored(t testing.TB, id string) []byte {
	t.Helper()
	ctx := context.Background()
	size, err := r.sup.AudioSize(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.sup.AudioSource(id, size).Open(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// render plays a track from pos through a manual engine (no device: as
// fast as the decoder goes) and returns up to n samples at the engine rate,
// fewer at the end of the recording.
func render(t testing.TB, eng *player.Engine, tr player.Track, pos time.Duration, n int) [][2]float64 {
	t.Helper()
	if pos > 0 {
		tr.Seek(pos)
	}
	tr.Play()
	out := make([][2]float64, 0, min(n, 1<<22))
	buf := make([][2]float64, 960)
	deadline := time.Now().Add(2 * time.Minute)
	for len(out) < n {
		k := eng.Pull(buf[:min(len(buf), n-len(out))])
		out = append(out, buf[:k]...)
		if k == 0 {
			if !tr.Playing() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the player gave no sample for 2 minutes after %d", len(out))
			}
			time.Sleep(time.Millisecond) // the decoder's goroutine runs ahead
		}
	}
	tr.Pause()
	return out
}

// capture plays with `ecoute play --no-tui args…` on a private ALSA
// configuration whose default device is the `file` plugin into a FIFO:
// exactly what the player hands the sound device, 48 kHz float32 stereo.
// It skips when the build or the machine has no ALSA.
func capture(t testing.TB, bin string, args ...string) [][2]float64 {
	t.Helper()
	if why := alsaCapture(); why != "" {
		t.Skip(why)
	}
	got, err := captureErr(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// captureErr is capture for any goroutine: it returns what went wrong.
func captureErr(bin string, args ...string) ([][2]float64, error) {
	home, err := os.MkdirTemp("", "ecoute-capture-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	fifo := filepath.Join(home, "capture.raw")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, err
	}
	asoundrc := fmt.Sprintf("pcm.!default {\n  type file\n  slave.pcm \"null\"\n  file \"%s\"\n  format \"raw\"\n}\n", fifo)
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte(asoundrc), 0o600); err != nil {
		return nil, err
	}
	// Read the FIFO at the sample rate, as a sound card would: the null
	// device does not pace itself, and a reader that raced ahead would
	// starve the player's buffer.
	captured := make(chan []byte, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
		if err != nil {
			captured <- nil
			return
		}
		defer f.Close()
		var all bytes.Buffer
		const tick = 10 * time.Millisecond
		buf := make([]byte, captureRate*8*int(tick/time.Millisecond)/1000)
		next := time.Now()
		for {
			n, err := io.ReadFull(f, buf)
			all.Write(buf[:n])
			if err != nil {
				break
			}
			next = next.Add(tick)
			time.Sleep(time.Until(next))
		}
		captured <- all.Bytes()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"play", "--no-tui"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"ECOUTE_LOG="+filepath.Join(home, "ecoute.log"))
	out, err := cmd.CombinedOutput()
	// If the player never opened the device, the reader still waits for a
	// writer: open and close one to let it go (harmless otherwise).
	if f, ferr := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); ferr == nil {
		f.Close()
	}
	log, _ := os.ReadFile(filepath.Join(home, "ecoute.log"))
	var raw []byte
	select {
	case raw = <-captured:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("ecoute play %v: the capture FIFO was not closed after ecoute exited", args)
	}
	if err != nil {
		return nil, fmt.Errorf("ecoute play %v: %w\n%s\nlog:\n%s", args, err, out, log)
	}
	if !strings.Contains(string(out), "output: speaker") {
		return nil, fmt.Errorf("ecoute play %v: the player did not use the (file) sound device:\n%s\nlog:\n%s", args, out, log)
	}
	got := make([][2]float64, len(raw)/8)
	for i := range got {
		got[i] = [2]float64{float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i*8:]))),
			float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i*8+4:])))}
	}
	return got, nil
}

// stripGaps removes the runs of exact silence (both channels zero for more
// than half a millisecond) from x and says how many it removed. A player
// starved of CPU by a busy machine lets the device play such a run and
// then goes on where it was (an underrun); digital silence in the
// recording itself goes too, from the capture and from what it is compared
// with alike, so that both line up whatever the machine's load.
func stripGaps(x [][2]float64) ([][2]float64, int) {
	const minRun = captureRate / 2000
	out := make([][2]float64, 0, len(x))
	runs, run := 0, 0
	for i, s := range x {
		if s[0] == 0 && s[1] == 0 {
			run++
			continue
		}
		if run > minRun {
			runs++
		} else {
			out = append(out, x[i-run:i]...)
		}
		run = 0
		out = append(out, s)
	}
	if run > 0 && run <= minRun {
		out = append(out, x[len(x)-run:]...)
	}
	return out, runs
}
