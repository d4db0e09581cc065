package backend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"github.com/ecoute/ecoute/backend/service"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var ingestNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// ingester calls the front door's Ingest as the gRPC service and the
// command line do, with the error as a client would see it.
type ingester struct{ b *core.Backend }

func (i ingester) Ingest(ctx context.Context, md *ecoutev1.RecordingMetadata, r io.Reader) (core.Stored, error) {
	res, err := i.b.Ingest(ctx, core.Local(), service.RecordingFromProto(md), r)
	return res, rpcerr.Error(err)
}

// ingestApp opens a fresh data directory on a fake clock with one team,
// agent and campaign, and returns the ingestion gRPC serves.
func ingestApp(t *testing.T, transcoder string) (*backend.App, ingester, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	// Every upload is kept at the sampling (keep): these tests look at
	// what a kept call gets.
	app, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: clock.NewFake(ingestNow), Transcoder: transcoder,
		SampleAll: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	ing := ingestFixtures(t, app)
	return app, ing, dir
}

// keep runs the daily jobs of the day after the uploads (ingestApp keeps
// every call): the sampling, then the peaks of the calls kept. It returns
// how many calls got their peaks.
func keep(t *testing.T, app *backend.App) int {
	t.Helper()
	ctx := context.Background()
	if _, err := app.Sample(ctx, ingestNow.Add(48*time.Hour)); err != nil {
		t.Fatalf("sampling: %v", err)
	}
	n, err := app.Waveforms(ctx, ingestNow.Add(48*time.Hour))
	if err != nil {
		t.Fatalf("waveforms: %v", err)
	}
	return n
}

// storedAudio is how many recordings the audio store holds; it fails the
// test for anything in it that no row names (a file, a range of a pack).
func storedAudio(t *testing.T, app *backend.App, dir string) int {
	t.Helper()
	keys, err := app.Store().AudioKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unnamedAudio(t, filepath.Join(dir, backend.AudioDir), keys) {
		t.Errorf("audio no row names: %s", u)
	}
	return len(keys)
}

// ingestFixtures gives app the team, agent, campaign and recording period
// the uploads of these tests name, and returns its ingestion.
func ingestFixtures(t *testing.T, app *backend.App) ingester {
	t.Helper()
	ctx := context.Background()
	st := app.Store()
	if err := errors.Join(st.CreateTeam(ctx, store.Team{ID: "team-a", Name: "A", CreatedAt: ingestNow}),
		st.CreateCampaign(ctx, store.Campaign{ID: "camp-a", Name: "A", ClientName: "C", CreatedAt: ingestNow}),
		st.CreateAgent(ctx, store.Agent{ID: "agent-a", Name: "Alice", TeamID: "team-a", CreatedAt: ingestNow}),
		st.AddRecordingPeriod(ctx, store.RecordingPeriod{ID: "p1", TeamID: "team-a", StartsAt: ingestNow.AddDate(0, -1, 0),
			EndsAt: ingestNow.AddDate(0, 1, 0), CreatedAt: ingestNow})); err != nil {
		t.Fatal(err)
	}
	return ingester{app.Core()}
}

func fixedMeta(ext string) *ecoutev1.RecordingMetadata {
	start := ingestNow.Add(-time.Hour)
	return &ecoutev1.RecordingMetadata{
		ExternalId: ext, StartedAt: timestamppb.New(start), EndedAt: timestamppb.New(start.Add(45 * time.Second)),
		AgentId: "agent-a", TeamId: "team-a", CampaignId: "camp-a", Direction: "inbound",
		Customer: &ecoutev1.Customer{PhoneE164: "+33612345678"},
		Consent:  &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-8 * time.Second)), Accepted: true},
	}
}

// files lists every file under the data directory's audio store except the
// key check, temporary files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, backend.AudioDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".key-check" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// untouchable fails the test if anything reads it.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("the audio of an opted-out call was read")
	return 0, io.EOF
}

