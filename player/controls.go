package player

import (
	"context"
	"math"
	"time"
)

// Volume limits and step. Calls are often recorded quietly, hence room to
// amplify; the engine clips the mix at full scale.
const (
	MinVolumeDB  = -30.0
	MaxVolumeDB  = 12.0
	VolumeStepDB = 3.0
)

// BalanceStep is the step of SetBalance: 0.25 (-12 dB on the other party at
// the first step, 0 at the fourth).
const BalanceStep = 0.25

// MinLoop is the shortest A–B loop: shorter ones would spend their time
// restarting the decoder.
const MinLoop = 200 * time.Millisecond

var _ Controls = (*track)(nil)

func (t *track) SetSpeed(s float64) {
	s = ClampSpeed(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || s == t.speed {
		return
	}
	t.speed = s
	// The buffered chunks were stretched for the old speed: decode again
	// from what is being heard now.
	if !t.ended {
		t.restart(t.pos)
	}
}

func (t *track) Speed() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.speed
}

func (t *track) SetVolume(db float64) {
	if math.IsNaN(db) {
		return
	}
	db = min(MaxVolumeDB, max(MinVolumeDB, db))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.volDB, t.gain = db, math.Pow(10, db/20)
}

func (t *track) Volume() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.volDB
}

func (t *track) SetMuted(m bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.muted = m
}

func (t *track) Muted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.muted
}

func (t *track) SetLoop(a, b time.Duration) {
	a = min(max(a, 0), t.Duration())
	b = min(max(b, 0), t.Duration())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if b <= a {
		if t.loopB > t.loopA {
			t.loopA, t.loopB = 0, 0
			if !t.ended {
				t.restart(t.pos)
			}
		}
		return
	}
	if b-a < MinLoop {
		b = min(a+MinLoop, t.Duration())
		a = b - MinLoop
	}
	rate := float64(t.info.SampleRate)
	t.loopA = int64(a.Seconds() * rate)
	t.loopB = int64(b.Seconds() * rate)
	at := t.pos
	if at < float64(t.loopA) || at >= float64(t.loopB) {
		at = float64(t.loopA)
	}
	t.restart(at)
}

func (t *track) Loop() (a, b time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.loopB <= t.loopA {
		return 0, 0, false
	}
	rate := t.info.SampleRate
	return sourceTime(float64(t.loopA), rate), sourceTime(float64(t.loopB), rate), true
}

// speechLead is how long before speech resumes a silence jump lands, so
// the first syllable is not clipped.
const speechLead = 150 * time.Millisecond

// backSlack: a backward jump skips a phrase start this close behind the
// position, so that pressing it again goes further back.
const backSlack = time.Second

func (t *track) SkipSilence(forward bool) (time.Duration, bool) {
	gaps, err := t.silences()
	if err != nil {
		return t.Position(), false
	}
	pos := t.Position()
	var to time.Duration
	found := false
	if forward {
		for _, g := range gaps {
			if at := max(0, g.End-speechLead); at > pos+speechLead/3 {
				to, found = at, true
				break
			}
		}
	} else {
		for i := len(gaps) - 1; i >= 0; i-- {
			if at := max(0, gaps[i].End-speechLead); at < pos-backSlack {
				to, found = at, true
				break
			}
		}
		if !found && pos > backSlack {
			to, found = 0, true
		}
	}
	if !found {
		return pos, false
	}
	t.Seek(to)
	return to, true
}

// silences returns the track's silence gaps, from the peaks in Info, else
// from Info.PeaksFunc (the server's, fetched once), else by decoding the
// source once (a local file).
func (t *track) silences() ([]Gap, error) {
	t.gapsOnce.Do(func() {
		peaks, bucket := t.info.Peaks, t.info.PeakBucket
		if peaks == nil || bucket <= 0 {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-t.done:
					cancel()
				case <-ctx.Done():
				}
			}()
			if t.info.PeaksFunc != nil {
				peaks, bucket, t.gapsErr = t.info.PeaksFunc(ctx)
			} else {
				bucket = defaultPeakBucket
				peaks, t.gapsErr = computePeaks(ctx, t.src, t.info, bucket)
			}
			cancel()
		}
		t.gaps = FindGaps(peaks, bucket)
	})
	return t.gaps, t.gapsErr
}

func (t *track) SetBalance(b float64) {
	if math.IsNaN(b) {
		return
	}
	b = min(1, max(-1, math.Round(b/BalanceStep)*BalanceStep))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.balance = b
	t.setPartyGains()
}

func (t *track) Balance() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.balance
}

func (t *track) SetPartyMuted(party int, muted bool) {
	if party < 0 || party > 1 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partyMuted[party] = muted
	t.setPartyGains()
}

func (t *track) PartyMuted(party int) bool {
	if party < 0 || party > 1 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.partyMuted[party]
}

func (t *track) Parties() int {
	if t.info.Channels == 2 {
		return 2
	}
	return 1
}

// setPartyGains computes the per-channel gains of a two-party recording
// from the balance and the mutes; mu is held. A one-party recording plays
// both channels (go-mp3 copies mono to both) whatever they say.
func (t *track) setPartyGains() {
	if t.Parties() != 2 {
		t.party = [2]float64{1, 1}
		return
	}
	t.party = [2]float64{min(1, 1-t.balance), min(1, 1+t.balance)}
	for i, m := range t.partyMuted {
		if m {
			t.party[i] = 0
		}
	}
}
