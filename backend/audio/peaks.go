package audio

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
)

// PeaksOf decodes the frames of ix, read from r at byte 0, with go-mp3 and
// returns the peak of every run of bucketSamples samples, 0..255 of full
// scale: both channels together, and each channel.
//
// A frame that carries its own audio (no bit reservoir) and follows two
// such frames decodes to samples that depend on these three frames' bytes
// only. Those samples are remembered, so a run of frames already seen in
// the same order (digital silence, a recording made of repeated frames) is
// not decoded again: twelve hours of a muted line cost seconds, not
// minutes.
func PeaksOf(r io.Reader, ix *mp3frame.Index, bucketSamples int) (mix []byte, ch [2][]byte, err error) {
	mix, ch, _, err = peaksOf(r, ix, bucketSamples, memoFrames)
	return mix, ch, err
}

// peaksOf is PeaksOf remembering at most memo frames; it also says how many
// frames it really decoded.
func peaksOf(r io.Reader, ix *mp3frame.Index, bucketSamples, memo int) (mix []byte, ch [2][]byte, decoded int, err error) {
	if bucketSamples <= 0 {
		return nil, ch, 0, errors.New("bucket must hold at least one sample")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decode MP3: corrupt data (decoder panic: %v)", p)
		}
	}()
	fr := ix.NewFrameReader(r)
	fr.ClearEmphasis = true
	d := &frameDecoder{pcmSize: ix.SamplesPerFrame * 4, cache: map[uint64][]byte{}, memo: memo}
	d.seed = maphash.MakeSeed()
	b := bucketer{per: bucketSamples}
	for {
		frame, n, err := fr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, ch, d.decoded, fmt.Errorf("decode MP3: %w", err)
		}
		pcm, err := d.decode(frame)
		if err != nil {
			return nil, ch, d.decoded, fmt.Errorf("decode MP3: frame %d at byte %d: %w", n, ix.Offsets[n], err)
		}
		b.add(pcm)
	}
	b.flush()
	if len(b.mix) == 0 {
		return nil, ch, d.decoded, errors.New("decode MP3: no audio")
	}
	return b.mix, [2][]byte{b.ch[0], b.ch[1]}, d.decoded, nil
}

// bucketer keeps the peaks of 16-bit little-endian stereo samples.
type bucketer struct {
	per      int
	n        int
	l, r     int
	mix      []byte
	ch       [2][]byte
	nonEmpty bool
}

func (b *bucketer) add(pcm []byte) {
	for i := 0; i+3 < len(pcm); i += 4 {
		b.l = max(b.l, abs16(int16(uint16(pcm[i])|uint16(pcm[i+1])<<8)))
		b.r = max(b.r, abs16(int16(uint16(pcm[i+2])|uint16(pcm[i+3])<<8)))
		b.n++
		if b.n == b.per {
			b.emit()
		}
	}
}

func (b *bucketer) emit() {
	b.mix = append(b.mix, scale(max(b.l, b.r)))
	b.ch[0] = append(b.ch[0], scale(b.l))
	b.ch[1] = append(b.ch[1], scale(b.r))
	b.l, b.r, b.n = 0, 0, 0
}

