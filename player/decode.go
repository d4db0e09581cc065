package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/gopxl/beep/v2"
	"github.com/hajimehoshi/go-mp3"
)

const (
	// prerollFrames are decoded and dropped before the wanted frame: the
	// synthesis filter overlaps frames, and files with a bit reservoir need
	// earlier frames' bytes. Our files have none, other files may.
	prerollFrames = 3
	// chunkLen is one unit of the decode buffer (20 ms at 48 kHz).
	chunkLen = SampleRate / 50
	// bufferedChunks bounds the decode buffer (300 ms): enough to ride
	// over a short network hiccup, small enough that a seek or a future
	// speed change is heard at once.
	bufferedChunks = 15
	// resampleQuality is beep's Lagrange interpolation order; 3 is its
	// "good quality, on the fly" setting.
	resampleQuality = 3
)

// chunk is a run of samples at the engine rate, or the error that ended
// decoding.
type chunk struct {
	samples  [][2]float64
	srcStart float64 // position of samples[0] in source samples
	srcStep  float64 // source samples per output sample (rate ratio × speed)
	err      error
}

// playSpec says what a decoder plays: from start at speed, and, when
// loopB > loopA, from loopA again each time it reaches loopB.
type playSpec struct {
	start        int64 // source samples
	speed        float64
	loopA, loopB int64
}

func (p playSpec) looping() bool { return p.loopB > p.loopA }

// segment is one decoding pass: source samples [start, end), end 0 meaning
// the end of the recording.
type segment struct {
	start, end int64
	speed      float64
}

// decoder runs decoding passes, from a start position to the end of the
// recording or round an A–B loop, in its own goroutine. Seeking, a new
// speed or a new loop starts a new one.
type decoder struct {
	out    chan chunk // closed after the last chunk or the error chunk
	cancel context.CancelFunc
}

// startDecoder decodes src as spec says into a buffer of bufferedChunks
// chunks. The output takes chunks from out without ever waiting, so a
// stalled network cannot block the speaker.
func startDecoder(src Source, info Info, spec playSpec, log io.Writer) *decoder {
	ctx, cancel := context.WithCancel(context.Background())
	d := &decoder{out: make(chan chunk, bufferedChunks), cancel: cancel}
	go func() {
		defer close(d.out)
		emit := func(c chunk) bool {
			select {
			case d.out <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		seg := segment{start: spec.start, speed: spec.speed}
		if spec.looping() && spec.start < spec.loopB {
			seg.end = spec.loopB
		}
		for {
			err := decode(ctx, src, info, seg, SampleRate, emit)
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(log, "player: decode: %v\n", err)
				select {
				case d.out <- chunk{err: err}:
				case <-ctx.Done():
				}
				return
			}
			if seg.end == 0 || ctx.Err() != nil {
				return
			}
			seg.start = spec.loopA
		}
	}()
	return d
}

func (d *decoder) stop() { d.cancel() }

// decode is the decode boundary: bytes from src become chunks at the output
// rate, handed to emit until it returns false. go-mp3 panics on some bad
// input; the panic stops here and becomes an error.
func decode(ctx context.Context, src Source, info Info, seg segment, outRate int, emit func(chunk) bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt MP3 data (decoder panic: %v)", r)
		}
	}()
	start := seg.start
	spf := int64(info.SamplesPerFrame)
	first := int(start / spf)
	if first >= len(info.FrameOffsets) {
		return nil
	}
	first = max(0, first-prerollFrames)
	r, err := src.Open(ctx, info.FrameOffsets[first])
	if err != nil {
		return fmt.Errorf("open audio at byte %d: %w", info.FrameOffsets[first], err)
	}
	defer r.Close()
	fr := &frameReader{r: r, left: len(info.FrameOffsets) - first, offset: info.FrameOffsets[first], rate: info.SampleRate}
	dec, err := mp3.NewDecoder(fr)
	if err != nil {
		return decodeErr(fr, err)
	}
	pcm := &pcmStreamer{dec: dec, skip: (start - int64(first)*spf) * 4, left: -1}
	if seg.end > start {
		pcm.left = seg.end - start
	}
	speed := seg.speed
	if speed <= 0 {
		speed = 1
	}
	var stream beep.Streamer = pcm
	if speed != 1 {
		stream = newStretcher(pcm, info.SampleRate, speed)
	}
	ratio := float64(info.SampleRate) / float64(outRate)
	step := ratio * speed
	rs := beep.ResampleRatio(resampleQuality, ratio, stream)
	var produced int
	for {
		buf := make([][2]float64, chunkLen)
		n, ok := rs.Stream(buf)
		if n > 0 {
			c := chunk{samples: buf[:n], srcStart: float64(start) + float64(produced)*step, srcStep: step}
			produced += n
			if !emit(c) {
				return nil
			}
		}
		if !ok || n < len(buf) {
			break
		}
	}
	if fr.err != nil {
		return fr.err
	}
	if err := pcm.Err(); err != nil {
		return decodeErr(fr, err)
	}
	return nil
}

