package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ingestDataDir is a data directory with one team, agent, campaign and a
// recording period around now.
func ingestDataDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	st, now := app.Store(), time.Now()
	if err := errors.Join(st.CreateTeam(ctx, store.Team{ID: "team-a", Name: "A", CreatedAt: now}),
		st.CreateCampaign(ctx, store.Campaign{ID: "camp-a", Name: "A", ClientName: "C", CreatedAt: now}),
		st.CreateAgent(ctx, store.Agent{ID: "agent-a", Name: "Alice", TeamID: "team-a", CreatedAt: now}),
		st.AddRecordingPeriod(ctx, store.RecordingPeriod{ID: "p", TeamID: "team-a", StartsAt: now.AddDate(0, -1, 0),
			EndsAt: now.AddDate(0, 1, 0), CreatedAt: now})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeMeta(t testing.TB, path, ext string, edit func(*ecoutev1.RecordingMetadata)) {
	t.Helper()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	md := &ecoutev1.RecordingMetadata{ExternalId: ext, StartedAt: timestamppb.New(start),
		EndedAt: timestamppb.New(start.Add(40 * time.Second)), AgentId: "agent-a", TeamId: "team-a",
		CampaignId: "camp-a", Direction: "inbound",
		Consent: &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-5 * time.Second)), Accepted: true}}
	if edit != nil {
		edit(md)
	}
	b, err := protojson.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyClip(t *testing.T, dst string) {
	t.Helper()
	b, err := os.ReadFile("../../internal/demo/audio/07-carte.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestIngestOne(t *testing.T) {
	data := ingestDataDir(t)
	in := t.TempDir()
	meta, mp3 := filepath.Join(in, "a.json"), filepath.Join(in, "a.mp3")
	writeMeta(t, meta, "pbx-1", nil)
	copyClip(t, mp3)
	out, errOut, err := runArgs("", "--data", data, "ingest", "--meta", meta, mp3)
	if err != nil || !strings.Contains(out, "stored as call ") {
		t.Fatalf("ingest: %v %q %q", err, out, errOut)
	}
	out, _, err = runArgs("", "--data", data, "ingest", "--meta", meta, mp3)
	if err != nil || !strings.Contains(out, "already stored") {
		t.Errorf("second ingest: %v %q", err, out)
	}
	writeMeta(t, meta, "pbx-2", func(m *ecoutev1.RecordingMetadata) { m.Customer = &ecoutev1.Customer{PhoneE164: "0612345678"} })
	_, _, err = runArgs("", "--data", data, "ingest", "--meta", meta, mp3)
	if err == nil || !strings.Contains(err.Error(), "metadata.customer.phone_e164: \"0612345678\" is not E.164") ||
		strings.Contains(err.Error(), "InvalidArgument") {
		t.Errorf("bad phone: %v", err)
	}
	writeMeta(t, meta, "pbx-3", func(m *ecoutev1.RecordingMetadata) { m.Consent.Accepted = false })
	_, _, err = runArgs("", "--data", data, "ingest", "--meta", meta, mp3)
	if err == nil || !strings.Contains(err.Error(), "opted out") {
		t.Errorf("opted out: %v", err)
	}
	if _, _, err := runArgs("", "--data", data, "ingest", "--meta", meta); err == nil {
		t.Error("--meta without AUDIO accepted")
	}
}

func TestIngestDir(t *testing.T) {
	data := ingestDataDir(t)
	in := t.TempDir()
	for _, name := range []string{"01-good", "02-good", "03-optout", "04-unknown-agent"} {
		copyClip(t, filepath.Join(in, name+".mp3"))
	}
	writeMeta(t, filepath.Join(in, "01-good.json"), "x-1", nil)
	writeMeta(t, filepath.Join(in, "02-good.json"), "x-2", nil)
	writeMeta(t, filepath.Join(in, "03-optout.json"), "x-3", func(m *ecoutev1.RecordingMetadata) { m.Consent.Accepted = false })
	writeMeta(t, filepath.Join(in, "04-unknown-agent.json"), "x-4", func(m *ecoutev1.RecordingMetadata) { m.AgentId = "ghost" })
	writeMeta(t, filepath.Join(in, "05-no-audio.json"), "x-5", nil)
	os.WriteFile(filepath.Join(in, "06-corrupt.mp3"), []byte("ID3 not really an mp3"), 0o600)
	writeMeta(t, filepath.Join(in, "06-corrupt.json"), "x-6", nil)

	out, _, err := runArgs("", "--data", data, "ingest", "--dir", in)
	if err == nil || !strings.Contains(err.Error(), "4 of 6 refused") {
		t.Errorf("err = %v, want 4 of 6 refused", err)
	}
	for _, want := range []string{"6 recordings", "2 stored", "refused 03-optout: the caller opted out of recording",
		"refused 04-unknown-agent: metadata.agent_id: unknown \"ghost\"", "refused 05-no-audio: no NAME.mp3",
		"refused 06-corrupt: audio: "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// Operators read sentences, not gRPC code names.
	for _, code := range []string{"InvalidArgument", "FailedPrecondition", "rpc error"} {
		if strings.Contains(out, code) {
			t.Errorf("summary shows %q:\n%s", code, out)
		}
	}
	out, _, _ = runArgs("", "--data", data, "ingest", "--dir", in)
	if !strings.Contains(out, "0 stored (0 converted), 2 already known") {
		t.Errorf("second import:\n%s", out)
	}
}

func TestIngestConvertsWithTranscoder(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (.ci/run installs it)")
	}
	data := ingestDataDir(t)
	in := t.TempDir()
	mp3 := filepath.Join(in, "tel.mp3")
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=300:d=2",
		"-ar", "8000", "-ac", "1", "-b:a", "16k", mp3).CombinedOutput(); err != nil {
		t.Fatalf("make 8 kHz MP3: %v %s", err, out)
	}
	writeMeta(t, filepath.Join(in, "tel.json"), "tel-1", nil)
	_, _, err := runArgs("", "--data", data, "ingest", "--meta", filepath.Join(in, "tel.json"), mp3)
	if err == nil || !strings.Contains(err.Error(), "MPEG-2.5 at 8000 Hz") || !strings.Contains(err.Error(), "accepted as is") {
		t.Errorf("without transcoder: %v", err)
	}
	out, _, err := runArgs("", "--data", data, "ingest", "--transcoder", "ffmpeg", "--meta", filepath.Join(in, "tel.json"), mp3)
	if err != nil || !strings.Contains(out, "converted") {
		t.Errorf("with ffmpeg: %v %q", err, out)
	}
}

