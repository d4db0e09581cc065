package mp3frame

import (
	"encoding/binary"
	"strings"
)

// Tag is the LAME/Xing ("Xing" for VBR, "Info" for CBR) or Fraunhofer VBRI
// header an encoder writes in place of the first frame's audio. That frame
// is not audio: it is left out of the index, so durations and seeks do not
// count it.
type Tag struct {
	Kind   string // "Xing", "Info" or "VBRI"
	Offset int64  // of the tag frame
	Size   int    // of the tag frame
	// Frames and Bytes as the tag declares them (0: not given).
	Frames, Bytes int64
	// Encoder is the LAME extension's encoder string ("LAME3.100"), if any;
	// Delay and Padding are the samples it says the encoder added at the
	// start and the end.
	Encoder        string
	Delay, Padding int
	// Corrupt says why the declared fields were not read (they run past
	// the frame); the frame is still not audio.
	Corrupt string
}

// readTag recognises a tag frame. frame is the whole frame, header included.
func readTag(h Header, frame []byte, off int64) (*Tag, bool) {
	at := h.MainDataOffset()
	if at+8 <= len(frame) {
		if id := string(frame[at : at+4]); id == "Xing" || id == "Info" {
			t := &Tag{Kind: id, Offset: off, Size: len(frame)}
			t.readXing(frame[at:])
			return t, true
		}
	}
	// VBRI sits 32 bytes after the header whatever the channel mode.
	if len(frame) >= 36+26 && string(frame[36:40]) == "VBRI" {
		b := frame[36:]
		t := &Tag{Kind: "VBRI", Offset: off, Size: len(frame)}
		t.Delay = int(binary.BigEndian.Uint16(b[6:]))
		t.Bytes = int64(binary.BigEndian.Uint32(b[10:]))
		t.Frames = int64(binary.BigEndian.Uint32(b[14:]))
		return t, true
	}
	return nil, false
}

func (t *Tag) readXing(b []byte) {
	flags := binary.BigEndian.Uint32(b[4:])
	p := 8
	need := func(n int) bool {
		if p+n > len(b) {
			t.Corrupt = "its fields run past the end of the frame"
			return false
		}
		return true
	}
	if flags&1 != 0 {
		if !need(4) {
			return
		}
		t.Frames = int64(binary.BigEndian.Uint32(b[p:]))
		p += 4
	}
	if flags&2 != 0 {
		if !need(4) {
			return
		}
		t.Bytes = int64(binary.BigEndian.Uint32(b[p:]))
		p += 4
	}
	if flags&4 != 0 {
		if !need(100) {
			return
		}
		p += 100
	}
	if flags&8 != 0 {
		if !need(4) {
			return
		}
		p += 4
	}
	// The LAME extension: 9 bytes of encoder name, then revision, lowpass,
	// peak, two gains, flags, bitrate, and 24 bits of delay and padding.
	if p+24 > len(b) {
		return
	}
	enc := strings.TrimRight(string(b[p:p+9]), "\x00 ")
	if !strings.HasPrefix(enc, "LAME") && !strings.HasPrefix(enc, "Lavc") && !strings.HasPrefix(enc, "Lavf") && !strings.HasPrefix(enc, "L3.9") {
		return
	}
	t.Encoder = enc
	d := b[p+21:]
	t.Delay = int(d[0])<<4 | int(d[1]>>4)
	t.Padding = int(d[1]&0x0F)<<8 | int(d[2])
}
