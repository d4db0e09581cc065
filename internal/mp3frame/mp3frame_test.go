package mp3frame

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// frame16k is one MPEG-2 Layer III frame header, 16 kHz mono 32 kbps, padded
// with zeros to its 144-byte size.
func frame16k() []byte {
	f := make([]byte, 144)
	copy(f, []byte{0xFF, 0xF3, 0x48, 0xC0})
	return f
}

func frames(n int) []byte {
	var b bytes.Buffer
	for range n {
		b.Write(frame16k())
	}
	return b.Bytes()
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		hdr     []byte
		want    Header
		wantErr string
	}{
		{"mpeg2 16k mono 32k", []byte{0xFF, 0xF3, 0x48, 0xC0},
			Header{Version: MPEG2, Layer: 3, BitrateKbps: 32, SampleRate: 16000, Channels: 1, FrameSize: 144, SamplesPerFrame: 576, Mode: ModeMono}, ""},
		{"mpeg1 44.1k stereo 128k padded", []byte{0xFF, 0xFB, 0x92, 0x00},
			Header{Version: MPEG1, Layer: 3, BitrateKbps: 128, SampleRate: 44100, Channels: 2, Padding: true, FrameSize: 418, SamplesPerFrame: 1152}, ""},
		{"mpeg2.5 8k mono 16k", []byte{0xFF, 0xE3, 0x28, 0xC0},
			Header{Version: MPEG25, Layer: 3, BitrateKbps: 16, SampleRate: 8000, Channels: 1, FrameSize: 144, SamplesPerFrame: 576, Mode: ModeMono}, ""},
		{"no sync", []byte{0x49, 0x44, 0x33, 0x04}, Header{}, "sync"},
		{"layer II", []byte{0xFF, 0xFD, 0x90, 0x00}, Header{}, "layer II"},
		{"free format", []byte{0xFF, 0xF3, 0x08, 0xC0}, Header{}, "free-format"},
		{"bad bitrate", []byte{0xFF, 0xF3, 0xF8, 0xC0}, Header{}, "bitrate"},
		{"reserved rate", []byte{0xFF, 0xF3, 0x4C, 0xC0}, Header{}, "sample rate"},
		{"short", []byte{0xFF}, Header{}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.hdr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCheckProfile(t *testing.T) {
	tests := []struct {
		version, rate int
		ok            bool
	}{
		{MPEG1, 44100, true}, {MPEG1, 32000, true}, {MPEG2, 16000, true}, {MPEG2, 24000, true},
		{MPEG2, 22050, false}, {MPEG25, 8000, false}, {MPEG25, 11025, false}, {MPEG25, 12000, false},
	}
	for _, tt := range tests {
		err := CheckProfile(Header{Version: tt.version, SampleRate: tt.rate})
		if (err == nil) != tt.ok {
			t.Errorf("%s %d Hz: err = %v, want ok=%v", VersionName(tt.version), tt.rate, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "Hz") {
			t.Errorf("refusal must name the sample rate: %v", err)
		}
	}
}

func TestScanSynthetic(t *testing.T) {
	id3v2 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0A"), make([]byte, 10)...)
	id3v1 := append([]byte("TAG"), make([]byte, 125)...)
	tests := []struct {
		name      string
		data      []byte
		frames    int
		firstOff  int64
		wantErr   string
		wantBytes int64
	}{
		{"plain", frames(10), 10, 0, "", 1440},
		{"id3v2 prefix", append(append([]byte{}, id3v2...), frames(3)...), 3, 20, "", 20 + 432},
		{"id3v1 suffix", append(frames(2), id3v1...), 2, 0, "", 288 + 128},
		{"ape suffix", append(frames(2), []byte("APETAGEX and the rest")...), 2, 0, "", 288 + 21},
		{"truncated last frame", frames(3)[:400], 0, 0, "112 bytes at byte 288 left out: a frame cut short (112 of 144 bytes)", 0},
		{"junk in the middle", append(append(frames(2), 0, 1, 2, 3), frames(1)...), 0, 0, "4 bytes at byte 288 left out", 0},
		{"empty", nil, 0, 0, "no MPEG audio frame", 0},
		{"data after id3v1", append(append(frames(1), id3v1...), 1), 0, 0, "129 bytes at byte 144 left out", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := Scan(bytes.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Offsets) != tt.frames || ix.Offsets[0] != tt.firstOff || ix.Size != tt.wantBytes {
				t.Fatalf("frames=%d first=%d size=%d, want %d %d %d", len(ix.Offsets), ix.Offsets[0], ix.Size, tt.frames, tt.firstOff, tt.wantBytes)
			}
			for i := 1; i < len(ix.Offsets); i++ {
				if ix.Offsets[i]-ix.Offsets[i-1] != 144 {
					t.Fatalf("frame %d spacing %d", i, ix.Offsets[i]-ix.Offsets[i-1])
				}
			}
		})
	}
}

func TestScanRejectsFormatChange(t *testing.T) {
	mpeg1 := make([]byte, 418)
	copy(mpeg1, []byte{0xFF, 0xFB, 0x92, 0x00})
	_, err := Scan(bytes.NewReader(append(frames(2), mpeg1...)))
	if err == nil || !strings.Contains(err.Error(), "frames of another format (MPEG-1 44100 Hz after MPEG-2 16000 Hz)") {
		t.Fatalf("err = %v", err)
	}
}

func TestTiming(t *testing.T) {
	ix := Index{Offsets: make([]int64, 1000), SampleRate: 16000, SamplesPerFrame: 576}
	if got := ix.FrameDuration(); got != 36*time.Millisecond {
		t.Fatalf("FrameDuration = %v", got)
	}
	if got := ix.Duration(); got != 36*time.Second {
		t.Fatalf("Duration = %v", got)
	}
	for _, tt := range []struct {
		pos  time.Duration
		want int
	}{{0, 0}, {-time.Second, 0}, {35 * time.Millisecond, 0}, {36 * time.Millisecond, 1}, {10 * time.Second, 277}, {time.Hour, 999}} {
		if got := ix.FrameAt(tt.pos); got != tt.want {
			t.Errorf("FrameAt(%v) = %d, want %d", tt.pos, got, tt.want)
		}
	}
	if got := ix.FrameTime(277); got != 9972*time.Millisecond {
		t.Fatalf("FrameTime(277) = %v", got)
	}
}

// The committed demo recordings must stay inside the profile go-mp3 decodes.
func TestDemoAudioProfile(t *testing.T) {
	data, err := os.ReadFile("../demo/audio/01-facture.mp3")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckProfile(ix.Header()); err != nil {
		t.Fatal(err)
	}
	if ix.SampleRate != 16000 || ix.Channels != 1 || ix.BitrateKbps != 32 || ix.Size != int64(len(data)) {
		t.Fatalf("unexpected profile %+v", ix.Header())
	}
	// sox measured 59.073 s of speech; the encoder pads to whole frames.
	if d := ix.Duration(); d < 59*time.Second || d > 59500*time.Millisecond {
		t.Fatalf("duration %v, want about 59.1 s", d)
	}
}

func FuzzScan(f *testing.F) {
	f.Add(frames(3))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x01x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Scan(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, off := range ix.Offsets {
			if off < 0 || off >= int64(len(data)) || (i > 0 && off <= ix.Offsets[i-1]) {
				t.Fatalf("bad offset %d at %d", off, i)
			}
		}
	})
}

// conformance reads one of the ISO conformance streams kept in testdata.
func conformance(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/conformance/mp3/" + name + ".bit")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The lenient scan keeps what is valid of a damaged stream and says what it
// left out, with the byte offsets.
func TestScanLenientDamage(t *testing.T) {
	xing := frame16k()
	copy(xing[4+9:], "Xing\x00\x00\x00\x01\x00\x00\x00\x05") // a tag frame declaring 5 frames
	cut := frames(3)
	mid := append(append([]byte{}, cut[:144+60]...), frames(2)...) // frame 1 cut after 60 bytes
	tests := []struct {
		name    string
		data    []byte
		frames  int
		damage  []string
		firstAt int64
	}{
		{"junk before the first frame", append([]byte("PBX header junk"), frames(4)...), 4, []string{"15 bytes at byte 0 left out: junk before the first frame"}, 15},
		{"stray trailing byte", append(frames(4), 0x55), 4, []string{"1 bytes at byte 576 left out: a stray byte"}, 0},
		{"last frame cut short", frames(4)[:500], 3, []string{"68 bytes at byte 432 left out: a frame cut short (68 of 144 bytes)"}, 0},
		{"stray bytes between frames", append(append(frames(2), 1, 2, 3), frames(2)...), 4, []string{"3 bytes at byte 288 left out"}, 0},
		{"frame cut mid-stream", mid, 3, []string{"60 bytes at byte 144 left out"}, 0},
		{"tag frame", append(xing, frames(5)...), 5, nil, 144},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := ScanLenient(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Offsets) != tt.frames || ix.Offsets[0] != tt.firstAt {
				t.Fatalf("%d frames from %d, want %d from %d (damage %v)", len(ix.Offsets), ix.Offsets[0], tt.frames, tt.firstAt, ix.Damage)
			}
			if len(ix.Damage) != len(tt.damage) {
				t.Fatalf("damage %v, want %v", ix.Damage, tt.damage)
			}
			for i, d := range ix.Damage {
				if !strings.HasPrefix(d.String(), tt.damage[i]) {
					t.Errorf("damage %d: %q, want %q…", i, d, tt.damage[i])
				}
			}
			if ix.Repaired() != (len(tt.damage) > 0) || (ix.RepairSummary() == "") == ix.Repaired() {
				t.Errorf("Repaired %v, summary %q", ix.Repaired(), ix.RepairSummary())
			}
			// The repaired copy is the frames back to back, and scans clean.
			rep, err := io.ReadAll(ix.NewFrameReader(bytes.NewReader(tt.data)).Reader())
			if err != nil {
				t.Fatal(err)
			}
			again, err := Scan(bytes.NewReader(rep))
			if err != nil || len(again.Offsets) != tt.frames || len(rep) != tt.frames*144 {
				t.Fatalf("repaired copy: %d bytes, %d frames, %v", len(rep), len(again.Offsets), err)
			}
		})
	}
}

