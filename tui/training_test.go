package tui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// trainingBackend is the fake backend with coaching sessions and
// calibrations, logged in as the trainer u-lea (or the agent ag-1 when
// agent is set).
type trainingBackend struct {
	*fakeBackend
	agent bool

	mu          sync.Mutex
	capsAsked   int
	imagesAsked []string
	submitted   bool
	reportAsked int
	saves       []client.CalibrationScoreEdit
	acked       string
}

func newTrainingBackend() *trainingBackend {
	return &trainingBackend{fakeBackend: &fakeBackend{n: 120}}
}

func (b *trainingBackend) Login(_ context.Context, login, _ string) (*ecoutev1.LoginResponse, error) {
	p := &ecoutev1.Principal{Login: login, Role: "trainer", UserId: "u-lea"}
	if b.agent {
		p = &ecoutev1.Principal{Login: login, Role: "agent", UserId: "u-ag1", AgentId: "ag-1"}
	}
	return &ecoutev1.LoginResponse{Token: "t", Principal: p}, nil
}

var trainingDay = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func (b *trainingBackend) session() *ecoutev1.CoachingSession {
	ts := func(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
	st := ecoutev1.CoachingStatus_COACHING_STATUS_DRAFT
	if b.agent {
		st = ecoutev1.CoachingStatus_COACHING_STATUS_SHARED
	}
	if b.acked != "" {
		st = ecoutev1.CoachingStatus_COACHING_STATUS_ACKNOWLEDGED
	}
	return &ecoutev1.CoachingSession{
		SessionId: "s1", TrainerId: "u-lea", TrainerName: "Léa Martin", AgentId: "ag-1", AgentName: "Agent 1",
		Title: "Greeting and closing", Status: st, Version: 3,
		Notes:     "Work on the greeting: name the company first.",
		CreatedAt: ts(trainingDay), RetainedUntil: ts(trainingDay.AddDate(1, 0, 0)),
		Goals: []*ecoutev1.CoachingGoal{{GoalId: "g1", CriterionLabel: "Greeting", Target: 80, DueAt: ts(trainingDay.AddDate(0, 3, 0))}},
		Clips: []*ecoutev1.CoachingClip{{ClipId: "c1", CallId: "call-001", CallStartedAt: ts(trainingDay.Add(-24 * time.Hour)),
			From: durationpb.New(30 * time.Second), To: durationpb.New(70 * time.Second), Note: "The greeting",
			RetainedUntil: ts(trainingDay.AddDate(0, 6, -1)), Captures: 3}},
		Evaluations: []*ecoutev1.CoachingEvaluation{{EvaluationId: "e1", CallStartedAt: ts(trainingDay.Add(-24 * time.Hour)),
			GridName: "Inbound", Total: 72.5, HasTotal: true, RetainedUntil: ts(trainingDay.AddDate(1, 0, -1))}},
		AgentComment: b.acked,
	}
}

func (b *trainingBackend) ListCoachingSessions(context.Context) ([]*ecoutev1.CoachingSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return []*ecoutev1.CoachingSession{b.session()}, nil
}

func (b *trainingBackend) GetCoachingSession(context.Context, string) (*ecoutev1.CoachingSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.session(), nil
}

func (b *trainingBackend) AcknowledgeCoachingSession(_ context.Context, _ string, comment string) (*ecoutev1.CoachingSession, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acked = "ack:" + comment
	return b.session(), nil
}

// The captures are at 0:20, 0:40 and 1:00 on the call's clock; each image
// encodes its own position in its red channel (seconds × 4), so a test
// can tell from the colours drawn which capture is shown.
var captureOffsets = []time.Duration{20 * time.Second, 40 * time.Second, 60 * time.Second}

func (b *trainingBackend) ListScreenCaptures(context.Context, string, string) ([]*ecoutev1.ScreenCapture, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.capsAsked++
	if b.agent {
		return nil, &client.ErrForbidden{Message: "screen captures are for training only"}
	}
	var out []*ecoutev1.ScreenCapture
	for i, off := range captureOffsets {
		out = append(out, &ecoutev1.ScreenCapture{CaptureId: fmt.Sprintf("cap-%d", i), Offset: durationpb.New(off),
			Format: "png", Width: 16, Height: 8})
	}
	return out, nil
}

func captureImage(off time.Duration) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for y := range 8 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{R: uint8(off / time.Second * 4), G: uint8(y * 16), B: 10, A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func (b *trainingBackend) GetScreenCapture(_ context.Context, _, _, id string) (*ecoutev1.GetScreenCaptureResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.imagesAsked = append(b.imagesAsked, id)
	var i int
	if _, err := fmt.Sscanf(id, "cap-%d", &i); err != nil || i >= len(captureOffsets) {
		return nil, client.ErrNotFound
	}
	return &ecoutev1.GetScreenCaptureResponse{Capture: &ecoutev1.ScreenCapture{CaptureId: id, Offset: durationpb.New(captureOffsets[i]),
		Format: "png", Width: 16, Height: 8}, Image: captureImage(captureOffsets[i])}, nil
}

func (b *trainingBackend) calibration() *ecoutev1.Calibration {
	ts := timestamppb.New(trainingDay)
	my := &ecoutev1.CalibrationScore{EvaluatorId: "u-lea", EvaluatorName: "Léa Martin", Version: 1 + int64(len(b.saves)),
		Submitted: b.submitted}
	c := &ecoutev1.Calibration{CalibrationId: "cal-1", CreatedByName: "Claire Dubois", CreatedAt: ts,
		Status: ecoutev1.CalibrationStatus_CALIBRATION_STATUS_OPEN, GridId: "grid-1", GridVersion: 1, GridName: "Grille test",
		CallStartedAt: timestamppb.New(trainingDay.Add(-48 * time.Hour)), CallDuration: durationpb.New(245 * time.Second),
		Direction: "inbound", AudioAvailable: true, RetainedUntil: timestamppb.New(trainingDay.AddDate(1, 0, 0)),
		Evaluators: []*ecoutev1.CalibrationEvaluator{
			{UserId: "u-claire", Name: "Claire Dubois", Expert: true, Submitted: true},
			{UserId: "u-lea", Name: "Léa Martin", Submitted: b.submitted},
			{UserId: "u-marc", Name: "Marc Petit", Submitted: true},
		},
		MyScore: my}
	return c
}

func (b *trainingBackend) ListCalibrations(context.Context) ([]*ecoutev1.Calibration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return []*ecoutev1.Calibration{b.calibration()}, nil
}

func (b *trainingBackend) GetCalibration(context.Context, string) (*ecoutev1.GetCalibrationResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &ecoutev1.GetCalibrationResponse{Calibration: b.calibration(), Grid: testGrid()}, nil
}

func (b *trainingBackend) SaveCalibrationScore(_ context.Context, e client.CalibrationScoreEdit) (*ecoutev1.Calibration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saves = append(b.saves, e)
	return b.calibration(), nil
}

func (b *trainingBackend) SubmitCalibrationScore(context.Context, string, int64, string) (*ecoutev1.Calibration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.submitted = true
	return b.calibration(), nil
}

func (b *trainingBackend) GetAgreementReport(context.Context, string, string) (*ecoutev1.AgreementReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reportAsked++
	if !b.submitted {
		return nil, &client.ErrForbidden{Message: "submit your own score first"}
	}
	return goldenReport(), nil
}

func goldenReport() *ecoutev1.AgreementReport {
	ts := timestamppb.New(trainingDay)
	return &ecoutev1.AgreementReport{GridId: "grid-1", GridName: "Grille test", Threshold: 0.667, Draws: 1000, GeneratedAt: ts,
		Sessions: []*ecoutev1.SessionAgreement{{CalibrationId: "cal-1", CreatedAt: ts, Reference: "expert", Evaluators: 3,
			Nominal: &ecoutev1.Alpha{Level: "nominal", Defined: true, Value: 0.8, CiLow: 0.52, CiHigh: 1, Interval: true, Pairable: 6,
				PairableItems: 2, PercentAgreement: 83.3},
			Ordinal: &ecoutev1.Alpha{Level: "ordinal", Defined: true, Value: 0.45, CiLow: 0.1, CiHigh: 0.9, Interval: true, Pairable: 3,
				PairableItems: 1, PercentAgreement: 66.7, Flagged: true},
			Bias: []*ecoutev1.EvaluatorBias{{Name: "Léa Martin", Bias: 6.5, Count: 1}, {Name: "Marc Petit", Bias: -3, Count: 1}}}},
		Criteria: []*ecoutev1.CriterionAgreement{
			{CriterionId: "greet", Label: "Greeting", Type: "yes_no", Alpha: &ecoutev1.Alpha{Level: "nominal", Undefined: "one rater"}},
			{CriterionId: "tone", Label: "Tone", Type: "scale", Alpha: &ecoutev1.Alpha{Level: "ordinal", Defined: true, Value: 0.45,
				CiLow: 0.1, CiHigh: 0.9, Interval: true, Pairable: 3, PercentAgreement: 66.7, Flagged: true},
				Bias: []*ecoutev1.EvaluatorBias{{Name: "Léa Martin", Bias: 1, Count: 1}}},
		},
		Drift: []*ecoutev1.EvaluatorDrift{{Name: "Léa Martin", Points: []*ecoutev1.DriftPoint{{CalibrationId: "cal-1", At: ts, Bias: 6.5}},
			MeanBias: 6.5}},
	}
}

// trainingApp is an App on the training backend, logged in, at 100×40.
func trainingApp(t *testing.T, b *trainingBackend, make func(c *Common) Screen) *App {
	t.Helper()
	c := testCommon(t, b)
	resp, _ := b.Login(context.Background(), "lea", "pw")
	c.Principal = resp.GetPrincipal()
	a := &App{c: c}
	var first Screen = newSessionScreen(c, "s1")
	if make != nil {
		first = make(c)
	}
	a.stack = []Screen{first}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 40})
	driveApp(a, first.Init())
	return a
}

