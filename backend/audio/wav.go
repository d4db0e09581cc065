package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV format tags this package decodes.
const (
	WAVPCM        = 1
	WAVALaw       = 6
	WAVMuLaw      = 7
	wavExtensible = 0xFFFE
)

// WAV describes a RIFF/WAVE file's audio.
type WAV struct {
	Format     int // WAVPCM, WAVALaw or WAVMuLaw
	SampleRate int
	Channels   int
	Bits       int
	DataOffset int64
	DataSize   int64
}

// IsWAV tells whether head starts like a RIFF/WAVE file.
func IsWAV(head []byte) bool {
	return len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE"
}

// WAVFormats names the WAV encodings accepted for conversion.
const WAVFormats = "WAV (PCM 8/16/24/32-bit, G.711 µ-law or A-law)"

// ParseWAV reads the chunk list of a WAV file. A file whose data chunk is
// shorter than it declares (truncated) or whose encoding is not one of
// WAVFormats is refused.
func ParseWAV(r io.ReaderAt, size int64) (WAV, error) {
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil || !IsWAV(hdr[:]) {
		return WAV{}, errors.New("not a RIFF/WAVE file")
	}
	var w WAV
	var haveFmt bool
	for off := int64(12); off+8 <= size; {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return WAV{}, fmt.Errorf("WAV chunk at byte %d: %w", off, err)
		}
		id, n := string(ch[:4]), int64(binary.LittleEndian.Uint32(ch[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 || body+16 > size {
				return WAV{}, errors.New("WAV fmt chunk is truncated")
			}
			var f [16]byte
			if _, err := r.ReadAt(f[:], body); err != nil {
				return WAV{}, fmt.Errorf("WAV fmt chunk: %w", err)
			}
			w.Format = int(binary.LittleEndian.Uint16(f[0:]))
			w.Channels = int(binary.LittleEndian.Uint16(f[2:]))
			w.SampleRate = int(binary.LittleEndian.Uint32(f[4:]))
			w.Bits = int(binary.LittleEndian.Uint16(f[14:]))
			if w.Format == wavExtensible && n >= 40 && body+26 <= size {
				var sub [2]byte
				if _, err := r.ReadAt(sub[:], body+24); err == nil {
					w.Format = int(binary.LittleEndian.Uint16(sub[:]))
				}
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, errors.New("WAV data chunk before its fmt chunk")
			}
			// A WAV written to a pipe cannot go back to fill in its
			// length: 0 or 0xFFFFFFFF then mean "to the end of the file".
			if (n == 0xFFFFFFFF || n == 0) && body < size {
				n = size - body
				if w.frameBytes() > 0 {
					n -= n % int64(w.frameBytes())
				}
			}
			if body+n > size {
				return WAV{}, fmt.Errorf("WAV data is truncated (%d of %d bytes)", size-body, n)
			}
			w.DataOffset, w.DataSize = body, n
			return w, w.check()
		}
		off = body + n + n%2
	}
	if !haveFmt {
		return WAV{}, errors.New("WAV file has no fmt chunk")
	}
	return WAV{}, errors.New("WAV file has no data chunk")
}

func (w WAV) check() error {
	if w.Channels < 1 || w.Channels > 8 || w.SampleRate < 4000 || w.SampleRate > 192000 {
		return fmt.Errorf("WAV with %d channels at %d Hz is not audio we accept", w.Channels, w.SampleRate)
	}
	switch {
	case w.Format == WAVPCM && (w.Bits == 8 || w.Bits == 16 || w.Bits == 24 || w.Bits == 32):
	case (w.Format == WAVALaw || w.Format == WAVMuLaw) && w.Bits == 8:
	default:
		return fmt.Errorf("WAV encoding %d with %d-bit samples is not accepted; accepted: %s", w.Format, w.Bits, WAVFormats)
	}
	if w.DataSize == 0 || w.DataSize%int64(w.frameBytes()) != 0 {
		return fmt.Errorf("WAV data of %d bytes is not whole samples", w.DataSize)
	}
	return nil
}

func (w WAV) frameBytes() int { return w.Channels * w.Bits / 8 }

// MonoPCM returns the audio as 16-bit little-endian mono samples (channels
// averaged), the input every encoder takes. Close it when done, read to the
// end or not, so the decoding goroutine ends.
func (w WAV) MonoPCM(r io.ReaderAt) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		in := bufio.NewReaderSize(io.NewSectionReader(r, w.DataOffset, w.DataSize), 64<<10)
		out := bufio.NewWriterSize(pw, 64<<10)
		fb := w.frameBytes()
		frame := make([]byte, fb)
		bps := w.Bits / 8
		for {
			if _, err := io.ReadFull(in, frame); err != nil {
				if errors.Is(err, io.EOF) {
					err = out.Flush()
				}
				pw.CloseWithError(err)
				return
			}
			var sum int
			for c := range w.Channels {
				sum += w.sample(frame[c*bps : (c+1)*bps])
			}
			v := int16(sum / w.Channels)
			out.WriteByte(byte(v))
			if err := out.WriteByte(byte(uint16(v) >> 8)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// sample decodes one sample to the 16-bit range.
func (w WAV) sample(b []byte) int {
	switch w.Format {
	case WAVMuLaw:
		return int(ulaw(b[0]))
	case WAVALaw:
		return int(alaw(b[0]))
	}
	switch w.Bits {
	case 8:
		return (int(b[0]) - 128) << 8
	case 16:
		return int(int16(binary.LittleEndian.Uint16(b)))
	case 24:
		return int(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 16)
	default:
		return int(int32(binary.LittleEndian.Uint32(b)) >> 16)
	}
}

// ulaw and alaw expand G.711 samples (ITU-T G.711 reference algorithm).
func ulaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := (a & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
