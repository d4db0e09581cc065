package backend_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestOpenRefusesUnlawfulSettings(t *testing.T) {
	dir := t.TempDir()
	s := config.Defaults()
	s.ConnectionLogs = config.MustPeriod("2mo")
	_, err := backend.Open(context.Background(), backend.Config{DataDir: dir, Settings: s})
	if err == nil || !strings.Contains(err.Error(), "3mo–12mo") {
		t.Fatalf("Open with connection_logs 2mo: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, backend.DBFile)); err == nil {
		t.Error("database created despite the refusal")
	}
}

// TestRecordingLifeThroughGRPC follows one upload: pending and invisible to
// the console (list, get, stream), kept by the sampling (rate 1 here, so
// the outcome is certain), visible, then deleted at 6 months + 1 day with
// its file; each job run lands in the audit trail.
func TestRecordingLifeThroughGRPC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	s := config.Defaults()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: clk, Settings: s, SampleAll: true})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, lis, false) }()
	defer func() { cancel(); <-served }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	as := func(role string) context.Context {
		t.Helper()
		for _, a := range accounts {
			if a.Role == role {
				resp, err := ecoutev1.NewAuthServiceClient(conn).Login(ctx, &ecoutev1.LoginRequest{Login: a.Login, Password: a.Password})
				if err != nil {
					t.Fatalf("login %s: %v", role, err)
				}
				return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+resp.Token)
			}
		}
		t.Fatalf("no demo account for %s", role)
		return nil
	}
	clip, err := os.ReadFile("../internal/demo/audio/07-carte.mp3")
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now().Add(-time.Hour)
	up, err := ecoutev1.NewIngestServiceClient(conn).UploadRecording(as("telephony"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Metadata{Metadata: &ecoutev1.RecordingMetadata{
		ExternalId: "life-1", StartedAt: timestamppb.New(start), EndedAt: timestamppb.New(start.Add(45 * time.Second)),
		AgentId: "agent-02", TeamId: "team-banque", CampaignId: "camp-opinion", Direction: "outbound",
		Customer: &ecoutev1.Customer{Name: "Jean Test", PhoneE164: "+33612345678"},
		Consent: &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-10 * time.Second)),
			AnsweredAt: timestamppb.New(start.Add(-5 * time.Second)), Accepted: true},
	}}}))
	must(up.Send(&ecoutev1.UploadRecordingRequest{Part: &ecoutev1.UploadRecordingRequest_Audio{Audio: clip}}))
	res, err := up.CloseAndRecv()
	must(err)
	id := res.CallId

	calls := ecoutev1.NewCallServiceClient(conn)
	visible := func(role string) (listed bool, get, stream codes.Code) {
		t.Helper()
		c := as(role)
		page := ""
		for {
			r, err := calls.ListCalls(c, &ecoutev1.ListCallsRequest{PageSize: 500, PageToken: page})
			must(err)
			for _, call := range r.Calls {
				listed = listed || call.CallId == id
			}
			if page = r.NextPageToken; page == "" {
				break
			}
		}
		_, err := calls.GetCall(c, &ecoutev1.GetCallRequest{CallId: id})
		get = code(err)
		st, err := calls.StreamAudio(c, &ecoutev1.StreamAudioRequest{CallId: id})
		if err == nil {
			_, err = st.Recv()
		}
		if err == io.EOF {
			err = nil
		}
		return listed, get, code(err)
	}
	// Every role that reads calls (maintenance may not stream at all).
	for _, role := range []string{"supervisor", "maintenance"} {
		if listed, get, stream := visible(role); listed || get != codes.NotFound || stream == codes.OK {
			t.Errorf("%s sees the pending recording: listed %v, get %v, stream %v", role, listed, get, stream)
		}
	}

	rep, err := app.Sample(ctx, start.Add(48*time.Hour))
	must(err)
	if rep.Received != 1 || rep.Kept != 1 {
		t.Fatalf("sampling report %+v", rep)
	}
	if listed, get, stream := visible("supervisor"); !listed || get != codes.OK || stream != codes.OK {
		t.Errorf("kept recording: listed %v, get %v, stream %v", listed, get, stream)
	}
	if files := mp3Files(t, dir); len(files) == 0 {
		t.Fatal("no audio files before the purge")
	}
	jobActions := func() []string {
		t.Helper()
		var actions []string
		links, err := app.Audit().List(ctx, audit.Query{Action: "job.", Limit: 10})
		must(err)
		for _, l := range links {
			actions = append(actions, l.Action)
			if strings.Contains(l.Target+strings.Join(mapValues(l.Details), " "), id) {
				t.Errorf("audit entry %s names the call", l.Action)
			}
		}
		return actions
	}
	if a := jobActions(); !slices.Contains(a, audit.ActionJobSampling) {
		t.Errorf("audit job entries after sampling: %v", a)
	}

	clk.Set(start.AddDate(0, 6, 1))
	sum, err := app.Purge(ctx, clk.Now())
	must(err)
	if sum["recordings"] < 1 || sum["evaluations"] != 0 {
		t.Errorf("purge counts at 6 months + 1 day %v: want recordings gone, evaluations kept", sum)
	}
	// Passwords have expired by now (R9), so look at the row directly.
	if _, err := app.Store().CallIDByExternalID(ctx, "life-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged recording's row: %v", err)
	}
	if files := mp3Files(t, dir); len(files) != 0 {
		t.Errorf("%d audio files left after the purge at 6 months + 1 day: %v", len(files), files[:min(3, len(files))])
	}

	if a := jobActions(); !slices.Contains(a, audit.ActionJobPurge) {
		t.Errorf("audit job entries after the purge: %v", a)
	}

	// Evaluations (the demo has some) go 1 year after creation (R4, R12).
	clk.Set(start.AddDate(1, 0, 1))
	sum, err = app.Purge(ctx, clk.Now())
	must(err)
	if sum["evaluations"] == 0 {
		t.Errorf("purge at 1 year + 1 day deleted no evaluation: %v", sum)
	}
	if sum, err = app.Purge(ctx, clk.Now()); err != nil || sum["evaluations"] != 0 || sum["recordings"] != 0 {
		t.Errorf("second purge: %v %v, want nothing left to delete", sum, err)
	}
}

func mp3Files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, backend.AudioDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mp3") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestPasswordMaxAgeFromSettings: passwords.max_age in ecouted.yaml is the
// age at which a login must change its password (R9).
func TestPasswordMaxAgeFromSettings(t *testing.T) {
	settings := config.Defaults()
	settings.PasswordMaxAge = config.MustPeriod("30d")
	app, err := backend.Open(context.Background(), backend.Config{DataDir: t.TempDir(), Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if got := app.Sessions().Rules.MaxAge; got != 30*24*time.Hour {
		t.Errorf("password max age %v, want 720h", got)
	}
}
