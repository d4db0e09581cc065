package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/service"
)

const ingestSynopsis = `ingest [--transcoder ffmpeg|lame] (--meta META.json AUDIO | --dir DIR [--jobs N])

Imports recordings through the same checks as IngestService.UploadRecording:
consent (an opted-out call is refused and only counted), metadata, audio
profile. META.json is the JSON form of ecoute.v1.RecordingMetadata, e.g.
  {"externalId": "pbx-42", "startedAt": "2026-03-02T09:15:00Z", ...}
AUDIO is an MP3 (MPEG-1, or MPEG-2 at 16/24 kHz, stored as is) or, with a
transcoder, an MP3 at another rate or a WAV (PCM, G.711 µ-law/A-law, GSM 6.10
"WAV49": ffmpeg only), converted to 16 kHz MP3 (mono 32 kbps; two parties, one
per channel, in stereo 48 kbps). A file cut short or with junk around its
frames is stored with what is valid, and the result says what was left out.
--dir imports every NAME.json with its NAME.mp3 or NAME.wav (an export from
another recorder), --jobs at a time (default 16: uploads that finish together
are made durable with one sync), shows progress on stderr and ends with a
summary of what was refused and why. Exits non-zero when anything was refused.`

func cmdIngest(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", ingestSynopsis, stderr)
	meta := fs.String("meta", "", "metadata file (JSON RecordingMetadata) for the single AUDIO argument")
	dir := fs.String("dir", "", "folder of NAME.json + NAME.mp3|NAME.wav pairs to import")
	jobs := fs.Int("jobs", ingestJobs, "with --dir, how many recordings are stored at once (batched into one sync)")
	transcoder := fs.String("transcoder", "", "ffmpeg or lame (or a path to one) to convert audio outside the canonical profile (overrides ingest.transcoder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *meta != "" && *dir != "":
		return errors.New("ingest: give --meta META.json AUDIO or --dir DIR, not both")
	case *meta != "" && fs.NArg() != 1:
		return errors.New("ingest: --meta META.json needs exactly one AUDIO file")
	case *dir != "" && fs.NArg() != 0:
		return fmt.Errorf("ingest: unexpected argument %q with --dir", fs.Arg(0))
	case *meta == "" && *dir == "":
		fs.Usage()
		return errors.New("ingest: --meta META.json AUDIO or --dir DIR is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	ing := app.Core()
	if *transcoder != "" {
		t, err := audio.NewTranscoder(*transcoder)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		ing.Transcoder = t // this process's own backend
	}
	if _, err := app.PrepareIngest(ctx); err != nil {
		return err
	}
	if *meta != "" {
		res, err := ingestFile(ctx, ing, *meta, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("ingest: %s refused: %s", fs.Arg(0), domain.Describe(err))
		}
		printResult(stdout, fs.Arg(0), res)
		return nil
	}
	return ingestDir(ctx, ing, *dir, *jobs, stdout, stderr)
}

func printResult(w io.Writer, name string, res core.Stored) {
	switch {
	case res.Duplicate:
		fmt.Fprintf(w, "%s: already stored as call %s (nothing new stored)\n", name, res.CallID)
	case res.Converted:
		fmt.Fprintf(w, "%s: stored as call %s (converted to 16 kHz MP3)\n", name, res.CallID)
	default:
		fmt.Fprintf(w, "%s: stored as call %s\n", name, res.CallID)
	}
	if res.Repair != "" {
		fmt.Fprintf(w, "%s: damaged, repaired: %s\n", name, res.Repair)
	}
}

func readMeta(path string) (*ecoutev1.RecordingMetadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md := &ecoutev1.RecordingMetadata{}
	if err := protojson.Unmarshal(b, md); err != nil {
		return nil, fmt.Errorf("%s is not a RecordingMetadata in JSON: %w", filepath.Base(path), err)
	}
	return md, nil
}

// ingestFile stores one recording through the same door as the gRPC
// uploads, which records the attempt in the audit trail (R10). A refusal
// names no call (an opted-out caller leaves only a count, R3).
func ingestFile(ctx context.Context, ing *core.Backend, metaPath, audioPath string) (core.Stored, error) {
	md, err := readMeta(metaPath)
	if err != nil {
		return core.Stored{}, err
	}
	f, err := os.Open(audioPath)
	if err != nil {
		return core.Stored{}, err
	}
	defer f.Close()
	return ing.Ingest(ctx, core.Local(), service.RecordingFromProto(md), f)
}

type pair struct{ name, meta, audio string }

// pairs lists the recordings of dir by name; a metadata file without audio
// (or audio without metadata) is listed too, to be reported.
func pairs(dir string) ([]pair, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	byName := map[string]*pair{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ext := strings.ToLower(filepath.Ext(e.Name()))
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if ext != ".json" && ext != ".mp3" && ext != ".wav" {
			continue
		}
		p := byName[name]
		if p == nil {
			p = &pair{name: name}
			byName[name] = p
		}
		full := filepath.Join(dir, e.Name())
		if ext == ".json" {
			p.meta = full
		} else {
			p.audio = full
		}
	}
	out := make([]pair, 0, len(byName))
	for _, p := range byName {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// ingestJobs is how many recordings `ingest --dir` stores at once: the
// uploads that finish together are made durable together (one sync of the
// audio and one of the database per batch, as for concurrent gRPC
// uploads), so the import runs at the rate of a busy telephony gateway.
const ingestJobs = 16

func ingestDir(ctx context.Context, ing *core.Backend, dir string, jobs int, stdout, stderr io.Writer) error {
	ps, err := pairs(dir)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, len(ps))
	var mu sync.Mutex
	var stored, converted, dups, done int
	type refusal struct{ name, why string }
	var refused []refusal
	t0 := time.Now()
	next := make(chan pair)
	var wg sync.WaitGroup
	for range max(1, jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				var res core.Stored
				var err error
				switch {
				case p.meta == "":
					err = errors.New("no NAME.json metadata next to the audio")
				case p.audio == "":
					err = errors.New("no NAME.mp3 or NAME.wav next to the metadata")
				default:
					res, err = ingestFile(ctx, ing, p.meta, p.audio)
				}
				mu.Lock()
				switch {
				case err != nil:
					refused = append(refused, refusal{p.name, domain.Describe(err)})
				case res.Duplicate:
					dups++
				default:
					stored++
					if res.Converted {
						converted++
					}
				}
				done++
				bar.set(done, fmt.Sprintf("stored %d, already known %d, refused %d", stored, dups, len(refused)))
				mu.Unlock()
			}
		}()
	}
	for _, p := range ps {
		select {
		case next <- p:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
	bar.done()
	if ctx.Err() != nil {
		return fmt.Errorf("ingest: interrupted after %d of %d (%d stored, %d already known, %d refused)",
			done, len(ps), stored, dups, len(refused))
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i].name < refused[j].name })
	fmt.Fprintf(stdout, "%d recordings in %s: %d stored (%d converted), %d already known, %d refused (%s)\n",
		len(ps), dir, stored, converted, dups, len(refused), time.Since(t0).Round(time.Millisecond))
	for _, r := range refused {
		fmt.Fprintf(stdout, "refused %s: %s\n", r.name, r.why)
	}
	if len(refused) > 0 {
		return fmt.Errorf("ingest: %d of %d refused", len(refused), len(ps))
	}
	return nil
}

// progress redraws one stderr line when stderr is a terminal; elsewhere (logs,
// CI) it stays silent and the summary says it all.
type progress struct {
	w     io.Writer
	total int
	tty   bool
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) set(n int, note string) {
	if !p.tty || (n < p.total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width
	if p.total > 0 {
		fill = n * width / p.total
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %s\x1b[K", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), n, p.total, note)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
