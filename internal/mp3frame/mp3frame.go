// Package mp3frame reads MPEG audio Layer III frames without decoding them:
// headers, the side information's bit-reservoir pointer, the LAME/Xing tag.
//
// The backend uses it to validate uploads, repair damaged ones and build the
// frame index served for seeking; the player uses it to index local files
// and to find where decoding must start for a clean seek. Decoding is left to
// go-mp3: this package only tells where frames are and whether go-mp3 will
// decode them correctly (see Index.Profile).
package mp3frame

import (
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

// Channel modes (Header.Mode).
const (
	ModeStereo      = 0
	ModeJointStereo = 1
	ModeDual        = 2
	ModeMono        = 3
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
	// CRC: a 16-bit checksum follows the header.
	CRC bool
	// Mode is the channel mode; ModeExt its extension (joint stereo: bit 0
	// intensity stereo, bit 1 mid/side).
	Mode, ModeExt int
	// Emphasis is the de-emphasis the header asks for (0 none, 1 50/15 µs,
	// 2 reserved, 3 CCITT J.17). Decoders in practice ignore it.
	Emphasis int
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

// Errors ParseHeader returns for headers that are MPEG audio but not what
// this package indexes; callers tell them apart from junk.
var (
	// ErrNoSync means the bytes are not the start of an MPEG audio frame.
	ErrNoSync = errors.New("no MPEG frame sync")
	// ErrFreeFormat is a Layer III frame whose bitrate is "free": its size
	// is not in its header.
	ErrFreeFormat = errors.New("free-format bitrate (frame size not in the header)")
	// ErrLayer is a Layer I or II frame.
	ErrLayer = errors.New("MPEG audio Layer I or II (Layer III only)")
)

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
		return Header{}, fmt.Errorf("MPEG layer II is not supported: %w", ErrLayer)
	case 3:
		return Header{}, fmt.Errorf("MPEG layer I is not supported: %w", ErrLayer)
	default:
		return Header{}, errors.New("reserved MPEG layer")
	}
	h.CRC = b[1]&1 == 0
	bi := int(b[2] >> 4)
	if h.Version == MPEG1 {
		h.BitrateKbps = bitratesV1[bi]
	} else {
		h.BitrateKbps = bitratesV2[bi]
	}
	if h.BitrateKbps == -1 {
		return Header{}, errors.New("invalid bitrate index")
	}
	si := int((b[2] >> 2) & 0x3)
	if si == 3 {
		return Header{}, errors.New("reserved sample rate index")
	}
	if h.BitrateKbps == 0 {
		return Header{}, ErrFreeFormat
	}
	h.SampleRate = rates[h.Version][si]
	h.Padding = b[2]&0x2 != 0
	h.Mode = int(b[3]>>6) & 0x3
	h.ModeExt = int(b[3]>>4) & 0x3
	h.Emphasis = int(b[3]) & 0x3
	if h.Mode == ModeMono {
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

// Granules is the number of 576-sample granules in a frame.
func (h Header) Granules() int {
	if h.Version == MPEG1 {
		return 2
	}
	return 1
}

// SideInfoSize is the length of the side information that follows the
// header (and the CRC, if any).
func (h Header) SideInfoSize() int {
	switch {
	case h.Version == MPEG1 && h.Channels == 1:
		return 17
	case h.Version == MPEG1:
		return 32
	case h.Channels == 1:
		return 9
	}
	return 17
}

// MainDataOffset is where the frame's main data begins, from its first byte.
func (h Header) MainDataOffset() int {
	n := 4 + h.SideInfoSize()
	if h.CRC {
		n += 2
	}
	return n
}

// MainDataSize is the number of main-data bytes the frame carries (its own
// and those it lends to later frames through the bit reservoir).
func (h Header) MainDataSize() int { return max(0, h.FrameSize-h.MainDataOffset()) }

// IntensityStereo tells whether the frame may code some bands as intensity
// stereo.
func (h Header) IntensityStereo() bool { return h.Mode == ModeJointStereo && h.ModeExt&1 != 0 }

// sameStream tells whether o can follow h in one stream: same version,
// layer and sample rate.
func (h Header) sameStream(o Header) bool {
	return h.Version == o.Version && h.SampleRate == o.SampleRate
}

// ClearEmphasis returns the header bytes with the emphasis bits cleared:
// go-mp3 takes a frame whose emphasis is the reserved value 2 for junk and
// resynchronises inside it, while every reference decoder ignores emphasis.
func ClearEmphasis(b []byte) {
	if len(b) >= 4 {
		b[3] &^= 0x03
	}
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

// AsIsFormats names what is stored as it is, for refusal messages.
const AsIsFormats = "MPEG-1 Layer III (32, 44.1, 48 kHz) or MPEG-2 Layer III at 16 or 24 kHz"

// CheckProfile tells whether go-mp3 decodes frames of this version and rate
// correctly. It does not for MPEG-2.5 (8, 11.025, 12 kHz: refused by go-mp3)
// nor for MPEG-2 at 22.05 kHz (decoded silently wrong, measured against
// mpg123 and the ISO reference decodes); MPEG-1 and MPEG-2 at 16 and 24 kHz
// decode correctly. Index.Profile checks the rest (intensity stereo).
func CheckProfile(h Header) error {
	switch {
	case h.Version == MPEG1:
		return nil
	case h.Version == MPEG2 && (h.SampleRate == 16000 || h.SampleRate == 24000):
		return nil
	}
	return fmt.Errorf("%s at %d Hz cannot be played correctly; accepted: %s; convert with: %s",
		VersionName(h.Version), h.SampleRate, AsIsFormats, ConvertHint)
}

// frameTime is the start of frame i.
func frameTime(i, samplesPerFrame, rate int) time.Duration {
	if rate == 0 {
		return 0
	}
	return time.Duration(int64(i) * int64(samplesPerFrame) * int64(time.Second) / int64(rate))
}