func TestOptedOutAudioIsNeverRead(t *testing.T) {
	ctx := context.Background()
	app, ing, dir := ingestApp(t, "")
	md := fixedMeta("refused-1")
	md.Consent.Accepted = false
	md.Consent.AnsweredAt = timestamppb.New(md.StartedAt.AsTime().Add(-2 * time.Second))
	_, err := ing.Ingest(ctx, md, untouchable{t})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("opted out: %v", err)
	}
	// Without a start time the day is today by the clock.
	md2 := fixedMeta("refused-2")
	md2.Consent.Accepted, md2.StartedAt = false, nil
	if _, err := ing.Ingest(ctx, md2, untouchable{t}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("opted out without start: %v", err)
	}
	if n, err := app.Store().OptOutCount(ctx, ingestNow); err != nil || n != 2 {
		t.Errorf("opt-out count for %s = %d, %v; want 2", ingestNow.Format(time.DateOnly), n, err)
	}
	if left := files(t, dir); len(left) != 0 {
		t.Errorf("files after opt-out: %v", left)
	}
	if _, err := app.Store().CallIDByExternalID(ctx, "refused-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row for an opted-out call: %v", err)
	}
}

func TestIngestStoresEncryptedWithIndexAndPeaks(t *testing.T) {
	ctx := context.Background()
	app, ing, dir := ingestApp(t, "")
	data := clip(t)
	res, err := ing.Ingest(ctx, fixedMeta("enc-1"), bytes.NewReader(data))
	if err != nil || res.Duplicate || res.Converted {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
	again, err := ing.Ingest(ctx, fixedMeta("enc-1"), bytes.NewReader(data))
	if err != nil || !again.Duplicate || again.CallID != res.CallID {
		t.Fatalf("re-ingest: %+v, %v", again, err)
	}
	left := files(t, dir)
	if len(left) != 1 || storedAudio(t, app, dir) != 1 {
		t.Fatalf("files: %v, want the one pack holding the one blob", left)
	}
	disk, _ := os.ReadFile(left[0])
	if bytes.Contains(disk, data[:4]) || bytes.Contains(disk, data[1000:1032]) {
		t.Error("the blob on disk contains plaintext audio")
	}
	// Nothing was decoded at the upload: the peaks and the frame index wait
	// for the sampling, for the calls kept.
	if _, wf, err := app.Store().IngestedAudio(ctx, res.CallID); err != nil || len(wf.FrameOffsets) != 0 || len(wf.Peaks) != 0 || wf.Bucket != 0 {
		t.Errorf("waiting upload has %d frame offsets, %d peaks (%v)", len(wf.FrameOffsets), len(wf.Peaks), err)
	}
	if n := keep(t, app); n != 1 {
		t.Errorf("the daily job computed the peaks of %d calls, want 1", n)
	}
	ix, _ := mp3frame.Scan(bytes.NewReader(data))
	_, wf, err := app.Store().IngestedAudio(ctx, res.CallID)
	if err != nil {
		t.Fatal(err)
	}
	if len(wf.FrameOffsets) != len(ix.Offsets) || wf.FrameOffsets[len(ix.Offsets)-1] != ix.Offsets[len(ix.Offsets)-1] || len(wf.Peaks) < 10 {
		t.Errorf("frame index %d (want %d), %d peaks", len(wf.FrameOffsets), len(ix.Offsets), len(wf.Peaks))
	}
	if n := keep(t, app); n != 0 {
		t.Errorf("the daily job computed the peaks of %d calls again", n)
	}
}

// mp3At encodes a 3-second tone at rate with ffmpeg (or lame): the
// telephony-rate files the transcoder exists for.
func mp3At(t *testing.T, rate int) []byte {
	t.Helper()
	var cmd *exec.Cmd
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		cmd = exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=3",
			"-ar", itoa(rate), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "16k", "-f", "mp3", "pipe:1")
	} else if _, err := exec.LookPath("sox"); err == nil {
		cmd = exec.Command("sh", "-c", "sox -n -r "+itoa(rate)+" -c 1 -b 16 -t wav - synth 3 sine 440 | lame --quiet -b 16 - -")
	} else {
		t.Skip("no ffmpeg (nor sox + lame) to make telephony-rate MP3s; .ci/run installs ffmpeg")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make %d Hz MP3: %v", rate, err)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTelephonyRatesRefusedWithoutTranscoder(t *testing.T) {
	before := audioFiles(t)
	for _, c := range []struct {
		rate int
		says string
	}{{8000, "MPEG-2.5 at 8000 Hz"}, {22050, "MPEG-2 at 22050 Hz"}} {
		_, err := upload(t, metadataFor("rate-"+itoa(c.rate)), mp3At(t, c.rate))
		msg := status.Convert(err).Message()
		if code(err) != codes.InvalidArgument || !strings.Contains(msg, c.says) ||
			!strings.Contains(msg, "accepted as is (stored as they are): MPEG-1 Layer III") || !strings.Contains(msg, "a transcoder would convert it") || !strings.Contains(msg, "MPEG-2 Layer III at 16 or 24 kHz") ||
			!strings.Contains(msg, "ingest.transcoder") {
			t.Errorf("%d Hz: %v; want InvalidArgument saying %q and listing what is accepted", c.rate, err, c.says)
		}
	}
	if after := audioFiles(t); len(after) != len(before) {
		t.Errorf("refused uploads left files: %v", after)
	}
}

