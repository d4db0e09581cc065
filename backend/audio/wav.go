package audio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV format tags this package knows.
const (
	WAVPCM    = 1
	WAVALaw   = 6
	WAVMuLaw  = 7
	WAVGSM610 = 0x31 // GSM 6.10 as Microsoft and Asterisk write it ("WAV49")
	// wavExtensible wraps the real format tag in its extension.
	wavExtensible = 0xFFFE
)

// WAV describes a RIFF/WAVE file's audio.
type WAV struct {
	Format     int // WAVPCM, WAVALaw, WAVMuLaw, WAVGSM610 or another tag
	SampleRate int
	Channels   int
	Bits       int
	BlockAlign int
	DataOffset int64
	DataSize   int64
	// Repair says what was cut to keep whole samples (a file cut short by
	// a crash or a full disk); empty when nothing was.
	Repair string
	// fmtChunk is the fmt chunk's body as found, for NormalizedWAV.
	fmtChunk []byte
}

// IsWAV tells whether head starts like a RIFF/WAVE file.
func IsWAV(head []byte) bool {
	return len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE"
}

// WAVFormats names the WAV encodings accepted for conversion.
const WAVFormats = "WAV (PCM 8/16/24/32-bit, G.711 µ-law or A-law, GSM 6.10 \"WAV49\")"

// EncodingName is the human name of the WAV's encoding.
func (w WAV) EncodingName() string {
	switch w.Format {
	case WAVPCM:
		return fmt.Sprintf("%d-bit PCM", w.Bits)
	case WAVALaw:
		return "G.711 A-law"
	case WAVMuLaw:
		return "G.711 µ-law"
	case WAVGSM610:
		return "GSM 6.10 (WAV49)"
	case 3:
		return "32-bit float"
	case 2:
		return "Microsoft ADPCM"
	case 0x11:
		return "IMA ADPCM"
	}
	return fmt.Sprintf("format tag %#04x", w.Format)
}

// Describe names the audio: "WAV G.711 µ-law, 8000 Hz, mono".
func (w WAV) Describe() string {
	ch := "mono"
	switch w.Channels {
	case 1:
	case 2:
		ch = "stereo"
	default:
		ch = fmt.Sprintf("%d channels", w.Channels)
	}
	return fmt.Sprintf("WAV %s, %d Hz, %s", w.EncodingName(), w.SampleRate, ch)
}

// Decodable tells whether this package decodes the encoding itself (PCM,
// G.711): only those can be handed to lame, which reads raw samples.
func (w WAV) Decodable() bool {
	switch {
	case w.Format == WAVPCM && (w.Bits == 8 || w.Bits == 16 || w.Bits == 24 || w.Bits == 32):
		return true
	case (w.Format == WAVALaw || w.Format == WAVMuLaw) && w.Bits == 8:
		return true
	}
	return false
}

// Known tells whether the encoding is one WAVFormats promises to convert.
func (w WAV) Known() bool { return w.Decodable() || w.Format == WAVGSM610 }

// ParseWAV reads the chunk list of a WAV file. A data chunk shorter than it
// declares (a file cut short) is kept up to its last whole block, and
// Repair says so; a file with no audio, or that is not a WAV, is refused.
// The encoding is not judged here (see Known, Decodable).
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
			if n < 16 || n > 1024 || body+16 > size {
				return WAV{}, errors.New("WAV fmt chunk is truncated")
			}
			f := make([]byte, min(n, size-body))
			if _, err := r.ReadAt(f, body); err != nil && !errors.Is(err, io.EOF) {
				return WAV{}, fmt.Errorf("WAV fmt chunk: %w", err)
			}
			w.fmtChunk = f
			w.Format = int(binary.LittleEndian.Uint16(f[0:]))
			w.Channels = int(binary.LittleEndian.Uint16(f[2:]))
			w.SampleRate = int(binary.LittleEndian.Uint32(f[4:]))
			w.BlockAlign = int(binary.LittleEndian.Uint16(f[12:]))
			w.Bits = int(binary.LittleEndian.Uint16(f[14:]))
			if w.Format == wavExtensible && len(f) >= 26 {
				w.Format = int(binary.LittleEndian.Uint16(f[24:]))
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, errors.New("WAV data chunk before its fmt chunk")
			}
			if err := w.checkShape(); err != nil {
				return WAV{}, err
			}
			// A WAV written to a pipe cannot go back to fill in its
			// length: 0 or 0xFFFFFFFF then mean "to the end of the file".
			streamed := n == 0xFFFFFFFF || n == 0
			if streamed {
				n = size - body
			}
			if body+n > size {
				w.Repair = fmt.Sprintf("the WAV data is cut short (%d of %d bytes)", size-body, n)
				n = size - body
			}
			if b := int64(w.block()); n%b != 0 {
				// A writer that pads odd data to an even chunk (sox, for
				// GSM's 65-byte blocks) leaves one byte over: not damage.
				padded := n%b == 1 && n%2 == 0
				if w.Repair == "" && !streamed && !padded {
					w.Repair = fmt.Sprintf("the WAV data ends inside a block (%d bytes, blocks of %d)", n, b)
				}
				n -= n % b
			}
			if w.Repair != "" {
				w.Repair += fmt.Sprintf(": kept its first %d bytes (%s)", n, w.durationOf(n))
			}
			if n <= 0 {
				return WAV{}, errors.New("WAV file holds no audio (its data chunk is empty)")
			}
			w.DataOffset, w.DataSize = body, n
			return w, nil
		}
		off = body + n + n%2
	}
	if !haveFmt {
		return WAV{}, errors.New("WAV file has no fmt chunk")
	}
	return WAV{}, errors.New("WAV file has no data chunk")
}

