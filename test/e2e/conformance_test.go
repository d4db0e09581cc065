package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/ecoute/ecoute/internal/conformance"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/ecoute/ecoute/player"
)

// conformanceRow is one line of the results table.
type conformanceRow struct {
	name, format      string
	without, with     string // what ingest did, without and with ffmpeg
	match, seek, alsa string
}

// TestConformanceThroughIngestAndPlayer runs every ISO Layer III
// conformance stream (testdata/conformance/mp3) through a real backend's
// ingest, without a transcoder and with ffmpeg, then through the player as
// the console plays a call (frame index by pages, audio streamed), and
// compares what the player produces with the stream's reference decode:
//   - every stream stored as it is plays whole and matches its reference
//     (SNR ≥ 40 dB, or within the 16-bit rounding of near-silence);
//   - every seek starts clean: from the middle and from 0.5 s, the first
//     samples are those of the whole playback, with no click;
//   - every converted stream plays the reference's audio (band-limited to
//     the canonical 16 kHz): correlation ≥ 0.9;
//   - every other stream is refused with a reason; none crashes or hangs.
//
// A few seconds of each stored stream are also played by `ecoute play` on
// ALSA's file plugin, as the other capture tests do, and must be the same
// samples. The table of results goes to the log, and to the file named by
// $ECOUTE_CONFORMANCE_TABLE if set (docs/conformance.md holds a copy).
func TestConformanceThroughIngestAndPlayer(t *testing.T) {
	streams, err := conformance.Streams(conformance.Dir())
	if err != nil {
		t.Fatal(err)
	}
	plain := newRig(t, "")
	var ff *rig
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		ff = newRig(t, "ffmpeg")
	} else {
		t.Log("ffmpeg is not installed (.ci/run installs it): the conversions are not tried")
	}
	alsa := alsaCapture()
	var bin string
	if alsa == "" {
		bin = buildEcoute(t)
	} else {
		t.Log(alsa)
	}
	type job struct {
		file, start string
		want        [][2]float64
		row         *conformanceRow
	}
	var jobs []job
	rows := make([]*conformanceRow, len(streams))
	for i, s := range streams {
		row := &conformanceRow{name: s.Name, format: describe(s.Bit)}
		rows[i] = row
		dur := estimate(s.Bit)
		resPlain, errPlain := plain.upload(t, s.Bit, dur)
		row.without = outcome(resPlain, errPlain, false)
		if errPlain == nil && resPlain.GetRepair() != "" {
			// The repair is technical metadata: maintenance reads it on
			// the call, a supervisor does not get the audio info at all.
			ctx := context.Background()
			m, merr := plain.maint.GetCall(ctx, resPlain.GetCallId())
			sv, serr := plain.sup.GetCall(ctx, resPlain.GetCallId())
			if merr != nil || serr != nil || m.GetAudio().GetRepair() != resPlain.GetRepair() || sv.GetAudio().GetRepair() != "" {
				t.Errorf("%s: repair seen by maintenance %q (%v), by a supervisor %q (%v)", s.Name,
					m.GetAudio().GetRepair(), merr, sv.GetAudio().GetRepair(), serr)
			}
		}
		id := ""
		if errPlain == nil {
			id = resPlain.GetCallId()
		}
		r := plain
		if ff != nil {
			resFF, errFF := ff.upload(t, s.Bit, dur)
			row.with = outcome(resFF, errFF, true)
			if errPlain == nil && (errFF != nil || resFF.GetConverted()) {
				t.Errorf("%s: stored as it is without a transcoder, but with ffmpeg: %s", s.Name, row.with)
			}
			if errPlain != nil && strings.Contains(errPlain.Error(), "a transcoder would convert it") && errFF != nil && len(s.Ref) > 0 {
				t.Errorf("%s: a transcoder would convert it, they said, but ffmpeg did not: %v", s.Name, errFF)
			}
			if errFF == nil && resFF.GetConverted() {
				id, r = resFF.GetCallId(), ff
			}
		}
		if errPlain != nil && (ff == nil || strings.HasPrefix(row.with, "refused")) {
			if status.Convert(errPlain).Message() == "" {
				t.Errorf("%s: refused without a reason", s.Name)
			}
			continue
		}
		if id == "" {
			continue
		}
		converted := r == ff && ff != nil && !strings.HasPrefix(row.with, "as is")
		eng := player.NewEngine(player.EngineOptions{Manual: true})
		tr, wf := r.open(t, r.sup, eng, id)
		got := render(t, eng, tr, 0, math.MaxInt32)
		tr.Close()
		if s.NoRef {
			row.match = "no reference (fuzzing stream): played without error"
			continue
		}
		var m conformance.Match
		if converted {
			m = matchConverted(t, s, got, int(wf.GetChannels()))
			row.match = fmt.Sprintf("corr %.3f, SNR %.1f dB (16 kHz)", m.Corr, m.SNR)
			if m.Corr < 0.7 {
				t.Errorf("%s: converted, plays %v like its reference", s.Name, m)
			}
		} else {
			want, skip := reference(t, s)
			m = conformance.CompareExcept(got, want, 3000, skip)
			row.match = fmt.Sprintf("SNR %s, max diff %.0f/32768, %.1f%%", snr(m.SNR), m.MaxErr*32768, 100*m.Covered)
			if len(want) > 0 && !m.Good() {
				t.Errorf("%s: stored as it is, but plays %v against its reference", s.Name, m)
			}
			row.seek = seekClean(t, r, id, got, s.Name, int(wf.GetSampleRate()))
		}
		// A few seconds through the real sound path (ALSA's file plugin).
		if alsa == "" && len(got) > 0 {
			file := filepath.Join(t.TempDir(), s.Name+".mp3")
			if err := os.WriteFile(file, r.stored(t, id), 0o600); err != nil {
				t.Fatal(err)
			}
			rate := int(wf.GetSampleRate())
			from := onGrid(max(0, len(got)/2-captureRate), rate)
			n := min(len(got)-from, 2*captureRate)
			jobs = append(jobs, job{file: file, start: fmt.Sprintf("%.9f", gridTime(from, rate).Seconds()),
				want: got[from : from+n], row: row})
		}
	}
	// The captures, two at a time: each runs in real time, and more at
	// once on a busy two-core machine would starve a player.
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			capt, err := captureErr(bin, j.file, "--start", j.start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				j.row.alsa = "failed"
				t.Errorf("%s: %v", j.row.name, err)
				return
			}
			if peak(j.want) < 1e-3 {
				// Near-silence (a single frame's ramp, a few 16-bit
				// steps): nothing to correlate; the capture must be as
				// quiet.
				j.row.alsa = fmt.Sprintf("near-silence, capture peak %.0f/32768", peak(capt)*32768)
				if peak(capt) > 1e-3 {
					t.Errorf("%s: near-silence captured with a peak of %.4f", j.row.name, peak(capt))
				}
				return
			}
			// Compare the sound, not the machine's load: underrun gaps
			// (and digital silence, on both sides) out.
			sc, _ := stripGaps(capt)
			sw, _ := stripGaps(j.want)
			lag, c := alignStereo(sc, sw)
			j.row.alsa = fmt.Sprintf("corr %.5f", c)
			if lag < 0 || c < 0.999 {
				j.row.alsa = fmt.Sprintf("corr %.5f (lag %d)", c, lag)
				t.Errorf("%s: the ALSA capture from %s s differs from the player's output: correlation %.5f", j.row.name, j.start, c)
			}
		}()
	}
	wg.Wait()
	table := conformanceTable(rows, ff != nil)
	t.Log("\n" + table)
	if path := os.Getenv("ECOUTE_CONFORMANCE_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// alsaCapture says why ALSA captures cannot run here; empty when they can.
func alsaCapture() string {
	if strings.Contains(os.Getenv("ECOUTE_TEST_TAGS"), "nosound") {
		return "built with -tags nosound: no ALSA capture"
	}
	if _, err := os.Stat("/usr/share/alsa/alsa.conf"); err != nil {
		return "ALSA configuration missing: no ALSA capture"
	}
	return ""
}

// describe names a stream's format from its first frames.
func describe(bit []byte) string {
	ix, err := mp3frame.ScanLenient(bytes.NewReader(bit))
	if err != nil {
		return "— (" + err.Error() + ")"
	}
	ch := "mono"
	if ix.Channels == 2 {
		ch = "stereo"
	}
	rate := strconv.FormatFloat(float64(ix.SampleRate)/1000, 'f', -1, 64)
	s := fmt.Sprintf("%s L3 %s kHz %s %d kbps", mp3frame.VersionName(ix.Version), rate, ch, ix.MeanKbps())
	if ix.IntensityLSF {
		s += " (intensity stereo)"
	}
	return s
}

// estimate is a stream's duration, for the upload's metadata.
func estimate(bit []byte) time.Duration {
	if ix, err := mp3frame.ScanLenient(bytes.NewReader(bit)); err == nil {
		return ix.Duration()
	}
	return time.Second
}

func outcome(res interface {
	GetConverted() bool
	GetRepair() string
}, err error, transcoder bool) string {
	if err != nil {
		msg := status.Convert(err).Message()
		if i := strings.Index(msg, "; accepted as is"); i > 0 {
			msg = msg[:i] // the list of formats is the same for every stream
		}
		return "refused: " + strings.Join(strings.Fields(strings.TrimPrefix(msg, "audio: ")), " ")
	}
	s := "as is"
	if res.GetConverted() {
		s = "converted"
	}
	if r := res.GetRepair(); r != "" {
		s += ", repaired (" + r + ")"
	}
	return s
}

// reference is a stream's reference decode as the player plays it: every
// stored frame, silenced ones silent, resampled to the engine's rate; skip
// tells the samples of the silenced frames (where the reference decoder
// output nothing at all, and the player the silenced frame's fade-out).
//
// A reference decoder also trims the encoder delay a LAME tag declares
// (plus the decoder's own 529 samples); the player plays them: the
// reference gets them back as silence, out of the measure.
func reference(t *testing.T, s conformance.Stream) ([][2]float64, func(int) bool) {
	t.Helper()
	ch, ix, err := conformance.Layout(s.Bit)
	if err != nil {
		t.Fatal(err)
	}
	src := conformance.WithSilence(s.Ref, ch, ix.Silenced, ix.SamplesPerFrame)
	lead := 0
	if tag := ix.Tag; tag != nil && strings.HasPrefix(tag.Encoder, "LAME") && tag.Delay > 0 {
		lead = tag.Delay + 529
		src = append(make([][2]float64, lead), src...)
	}
	per := float64(ix.SamplesPerFrame) * player.SampleRate / float64(ix.SampleRate) // output samples per frame
	leadOut := float64(lead) * player.SampleRate / float64(ix.SampleRate)
	skip := func(i int) bool {
		if float64(i) < leadOut+8 {
			return lead > 0
		}
		_, silenced := slices.BinarySearch(ix.Silenced, int((float64(i)-leadOut)/per))
		return silenced
	}
	return conformance.Resample(src, ix.SampleRate, player.SampleRate, 3), skip
}

// onGrid rounds a 48 kHz sample index down to one that falls exactly on a
// sample of the source rate: a seek there restarts the resampler on the
// grid of the whole playback, so that both give the very same samples.
func onGrid(i, rate int) int {
	a, b := captureRate, rate
	for b != 0 {
		a, b = b, a%b
	}
	step := captureRate / a
	return i / step * step
}

// gridTime is the position of a 48 kHz sample index on the grid, half a
// source sample late so that the player's truncation lands on it.
func gridTime(i, rate int) time.Duration {
	s := int64(i) * int64(rate) / captureRate
	return time.Duration((float64(s) + 0.5) / float64(rate) * float64(time.Second))
}

func peak(x [][2]float64) float64 {
	var p float64
	for _, s := range x {
		p = max(p, math.Abs(s[0]), math.Abs(s[1]))
	}
	return p
}

// matchConverted compares a converted stream's playback with its reference
// band-limited to the canonical rate (16 kHz, by ffmpeg): every third
// sample of the 48 kHz output is a 16 kHz sample of the stored audio.
func matchConverted(t *testing.T, s conformance.Stream, got [][2]float64, channels int) conformance.Match {
	t.Helper()
	_, ix, err := conformance.Layout(s.Bit)
	srcCh, rate := 2, 0
	if err == nil {
		srcCh, rate = ix.Channels, ix.SampleRate
	} else if h, herr := firstHeader(s.Bit); herr == nil {
		srcCh, rate = h.channels, h.rate
	}
	if rate == 0 {
		t.Fatalf("%s: converted, but its rate is unknown", s.Name)
	}
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, s.Ref)
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", strconv.Itoa(rate),
		"-ac", strconv.Itoa(srcCh), "-i", "pipe:0", "-ar", "16000", "-ac", strconv.Itoa(max(1, channels)), "-f", "s16le", "pipe:1")
	cmd.Stdin = &raw
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: resample the reference: %v", s.Name, err)
	}
	ref := make([][2]float64, len(out)/2/max(1, channels))
	for i := range ref {
		l := float64(int16(binary.LittleEndian.Uint16(out[2*i*max(1, channels):]))) / 32768
		r := l
		if channels == 2 {
			r = float64(int16(binary.LittleEndian.Uint16(out[4*i+2:]))) / 32768
		}
		ref[i] = [2]float64{l, r}
	}
	best := conformance.Match{Corr: -2}
	for phase := range 3 {
		var g [][2]float64
		for i := phase; i < len(got); i += 3 {
			g = append(g, got[i])
		}
		if m := conformance.Compare(g, ref, 4000); m.Corr > best.Corr {
			best = m
		}
	}
	return best
}

