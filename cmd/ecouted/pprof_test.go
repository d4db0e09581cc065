package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofServesProfiles: --pprof on a loopback address serves the
// profile index, with the mutex and block profiles listed.
func TestPprofServesProfiles(t *testing.T) {
	var stderr strings.Builder
	if err := servePprof("127.0.0.1:0", &stderr); err != nil {
		t.Fatal(err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(stderr.String()), "pprof on ")
	if !ok {
		t.Fatalf("stderr %q does not say where pprof is", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "mutex") || !strings.Contains(string(body), "block") {
		t.Errorf("GET /debug/pprof/: %s\n%s", resp.Status, body)
	}
}
