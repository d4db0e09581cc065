package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os/exec"
	"strings"
	"testing"
)

// makeWAV builds a WAV file of a 440 Hz tone.
func makeWAV(format, rate, channels, bits int, seconds float64) []byte {
	n := int(float64(rate) * seconds)
	var data bytes.Buffer
	for i := range n {
		v := math.Sin(2*math.Pi*440*float64(i)/float64(rate)) * 0.5
		for range channels {
			switch {
			case format == WAVMuLaw:
				data.WriteByte(ulawEncode(int16(v * 32767)))
			case bits == 8:
				data.WriteByte(byte(int(v*127) + 128))
			case bits == 16:
				binary.Write(&data, binary.LittleEndian, int16(v*32767))
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(format))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(bits))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// ulawEncode is the G.711 µ-law compressor, to build test input.
func ulawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func TestG711Reference(t *testing.T) {
	// Values from the ITU-T G.711 tables.
	for _, c := range []struct {
		in   byte
		law  func(byte) int16
		want int16
	}{{0xFF, ulaw, 0}, {0x7F, ulaw, 0}, {0x00, ulaw, -32124}, {0x80, ulaw, 32124},
		{0xD5, alaw, 8}, {0x55, alaw, -8}, {0xAA, alaw, 32256}, {0x2A, alaw, -32256}} {
		if got := c.law(c.in); got != c.want {
			t.Errorf("G.711 %#x = %d, want %d", c.in, got, c.want)
		}
	}
	for _, s := range []int16{-30000, -1000, -10, 0, 10, 1000, 30000} {
		if got := ulaw(ulawEncode(s)); math.Abs(float64(got-s)) > math.Abs(float64(s))/16+8 {
			t.Errorf("µ-law round trip %d → %d", s, got)
		}
	}
}

func TestParseWAV(t *testing.T) {
	good := makeWAV(WAVPCM, 8000, 2, 16, 0.5)
	w, err := ParseWAV(bytes.NewReader(good), int64(len(good)))
	if err != nil || w.SampleRate != 8000 || w.Channels != 2 || w.DataSize != 16000 {
		t.Fatalf("%+v, %v", w, err)
	}
	pcm, _ := io.ReadAll(w.MonoPCM(bytes.NewReader(good)))
	if len(pcm) != 8000 {
		t.Errorf("mono PCM is %d bytes, want 8000", len(pcm))
	}
	streamed := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(streamed[40:], 0xFFFFFFFF)
	if w, err := ParseWAV(bytes.NewReader(streamed), int64(len(streamed))); err != nil || w.DataSize != 16000 {
		t.Errorf("WAV of unknown length (written to a pipe): %+v, %v", w, err)
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"not a WAV":  {[]byte("RIFX0000WAVE"), "not a RIFF/WAVE"},
		"no data":    {good[:36], "no data chunk"},
		"odd length": {append(append([]byte{}, good[:40]...), 3, 0, 0, 0, 1, 2, 3), "holds no audio"},
	} {
		_, err := ParseWAV(bytes.NewReader(c.data), int64(len(c.data)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// Cut short by a crash: what is there is kept, to the last whole
	// sample, and Repair says so.
	cut := good[:len(good)-101]
	w, err = ParseWAV(bytes.NewReader(cut), int64(len(cut)))
	if err != nil || w.DataSize != 16000-104 || !strings.Contains(w.Repair, "cut short") {
		t.Errorf("cut WAV: %+v, %v", w, err)
	}
	// An encoding Écoute does not convert is recognised, named, not known.
	float := makeWAV(3, 8000, 1, 16, 0.1)
	if w, err := ParseWAV(bytes.NewReader(float), int64(len(float))); err != nil || w.Known() || w.EncodingName() != "32-bit float" {
		t.Errorf("float WAV: %+v, %v", w, err)
	}
}

// encoders are the transcoders present on this machine. CI installs both
// (.ci/run); a developer machine without them skips with the reason.
func encoders(t *testing.T) []*Transcoder {
	var out []*Transcoder
	for _, name := range []string{"ffmpeg", "lame"} {
		if tc, err := NewTranscoder(name); err == nil {
			out = append(out, tc)
		}
	}
	if len(out) == 0 {
		t.Skip("neither ffmpeg nor lame is installed (.ci/run installs them)")
	}
	return out
}

func TestTranscodeToCanonical(t *testing.T) {
	ctx := context.Background()
	for _, tc := range encoders(t) {
		t.Run(tc.Kind, func(t *testing.T) {
			for _, w := range []struct {
				name string
				data []byte
			}{
				{"pcm16 8k stereo", makeWAV(WAVPCM, 8000, 2, 16, 2)},
				{"pcm8 11k", makeWAV(WAVPCM, 11025, 1, 8, 2)},
				{"mulaw 8k", makeWAV(WAVMuLaw, 8000, 1, 8, 2)},
			} {
				info, err := ParseWAV(bytes.NewReader(w.data), int64(len(w.data)))
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				pcm := info.MonoPCM(bytes.NewReader(w.data))
				err = tc.FromPCM(ctx, pcm, info.SampleRate, 1, &out)
				pcm.Close()
				if err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				checkCanonical(t, w.name, out.Bytes(), 2)
			}
			mp3in := encodeMP3(t, 8000)
			var out bytes.Buffer
			if err := tc.FromMP3(ctx, bytes.NewReader(mp3in), false, &out); err != nil {
				t.Fatal(err)
			}
			checkCanonical(t, "mp3 8k", out.Bytes(), 2)
			if err := tc.FromMP3(ctx, strings.NewReader("this is not audio at all"), false, io.Discard); err == nil {
				t.Error("garbage converted without error")
			}
		})
	}
}

// encodeMP3 makes a 2-second MP3 at rate with whichever encoder exists.
func encodeMP3(t *testing.T, rate int) []byte {
	t.Helper()
	wav := makeWAV(WAVPCM, rate, 1, 16, 2)
	var cmd *exec.Cmd
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		cmd = exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "16k", "-f", "mp3", "pipe:1")
	} else {
		cmd = exec.Command("lame", "--quiet", "-b", "16", "-", "-")
	}
	cmd.Stdin = bytes.NewReader(wav)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make %d Hz MP3: %v", rate, err)
	}
	return out
}

func checkCanonical(t *testing.T, name string, mp3 []byte, seconds float64) {
	t.Helper()
	a, err := Analyze(mp3)
	if err != nil {
		t.Fatalf("%s: converted audio refused: %v", name, err)
	}
	ix := a.Index
	if ix.SampleRate != CanonicalRate || ix.Channels != 1 || ix.BitrateKbps != CanonicalKbps {
		t.Errorf("%s: converted to %d Hz, %d channels, %d kbps", name, ix.SampleRate, ix.Channels, ix.BitrateKbps)
	}
	// Encoder delay and frame padding add up to about 0.25 s over two
	// encodings at 8 kHz.
	if d := ix.Duration().Seconds(); d < seconds-0.05 || d > seconds+0.35 {
		t.Errorf("%s: %.2f s after conversion, want %.1f", name, d, seconds)
	}
	loud := 0
	for _, p := range a.Peaks {
		if p > 60 {
			loud++
		}
	}
	if loud < len(a.Peaks)/2 {
		t.Errorf("%s: only %d of %d peaks are loud: the tone was lost", name, loud, len(a.Peaks))
	}
}