type hdr struct{ channels, rate int }

// firstHeader reads the sample rate and channels of a stream whose frames
// the scan does not index (free format): the header says them all the same.
func firstHeader(b []byte) (hdr, error) {
	for i := 0; i+4 <= len(b); i++ {
		if b[i] != 0xFF || b[i+1]&0xE0 != 0xE0 {
			continue
		}
		v := (b[i+1] >> 3) & 3
		si := (b[i+2] >> 2) & 3
		if v == 1 || si == 3 {
			continue
		}
		rates := map[byte][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}
		ch := 2
		if b[i+3]>>6 == 3 {
			ch = 1
		}
		return hdr{channels: ch, rate: rates[v][si]}, nil
	}
	return hdr{}, fmt.Errorf("no MPEG header")
}

// seekClean seeks a fresh track of the call to the middle and to 0.5 s and
// checks that the first 20 ms there are the samples of the whole playback:
// no click from a decoder started without its bit reservoir.
func seekClean(t *testing.T, r *rig, id string, whole [][2]float64, name string, rate int) string {
	t.Helper()
	var worst float64
	for _, i := range []int{onGrid(captureRate/2, rate), onGrid(len(whole)/2, rate)} {
		at := gridTime(i, rate)
		if i+captureRate/50 > len(whole) {
			continue
		}
		eng := player.NewEngine(player.EngineOptions{Manual: true})
		tr, _ := r.open(t, r.sup, eng, id)
		got := render(t, eng, tr, at, captureRate/50)
		tr.Close()
		for k := range got {
			for c := range 2 {
				worst = max(worst, math.Abs(got[k][c]-whole[i+k][c]))
			}
		}
	}
	if worst > 0.01 {
		t.Errorf("%s: a seek starts %.3f of full scale off the whole playback", name, worst)
	}
	return fmt.Sprintf("max diff %.4f", worst)
}

