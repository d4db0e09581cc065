package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/gopxl/beep/v2"
	"github.com/hajimehoshi/go-mp3"
)

const (
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
	k := int(start / spf)
	if k >= info.frames() {
		return nil
	}
	fr, first, err := openAt(ctx, src, info, k)
	if err != nil {
		return err
	}
	defer fr.Close()
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
	if fr.err != nil && !errors.Is(fr.err, io.EOF) {
		return fr.err
	}
	if err := pcm.Err(); err != nil {
		return decodeErr(fr, err)
	}
	return nil
}

// leadGranules is how many granules before the wanted one must decode
// cleanly for it to come out right: the IMDCT overlaps a granule with the
// previous one, and the synthesis filter holds 512 samples of history.
const leadGranules = 2

// openAt opens src so that frame k decodes cleanly, and returns the reader
// and the first frame it hands the decoder.
//
// The decoder must start a few frames early (preroll): the granules just
// before k shape its first samples, and their audio may begin in earlier
// frames' bytes (the bit reservoir: main_data_begin points up to 511 bytes
// back). The first frame fed is the latest one from which every frame of
// the lead-in has all its bytes: found by reading main_data_begin back from
// the lead-in's first frame, not by guessing a number of frames, since at
// 8 kbit/s the reservoir spans dozens of them.
func openAt(ctx context.Context, src Source, info Info, k int) (*frameReader, int, error) {
	idx := info.index()
	granules := 2
	if info.SamplesPerFrame < 1152 {
		granules = 1 // MPEG-2 and 2.5
	}
	c := max(0, k-(leadGranules+granules-1)/granules)
	// Enough frames back to hold the largest reservoir.
	back := min(c, maxLookback)
	offs, err := idx.Offsets(ctx, c-back, back+1)
	if err != nil {
		return nil, 0, fmt.Errorf("frame index: %w", err)
	}
	if len(offs) != back+1 {
		return nil, 0, fmt.Errorf("frame index: %d offsets for frames %d–%d", len(offs), c-back, c)
	}
	res := mp3frame.MaxReservoir(mp3frame.MPEG2)
	if info.SamplesPerFrame == 1152 {
		res = mp3frame.MaxReservoir(mp3frame.MPEG1)
	}
	j := back
	for have := 0; j > 0 && have < res; {
		j--
		have += int(offs[j+1]-offs[j]) - frameOverhead
	}
	j0 := c - back + j
	r, err := src.Open(ctx, offs[j])
	if err != nil {
		return nil, 0, fmt.Errorf("open audio at byte %d: %w", offs[j], err)
	}
	fr := &frameReader{r: r, pos: offs[j], next: j0, end: info.frames(), rate: info.SampleRate}
	if all, ok := idx.(sliceIndex); ok {
		fr.offsets = all
	} else {
		fr.offsets = sliceIndex(offs[j:]).shift(j0)
	}
	fr.silenced = info.Silenced
	if j0 == c {
		return fr, c, nil
	}
	// Read the look-back frames, then keep from the one where the
	// lead-in's reservoir starts.
	lookback := make([][]byte, 0, c-j0+1)
	for range c - j0 + 1 {
		f, err := fr.readFrame()
		if err != nil {
			r.Close()
			return nil, 0, err
		}
		lookback = append(lookback, f)
	}
	last := lookback[len(lookback)-1]
	h, _ := mp3frame.ParseHeader(last)
	need := mp3frame.MainDataBegin(h, last)
	s := len(lookback) - 1
	for need > 0 && s > 0 {
		s--
		ph, _ := mp3frame.ParseHeader(lookback[s])
		need -= ph.MainDataSize()
	}
	fr.pending = lookback[s:]
	return fr, j0 + s, nil
}

// maxLookback bounds the frames read back for a reservoir: 511 bytes at
// the smallest frames (8 kbit/s stereo, 3 bytes of main data each) would
// need more, but no encoder lets the reservoir outgrow what a few frames
// can fill; beyond this the lead-in starts without it.
const maxLookback = 192

// frameOverhead is the most a frame spends outside its main data: header,
// CRC and stereo MPEG-1 side information.
const frameOverhead = 4 + 2 + 32

