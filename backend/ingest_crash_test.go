package backend_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/blobs"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// startServe runs `ecouted serve` on a free loopback port and returns the
// process and its address; its stderr is drained so it never blocks.
func startServe(t *testing.T, bin, data string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "--data", data, "serve", "--insecure", "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrc <- a
			}
		}
	}()
	select {
	case a := <-addrc:
		return cmd, a
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not say where it listens")
	}
	return nil, ""
}

// TestSIGKILLDuringUploads kills the real ecouted with SIGKILL while 20
// clients upload, restarts it, and checks that every acknowledged recording
// is there and whole, that every row left has its whole audio, and that no
// file is left that no row names (no orphan, no temporary file).
func TestSIGKILLDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ecouted binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ecouted")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ecoute/ecoute/cmd/ecouted").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	out, err := exec.Command(bin, "--data", data, "seed-demo").Output()
	if err != nil {
		t.Fatalf("seed-demo: %v", err)
	}
	var login, password string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "telephony" {
			login, password = f[1], f[2]
		}
	}
	srv, addr := startServe(t, bin, data)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lr, err := ecoutev1.NewAuthServiceClient(conn).Login(context.Background(), &ecoutev1.LoginRequest{Login: login, Password: password})
	if err != nil {
		t.Fatalf("telephony login: %v", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+lr.Token)
	audio := clip(t)

	var mu sync.Mutex
	acked := map[string]string{} // external id → call id
	var tried []string
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ext := fmt.Sprintf("crash-%02d-%03d", g, i)
				mu.Lock()
				tried = append(tried, ext)
				mu.Unlock()
				id, err := slowUpload(ctx, conn, metadataFor(ext), audio)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[ext] = id
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 25 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	srv.Wait()
	wg.Wait()
	left, _ := os.ReadDir(filepath.Join(data, backend.AudioDir, blobs.TempDir))
	t.Logf("killed with %d acknowledged of %d started; %d temporary files left by the kill", len(acked), len(tried), len(left))
	if len(acked) == 0 {
		t.Fatal("no upload was acknowledged before the kill")
	}
	if len(left) == 0 {
		t.Error("no upload was in flight at the kill: the test proved nothing")
	}

	// Restart: the start-up sweep runs; then stop it cleanly.
	srv2, _ := startServe(t, bin, data)
	srv2.Process.Signal(os.Interrupt)
	srv2.Wait()

	app, err := backend.Open(context.Background(), backend.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	st := app.Store()
	bctx := context.Background()
	whole := func(ext, id string) {
		a, _, err := st.IngestedAudio(bctx, id)
		if err != nil {
			t.Errorf("%s: row: %v", ext, err)
			return
		}
		b, err := app.Blobs().Open(bctx, a.Key)
		if err != nil {
			t.Errorf("%s: audio: %v", ext, err)
			return
		}
		defer b.Close()
		got, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
		if err != nil || !bytes.Equal(got, audio) || a.Size != int64(len(audio)) {
			t.Errorf("%s: audio is not the uploaded file (%d of %d bytes, %v)", ext, len(got), len(audio), err)
		}
	}
	for ext, id := range acked {
		got, err := st.CallIDByExternalID(bctx, ext)
		if err != nil || got != id {
			t.Errorf("acknowledged %s (call %s) lost after SIGKILL: %v", ext, id, err)
			continue
		}
		whole(ext, id)
	}
	extra := 0
	for _, ext := range tried {
		if _, ok := acked[ext]; ok {
			continue
		}
		// Committed but killed before the answer left: whole, and a retry
		// by the telephony side is answered as a duplicate.
		if id, err := st.CallIDByExternalID(bctx, ext); err == nil {
			extra++
			whole(ext, id)
		}
	}
	t.Logf("%d rows committed but not acknowledged (answer lost in the kill)", extra)
	keys, err := st.AudioKeys(bctx)
	if err != nil {
		t.Fatal(err)
	}
	// The demo's screen captures are blobs of their own, named by their rows.
	caps, err := st.CaptureBlobKeys(bctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range caps {
		keys[k] = true
	}
	for _, u := range unnamedAudio(t, filepath.Join(data, backend.AudioDir), keys) {
		t.Errorf("orphan audio after restart: %s", u)
	}
}

// unnamedAudio lists what the audio store under root holds that no key
// names: files of their own, and ranges of packs holding data outside
// every key's blob (temporary files included).
func unnamedAudio(t *testing.T, root string, keys map[string]bool) []string {
	t.Helper()
	spans := map[string][][2]int64{} // pack → [off, end) of its blobs
	for k := range keys {
		at := strings.LastIndexByte(k, '@')
		if at < 0 {
			continue
		}
		pack, rng, _ := strings.Cut(k[at+1:], ":")
		o, n, _ := strings.Cut(rng, "+")
		off, err1 := strconv.ParseInt(o, 10, 64)
		ln, err2 := strconv.ParseInt(n, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("unreadable key %q", k)
		}
		spans[pack] = append(spans[pack], [2]int64{off, (off + ln + 4095) / 4096 * 4096})
	}
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".key-check" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if keys[rel] {
			return nil
		}
		if !strings.HasPrefix(rel, blobs.PackDir+"/") {
			out = append(out, rel)
			return nil
		}
		// Every byte of data in the pack must lie in a named blob.
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		for off := int64(0); ; {
			start, err := unix.Seek(int(fh.Fd()), off, unix.SEEK_DATA)
			if err != nil {
				break // ENXIO: no data after off
			}
			end, err := unix.Seek(int(fh.Fd()), start, unix.SEEK_HOLE)
			if err != nil {
				t.Fatal(err)
			}
			for a := start; a < end; a += 4096 {
				if !slices.ContainsFunc(spans[rel], func(s [2]int64) bool { return a >= s[0] && a < s[1] }) {
					out = append(out, fmt.Sprintf("%s at %d", rel, a))
					break
				}
			}
			off = end
		}
		return nil
	})
	return out
}

// slowUpload sends the audio in small pieces with pauses, so that uploads
// are in flight when the server dies.
func slowUpload(ctx context.Context, conn *grpc.ClientConn, md *ecoutev1.RecordingMetadata, audio []byte) (string, error) {
	st, err := ecoutev1.NewIngestServiceClient(conn).UploadRecording(ctx)
	if err != nil {
		return "", err
	}
	if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: md}}); err != nil {
		_, err = st.CloseAndRecv()
		return "", err
	}
	for len(audio) > 0 {
		n := min(len(audio), 16<<10)
		if err := st.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: audio[:n]}}); err != nil {
			break
		}
		audio = audio[n:]
		time.Sleep(15 * time.Millisecond)
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return "", err
	}
	return resp.CallId, nil
}