// A LAME/Xing tag frame is not audio: not indexed, not counted in the
// duration; the mean bitrate of a VBR file is its audio bytes over its
// duration, not the first frame's.
func TestTagFrameAndMeanBitrate(t *testing.T) {
	ix, err := Scan(bytes.NewReader(conformance(t, "l3-nonstandard-sin1k0db_lame_vbrtag")))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Tag == nil || ix.Tag.Kind != "Info" || !strings.HasPrefix(ix.Tag.Encoder, "LAME") || ix.Tag.Delay != 576 || ix.Offsets[0] != int64(ix.Tag.Size) {
		t.Fatalf("tag %+v, first frame at %d", ix.Tag, ix.Offsets[0])
	}
	if int64(len(ix.Offsets)) != ix.Tag.Frames {
		t.Errorf("%d audio frames, the tag says %d", len(ix.Offsets), ix.Tag.Frames)
	}
	vbr, err := Scan(bytes.NewReader(conformance(t, "M2L3_bitrate_16_all")))
	if err != nil {
		t.Fatal(err)
	}
	// 476 frames of 576 samples at 16 kHz, 154,224 bytes: 17.14 s at 72 kbps,
	// though the first frame says 8.
	if vbr.BitrateKbps != 8 || vbr.MeanKbps() != 72 || vbr.Duration() != 17136*time.Millisecond {
		t.Errorf("first %d kbps, mean %d kbps, %v", vbr.BitrateKbps, vbr.MeanKbps(), vbr.Duration())
	}
}

