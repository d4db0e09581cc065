// Package load runs many consoles against a real ecouted on loopback: each
// is the real client package over TLS, logs in, then browses and plays as a
// person would (a page of calls, the next pages, a call, its waveform, the
// first chunk of its audio), with a short pause between actions. It reports
// the latency of each action (p50, p99, max) and the errors. The ecoute-load
// command and the benchmark report use it.
package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/status"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/benchkit"
)

// The actions timed.
const (
	OpLogin      = "Login"
	OpListFirst  = "ListCalls first page"
	OpListNext   = "ListCalls next page"
	OpGetCall    = "GetCall"
	OpWaveform   = "GetWaveform"
	OpAudioChunk = "StreamAudio first chunk"
	OpAudioBlock = "play: first 8 KiB block"
)

// Ops lists the actions in report order.
var Ops = []string{OpLogin, OpListFirst, OpListNext, OpGetCall, OpWaveform, OpAudioChunk, OpAudioBlock}

// Options say how hard and how long.
type Options struct {
	Addr     string // host:port of ecouted
	CAPEM    []byte // the server's CA
	Login    string
	Password string
	Consoles int
	Duration time.Duration // of the browsing phase, after every console logged in
	// Think is the longest pause between two actions of a console (each
	// pause is uniform in [0, Think]).
	Think time.Duration
	// PageSize is the console's (200).
	PageSize int32
	// Logins is how many consoles log in at the same time (0:
	// DefaultLogins).
	Logins int

	onBrowse func() // called when the browsing phase starts
	// untilEveryOp makes the browsing phase last past Duration until every
	// browsing action has been timed once (tests: a settled state, however
	// slow the machine).
	untilEveryOp bool
}

// Stat is the timings and errors of one action.
type Stat struct {
	Times  benchkit.Durations
	Errors map[string]int // by gRPC code or message
}

// Report is the outcome of a run.
type Report struct {
	Consoles int
	Duration time.Duration // of the browsing phase
	Stats    map[string]*Stat
}

type recorder struct {
	mu    sync.Mutex
	stats map[string]*Stat
	// every is closed once each browsing action has been timed.
	every     chan struct{}
	everyDone bool
}

func newRecorder() *recorder {
	return &recorder{stats: map[string]*Stat{}, every: make(chan struct{})}
}

// browseOps are the actions of the browsing phase.
var browseOps = []string{OpListFirst, OpListNext, OpGetCall, OpWaveform, OpAudioChunk, OpAudioBlock}

func (r *recorder) add(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats[op]
	if s == nil {
		s = &Stat{Errors: map[string]int{}}
		r.stats[op] = s
	}
	if err != nil {
		key := err.Error()
		if st, ok := status.FromError(errors.Unwrap(err)); ok {
			key = st.Code().String()
		} else if st, ok := status.FromError(err); ok {
			key = st.Code().String()
		}
		if len(key) > 80 {
			key = key[:80]
		}
		s.Errors[key]++
		return
	}
	s.Times = append(s.Times, d)
	if !r.everyDone && !slices.ContainsFunc(browseOps, func(op string) bool { return r.stats[op] == nil || len(r.stats[op].Times) == 0 }) {
		r.everyDone = true
		close(r.every)
	}
}

// loginAttempts bounds the logins of one console.
const loginAttempts = 3

// DefaultLogins is how many consoles log in at the same time. All fifty at
// once meant fifty password hashes (argon2id, ~0.35 s of a core each) on a
// shared 2-core machine: the last ones outlasted the client's 15 s timeout
// and the run failed before browsing. The logins are not what is measured.
const DefaultLogins = 4

