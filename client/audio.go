package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/player"
)

// AudioSource returns the call's MP3 bytes as a player.Source. size is the
// stored size (from GetCall's audio info); an offset at or past it opens an
// empty reader without asking the server.
func (c *Client) AudioSource(callID string, size int64) player.Source {
	return &audioSource{calls: c.calls, callID: callID, size: size}
}

type audioSource struct {
	calls  ecoutev1.CallServiceClient
	callID string
	size   int64
}

// Open starts a StreamAudio from offset and waits for the first chunk, so
// a refusal (not found, permission denied) is reported by Open itself.
func (s *audioSource) Open(ctx context.Context, offset int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open audio of call %s: negative offset %d", s.callID, offset)
	}
	if s.size > 0 && offset >= s.size {
		return io.NopCloser(eofReader{}), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := s.calls.StreamAudio(ctx, &ecoutev1.StreamAudioRequest{CallId: s.callID, Offset: offset})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open audio of call %s at %d: %w", s.callID, offset, err)
	}
	r := &audioReader{stream: stream, cancel: cancel, callID: s.callID, next: offset}
	if err := r.fill(); err != nil && !errors.Is(err, io.EOF) {
		cancel()
		return nil, err
	}
	return r, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// audioReader hands out chunks as they arrive; it never buffers more than
// one chunk, so memory stays flat for a long call.
type audioReader struct {
	stream grpc.ServerStreamingClient[ecoutev1.AudioChunk]
	cancel context.CancelFunc
	callID string
	buf    []byte
	next   int64 // offset of the byte after the last one received
	err    error // sticky
}

func (r *audioReader) fill() error {
	for len(r.buf) == 0 && r.err == nil {
		chunk, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			r.err = io.EOF
			break
		}
		if err != nil {
			r.err = fmt.Errorf("stream audio of call %s at %d: %w", r.callID, r.next, err)
			break
		}
		if chunk.GetOffset() != r.next {
			r.err = fmt.Errorf("stream audio of call %s: chunk at %d, want %d", r.callID, chunk.GetOffset(), r.next)
			break
		}
		r.buf = chunk.GetData()
		r.next += int64(len(r.buf))
	}
	return r.err
}

func (r *audioReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil && len(r.buf) == 0 {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close cancels the stream; the server stops sending.
func (r *audioReader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errors.New("audio reader closed")
	}
	return nil
}

// AudioSize asks the server for the stored size of a call's audio (the first
// chunk of a stream carries it). Roles that may listen but not see the
// technical metadata get no size from GetCall, so the player asks here.
func (c *Client) AudioSize(ctx context.Context, callID string) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.calls.StreamAudio(ctx, &ecoutev1.StreamAudioRequest{CallId: callID, Length: 1})
	if err != nil {
		return 0, fmt.Errorf("audio size of call %s: %w", callID, err)
	}
	chunk, err := stream.Recv()
	if err != nil {
		return 0, fmt.Errorf("audio size of call %s: %w", callID, err)
	}
	if chunk.GetTotalSize() <= 0 {
		return 0, fmt.Errorf("audio size of call %s: server sent no total size", callID)
	}
	return chunk.GetTotalSize(), nil
}