func (w WAV) checkShape() error {
	if w.Channels < 1 || w.Channels > 8 || w.SampleRate < 4000 || w.SampleRate > 192000 {
		return fmt.Errorf("WAV with %d channels at %d Hz is not audio we accept", w.Channels, w.SampleRate)
	}
	return nil
}

// block is the unit the data comes in: a sample frame for PCM and G.711, a
// codec block (65 bytes, 320 samples for GSM 6.10) otherwise.
func (w WAV) block() int {
	if w.Decodable() {
		return w.frameBytes()
	}
	return max(1, w.BlockAlign)
}

func (w WAV) durationOf(n int64) string {
	var samples int64
	switch {
	case w.Decodable():
		samples = n / int64(w.frameBytes())
	case w.Format == WAVGSM610:
		samples = n / 65 * 320
	default:
		return fmt.Sprintf("%d bytes", n)
	}
	ms := samples * 1000 / int64(w.SampleRate)
	return fmt.Sprintf("%d:%02d.%03d", ms/60000, ms/1000%60, ms%1000)
}

func (w WAV) frameBytes() int { return w.Channels * w.Bits / 8 }

// NormalizedWAV returns a WAV file holding the same fmt chunk and only the
// kept data, its sizes right: what ffmpeg reads when the original was cut
// short or carried chunks ffmpeg need not see.
func (w WAV) NormalizedWAV(r io.ReaderAt) io.Reader {
	var h bytes.Buffer
	fmtLen := len(w.fmtChunk) + len(w.fmtChunk)%2
	h.WriteString("RIFF")
	binary.Write(&h, binary.LittleEndian, uint32(4+8+fmtLen+8+int(w.DataSize)))
	h.WriteString("WAVEfmt ")
	binary.Write(&h, binary.LittleEndian, uint32(len(w.fmtChunk)))
	h.Write(w.fmtChunk)
	if len(w.fmtChunk)%2 == 1 {
		h.WriteByte(0)
	}
	h.WriteString("data")
	binary.Write(&h, binary.LittleEndian, uint32(w.DataSize))
	return io.MultiReader(&h, io.NewSectionReader(r, w.DataOffset, w.DataSize))
}

// DualMono tells whether a stereo WAV carries the same samples on both
// channels (a mono recording written as stereo): it is then not two
// parties. Only for Decodable encodings; false otherwise.
func (w WAV) DualMono(r io.ReaderAt) (bool, error) {
	if w.Channels != 2 || !w.Decodable() {
		return false, nil
	}
	in := bufio.NewReaderSize(io.NewSectionReader(r, w.DataOffset, w.DataSize), 64<<10)
	fb := w.frameBytes()
	half := fb / 2
	frame := make([]byte, fb)
	for {
		if _, err := io.ReadFull(in, frame); err != nil {
			if errors.Is(err, io.EOF) {
				return true, nil
			}
			return false, fmt.Errorf("read WAV data: %w", err)
		}
		if !bytes.Equal(frame[:half], frame[half:]) {
			return false, nil
		}
	}
}

// MonoPCM returns the audio as 16-bit little-endian mono samples (channels
// averaged), the input every encoder takes. Close it when done, read to the
// end or not, so the decoding goroutine ends. Decodable encodings only.
func (w WAV) MonoPCM(r io.ReaderAt) io.ReadCloser { return w.PCM(r, 1) }

// PCM returns the audio as 16-bit little-endian samples, in channels
// channels: 1 averages them, 2 keeps a stereo file's two (a mono file is
// copied to both). Decodable encodings only; close it when done.
func (w WAV) PCM(r io.ReaderAt, channels int) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		in := bufio.NewReaderSize(io.NewSectionReader(r, w.DataOffset, w.DataSize), 64<<10)
		out := bufio.NewWriterSize(pw, 64<<10)
		fb := w.frameBytes()
		frame := make([]byte, fb)
		bps := w.Bits / 8
		put := func(v int) error {
			out.WriteByte(byte(int16(v)))
			return out.WriteByte(byte(uint16(int16(v)) >> 8))
		}
		for {
			if _, err := io.ReadFull(in, frame); err != nil {
				if errors.Is(err, io.EOF) {
					err = out.Flush()
				}
				pw.CloseWithError(err)
				return
			}
			var err error
			switch {
			case channels == 2 && w.Channels == 2:
				put(w.sample(frame[:bps]))
				err = put(w.sample(frame[bps : 2*bps]))
			case channels == 2:
				v := w.sample(frame[:bps])
				put(v)
				err = put(v)
			default:
				var sum int
				for c := range w.Channels {
					sum += w.sample(frame[c*bps : (c+1)*bps])
				}
				err = put(sum / w.Channels)
			}
			if err != nil {
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
