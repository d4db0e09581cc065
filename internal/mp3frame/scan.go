package mp3frame

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Index lists the audio frames of one file.
type Index struct {
	Offsets []int64 // byte offset of each audio frame, ascending
	Size    int64   // bytes read, tags included
	Version int
	// SampleRate and SamplesPerFrame are the same in every frame; Channels
	// is 2 if any frame is stereo (go-mp3 always decodes to stereo).
	SampleRate      int
	Channels        int
	BitrateKbps     int // of the first audio frame
	SamplesPerFrame int
	// AudioBytes is the size of the indexed frames (tags and damage left
	// out), for the mean bitrate.
	AudioBytes int64
	// Tag is the LAME/Xing or VBRI frame, left out of Offsets; nil if none.
	Tag *Tag
	// Damage lists what the scan left out (junk, a cut frame, frames of
	// another format) or silenced; empty for a clean file.
	Damage []Damage
	// Silenced are the frames (numbers in Offsets) whose audio cannot be
	// decoded: invalid side information, or a bit reservoir whose bytes
	// are lost. A repaired copy silences them (see Silence).
	Silenced []int
	// IntensityLSF: some MPEG-2 frame codes intensity stereo, which go-mp3
	// decodes wrongly.
	IntensityLSF bool
	// Emphasis: some frame sets its emphasis bits (cleared before decoding,
	// see ClearEmphasis).
	Emphasis bool
}

// Damage is a run of bytes a scan left out, or a frame it marked silenced.
type Damage struct {
	Offset int64
	Length int64 // bytes left out; 0 for a silenced frame
	Frame  int   // the silenced frame's number in Offsets; -1 for bytes left out
	Reason string
}

func (d Damage) String() string {
	if d.Frame >= 0 {
		return fmt.Sprintf("frame %d at byte %d silenced: %s", d.Frame, d.Offset, d.Reason)
	}
	return fmt.Sprintf("%d bytes at byte %d left out: %s", d.Length, d.Offset, d.Reason)
}

// Header returns the first frame's properties as a Header.
func (ix Index) Header() Header {
	return Header{Version: ix.Version, Layer: 3, BitrateKbps: ix.BitrateKbps, SampleRate: ix.SampleRate,
		Channels: ix.Channels, SamplesPerFrame: ix.SamplesPerFrame}
}

// Profile tells whether go-mp3 decodes this file correctly as it is.
func (ix Index) Profile() error {
	if err := CheckProfile(ix.Header()); err != nil {
		return err
	}
	if ix.IntensityLSF {
		return fmt.Errorf("%s stereo at %d Hz with intensity stereo cannot be played correctly; accepted: %s without intensity stereo; convert with: %s",
			VersionName(ix.Version), ix.SampleRate, AsIsFormats, ConvertHint)
	}
	return nil
}

// FrameDuration is the playing time of one frame.
func (ix Index) FrameDuration() time.Duration { return frameTime(1, ix.SamplesPerFrame, ix.SampleRate) }

// Duration is the playing time of the whole file (a tag frame not counted).
func (ix Index) Duration() time.Duration { return ix.FrameTime(len(ix.Offsets)) }

// FrameTime is the time at which frame i starts.
func (ix Index) FrameTime(i int) time.Duration {
	return frameTime(i, ix.SamplesPerFrame, ix.SampleRate)
}

// MeanKbps is the mean bitrate of the audio frames, rounded: the bitrate of
// a constant-bitrate file, the average of a variable one.
func (ix Index) MeanKbps() int {
	d := ix.Duration()
	if d <= 0 {
		return ix.BitrateKbps
	}
	return int((float64(ix.AudioBytes)*8/d.Seconds() + 500) / 1000)
}

// FrameAt is the index of the frame that contains pos, clamped to the file.
func (ix Index) FrameAt(pos time.Duration) int {
	if len(ix.Offsets) == 0 || ix.SampleRate == 0 || pos <= 0 {
		return 0
	}
	i := int(int64(pos) * int64(ix.SampleRate) / (int64(ix.SamplesPerFrame) * int64(time.Second)))
	return min(i, len(ix.Offsets)-1)
}

// Repaired tells whether the scan left anything out or silenced a frame.
func (ix Index) Repaired() bool { return len(ix.Damage) > 0 }

// RepairSummary says in one line what a repair left out or silenced.
func (ix Index) RepairSummary() string {
	if len(ix.Damage) == 0 {
		return ""
	}
	var parts []string
	for i, d := range ix.Damage {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ix.Damage)-4))
			break
		}
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "; ")
}

