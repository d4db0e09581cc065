// Package mp3frame reads MPEG audio Layer III frame headers without decoding.
//
// The backend uses it to validate uploads and to build the frame index served
// for seeking; the player uses it to index local files. Decoding is left to
// go-mp3: this package only tells where frames are and whether go-mp3 will
// decode them correctly (see CheckProfile).
package mp3frame

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

// MPEG versions as they appear in Header.Version.
const (
	MPEG1  = 1
	MPEG2  = 2
	MPEG25 = 25
)

// Header is one decoded Layer III frame header.
type Header struct {
	Version         int // MPEG1, MPEG2 or MPEG25
	Layer           int // always 3 for a header ParseHeader accepts
	BitrateKbps     int
	SampleRate      int
	Channels        int
	Padding         bool
	FrameSize       int // bytes, header included
	SamplesPerFrame int
}

var (
	bitratesV1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1}
	bitratesV2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1}
	rates      = map[int][3]int{
		MPEG1:  {44100, 48000, 32000},
		MPEG2:  {22050, 24000, 16000},
		MPEG25: {11025, 12000, 8000},
	}
)

// ErrNoSync means the bytes are not the start of an MPEG audio frame.
var ErrNoSync = errors.New("no MPEG frame sync")

// ParseHeader decodes the 4-byte frame header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 4 {
		return Header{}, io.ErrUnexpectedEOF
	}
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, ErrNoSync
	}
	var h Header
	switch (b[1] >> 3) & 0x3 {
	case 0:
		h.Version = MPEG25
	case 2:
		h.Version = MPEG2
	case 3:
		h.Version = MPEG1
	default:
		return Header{}, errors.New("reserved MPEG version")
	}
	switch (b[1] >> 1) & 0x3 {
	case 1:
		h.Layer = 3
	case 2:
		return Header{}, errors.New("MPEG layer II is not supported (Layer III only)")
	case 3:
		return Header{}, errors.New("MPEG layer I is not supported (Layer III only)")
	default:
		return Header{}, errors.New("reserved MPEG layer")
	}
	bi := int(b[2] >> 4)
	if h.Version == MPEG1 {
		h.BitrateKbps = bitratesV1[bi]
	} else {
		h.BitrateKbps = bitratesV2[bi]
	}
	switch h.BitrateKbps {
	case 0:
		return Header{}, errors.New("free-format bitrate is not supported")
	case -1:
		return Header{}, errors.New("invalid bitrate index")
	}
	si := int((b[2] >> 2) & 0x3)
	if si == 3 {
		return Header{}, errors.New("reserved sample rate index")
	}
	h.SampleRate = rates[h.Version][si]
	h.Padding = b[2]&0x2 != 0
	if (b[3]>>6)&0x3 == 3 {
		h.Channels = 1
	} else {
		h.Channels = 2
	}
	pad := 0
	if h.Padding {
		pad = 1
	}
	if h.Version == MPEG1 {
		h.SamplesPerFrame = 1152
		h.FrameSize = 144*h.BitrateKbps*1000/h.SampleRate + pad
	} else {
		h.SamplesPerFrame = 576
		h.FrameSize = 72*h.BitrateKbps*1000/h.SampleRate + pad
	}
	return h, nil
}

// VersionName is the human name of an MPEG version.
func VersionName(v int) string {
	switch v {
	case MPEG1:
		return "MPEG-1"
	case MPEG2:
		return "MPEG-2"
	case MPEG25:
		return "MPEG-2.5"
	}
	return fmt.Sprintf("MPEG version %d", v)
}

// ConvertHint is the command we suggest for files outside the profile.
const ConvertHint = "ffmpeg -i IN -ar 16000 -ac 1 -b:a 32k OUT.mp3 (or: lame --resample 16 -m m -b 32 IN OUT.mp3)"

// CheckProfile tells whether go-mp3 decodes such frames correctly. It does
// not for MPEG-2.5 (8, 11.025, 12 kHz: refused by go-mp3) nor for MPEG-2 at
// 22.05 kHz (decoded silently wrong at low bitrates, measured against mpg123);
// MPEG-1 and MPEG-2 at 16 and 24 kHz decode correctly.
func CheckProfile(h Header) error {
	switch {
	case h.Version == MPEG1:
		return nil
	case h.Version == MPEG2 && (h.SampleRate == 16000 || h.SampleRate == 24000):
		return nil
	}
	return fmt.Errorf("%s at %d Hz cannot be played correctly; accepted: MPEG-1 Layer III (32, 44.1, 48 kHz) or MPEG-2 Layer III at 16 or 24 kHz; convert with: %s",
		VersionName(h.Version), h.SampleRate, ConvertHint)
}

// Index lists the frames of one file.
type Index struct {
	Offsets         []int64 // byte offset of each frame, ascending
	Size            int64   // bytes read, tags included
	Version         int
	SampleRate      int
	Channels        int
	BitrateKbps     int // of the first frame
	SamplesPerFrame int
}

