package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// fakeCalls serves StreamAudio from memory in 32 KiB chunks, as the backend
// does, and records how far each stream was read.
type fakeCalls struct {
	ecoutev1.CallServiceClient
	data []byte
	deny bool

	mu      sync.Mutex
	streams int
	maxRead int64 // highest byte handed to a reader
}

func (f *fakeCalls) StreamAudio(ctx context.Context, in *ecoutev1.StreamAudioRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[ecoutev1.AudioChunk], error) {
	if f.deny {
		return nil, status.Error(codes.PermissionDenied, "your role may not listen to calls")
	}
	f.mu.Lock()
	f.streams++
	f.mu.Unlock()
	return &fakeStream{f: f, ctx: ctx, off: in.GetOffset()}, nil
}

type fakeStream struct {
	grpc.ClientStream
	f   *fakeCalls
	ctx context.Context
	off int64
}

func (s *fakeStream) Recv() (*ecoutev1.AudioChunk, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	if s.off >= int64(len(s.f.data)) {
		return nil, io.EOF
	}
	end := min(s.off+32<<10, int64(len(s.f.data)))
	c := &ecoutev1.AudioChunk{Offset: s.off, Data: s.f.data[s.off:end], TotalSize: int64(len(s.f.data))}
	s.off = end
	s.f.mu.Lock()
	s.f.maxRead = max(s.f.maxRead, end)
	s.f.mu.Unlock()
	return c, nil
}

func (f *fakeCalls) stats() (int, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streams, f.maxRead
}

func testAudio(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// Bytes read from any offset are the stored bytes; a second reader over
// bytes already read is served from the cache without a new stream.
func TestAudioCacheServesExactBytes(t *testing.T) {
	data := testAudio(300<<10 + 123)
	f := &fakeCalls{data: data}
	src := newAudioSource(f, "c1", int64(len(data)))
	ctx := context.Background()
	for _, off := range []int64{0, 1, audioBlock - 1, audioBlock, 100<<10 + 7, int64(len(data)) - 5} {
		r, err := src.Open(ctx, off)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.LimitReader(r, 50<<10))
		r.Close()
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		want := data[off:min(off+50<<10, int64(len(data)))]
		if !bytes.Equal(got, want) {
			t.Fatalf("offset %d: %d bytes differ from the stored %d", off, len(got), len(want))
		}
	}
	// Back to the start: cached, no new stream (an A–B loop, a replay).
	before, _ := f.stats()
	r, err := src.Open(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 40<<10)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !bytes.Equal(got, data[10:10+40<<10]) {
		t.Fatal("cached bytes differ")
	}
	if after, _ := f.stats(); after != before {
		t.Fatalf("re-reading cached bytes opened %d new streams", after-before)
	}
	// To the end: exactly the rest, then EOF.
	r, _ = src.Open(ctx, int64(len(data))-1000)
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, data[len(data)-1000:]) {
		t.Fatalf("tail: %d bytes, err %v", len(rest), err)
	}
}

// The read-ahead runs ahead of the reader, but only so far: memory and the
// transfer stay bounded however long the call.
func TestAudioReadAheadIsBounded(t *testing.T) {
	data := testAudio(4 << 20)
	f := &fakeCalls{data: data}
	src := newAudioSource(f, "c1", int64(len(data)))
	r, err := src.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	limit := int64(audioReadAhead+2)*audioBlock + 32<<10
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, read := f.stats()
		if read >= int64(audioReadAhead)*audioBlock {
			break // it did read ahead
		}
		if time.Now().After(deadline) {
			t.Fatalf("no read-ahead: %d bytes fetched", read)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if _, read := f.stats(); read > limit {
		t.Fatalf("fetched %d bytes for a reader at 1000, want at most %d", read, limit)
	}
	src.mu.Lock()
	n := len(src.blocks)
	src.mu.Unlock()
	if n > audioCacheBlocks {
		t.Fatalf("%d blocks cached, cap %d", n, audioCacheBlocks)
	}
	// Reading on moves the window: the whole file goes through a cache
	// that never holds more than its cap.
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	n = len(src.blocks)
	src.mu.Unlock()
	if n > audioCacheBlocks {
		t.Fatalf("%d blocks cached after reading 4 MiB, cap %d", n, audioCacheBlocks)
	}
}

// A refusal is reported by Open, as the gateway's typed error.
func TestAudioOpenReportsRefusal(t *testing.T) {
	src := newAudioSource(&fakeCalls{data: testAudio(100), deny: true}, "c1", 100)
	_, err := src.Open(context.Background(), 0)
	var f *ErrForbidden
	if !errors.As(err, &f) {
		t.Fatalf("err = %v, want *ErrForbidden", err)
	}
	if r, err := src.Open(context.Background(), 100); err != nil {
		t.Fatal(err)
	} else if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("past the end: %d %v", n, err)
	}
}