// maxFrame bounds a Layer III frame (MPEG-1, 320 kbps, 32 kHz, padded).
const maxFrame = 1441

// syncFrames is how many frames must follow each other before the first one
// is believed (after the start of the file or junk): a frame header is four
// bytes that junk matches now and then.
const syncFrames = 2

// Scan indexes a whole MP3 stream and refuses any damage: it skips a
// leading ID3v2 tag, a LAME/Xing tag frame and trailing ID3v1 or APE tags;
// anything else between or after frames, a truncated last frame, a frame
// whose audio cannot be decoded or a change of version or sample rate
// mid-stream is an error that gives the byte offset.
func Scan(r io.Reader) (Index, error) {
	ix, err := ScanLenient(r)
	if err != nil {
		return Index{}, err
	}
	if len(ix.Damage) > 0 {
		return Index{}, errors.New(ix.Damage[0].String())
	}
	return ix, nil
}

// FormatError is why a stream holds no Layer III frame this package
// indexes, when it holds something else that is MPEG audio.
type FormatError struct {
	Err error
	// Layer (1, 2 or 3) and Channels of the first such frame; Free is a
	// free-format bitrate.
	Layer, Channels int
	Free            bool
}

// What names the audio for a person: "free-format MPEG Layer III".
func (e *FormatError) What() string {
	if e.Free {
		return fmt.Sprintf("free-format MPEG Layer %s", strings.Repeat("I", e.Layer))
	}
	return fmt.Sprintf("MPEG Layer %s", strings.Repeat("I", e.Layer))
}

func (e *FormatError) Error() string { return e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// ScanLenient indexes the valid frames of a stream and lists the rest as
// damage: junk before the first frame or between frames, a cut frame, a
// stray trailing byte, frames of another format, frames whose audio cannot
// be decoded (see Index.Silenced). It fails only when no audio frame is
// found, or on a read error.
func ScanLenient(r io.Reader) (Index, error) {
	s := &scanner{br: bufio.NewReaderSize(r, 64<<10), avail: 0, junkAt: -1}
	return s.run()
}

type scanner struct {
	br  *bufio.Reader
	off int64
	ix  Index
	// avail is how many main-data bytes the frames indexed since the last
	// damage hold: what a decoder fed from there has in its reservoir.
	avail int
	// junk: a run of bytes being left out, from junkAt; junkBuf keeps its
	// first bytes, to recognise tags.
	junkAt  int64
	junkBuf []byte
	junkWhy string
	started bool // a frame (audio or tag) was accepted
	// audioStart is where the stream's first frame should be (after a
	// leading ID3v2 tag).
	audioStart int64
	other      map[string]int
	otherErr   error
	otherCh    int
	otherLayer int // the layer of the first such frame
}

func (s *scanner) run() (Index, error) {
	if err := s.skipID3v2(); err != nil {
		return Index{}, err
	}
	s.audioStart = s.off
	for {
		hdr, err := s.br.Peek(4)
		if len(hdr) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return Index{}, fmt.Errorf("read at byte %d: %w", s.off, err)
			}
			break
		}
		if s.tagAt(hdr) {
			continue
		}
		h, herr := ParseHeader(hdr)
		if herr != nil {
			s.noteOther(herr, hdr, s.off == s.audioStart)
			s.junk(1, "not an MPEG audio frame")
			continue
		}
		if s.started && !h.sameStream(s.first()) {
			s.junk(1, fmt.Sprintf("frames of another format (%s %d Hz after %s %d Hz)",
				VersionName(h.Version), h.SampleRate, VersionName(s.ix.Version), s.ix.SampleRate))
			continue
		}
		need := syncFrames
		if s.junkAt < 0 && s.started {
			need = 1
		}
		ok, frame, cut := s.confirm(h, need)
		if cut {
			// The last frame is cut short: leave it out.
			n, _ := s.br.Discard(len(frame))
			s.junkStart(fmt.Sprintf("a frame cut short (%d of %d bytes)", n, h.FrameSize))
			s.junkBytes(frame[:n])
			s.off += int64(n)
			continue
		}
		if !ok {
			s.junk(1, "not followed by another frame")
			continue
		}
		s.accept(h, frame)
	}
	s.endJunk()
	if len(s.ix.Offsets) == 0 {
		if s.otherErr != nil {
			return Index{}, &FormatError{Err: s.otherErr, Layer: s.otherLayer, Channels: s.otherCh,
				Free: errors.Is(s.otherErr, ErrFreeFormat)}
		}
		if s.ix.Tag != nil {
			return Index{}, errors.New("no audio: the file holds only a LAME/Xing tag frame")
		}
		return Index{}, errors.New("no MPEG audio frame found")
	}
	s.ix.Size = s.off
	return s.ix, nil
}