// Run logs the consoles in (opts.Logins at a time), then lets them browse
// for opts.Duration. It stops by itself; ctx cuts it short.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Consoles <= 0 || opts.Duration <= 0 {
		return nil, errors.New("load: consoles and duration must be positive")
	}
	if opts.PageSize == 0 {
		opts.PageSize = 200
	}
	rec := newRecorder()
	clients := make([]*client.Client, opts.Consoles)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	if opts.Logins <= 0 {
		opts.Logins = DefaultLogins
	}
	var wg sync.WaitGroup
	errs := make([]error, opts.Consoles)
	slots := make(chan struct{}, opts.Logins)
	for i := range clients {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			c, err := client.Dial(ctx, opts.Addr, client.Options{CAPEM: opts.CAPEM})
			if err != nil {
				errs[i] = err
				return
			}
			clients[i] = c
			// A login that timed out on a busy machine is counted as an
			// error and tried again (up to loginAttempts times).
			for range loginAttempts {
				t0 := time.Now()
				_, err = c.Login(ctx, opts.Login, opts.Password)
				rec.add(OpLogin, time.Since(t0), err)
				if err == nil || ctx.Err() != nil || !errors.Is(err, client.ErrTimeout) {
					break
				}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load: log in: %w", err)
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer cancel()
		t := time.NewTimer(opts.Duration)
		defer t.Stop()
		select {
		case <-bctx.Done():
			return
		case <-t.C:
		}
		if opts.untilEveryOp {
			select {
			case <-bctx.Done():
			case <-rec.every:
			}
		}
	}()
	if opts.onBrowse != nil {
		opts.onBrowse()
	}
	t0 := time.Now()
	for i, c := range clients {
		wg.Go(func() { browse(bctx, c, opts, rec, rand.New(rand.NewPCG(uint64(i), 19))) })
	}
	wg.Wait()
	return &Report{Consoles: opts.Consoles, Duration: time.Since(t0), Stats: rec.stats}, nil
}

