package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hajimehoshi/go-mp3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/ecoute/ecoute/player"
)

// The one-hour benchmarks (BENCHMARKS.md, "Player"). The recording is built
// at bench time from the demo clips' frames (MPEG-2 Layer III, 16 kHz mono,
// 32 kbit/s), never committed, and served by a real backend over loopback
// TLS gRPC.

// hourFile writes a one-hour MP3 made of the demo clips' frames, one after
// the other, into the benchmark's temporary directory (removed after it).
func hourFile(tb testing.TB) string {
	tb.Helper()
	clips, err := filepath.Glob("../../internal/demo/audio/*.mp3")
	if err != nil || len(clips) == 0 {
		tb.Fatalf("no demo clips: %v", err)
	}
	var frames [][]byte
	for _, c := range clips {
		data, err := os.ReadFile(c)
		if err != nil {
			tb.Fatal(err)
		}
		ix, err := mp3frame.Scan(bytes.NewReader(data))
		if err != nil {
			tb.Fatalf("%s: %v", c, err)
		}
		end := ix.Offsets[len(ix.Offsets)-1]
		h, _ := mp3frame.ParseHeader(data[end:])
		frames = append(frames, data[ix.Offsets[0]:end+int64(h.FrameSize)])
	}
	path := filepath.Join(tb.TempDir(), "hour.mp3")
	var out bytes.Buffer
	var total time.Duration
	for i := 0; total < time.Hour; i++ {
		b := frames[i%len(frames)]
		n := len(b) / 144 // 144-byte frames of 576 samples (36 ms) at 16 kHz
		k := min(n, int((time.Hour-total)/(36*time.Millisecond))+1)
		out.Write(b[:k*144])
		total += time.Duration(k) * 36 * time.Millisecond
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// hourSetup starts a real backend (ecouted's App, seeded with the demo,
// sampling rate 100 %) on a loopback TLS port, uploads the hour file as
// yesterday's call through IngestService as the telephony account, runs the
// sampling so that it is kept, and returns a logged-in supervisor client
// and the call id. The upload decodes the hour once for its peaks (tens of
// seconds); it is outside every timed section.
func hourSetup(b *testing.B) (*client.Client, string) {
	b.Helper()
	path := hourFile(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	settings := config.Defaults()
	app, err := backend.Open(ctx, backend.Config{DataDir: b.TempDir(), Settings: settings, SampleAll: true})
	if err != nil {
		b.Fatal(err)
	}
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, lis, true) }()
	b.Cleanup(func() {
		cancel()
		<-done
		app.Close()
	})
	ca, err := app.CACertPEM()
	if err != nil {
		b.Fatal(err)
	}
	login := func(role string) (*client.Client, string) {
		c, err := client.Dial(ctx, lis.Addr().String(), client.Options{CAPEM: ca})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		for _, a := range accounts {
			if a.Role == role {
				resp, err := c.Login(ctx, a.Login, a.Password)
				if err != nil {
					b.Fatal(err)
				}
				return c, resp.GetToken()
			}
		}
		b.Fatalf("no demo %s", role)
		return nil, ""
	}
	sup, _ := login("supervisor")
	_, token := login("telephony")
	list, err := sup.ListCalls(ctx, client.CallQuery{PageSize: 1})
	if err != nil || len(list.GetCalls()) == 0 {
		b.Fatalf("list calls: %v", err)
	}
	like := list.GetCalls()[0] // an agent, team and campaign the supervisor sees

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	up, err := ecoutev1.NewIngestServiceClient(conn).UploadRecording(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token))
	if err != nil {
		b.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	start := day.Add(9 * time.Hour)
	md := &ecoutev1.RecordingMetadata{
		ExternalId: fmt.Sprintf("bench-hour-%d", time.Now().UnixNano()),
		StartedAt:  timestamppb.New(start), EndedAt: timestamppb.New(start.Add(time.Hour)),
		AgentId: like.GetAgentId(), TeamId: like.GetTeamId(), CampaignId: like.GetCampaignId(),
		Direction: "inbound",
		Consent: &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-time.Minute)),
			AnsweredAt: timestamppb.New(start.Add(-30 * time.Second)), Accepted: true},
	}
	if err := up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: md}}); err != nil {
		b.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		part := data[off:min(off+1<<20, len(data))]
		if err := up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: part}}); err != nil {
			b.Fatal(err)
		}
	}
	resp, err := up.CloseAndRecv()
	if err != nil {
		b.Fatalf("upload the hour: %v", err)
	}
	if _, err := app.Sample(ctx, time.Now()); err != nil {
		b.Fatalf("sampling: %v", err)
	}
	call, err := sup.GetCall(ctx, resp.GetCallId())
	if err != nil {
		b.Fatalf("the uploaded hour is not listenable: %v", err)
	}
	if d := call.GetDuration().AsDuration(); d < time.Hour {
		b.Fatalf("uploaded call lasts %v", d)
	}
	return sup, resp.GetCallId()
}