// shift turns offsets of frames [from, …) into a lookup by frame number.
func (s sliceIndex) shift(from int) func(i int) (int64, bool) {
	return func(i int) (int64, bool) {
		if i < from || i-from >= len(s) {
			return 0, false
		}
		return s[i-from], true
	}
}

// decodeErr prefers the frame reader's account (truncation, a bad header,
// the network) to go-mp3's, which turns a short read into a quiet EOF.
func decodeErr(fr *frameReader, err error) error {
	if fr.err != nil && !errors.Is(fr.err, io.EOF) {
		return fr.err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// go-mp3 ran out of bytes inside frames the index says are whole:
		// their contents are bad. Not wrapped, so that no caller mistakes
		// it for the normal end.
		return fmt.Errorf("corrupt MP3 data near byte %d: a frame's contents do not decode", fr.pos)
	}
	return fmt.Errorf("corrupt MP3 data near byte %d: %w", fr.pos, err)
}

// frameReader passes exactly the indexed frames to go-mp3, checking each
// header as it arrives: bytes that are not frames (trailing tags, junk, a
// source that changed under the index) never reach the decoder, and a short
// source is reported as truncated instead of ending quietly. It clears
// each header's emphasis bits (go-mp3 takes the reserved value for junk)
// and silences the frames the index marks undecodable.
type frameReader struct {
	r    io.Reader
	pos  int64 // byte offset in the source of the next byte r yields
	next int   // number of the next frame to read
	end  int   // frames [next, end) are read
	rate int   // expected sample rate
	// offsets gives the expected offset of a frame, when known: bytes
	// between frames (junk in a local file) are skipped.
	offsets  any // sliceIndex or func(int) (int64, bool)
	silenced []int
	// pending are frames already read, handed out first.
	pending [][]byte
	frame   []byte
	fpos    int
	buf     []byte
	err     error
}

func (f *frameReader) Close() error {
	if c, ok := f.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for f.fpos == len(f.frame) {
		if len(f.pending) > 0 {
			f.frame, f.fpos = f.pending[0], 0
			f.pending = f.pending[1:]
			continue
		}
		fr, err := f.readFrame()
		if err != nil {
			f.err = err
			return 0, err
		}
		f.frame, f.fpos = fr, 0
	}
	n := copy(p, f.frame[f.fpos:])
	f.fpos += n
	return n, nil
}

func (f *frameReader) expected(i int) (int64, bool) {
	switch o := f.offsets.(type) {
	case sliceIndex:
		if i < len(o) {
			return o[i], true
		}
	case func(int) (int64, bool):
		return o(i)
	}
	return 0, false
}

// readFrame reads the next indexed frame into a new slice.
func (f *frameReader) readFrame() ([]byte, error) {
	if f.next >= f.end {
		return nil, io.EOF
	}
	if want, ok := f.expected(f.next); ok && want != f.pos {
		if want < f.pos {
			return nil, fmt.Errorf("frame %d at byte %d: the audio and its index disagree (read up to byte %d)", f.next, want, f.pos)
		}
		n, err := io.CopyN(io.Discard, f.r, want-f.pos)
		f.pos += n
		if err != nil {
			return nil, f.readErr(err)
		}
	}
	var hdr [4]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return nil, f.readErr(err)
	}
	h, err := mp3frame.ParseHeader(hdr[:])
	if err != nil {
		return nil, fmt.Errorf("corrupt MP3 frame at byte %d: %w", f.pos, err)
	}
	if err := mp3frame.CheckProfile(h); err != nil {
		return nil, err
	}
	if h.SampleRate != f.rate {
		return nil, fmt.Errorf("frame at byte %d is %d Hz, expected %d Hz", f.pos, h.SampleRate, f.rate)
	}
	frame := make([]byte, h.FrameSize)
	copy(frame, hdr[:])
	if _, err := io.ReadFull(f.r, frame[4:]); err != nil {
		return nil, f.readErr(err)
	}
	mp3frame.ClearEmphasis(frame)
	if i, ok := slices.BinarySearch(f.silenced, f.next); ok && i >= 0 {
		mp3frame.Silence(h, frame)
	}
	f.pos += int64(h.FrameSize)
	f.next++
	return frame, nil
}

func (f *frameReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("recording is truncated at byte %d (%d frames missing)", f.pos, f.end-f.next)
	}
	return fmt.Errorf("read audio at byte %d: %w", f.pos, err)
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