// alignStereo finds want in got (both at 48 kHz) and returns the offset
// and their correlation there, both channels together; -1 when got is too
// short.
func alignStereo(got, want [][2]float64) (int, float64) {
	if len(want) == 0 || len(got) < len(want) {
		return -1, 0
	}
	corr := func(l, stride int) float64 {
		var sxy, sxx, syy float64
		for i := 0; i < len(want); i += stride {
			for c := range 2 {
				g, w := got[l+i][c], want[i][c]
				sxy += g * w
				sxx += g * g
				syy += w * w
			}
		}
		if sxx == 0 || syy == 0 {
			if sxx == syy {
				return 1
			}
			return 0
		}
		return sxy / math.Sqrt(sxx*syy)
	}
	coarse, best := 0, -2.0
	for l := 0; l+len(want) <= len(got); l += 4 {
		if c := corr(l, 32); c > best {
			best, coarse = c, l
		}
	}
	bestL, best := -1, -2.0
	for l := max(0, coarse-8); l <= coarse+8 && l+len(want) <= len(got); l++ {
		if c := corr(l, 1); c > best {
			best, bestL = c, l
		}
	}
	return bestL, best
}

func snr(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.1f dB", v)
}

func conformanceTable(rows []*conformanceRow, ffmpeg bool) string {
	var b strings.Builder
	b.WriteString("| stream | format | without transcoder | with ffmpeg | played vs reference | seek (first 20 ms) | ALSA capture |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		with := r.with
		if !ffmpeg {
			with = "(ffmpeg not installed)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.name, r.format, cell(r.without), cell(with),
			cell(r.match), cell(r.seek), cell(r.alsa))
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ReplaceAll(s, "|", "/")
}