// TestCommandLineChangesAreAudited: changes made from the command line
// reach the audit trail like those made over gRPC (R10); a refused
// recording is recorded without naming a call.
func TestCommandLineChangesAreAudited(t *testing.T) {
	data := ingestDataDir(t)
	in := t.TempDir()
	meta, mp3 := filepath.Join(in, "a.json"), filepath.Join(in, "a.mp3")
	copyClip(t, mp3)
	writeMeta(t, meta, "pbx-1", nil)
	if _, _, err := runArgs("", "--data", data, "ingest", "--meta", meta, mp3); err != nil {
		t.Fatal(err)
	}
	writeMeta(t, meta, "pbx-2", func(m *ecoutev1.RecordingMetadata) { m.Consent.Accepted = false })
	if _, _, err := runArgs("", "--data", data, "ingest", "--meta", meta, mp3); err == nil {
		t.Fatal("opted-out recording accepted")
	}
	if _, _, err := runArgs("", "--data", data, "team", "add", "--id", "team-x", "--name", "X"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", data, "user", "add", "--login", "mvidal", "--first", "Marc", "--last", "Vidal",
		"--role", "trainer", "--team", "team-x"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	links, err := app.Audit().List(ctx, audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]audit.Link{}
	for _, l := range links {
		got[l.Action] = append(got[l.Action], l)
	}
	// One entry per change, the same as over gRPC (the front door
	// records them), from the operator's local account.
	for action, result := range map[string]string{audit.ActionIngestAccepted: "ok", audit.ActionIngestOptOut: "OPTED_OUT",
		"team.create": "ok", "account.create": "ok"} {
		if len(got[action]) != 1 {
			t.Errorf("%d %s entries, want 1; entries: %v", len(got[action]), action, got)
			continue
		}
		l := got[action][0]
		if l.Details["result"] != result || l.Source != "local" || !strings.HasPrefix(l.Actor.Login, "ecouted") ||
			l.Actor.Role != "system" {
			t.Errorf("%s entry: %+v", action, l)
		}
	}
	if l := got[audit.ActionIngestAccepted]; len(l) == 1 && l[0].Target == "" {
		t.Error("a stored recording's entry names no call")
	}
	if l := got[audit.ActionIngestOptOut]; len(l) == 1 && (l[0].Target != "" || len(l[0].Details) != 1) {
		t.Errorf("an opted-out recording's entry says more than its result: %+v", l[0])
	}
}
