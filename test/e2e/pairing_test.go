package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The chirp a pairing test plays: its frequency rises linearly with time,
// so any tenth of a second of it says where in the recording it was taken.
const (
	chirpFrom = 200.0  // Hz at 0
	chirpTo   = 3800.0 // Hz at the end
	chirpLen  = 420.0  // seconds: longer than any demo call, so min:6:30 finds it alone
)

func chirpPosition(freq float64) float64 {
	return (freq - chirpFrom) / (chirpTo - chirpFrom) * chirpLen
}

// chirpWAV is the chirp: 16 kHz mono 16-bit PCM, half scale, its
// frequency rising linearly from chirpFrom to chirpTo.
func chirpWAV() []byte {
	const rate = 16000
	n := int(chirpLen * rate)
	k := (chirpTo - chirpFrom) / chirpLen
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	pcm := make([]byte, 2*n)
	for i := range n {
		t := float64(i) / rate
		v := 0.5 * math.Sin(2*math.Pi*(chirpFrom*t+k*t*t/2))
		le.PutUint16(pcm[2*i:], uint16(int16(v*32767)))
	}
	b.Write(pcm)
	return b.Bytes()
}

// fifoCapture reads what a program plays into an ALSA file-plugin FIFO, at
// the pace of a sound card (48 kHz float32 stereo).
type fifoCapture struct {
	home, fifo string
	mu         sync.Mutex
	raw        bytes.Buffer
	done       chan struct{}
}

func newFIFOCapture(t *testing.T) *fifoCapture {
	t.Helper()
	home := t.TempDir()
	c := &fifoCapture{home: home, fifo: filepath.Join(home, "capture.raw"), done: make(chan struct{})}
	if err := syscall.Mkfifo(c.fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	rc := fmt.Sprintf("pcm.!default {\n  type file\n  slave.pcm \"null\"\n  file \"%s\"\n  format \"raw\"\n}\n", c.fifo)
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		f, err := os.OpenFile(c.fifo, os.O_RDONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		const tick = 10 * time.Millisecond
		buf := make([]byte, captureRate*8/100)
		next := time.Now()
		for {
			n, err := io.ReadFull(f, buf)
			c.mu.Lock()
			c.raw.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
			next = next.Add(tick)
			time.Sleep(time.Until(next))
		}
	}()
	return c
}

// stop waits for the writer to close the FIFO (releasing a reader that
// never saw one) and returns the left channel.
func (c *fifoCapture) stop(t *testing.T) []float64 {
	t.Helper()
	if f, err := os.OpenFile(c.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the capture FIFO was not closed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	raw := c.raw.Bytes()
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i*8:])))
	}
	return out
}

// chirpAt is where in the chirp a window of the capture was taken, from
// its zero crossings (interpolated); ok is false for silence.
func chirpAt(x []float64) (pos float64, ok bool) {
	var sum float64
	for _, v := range x {
		sum += v * v
	}
	if math.Sqrt(sum/float64(len(x))) < 0.02 {
		return 0, false
	}
	var first, last float64
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			at := float64(i-1) + x[i-1]/(x[i-1]-x[i])
			if n == 0 {
				first = at
			}
			last = at
			n++
		}
	}
	if n < 4 {
		return 0, false
	}
	freq := float64(n-1) / 2 / ((last - first) / captureRate)
	return chirpPosition(freq), true
}

// chirpPoint is where the capture was (seconds of sound) and where in the
// recording that was.
type chirpPoint struct{ t, pos float64 }

// chirpTrack reads a capture as positions in the chirp, every 50 ms.
func chirpTrack(x []float64) []chirpPoint {
	const win = captureRate / 20
	var all []chirpPoint
	for i := 0; i+win <= len(x); i += win {
		if p, ok := chirpAt(x[i : i+win]); ok {
			all = append(all, chirpPoint{t: float64(i) / captureRate, pos: p})
		}
	}
	// A window astride a change (the first sound, a seek) mixes two
	// pitches: it agrees with neither neighbour, and goes.
	near := func(i, j int) bool { return j >= 0 && j < len(all) && math.Abs(all[i].pos-all[j].pos) < 0.5 }
	var out []chirpPoint
	for i := range all {
		if near(i, i-1) || near(i, i+1) {
			out = append(out, all[i])
		}
	}
	return out
}

// fitSlope fits pos = a + b·t (least squares) and returns b.
// steadiest is the longest run of ps without a jump: the companion seeks
// to the session's position when it drifts 0.4 s away (a starved player
// on a loaded machine), and such a resync is following, not a fault; the
// speed is judged between them.
func steadiest(ps []chirpPoint) []chirpPoint {
	var best []chirpPoint
	start := 0
	for i := 1; i <= len(ps); i++ {
		if i == len(ps) || math.Abs(ps[i].pos-ps[i-1].pos) > 0.25 || ps[i].t-ps[i-1].t > 0.3 {
			if i-start > len(best) {
				best = ps[start:i]
			}
			start = i
		}
	}
	return best
}

