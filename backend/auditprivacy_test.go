package backend_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/store"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// apEnv is a backend of its own (seeded demo, loopback TLS): the privacy
// tests erase calls, which the shared backend of app_test.go must keep.
type apEnv struct {
	app      *backend.App
	dir      string
	conn     *grpc.ClientConn
	accounts map[string]backend.DemoAccount
}

func startAP(t *testing.T) *apEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("seeds and serves a backend of its own")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &apEnv{app: app, dir: dir, accounts: map[string]backend.DemoAccount{}}
	for _, a := range accounts {
		e.accounts[a.Role] = a
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, lis, true) }()
	pem, _ := app.CACertPEM()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	e.conn, err = grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.conn.Close()
		cancel()
		<-served
		app.Close()
	})
	return e
}

func (e *apEnv) login(t *testing.T, role string) context.Context {
	t.Helper()
	a := e.accounts[role]
	resp, err := ecoutev1.NewAuthServiceClient(e.conn).Login(context.Background(),
		&ecoutev1.LoginRequest{Login: a.Login, Password: a.Password})
	if err != nil {
		t.Fatalf("login %s: %v", role, err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+resp.Token)
}

func (e *apEnv) auditClient() ecoutev1.AuditServiceClient {
	return ecoutev1.NewAuditServiceClient(e.conn)
}
func (e *apEnv) privacyClient() ecoutev1.PrivacyServiceClient {
	return ecoutev1.NewPrivacyServiceClient(e.conn)
}

// events lists every entry matching req, following the pages.
func (e *apEnv) events(t *testing.T, ctx context.Context, req *ecoutev1.ListAuditEventsRequest) []*ecoutev1.AuditEvent {
	t.Helper()
	var out []*ecoutev1.AuditEvent
	for {
		resp, err := e.auditClient().ListAuditEvents(ctx, req)
		if err != nil {
			t.Fatalf("ListAuditEvents: %v", err)
		}
		out = append(out, resp.Events...)
		if resp.NextPageToken == "" {
			return out
		}
		req.PageToken = resp.NextPageToken
	}
}

// someCall returns a kept call as the supervisor sees it, and its phone as
// the store has it.
func (e *apEnv) someCall(t *testing.T, sup context.Context) (*ecoutev1.Call, store.Call) {
	t.Helper()
	resp, err := ecoutev1.NewCallServiceClient(e.conn).ListCalls(sup, &ecoutev1.ListCallsRequest{PageSize: 5})
	if err != nil || len(resp.Calls) == 0 {
		t.Fatalf("ListCalls: %v", err)
	}
	c, err := e.app.Store().GetCall(context.Background(), resp.Calls[0].CallId, store.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Calls[0], c
}

func TestAuditRecordsLoginsReadsAndRefusals(t *testing.T) {
	e := startAP(t)
	_, err := ecoutev1.NewAuthServiceClient(e.conn).Login(context.Background(),
		&ecoutev1.LoginRequest{Login: "demo-supervisor", Password: "not the password"})
	if code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: %v", err)
	}
	sup := e.login(t, "supervisor")
	call, _ := e.someCall(t, sup)
	if _, err := ecoutev1.NewCallServiceClient(e.conn).GetCall(sup, &ecoutev1.GetCallRequest{CallId: call.CallId}); err != nil {
		t.Fatal(err)
	}
	st, err := ecoutev1.NewCallServiceClient(e.conn).StreamAudio(sup, &ecoutev1.StreamAudioRequest{CallId: call.CallId})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// The supervisor may not read the trail: refused, and the refusal is recorded.
	if _, err := e.auditClient().ListAuditEvents(sup, &ecoutev1.ListAuditEventsRequest{}); code(err) != codes.PermissionDenied {
		t.Fatalf("supervisor ListAuditEvents: %v", err)
	}
	if _, err := e.auditClient().VerifyAuditChain(sup, &ecoutev1.VerifyAuditChainRequest{}); code(err) != codes.PermissionDenied {
		t.Fatalf("supervisor VerifyAuditChain: %v", err)
	}

	for _, role := range []string{"dpo", "admin"} {
		ctx := e.login(t, role)
		fail := e.events(t, ctx, &ecoutev1.ListAuditEventsRequest{Action: "auth.login.failure"})
		if len(fail) != 1 || fail[0].UserLogin != "demo-supervisor" || !strings.HasPrefix(fail[0].Source, "127.0.0.1:") {
			t.Errorf("%s: login failures %v", role, fail)
		}
		mine := e.events(t, ctx, &ecoutev1.ListAuditEventsRequest{UserLogin: "demo-supervisor", PageSize: 2})
		var actions []string
		for _, ev := range mine {
			actions = append(actions, ev.Action+" "+ev.Target)
		}
		// Who listened to what is the dpo's to read; the admin reads the
		// logins and refusals (policy.AuditAreas).
		reads := []string{"call.list ", "call.view " + call.CallId, "call.audio.stream " + call.CallId}
		for _, want := range append([]string{"auth.login.success ", "access.denied "}, reads...) {
			found := slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, want) })
			if !found && (role == "dpo" || !slices.Contains(reads, want)) {
				t.Errorf("%s: supervisor's entries %q lack %q", role, actions, want)
			}
			if found && role == "admin" && slices.Contains(reads, want) {
				t.Errorf("admin reads %q", want)
			}
		}
		for i := 1; i < len(mine); i++ {
			if mine[i].Seq >= mine[i-1].Seq {
				t.Fatalf("%s: pages not newest first: %d then %d", role, mine[i-1].Seq, mine[i].Seq)
			}
		}
		v, err := e.auditClient().VerifyAuditChain(ctx, &ecoutev1.VerifyAuditChainRequest{})
		if err != nil || !v.Ok || v.Entries < 6 {
			t.Errorf("%s VerifyAuditChain: %v %v", role, v, err)
		}
	}
	// A time range that ends before everything lists nothing.
	dpo := e.login(t, "dpo")
	if got := e.events(t, dpo, &ecoutev1.ListAuditEventsRequest{Until: timestamp(t, "2000-01-01T00:00:00Z")}); len(got) != 0 {
		t.Errorf("until 2000: %d events", len(got))
	}
	if _, err := e.auditClient().ListAuditEvents(dpo, &ecoutev1.ListAuditEventsRequest{PageToken: "junk"}); code(err) != codes.InvalidArgument {
		t.Errorf("junk page token: %v", err)
	}
}