// Frames whose audio cannot be decoded are marked silenced: a lost bit
// reservoir (a stream cut from a longer one), invalid side information.
// Silencing keeps the reservoir pointer, and a silenced copy scans clean.
func TestSilencedFrames(t *testing.T) {
	for _, c := range []struct {
		name     string
		silenced []int
		why      string
	}{
		{"l3-sin1k0db", []int{0, 1}, "bit reservoir"},
		{"l3-nonstandard-compl-sideinfo-bigvalues", nil, "big_values 328"},
		{"l3-nonstandard-compl-sideinfo-blocktype", nil, "block type 0"},
		{"l3-nonstandard-compl-sideinfo-size", nil, "bits of coded audio"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := conformance(t, c.name)
			ix, err := ScanLenient(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Silenced) == 0 || (c.silenced != nil && !slices.Equal(ix.Silenced, c.silenced)) {
				t.Fatalf("silenced %v, want %v", ix.Silenced, c.silenced)
			}
			found := false
			for _, d := range ix.Damage {
				found = found || (d.Frame == ix.Silenced[0] && strings.Contains(d.Reason, c.why))
			}
			if !found {
				t.Errorf("no damage naming %q: %v", c.why, ix.Damage)
			}
			n := ix.Silenced[0]
			off := ix.Offsets[n]
			h, _ := ParseHeader(data[off:])
			frame := slices.Clone(data[off : off+int64(h.FrameSize)])
			mdb := MainDataBegin(h, frame)
			Silence(h, frame)
			si, err := ReadSideInfo(h, frame)
			if err != nil || si.Part23Bits != 0 || si.MainDataBegin != mdb {
				t.Errorf("silenced frame: %+v, %v (main_data_begin was %d)", si, err, mdb)
			}
			rep, err := io.ReadAll(ix.NewFrameReader(bytes.NewReader(data)).Reader())
			if err != nil {
				t.Fatal(err)
			}
			again, err := ScanLenient(bytes.NewReader(rep))
			if err != nil || len(again.Damage) != 0 || len(again.Offsets) != len(ix.Offsets) {
				t.Errorf("repaired copy: %d frames, damage %v, %v", len(again.Offsets), again.Damage, err)
			}
		})
	}
}