// decodeErr prefers the frame reader's account (truncation, a bad header,
// the network) to go-mp3's, which turns a short read into a quiet EOF.
func decodeErr(fr *frameReader, err error) error {
	if fr.err != nil {
		return fr.err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// go-mp3 ran out of bytes inside frames the index says are whole:
		// their contents are bad. Not wrapped, so that no caller mistakes
		// it for the normal end.
		return fmt.Errorf("corrupt MP3 data near byte %d: a frame's contents do not decode", fr.offset)
	}
	return fmt.Errorf("corrupt MP3 data near byte %d: %w", fr.offset, err)
}

// frameReader passes exactly the indexed frames to go-mp3, checking each
// header as it arrives: bytes that are not frames (trailing tags, junk, a
// source that changed under the index) never reach the decoder, and a short
// source is reported as truncated instead of ending quietly.
type frameReader struct {
	r      io.Reader
	left   int   // frames still to read
	offset int64 // byte offset of the next frame in the file
	rate   int   // expected sample rate
	frame  []byte
	pos    int
	err    error
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.pos == len(f.frame) {
		if f.left == 0 {
			return 0, io.EOF
		}
		if err := f.next(); err != nil {
			f.err = err
			return 0, err
		}
	}
	n := copy(p, f.frame[f.pos:])
	f.pos += n
	return n, nil
}

func (f *frameReader) next() error {
	var hdr [4]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return f.readErr(err)
	}
	h, err := mp3frame.ParseHeader(hdr[:])
	if err != nil {
		return fmt.Errorf("corrupt MP3 frame at byte %d: %w", f.offset, err)
	}
	if err := mp3frame.CheckProfile(h); err != nil {
		return err
	}
	if h.SampleRate != f.rate {
		return fmt.Errorf("frame at byte %d is %d Hz, expected %d Hz", f.offset, h.SampleRate, f.rate)
	}
	if cap(f.frame) < h.FrameSize {
		f.frame = make([]byte, h.FrameSize)
	}
	f.frame = f.frame[:h.FrameSize]
	copy(f.frame, hdr[:])
	if _, err := io.ReadFull(f.r, f.frame[4:]); err != nil {
		return f.readErr(err)
	}
	f.pos = 0
	f.left--
	f.offset += int64(h.FrameSize)
	return nil
}

func (f *frameReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("recording is truncated at byte %d (%d frames missing)", f.offset, f.left)
	}
	return fmt.Errorf("read audio at byte %d: %w", f.offset, err)
}

// pcmStreamer is a beep.Streamer over go-mp3's output (16-bit stereo, little
// endian, whatever the file's channels). It drops skip bytes first: the
// preroll frames and the part of the wanted frame before the target.
type pcmStreamer struct {
	dec  *mp3.Decoder
	skip int64
	left int64 // samples still to hand out; negative: no limit
	buf  [4096]byte
	err  error
}

func (s *pcmStreamer) Stream(samples [][2]float64) (int, bool) {
	if s.err != nil {
		return 0, false
	}
	for s.skip > 0 {
		n, err := s.dec.Read(s.buf[:min(int64(len(s.buf)), s.skip)])
		s.skip -= int64(n)
		if err != nil {
			s.setErr(err)
			return 0, false
		}
	}
	if s.left == 0 {
		return 0, false
	}
	if s.left > 0 && int64(len(samples)) > s.left {
		samples = samples[:s.left]
	}
	n, ok := s.fill(samples)
	if s.left > 0 {
		s.left -= int64(n)
	}
	return n, ok
}

// fill reads whole samples from the decoder. beep's resampler takes a short
// read for the end of the stream, so it fills samples completely unless the
// decoder is done.
func (s *pcmStreamer) fill(samples [][2]float64) (int, bool) {
	filled := 0
	var carry [4]byte
	nc := 0
	for filled < len(samples) {
		want := min(len(s.buf), (len(samples)-filled)*4-nc)
		n, err := s.dec.Read(s.buf[:want])
		b := s.buf[:n]
		if nc > 0 {
			k := copy(carry[nc:], b)
			nc += k
			b = b[k:]
			if nc == 4 {
				samples[filled] = toSample(carry[:])
				filled++
				nc = 0
			}
		}
		for len(b) >= 4 {
			samples[filled] = toSample(b)
			filled++
			b = b[4:]
		}
		nc = copy(carry[:], b)
		if err != nil {
			s.setErr(err)
			return filled, filled > 0
		}
	}
	return filled, true
}

func (s *pcmStreamer) setErr(err error) {
	if errors.Is(err, io.EOF) {
		s.err = io.EOF
		return
	}
	s.err = err
}

func (s *pcmStreamer) Err() error {
	if errors.Is(s.err, io.EOF) {
		return nil
	}
	return s.err
}

func toSample(b []byte) [2]float64 {
	l := int16(uint16(b[0]) | uint16(b[1])<<8)
	r := int16(uint16(b[2]) | uint16(b[3])<<8)
	return [2]float64{float64(l) / 32768, float64(r) / 32768}
}

// sourceTime converts a position in source samples to time.
func sourceTime(samples float64, rate int) time.Duration {
	return time.Duration(samples / float64(rate) * float64(time.Second))
}