func newX25519(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *apEnv) export(t *testing.T, ctx context.Context, req *ecoutev1.ExportSubjectRequest) ([]byte, error) {
	t.Helper()
	st, err := e.privacyClient().ExportSubject(ctx, req)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		buf.Write(m.Data)
	}
}

// untar decrypts and reads the archive: file name → content.
func untar(t *testing.T, enc []byte, id age.Identity) map[string][]byte {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatalf("decrypt with the recipient's identity: %v", err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
}

func TestExportSubjectDecryptsOnlyWithTheRecipient(t *testing.T) {
	e := startAP(t)
	dpo := e.login(t, "dpo")
	_, c := e.someCall(t, e.login(t, "supervisor"))
	id := newX25519(t)
	enc, err := e.export(t, dpo, &ecoutev1.ExportSubjectRequest{
		Subject: &ecoutev1.ExportSubjectRequest_CustomerPhoneE164{CustomerPhoneE164: c.CustomerPhone}, Recipient: id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte(c.CustomerPhone)) || bytes.Contains(enc, []byte(c.CustomerName)) {
		t.Fatal("the export carries the customer's identity in clear")
	}
	if _, err := age.Decrypt(bytes.NewReader(enc), newX25519(t)); err == nil {
		t.Fatal("another identity decrypted the export")
	} else if nm := new(age.NoIdentityMatchError); !errors.As(err, &nm) {
		t.Fatalf("another identity: %v; want NoIdentityMatchError", err)
	}
	files := untar(t, enc, id)
	var rows []map[string]any
	if err := json.Unmarshal(files["data/calls.json"], &rows); err != nil {
		t.Fatalf("data/calls.json: %v (files %v)", err, keys(files))
	}
	found := false
	for _, r := range rows {
		if r["customer_phone"] != c.CustomerPhone {
			t.Errorf("a call of another customer is exported: %v", r["customer_phone"])
		}
		if r["id"] == c.ID {
			found = true
			if s, _ := r["started_at"].(string); !strings.HasSuffix(s, "Z") {
				t.Errorf("started_at %v is not an RFC 3339 UTC time", r["started_at"])
			}
		}
	}
	if !found {
		t.Errorf("call %s missing from data/calls.json", c.ID)
	}
	audio := files["audio/"+c.ID+".mp3"]
	if int64(len(audio)) != c.Audio.Size || len(audio) < 4 || !(audio[0] == 0xFF || string(audio[:3]) == "ID3") {
		t.Errorf("audio/%s.mp3: %d bytes, want the %d plaintext MP3 bytes", c.ID, len(audio), c.Audio.Size)
	}

	// An SSH ed25519 key works as recipient too.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	enc, err = e.export(t, dpo, &ecoutev1.ExportSubjectRequest{
		Subject:   &ecoutev1.ExportSubjectRequest_AgentId{AgentId: "agent-01"},
		Recipient: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))})
	if err != nil {
		t.Fatal(err)
	}
	sshID, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	files = untar(t, enc, sshID)
	if !bytes.Contains(files["data/users.json"], []byte("demo-agent")) || !bytes.Contains(files["data/users.json"], []byte("[withheld]")) ||
		bytes.Contains(files["data/users.json"], []byte("argon2")) {
		t.Errorf("agent export: users.json = %s", files["data/users.json"])
	}
	if !bytes.Contains(files["data/agents.json"], []byte("agent-01")) || len(files["data/calls.json"]) == 0 {
		t.Errorf("agent export lacks the agent or its calls: %v", keys(files))
	}

	// Both exports are in the trail, and the trail still verifies.
	ev := e.events(t, dpo, &ecoutev1.ListAuditEventsRequest{Action: "privacy.export"})
	if len(ev) != 2 || ev[0].UserLogin != "demo-dpo" || ev[0].Target != "agent:agent-01" ||
		strings.Contains(ev[1].Target, c.CustomerPhone) {
		t.Errorf("export entries: %v", ev)
	}
	if rep, err := e.app.Audit().Verify(context.Background()); err != nil || !rep.OK {
		t.Errorf("verify: %v %v", rep, err)
	}

	if _, err := e.export(t, dpo, &ecoutev1.ExportSubjectRequest{
		Subject: &ecoutev1.ExportSubjectRequest_AgentId{AgentId: "agent-01"}, Recipient: "not a key"}); code(err) != codes.InvalidArgument {
		t.Errorf("bad recipient: %v", err)
	}
	if _, err := e.export(t, dpo, &ecoutev1.ExportSubjectRequest{
		Subject:   &ecoutev1.ExportSubjectRequest_CustomerPhoneE164{CustomerPhoneE164: "+999999999999"},
		Recipient: id.Recipient().String()}); code(err) != codes.NotFound {
		t.Errorf("unknown phone: %v", err)
	}
}