func redOf(off time.Duration) string { return fmt.Sprintf("38;2;%d;", off/time.Second*4) }

// TestClipShowsCaptureAtPosition: the capture drawn is the one at the
// playback position, at the clip's start and after every seek.
func TestClipShowsCaptureAtPosition(t *testing.T) {
	b := newTrainingBackend()
	a := trainingApp(t, b, nil)
	if out := ansi.Strip(a.render()); !strings.Contains(out, "3 screen captures") || !strings.Contains(out, "Greeting: target 80") {
		t.Fatalf("session screen:\n%s", out)
	}
	_, cmd := a.Update(press("enter"))
	driveApp(a, cmd)
	s, ok := a.top().(*clipScreen)
	if !ok {
		t.Fatalf("top screen %T", a.top())
	}
	check := func(when string, pos time.Duration, label string, off time.Duration) {
		t.Helper()
		if s.player.pos != pos {
			t.Fatalf("%s: position %v, want %v", when, s.player.pos, pos)
		}
		raw := a.render()
		out := ansi.Strip(raw)
		if !strings.Contains(out, label) {
			t.Errorf("%s: no %q:\n%s", when, label, out)
		}
		if off >= 0 {
			if !strings.Contains(raw, redOf(off)) {
				t.Errorf("%s: the image drawn is not the capture at %v", when, off)
			}
			for _, o := range captureOffsets {
				if o != off && strings.Contains(raw, redOf(o)) {
					t.Errorf("%s: the capture at %v is drawn too", when, o)
				}
			}
		}
	}
	// The clip starts at 0:30: the capture of 0:20 is on screen.
	check("start", 30*time.Second, "Screen at 0:20 (1 of 3, png 16×8)", 20*time.Second)
	for range 2 { // → twice: 0:40
		_, cmd = a.Update(press("right"))
		driveApp(a, cmd)
	}
	check("seek forward", 40*time.Second, "Screen at 0:40 (2 of 3", 40*time.Second)
	for range 5 { // 1:05
		_, cmd = a.Update(press("right"))
		driveApp(a, cmd)
	}
	check("seek further", 65*time.Second, "Screen at 1:00 (3 of 3", 60*time.Second)
	_, cmd = a.Update(press("0")) // back to the start of the call
	driveApp(a, cmd)
	check("restart", 0, "The first screen capture is at 0:20.", -1)
	_, cmd = a.Update(press("right"))
	driveApp(a, cmd)
	_, cmd = a.Update(press("right"))
	driveApp(a, cmd)
	_, cmd = a.Update(press("right"))
	driveApp(a, cmd)
	_, cmd = a.Update(press("right"))
	driveApp(a, cmd)
	check("seek back in", 20*time.Second, "Screen at 0:20 (1 of 3", 20*time.Second)
	// Each image was fetched once, however often it was shown.
	b.mu.Lock()
	defer b.mu.Unlock()
	if fmt.Sprint(b.imagesAsked) != "[cap-0 cap-1 cap-2]" {
		t.Errorf("images asked %v", b.imagesAsked)
	}
}

