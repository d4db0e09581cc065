package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"google.golang.org/grpc/metadata"
)

// clip100KB is the demo clip cut at the last frame boundary before 100 kB.
func clip100KB(b *testing.B) []byte {
	data, err := os.ReadFile("../internal/demo/audio/07-carte.mp3")
	if err != nil {
		b.Fatal(err)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	end := int64(0)
	for _, off := range ix.Offsets {
		if off > 100_000 {
			break
		}
		end = off
	}
	return data[:end]
}

// BenchmarkIngest uploads 100 kB recordings over loopback gRPC with TLS,
// each stored encrypted and durably (audio synced, row committed and the
// database's log synced) before the answer. "serial" is one client;
// "uploaders20" is 20 clients uploading at once, as a centre's telephony
// gateways would: uploads that finish together are made durable together.
func BenchmarkIngest(b *testing.B) {
	audio := clip100KB(b)
	a := env.accounts["telephony"]
	lr, err := ecoutev1.NewAuthServiceClient(env.conn).Login(context.Background(),
		&ecoutev1.LoginRequest{Login: a.Login, Password: a.Password})
	if err != nil {
		b.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+lr.Token)
	var seq atomic.Int64
	one := func() error {
		md := metadataFor(fmt.Sprintf("bench-%d", seq.Add(1)))
		_, err := quickUpload(ctx, md, audio)
		return err
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(audio)))
		cpu0 := cpuTime()
		for b.Loop() {
			if err := one(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "recordings/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/recording")
	})
	b.Run("uploaders20", func(b *testing.B) {
		b.SetBytes(int64(len(audio)))
		var left atomic.Int64
		left.Store(int64(b.N))
		errs := make(chan error, 20)
		b.ResetTimer()
		cpu0 := cpuTime()
		for range 20 {
			go func() {
				var err error
				for err == nil && left.Add(-1) >= 0 {
					err = one()
				}
				errs <- err
			}()
		}
		for range 20 {
			if err := <-errs; err != nil {
				b.Error(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "recordings/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/recording")
	})
}

// cpuTime is this process's user + system CPU time (client and server
// together): on a machine shared with other work it varies far less than
// the wall-clock rate.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func quickUpload(ctx context.Context, md *ecoutev1.RecordingMetadata, audio []byte) (string, error) {
	st, err := ecoutev1.NewIngestServiceClient(env.conn).UploadRecording(ctx)
	if err != nil {
		return "", err
	}
	if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: md}}); err != nil {
		return "", err
	}
	for len(audio) > 0 {
		n := min(len(audio), 32<<10)
		if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: audio[:n]}}); err != nil {
			break
		}
		audio = audio[n:]
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return "", err
	}
	return resp.CallId, nil
}
