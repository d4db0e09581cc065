package player

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/gopxl/beep/v2"
)

// pitch measures the frequency of x (at rate) from its rising zero
// crossings, interpolated between samples, over the whole slice.
func pitch(x []float64, rate int) float64 {
	var first, last float64
	n := 0
	for i := 1; i < len(x); i++ {
		if x[i-1] < 0 && x[i] >= 0 {
			at := float64(i-1) + x[i-1]/(x[i-1]-x[i])
			if n == 0 {
				first = at
			}
			last = at
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) / ((last - first) / float64(rate))
}

// sine is a beep.Streamer of n samples of a tone.
func sine(freq float64, rate, n int) beep.Streamer {
	i := 0
	return beep.StreamerFunc(func(s [][2]float64) (int, bool) {
		if i >= n {
			return 0, false
		}
		k := min(len(s), n-i)
		for j := range k {
			v := 0.5 * math.Sin(2*math.Pi*freq*float64(i+j)/float64(rate))
			s[j] = [2]float64{v, v}
		}
		i += k
		return k, true
	})
}

// The stretcher alone, at every speed and at two rates: the pitch stays,
// the length follows the speed.
func TestStretcherKeepsPitch(t *testing.T) {
	for _, rate := range []int{16000, 44100} {
		for s := MinSpeed; s <= MaxSpeed; s += SpeedStep {
			if s == 1 {
				continue
			}
			n := 3 * rate
			st := newStretcher(sine(440, rate, n), rate, s)
			var out []float64
			buf := make([][2]float64, 1000)
			for {
				k, ok := st.Stream(buf)
				for _, v := range buf[:k] {
					out = append(out, v[0])
				}
				if !ok {
					break
				}
			}
			wantLen := float64(n) / s
			if d := math.Abs(float64(len(out))-wantLen) / wantLen; d > 0.02 {
				t.Errorf("rate %d speed %v: %d samples, want %.0f ±2%%", rate, s, len(out), wantLen)
			}
			mid := out[len(out)/10 : len(out)*9/10]
			if f := pitch(mid, rate); math.Abs(f-440)/440 > 0.01 {
				t.Errorf("rate %d speed %v: pitch %.2f Hz, want 440 ±1%%", rate, s, f)
			}
		}
	}
}

// Through the whole engine path (MP3 decode, stretch, resample to 48 kHz):
// at 1.5× the 440 Hz tone stays at 440 Hz ±1% and lasts 1/1.5 of the
// original ±2%; the position still ends at the recording's duration.
func TestSpeedOnePointFiveKeepsPitch(t *testing.T) {
	tr := openFixture(t, manualEngine(), "tone440.mp3")
	orig := tr.Duration()
	tr.SetSpeed(1.5)
	if tr.Speed() != 1.5 {
		t.Fatalf("speed %v", tr.Speed())
	}
	tr.Play()
	got := pullN(t, tr, 10*SampleRate)
	gotDur := time.Duration(len(got)) * time.Second / SampleRate
	want := time.Duration(float64(orig) / 1.5)
	if d := math.Abs(float64(gotDur-want)) / float64(want); d > 0.02 {
		t.Fatalf("played %v at 1.5×, want %v ±2%% (original %v)", gotDur, want, orig)
	}
	// The tone in the file starts after the encoder delay and stops at
	// 3 s; measure well inside it.
	mid := got[len(got)/10 : len(got)*9/10]
	f := pitch(mid, SampleRate)
	if math.Abs(f-440)/440 > 0.01 {
		t.Fatalf("pitch at 1.5× = %.2f Hz, want 440 ±1%%", f)
	}
	// Plain resampling would have given 660 Hz: the check above can fail.
	t.Logf("1.5×: %v of %v, pitch %.2f Hz", gotDur, orig, f)
	if ev := waitEvent(t, tr, EventEnded, time.Second); ev.Position < orig-50*time.Millisecond {
		t.Fatalf("ended at %v, want %v", ev.Position, orig)
	}
}

// Changing speed while playing keeps the position (decoding restarts where
// the listener is) and the position advances speed times faster.
func TestSpeedChangeKeepsPosition(t *testing.T) {
	tr := openFixture(t, manualEngine(), "tone440.mp3")
	tr.Play()
	pullN(t, tr, SampleRate/2)
	before := tr.Position()
	tr.SetSpeed(2)
	if d := (tr.Position() - before).Abs(); d > time.Millisecond {
		t.Fatalf("position jumped by %v on a speed change", d)
	}
	pullN(t, tr, SampleRate/2) // half a second of output: a second of recording
	if adv := tr.Position() - before; adv < 950*time.Millisecond || adv > 1050*time.Millisecond {
		t.Fatalf("at 2× half a second of output advanced the position by %v, want 1 s", adv)
	}
	for _, tc := range []struct{ in, want float64 }{{3, 2}, {0.1, 0.5}, {1.1, 1}, {1.2, 1.25}, {math.NaN(), 1}} {
		if got := ClampSpeed(tc.in); got != tc.want {
			t.Errorf("ClampSpeed(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Volume is a gain in dB applied at once; mute silences without stopping.
func TestVolumeAndMute(t *testing.T) {
	tr := openFixture(t, manualEngine(), "tone440.mp3")
	tr.Play()
	peak := func() float64 {
		var p float64
		for _, v := range pullN(t, tr, SampleRate/10) {
			p = max(p, math.Abs(v))
		}
		return p
	}
	pullN(t, tr, SampleRate/5) // past the encoder delay
	p0 := peak()
	tr.SetVolume(-6)
	p1 := peak()
	if r := 20 * math.Log10(p1/p0); math.Abs(r+6) > 0.1 {
		t.Fatalf("-6 dB gave %.2f dB", r)
	}
	tr.SetMuted(true)
	pos := tr.Position()
	if p := peak(); p != 0 || tr.Position() <= pos {
		t.Fatalf("muted: peak %v, position %v → %v", p, pos, tr.Position())
	}
	tr.SetMuted(false)
	tr.SetVolume(100)
	if tr.Volume() != MaxVolumeDB || tr.Muted() {
		t.Fatalf("volume %v muted %v", tr.Volume(), tr.Muted())
	}
}

// An A–B loop plays [A, B) again and again, without a gap in the output.
func TestABLoop(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	ref := goMP3Decode(t, data)
	bursts := onsets(ref, 0.05, 1600)
	tr := openFixture(t, manualEngine(), "markers.mp3")
	tr.Play()
	// Loop over the second burst: 1.2 s to 2.2 s.
	a, b := 1200*time.Millisecond, 2200*time.Millisecond
	tr.SetLoop(a, b)
	if la, lb, ok := tr.Loop(); !ok || la != a || lb != b {
		t.Fatalf("Loop() = %v %v %v", la, lb, ok)
	}
	got := pullN(t, tr, 3*SampleRate+SampleRate/2)
	if len(got) != 3*SampleRate+SampleRate/2 {
		t.Fatalf("loop output stopped after %d samples", len(got))
	}
	on := onsets(got, 0.05, SampleRate/10)
	if len(on) != 4 {
		t.Fatalf("heard %d bursts in 3.5 s of a 1 s loop, want 4 (at %v)", len(on), on)
	}
	want := time.Duration(bursts[1])*time.Second/16000 - a
	for i, k := range on {
		at := time.Duration(k)*time.Second/SampleRate - time.Duration(i)*(b-a)
		if d := (at - want).Abs(); d > 50*time.Millisecond {
			t.Fatalf("burst %d of the loop at %v into the loop, want %v", i, at, want)
		}
	}
	if p := tr.Position(); p < a || p >= b {
		t.Fatalf("position %v outside the loop", p)
	}
	tr.SetLoop(0, 0)
	if _, _, ok := tr.Loop(); ok {
		t.Fatal("loop still on")
	}
	pullN(t, tr, SampleRate)
	if tr.Position() < b {
		t.Fatalf("after clearing the loop the position stays at %v", tr.Position())
	}
}

// Silence jumps land just before each burst of markers.mp3, forward and
// back; gaps come from peaks computed on the spot for a local file.
func TestSkipSilence(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	ref := goMP3Decode(t, data)
	bursts := onsets(ref, 0.05, 1600)
	tr := openFixture(t, manualEngine(), "markers.mp3")
	// The first jump skips the leading silence.
	for i := range bursts {
		to, ok := tr.SkipSilence(true)
		want := time.Duration(bursts[i]) * time.Second / 16000
		if !ok || to > want || want-to > speechLead+60*time.Millisecond {
			t.Fatalf("jump %d: to %v (ok %v), want just before %v", i, to, ok, want)
		}
		if tr.Position() != to {
			t.Fatalf("position %v after jumping to %v", tr.Position(), to)
		}
	}
	if _, ok := tr.SkipSilence(true); ok {
		t.Fatal("jumped forward past the last burst")
	}
	tr.Seek(3 * time.Second)
	to, ok := tr.SkipSilence(false)
	want := time.Duration(bursts[1]) * time.Second / 16000
	if !ok || to > want || want-to > speechLead+60*time.Millisecond {
		t.Fatalf("back from 3 s: to %v, want just before %v", to, want)
	}
}

// Without peaks in Info, the silence jumps ask PeaksFunc (the server's
// full-resolution peaks, fetched once) rather than decoding the source.
func TestSkipSilenceAsksPeaksFunc(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	info := scanInfo(t, data)
	calls := 0
	info.PeaksFunc = func(context.Context) ([]byte, time.Duration, error) {
		calls++
		peaks := make([]byte, 80) // 4 s of 50 ms buckets: speech from 2.5 s
		for i := 50; i < 60; i++ {
			peaks[i] = 200
		}
		return peaks, 50 * time.Millisecond, nil
	}
	tr := mustOpen(t, &memSource{data: data}, info)
	to, ok := tr.SkipSilence(true)
	if !ok || to != 2500*time.Millisecond-speechLead {
		t.Fatalf("jump to %v (ok %v), want %v", to, ok, 2500*time.Millisecond-speechLead)
	}
	tr.SkipSilence(false)
	if calls != 1 {
		t.Errorf("PeaksFunc called %d times, want once", calls)
	}
}

func TestFindGaps(t *testing.T) {
	b := 50 * time.Millisecond
	speech := func(n int) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = 120
		}
		return out
	}
	var p []byte
	p = append(p, speech(20)...)
	p = append(p, make([]byte, 10)...) // 500 ms: a gap
	p = append(p, speech(20)...)
	p = append(p, make([]byte, 4)...) // 200 ms: a pause, not a gap
	p = append(p, speech(20)...)
	gaps := FindGaps(p, b)
	if len(gaps) != 1 || gaps[0] != (Gap{Start: time.Second, End: 1500 * time.Millisecond}) {
		t.Fatalf("gaps %v", gaps)
	}
}

// Seeking at 1.5× lands as accurately as at 1×: each burst of markers.mp3
// is heard within 50 ms of where go-mp3 puts it (in recording time).
func TestSeekAccuracyAtSpeed(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	ref := goMP3Decode(t, data)
	bursts := onsets(ref, 0.05, 1600)
	tr := openFixture(t, manualEngine(), "markers.mp3")
	tr.SetSpeed(1.5)
	tr.Play()
	for i, b := range bursts {
		want := time.Duration(b) * time.Second / 16000
		pullN(t, tr, 4800)
		at := want - 300*time.Millisecond
		tr.Seek(at)
		got := pullN(t, tr, SampleRate/2)
		k := onset(got, 0.05)
		if k < 0 {
			t.Fatalf("burst %d: nothing heard after seeking to %v", i, at)
		}
		heard := at + time.Duration(float64(k)*1.5*float64(time.Second)/SampleRate)
		if d := (heard - want).Abs(); d > 50*time.Millisecond {
			t.Fatalf("burst %d heard at %v, want %v (off by %v)", i, heard, want, d)
		}
	}
}

// A stereo recording is two parties: each can be muted and the balance
// weighs them, each staying on its own channel. A mono recording is one
// party: the party controls leave it alone.
func TestPartiesBalanceAndMute(t *testing.T) {
	tr := openFixture(t, manualEngine(), "stereo44.mp3")
	if tr.Parties() != 2 {
		t.Fatalf("stereo recording: %d parties", tr.Parties())
	}
	tr.Play()
	full := pullStereo(t, tr, SampleRate/4)
	tr.Seek(0)
	tr.SetPartyMuted(0, true)
	tr.SetBalance(0.5) // toward party 2: party 1 at 50 %, party 2 full
	muted := pullStereo(t, tr, SampleRate/4)
	for i := range muted {
		if muted[i][0] != 0 || math.Abs(muted[i][1]-full[i][1]) > 1e-12 {
			t.Fatalf("sample %d: %v with party 1 muted, %v in full", i, muted[i], full[i])
		}
	}
	tr.Seek(0)
	tr.SetPartyMuted(0, false)
	half := pullStereo(t, tr, SampleRate/4)
	for i := range half {
		if math.Abs(half[i][0]-full[i][0]/2) > 1e-12 || math.Abs(half[i][1]-full[i][1]) > 1e-12 {
			t.Fatalf("sample %d: %v at balance 0.5, %v in full", i, half[i], full[i])
		}
	}
	if b := tr.Balance(); b != 0.5 || tr.PartyMuted(0) {
		t.Errorf("balance %v, party 1 muted %v", b, tr.PartyMuted(0))
	}
	mono := openFixture(t, manualEngine(), "sweep.mp3")
	mono.SetPartyMuted(1, true)
	mono.Play()
	if mono.Parties() != 1 {
		t.Fatalf("mono recording: %d parties", mono.Parties())
	}
	for _, s := range pullStereo(t, mono, SampleRate/10) {
		if s[0] != s[1] {
			t.Fatalf("mono recording with a party muted plays %v", s)
		}
	}
}

// pullStereo is pullN for both channels.
func pullStereo(t testing.TB, tr *track, n int) [][2]float64 {
	t.Helper()
	out := make([][2]float64, 0, n)
	buf := make([][2]float64, 480)
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n {
		clear(buf)
		k := tr.mix(buf[:min(len(buf), n-len(out))])
		out = append(out, buf[:k]...)
		if k == 0 {
			if !tr.Playing() || time.Now().After(deadline) {
				t.Fatalf("%d of %d samples", len(out), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return out
}