// TestAgentSessionNoCaptures: the agent reads their session and plays the
// clip without any screen capture being asked for, then acknowledges.
func TestAgentSessionNoCaptures(t *testing.T) {
	b := newTrainingBackend()
	b.agent = true
	a := trainingApp(t, b, nil)
	out := ansi.Strip(a.render())
	if strings.Contains(out, "screen captures") {
		t.Errorf("the agent is told about captures:\n%s", out)
	}
	_, cmd := a.Update(press("enter"))
	driveApp(a, cmd)
	if _, ok := a.top().(*clipScreen); !ok {
		t.Fatalf("top screen %T", a.top())
	}
	if out := ansi.Strip(a.render()); !strings.Contains(out, "only to the session's trainer") {
		t.Errorf("clip screen for the agent:\n%s", out)
	}
	if b.capsAsked != 0 || len(b.imagesAsked) != 0 {
		t.Errorf("captures asked for the agent: %d lists, images %v", b.capsAsked, b.imagesAsked)
	}
	_, cmd = a.Update(BackMsg{})
	driveApp(a, cmd)
	_, cmd = a.Update(press("a"))
	driveApp(a, cmd)
	typeText(a.top(), "thanks")
	_, cmd = a.Update(press("enter"))
	driveApp(a, cmd)
	if b.acked != "ack:thanks" {
		t.Errorf("acknowledgement sent %q", b.acked)
	}
	if out := ansi.Strip(a.render()); !strings.Contains(out, "acknowledged") {
		t.Errorf("after acknowledging:\n%s", out)
	}
}