func timestamp(t *testing.T, s string) *timestamppb.Timestamp {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return timestamppb.New(tm)
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestEraseSubjectRemovesRowsAndFiles(t *testing.T) {
	e := startAP(t)
	ctx := context.Background()
	_, c := e.someCall(t, e.login(t, "supervisor"))
	data, err := e.app.Store().SubjectData(ctx, store.Subject{CustomerPhone: c.CustomerPhone})
	if err != nil || len(data.Calls) == 0 {
		t.Fatalf("subject data: %v", err)
	}
	var paths []string
	for _, sc := range data.Calls {
		p := filepath.Join(e.dir, backend.AudioDir, filepath.FromSlash(sc.AudioKey))
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("audio file of %s before erasure: %v", sc.ID, err)
		}
		paths = append(paths, p)
	}
	resp, err := e.privacyClient().EraseSubject(e.login(t, "dpo"),
		&ecoutev1.EraseSubjectRequest{CustomerPhoneE164: c.CustomerPhone, Reason: "letter 2026-042"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.RecordingsDeleted != int64(len(data.Calls)) {
		t.Errorf("deleted %d recordings, want %d", resp.RecordingsDeleted, len(data.Calls))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still on disk: %v", p, err)
		}
	}
	if _, err := e.app.Store().GetCall(ctx, c.ID, store.Scope{All: true}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("call row after erasure: %v", err)
	}
	if _, err := e.app.Store().SubjectData(ctx, store.Subject{CustomerPhone: c.CustomerPhone}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("subject data after erasure: %v", err)
	}
	// The trail names the request of the register, which keeps the reason.
	ev := e.events(t, e.login(t, "dpo"), &ecoutev1.ListAuditEventsRequest{Action: "privacy.erase"})
	if len(ev) != 1 || ev[0].Details["request"] != resp.PrivacyRequestId || ev[0].Details["reason"] != "" ||
		ev[0].Details["calls"] != strconv.Itoa(len(data.Calls)) {
		t.Errorf("erase entry: %v", ev)
	}
	reg, err := ecoutev1.NewPrivacyRequestServiceClient(e.conn).ListPrivacyRequests(e.login(t, "dpo"),
		&ecoutev1.ListPrivacyRequestsRequest{IncludeClosed: true})
	if err != nil || len(reg.PrivacyRequests) != 1 || !strings.HasSuffix(reg.PrivacyRequests[0].Outcome, "Reason: letter 2026-042") {
		t.Errorf("the erasure's request: %v %v", reg, err)
	}
	if _, err := e.privacyClient().EraseSubject(e.login(t, "dpo"), &ecoutev1.EraseSubjectRequest{CustomerPhoneE164: "0612345678",
		Reason: "lettre"}); code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "customer_phone_e164") {
		t.Errorf("non-E.164 phone: %v", err)
	}
}