func TestTelephonyRatesConverted(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []string{"ffmpeg", "lame"} {
		if _, err := exec.LookPath(tc); err != nil {
			t.Logf("%s not installed: not tried", tc)
			continue
		}
		t.Run(tc, func(t *testing.T) {
			app, ing, dir := ingestApp(t, tc)
			for _, rate := range []int{8000, 22050} {
				in := mp3At(t, rate)
				res, err := ing.Ingest(ctx, fixedMeta(tc+"-"+itoa(rate)), bytes.NewReader(in))
				if err != nil || !res.Converted {
					t.Fatalf("%d Hz: %+v, %v", rate, res, err)
				}
				a, _, err := app.Store().IngestedAudio(ctx, res.CallID)
				if err != nil {
					t.Fatal(err)
				}
				if a.SampleRate != audio.CanonicalRate || a.Channels != 1 || a.BitrateKbps != audio.CanonicalKbps {
					t.Errorf("%d Hz stored as %+v", rate, a)
				}
				if d := a.Duration; d < 3*time.Second || d > 3500*time.Millisecond {
					t.Errorf("%d Hz: %v of audio after conversion, want about 3 s", rate, d)
				}
			}
			// G.711 µ-law WAV, the usual PBX export (made with ffmpeg).
			want := 2
			if _, err := exec.LookPath("ffmpeg"); err == nil {
				want++
				wav := filepath.Join(t.TempDir(), "pbx.wav")
				if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=3",
					"-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", wav).CombinedOutput(); err != nil {
					t.Fatalf("make µ-law WAV: %v %s", err, out)
				}
				in, _ := os.ReadFile(wav)
				res, err := ing.Ingest(ctx, fixedMeta(tc+"-wav"), bytes.NewReader(in))
				if err != nil || !res.Converted {
					t.Fatalf("µ-law WAV: %+v, %v", res, err)
				}
				if a, _, _ := app.Store().IngestedAudio(ctx, res.CallID); a.SampleRate != audio.CanonicalRate {
					t.Errorf("µ-law WAV stored at %d Hz", a.SampleRate)
				}
			} else {
				t.Log("ffmpeg not installed: the µ-law WAV case is covered by backend/audio only")
			}
			// A file cut short is repaired (its last frame left out),
			// then converted, and the call says so.
			in := mp3At(t, 8000)
			res, err := ing.Ingest(ctx, fixedMeta(tc+"-cut"), bytes.NewReader(in[:len(in)-7]))
			if err != nil || !res.Converted || !strings.Contains(res.Repair, "cut short") {
				t.Errorf("truncated 8 kHz MP3: %+v, %v", res, err)
			} else if a, _, _ := app.Store().IngestedAudio(ctx, res.CallID); a.Repair != res.Repair {
				t.Errorf("stored repair note %q, want %q", a.Repair, res.Repair)
			}
			want++
			if n := storedAudio(t, app, dir); n != want {
				t.Errorf("%d recordings stored, want the %d converted recordings", n, want)
			}
		})
	}
}

