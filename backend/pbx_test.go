package backend_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The formats PBXs write, as the tests build them: the two-tone signal of
// testdata/pbx (400 Hz + 1300 Hz, equal amplitude, phase 0), 3 s at 8 kHz.
func twoTone(t float64) float64 {
	return 0.25 * (math.Sin(2*math.Pi*400*t) + math.Sin(2*math.Pi*1300*t))
}

// wavOf builds a WAV file of channels channels at rate, each sample from
// sample(channel, time), in one of the encodings PBXs use.
func wavOf(format, rate, channels, seconds int, sample func(ch int, t float64) float64) []byte {
	bits := 16
	if format != audio.WAVPCM {
		bits = 8
	}
	var data bytes.Buffer
	for i := range rate * seconds {
		for c := range channels {
			v := int16(max(-1, min(1, sample(c, float64(i)/float64(rate)))) * 32767)
			switch format {
			case audio.WAVMuLaw:
				data.WriteByte(ulawEncode(v))
			case audio.WAVALaw:
				data.WriteByte(alawEncode(v))
			default:
				binary.Write(&data, binary.LittleEndian, v)
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(format), uint16(channels), uint32(rate),
		uint32(rate * channels * bits / 8), uint16(channels * bits / 8), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// ulawEncode and alawEncode are the G.711 compressors (ITU-T G.711).
func ulawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^byte(sign | exp<<4 | (v>>(exp+3))&0x0F)
}

func alawEncode(s int16) byte {
	v, sign := int(s)>>3, 0xD5
	if v < 0 {
		v, sign = -v-1, 0x55
	}
	seg := 0
	for lim := 0x1F; v > lim && seg < 8; lim = lim<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ sign)
	}
	m := v >> 1
	if seg > 0 {
		m = v >> seg
	}
	return byte((seg<<4 | m&0x0F) ^ sign)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/pbx/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedPCM decodes a call's stored audio with go-mp3: 16-bit stereo.
func storedPCM(t *testing.T, app *backend.App, callID string) ([][2]float64, int) {
	t.Helper()
	ctx := context.Background()
	a, _, err := app.Store().IngestedAudio(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.Blobs().Open(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d, err := mp3.NewDecoder(io.NewSectionReader(b, 0, b.Size()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][2]float64, len(raw)/4)
	for i := range out {
		out[i] = [2]float64{float64(int16(binary.LittleEndian.Uint16(raw[4*i:]))) / 32768,
			float64(int16(binary.LittleEndian.Uint16(raw[4*i+2:]))) / 32768}
	}
	return out, d.SampleRate()
}

// correlation is the best correlation of channel ch of got with want
// (sampled at rate), over the lags an encoder's delay can take.
func correlation(got [][2]float64, ch, rate int, want func(t float64) float64) float64 {
	best := -1.0
	for lag := 0; lag < rate/4; lag += 1 {
		var sxy, sxx, syy float64
		for i := 0; i+lag < len(got) && i < 2*rate; i += 2 {
			g, w := got[i+lag][ch], want(float64(i)/float64(rate))
			sxy += g * w
			sxx += g * g
			syy += w * w
		}
		if sxx > 0 && syy > 0 {
			best = max(best, sxy/math.Sqrt(sxx*syy))
		}
	}
	return best
}

// Every format PBXs write — G.711 µ-law and A-law WAV, 16-bit PCM WAV,
// Asterisk's WAV49 (GSM 6.10), 8 kHz MP3 (MPEG-2.5) — converts with either
// transcoder (except WAV49 with lame, refused saying why) and plays back
// the signal; without a transcoder each is refused with what is stored as
// it is and what would convert it, and nothing is left behind.
func TestPBXFormats(t *testing.T) {
	ctx := context.Background()
	mono := func(_ int, t float64) float64 { return twoTone(t) }
	formats := []struct {
		name, describe, help string
		data                 []byte
		lameCannot           bool
		minCorr              float64
	}{
		{"G.711 µ-law WAV", "WAV G.711 µ-law, 8000 Hz, mono", "ffmpeg or lame would convert it",
			wavOf(audio.WAVMuLaw, 8000, 1, 3, mono), false, 0.99},
		{"G.711 A-law WAV", "WAV G.711 A-law, 8000 Hz, mono", "ffmpeg or lame would convert it",
			wavOf(audio.WAVALaw, 8000, 1, 3, mono), false, 0.99},
		{"16-bit PCM WAV", "WAV 16-bit PCM, 8000 Hz, mono", "ffmpeg or lame would convert it",
			wavOf(audio.WAVPCM, 8000, 1, 3, mono), false, 0.99},
		{"WAV49 (GSM 6.10)", "WAV GSM 6.10 (WAV49), 8000 Hz, mono", "ffmpeg would convert it (lame cannot decode GSM 6.10 (WAV49))",
			fixture(t, "two-tone-wav49.wav"), true, 0.98},
		{"8 kHz MP3", "MPEG-2.5 at 8000 Hz (Layer III, mono)", "a transcoder would convert it",
			fixture(t, "two-tone-8k.mp3"), false, 0.99},
	}
	for _, tc := range []string{"", "ffmpeg", "lame"} {
		if tc != "" {
			if _, err := exec.LookPath(tc); err != nil {
				t.Logf("%s is not installed (.ci/run installs it): its cases are skipped", tc)
				continue
			}
		}
		name := tc
		if name == "" {
			name = "no transcoder"
		}
		t.Run(name, func(t *testing.T) {
			app, ing, dir := ingestApp(t, tc)
			want := 0
			for i, f := range formats {
				res, err := ing.Ingest(ctx, fixedMeta(strings.ReplaceAll(name, " ", "-")+"-"+itoa(i)), bytes.NewReader(f.data))
				msg := status.Convert(err).Message()
				switch {
				case tc == "":
					if status.Code(err) != codes.InvalidArgument || !strings.Contains(msg, f.describe) || !strings.Contains(msg, f.help) ||
						!strings.Contains(msg, "accepted as is (stored as they are): MPEG-1 Layer III") {
						t.Errorf("%s: %v\nwant InvalidArgument naming %q, saying %q and what is stored as it is", f.name, err, f.describe, f.help)
					}
				case tc == "lame" && f.lameCannot:
					if status.Code(err) != codes.InvalidArgument || !strings.Contains(msg, "cannot be converted by lame") ||
						!strings.Contains(msg, "ingest.transcoder: ffmpeg") {
						t.Errorf("%s with lame: %v; want a refusal saying lame cannot and ffmpeg can", f.name, err)
					}
				default:
					if err != nil || !res.Converted || res.Repair != "" {
						t.Errorf("%s: %+v, %v", f.name, res, err)
						continue
					}
					want++
					a, _, _ := app.Store().IngestedAudio(ctx, res.CallID)
					if a.SampleRate != audio.CanonicalRate || a.Channels != 1 || a.BitrateKbps != audio.CanonicalKbps {
						t.Errorf("%s stored at %d Hz, %d channels, %d kbps", f.name, a.SampleRate, a.Channels, a.BitrateKbps)
					}
					pcm, rate := storedPCM(t, app, res.CallID)
					c := correlation(pcm, 0, rate, twoTone)
					t.Logf("%s: stored %v, correlation with the signal %.4f (with a 500 Hz tone: %.4f)", f.name, a.Duration, c, correlation(pcm, 0, rate, func(t float64) float64 { return math.Sin(2 * math.Pi * 500 * t) }))
					if c < f.minCorr {
						t.Errorf("%s: plays back %.3f like the signal, want > %.2f", f.name, c, f.minCorr)
					}
				}
			}
			if n := storedAudio(t, app, dir); n != want {
				t.Errorf("%d recordings stored, want %d (refusals leave nothing)", n, want)
			}
		})
	}
}

// A two-party recording (one party per channel) keeps both parties apart:
// stored in the stereo canonical profile, with the peaks of each channel;
// a stereo file carrying one party twice is stored mono.
func TestTwoPartyRecording(t *testing.T) {
	ctx := context.Background()
	// Party 1 speaks (300 Hz) from 0.2 to 1.2 s, party 2 (1100 Hz) from
	// 1.6 to 2.6 s.
	party := func(ch int, t float64) float64 {
		switch {
		case ch == 0 && t >= 0.2 && t < 1.2:
			return 0.4 * math.Sin(2*math.Pi*300*t)
		case ch == 1 && t >= 1.6 && t < 2.6:
			return 0.3 * math.Sin(2*math.Pi*1100*t)
		}
		return 0
	}
	two := wavOf(audio.WAVPCM, 8000, 2, 3, party)
	same := wavOf(audio.WAVMuLaw, 8000, 2, 3, func(_ int, t float64) float64 { return twoTone(t) })
	for _, tc := range []string{"ffmpeg", "lame"} {
		if _, err := exec.LookPath(tc); err != nil {
			t.Logf("%s is not installed: skipped", tc)
			continue
		}
		t.Run(tc, func(t *testing.T) {
			app, ing, _ := ingestApp(t, tc)
			res, err := ing.Ingest(ctx, fixedMeta(tc+"-two"), bytes.NewReader(two))
			if err != nil || !res.Converted {
				t.Fatalf("two-party WAV: %+v, %v", res, err)
			}
			mono, err := ing.Ingest(ctx, fixedMeta(tc+"-same"), bytes.NewReader(same))
			if err != nil {
				t.Fatal(err)
			}
			keep(t, app) // the peaks are computed for the calls kept
			if a, wf, _ := app.Store().IngestedAudio(ctx, mono.CallID); a.Channels != 1 || wf.ChannelPeaks != nil || len(wf.Peaks) == 0 {
				t.Errorf("one party on two channels stored with %d channels, %d peak lines", a.Channels, len(wf.ChannelPeaks))
			}
			a, wf, _ := app.Store().IngestedAudio(ctx, res.CallID)
			if a.Channels != 2 || a.BitrateKbps != audio.CanonicalStereoKbps || len(wf.ChannelPeaks) != 2 {
				t.Fatalf("stored %d channels at %d kbps, %d peak lines", a.Channels, a.BitrateKbps, len(wf.ChannelPeaks))
			}
			at := func(p []byte, sec float64) byte { return p[int(sec*1000)/int(wf.Bucket.Milliseconds())] }
			if at(wf.ChannelPeaks[0], 0.7) < 60 || at(wf.ChannelPeaks[1], 0.7) > 3 || at(wf.ChannelPeaks[1], 2.1) < 60 || at(wf.ChannelPeaks[0], 2.1) > 3 {
				t.Errorf("the channel peaks do not say who speaks when")
			}
			pcm, rate := storedPCM(t, app, res.CallID)
			c1 := correlation(pcm, 0, rate, func(t float64) float64 { return party(0, t) })
			c2 := correlation(pcm, 1, rate, func(t float64) float64 { return party(1, t) })
			if c1 < 0.95 || c2 < 0.95 {
				t.Errorf("parties play back at %.3f and %.3f like their signals", c1, c2)
			}
		})
	}
}

// A recording a crash or a full disk cut short, with a stray byte after it
// or junk before it, is stored with what is valid; the call says it was
// repaired (the upload's answer, the stored audio info, the audit trail).
func TestRepairedRecordings(t *testing.T) {
	ctx := context.Background()
	good := clip(t)
	junkMid := append(append(bytes.Clone(good[:5000]), []byte("garbage in the middle of the stream")...), good[5000:]...)
	for _, c := range []struct {
		name, says string
		data       []byte
	}{
		{"last frame cut short", "a frame cut short", good[:len(good)-50]},
		{"stray trailing byte", "a stray byte", append(bytes.Clone(good), 0x5A)},
		{"junk before the first frame", "junk before the first frame", append(make([]byte, 300), good...)},
		{"junk in the middle", "left out", junkMid},
	} {
		t.Run(c.name, func(t *testing.T) {
			ext := "repaired-" + strings.ReplaceAll(c.name, " ", "-")
			resp, err := upload(t, metadataFor(ext), c.data)
			if err != nil || !strings.Contains(resp.GetRepair(), c.says) || resp.GetConverted() {
				t.Fatalf("upload: %v, %v; want it stored, repaired (%q)", resp, err, c.says)
			}
			a, _, err := env.app.Store().IngestedAudio(ctx, resp.GetCallId())
			if err != nil || a.Repair != resp.GetRepair() {
				t.Fatalf("stored repair %q, %v", a.Repair, err)
			}
			// What is stored is the valid frames: whole, and as long as
			// the original's but the damage.
			whole, _ := audio.Analyze(good)
			if d := whole.Index.Duration() - a.Duration; d < 0 || d > 40_000_000 /* 40 ms: one frame */ {
				t.Errorf("stored %v of a %v recording", a.Duration, whole.Index.Duration())
			}
			if ix := storedIndex(t, env.app, a.Key); len(ix.Offsets) == 0 || ix.Offsets[0] != 0 {
				t.Errorf("the repaired copy does not start with a frame: %v", ix.Offsets[:min(1, len(ix.Offsets))])
			}
			events := (&apEnv{conn: env.conn}).events(t, login(t, "dpo"), &ecoutev1.ListAuditEventsRequest{Action: "ingest.accepted"})
			found := false
			for _, e := range events {
				found = found || (e.GetTarget() == resp.GetCallId() && e.GetDetails()["repaired"] == resp.GetRepair())
			}
			if !found {
				t.Errorf("no audit entry of the repair for call %s", resp.GetCallId())
			}
		})
	}
	// A WAV cut short is repaired too, then converted.
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		app, ing, _ := ingestApp(t, "ffmpeg")
		w := wavOf(audio.WAVMuLaw, 8000, 1, 3, func(_ int, t float64) float64 { return twoTone(t) })
		res, err := ing.Ingest(ctx, fixedMeta("wav-cut"), bytes.NewReader(w[:len(w)-4001]))
		if err != nil || !res.Converted || !strings.Contains(res.Repair, "WAV data is cut short") {
			t.Fatalf("cut WAV: %+v, %v", res, err)
		}
		if a, _, _ := app.Store().IngestedAudio(ctx, res.CallID); a.Duration < 2400_000_000 || a.Repair != res.Repair {
			t.Errorf("cut WAV stored as %v, repair %q", a.Duration, a.Repair)
		}
	}
}

// Free-format MPEG audio (its frame size is not in its header) is read by
// lame, not ffmpeg: converted with the one, refused with the other saying
// which would do.
func TestFreeFormatNeedsLame(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../testdata/conformance/mp3/l3-he_free.bit")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []string{"lame", "ffmpeg"} {
		if _, err := exec.LookPath(tc); err != nil {
			t.Logf("%s is not installed: skipped", tc)
			continue
		}
		_, ing, _ := ingestApp(t, tc)
		res, err := ing.Ingest(ctx, fixedMeta("free-"+tc), bytes.NewReader(data))
		switch tc {
		case "lame":
			if err != nil || !res.Converted {
				t.Errorf("lame: %+v, %v", res, err)
			}
		default:
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "set ingest.transcoder: lame") {
				t.Errorf("ffmpeg: %v; want a refusal naming lame", err)
			}
		}
	}
}

// GetWaveform serves the peaks at the resolution asked for, over a time
// range, and the frame index by pages that put together make the whole
// index; wrong arguments get InvalidArgument or OutOfRange.
func TestGetWaveformWindowsAndPages(t *testing.T) {
	ctx := login(t, "supervisor")
	list, err := calls().ListCalls(ctx, &ecoutev1.ListCallsRequest{PageSize: 1, OrderBy: "duration desc"})
	if err != nil {
		t.Fatal(err)
	}
	id := list.Calls[0].CallId
	whole, err := calls().GetWaveform(ctx, &ecoutev1.GetWaveformRequest{CallId: id})
	if err != nil {
		t.Fatal(err)
	}
	i32 := func(v int32) *int32 { return &v }
	none := i32(0)
	// Ten buckets over the call: each the loudest of the stored ones.
	ten, err := calls().GetWaveform(ctx, &ecoutev1.GetWaveformRequest{CallId: id, Buckets: i32(10), FrameCount: none})
	if err != nil || len(ten.Peaks) > 10 || len(ten.Peaks) < 9 || len(ten.FrameOffsets) != 0 {
		t.Fatalf("ten buckets: %d peaks, %d offsets, %v", len(ten.GetPeaks()), len(ten.GetFrameOffsets()), err)
	}
	if slices.Max(ten.Peaks) != slices.Max(whole.Peaks) {
		t.Errorf("the loudest peak is lost: %d, was %d", slices.Max(ten.Peaks), slices.Max(whole.Peaks))
	}
	// A second, at the stored resolution, from where it starts.
	sec, err := calls().GetWaveform(ctx, &ecoutev1.GetWaveformRequest{CallId: id, FrameCount: none,
		From: durationpb.New(10 * time.Second), To: durationpb.New(11 * time.Second)})
	if err != nil || sec.From.AsDuration() != 10*time.Second || len(sec.Peaks) != 20 ||
		!bytes.Equal(sec.Peaks, whole.Peaks[200:220]) {
		t.Errorf("a second from 10 s: %d peaks from %v, %v", len(sec.GetPeaks()), sec.GetFrom().AsDuration(), err)
	}
	// The index by pages of 100 frames.
	var offs []int64
	for first := int32(0); first < whole.TotalFrames; first += 100 {
		p, err := calls().GetWaveform(ctx, &ecoutev1.GetWaveformRequest{CallId: id, Buckets: none, FirstFrame: first, FrameCount: i32(100)})
		if err != nil || len(p.Peaks) != 0 || p.FirstFrame != first {
			t.Fatalf("page at %d: %v", first, err)
		}
		offs = append(offs, p.FrameOffsets...)
	}
	if !slices.Equal(offs, whole.FrameOffsets) || int(whole.TotalFrames) != len(offs) {
		t.Errorf("the pages make %d offsets, the index has %d", len(offs), whole.TotalFrames)
	}
	for name, c := range map[string]struct {
		req  *ecoutev1.GetWaveformRequest
		code codes.Code
	}{
		"negative buckets":     {&ecoutev1.GetWaveformRequest{CallId: id, Buckets: i32(-1)}, codes.InvalidArgument},
		"negative frame count": {&ecoutev1.GetWaveformRequest{CallId: id, FrameCount: i32(-5)}, codes.InvalidArgument},
		"to before from": {&ecoutev1.GetWaveformRequest{CallId: id, From: durationpb.New(5 * time.Second),
			To: durationpb.New(2 * time.Second)}, codes.InvalidArgument},
		"first frame past the end": {&ecoutev1.GetWaveformRequest{CallId: id, FirstFrame: whole.TotalFrames + 1}, codes.OutOfRange},
	} {
		if _, err := calls().GetWaveform(ctx, c.req); code(err) != c.code {
			t.Errorf("%s: %v, want %v", name, err, c.code)
		}
	}
}

// storedIndex reads the frame index of the stored audio of key.
func storedIndex(t *testing.T, app *backend.App, key string) mp3frame.Index {
	t.Helper()
	b, err := app.Blobs().Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ix, err := mp3frame.Scan(io.NewSectionReader(b, 0, b.Size()))
	if err != nil {
		t.Fatalf("stored audio %s: %v", key, err)
	}
	return ix
}