// Header returns the first frame's properties as a Header.
func (ix Index) Header() Header {
	return Header{Version: ix.Version, Layer: 3, BitrateKbps: ix.BitrateKbps, SampleRate: ix.SampleRate,
		Channels: ix.Channels, SamplesPerFrame: ix.SamplesPerFrame}
}

// FrameDuration is the playing time of one frame.
func (ix Index) FrameDuration() time.Duration {
	if ix.SampleRate == 0 {
		return 0
	}
	return time.Duration(ix.SamplesPerFrame) * time.Second / time.Duration(ix.SampleRate)
}

// Duration is the playing time of the whole file.
func (ix Index) Duration() time.Duration { return ix.FrameTime(len(ix.Offsets)) }

// FrameTime is the time at which frame i starts.
func (ix Index) FrameTime(i int) time.Duration {
	if ix.SampleRate == 0 {
		return 0
	}
	return time.Duration(int64(i) * int64(ix.SamplesPerFrame) * int64(time.Second) / int64(ix.SampleRate))
}

// FrameAt is the index of the frame that contains pos, clamped to the file.
func (ix Index) FrameAt(pos time.Duration) int {
	if len(ix.Offsets) == 0 || ix.SampleRate == 0 || pos <= 0 {
		return 0
	}
	i := int(int64(pos) * int64(ix.SampleRate) / (int64(ix.SamplesPerFrame) * int64(time.Second)))
	if i >= len(ix.Offsets) {
		i = len(ix.Offsets) - 1
	}
	return i
}

// Scan reads a whole MP3 stream and indexes its frames. It skips a leading
// ID3v2 tag and accepts a trailing ID3v1 or APE tag; anything else between or
// after frames, a truncated last frame, or a change of version or sample rate
// mid-stream is an error that gives the byte offset.
func Scan(r io.Reader) (Index, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var ix Index
	var off int64
	if n, err := skipID3v2(br); err != nil {
		return Index{}, err
	} else {
		off = n
	}
	for {
		hdr, err := br.Peek(4)
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if len(hdr) >= 3 && string(hdr[:3]) == "TAG" {
			n, _ := br.Discard(128)
			if n != 128 {
				return Index{}, fmt.Errorf("truncated ID3v1 tag at byte %d", off)
			}
			off += 128
			if _, err := br.Peek(1); !errors.Is(err, io.EOF) {
				return Index{}, fmt.Errorf("data after ID3v1 tag at byte %d", off)
			}
			break
		}
		if p, _ := br.Peek(8); string(p) == "APETAGEX" {
			n, err := io.Copy(io.Discard, br)
			if err != nil {
				return Index{}, fmt.Errorf("read APE tag: %w", err)
			}
			off += n
			break
		}
		if len(hdr) < 4 {
			return Index{}, fmt.Errorf("truncated frame header at byte %d", off)
		}
		h, err := ParseHeader(hdr)
		if err != nil {
			return Index{}, fmt.Errorf("frame %d at byte %d: %w", len(ix.Offsets), off, err)
		}
		if len(ix.Offsets) == 0 {
			ix.Version, ix.SampleRate, ix.Channels = h.Version, h.SampleRate, h.Channels
			ix.BitrateKbps, ix.SamplesPerFrame = h.BitrateKbps, h.SamplesPerFrame
		} else if h.Version != ix.Version || h.SampleRate != ix.SampleRate {
			return Index{}, fmt.Errorf("frame %d at byte %d: format changes mid-stream (%s %d Hz after %s %d Hz)",
				len(ix.Offsets), off, VersionName(h.Version), h.SampleRate, VersionName(ix.Version), ix.SampleRate)
		}
		n, err := br.Discard(h.FrameSize)
		if n != h.FrameSize {
			if err == nil || errors.Is(err, io.EOF) {
				return Index{}, fmt.Errorf("frame %d at byte %d is truncated (%d of %d bytes)", len(ix.Offsets), off, n, h.FrameSize)
			}
			return Index{}, fmt.Errorf("read frame at byte %d: %w", off, err)
		}
		ix.Offsets = append(ix.Offsets, off)
		off += int64(n)
	}
	if len(ix.Offsets) == 0 {
		return Index{}, errors.New("no MPEG audio frame found")
	}
	ix.Size = off
	return ix, nil
}

// skipID3v2 discards a leading ID3v2 tag and returns its length.
func skipID3v2(br *bufio.Reader) (int64, error) {
	p, _ := br.Peek(10)
	if len(p) < 10 || string(p[:3]) != "ID3" {
		return 0, nil
	}
	size := int64(p[6]&0x7f)<<21 | int64(p[7]&0x7f)<<14 | int64(p[8]&0x7f)<<7 | int64(p[9]&0x7f)
	total := 10 + size
	if p[5]&0x10 != 0 {
		total += 10 // footer
	}
	n, err := io.CopyN(io.Discard, br, total)
	if err != nil {
		return 0, fmt.Errorf("truncated ID3v2 tag (%d of %d bytes)", n, total)
	}
	return total, nil
}
