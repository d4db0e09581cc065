package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"

	"github.com/ecoute/ecoute/backend"
)

// servePprof serves net/http/pprof on a loopback address, with mutex and
// block profiling turned on (one mutex contention event in 10, blocking
// sampled every 10 µs of wait): `ecouted serve --pprof`, for profiling under
// load. It prints "pprof on ADDR" on stderr.
func servePprof(addr string, stderr io.Writer) error {
	if !backend.IsLoopback(addr) {
		return fmt.Errorf("serve: --pprof is allowed on loopback addresses only, not %s", addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: --pprof: %w", err)
	}
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	fmt.Fprintf(stderr, "pprof on %s\n", lis.Addr())
	return nil
}
