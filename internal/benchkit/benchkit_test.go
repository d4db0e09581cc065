package benchkit

import (
	"context"
	"encoding/binary"
	"os/exec"
	"testing"
	"time"
)

func TestQuantileNearestRank(t *testing.T) {
	var d Durations
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := d.Quantile(c.q); got != c.want {
			t.Errorf("q%.2f = %v, want %v", c.q, got, c.want)
		}
	}
	if d[0] != 100*time.Millisecond {
		t.Error("Quantile sorted the caller's slice")
	}
	if (Durations{}).Median() != 0 {
		t.Error("empty median not 0")
	}
}

func TestRatioAndMs(t *testing.T) {
	for _, c := range []struct{ ours, peer float64 }{{3, 1}, {1, 3}, {50, 1}} {
		_ = Ratio(c.ours, c.peer)
	}
	if got := Ratio(3, 1); got != "3.00×" {
		t.Errorf("Ratio(3,1) = %q", got)
	}
	if got := Ratio(1, 0); got != "—" {
		t.Errorf("Ratio(1,0) = %q", got)
	}
	if got := Ms(1500 * time.Microsecond); got != "1.50" {
		t.Errorf("Ms(1.5ms) = %q", got)
	}
	if got := Ms(250 * time.Millisecond); got != "250" {
		t.Errorf("Ms(250ms) = %q", got)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: example
cpu: Some CPU @ 2GHz
BenchmarkIngest/serial-2         	      54	 144920650 ns/op	   0.69 MB/s	         6.900 recordings/s
BenchmarkKeypress/down-2 	     300	    812345 ns/op	       700.5 ours-µs	      3500 bubbles-µs	 1234 B/op	 12 allocs/op
BenchmarkBroken-2  notanumber 12 ns/op
PASS
`
	rs, cpu, err := ParseGoBench(out)
	if err != nil {
		t.Fatal(err)
	}
	if cpu != "Some CPU @ 2GHz" {
		t.Errorf("cpu = %q", cpu)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(rs), rs)
	}
	r, ok := Find(rs, "Keypress/down")
	if !ok || r.N != 300 || r.Metrics["ours-µs"] != 700.5 || r.Metrics["bubbles-µs"] != 3500 || r.Metrics["allocs/op"] != 12 {
		t.Errorf("Keypress/down = %+v", r)
	}
	if r, _ := Find(rs, "Ingest/serial"); r.Metrics["recordings/s"] != 6.9 {
		t.Errorf("Ingest/serial = %+v", r)
	}
}

func TestFirstLoud(t *testing.T) {
	b := make([]byte, 10*captureFrame)
	binary.LittleEndian.PutUint16(b[3*captureFrame:], uint16(SilenceThreshold-1)) // below: silence
	if i := firstLoud(b); i != -1 {
		t.Errorf("firstLoud = %d on silence", i)
	}
	v := int16(-SilenceThreshold)
	binary.LittleEndian.PutUint16(b[7*captureFrame+2:], uint16(v)) // right channel
	if i := firstLoud(b); i != 7 {
		t.Errorf("firstLoud = %d, want 7", i)
	}
}

// TestTimeToOutput runs a real program in a pseudo-terminal: the terminal
// size reaches it, and the wanted text is found.
func TestTimeToOutput(t *testing.T) {
	cmd := exec.Command("sh", "-c", `stty size; echo ready; sleep 5`)
	r, err := TimeToOutput(context.Background(), cmd, 93, 27, []string{"27 93", "ready"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Elapsed <= 0 || r.Elapsed > 5*time.Second {
		t.Errorf("elapsed %v", r.Elapsed)
	}
	_, err = TimeToOutput(context.Background(), exec.Command("sh", "-c", "echo nothing"), 80, 24, []string{"never"}, nil)
	if err == nil {
		t.Error("a program that never prints the text was timed")
	}
}

func BenchmarkQuantile(b *testing.B) {
	d := make(Durations, 1000)
	for i := range d {
		d[i] = time.Duration(i * 7919 % 1000)
	}
	for b.Loop() {
		_ = d.Quantile(0.99)
	}
}

// TestFirstSoundPacesLikeACard plays, with aplay, 300 ms of silence then a
// tone into the capture: the sound must be heard about 300 ms after the
// first bytes (the card plays the silence first, at 48 kHz), not as soon
// as the program has written it.
func TestFirstSoundPacesLikeACard(t *testing.T) {
	for _, tool := range []string{"aplay", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install alsa-utils sox)", tool)
		}
	}
	dir := t.TempDir()
	wav := dir + "/t.wav"
	if out, err := exec.Command("sox", "-n", "-r", "48000", "-c", "2", "-b", "16", wav,
		"synth", "0.3", "sine", "0", "gain", "-100", ":", "synth", "0.3", "sine", "440").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	c, err := NewSoundCapture(dir)
	if err != nil {
		t.Skip(err)
	}
	r, err := c.FirstSound(context.Background(), exec.Command("aplay", "-q", wav))
	if err != nil {
		t.Fatal(err)
	}
	lead := r.FirstSound - r.FirstData
	t.Logf("first bytes %v, first sound %v", r.FirstData, r.FirstSound)
	if lead < 280*time.Millisecond || lead > 400*time.Millisecond {
		t.Errorf("first sound %v after the first bytes, want about 300 ms (the silence played at 48 kHz)", lead)
	}
}