func TestPrivacyIsForTheDPO(t *testing.T) {
	e := startAP(t)
	id := newX25519(t)
	for _, role := range []string{"supervisor", "trainer", "agent", "hr", "client", "maintenance", "admin", "telephony"} {
		ctx := e.login(t, role)
		_, err := e.export(t, ctx, &ecoutev1.ExportSubjectRequest{
			Subject: &ecoutev1.ExportSubjectRequest_AgentId{AgentId: "agent-01"}, Recipient: id.Recipient().String()})
		if code(err) != codes.PermissionDenied {
			t.Errorf("%s ExportSubject: %v", role, err)
		}
		if _, err := e.privacyClient().EraseSubject(ctx, &ecoutev1.EraseSubjectRequest{CustomerPhoneE164: "+33612345678"}); code(err) != codes.PermissionDenied {
			t.Errorf("%s EraseSubject: %v", role, err)
		}
		_, err = e.privacyClient().ListAuthorizedPersons(ctx, &ecoutev1.ListAuthorizedPersonsRequest{})
		if want := codes.PermissionDenied; role == "admin" {
			if err != nil {
				t.Errorf("admin ListAuthorizedPersons: %v", err)
			}
		} else if code(err) != want {
			t.Errorf("%s ListAuthorizedPersons: %v", role, err)
		}
	}
	resp, err := e.privacyClient().ListAuthorizedPersons(e.login(t, "dpo"), &ecoutev1.ListAuthorizedPersonsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var sup *ecoutev1.AuthorizedPerson
	for _, p := range resp.Persons {
		if p.Login == "demo-supervisor" {
			sup = p
		}
	}
	if sup == nil || sup.DisplayName == "" || sup.CallsScope != "own teams" || len(sup.TeamIds) != 2 ||
		!slices.Contains(sup.AllowedMethods, "/ecoute.v1.CallService/StreamAudio") || len(resp.Persons) < 9 {
		t.Errorf("register: supervisor %v, %d persons", sup, len(resp.Persons))
	}

	// The export form: only the dpo, only encrypted, readable only with
	// the matching identity.
	if _, err := e.privacyClient().ListAuthorizedPersons(e.login(t, "admin"),
		&ecoutev1.ListAuthorizedPersonsRequest{Recipient: id.Recipient().String()}); code(err) != codes.PermissionDenied {
		t.Errorf("admin export of the register: %v", err)
	}
	ex, err := e.privacyClient().ListAuthorizedPersons(e.login(t, "dpo"),
		&ecoutev1.ListAuthorizedPersonsRequest{Recipient: id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Persons) != 0 || bytes.Contains(ex.EncryptedCsv, []byte("demo-supervisor")) {
		t.Errorf("the export carries the register in clear (%d persons)", len(ex.Persons))
	}
	r, err := age.Decrypt(bytes.NewReader(ex.EncryptedCsv), id)
	if err != nil {
		t.Fatal(err)
	}
	csvText, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csvText), "login,name,role,") || !strings.Contains(string(csvText), "demo-supervisor,Claire Dubois,supervisor,") {
		t.Errorf("decrypted register:\n%s", csvText)
	}
	if _, err := age.Decrypt(bytes.NewReader(ex.EncryptedCsv), newX25519(t)); err == nil {
		t.Error("the register decrypts with another identity")
	}
	if _, err := e.privacyClient().ListAuthorizedPersons(e.login(t, "dpo"),
		&ecoutev1.ListAuthorizedPersonsRequest{Recipient: "not-a-key"}); code(err) != codes.InvalidArgument {
		t.Errorf("bad recipient: %v", err)
	}
}
