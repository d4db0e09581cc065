package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/pgtest"
)

// TestFailoverLosesNoAcknowledgedUpload: ecouted on a PostgreSQL primary
// with a synchronous standby, named together in its multi-host URL
// (target_session_attrs=read-write). Twenty uploaders send recordings, as
// PBXs do, trying again after an error; a supervisor's console lists calls.
// The primary is killed (SIGKILL) mid-stream and the standby promoted:
// every upload ecouted acknowledged is in the database, the console goes
// on without logging in again, and the audit chain verifies.
func TestFailoverLosesNoAcknowledgedUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	primary := pgtest.Start(t)
	standby := primary.StartStandby(t)
	dsn := fmt.Sprintf("postgres://%s@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		pgtest.Superuser, primary.Port, standby.Port)
	bin := buildBin(t, "../../cmd/ecouted", "ecouted")
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "ecouted.yaml"), []byte("store: "+dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ecoutedCmd(t, bin, data, "", "init", "--name", "Paul Renaud")
	csvPath := filepath.Join(t.TempDir(), "annuaire.csv")
	csv := "Type;Identifiant;Nom;Équipe;Client;Statut\r\néquipe;T1;Énergie;;;\r\ncampagne;C1;Contrats;;Fournisseur SA;\r\n" +
		"agent;4001;Agent 1;T1;;actif\r\nagent;4002;Agent 2;T1;;actif\r\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	ecoutedCmd(t, bin, data, "", "directory", "import", csvPath)
	now := time.Now().UTC()
	day := now.Truncate(24*time.Hour).AddDate(0, 0, -1)
	ecoutedCmd(t, bin, data, "", "period", "add", "--team", "T1", "--from", day.Format(time.DateOnly),
		"--to", now.AddDate(0, 0, 30).Format(time.DateOnly), "--informed-on", now.AddDate(0, 0, -7).Format(time.DateOnly))
	pbxPassword, supPassword := "quatre chevaux blancs sur la colline verte", "une superviseuse pendant la panne"
	ecoutedCmd(t, bin, data, pbxPassword+"\n", "user", "add", "--login", "pbx", "--name", "Centrale Téléphonique", "--role", "telephony")
	ecoutedCmd(t, bin, data, supPassword+"\n", "user", "add", "--login", "cdubois", "--name", "Claire Dubois",
		"--role", "supervisor", "--team", "T1")
	addr := serveEcouted(t, bin, data)
	ca, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	token := firstLogin(ctx, t, addr, ca, "pbx", pbxPassword, "le serveur vocal du premier sous-sol")
	console, _ := firstConsole(ctx, t, addr, ca, "cdubois", supPassword, "ma propre phrase de superviseuse")
	defer console.Close()
	audio, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-i",
		"../../internal/demo/audio/05-box.mp3", "-t", "4"}, append(pbxFormats["mp3"], "pipe:1")...)...).Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}

	// Twenty uploaders, each sending its own recordings one after the
	// other, each again until acknowledged (a duplicate answer is an
	// acknowledgement: the first try was committed, its answer lost).
	ingest := ingestClient(t, addr, ca)
	uctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	var (
		mu       sync.Mutex
		acked    []string
		failures atomic.Int64
		seq      atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for u := range 20 {
		wg.Go(func() {
			for !stop.Load() {
				i := seq.Add(1)
				start := day.Add(8*time.Hour + time.Duration(i)*10*time.Second)
				r := recording{format: "mp3", audio: audio, md: &ecoutev1.RecordingMetadata{
					ExternalId: fmt.Sprintf("pbx-%02d-%05d", u, i), StartedAt: timestamppb.New(start),
					EndedAt: timestamppb.New(start.Add(4 * time.Second)), AgentId: strconv.Itoa(4001 + int(i)%2),
					TeamId: "T1", CampaignId: "C1", Direction: "inbound",
					Customer: &ecoutev1.Customer{PhoneE164: fmt.Sprintf("+3361299%04d", i%10000)},
					Consent:  &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-8 * time.Second)), Accepted: true},
				}}
				for ctx.Err() == nil {
					if _, err := uploadRecording(uctx, ingest, r); err == nil {
						mu.Lock()
						acked = append(acked, r.md.ExternalId)
						mu.Unlock()
						break
					}
					failures.Add(1)
					time.Sleep(50 * time.Millisecond) // a PBX's retry delay
				}
			}
		})
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	listOK := func() bool {
		_, err := console.ListCalls(ctx, client.CallQuery{PageSize: 10})
		return err == nil
	}
	waitFor("100 acknowledged uploads", func() bool { return count() >= 100 })
	if !listOK() {
		t.Fatal("the console cannot list before the failover")
	}

	// The primary dies; the standby is promoted.
	before := count()
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	waitFor("100 more acknowledged uploads after the failover", func() bool { return count() >= before+100 })
	waitFor("the console listing again, in the same session", listOK)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d uploads acknowledged (%d before the kill), %d tries failed and were sent again", count(), before, failures.Load())

	// Every acknowledged upload is in the promoted database.
	st, err := store.OpenPostgres(ctx, standby.DSN("postgres"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var lost []string
	for _, ext := range acked {
		if _, err := st.CallIDByExternalID(ctx, ext); err != nil {
			lost = append(lost, ext)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d acknowledged uploads lost in the failover: %v", len(lost), lost)
	}
	if out := ecoutedCmd(t, bin, data, "", "audit", "verify"); !strings.HasPrefix(out, "OK") {
		t.Errorf("audit verify after the failover:\n%s", out)
	}
}