// browse is one console until ctx ends: the first page, one to three next
// pages, then a call of them opened and played (GetCall, GetWaveform, the
// audio's first chunk and first block), and again.
func browse(ctx context.Context, c *client.Client, opts Options, rec *recorder, rnd *rand.Rand) {
	pause := func() bool {
		if opts.Think <= 0 {
			return ctx.Err() == nil
		}
		t := time.NewTimer(time.Duration(rnd.Int64N(int64(opts.Think) + 1)))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	// timed runs f and records it unless the run was over by then (an
	// action cut by the end of the run is not an error of the server).
	timed := func(op string, f func() error) bool {
		t0 := time.Now()
		err := f()
		if ctx.Err() != nil {
			return false
		}
		rec.add(op, time.Since(t0), err)
		return err == nil
	}
	for ctx.Err() == nil {
		var calls []*ecoutev1.Call
		var next string
		if !timed(OpListFirst, func() error {
			resp, err := c.ListCalls(ctx, client.CallQuery{PageSize: int(opts.PageSize)})
			if err == nil {
				calls, next = resp.GetCalls(), resp.GetNextPageToken()
			}
			return err
		}) || !pause() {
			continue
		}
		for k := rnd.IntN(3) + 1; k > 0 && next != ""; k-- {
			ok := timed(OpListNext, func() error {
				resp, err := c.ListCalls(ctx, client.CallQuery{PageSize: int(opts.PageSize), PageToken: next})
				if err == nil {
					calls, next = resp.GetCalls(), resp.GetNextPageToken()
				}
				return err
			})
			if !ok || !pause() {
				break
			}
		}
		if len(calls) == 0 || ctx.Err() != nil {
			continue
		}
		id := calls[rnd.IntN(len(calls))].GetCallId()
		var size int64
		_ = timed(OpGetCall, func() error { _, err := c.GetCall(ctx, id); return err }) &&
			// As the call screen does: the waveform gives the size, then
			// the stream opens at 0 (its first chunk), then the first block.
			timed(OpWaveform, func() error {
				wf, err := c.GetWaveform(ctx, id)
				size = wf.GetTotalSize()
				return err
			}) && func() bool {
			var r io.ReadCloser
			return timed(OpAudioChunk, func() error {
				var err error
				r, err = c.AudioSource(id, size).Open(ctx, 0)
				return err
			}) && timed(OpAudioBlock, func() error {
				defer r.Close()
				_, err := io.ReadFull(r, make([]byte, min(8192, size)))
				return err
			})
		}()
		pause()
	}
}

// Table renders the report as a markdown table: per action, count,
// throughput, p50, p99, max and errors.
func (r *Report) Table() string {
	var b strings.Builder
	b.WriteString("| action | count | per second | p50 (ms) | p99 (ms) | max (ms) | errors |\n|---|---|---|---|---|---|---|\n")
	for _, op := range Ops {
		s := r.Stats[op]
		if s == nil {
			continue
		}
		secs := r.Duration.Seconds()
		if op == OpLogin {
			secs = 0
		}
		rate := "—"
		if secs > 0 {
			rate = fmt.Sprintf("%.1f", float64(len(s.Times))/secs)
		}
		var errs []string
		for k, n := range s.Errors {
			errs = append(errs, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(errs)
		e := "0"
		if len(errs) > 0 {
			e = strings.Join(errs, ", ")
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", op, len(s.Times), rate,
			benchkit.Ms(s.Times.Median()), benchkit.Ms(s.Times.Quantile(0.99)), benchkit.Ms(s.Times.Max()), e)
	}
	return b.String()
}

// Result is a run against a Server: the report, the server's CPU use, and
// with profiling the profile files and their summaries.
type Result struct {
	*Report
	ServerCPU time.Duration // during the browsing phase
	LoadCPU   time.Duration // this process's (the consoles') in the same time
	Profiles  []string
	Tops      []string // filled by the caller (go tool pprof -top)
}

// RunWithServer runs the load against srv and measures its CPU time.
func RunWithServer(ctx context.Context, srv *Server, opts Options) (*Result, error) {
	return runMeasured(ctx, srv, opts, nil)
}

// RunProfiled runs the load against srv (started with profiling) and
// writes into dir its CPU profile over most of the browsing phase, then its
// mutex, block, allocation and goroutine profiles.
func RunProfiled(ctx context.Context, srv *Server, opts Options, dir string) (*Result, error) {
	var cpuErr error
	var files []string
	cpuDone := make(chan struct{})
	started := false
	during := func() {
		started = true
		go func() {
			defer close(cpuDone)
			secs := max(1, int(opts.Duration.Seconds())-1)
			f := filepath.Join(dir, "cpu.pprof")
			if cpuErr = srv.Profile(ctx, "profile", fmt.Sprintf("seconds=%d", secs), f); cpuErr == nil {
				files = append(files, f)
			}
		}()
	}
	res, err := runMeasured(ctx, srv, opts, during)
	if started {
		<-cpuDone
	}
	if err != nil {
		return nil, err
	}
	if cpuErr != nil {
		return nil, cpuErr
	}
	for _, name := range []string{"mutex", "block", "allocs", "goroutine"} {
		f := filepath.Join(dir, name+".pprof")
		if err := srv.Profile(ctx, name, "", f); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	res.Profiles = files
	return res, nil
}

func runMeasured(ctx context.Context, srv *Server, opts Options, during func()) (*Result, error) {
	opts.Addr, opts.CAPEM = srv.Addr, srv.CAPEM
	var cpu0, self0 time.Duration
	opts.onBrowse = func() {
		cpu0, _ = srv.CPUTime()
		self0 = selfCPU()
		if during != nil {
			during()
		}
	}
	rep, err := Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	cpu1, _ := srv.CPUTime()
	return &Result{Report: rep, ServerCPU: cpu1 - cpu0, LoadCPU: selfCPU() - self0}, nil
}

// Markdown is the report of a run: the set-up, the table and, with
// profiling, the profile summaries.
func (r *Result) Markdown(opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d consoles on loopback (real client over TLS, demo data), browsing for %s after logging in "+
		"(%d at a time); pauses of up to %s between actions; pages of %d. While they browsed, ecouted used %.0f%% of one "+
		"core (%.1f ms of CPU per action) and the consoles (the load generator, same machine) %.0f%%; load average "+
		"of the machine at the end %s.\n\n", r.Consoles, r.Duration.Round(100*time.Millisecond), cmp.Or(opts.Logins, DefaultLogins),
		opts.Think, opts.PageSize, 100*r.ServerCPU.Seconds()/r.Duration.Seconds(), r.cpuPerAction(),
		100*r.LoadCPU.Seconds()/r.Duration.Seconds(), loadAverage())
	b.WriteString(r.Table())
	for _, t := range r.Tops {
		b.WriteString("\n```\n" + t + "\n```\n")
	}
	return b.String()
}

// cpuPerAction is the server's CPU time per action of the browsing
// phase, in milliseconds.
func (r *Result) cpuPerAction() float64 {
	n := 0
	for op, s := range r.Stats {
		// The first block of a stream is read from the stream already
		// open: not a request of its own.
		if op != OpLogin && op != OpAudioBlock {
			n += len(s.Times)
		}
	}
	if n == 0 {
		return 0
	}
	return float64(r.ServerCPU.Microseconds()) / 1000 / float64(n)
}

// loadAverage is the machine's 1, 5 and 15-minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