// openHour opens the hour call as the call screen does: GetWaveform for the
// frame index, then a track over a fresh AudioSource (empty cache).
func openHour(b *testing.B, c *client.Client, eng *player.Engine, id string) player.Track {
	b.Helper()
	wf, err := c.GetWaveform(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	size, err := c.AudioSize(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := eng.Open(c.AudioSource(id, size), playerInfo(c.PlaybackInfo(id, wf, size)))
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkHourPlayToFirstSample: one-hour call over loopback gRPC, Play →
// first samples handed to the (null) output.
func BenchmarkHourPlayToFirstSample(b *testing.B) {
	c, id := hourSetup(b)
	eng := player.NewEngine(player.EngineOptions{ForceNull: true})
	defer eng.Close()
	for b.Loop() {
		b.StopTimer()
		tr := openHour(b, c, eng, id)
		b.StartTimer()
		tr.Play()
		waitFirstSample(b, tr)
		b.StopTimer()
		tr.Close()
		b.StartTimer()
	}
}

// BenchmarkHourSeek45ToFirstSample: playing from the start of the hour
// call, Seek(45:00) → first samples of 45:00 at the output, cache cold.
func BenchmarkHourSeek45ToFirstSample(b *testing.B) {
	c, id := hourSetup(b)
	eng := player.NewEngine(player.EngineOptions{ForceNull: true})
	defer eng.Close()
	for b.Loop() {
		b.StopTimer()
		tr := openHour(b, c, eng, id)
		tr.Play()
		waitFirstSample(b, tr)
		b.StartTimer()
		tr.Seek(45 * time.Minute)
		waitFirstSample(b, tr)
		b.StopTimer()
		if p := tr.Position(); p < 45*time.Minute || p > 45*time.Minute+time.Second {
			b.Fatalf("position %v after seeking to 45:00", p)
		}
		tr.Close()
		b.StartTimer()
	}
}

func rusage(b *testing.B) (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss // KiB on Linux
}

// BenchmarkHourCPU measures, with getrusage, the CPU time of this process
// (player, client cache and the backend serving the stream) over 10 s of
// real-time null-output playback of the hour call, at 1× and 2×, as % of
// one core. procPeakRSS is this whole process's, the backend's ingestion of
// the hour included; BenchmarkHourLocalPlayRSS gives the player's own.
func BenchmarkHourCPU(b *testing.B) {
	c, id := hourSetup(b)
	for _, speed := range []float64{1, 2} {
		b.Run(fmt.Sprintf("speed=%g", speed), func(b *testing.B) {
			eng := player.NewEngine(player.EngineOptions{ForceNull: true})
			defer eng.Close()
			for b.Loop() {
				tr := openHour(b, c, eng, id)
				tr.(player.Controls).SetSpeed(speed)
				tr.Seek(20 * time.Minute)
				tr.Play()
				waitFirstSample(b, tr)
				time.Sleep(time.Second)
				cpu0, _ := rusage(b)
				t0, p0 := time.Now(), tr.Position()
				time.Sleep(10 * time.Second)
				cpu1, rss := rusage(b)
				wall, adv := time.Since(t0), tr.Position()-p0
				tr.Close()
				b.ReportMetric(100*float64(cpu1-cpu0)/float64(wall), "cpu%")
				b.ReportMetric(float64(adv)/float64(wall), "x-realtime")
				b.ReportMetric(float64(rss)/1024, "procPeakRSS-MiB")
			}
		})
	}
}

// BenchmarkHourLocalPlayRSS runs `ecoute play --no-tui --silent` on the
// hour file for 8 s (from 45:00) and reports the process's peak RSS and CPU:
// the player alone, without the test process around it.
func BenchmarkHourLocalPlayRSS(b *testing.B) {
	path := hourFile(b)
	bin := buildEcouteB(b)
	for b.Loop() {
		cmd := exec.Command(bin, "play", "--no-tui", "--silent", "--start", "45:00", path)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(8 * time.Second)
		// VmHWM, read from /proc before it exits: the rusage of a child
		// started with vfork counts the parent's pages too.
		hwm := vmHWM(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				b.Fatal(err)
			}
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(float64(hwm)/1024, "peakRSS-MiB")
		b.ReportMetric(100*float64(cpu)/float64(time.Since(t0)), "cpu%")
	}
}

// vmHWM is a process's peak resident set size in KiB.
func vmHWM(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

func buildEcouteB(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "ecoute")
	args := []string{"build", "-o", bin}
	if tags := os.Getenv("ECOUTE_TEST_TAGS"); tags != "" {
		args = append(args, "-tags", tags)
	}
	if out, err := exec.Command("go", append(args, "../../cmd/ecoute")...).CombinedOutput(); err != nil {
		b.Fatalf("go build ecoute: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkHourDecodeGoMP3VsMpg123 decodes the whole hour with go-mp3 (as
// the player does, from a non-seekable reader) and with `mpg123 -t` (test
// mode: decode, no output), and reports both speeds and their ratio.
func BenchmarkHourDecodeGoMP3VsMpg123(b *testing.B) {
	path := hourFile(b)
	mpg, err := exec.LookPath("mpg123")
	if err != nil {
		b.Skip("mpg123 not installed (apt-get install mpg123): no reference to compare with")
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		d, err := mp3.NewDecoder(struct{ io.Reader }{f})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, d)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		goTime := time.Since(t0)
		audio := time.Duration(n/4) * time.Second / 16000
		t1 := time.Now()
		if out, err := exec.Command(mpg, "-t", "-q", path).CombinedOutput(); err != nil {
			b.Fatalf("mpg123 -t: %v\n%s", err, out)
		}
		mpgTime := time.Since(t1)
		b.ReportMetric(audio.Seconds()/goTime.Seconds(), "gomp3-x-realtime")
		b.ReportMetric(audio.Seconds()/mpgTime.Seconds(), "mpg123-x-realtime")
		b.ReportMetric(goTime.Seconds()/mpgTime.Seconds(), "gomp3/mpg123-time")
	}
}