// TestCalibrationBlindThenReport: before the caller's score is submitted
// no report is asked for nor shown; the blind score goes through the
// evaluation form to the calibration service; then the report shows α
// with its interval and the flags.
func TestCalibrationBlindThenReport(t *testing.T) {
	b := newTrainingBackend()
	a := trainingApp(t, b, func(c *Common) Screen { return newCalibrationScreen(c, "cal-1") })
	out := ansi.Strip(a.render())
	if !strings.Contains(out, "Score the call blind") || strings.Contains(out, "α") || b.reportAsked != 0 {
		t.Fatalf("before scoring (report asked %d times):\n%s", b.reportAsked, out)
	}
	if strings.Contains(out, "Agent 1") || strings.Contains(out, "call-") {
		t.Errorf("the calibration names the call or its agent:\n%s", out)
	}
	_, cmd := a.Update(press("e"))
	driveApp(a, cmd)
	es, ok := a.top().(*evalScreen)
	if !ok {
		t.Fatalf("top screen %T", a.top())
	}
	// The call plays on the form, heard through the calibration.
	if es.player == nil || es.player.track == nil {
		t.Fatal("no player on the blind score's form")
	}
	if out := ansi.Strip(a.render()); !strings.Contains(out, "0:00 / 4:05") {
		t.Errorf("the form does not show the player:\n%s", out)
	}
	if es.form == nil || es.readOnly {
		t.Fatalf("blind score form not editable (form %v, read-only %v, err %q)", es.form != nil, es.readOnly, es.err)
	}
	// Submitting through the form submits the calibration score.
	ev, err := es.evals().SubmitEvaluation(context.Background(), "cal-1", 1, "")
	if err != nil || ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED || !b.submitted {
		t.Fatalf("submit: %v %v", ev.GetStatus(), err)
	}
	_, cmd = a.Update(BackMsg{})
	driveApp(a, cmd)
	out = ansi.Strip(a.render())
	for _, want := range []string{"α = 0.800, 95 % CI [0.520, 1.000], 6 pairable answers, 83.3 % agreement",
		"⚑ α = 0.450, 95 % CI [0.100, 0.900]", "α undefined (one rater)", "Léa Martin: +6.5 points of the total", "Drift across calibrations"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestHalfBlockAndParse(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	img.Set(1, 0, color.RGBA{G: 255, A: 255})
	img.Set(0, 1, color.RGBA{B: 255, A: 255})
	img.Set(1, 1, color.RGBA{R: 255, G: 255, B: 255, A: 255})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	th, err := decodeThumb(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := th.halfBlock(2, 1)
	want := "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;255;255;255m▀\x1b[m"
	if got != want {
		t.Errorf("half block %q, want %q", got, want)
	}
	if _, err := decodeThumb([]byte("not an image")); err == nil {
		t.Error("garbage decoded")
	}
	c := testCommon(t, newTrainingBackend())
	if cl, err := parseClip(c, "call-7 0:30 1:02:03 listen here"); err != nil || cl.From != 30*time.Second ||
		cl.To != time.Hour+2*time.Minute+3*time.Second || cl.Note != "listen here" {
		t.Errorf("clip %+v %v", cl, err)
	}
	if _, err := parseClip(c, "call-7 0:3x 1:00"); err == nil || !strings.Contains(err.Error(), "m:ss") {
		t.Errorf("bad position: %v", err)
	}
	if g, err := parseGoal(c, "grid-1 greet 80 2027-03-31"); err != nil || g.Target != 80 || g.DueAt.Format(time.DateOnly) != "2027-03-31" {
		t.Errorf("goal %+v %v", g, err)
	}
	if _, err := parseGoal(c, "grid-1 greet eighty 2027-03-31"); err == nil {
		t.Error("bad target accepted")
	}
}

// The calibration's call is heard by the calibration's id.
func (b *trainingBackend) CalibrationWaveform(ctx context.Context, id string) (*ecoutev1.GetWaveformResponse, error) {
	if id != "cal-1" {
		return nil, client.ErrNotFound
	}
	return b.fakeBackend.GetWaveform(ctx, "")
}

func (b *trainingBackend) CalibrationAudioSize(context.Context, string) (int64, error) {
	return 200, nil
}

func (b *trainingBackend) CalibrationAudioSource(string, int64) client.ByteSource { return nil }

func (b *trainingBackend) CalibrationPlaybackInfo(id string, wf *ecoutev1.GetWaveformResponse, size int64) client.Playback {
	return b.fakeBackend.PlaybackInfo(id, wf, size)
}