func (s *scanner) first() Header {
	return Header{Version: s.ix.Version, SampleRate: s.ix.SampleRate}
}

// confirm checks that h, at the current offset, is a frame: its bytes are
// all there and the next need-1 frames (at least one) follow it with
// compatible headers, unless the stream ends or a tag begins first. cut
// reports a frame cut short by the end of the stream.
func (s *scanner) confirm(h Header, need int) (ok bool, frame []byte, cut bool) {
	// Peek blocks until it has what it asks for: a shorter answer is the
	// end of the stream.
	p, _ := s.br.Peek(min(need*(maxFrame+4), s.br.Size()))
	if len(p) < h.FrameSize {
		// Only after good frames is a short frame "cut": anywhere else
		// these bytes are junk that looked like a header.
		if s.started && s.junkAt < 0 {
			return false, p, true
		}
		return false, nil, false
	}
	frame = p[:h.FrameSize]
	at := h.FrameSize
	for range max(need-1, 1) {
		if len(p)-at < 4 || isTagStart(p[at:]) {
			return true, frame, false // the stream (or its audio) ends here
		}
		nh, err := ParseHeader(p[at:])
		if err != nil || !nh.sameStream(h) {
			// After good frames, a frame followed by junk is kept unless
			// another frame starts inside it: then it was cut short.
			if need == 1 && !frameInside(p[:min(len(p), at+maxFrame+4)], h) {
				return true, frame, false
			}
			return false, nil, false
		}
		at += nh.FrameSize
		if at > len(p) {
			return true, frame, false // the next frame is for its own check
		}
	}
	return true, frame, false
}

// frameInside tells whether a frame of h's stream, followed by another,
// starts inside the first frame of p (after its header).
func frameInside(p []byte, h Header) bool {
	for i := 4; i < h.FrameSize && i+4 <= len(p); i++ {
		if p[i] != 0xFF {
			continue
		}
		a, err := ParseHeader(p[i:])
		if err != nil || !a.sameStream(h) {
			continue
		}
		j := i + a.FrameSize
		if j == len(p) || j+4 > len(p) {
			return true
		}
		if b, err := ParseHeader(p[j:]); err == nil && b.sameStream(h) {
			return true
		}
	}
	return false
}

// accept indexes the frame at the current offset.
func (s *scanner) accept(h Header, frame []byte) {
	s.endJunk()
	off := s.off
	if !s.started {
		s.started = true
		s.ix.Version, s.ix.SampleRate, s.ix.SamplesPerFrame = h.Version, h.SampleRate, h.SamplesPerFrame
		if t, ok := readTag(h, frame, off); ok {
			s.ix.Tag = t
			s.advance(len(frame))
			return
		}
	}
	if len(s.ix.Offsets) == 0 {
		s.ix.BitrateKbps = h.BitrateKbps
	}
	s.ix.Channels = max(s.ix.Channels, h.Channels)
	if h.Emphasis != 0 {
		s.ix.Emphasis = true
	}
	if h.Version != MPEG1 && h.Channels == 2 && h.IntensityStereo() {
		s.ix.IntensityLSF = true
	}
	n := len(s.ix.Offsets)
	si, err := ReadSideInfo(h, frame)
	switch {
	case err != nil:
		s.silence(n, off, err.Error())
	case si.MainDataBegin > s.avail && si.Part23Bits > 0:
		// (An empty frame decodes to silence whatever its reservoir: a
		// frame this scan silenced once is not damage when scanned again.)
		s.silence(n, off, fmt.Sprintf("its bit reservoir (%d bytes back) is lost", si.MainDataBegin))
	}
	// What a decoder holds after this frame: its reservoir and its own
	// main data when it decoded, everything so far when it could not. A
	// frame with invalid side information may have lied about where its
	// data ends: the reference decoders start the reservoir afresh after
	// it, and so does this scan.
	if err != nil {
		s.avail = 0
	} else if si.MainDataBegin <= s.avail {
		s.avail = si.MainDataBegin + h.MainDataSize()
	} else {
		s.avail += h.MainDataSize()
	}
	s.avail = min(s.avail, 1<<16)
	s.ix.Offsets = append(s.ix.Offsets, off)
	s.ix.AudioBytes += int64(len(frame))
	s.advance(len(frame))
}

func (s *scanner) silence(n int, off int64, why string) {
	s.ix.Silenced = append(s.ix.Silenced, n)
	s.ix.Damage = append(s.ix.Damage, Damage{Offset: off, Frame: n, Reason: why})
}

