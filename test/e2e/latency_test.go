package e2e

import (
	"context"
	"net"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
)

// demoServer starts a seeded backend on a loopback TLS port and returns a
// logged-in supervisor client.
func demoServer(tb testing.TB) *client.Client {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := backend.Open(ctx, backend.Config{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, lis, true) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		app.Close()
	})
	ca, err := app.CACertPEM()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := client.Dial(ctx, lis.Addr().String(), client.Options{CAPEM: ca})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	for _, a := range accounts {
		if a.Role == "supervisor" {
			if _, err := c.Login(ctx, a.Login, a.Password); err != nil {
				tb.Fatal(err)
			}
			return c
		}
	}
	tb.Fatal("no demo supervisor")
	return nil
}

// openTrack does what the call screen does when a call opens.
func openTrack(tb testing.TB, c *client.Client, eng *player.Engine, call *ecoutev1.Call) player.Track {
	tb.Helper()
	ctx := context.Background()
	wf, err := c.GetWaveform(ctx, call.GetCallId())
	if err != nil {
		tb.Fatal(err)
	}
	size, err := c.AudioSize(ctx, call.GetCallId())
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := eng.Open(c.AudioSource(call.GetCallId(), size), playerInfo(c.PlaybackInfo(call.GetCallId(), wf, size)))
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// playerInfo hands the gateway's description of a call to the player, as
// the call screen does.
func playerInfo(p client.Playback) player.Info {
	info := player.Info{Size: p.Size, SampleRate: p.SampleRate, SamplesPerFrame: p.SamplesPerFrame,
		Channels: p.Channels, FrameOffsets: p.FrameOffsets, PeaksFunc: p.PeaksFunc}
	if p.Index != nil {
		info.Index = p.Index
	}
	return info
}

// waitFirstSample waits for the first samples handed to the output.
func waitFirstSample(tb testing.TB, tr player.Track) {
	tb.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-tr.Events():
			if !ok {
				tb.Fatal("events closed before the first sample")
			}
			switch ev.Kind {
			case player.EventFirstSample:
				return
			case player.EventError:
				tb.Fatal(ev.Err)
			}
		case <-timeout:
			tb.Fatal("no first sample within 5 s")
		}
	}
}

// BenchmarkPlayKeyToFirstSample measures, over loopback gRPC with TLS, the
// time from the play key (Track.Play on an opened demo call) to the first
// samples handed to the output, on the silent output.
func BenchmarkPlayKeyToFirstSample(b *testing.B) {
	c := demoServer(b)
	resp, err := c.ListCalls(context.Background(), client.CallQuery{PageSize: 1})
	if err != nil || len(resp.GetCalls()) == 0 {
		b.Fatalf("list calls: %v", err)
	}
	eng := player.NewEngine(player.EngineOptions{ForceNull: true})
	defer eng.Close()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		tr := openTrack(b, c, eng, resp.GetCalls()[0])
		b.StartTimer()
		tr.Play()
		waitFirstSample(b, tr)
		b.StopTimer()
		tr.Close()
		b.StartTimer()
	}
}

// BenchmarkOpenCallAndPlay adds what the call screen does before play:
// GetWaveform, the audio size and opening the stream.
func BenchmarkOpenCallAndPlay(b *testing.B) {
	c := demoServer(b)
	resp, err := c.ListCalls(context.Background(), client.CallQuery{PageSize: 1})
	if err != nil || len(resp.GetCalls()) == 0 {
		b.Fatalf("list calls: %v", err)
	}
	eng := player.NewEngine(player.EngineOptions{ForceNull: true})
	defer eng.Close()
	for b.Loop() {
		tr := openTrack(b, c, eng, resp.GetCalls()[0])
		tr.Play()
		waitFirstSample(b, tr)
		b.StopTimer()
		tr.Close()
		b.StartTimer()
	}
}
