package benchkit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The capture device: whatever a program plays, ALSA's plug plugin
// converts it to 48 kHz 16-bit stereo and the file plugin writes it into a
// FIFO, read at the pace of a sound card.
const (
	CaptureRate  = 48000
	captureFrame = 4 // bytes: 16-bit stereo
	// capturePeriod is what the simulated card takes at a time.
	capturePeriod = 240 // frames: 5 ms
	// SilenceThreshold is the smallest 16-bit sample counted as sound:
	// -60 dBFS, above rounding and resampling noise.
	SilenceThreshold = 33
)

// SoundCapture is a private ALSA configuration (in a home directory of its
// own) whose default device is the capture FIFO.
type SoundCapture struct {
	Home string
	fifo string
}

// NewSoundCapture writes $dir/.asoundrc and the FIFO it names.
func NewSoundCapture(dir string) (*SoundCapture, error) {
	if _, err := os.Stat("/usr/share/alsa/alsa.conf"); err != nil {
		return nil, errors.New("ALSA configuration missing (apt-get install libasound2-dev alsa-utils)")
	}
	c := &SoundCapture{Home: dir, fifo: filepath.Join(dir, "capture.raw")}
	if err := syscall.Mkfifo(c.fifo, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("capture fifo: %w", err)
	}
	rc := fmt.Sprintf(`pcm.!default {
  type plug
  slave {
    pcm "benchcapture"
    format S16_LE
    rate %d
    channels 2
  }
}
pcm.benchcapture {
  type file
  slave.pcm "null"
  file "%s"
  format "raw"
}
`, CaptureRate, c.fifo)
	if err := os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(rc), 0o600); err != nil {
		return nil, fmt.Errorf("capture asoundrc: %w", err)
	}
	return c, nil
}

// Env is the environment a program must run with to play into the capture.
func (c *SoundCapture) Env() []string {
	return append(os.Environ(), "HOME="+c.Home, "XDG_CONFIG_HOME="+filepath.Join(c.Home, ".config"))
}

// SoundRun is the account of one program run into the capture.
type SoundRun struct {
	// FirstData is when the device received its first bytes (it starts
	// playing then), FirstSound when it played the first sample above
	// SilenceThreshold; both from just before the process started.
	FirstData, FirstSound time.Duration
}

// FirstSound starts cmd (its Env set to c.Env() unless already set) and
// plays what it writes to the device as a card would: a 5 ms period at a
// time at 48 kHz from the first byte, stalling when the program falls
// behind. The pipe in front is one page (about 21 ms at 48 kHz), so a
// program that queues silence before its sound is heard later, as on a
// real card. The program is killed once its first sound has been played.
func (c *SoundCapture) FirstSound(ctx context.Context, cmd *exec.Cmd) (SoundRun, error) {
	// Read-write: the open does not wait for a writer, and the pipe never
	// reports an end while we hold it; the process's exit ends the run.
	// Non-blocking, so that os.NewFile puts it in the poller and read
	// deadlines work.
	fd, err := unix.Open(c.fifo, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return SoundRun{}, fmt.Errorf("open capture fifo: %w", err)
	}
	f := os.NewFile(uintptr(fd), c.fifo)
	defer f.Close()
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, os.Getpagesize()); err != nil {
		return SoundRun{}, fmt.Errorf("shrink capture pipe: %w", err)
	}
	if err := drain(f); err != nil {
		return SoundRun{}, err
	}
	if cmd.Env == nil {
		cmd.Env = c.Env()
	}
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return SoundRun{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	var run SoundRun
	period := make([]byte, capturePeriod*captureFrame)
	filled := 0
	var playhead time.Time // when the card has played all it was given
	for {
		if err := f.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			return run, fmt.Errorf("capture deadline: %w", err)
		}
		before := time.Now()
		n, err := io.ReadFull(f, period[filled:])
		filled += n
		waited := time.Since(before) > time.Millisecond
		if errors.Is(err, os.ErrDeadlineExceeded) {
			select {
			case werr := <-exited:
				exited <- werr
				return run, fmt.Errorf("%s ended (%v) before its first sound reached the device; output:\n%s", cmd.Path, werr, out.String())
			case <-ctx.Done():
				return run, fmt.Errorf("no sound from %s: %w; output:\n%s", cmd.Path, ctx.Err(), out.String())
			default:
			}
			continue // keep what arrived: the rest of the period comes later
		}
		if err != nil {
			return run, fmt.Errorf("read capture: %w", err)
		}
		filled = 0
		now := time.Now()
		if run.FirstData == 0 {
			run.FirstData = now.Sub(t0)
			playhead = now
		}
		// The card plays this period when the previous one ends, by its
		// own clock (a late wake-up of this loop is not the card's), or
		// when the period arrives if the program fell behind.
		start := playhead
		if waited && now.After(start) {
			start = now
		}
		if i := firstLoud(period); i >= 0 {
			at := start.Add(time.Duration(i) * time.Second / CaptureRate)
			run.FirstSound = at.Sub(t0)
			// Wait until the card would really have played it: a run
			// is not over before its sound is heard.
			time.Sleep(time.Until(at))
			return run, nil
		}
		playhead = start.Add(capturePeriod * time.Second / CaptureRate)
		time.Sleep(time.Until(playhead))
	}
}

// firstLoud is the index of the first frame with a channel at or above
// SilenceThreshold, or -1.
func firstLoud(b []byte) int {
	for i := 0; i+captureFrame <= len(b); i += captureFrame {
		l := int16(binary.LittleEndian.Uint16(b[i:]))
		r := int16(binary.LittleEndian.Uint16(b[i+2:]))
		if abs16(l) >= SilenceThreshold || abs16(r) >= SilenceThreshold {
			return i / captureFrame
		}
	}
	return -1
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// drain empties what a previous run left in the pipe.
func drain(f *os.File) error {
	buf := make([]byte, 64<<10)
	for {
		if err := f.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
			return fmt.Errorf("capture fifo: %w", err)
		}
		if n, err := f.Read(buf); n == 0 || err != nil {
			return nil
		}
	}
}

// limitedBuffer keeps the first 64 KiB a program prints, for error messages.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
