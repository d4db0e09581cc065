package backend_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func coaching() ecoutev1.CoachingServiceClient { return ecoutev1.NewCoachingServiceClient(env.conn) }

func calibrations() ecoutev1.CalibrationServiceClient {
	return ecoutev1.NewCalibrationServiceClient(env.conn)
}

// stampPNG is a capture that says when it was taken: a plain image whose
// red and green channels hold the position in tenths of a second.
func stampPNG(t *testing.T, at time.Duration) []byte {
	t.Helper()
	tenths := int(at / (100 * time.Millisecond))
	img := image.NewRGBA(image.Rect(0, 0, 32, 18))
	c := color.RGBA{R: uint8(tenths >> 8), G: uint8(tenths), B: 0x80, A: 0xff}
	for y := range 18 {
		for x := range 32 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func stampOf(t *testing.T, b []byte) time.Duration {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	r, g, _, _ := img.At(0, 0).RGBA()
	return time.Duration(int(r>>8)<<8|int(g>>8)) * 100 * time.Millisecond
}

// upload sends captures of the call with this telephony id.
func uploadCaptures(ctx context.Context, t *testing.T, externalID string, accepted bool, caps map[time.Duration][]byte) (*ecoutev1.UploadScreenCapturesResponse, error) {
	t.Helper()
	st, err := ecoutev1.NewIngestServiceClient(env.conn).UploadScreenCaptures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.Send(&ecoutev1.UploadScreenCapturesRequest{Part: &ecoutev1.UploadScreenCapturesRequest_Header{
		Header: &ecoutev1.ScreenCaptureHeader{ExternalId: externalID,
			Consent: &ecoutev1.Consent{RequestedAt: timestamppb.New(now.Add(-time.Hour)), Accepted: accepted}}}}); err != nil {
		t.Fatal(err)
	}
	var offs []time.Duration
	for at := range caps {
		offs = append(offs, at)
	}
	slices.Sort(offs)
	for _, at := range offs {
		if err := st.Send(&ecoutev1.UploadScreenCapturesRequest{Part: &ecoutev1.UploadScreenCapturesRequest_Capture{
			Capture: &ecoutev1.ScreenCaptureUpload{Offset: durationpb.New(at), Image: caps[at]}}}); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
	return st.CloseAndRecv()
}

// demoSession is the demo trainer's shared session with the demo agent,
// and the call of its clip.
func demoSession(t *testing.T) (*ecoutev1.CoachingSession, string) {
	t.Helper()
	resp, err := coaching().ListCoachingSessions(login(t, "trainer"), &ecoutev1.ListCoachingSessionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp.Sessions {
		if s.AgentId == "agent-01" && len(s.Clips) > 0 {
			return s, s.Clips[0].CallId
		}
	}
	t.Fatalf("no demo session with a clip: %v", resp.Sessions)
	return nil, ""
}

// otherTrainer is a second trainer of the demo agent's team, with a
// session of their own.
func otherTrainer(t *testing.T) (context.Context, string) {
	t.Helper()
	ctx := context.Background()
	err := env.app.AddUser(ctx, backend.NewUser{Login: "formateur-bis", FirstName: "Paul", LastName: "Formateur",
		Role: "trainer", Password: hrPassword, TeamIDs: []string{"team-energie"}})
	if err != nil && !strings.Contains(err.Error(), "exists") && !strings.Contains(err.Error(), "is taken") {
		t.Fatal(err)
	}
	resp, err := ecoutev1.NewAuthServiceClient(env.conn).Login(ctx, &ecoutev1.LoginRequest{Login: "formateur-bis", Password: hrPassword})
	if err != nil {
		t.Fatal(err)
	}
	tctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+resp.Token)
	s, err := coaching().CreateCoachingSession(tctx, &ecoutev1.CreateCoachingSessionRequest{AgentId: "agent-01", Title: "Autre session"})
	if err != nil {
		t.Fatal(err)
	}
	return tctx, s.Session.SessionId
}

func reason(err error) string {
	info, _ := errorInfo(err)
	return info.GetReason()
}

// TestScreenCapturesReachOnlyATrainerInASession is the role × context
// matrix of R11: a capture reaches the trainer of a coaching session that
// includes the call, and nobody else in any other way: no other role over
// gRPC (the agent, a supervisor in the middle of evaluating the call), no
// trainer outside such a session, no export but the dpo's export of the
// customer. Every view is audited.
func TestScreenCapturesReachOnlyATrainerInASession(t *testing.T) {
	ctx := context.Background()
	sess, callID := demoSession(t)
	call, err := env.app.Store().GetCall(ctx, callID, store.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	// The telephony side adds captures of its own between the demo's.
	stamps := map[time.Duration][]byte{}
	for _, at := range []time.Duration{2500 * time.Millisecond, 7500 * time.Millisecond, 12500 * time.Millisecond} {
		stamps[at] = stampPNG(t, at)
	}
	up, err := uploadCaptures(login(t, "telephony"), t, call.ExternalID, true, stamps)
	if err != nil || up.CallId != callID || up.Stored != 3 {
		t.Fatalf("upload: %v %v", up, err)
	}

	trainer := login(t, "trainer")
	list, err := coaching().ListScreenCaptures(trainer, &ecoutev1.ListScreenCapturesRequest{SessionId: sess.SessionId, CallId: callID})
	if err != nil || len(list.Captures) < 4 {
		t.Fatalf("the session's trainer lists: %v %v", list, err)
	}
	var ours *ecoutev1.ScreenCapture
	for i, c := range list.Captures {
		if i > 0 && c.Offset.AsDuration() <= list.Captures[i-1].Offset.AsDuration() {
			t.Errorf("captures out of order: %v", list.Captures)
		}
		if c.Offset.AsDuration() == 7500*time.Millisecond {
			ours = c
		}
	}
	if ours == nil {
		t.Fatalf("the uploaded capture is not listed: %v", list.Captures)
	}
	before, _ := env.app.Audit().List(ctx, audit.Query{Action: "capture.view", Limit: 1000})
	got, err := coaching().GetScreenCapture(trainer, &ecoutev1.GetScreenCaptureRequest{SessionId: sess.SessionId,
		CallId: callID, CaptureId: ours.CaptureId})
	if err != nil || !bytes.Equal(got.Image, stamps[7500*time.Millisecond]) || stampOf(t, got.Image) != 7500*time.Millisecond {
		t.Fatalf("the session's trainer views: %v", err)
	}

	get := &ecoutev1.GetScreenCaptureRequest{SessionId: sess.SessionId, CallId: callID, CaptureId: ours.CaptureId}
	lst := &ecoutev1.ListScreenCapturesRequest{SessionId: sess.SessionId, CallId: callID}
	// Every other role: refused before anything runs.
	for _, role := range policy.Roles {
		if role == "trainer" {
			continue
		}
		rctx := login(t, role)
		if _, err := coaching().GetScreenCapture(rctx, get); code(err) != codes.PermissionDenied {
			t.Errorf("%s views a capture: %v", role, err)
		}
		if _, err := coaching().ListScreenCaptures(rctx, lst); code(err) != codes.PermissionDenied {
			t.Errorf("%s lists captures: %v", role, err)
		}
	}
	// A supervisor in the middle of evaluating the call: still refused.
	sup := login(t, "supervisor")
	if _, err := ecoutev1.NewEvaluationServiceClient(env.conn).StartEvaluation(sup,
		&ecoutev1.StartEvaluationRequest{CallId: callID}); err != nil {
		t.Fatalf("the supervisor evaluates the call: %v", err)
	}
	if _, err := coaching().GetScreenCapture(sup, get); code(err) != codes.PermissionDenied {
		t.Errorf("a supervisor evaluating views a capture: %v", err)
	}
	// A trainer outside the session; the session's trainer with a call the
	// session does not include; a session id that is not theirs.
	other, otherSession := otherTrainer(t)
	for name, c := range map[string]struct {
		ctx context.Context
		req *ecoutev1.GetScreenCaptureRequest
	}{
		"another trainer":              {other, get},
		"another trainer's session":    {other, &ecoutev1.GetScreenCaptureRequest{SessionId: otherSession, CallId: callID, CaptureId: ours.CaptureId}},
		"the trainer, another session": {trainer, &ecoutev1.GetScreenCaptureRequest{SessionId: otherSession, CallId: callID, CaptureId: ours.CaptureId}},
	} {
		_, err := coaching().GetScreenCapture(c.ctx, c.req)
		if code(err) != codes.PermissionDenied || reason(err) != "CAPTURES_TRAINING_ONLY" {
			t.Errorf("%s: %v", name, err)
		}
	}
	notIncluded := ""
	cs, _, _ := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{AgentIDs: []string{"agent-01"}},
		Order: store.OrderStartedAt, Limit: 50})
	for _, c := range cs {
		included := slices.ContainsFunc(sess.Clips, func(cl *ecoutev1.CoachingClip) bool { return cl.CallId == c.ID }) ||
			slices.ContainsFunc(sess.Evaluations, func(e *ecoutev1.CoachingEvaluation) bool { return e.CallId == c.ID })
		if !included {
			notIncluded = c.ID
			break
		}
	}
	if _, err := coaching().ListScreenCaptures(trainer, &ecoutev1.ListScreenCapturesRequest{SessionId: sess.SessionId,
		CallId: notIncluded}); reason(err) != "CAPTURES_TRAINING_ONLY" {
		t.Errorf("a call the session does not include: %v", err)
	}
	// The call's own views carry no capture: the contract has no field for
	// one, and the bytes of an image are nowhere in the answers.
	for _, role := range []string{"supervisor", "agent"} {
		c, err := calls().GetCall(login(t, role), &ecoutev1.GetCallRequest{CallId: callID})
		if err != nil {
			t.Fatalf("%s reads the call: %v", role, err)
		}
		raw, _ := proto.Marshal(c)
		if bytes.Contains(raw, stamps[7500*time.Millisecond][:16]) {
			t.Errorf("%s's view of the call holds a capture", role)
		}
	}

	// Every view is audited, the refusals too.
	after, _ := env.app.Audit().List(ctx, audit.Query{Action: "capture.view", Limit: 1000})
	var ok, refused int
	for _, l := range after[:len(after)-len(before)] {
		switch {
		case l.Details["result"] == "ok" && l.Target == callID && l.Details["capture"] == ours.CaptureId:
			ok++
		case l.Details["result"] == "CAPTURES_TRAINING_ONLY":
			refused++
		}
	}
	if ok != 1 || refused < 3 {
		t.Errorf("audit of the views: %d ok, %d refused", ok, refused)
	}

	// Exports: the dpo's export of the customer holds the captures; the
	// agent's lists them without images; the agreement report has none.
	dpo := login(t, "dpo")
	id := newX25519(t)
	enc := exportBytes(t, dpo, &ecoutev1.ExportSubjectRequest{Subject: &ecoutev1.ExportSubjectRequest_CustomerPhoneE164{
		CustomerPhoneE164: call.CustomerPhone}, Recipient: id.Recipient().String()})
	files := untar(t, enc, id)
	var images int
	for name, b := range files {
		if strings.HasPrefix(name, "captures/"+callID+"/") {
			images++
			if strings.HasSuffix(name, "000007500.png") && !bytes.Equal(b, stamps[7500*time.Millisecond]) {
				t.Errorf("%s is not the capture uploaded", name)
			}
		}
	}
	if images != len(list.Captures) {
		t.Errorf("the customer's export holds %d captures, the call has %d", images, len(list.Captures))
	}
	enc = exportBytes(t, dpo, &ecoutev1.ExportSubjectRequest{Subject: &ecoutev1.ExportSubjectRequest_AgentId{AgentId: "agent-01"},
		Recipient: id.Recipient().String()})
	files = untar(t, enc, id)
	for name := range files {
		if strings.HasPrefix(name, "captures/") {
			t.Errorf("the agent's export holds a capture image: %s", name)
		}
	}
	if !bytes.Contains(files["data/screen_captures.json"], []byte(ours.CaptureId)) {
		t.Error("the agent's export does not list the captures")
	}
	for _, role := range []string{"supervisor", "trainer"} {
		rep, err := calibrations().ExportAgreementReport(login(t, role), &ecoutev1.ExportAgreementReportRequest{
			GridId: "inbound-service", Recipient: id.Recipient().String()})
		if err != nil {
			t.Fatalf("%s exports the agreement: %v", role, err)
		}
		for name := range untar(t, rep.Encrypted, id) {
			if !slices.Contains([]string{"report.json", "criteria.csv", "bias.csv", "sessions.csv", "drift.csv"}, name) {
				t.Errorf("the agreement export holds %s", name)
			}
		}
	}
}

func exportBytes(t *testing.T, ctx context.Context, req *ecoutev1.ExportSubjectRequest) []byte {
	t.Helper()
	st, err := ecoutev1.NewPrivacyServiceClient(env.conn).ExportSubject(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes()
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		buf.Write(m.Data)
	}
}

// The upload's rules: nothing is stored for an opted-out call, an unknown
// one, a position outside the recording or bytes that are not an image;
// the same captures again store nothing; the images are encrypted at rest.
func TestScreenCaptureUploadRules(t *testing.T) {
	ctx := context.Background()
	tel := login(t, "telephony")
	cs, _, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{AgentIDs: []string{"agent-02"}},
		Order: store.OrderStartedAt, Limit: 1})
	if err != nil || len(cs) == 0 {
		t.Fatal(err)
	}
	call := cs[0]
	count := func() int {
		caps, err := env.app.Store().ListCaptures(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(caps)
	}
	start := count()
	img := stampPNG(t, time.Second)
	for name, c := range map[string]struct {
		id       string
		accepted bool
		caps     map[time.Duration][]byte
		code     codes.Code
		reason   string
		field    string
	}{
		"opted out":     {call.ExternalID, false, map[time.Duration][]byte{time.Second: img}, codes.FailedPrecondition, "OPTED_OUT", ""},
		"unknown call":  {"pas-un-appel", true, map[time.Duration][]byte{time.Second: img}, codes.NotFound, "NOT_FOUND", ""},
		"after the end": {call.ExternalID, true, map[time.Duration][]byte{call.Audio.Duration + time.Minute: img}, codes.InvalidArgument, "INVALID_ARGUMENT", "captures[0].offset"},
		"not an image":  {call.ExternalID, true, map[time.Duration][]byte{time.Second: []byte("GIF89a not really")}, codes.InvalidArgument, "INVALID_ARGUMENT", "captures[0].image"},
		"none":          {call.ExternalID, true, nil, codes.InvalidArgument, "INVALID_ARGUMENT", "captures"},
	} {
		_, err := uploadCaptures(tel, t, c.id, c.accepted, c.caps)
		if code(err) != c.code || reason(err) != c.reason {
			t.Errorf("%s: %v", name, err)
		}
		if c.field != "" && !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: the refusal does not name %s: %v", name, c.field, err)
		}
	}
	if n := count(); n != start {
		t.Fatalf("refused uploads stored %d captures", n-start)
	}
	caps := map[time.Duration][]byte{time.Second: img, 2 * time.Second: stampPNG(t, 2*time.Second)}
	if r, err := uploadCaptures(tel, t, call.ExternalID, true, caps); err != nil || r.Stored != 2 || r.Duplicates != 0 {
		t.Fatalf("upload: %v %v", r, err)
	}
	if r, err := uploadCaptures(tel, t, call.ExternalID, true, caps); err != nil || r.Stored != 0 || r.Duplicates != 2 {
		t.Fatalf("the same again: %v %v", r, err)
	}
	// Only the telephony side uploads.
	if _, err := uploadCaptures(login(t, "trainer"), t, call.ExternalID, true, caps); code(err) != codes.PermissionDenied {
		t.Errorf("a trainer uploads: %v", err)
	}
	// At rest the images are ciphertext: no PNG signature in any file.
	files := 0
	filepath.WalkDir(filepath.Join(env.dir, backend.AudioDir, "captures"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("\x89PNG")) || bytes.Contains(b, img[8:40]) {
			t.Errorf("%s holds an image in clear", p)
		}
		return nil
	})
	if files == 0 {
		t.Error("no capture file found")
	}
}