func fitSlope(ps []chirpPoint) float64 {
	var st, sp, stt, stp float64
	for _, p := range ps {
		st += p.t
		sp += p.pos
		stt += p.t * p.t
		stp += p.t * p.pos
	}
	n := float64(len(ps))
	return (n*stp - st*sp) / (n*stt - st*st)
}

// TestCompanionFollowsTheSSHSession pairs `ecoute listen` with a console
// served over SSH (real ecouted, real OpenSSH client in tmux) and captures,
// through ALSA's file plugin, what the companion plays: a chirp whose pitch
// tells the position. It must start at the start when the session plays,
// jump 30 s when the session seeks, and run 1.5 times faster once the
// session's speed is 1.5, pitch kept; meanwhile the server process opens
// no sound device (its own ALSA default, a file, is never written, and no
// /dev/snd is open).
func TestCompanionFollowsTheSSHSession(t *testing.T) {
	requireSSH(t)
	if why := alsaCapture(); why != "" {
		t.Skip(why)
	}
	ecoute := buildEcoute(t)
	srv := newEcouted(t)
	login, password := srv.accounts["supervisor"][0], srv.accounts["supervisor"][1]
	work := t.TempDir()

	// The chirp, ingested as a call of the supervisor's team, kept.
	if err := os.WriteFile(filepath.Join(srv.data, "ecouted.yaml"), []byte("sampling:\n  rate: 0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	team := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(login) + `\s.*?\s(team-\S+)`).FindStringSubmatch(srv.run("user", "list"))
	if team == nil {
		t.Fatal("no team for the supervisor")
	}
	agent := regexp.MustCompile(`(?m)^(agent-\S+)\s.*\s` + regexp.QuoteMeta(strings.Split(team[1], ",")[0]) + `\s+active`).
		FindStringSubmatch(srv.run("agent", "list"))
	campaign := regexp.MustCompile(`(?m)^(camp-\S+)\s`).FindStringSubmatch(srv.run("campaign", "list"))
	if agent == nil || campaign == nil {
		t.Fatal("no agent or campaign")
	}
	// Ten takes of the chirp by the agent in a day: the sampling at the
	// lawful 10 % keeps exactly one of them (the floor of the quota is kept
	// whatever the draw), the call the test plays.
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
	takes := filepath.Join(work, "takes")
	if err := os.Mkdir(takes, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		at := start.Add(time.Duration(i) * time.Duration(chirpLen+60) * time.Second)
		meta, _ := json.Marshal(map[string]any{"externalId": fmt.Sprintf("chirp-%d", i), "startedAt": at.Format(time.RFC3339),
			"endedAt": at.Add(time.Duration(chirpLen) * time.Second).Format(time.RFC3339), "agentId": agent[1],
			"teamId": strings.Split(team[1], ",")[0], "campaignId": campaign[1], "direction": "inbound",
			"consent": map[string]any{"requestedAt": at.Add(-time.Minute).Format(time.RFC3339), "accepted": true}})
		name := filepath.Join(takes, fmt.Sprintf("chirp-%d", i))
		if err := errors.Join(os.WriteFile(name+".json", meta, 0o600), os.WriteFile(name+".wav", chirpWAV(), 0o600)); err != nil {
			t.Fatal(err)
		}
	}
	srv.run("ingest", "--transcoder", "lame", "--dir", takes)
	if out := srv.run("sample"); !strings.Contains(out, "10 recordings, 1 kept") {
		t.Fatalf("sample:\n%s", out)
	}

	keys := t.TempDir()
	key := sshKey(t, keys, "claire")
	srv.run("user", "key", "add", login, "--key", key+".pub")

	// The server's own sound device, were it ever opened: a file.
	serverHome := t.TempDir()
	serverSound := filepath.Join(serverHome, "server-sound.raw")
	rc := fmt.Sprintf("pcm.!default {\n  type file\n  slave.pcm \"null\"\n  file \"%s\"\n  format \"raw\"\n}\n", serverSound)
	if err := os.WriteFile(filepath.Join(serverHome, ".asoundrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	sshAddr := freeAddr(t)
	srv.startSSH(sshAddr, append(os.Environ(), "HOME="+serverHome, "XDG_CONFIG_HOME="+filepath.Join(serverHome, ".config")))

	// The SSH session opens the chirp.
	home := t.TempDir()
	tm := startTmuxIn(t, home, 140, 36, nil, sshCommand(home, sshAddr, login, "-i", key))
	tm.waitFor("the password prompt", regexp.MustCompile(`Password:`), 30*time.Second)
	tm.keys("-l", password)
	tm.keys("Enter")
	tm.waitFor("the call list", callRowRE, 30*time.Second)
	tm.keys("/")
	tm.keys("-l", "min:6:30")
	tm.keys("Enter")
	tm.waitFor("the chirp alone", regexp.MustCompile(`call 1 of 1 loaded`), 20*time.Second)
	tm.keys("Enter")
	tm.waitFor("the player", regexp.MustCompile(`0:00 / 7:0\d`), 20*time.Second)
	m := tm.waitFor("the pairing code", regexp.MustCompile(`ecoute listen --server (\S+) ([A-Z0-9]{4}-[A-Z0-9]{4})`), 20*time.Second)
	server, code := m[1], m[2]

	// The companion, on "the reviewer's machine", into the capture.
	capt := newFIFOCapture(t)
	comp := exec.Command(ecoute, "listen", "--server", server, "--login", login, code)
	comp.Env = append(os.Environ(), "HOME="+capt.home, "XDG_CONFIG_HOME="+filepath.Join(capt.home, ".config"),
		"ECOUTE_LOG="+filepath.Join(capt.home, "ecoute.log"))
	comp.Stdin = strings.NewReader(password + "\n")
	stdout, err := comp.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	comp.Stderr = comp.Stdout
	if err := comp.Start(); err != nil {
		t.Fatal(err)
	}
	defer comp.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said []string
	expect := func(what string, re *regexp.Regexp) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the companion ended before %s; it said:\n%s", what, strings.Join(said, "\n"))
				}
				said = append(said, l)
				if re.MatchString(l) {
					return
				}
			case <-timeout:
				t.Fatalf("the companion did not say %s; it said:\n%s", what, strings.Join(said, "\n"))
			}
		}
	}
	expect("that it plays on the speaker", regexp.MustCompile(`^output: speaker`))
	expect("that it follows", regexp.MustCompile(`Following the SSH session of `+regexp.QuoteMeta(login)))
	expect("the call", regexp.MustCompile(`^Call \S+ \(7:0\d\.\d\)`))
	tm.waitFor("the companion counted", regexp.MustCompile(`1 companion follows`), 20*time.Second)

	// Play; 30 s forward; speed 1.5; pause.
	tm.keys("Space")
	expect("playing", regexp.MustCompile(`^▶ 0:0`))
	time.Sleep(4 * time.Second) // sound to measure, not a wait for a state
	tm.keys("L")
	time.Sleep(4 * time.Second)
	tm.keys("]")
	tm.waitFor("1.25×", regexp.MustCompile(`1\.25×`), 10*time.Second)
	tm.keys("]")
	tm.waitFor("1.5×", regexp.MustCompile(`1\.5×`), 10*time.Second)
	expect("the speed", regexp.MustCompile(`×1\.5`))
	time.Sleep(5 * time.Second)
	tm.keys("Space")
	expect("the pause", regexp.MustCompile(`^⏸`))
	// Meanwhile the server opened no sound device.
	if _, err := os.Stat(serverSound); !os.IsNotExist(err) {
		t.Errorf("the server wrote to its sound device (%s): %v", serverSound, err)
	}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", srv.cmd.Process.Pid))
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); strings.HasPrefix(target, "/dev/snd") {
			t.Errorf("the server holds %s open", target)
		}
	}
	comp.Process.Signal(os.Interrupt)
	comp.Wait()
	got := chirpTrack(capt.stop(t))
	if len(got) < 20 {
		t.Fatalf("the companion played %d tenths of sound", len(got))
	}

	var trace strings.Builder
	for _, p := range got {
		fmt.Fprintf(&trace, "%.2f:%.2f ", p.t, p.pos)
	}
	t.Logf("positions (capture s: recording s): %s", trace.String())
	// Cut the positions where they jump (the seek), then judge each part.
	cut := -1
	for i := 1; i < len(got); i++ {
		if got[i].pos-got[i-1].pos > 15 {
			cut = i
			break
		}
	}
	if cut < 10 || cut > len(got)-20 {
		t.Fatalf("no seek found in the positions (cut at %d of %d): %v", cut, len(got), got)
	}
	before, after := got[:cut], got[cut:]
	// The steady stretches (between resyncs) of each part: before the
	// seek; right after it, at 1×; at the end, at 1.5×.
	steady, early, late := steadiest(before), steadiest(after[:len(after)/4]), steadiest(after[len(after)-len(after)/3:])
	t.Logf("first sound at %.2f s of the recording; %.3f× before the seek; seek from %.2f s to %.2f s; %.3f× after it, %.3f× at the end; steady stretches of %d, %d and %d windows of 50 ms",
		before[0].pos, fitSlope(steady), before[len(before)-1].pos, after[0].pos, fitSlope(early), fitSlope(late),
		len(steady), len(early), len(late))
	if before[0].pos > 1.5 {
		t.Errorf("the companion started at %.2f s of the recording, want the start", before[0].pos)
	}
	for _, part := range []struct {
		name  string
		ps    []chirpPoint
		speed float64
		tol   float64
	}{{"before the seek", steady, 1, 0.08}, {"right after the seek", early, 1, 0.08}, {"after the speed change", late, 1.5, 0.12}} {
		if len(part.ps) < 20 {
			t.Errorf("%s: no steady second of sound (%d windows): the companion kept jumping", part.name, len(part.ps))
		} else if s := fitSlope(part.ps); math.Abs(s-part.speed) > part.tol {
			t.Errorf("%s the recording ran at %.3f× real time, want %g×", part.name, s, part.speed)
		}
	}
	if jump := after[0].pos - before[len(before)-1].pos; math.Abs(jump-30) > 1.5 {
		t.Errorf("the seek jumped %.2f s, want 30 s", jump)
	}
}