func (s *scanner) advance(n int) {
	k, _ := s.br.Discard(n)
	s.off += int64(k)
}

// junk leaves n bytes out.
func (s *scanner) junk(n int, why string) {
	s.junkStart(why)
	p, _ := s.br.Peek(n)
	s.junkBytes(p)
	s.advance(len(p))
}

func (s *scanner) junkStart(why string) {
	if s.junkAt < 0 {
		s.junkAt, s.junkWhy, s.junkBuf = s.off, why, s.junkBuf[:0]
		return
	}
	// Frames of another format say more than the frame before them that
	// had nothing valid after it.
	if strings.HasPrefix(why, "frames of another format") && !strings.HasPrefix(s.junkWhy, "frames of another format") {
		s.junkWhy = why
	}
}

func (s *scanner) junkBytes(p []byte) {
	if len(s.junkBuf) < 256 {
		s.junkBuf = append(s.junkBuf, p[:min(len(p), 256-len(s.junkBuf))]...)
	}
}

// endJunk records the run of junk that ends here, if any. The bit
// reservoir does not survive it.
func (s *scanner) endJunk() {
	if s.junkAt < 0 {
		return
	}
	n := s.off - s.junkAt
	why := s.junkWhy
	switch {
	case !s.started:
		why = "junk before the first frame"
	case n == 1 && why == "not an MPEG audio frame":
		why = "a stray byte"
	}
	s.ix.Damage = append(s.ix.Damage, Damage{Offset: s.junkAt, Length: n, Frame: -1, Reason: why})
	s.junkAt = -1
	s.avail = 0
}

// tagAt consumes a metadata tag at the current offset: ID3v1 (the last 128
// bytes), APE (header or footer, to the end), ID3v2 (anywhere).
func (s *scanner) tagAt(hdr []byte) bool {
	switch {
	case bytes.HasPrefix(hdr, []byte("TAG")):
		p, _ := s.br.Peek(129)
		if len(p) != 128 {
			return false
		}
	case bytes.HasPrefix(hdr, []byte("APET")):
		p, _ := s.br.Peek(8)
		if string(p) != "APETAGEX" {
			return false
		}
		s.endJunk()
		n, _ := io.Copy(io.Discard, s.br)
		s.off += n
		return true
	case bytes.HasPrefix(hdr, []byte("ID3")):
		if p, _ := s.br.Peek(10); len(p) < 10 {
			return false
		}
		s.endJunk()
		at := s.off
		if err := s.skipID3v2(); err != nil {
			s.ix.Damage = append(s.ix.Damage, Damage{Offset: at, Length: s.off - at, Frame: -1, Reason: err.Error()})
		}
		return true
	default:
		return false
	}
	s.endJunk()
	s.advance(128)
	return true
}

func isTagStart(p []byte) bool {
	return bytes.HasPrefix(p, []byte("TAG")) || bytes.HasPrefix(p, []byte("APETAGEX")) || bytes.HasPrefix(p, []byte("ID3"))
}

// noteOther remembers MPEG audio this package does not index, to name it
// if the stream holds nothing else.
func (s *scanner) noteOther(err error, hdr []byte, atStart bool) {
	if !errors.Is(err, ErrFreeFormat) && !errors.Is(err, ErrLayer) {
		return
	}
	ch := 2
	if hdr[3]>>6 == ModeMono {
		ch = 1
	}
	layer := 4 - int(hdr[1]>>1)&3
	if atStart {
		// What the file starts with names it better than what junk
		// further on happens to look like.
		s.otherErr, s.otherCh, s.otherLayer = err, ch, layer
		return
	}
	if s.other == nil {
		s.other = map[string]int{}
	}
	s.other[err.Error()]++
	if s.other[err.Error()] >= 2 && s.otherErr == nil {
		s.otherErr, s.otherCh, s.otherLayer = err, ch, layer
	}
}

// skipID3v2 discards an ID3v2 tag at the current offset.
func (s *scanner) skipID3v2() error {
	p, _ := s.br.Peek(10)
	if len(p) < 10 || string(p[:3]) != "ID3" {
		return nil
	}
	size := int64(p[6]&0x7f)<<21 | int64(p[7]&0x7f)<<14 | int64(p[8]&0x7f)<<7 | int64(p[9]&0x7f)
	total := 10 + size
	if p[5]&0x10 != 0 {
		total += 10 // footer
	}
	n, err := io.CopyN(io.Discard, s.br, total)
	s.off += n
	if err != nil {
		return fmt.Errorf("truncated ID3v2 tag (%d of %d bytes)", n, total)
	}
	return nil
}