// Emphasis bits and MPEG-2 intensity stereo are flagged: the first is
// cleared for go-mp3, the second is outside the profile stored as it is.
func TestEmphasisAndIntensityLSF(t *testing.T) {
	ix, err := Scan(bytes.NewReader(conformance(t, "l3-hecommon")))
	if err != nil || !ix.Emphasis || ix.Profile() != nil {
		t.Errorf("l3-hecommon: emphasis %v, profile %v, %v", ix.Emphasis, ix.Profile(), err)
	}
	hdr := []byte{0xFF, 0xFB, 0x90, 0x03}
	ClearEmphasis(hdr)
	if h, _ := ParseHeader(hdr); h.Emphasis != 0 || hdr[3] != 0 {
		t.Errorf("ClearEmphasis left %#x", hdr[3])
	}
	is, err := Scan(bytes.NewReader(conformance(t, "M2L3_noise")))
	if err != nil || !is.IntensityLSF || is.Profile() == nil || !strings.Contains(is.Profile().Error(), "intensity") && !strings.Contains(is.Profile().Error(), "22050") {
		t.Errorf("M2L3_noise: IS %v, profile %v, %v", is.IntensityLSF, is.Profile(), err)
	}
}

// A stream of free-format or Layer II frames is named as such, so that the
// refusal can say a transcoder would help.
func TestFormatErrors(t *testing.T) {
	_, err := ScanLenient(bytes.NewReader(conformance(t, "l3-he_free")))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFreeFormat) || fe.Channels != 2 {
		t.Errorf("free format: %v", err)
	}
	l2 := make([]byte, 0, 10*417)
	for range 10 {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFD, 0x90, 0x00}) // MPEG-1 Layer II, 128 kbps, 44.1 kHz
		l2 = append(l2, f...)
	}
	if _, err := ScanLenient(bytes.NewReader(l2)); !errors.Is(err, ErrLayer) {
		t.Errorf("layer II: %v", err)
	}
}
