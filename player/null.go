package player

import (
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

// nullTick is how often the null output wakes up. It bounds how late an
// EventFirstSample can be, so keep it well under the 100 ms a user notices.
const nullTick = 5 * time.Millisecond

// nullMaxCatchUp caps the samples pulled in one tick. When the clock jumps
// (a suspended laptop, a fake clock moved by an hour) the null output
// behaves like a device that was stalled, instead of decoding the jump.
const nullMaxCatchUp = time.Second

// nullOutput pulls samples and throws them away at the pace of the clock,
// so that positions advance over SSH and in CI as they would on a speaker.
type nullOutput struct {
	done chan struct{}
	quit chan struct{}
}

func startNull(c clock.Clock, pull func([][2]float64)) *nullOutput {
	n := &nullOutput{done: make(chan struct{}), quit: make(chan struct{})}
	// Read the start time here, not in the goroutine: time that passes
	// before it is scheduled is owed too.
	go n.run(c, c.Now(), pull)
	return n
}

func (n *nullOutput) run(c clock.Clock, last time.Time, pull func([][2]float64)) {
	defer close(n.done)
	tick := time.NewTicker(nullTick)
	defer tick.Stop()
	buf := make([][2]float64, SampleRate*int(nullMaxCatchUp)/int(time.Second))
	var owed float64 // samples due but not pulled: fractions carried over
	for {
		select {
		case <-n.quit:
			return
		case <-tick.C:
		}
		now := c.Now()
		elapsed := now.Sub(last)
		last = now
		if elapsed <= 0 {
			continue
		}
		owed += elapsed.Seconds() * SampleRate
		if owed > float64(len(buf)) {
			owed = float64(len(buf))
		}
		k := int(owed)
		if k == 0 {
			continue
		}
		owed -= float64(k)
		pull(buf[:k])
	}
}

func (n *nullOutput) stop() {
	close(n.quit)
	<-n.done
}