// A session's life over gRPC: the trainer prepares a draft the agent does
// not see (a goal, a clip, an evaluation, notes checked like comments),
// shares it and can no longer change it; the agent reads it and
// acknowledges it once.
func TestCoachingSessionLife(t *testing.T) {
	ctx := context.Background()
	trainer, agent := login(t, "trainer"), login(t, "agent")
	cc := coaching()
	s, err := cc.CreateCoachingSession(trainer, &ecoutev1.CreateCoachingSessionRequest{RequestId: "cs-1", AgentId: "agent-01",
		Title: "Conclusion des appels"})
	if err != nil {
		t.Fatal(err)
	}
	id := s.Session.SessionId
	if s.Session.Status != ecoutev1.CoachingStatus_COACHING_STATUS_DRAFT || s.Session.AgentName == "" ||
		!s.Session.RetainedUntil.AsTime().Equal(s.Session.CreatedAt.AsTime().AddDate(1, 0, 0)) {
		t.Errorf("new session %v", s.Session)
	}
	// Sent again: the same session, not a second one.
	again, err := cc.CreateCoachingSession(trainer, &ecoutev1.CreateCoachingSessionRequest{RequestId: "cs-1", AgentId: "agent-01",
		Title: "Conclusion des appels"})
	if err != nil || again.Session.SessionId != id {
		t.Errorf("sent again: %v %v", again, err)
	}
	// Not an agent of the trainer's teams.
	if _, err := cc.CreateCoachingSession(trainer, &ecoutev1.CreateCoachingSessionRequest{AgentId: "agent-02", Title: "x"}); code(err) != codes.NotFound {
		t.Errorf("an agent of another team: %v", err)
	}
	if _, err := cc.GetCoachingSession(agent, &ecoutev1.GetCoachingSessionRequest{SessionId: id}); code(err) != codes.NotFound {
		t.Errorf("the agent reads a draft: %v", err)
	}
	due := timestamppb.New(time.Now().AddDate(0, 1, 0))
	g, err := cc.AddCoachingGoal(trainer, &ecoutev1.AddCoachingGoalRequest{SessionId: id, GridId: "inbound-service",
		CriterionId: "reason-rephrased", Target: 85, DueAt: due})
	if err != nil || len(g.Session.Goals) != 1 || g.Session.Goals[0].CriterionLabel == "" {
		t.Fatalf("goal: %v %v", g, err)
	}
	for name, req := range map[string]*ecoutev1.AddCoachingGoalRequest{
		"a target off the scale": {SessionId: id, GridId: "inbound-service", CriterionId: "active-listening", Target: 7, DueAt: due},
		"a past date":            {SessionId: id, GridId: "inbound-service", CriterionId: "greeting", Target: 90, DueAt: timestamppb.New(time.Now().Add(-time.Hour))},
		"after the deletion":     {SessionId: id, GridId: "inbound-service", CriterionId: "greeting", Target: 90, DueAt: timestamppb.New(time.Now().AddDate(2, 0, 0))},
		"an unknown criterion":   {SessionId: id, GridId: "inbound-service", CriterionId: "nope", Target: 90, DueAt: due},
	} {
		if _, err := cc.AddCoachingGoal(trainer, req); code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
	cs, _, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{AgentIDs: []string{"agent-01"}},
		Order: store.OrderStartedAt, Desc: true, Limit: 3})
	if err != nil || len(cs) < 2 {
		t.Fatal(err)
	}
	clip := &ecoutev1.AddClipRequest{SessionId: id, CallId: cs[1].ID, From: durationpb.New(5 * time.Second),
		To: durationpb.New(20 * time.Second), Note: "Le client parle de sa maladie, la solution vient trop tôt."}
	if _, err := cc.AddClip(trainer, clip); reason(err) != "OVERRIDE_REASON_REQUIRED" {
		t.Errorf("a note with a flagged term: %v", err)
	}
	clip.OverrideReason = "Le client l'a dit lui-même ; utile pour le contexte."
	c, err := cc.AddClip(trainer, clip)
	if err != nil || len(c.Session.Clips) != 1 || c.Session.Clips[0].RetainedUntil == nil ||
		!c.Session.Clips[0].RetainedUntil.AsTime().Equal(cs[1].RetainedUntil) {
		t.Fatalf("clip: %v %v", c, err)
	}
	if _, err := cc.AddClip(trainer, &ecoutev1.AddClipRequest{SessionId: id, CallId: cs[1].ID, From: durationpb.New(10 * time.Second),
		To: durationpb.New(5 * time.Second)}); code(err) != codes.InvalidArgument {
		t.Errorf("a clip ending before it starts: %v", err)
	}
	evs, err := ecoutev1.NewEvaluationServiceClient(env.conn).ListEvaluations(trainer, &ecoutev1.ListEvaluationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var ev string
	for _, e := range evs.Evaluations {
		if e.AgentId == "agent-01" {
			ev = e.EvaluationId
		}
	}
	if ev == "" {
		t.Fatal("the trainer reads no evaluation of the trainee")
	}
	if _, err := cc.AttachEvaluation(trainer, &ecoutev1.AttachEvaluationRequest{SessionId: id, EvaluationId: ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.AttachEvaluation(trainer, &ecoutev1.AttachEvaluationRequest{SessionId: id, EvaluationId: ev}); code(err) != codes.AlreadyExists {
		t.Errorf("attached twice: %v", err)
	}
	cur, _ := cc.GetCoachingSession(trainer, &ecoutev1.GetCoachingSessionRequest{SessionId: id})
	notes := &ecoutev1.SaveCoachingNotesRequest{SessionId: id, ExpectedVersion: cur.Session.Version, Notes: "Récapituler avant de conclure."}
	saved, err := cc.SaveCoachingNotes(trainer, notes)
	if err != nil || saved.Session.Notes != notes.Notes {
		t.Fatalf("notes: %v %v", saved, err)
	}
	if _, err := cc.SaveCoachingNotes(trainer, notes); reason(err) != "STALE_VERSION" {
		t.Errorf("notes over an old version: %v", err)
	}
	sh, err := cc.ShareCoachingSession(trainer, &ecoutev1.ShareCoachingSessionRequest{SessionId: id})
	if err != nil || sh.Session.Status != ecoutev1.CoachingStatus_COACHING_STATUS_SHARED || sh.Session.SharedAt == nil {
		t.Fatalf("share: %v %v", sh, err)
	}
	if _, err := cc.AddCoachingGoal(trainer, &ecoutev1.AddCoachingGoalRequest{SessionId: id, GridId: "inbound-service",
		CriterionId: "greeting", Target: 90, DueAt: due}); reason(err) != "WRONG_STATUS" {
		t.Errorf("an edit after sharing: %v", err)
	}
	// The agent reads it, without the trainer's override reasons or the
	// captures.
	l, err := cc.ListCoachingSessions(agent, &ecoutev1.ListCoachingSessionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var seen *ecoutev1.CoachingSession
	for _, s := range l.Sessions {
		if s.SessionId == id {
			seen = s
		}
	}
	if seen == nil || len(seen.Goals) != 1 || len(seen.Clips) != 1 || len(seen.Evaluations) != 1 {
		t.Fatalf("the agent's view: %v", seen)
	}
	if seen.OverrideReason != "" || seen.Clips[0].Captures != 0 {
		t.Errorf("the agent reads the trainer's reason or the captures: %v", seen)
	}
	if _, err := cc.AcknowledgeCoachingSession(trainer, &ecoutev1.AcknowledgeCoachingSessionRequest{SessionId: id}); code(err) != codes.PermissionDenied {
		t.Errorf("the trainer acknowledges: %v", err)
	}
	if _, err := cc.DisputeCoachingSession(agent, &ecoutev1.DisputeCoachingSessionRequest{SessionId: id}); code(err) != codes.InvalidArgument {
		t.Errorf("a dispute without comment: %v", err)
	}
	ack, err := cc.AcknowledgeCoachingSession(agent, &ecoutev1.AcknowledgeCoachingSessionRequest{SessionId: id, Comment: "Compris."})
	if err != nil || ack.Session.Status != ecoutev1.CoachingStatus_COACHING_STATUS_ACKNOWLEDGED || ack.Session.AnsweredAt == nil {
		t.Fatalf("acknowledge: %v %v", ack, err)
	}
	if _, err := cc.DisputeCoachingSession(agent, &ecoutev1.DisputeCoachingSessionRequest{SessionId: id, Comment: "non"}); reason(err) != "WRONG_STATUS" {
		t.Errorf("answered twice: %v", err)
	}
	// The trail names the steps, never the notes.
	links, _ := env.app.Audit().List(ctx, audit.Query{Action: "coaching.", Limit: 200})
	actions := map[string]bool{}
	for _, l := range links {
		if l.Target == id {
			actions[l.Action] = true
		}
		for _, v := range l.Details {
			if strings.Contains(v, "maladie") || strings.Contains(v, "Récapituler") {
				t.Errorf("free text in the trail: %v", l)
			}
		}
	}
	for _, a := range []string{"coaching.goal", "coaching.clip", "coaching.attach", "coaching.notes", "coaching.share", "coaching.acknowledge"} {
		if !actions[a] {
			t.Errorf("%s not audited (%v)", a, actions)
		}
	}
}

// A trainer's call list is their trainees' calls and their sessions'
// calls, not every call of their teams.
func TestTrainerSeesTraineesAndSessionCalls(t *testing.T) {
	ctx := context.Background()
	trainer := login(t, "trainer")
	u, err := env.app.Store().UserByLogin(ctx, env.accounts["trainer"].Login)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := env.app.Store().ListCoachingSessions(ctx, store.CoachingQuery{TrainerID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	trainees, attached := map[string]bool{}, map[string]bool{}
	for _, s := range sessions {
		trainees[s.AgentID] = true
		for _, it := range s.Items {
			attached[it.CallID] = true
		}
	}
	listed := 0
	req := &ecoutev1.ListCallsRequest{PageSize: 500}
	for {
		page, err := calls().ListCalls(trainer, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Calls {
			listed++
			if !(trainees[c.AgentId] && slices.Contains(u.TeamIDs, c.TeamId)) && !attached[c.CallId] {
				t.Errorf("the trainer lists call %s of %s, neither a trainee's nor a session's", c.CallId, c.AgentId)
			}
		}
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	_, teamTotal, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{TeamIDs: u.TeamIDs}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if listed < 10 || int64(listed) >= teamTotal {
		t.Errorf("the trainer lists %d of their teams' %d calls", listed, teamTotal)
	}
	// Another team's agent stays out of reach.
	other, _, _ := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{AgentIDs: []string{"agent-02"}}, Limit: 1})
	if len(other) == 1 {
		if _, err := calls().GetCall(trainer, &ecoutev1.GetCallRequest{CallId: other[0].ID}); code(err) != codes.NotFound {
			t.Errorf("another team's call: %v", err)
		}
	}
}

// answersFor answers every criterion of a grid: pass everywhere, or fail
// the yes/no criteria (with the comment they may require).
func answersFor(g *ecoutev1.Grid, pass bool) []*ecoutev1.Answer {
	var out []*ecoutev1.Answer
	for _, sec := range g.Sections {
		for _, c := range sec.Criteria {
			a := &ecoutev1.Answer{CriterionId: c.CriterionId}
			switch c.Type {
			case ecoutev1.AnswerType_ANSWER_TYPE_YES_NO:
				a.Value = "yes"
				if !pass && !c.Critical {
					a.Value, a.Comment = "no", "Étape absente de l'échange."
				}
			case ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
				a.Value = "4"
			default:
				a.Value = c.Choices[0].ChoiceId
				if c.Choices[0].Points == 0 {
					a.Comment = "Non réalisé."
				}
			}
			out = append(out, a)
		}
	}
	return out
}

// Blind calibration: evaluators never learn whose call it is; each sees
// the others' scores (and the report) only once their own is submitted;
// the scores never reach the agent's views, evaluations, the evaluated
// flag, statistics or the roles that do not calibrate.
func TestCalibrationIsBlindAndApart(t *testing.T) {
	ctx := context.Background()
	sup, trainer, agent := login(t, "supervisor"), login(t, "trainer"), login(t, "agent")
	cal := calibrations()
	// A call of the supervisor's teams that the trainer cannot read, and
	// that has no evaluation.
	u, _ := env.app.Store().UserByLogin(ctx, env.accounts["trainer"].Login)
	cs, _, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{TeamIDs: []string{"team-banque"}},
		Filter: store.Filter{Evaluated: new(bool)}, Order: store.OrderStartedAt, Limit: 50})
	if err != nil || len(cs) == 0 {
		t.Fatal(err)
	}
	call := cs[0]
	if _, err := calls().GetCall(trainer, &ecoutev1.GetCallRequest{CallId: call.ID}); code(err) != codes.NotFound {
		t.Fatalf("the trainer reads the call: %v", err)
	}
	created, err := cal.CreateCalibration(sup, &ecoutev1.CreateCalibrationRequest{RequestId: "cal-1", CallId: call.ID,
		EvaluatorLogins: []string{env.accounts["supervisor"].Login, env.accounts["trainer"].Login}, ExpertLogin: "demo-expert"})
	if err != nil {
		t.Fatal(err)
	}
	c := created.Calibration
	if len(c.Evaluators) != 3 || c.GridId != "inbound-service" && c.GridId != "outbound-survey" {
		t.Fatalf("calibration %v", c)
	}
	for name, req := range map[string]*ecoutev1.CreateCalibrationRequest{
		"one evaluator":   {CallId: call.ID, EvaluatorLogins: []string{env.accounts["trainer"].Login}},
		"an agent":        {CallId: call.ID, EvaluatorLogins: []string{env.accounts["trainer"].Login, env.accounts["agent"].Login}},
		"named twice":     {CallId: call.ID, EvaluatorLogins: []string{env.accounts["trainer"].Login, env.accounts["trainer"].Login}},
		"unknown account": {CallId: call.ID, EvaluatorLogins: []string{env.accounts["trainer"].Login, "personne"}},
	} {
		if _, err := cal.CreateCalibration(sup, req); code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
	// What the evaluators are given never says whose call it is.
	got, err := cal.GetCalibration(trainer, &ecoutev1.GetCalibrationRequest{CalibrationId: c.CalibrationId})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(got)
	agentRow, _ := env.app.Store().AgentByID(ctx, call.AgentID)
	for _, secret := range []string{call.ID, call.AgentID, agentRow.Name, call.TeamID, call.ExternalID} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the calibration tells the evaluator %q", secret)
		}
	}
	if got.Calibration.MyScore == nil || len(got.Calibration.Scores) != 0 || !got.Calibration.AudioAvailable {
		t.Errorf("the trainer's view: %v", got.Calibration)
	}
	// The trainer hears the call through the calibration only.
	st, err := calls().StreamAudio(trainer, &ecoutev1.StreamAudioRequest{CalibrationId: c.CalibrationId, Length: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if chunk, err := st.Recv(); err != nil || chunk.TotalSize != call.Audio.Size {
		t.Errorf("the calibration's audio: %v %v", chunk, err)
	}
	if wf, err := calls().GetWaveform(trainer, &ecoutev1.GetWaveformRequest{CalibrationId: c.CalibrationId}); err != nil ||
		wf.TotalSize != call.Audio.Size {
		t.Errorf("the calibration's waveform: %v", err)
	}
	other, _ := otherTrainer(t)
	if _, err := calls().GetWaveform(other, &ecoutev1.GetWaveformRequest{CalibrationId: c.CalibrationId}); code(err) != codes.NotFound {
		t.Errorf("a trainer not named hears it: %v", err)
	}
	g := got.Grid
	// The supervisor scores and submits; the trainer is still blind.
	mine, err := cal.GetCalibration(sup, &ecoutev1.GetCalibrationRequest{CalibrationId: c.CalibrationId})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := cal.SaveCalibrationScore(sup, &ecoutev1.SaveCalibrationScoreRequest{CalibrationId: c.CalibrationId,
		ExpectedVersion: mine.Calibration.MyScore.Version, Answers: answersFor(g, false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cal.SubmitCalibrationScore(sup, &ecoutev1.SubmitCalibrationScoreRequest{CalibrationId: c.CalibrationId,
		ExpectedVersion: saved.Calibration.MyScore.Version}); err != nil {
		t.Fatal(err)
	}
	got, _ = cal.GetCalibration(trainer, &ecoutev1.GetCalibrationRequest{CalibrationId: c.CalibrationId})
	if len(got.Calibration.Scores) != 0 {
		t.Errorf("the trainer sees scores before submitting: %v", got.Calibration.Scores)
	}
	if _, err := cal.GetAgreementReport(trainer, &ecoutev1.GetAgreementReportRequest{CalibrationId: c.CalibrationId}); reason(err) != "CALIBRATION_BLIND" {
		t.Errorf("the trainer reads the report blind: %v", err)
	}
	// Then submits: the others' scores and the report are now theirs.
	s2, err := cal.SaveCalibrationScore(trainer, &ecoutev1.SaveCalibrationScoreRequest{CalibrationId: c.CalibrationId,
		ExpectedVersion: got.Calibration.MyScore.Version, Answers: answersFor(g, true)})
	if err != nil {
		t.Fatal(err)
	}
	s3, err := cal.SubmitCalibrationScore(trainer, &ecoutev1.SubmitCalibrationScoreRequest{CalibrationId: c.CalibrationId,
		ExpectedVersion: s2.Calibration.MyScore.Version})
	if err != nil || len(s3.Calibration.Scores) != 1 || s3.Calibration.Scores[0].EvaluatorId == u.ID {
		t.Fatalf("after submitting: %v %v", s3, err)
	}
	if _, err := cal.SaveCalibrationScore(trainer, &ecoutev1.SaveCalibrationScoreRequest{CalibrationId: c.CalibrationId,
		ExpectedVersion: s3.Calibration.MyScore.Version}); reason(err) != "ALREADY_SUBMITTED" {
		t.Errorf("a save after submitting: %v", err)
	}
	rep, err := cal.GetAgreementReport(trainer, &ecoutev1.GetAgreementReportRequest{CalibrationId: c.CalibrationId})
	if err != nil || len(rep.Report.Criteria) == 0 || len(rep.Report.Sessions) != 1 {
		t.Fatalf("report: %v %v", rep, err)
	}
	// Without the expert's score the reference is the consensus; the
	// trainer passed everything the supervisor failed: more lenient.
	sess := rep.Report.Sessions[0]
	if sess.Reference != "consensus" || len(sess.Bias) != 2 {
		t.Errorf("session %v", sess)
	}
	for _, b := range sess.Bias {
		if (b.EvaluatorId == u.ID) != (b.Bias > 0) {
			t.Errorf("bias %v", b)
		}
	}
	// The creator, not named, closes it; an evaluator may not.
	if _, err := cal.CloseCalibration(trainer, &ecoutev1.CloseCalibrationRequest{CalibrationId: c.CalibrationId}); code(err) != codes.PermissionDenied {
		t.Errorf("an evaluator closes: %v", err)
	}
	if cl, err := cal.CloseCalibration(sup, &ecoutev1.CloseCalibrationRequest{CalibrationId: c.CalibrationId}); err != nil ||
		cl.Calibration.Status != ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED {
		t.Errorf("close: %v %v", cl, err)
	}
	// A creator who is not named an evaluator scores nothing.
	c2, err := cal.CreateCalibration(sup, &ecoutev1.CreateCalibrationRequest{CallId: call.ID,
		EvaluatorLogins: []string{env.accounts["trainer"].Login, "demo-expert"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cal.SaveCalibrationScore(sup, &ecoutev1.SaveCalibrationScoreRequest{CalibrationId: c2.Calibration.CalibrationId,
		ExpectedVersion: 1}); reason(err) != "NOT_CALIBRATION_EVALUATOR" {
		t.Errorf("the creator scores: %v", err)
	}

	// Apart: no evaluation, no evaluated flag, no score for the agent, hr,
	// the client or the score filter.
	after, err := env.app.Store().GetCall(ctx, call.ID, store.Scope{All: true})
	if err != nil || after.Evaluated {
		t.Errorf("the call is marked evaluated by a calibration: %v", err)
	}
	hr := login(t, "hr")
	for who, ctx := range map[string]context.Context{"hr": hr, "supervisor": sup} {
		evs, err := ecoutev1.NewEvaluationServiceClient(env.conn).ListEvaluations(ctx, &ecoutev1.ListEvaluationsRequest{CallId: call.ID})
		if err != nil || len(evs.Evaluations) != 0 {
			t.Errorf("%s reads an evaluation of the calibrated call: %v %v", who, evs, err)
		}
	}
	lo := 0.0
	page, err := calls().ListCalls(sup, &ecoutev1.ListCallsRequest{PageSize: 500, Filter: &ecoutev1.CallFilter{MinScore: &lo}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Calls {
		if c.CallId == call.ID {
			t.Error("the score filter finds the call by its calibration scores")
		}
	}
	for _, role := range []string{"agent", "hr", "client", "maintenance", "dpo", "admin", "telephony"} {
		rctx := login(t, role)
		if _, err := cal.ListCalibrations(rctx, &ecoutev1.ListCalibrationsRequest{}); code(err) != codes.PermissionDenied {
			t.Errorf("%s lists calibrations: %v", role, err)
		}
		if _, err := cal.GetAgreementReport(rctx, &ecoutev1.GetAgreementReportRequest{GridId: c.GridId}); code(err) != codes.PermissionDenied {
			t.Errorf("%s reads the agreement: %v", role, err)
		}
	}
	if st, err := calls().StreamAudio(agent, &ecoutev1.StreamAudioRequest{CalibrationId: c.CalibrationId}); err != nil {
		t.Fatal(err)
	} else if _, err := st.Recv(); code(err) != codes.NotFound {
		t.Errorf("the agent hears the calibration: %v", err)
	}
	// The agent's own views hold nothing of the calibration's scores.
	evs, _ := ecoutev1.NewEvaluationServiceClient(env.conn).ListEvaluations(agent, &ecoutev1.ListEvaluationsRequest{PageSize: 500})
	for _, e := range evs.GetEvaluations() {
		if e.CallId == call.ID {
			t.Errorf("the agent reads a score of the calibrated call: %v", e)
		}
	}
}

// Retention with the clock moved: captures and clips go with the
// recording (six months), coaching sessions and calibrations a year after
// their creation; nothing before.
func TestTrainingRetentionWithClockJumps(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a backend of its own")
	}
	ctx := context.Background()
	dir := t.TempDir()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	app, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	db := app.Store().(*store.SQLite).DB()
	count := func(table string) int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	files := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(dir, backend.AudioDir, "captures"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	clips := func() int {
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM coaching_items WHERE kind = 'clip'`).Scan(&n)
		return n
	}
	start := clk.Now()
	caps, capFiles, sessions, cals, goals := count("screen_captures"), files(), count("coaching_sessions"),
		count("calibrations"), count("coaching_goals")
	if caps == 0 || capFiles == 0 || sessions == 0 || cals == 0 || clips() == 0 || goals == 0 {
		t.Fatalf("the demo holds %d captures in %d files, %d sessions, %d clips, %d calibrations", caps, capFiles, sessions,
			clips(), cals)
	}
	// Five months on: nothing of it has outlived its period.
	if _, err := app.Purge(ctx, start.AddDate(0, 5, 0)); err != nil {
		t.Fatal(err)
	}
	if count("screen_captures") != caps || files() != capFiles || clips() == 0 || count("coaching_sessions") != sessions {
		t.Errorf("deleted before their time: %d captures, %d files, %d clips", count("screen_captures"), files(), clips())
	}
	// Six months and a day after the last call: the recordings go, and
	// their captures (rows and files) and clips with them; the sessions,
	// their goals and the calibrations stay.
	sum, err := app.Purge(ctx, start.AddDate(0, 6, 2))
	if err != nil {
		t.Fatal(err)
	}
	if count("calls") != 0 || count("screen_captures") != 0 || files() != 0 || clips() != 0 {
		t.Errorf("after the recordings' retention: %d calls, %d captures, %d files, %d clips (%v)", count("calls"),
			count("screen_captures"), files(), clips(), sum)
	}
	if count("coaching_sessions") != sessions || count("coaching_goals") != goals || count("calibrations") != cals {
		t.Errorf("analysis documents deleted with the recordings: %d sessions, %d calibrations", count("coaching_sessions"),
			count("calibrations"))
	}
	// A year and a day after the newest session: they go, with their goals
	// and scores.
	sum, err = app.Purge(ctx, start.AddDate(1, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if count("coaching_sessions") != 0 || count("coaching_goals") != 0 || count("coaching_items") != 0 ||
		count("calibrations") != 0 || count("calibration_scores") != 0 {
		t.Errorf("after a year: %v", sum)
	}
	if sum["coaching_sessions"] != sessions || sum["calibrations"] != cals {
		t.Errorf("purge counts %v, want %d sessions and %d calibrations", sum, sessions, cals)
	}
}