// A wrong or moved key must stop the backend at start, not at first play.
func TestOtherKeyRefusedAtOpen(t *testing.T) {
	dir := t.TempDir()
	app, err := backend.Open(context.Background(), backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	if st, err := os.Stat(filepath.Join(dir, blobs.KeyFileName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("data key file: %v", err)
	}
	t.Setenv(blobs.KeyEnv, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if _, err := backend.Open(context.Background(), backend.Config{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("open with another key: %v", err)
	}
}

// TestRetentionSettingDatesRecordings: a shorter retention.recordings is
// the deletion date the call carries (and the console shows), not the
// six-month maximum.
func TestRetentionSettingDatesRecordings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	settings := config.Defaults()
	settings.Recordings = config.MustPeriod("1mo")
	fake := clock.NewFake(ingestNow)
	app, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: fake, Settings: settings, SampleAll: true})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ing := ingestFixtures(t, app)
	md := fixedMeta("short-1")
	res, err := ing.Ingest(ctx, md, bytes.NewReader(clip(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Sample(ctx, ingestNow.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	c, err := app.Store().GetCall(ctx, res.CallID, store.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	// The date of the last daily purge (02:00 UTC) within start + 1 month:
	// the purge deletes it then, never later, and the date shown is that.
	end := md.StartedAt.AsTime().AddDate(0, 1, 0)
	want := time.Date(end.Year(), end.Month(), end.Day(), settings.SamplingHour, 0, 0, 0, time.UTC)
	if !c.RetainedUntil.Equal(want) || !c.RetainedUntil.Equal(settings.RecordingKeptUntil(c.StartedAt)) {
		t.Errorf("retained until %v, want %v (the last purge within start + 1 month)", c.RetainedUntil, want)
	}
}

// TestReuploadOfSampledOutCallRefused: a call the sampling deleted is
// refused when uploaded again (SAMPLED_OUT, AlreadyExists), so a retry is
// not another draw (R2), and nothing of the retry is stored; a kept call
// uploaded again is answered as a duplicate.
func TestReuploadOfSampledOutCallRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: clock.NewFake(ingestNow)}) // rate 0.05
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ing := ingestFixtures(t, app)
	data := clip(t)
	const n = 40
	for i := range n {
		if _, err := ing.Ingest(ctx, fixedMeta(fmt.Sprintf("retry-%02d", i)), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := app.Sample(ctx, ingestNow.Add(48*time.Hour))
	if err != nil || rep.Received != n || rep.Kept >= n/2 {
		t.Fatalf("sampling: %+v, %v", rep, err)
	}
	var gone, kept []string
	for i := range n {
		ext := fmt.Sprintf("retry-%02d", i)
		if _, err := app.Store().CallIDByExternalID(ctx, ext); errors.Is(err, store.ErrNotFound) {
			gone = append(gone, ext)
		} else if err == nil {
			kept = append(kept, ext)
		} else {
			t.Fatal(err)
		}
	}
	if len(gone) != n-rep.Kept || len(kept) != rep.Kept {
		t.Fatalf("%d gone and %d kept, the sampling said %d kept", len(gone), len(kept), rep.Kept)
	}
	before := storedAudio(t, app, dir)
	for _, ext := range gone {
		_, err := ing.Ingest(ctx, fixedMeta(ext), bytes.NewReader(data))
		info, _ := errorInfo(err)
		if status.Code(err) != codes.AlreadyExists || info.GetReason() != "SAMPLED_OUT" || !strings.Contains(err.Error(), ext) {
			t.Errorf("re-upload of sampled-out %s: %v; want AlreadyExists, SAMPLED_OUT", ext, err)
		}
		if _, err := app.Store().CallIDByExternalID(ctx, ext); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("re-upload of sampled-out %s stored a row: %v", ext, err)
		}
	}
	if after := storedAudio(t, app, dir); after != before {
		t.Errorf("%d recordings stored after the refused retries, %d before", after, before)
	}
	for _, ext := range kept {
		if res, err := ing.Ingest(ctx, fixedMeta(ext), bytes.NewReader(data)); err != nil || !res.Duplicate {
			t.Errorf("re-upload of kept %s: %+v, %v; want a duplicate", ext, res, err)
		}
	}
	// Another call of the same day is still taken (a late upload).
	if res, err := ing.Ingest(ctx, fixedMeta("retry-late"), bytes.NewReader(data)); err != nil || res.Duplicate {
		t.Errorf("late upload: %+v, %v", res, err)
	}
}

// TestImplausibleMetadataRefusedByField: the plausibility table is
// enforced at the door, with the field named (InvalidArgument with a
// field violation) and nothing stored; the table's rules are tested one by
// one in backend/plausibility.
func TestImplausibleMetadataRefusedByField(t *testing.T) {
	ctx := context.Background()
	app, ing, dir := ingestApp(t, "")
	if err := app.Store().CreateTeam(ctx, store.Team{ID: "team-b", Name: "B", CreatedAt: ingestNow}); err != nil {
		t.Fatal(err)
	}
	data := clip(t) // 40 s
	for _, c := range []struct {
		name, field string
		edit        func(md *ecoutev1.RecordingMetadata)
	}{
		{"starts in the future", "metadata.started_at", func(md *ecoutev1.RecordingMetadata) {
			md.StartedAt = timestamppb.New(ingestNow.Add(8 * 24 * time.Hour))
			md.EndedAt = timestamppb.New(ingestNow.Add(8*24*time.Hour + 45*time.Second))
			md.Consent.RequestedAt = timestamppb.New(ingestNow.Add(8*24*time.Hour - 5*time.Second))
		}},
		{"ends long after its audio", "metadata.ended_at", func(md *ecoutev1.RecordingMetadata) {
			md.EndedAt = timestamppb.New(md.StartedAt.AsTime().Add(30 * time.Minute))
		}},
		{"consent asked a year before", "metadata.consent.requested_at", func(md *ecoutev1.RecordingMetadata) {
			md.Consent.RequestedAt = timestamppb.New(md.StartedAt.AsTime().AddDate(-1, 0, 0))
		}},
		{"agent filed under another team", "metadata.team_id", func(md *ecoutev1.RecordingMetadata) { md.TeamId = "team-b" }},
		{"escape character", "metadata.customer.name", func(md *ecoutev1.RecordingMetadata) {
			md.Customer.Name = "Jean\x1b[2J"
		}},
		{"3 MiB string", "metadata.customer.address", func(md *ecoutev1.RecordingMetadata) {
			md.Customer.Address = strings.Repeat("a", 3<<20)
		}},
	} {
		md := fixedMeta("implausible-" + strings.ReplaceAll(c.name, " ", "-"))
		c.edit(md)
		_, err := ing.Ingest(ctx, md, bytes.NewReader(data))
		_, br := errorInfo(err)
		if status.Code(err) != codes.InvalidArgument || len(br.GetFieldViolations()) == 0 || br.GetFieldViolations()[0].GetField() != c.field {
			t.Errorf("%s: %v; want InvalidArgument on %s", c.name, err, c.field)
		}
		if _, err := app.Store().CallIDByExternalID(ctx, md.ExternalId); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: stored (%v)", c.name, err)
		}
	}
	if n := storedAudio(t, app, dir); n != 0 {
		t.Errorf("%d recordings stored by refused uploads", n)
	}
}
