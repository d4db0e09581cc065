package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The audio cache: the call's MP3 bytes in fixed blocks, shared by every
// reader of one source, so that a seek back, an A–B loop or a replay reads
// from memory, and a read-ahead that keeps a stream a little ahead of the
// decoder so that a short network stall is not heard.
const (
	// audioBlock is the cache unit: 8 KiB, two seconds of the canonical
	// 32 kbit/s profile, one server chunk or less.
	audioBlock = 8 << 10
	// audioCacheBlocks bounds the cache: 1 MiB per open call, about four
	// minutes of speech, whatever the length of the call.
	audioCacheBlocks = 128
	// audioReadAhead is how far a stream runs ahead of its reader: 128 KiB,
	// about half a minute of speech.
	audioReadAhead = 16
	// audioRestartGap: a reader that needs a block this far past where its
	// stream is opens a new stream there instead of waiting.
	audioRestartGap = 2
)

// AudioSource implements Audio: the call's MP3 bytes, with a chunk cache
// and read-ahead. size is the stored size (from GetCall's audio info or
// AudioSize); an offset at or past it opens an empty reader without asking
// the server.
func (c *Client) AudioSource(callID string, size int64) ByteSource {
	return newAudioSource(c.calls, callID, size)
}

func newAudioSource(calls ecoutev1.CallServiceClient, callID string, size int64) *audioSource {
	s := &audioSource{calls: calls, callID: callID, size: size, blocks: map[int64]*cachedBlock{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

type audioSource struct {
	calls  ecoutev1.CallServiceClient
	callID string
	// calibration, when set, reads the call of this blind calibration
	// (callID then holds the calibration's id, for the messages).
	calibration string
	size        int64

	mu     sync.Mutex
	cond   *sync.Cond // broadcast on every block stored, pump end, reader move or close
	blocks map[int64]*cachedBlock
	uses   uint64
}

type cachedBlock struct {
	data []byte
	used uint64
}

// get returns a cached block and marks it used; mu is held.
func (s *audioSource) get(i int64) ([]byte, bool) {
	b, ok := s.blocks[i]
	if !ok {
		return nil, false
	}
	s.uses++
	b.used = s.uses
	return b.data, true
}

// put stores a block, evicting the least recently used; mu is held.
func (s *audioSource) put(i int64, data []byte) {
	if _, ok := s.blocks[i]; !ok && len(s.blocks) >= audioCacheBlocks {
		var oldest int64
		first := true
		var least uint64
		for k, b := range s.blocks {
			if first || b.used < least {
				oldest, least, first = k, b.used, false
			}
		}
		delete(s.blocks, oldest)
	}
	s.uses++
	s.blocks[i] = &cachedBlock{data: data, used: s.uses}
	s.cond.Broadcast()
}

// Open returns a reader from offset. If the first block is not cached it
// starts a stream there and waits for it, so a refusal (not found,
// permission denied) is reported by Open itself.
func (s *audioSource) Open(ctx context.Context, offset int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open audio of call %s: negative offset %d", s.callID, offset)
	}
	if s.size > 0 && offset >= s.size {
		return io.NopCloser(eofReader{}), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &cachedReader{s: s, ctx: ctx, cancel: cancel, off: offset}
	// Wake the waits below when the caller gives up.
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	r.stopWake = stop
	if _, err := r.block(offset / audioBlock); err != nil && !errors.Is(err, io.EOF) {
		r.Close()
		return nil, err
	}
	return r, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// cachedReader reads a source's blocks in order, from the cache or from its
// own stream (a pump), which it keeps at most audioReadAhead blocks ahead.
type cachedReader struct {
	s        *audioSource
	ctx      context.Context
	cancel   context.CancelFunc
	stopWake func() bool
	off      int64
	p        *pump
}

// pump copies one StreamAudio into the cache, block by block.
type pump struct {
	cancel context.CancelFunc
	start  int64 // first block
	next   int64 // block it stores next
	want   int64 // block the reader is on
	err    error // why it stopped; io.EOF at the end of the audio
}

func (r *cachedReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.s.size > 0 && r.off >= r.s.size {
		return 0, io.EOF
	}
	bi := r.off / audioBlock
	b, err := r.block(bi)
	if err != nil {
		return 0, err
	}
	at := int(r.off - bi*audioBlock)
	if at >= len(b) {
		return 0, io.EOF // a short last block
	}
	n := copy(p, b[at:])
	r.off += int64(n)
	return n, nil
}

// block waits for block bi: from the cache, else from the reader's pump,
// started or restarted there when it is not on its way.
func (r *cachedReader) block(bi int64) ([]byte, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, fmt.Errorf("read audio of call %s: %w", s.callID, err)
		}
		if r.p != nil && r.p.want != bi {
			r.p.want = bi
			s.cond.Broadcast()
		}
		if b, ok := s.get(bi); ok {
			return b, nil
		}
		p := r.p
		onItsWay := p != nil && p.err == nil && bi >= p.next && bi <= p.next+audioRestartGap
		if !onItsWay {
			if p != nil && p.err != nil && bi >= p.next {
				if errors.Is(p.err, io.EOF) {
					return nil, io.EOF
				}
				if bi == p.start {
					// A fresh stream failed on this very block: report
					// it (the player retries on the next Play).
					return nil, p.err
				}
			}
			r.startPump(bi)
		}
		s.cond.Wait()
	}
}

// startPump replaces the reader's stream by one from block bi; mu is held.
func (r *cachedReader) startPump(bi int64) {
	if r.p != nil {
		r.p.cancel()
	}
	ctx, cancel := context.WithCancel(r.ctx)
	p := &pump{cancel: cancel, start: bi, next: bi, want: bi}
	r.p = p
	go r.s.run(ctx, p)
}

// run streams from p.start into the cache until the end, an error or the
// reader's close, pausing while it is audioReadAhead blocks ahead.
func (s *audioSource) run(ctx context.Context, p *pump) {
	finish := func(err error) {
		s.mu.Lock()
		p.err = err
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	off := p.start * audioBlock
	stream, err := s.calls.StreamAudio(ctx, streamRequest(s.callID, s.calibration, off, 0))
	if err != nil {
		finish(typed(fmt.Sprintf("open audio of call %s at %d", s.callID, off), err))
		return
	}
	buf := make([]byte, 0, audioBlock)
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			s.mu.Lock()
			if len(buf) > 0 {
				s.put(p.next, buf)
				p.next++
			}
			s.mu.Unlock()
			finish(io.EOF)
			return
		}
		if err != nil {
			finish(typed(fmt.Sprintf("stream audio of call %s at %d", s.callID, off), err))
			return
		}
		if chunk.GetOffset() != off {
			finish(fmt.Errorf("stream audio of call %s: chunk at %d, want %d", s.callID, chunk.GetOffset(), off))
			return
		}
		data := chunk.GetData()
		off += int64(len(data))
		for len(data) > 0 {
			k := min(len(data), audioBlock-len(buf))
			buf = append(buf, data[:k]...)
			data = data[k:]
			if len(buf) < audioBlock {
				continue
			}
			s.mu.Lock()
			s.put(p.next, buf)
			p.next++
			for p.next > p.want+audioReadAhead && ctx.Err() == nil {
				s.cond.Wait()
			}
			s.mu.Unlock()
			if ctx.Err() != nil {
				finish(ctx.Err())
				return
			}
			buf = make([]byte, 0, audioBlock)
		}
	}
}

// Close stops the reader's stream; cached blocks stay for the next reader.
func (r *cachedReader) Close() error {
	r.cancel()
	if r.stopWake != nil {
		r.stopWake()
	}
	r.s.mu.Lock()
	r.s.cond.Broadcast()
	r.s.mu.Unlock()
	return nil
}

// streamRequest asks for a call's audio from off (length 0: to the end),
// or for a blind calibration's when calibration is set.
func streamRequest(callID, calibration string, off, length int64) *ecoutev1.StreamAudioRequest {
	if calibration != "" {
		return &ecoutev1.StreamAudioRequest{CalibrationId: calibration, Offset: off, Length: length}
	}
	return &ecoutev1.StreamAudioRequest{CallId: callID, Offset: off, Length: length}
}

// AudioSize implements Audio: the first chunk of a one-byte stream carries
// the stored size.
func (c *Client) AudioSize(ctx context.Context, callID string) (int64, error) {
	return c.audioSize(ctx, callID, "")
}

func (c *Client) audioSize(ctx context.Context, callID, calibration string) (int64, error) {
	var size int64
	op := "audio size of call " + callID
	err := c.conns.do(ctx, op, Again, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.calls.StreamAudio(ctx, streamRequest(callID, calibration, 0, 1))
		if err != nil {
			return err
		}
		chunk, err := stream.Recv()
		if err != nil {
			return err
		}
		size = chunk.GetTotalSize()
		return nil
	})
	if err != nil {
		return 0, err
	}
	if size <= 0 {
		return 0, fmt.Errorf("%s: %w", op, &ErrServer{Message: "the server sent no total size"})
	}
	return size, nil
}
