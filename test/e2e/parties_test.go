package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoute/ecoute/player"
)

// party is the two-party test call: party 1 (left) speaks at 300 Hz from
// 0.2 to 1.2 s and from 2.0 to 3.0 s, party 2 (right) at 1100 Hz from 1.0
// to 2.4 s: they talk over each other from 1.0 to 1.2 and 2.0 to 2.4 s.
func party(ch int, t float64) float64 {
	switch {
	case ch == 0 && (t >= 0.2 && t < 1.2 || t >= 2.0 && t < 3.0):
		return 0.4 * math.Sin(2*math.Pi*300*t)
	case ch == 1 && t >= 1.0 && t < 2.4:
		return 0.3 * math.Sin(2*math.Pi*1100*t)
	}
	return 0
}

// twoPartyWAV is the call as a PBX records it: 16-bit PCM WAV, 8 kHz, one
// party per channel.
func twoPartyWAV() []byte {
	const rate, seconds = 8000, 3.5
	n := int(rate * seconds)
	var data bytes.Buffer
	for i := range n {
		t := float64(i) / rate
		binary.Write(&data, binary.LittleEndian, [2]int16{int16(party(0, t) * 32767), int16(party(1, t) * 32767)})
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(rate), uint32(rate * 4), uint16(4), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// energy is the mean square of channel ch of x over [from, to) seconds at
// 48 kHz.
func energy(x [][2]float64, ch int, from, to float64) float64 {
	a, b := int(from*captureRate), min(len(x), int(to*captureRate))
	var e float64
	for _, s := range x[a:max(a, b)] {
		e += s[ch] * s[ch]
	}
	return e / float64(max(1, b-a))
}

// TestTwoPartyCallWithOnePartyMuted ingests a two-party recording (one
// party per channel) through a real backend with a transcoder: it is kept
// in stereo, its waveform has a line per party, and the console's player
// plays the parties apart. With party 2 muted — in the console's player and
// in `ecoute play --mute-party 2` on ALSA's file plugin — the right channel
// is silent throughout, even where party 2 talks over party 1, and party 1
// plays as it was recorded; unmuted, party 2 is heard.
func TestTwoPartyCallWithOnePartyMuted(t *testing.T) {
	tc := "ffmpeg"
	if _, err := exec.LookPath(tc); err != nil {
		if _, err := exec.LookPath("lame"); err != nil {
			t.Skip("neither ffmpeg nor lame is installed (.ci/run installs them)")
		}
		tc = "lame"
	}
	r := newRig(t, tc)
	resp, err := r.upload(t, twoPartyWAV(), 3500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetCallId()
	ctx := context.Background()
	if call, err := r.maint.GetCall(ctx, id); err != nil || call.GetAudio().GetChannels() != 2 {
		t.Fatalf("stored audio: %v, %v; want two channels", call.GetAudio(), err)
	}
	eng := player.NewEngine(player.EngineOptions{Manual: true})
	tr, wf := r.open(t, r.sup, eng, id)
	if wf.GetChannels() != 2 || len(wf.GetChannelPeaks()) != 2 {
		t.Fatalf("waveform: %d channels, %d peak lines; want one per party", wf.GetChannels(), len(wf.GetChannelPeaks()))
	}
	ctl := tr.(player.Controls)
	if ctl.Parties() != 2 {
		t.Fatalf("the player sees %d parties", ctl.Parties())
	}
	both := render(t, eng, tr, 0, math.MaxInt32)
	ctl.SetPartyMuted(1, true)
	muted := render(t, eng, tr, time.Nanosecond, math.MaxInt32)
	tr.Seek(0)
	check := func(name string, x [][2]float64, rightHeard bool) {
		t.Helper()
		// Party 1 alone, party 2 alone (unless muted), both at once.
		if e := energy(x, 0, 0.4, 0.9); e < 0.05 {
			t.Errorf("%s: party 1 not heard (energy %.4f)", name, e)
		}
		if e := energy(x, 1, 1.4, 1.9); rightHeard && e < 0.02 {
			t.Errorf("%s: party 2 not heard (energy %.4f)", name, e)
		}
		if !rightHeard {
			var p float64
			for _, s := range x {
				p = max(p, math.Abs(s[1]))
			}
			if p != 0 {
				t.Errorf("%s: party 2 muted, yet its channel peaks at %.5f", name, p)
			}
		}
		if e := energy(x, 0, 1.4, 1.9); e > 1e-4 {
			t.Errorf("%s: party 2 leaks into party 1's channel (energy %.6f)", name, e)
		}
	}
	check("console, both parties", both, true)
	check("console, party 2 muted", muted, false)

	if why := alsaCapture(); why != "" {
		t.Log(why)
		return
	}
	bin := buildEcoute(t)
	file := filepath.Join(t.TempDir(), "two-party.mp3")
	if err := os.WriteFile(file, r.stored(t, id), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		want  [][2]float64
		muted bool
	}{{"ALSA, party 2 muted", []string{"--mute-party", "2", file}, muted, true}, {"ALSA, both parties", []string{file}, both, false}} {
		capt := capture(t, bin, c.args...)
		// What the console's player produced, whatever the device's
		// start-up delay (and a busy machine's underruns: gaps out).
		sc, _ := stripGaps(capt)
		sw, _ := stripGaps(c.want)
		if lag, corr := alignStereo(sc, sw); lag < 0 || corr < 0.999 {
			t.Errorf("%s: the capture is not what the player produced (lag %d, correlation %.4f)", c.name, lag, corr)
		}
		var right float64
		for _, s := range capt {
			right = max(right, math.Abs(s[1]))
		}
		if c.muted && right != 0 {
			t.Errorf("%s: party 2 muted, yet the right channel peaks at %.5f", c.name, right)
		}
		if !c.muted && right < 0.1 {
			t.Errorf("%s: party 2 not heard on the right channel (peak %.4f)", c.name, right)
		}
	}
}
