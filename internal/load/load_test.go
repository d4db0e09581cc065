package load

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAccounts(t *testing.T) {
	acc := ParseAccounts("supervisor demo-supervisor pw1\nnot an account line here\nagent demo-agent pw2\n")
	if acc["supervisor"] != [2]string{"demo-supervisor", "pw1"} || acc["agent"] != [2]string{"demo-agent", "pw2"} || len(acc) != 2 {
		t.Errorf("ParseAccounts = %v", acc)
	}
}

// TestRunAgainstARealServer: a few consoles against a real ecouted (demo
// data, loopback TLS, profiling on) browse and play without an error, every
// action is timed, and the profiles are written.
func TestRunAgainstARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ecouted")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ecouted")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/ecouted").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx := context.Background()
	acc, err := SeedDemo(ctx, bin, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(ctx, bin, filepath.Join(dir, "data"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	sup := acc["supervisor"]
	// untilEveryOp: on a slow machine the run lasts until every action
	// has been timed once, instead of failing for lack of time.
	opts := Options{Login: sup[0], Password: sup[1], Consoles: 3, Duration: 3 * time.Second, Think: 20 * time.Millisecond, PageSize: 50,
		untilEveryOp: true}
	res, err := RunProfiled(ctx, srv, opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{OpLogin, OpListFirst, OpListNext, OpGetCall, OpWaveform, OpAudioChunk, OpAudioBlock} {
		s := res.Stats[op]
		if s == nil || len(s.Times) == 0 {
			t.Errorf("%s never timed", op)
			continue
		}
		if len(s.Errors) > 0 {
			t.Errorf("%s errors: %v", op, s.Errors)
		}
	}
	if len(res.Profiles) != 5 {
		t.Errorf("profiles %v, want cpu, mutex, block, allocs, goroutine", res.Profiles)
	}
	if res.ServerCPU <= 0 {
		t.Errorf("server CPU %v", res.ServerCPU)
	}
	md := res.Markdown(opts)
	if !strings.Contains(md, "| "+OpListFirst+" |") {
		t.Errorf("report lacks the ListCalls row:\n%s", md)
	}
}