func (b *bucketer) flush() {
	if b.n > 0 {
		b.emit()
	}
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// memoFrames bounds the remembered frames (pcmSize bytes each: 2.3 KiB at
// 16 kHz, 4.6 KiB at 44.1 kHz): a few MiB.
const memoFrames = 4096

// historyFrames is how many past frames are kept to restart the decoder
// after remembered frames were skipped: enough for the largest bit
// reservoir of the smallest frames.
const historyFrames = 64

// frameDecoder decodes frames one at a time with go-mp3, remembering the
// samples of frames whose output depends on their bytes only.
type frameDecoder struct {
	pcmSize int
	dec     *mp3.Decoder
	in      *feed
	stale   bool // frames were skipped: restart before decoding
	seed    maphash.Seed
	cache   map[uint64][]byte
	memo    int // most frames remembered
	decoded int // frames decoded (restarts' preroll included)
	// hist holds the last frames decoded or skipped, oldest first, with
	// their hashes and whether they carry their own audio.
	hist []histFrame
	out  []byte
}

type histFrame struct {
	b    []byte
	sum  uint64
	self bool // main_data_begin 0: no bytes from earlier frames
}

func (d *frameDecoder) decode(frame []byte) ([]byte, error) {
	h, err := mp3frame.ParseHeader(frame)
	if err != nil {
		return nil, err
	}
	cur := histFrame{b: append([]byte(nil), frame...), sum: maphash.Bytes(d.seed, frame),
		self: mp3frame.MainDataBegin(h, frame) == 0}
	defer d.push(cur)
	var key uint64
	keyed := false
	if n := len(d.hist); cur.self && n >= 2 && d.hist[n-1].self && d.hist[n-2].self {
		keyed = true
		key = cur.sum ^ d.hist[n-1].sum*0x9E3779B97F4A7C15 ^ d.hist[n-2].sum*0xC2B2AE3D27D4EB4F
		if pcm, ok := d.cache[key]; ok {
			d.stale = true
			return pcm, nil
		}
	}
	var pcm []byte
	if d.dec == nil || d.stale {
		pcm, err = d.restart(cur)
	} else {
		pcm, err = d.next(cur.b)
	}
	if err != nil {
		return nil, err
	}
	if keyed && len(d.cache) < d.memo {
		d.cache[key] = append([]byte(nil), pcm...)
	}
	return pcm, nil
}

func (d *frameDecoder) push(f histFrame) {
	if len(d.hist) == historyFrames {
		copy(d.hist, d.hist[1:])
		d.hist = d.hist[:historyFrames-1]
	}
	d.hist = append(d.hist, f)
}

// next decodes one more frame on the running decoder.
func (d *frameDecoder) next(frame []byte) ([]byte, error) {
	d.in.push(frame)
	return d.read()
}

// restart starts a new decoder early enough in the history that cur comes
// out as a continuous decode would give it: its two previous frames decode
// with all their reservoir bytes (the player's preroll rule).
func (d *frameDecoder) restart(cur histFrame) ([]byte, error) {
	n := len(d.hist)
	lead := 2
	start := max(0, n-lead)
	if start < n {
		f := d.hist[start]
		h, _ := mp3frame.ParseHeader(f.b)
		need := mp3frame.MainDataBegin(h, f.b)
		for need > 0 && start > 0 {
			start--
			ph, _ := mp3frame.ParseHeader(d.hist[start].b)
			need -= ph.MainDataSize()
		}
	}
	d.in = &feed{}
	for _, f := range d.hist[start:] {
		d.in.push(f.b)
	}
	d.in.push(cur.b)
	dec, err := mp3.NewDecoder(d.in)
	if err != nil {
		return nil, err
	}
	d.dec, d.stale = dec, false
	for range n - start {
		if _, err := d.read(); err != nil {
			return nil, err
		}
	}
	return d.read()
}

// read takes one frame's samples from the decoder.
func (d *frameDecoder) read() ([]byte, error) {
	d.decoded++
	if cap(d.out) < d.pcmSize {
		d.out = make([]byte, d.pcmSize)
	}
	out := d.out[:d.pcmSize]
	if _, err := io.ReadFull(d.dec, out); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("its contents do not decode")
		}
		return nil, err
	}
	return out, nil
}

// feed hands go-mp3 the frames pushed to it; it never blocks: the decoder
// asks for a frame only after it was pushed.
type feed struct{ q []byte }

func (f *feed) push(b []byte) { f.q = append(f.q, b...) }

func (f *feed) Read(p []byte) (int, error) {
	if len(f.q) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.q)
	f.q = f.q[n:]
	if len(f.q) == 0 {
		f.q = f.q[:0:0]
	}
	return n, nil
}
