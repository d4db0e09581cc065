package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
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

// Asterisk's WAV49 (GSM 6.10, format tag 49) is recognised and kept to
// whole 65-byte blocks when cut short; only ffmpeg converts it.
func TestWAV49(t *testing.T) {
	data, err := os.ReadFile("../../testdata/pbx/two-tone-wav49.wav")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWAV(bytes.NewReader(data), int64(len(data)))
	if err != nil || w.Format != WAVGSM610 || w.BlockAlign != 65 || w.Decodable() || !w.Known() || w.Repair != "" {
		t.Fatalf("%+v, %v", w, err)
	}
	if d := w.Describe(); d != "WAV GSM 6.10 (WAV49), 8000 Hz, mono" {
		t.Errorf("described as %q", d)
	}
	lame, ffmpeg := &Transcoder{Kind: "lame"}, &Transcoder{Kind: "ffmpeg"}
	if lame.ReadsWAV(w) || !ffmpeg.ReadsWAV(w) {
		t.Error("lame must not be handed GSM, ffmpeg must")
	}
	cut := data[:len(data)-30]
	c, err := ParseWAV(bytes.NewReader(cut), int64(len(cut)))
	if err != nil || c.DataSize%65 != 0 || c.DataSize != w.DataSize-65 || !strings.Contains(c.Repair, "cut short") {
		t.Fatalf("cut WAV49: %+v, %v", c, err)
	}
	// The copy handed to ffmpeg is a well-formed WAV of the kept blocks.
	norm, err := io.ReadAll(c.NormalizedWAV(bytes.NewReader(cut)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseWAV(bytes.NewReader(norm), int64(len(norm)))
	if err != nil || n.Repair != "" || n.DataSize != c.DataSize || n.Format != WAVGSM610 {
		t.Errorf("normalized: %+v, %v", n, err)
	}
}

// A stereo WAV whose two channels hold the same samples is one party.
func TestDualMono(t *testing.T) {
	same := makeWAV(WAVPCM, 8000, 2, 16, 0.5)
	w, _ := ParseWAV(bytes.NewReader(same), int64(len(same)))
	if dual, err := w.DualMono(bytes.NewReader(same)); err != nil || !dual {
		t.Errorf("identical channels: dual %v, %v", dual, err)
	}
	diff := bytes.Clone(same)
	diff[44+4*100] ^= 0x40 // one left sample
	if dual, err := w.DualMono(bytes.NewReader(diff)); err != nil || dual {
		t.Errorf("different channels: dual %v, %v", dual, err)
	}
}

// The stereo canonical profile (two parties, MPEG-2 16 kHz joint stereo)
// is one go-mp3 decodes as mpg123 does, from either encoder, and it keeps
// the parties apart.
func TestStereoCanonicalDecodesLikeMpg123(t *testing.T) {
	mpg123, err := exec.LookPath("mpg123")
	if err != nil {
		t.Skip("mpg123 is not installed (.ci/run installs it): the reference decoder is missing")
	}
	ctx := context.Background()
	// Party 1 (left) speaks in the first half, party 2 (right) in the
	// second, each with its own tone.
	const rate = 8000
	var pcm bytes.Buffer
	for i := range 3 * rate {
		var l, r float64
		tt := float64(i) / rate
		if i < 3*rate/2 {
			l = 0.4 * math.Sin(2*math.Pi*300*tt)
		} else {
			r = 0.3 * math.Sin(2*math.Pi*1100*tt)
		}
		binary.Write(&pcm, binary.LittleEndian, [2]int16{int16(l * 32767), int16(r * 32767)})
	}
	for _, tc := range encoders(t) {
		t.Run(tc.Kind, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.FromPCM(ctx, bytes.NewReader(pcm.Bytes()), rate, 2, &out); err != nil {
				t.Fatal(err)
			}
			a, err := Analyze(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if ix := a.Index; ix.Channels != 2 || ix.SampleRate != CanonicalRate || ix.Version != mp3frame.MPEG2 || ix.MeanKbps() != CanonicalStereoKbps {
				t.Fatalf("profile %+v, mean %d kbps", ix.Header(), ix.MeanKbps())
			}
			d, err := mp3.NewDecoder(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(mpg123, "-q", "-s", "-")
			cmd.Stdin = bytes.NewReader(out.Bytes())
			ref, err := cmd.Output()
			if err != nil {
				t.Fatalf("mpg123: %v", err)
			}
			n := min(len(got), len(ref)) / 4
			var sig, noise, cross [2]float64
			for i := range n {
				for c := range 2 {
					g := float64(int16(binary.LittleEndian.Uint16(got[4*i+2*c:])))
					r := float64(int16(binary.LittleEndian.Uint16(ref[4*i+2*c:])))
					sig[c] += r * r
					noise[c] += (g - r) * (g - r)
					// Each party's channel in the other's half: crosstalk.
					if (c == 0) != (i < n/2) && i%(n/2) > n/8 {
						cross[c] += g * g
					}
				}
			}
			for c := range 2 {
				snr := 10 * math.Log10(sig[c]/noise[c])
				sep := 10 * math.Log10(sig[c]/max(cross[c], 1))
				t.Logf("channel %d: go-mp3 vs mpg123 %.1f dB, separation %.1f dB", c, snr, sep)
				if snr < 60 {
					t.Errorf("channel %d: go-mp3 differs from mpg123 (%.1f dB)", c, snr)
				}
				if sep < 30 {
					t.Errorf("channel %d: the other party leaks in (%.1f dB apart)", c, sep)
				}
			}
			if len(a.ChannelPeaks) != 2 {
				t.Fatalf("%d channel peak lines", len(a.ChannelPeaks))
			}
			q := len(a.Peaks) / 4
			if a.ChannelPeaks[0][q] < 60 || a.ChannelPeaks[1][q] > 3 || a.ChannelPeaks[1][3*q] < 60 || a.ChannelPeaks[0][3*q] > 3 {
				t.Errorf("channel peaks do not follow who speaks: left %d/%d, right %d/%d",
					a.ChannelPeaks[0][q], a.ChannelPeaks[0][3*q], a.ChannelPeaks[1][q], a.ChannelPeaks[1][3*q])
			}
		})
	}
}
