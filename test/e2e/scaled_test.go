package e2e

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/pgtest"
	"github.com/ecoute/ecoute/internal/s3test"
)

// TestThreeServersOnePostgreSQLOneBucket is README's "Several servers":
// three ecouted (real binaries) share a PostgreSQL database and an S3
// bucket; the second and third start from the first one's shared files.
// Recordings uploaded to any of them are sampled once, whichever runs the
// sampling (all three at once here), a supervisor sees the same calls on
// every server and plays, on the third, a call another server stored; the
// audio is in the bucket, not on the servers' disks; the audit chain
// verifies from every server.
func TestThreeServersOnePostgreSQLOneBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	pg := pgtest.Start(t)
	s3 := s3test.Start(t)
	if err := s3.MakeBucket("ecoute"); err != nil {
		t.Fatal(err)
	}
	s3.SetEnv(t) // the servers read their S3 credentials from the environment
	bin := buildBin(t, "../../cmd/ecouted", "ecouted")
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	settings := fmt.Sprintf("store: %s\nblobs: %s\nsampling:\n  rate: 0.1\n", pg.DSN("postgres"), s3.URL("ecoute", "site-a"))
	if err := os.WriteFile(filepath.Join(dirs[0], "ecouted.yaml"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}

	// The first server: init, the directory, the periods, the accounts.
	ecoutedCmd(t, bin, dirs[0], "", "init", "--name", "Paul Renaud")
	const agents = 4
	csv := "Type;Identifiant;Nom;Équipe;Client;Statut\r\néquipe;T1;Énergie;;;\r\ncampagne;C1;Contrats;;Fournisseur SA;\r\n"
	for i := range agents {
		csv += fmt.Sprintf("agent;%d;Agent %d;T1;;actif\r\n", 3001+i, i+1)
	}
	csvPath := filepath.Join(t.TempDir(), "annuaire.csv")
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	ecoutedCmd(t, bin, dirs[0], "", "directory", "import", csvPath)
	now := time.Now().UTC()
	day := now.Truncate(24*time.Hour).AddDate(0, 0, -1)
	ecoutedCmd(t, bin, dirs[0], "", "period", "add", "--team", "T1", "--from", day.Format(time.DateOnly),
		"--to", now.AddDate(0, 0, 30).Format(time.DateOnly), "--informed-on", now.AddDate(0, 0, -7).Format(time.DateOnly))
	pbxPassword, supPassword := "quatre chevaux blancs sur la colline verte", "une superviseuse et ses trois serveurs"
	ecoutedCmd(t, bin, dirs[0], pbxPassword+"\n", "user", "add", "--login", "pbx", "--name", "Centrale Téléphonique", "--role", "telephony")
	ecoutedCmd(t, bin, dirs[0], supPassword+"\n", "user", "add", "--login", "cdubois", "--name", "Claire Dubois",
		"--role", "supervisor", "--team", "T1")

	// The other two: the first one's settings and shared files.
	for _, d := range dirs[1:] {
		for _, f := range append([]string{"ecouted.yaml"}, backend.SharedFiles...) {
			b, err := os.ReadFile(filepath.Join(dirs[0], f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(d, f)), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	addrs := make([]string, len(dirs))
	for i, d := range dirs {
		addrs[i] = serveEcouted(t, bin, d)
	}
	ca, err := os.ReadFile(filepath.Join(dirs[0], "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Uploads, spread over the three servers.
	audio, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-i",
		"../../internal/demo/audio/05-box.mp3", "-t", "6"}, append(pbxFormats["mp3"], "pipe:1")...)...).Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	token := firstLogin(ctx, t, addrs[0], ca, "pbx", pbxPassword, "le serveur vocal du premier sous-sol")
	ingest := make([]ecoutev1.IngestServiceClient, len(addrs))
	for i, a := range addrs {
		ingest[i] = ingestClient(t, a, ca)
	}
	uctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	const uploads = 40
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	for i := range uploads {
		start := day.Add(9*time.Hour + time.Duration(i)*30*time.Second)
		r := recording{format: "mp3", audio: audio, md: &ecoutev1.RecordingMetadata{
			ExternalId: fmt.Sprintf("pbx-%05d", i), StartedAt: timestamppb.New(start),
			EndedAt: timestamppb.New(start.Add(6 * time.Second)), AgentId: strconv.Itoa(3001 + i%agents),
			TeamId: "T1", CampaignId: "C1", Direction: "inbound",
			Customer: &ecoutev1.Customer{PhoneE164: fmt.Sprintf("+3361234%04d", i)},
			Consent:  &ecoutev1.Consent{RequestedAt: timestamppb.New(start.Add(-8 * time.Second)), Accepted: true},
		}}
		server := i % len(addrs)
		wg.Go(func() {
			if res, err := uploadRecording(uctx, ingest[server], r); err != nil || res.Duplicate {
				errs <- fmt.Errorf("%s to server %d: %v %v", r.md.ExternalId, server+1, res, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// The sampling, asked of the three servers at once: the day is sampled
	// once, by whichever gets there first.
	var received, kept int
	outs := make([]string, len(dirs))
	for i, d := range dirs {
		wg.Go(func() { outs[i] = ecoutedCmd(t, bin, d, "", "sample") })
	}
	wg.Wait()
	re := regexp.MustCompile(`(?m)^sampled \d+ day\(s\) at rate [0-9.]+: (\d+) recordings, (\d+) kept`)
	for i, out := range outs {
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("sample on server %d:\n%s", i+1, out)
		}
		r, _ := strconv.Atoi(m[1])
		k, _ := strconv.Atoi(m[2])
		received, kept = received+r, kept+k
	}
	if received != uploads || kept < agents || kept > uploads/2 {
		t.Fatalf("the three samplings settled %d recordings and kept %d; want %d settled once, about a tenth kept:\n%s",
			received, kept, uploads, strings.Join(outs, "\n"))
	}

	t.Logf("%d uploads to 3 servers; the three samplings at once settled %d and kept %d", uploads, received, kept)

	// The supervisor sees the same calls on every server, and plays on the
	// third a call the first or second stored.
	var seen []string
	for i, addr := range addrs {
		cl, err := client.Dial(ctx, addr, client.Options{CAPEM: ca})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		password := supPassword
		if i > 0 {
			password = "ma propre phrase de superviseuse"
		}
		lr, err := cl.Login(ctx, "cdubois", password)
		if err != nil {
			t.Fatalf("login on server %d: %v", i+1, err)
		}
		if lr.PasswordChangeRequired {
			if _, err := cl.ChangePassword(ctx, password, "ma propre phrase de superviseuse"); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := cl.ListCalls(ctx, client.CallQuery{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range resp.Calls {
			ids = append(ids, c.CallId)
		}
		slices.Sort(ids)
		if len(ids) != kept || (seen != nil && !slices.Equal(ids, seen)) {
			t.Fatalf("server %d lists %v; want the %d kept calls %v", i+1, ids, kept, seen)
		}
		seen = ids
		if i == len(addrs)-1 {
			for _, id := range ids {
				size, err := cl.AudioSize(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				rc, err := cl.AudioSource(id, size).Open(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || int64(len(b)) != size {
					t.Fatalf("call %s from server 3: %d of %d bytes, %v", id, len(b), size, err)
				}
			}
		}
	}

	// The audio is in the bucket, sealed; the servers' disks hold none.
	var objects int
	filepath.WalkDir(filepath.Join(s3.Dir, "ecoute", "site-a", "calls"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			objects++
		}
		return nil
	})
	if objects != kept {
		t.Errorf("the bucket holds %d recordings, want the %d kept", objects, kept)
	}
	for i, d := range dirs {
		if entries, _ := os.ReadDir(filepath.Join(d, backend.AudioDir, "calls")); len(entries) > 0 {
			t.Errorf("server %d keeps audio on its disk: %d entries", i+1, len(entries))
		}
	}
	for i, d := range dirs {
		if out := ecoutedCmd(t, bin, d, "", "audit", "verify"); !strings.HasPrefix(out, "OK") {
			t.Errorf("audit verify on server %d:\n%s", i+1, out)
		}
	}
}
