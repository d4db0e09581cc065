package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of the given size: the master side,
// which the harness reads, and the slave side, the child's terminal.
func openPTY(cols, rows int) (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("open pty slave: %w", err)
	}
	ws := &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		m.Close()
		s.Close()
		return nil, nil, fmt.Errorf("set pty size: %w", err)
	}
	return m, s, nil
}

// FrameRun is one program started in a pseudo-terminal.
type FrameRun struct {
	// Elapsed runs from just before the process is started to the read
	// that completed the wanted output.
	Elapsed time.Duration
	// Output is everything read from the terminal until then.
	Output []byte
}

// ErrNoFrame means the program ended or the time ran out before the
// wanted output appeared.
var ErrNoFrame = errors.New("the wanted output never appeared")

// TimeToOutput starts cmd on a cols×rows pseudo-terminal and times how long
// until everything it has written contains every one of want. Then it sends
// quit (if any) to the program's input, waits up to a second for it to
// end, and kills it otherwise.
func TimeToOutput(ctx context.Context, cmd *exec.Cmd, cols, rows int, want []string, quit []byte) (FrameRun, error) {
	master, slave, err := openPTY(cols, rows)
	if err != nil {
		return FrameRun{}, err
	}
	defer master.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		slave.Close()
		return FrameRun{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	slave.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	type result struct {
		at  time.Time
		out []byte
		err error
	}
	found := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		buf := make([]byte, 64<<10)
		reported := false
		for {
			n, err := master.Read(buf)
			now := time.Now()
			out.Write(buf[:n])
			if !reported && containsAll(out.Bytes(), want) {
				reported = true
				found <- result{at: now, out: bytes.Clone(out.Bytes())}
			}
			if err != nil {
				// EIO once the child side is gone: the end of the output.
				if !reported {
					found <- result{out: out.Bytes(), err: ErrNoFrame}
				}
				return
			}
		}
	}()

	var r result
	select {
	case r = <-found:
	case <-ctx.Done():
		r = result{err: fmt.Errorf("%w: %w", ErrNoFrame, ctx.Err())}
	}
	run := FrameRun{Output: r.out}
	if r.err == nil {
		run.Elapsed = r.at.Sub(t0)
	}
	if len(quit) > 0 {
		_, _ = master.Write(quit)
	}
	select {
	case <-exited:
	case <-time.After(time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	if r.err != nil {
		return run, fmt.Errorf("%s: %w; output:\n%s", cmd.Path, r.err, tail(r.out, 2000))
	}
	return run, nil
}

func containsAll(b []byte, want []string) bool {
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			return false
		}
	}
	return true
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
