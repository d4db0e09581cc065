package core

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/ecoute/ecoute/backend/agreement"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
)

// ReportDraws and ReportSeed drive the bootstrap of the agreement report:
// the same scores give the same intervals.
const (
	ReportDraws = agreement.DefaultDraws
	ReportSeed  = 1
)

// AgreementView is an agreement report with the names it refers to.
type AgreementView struct {
	Report      agreement.Report
	Grid        store.GridRecord
	Names       map[string]string // evaluator id → name
	GeneratedAt time.Time
}

// Name is an evaluator's name, or their id.
func (v AgreementView) Name(id string) string {
	if n := v.Names[id]; n != "" {
		return n
	}
	return id
}

// reportSessions chooses the calibrations of a report: one (calibrationID)
// or every one on a grid (gridID) whose report the caller may read.
func (b *Backend) reportSessions(ctx context.Context, c Caller, calibrationID, gridID string) ([]store.Calibration, error) {
	if !b.isEvaluatorRole(c.User.Role) {
		return nil, domain.Forbidden(c.User.Role, "read agreement reports", "a %s takes no part in calibrations", c.User.Role)
	}
	switch {
	case (calibrationID == "") == (gridID == ""):
		return nil, domain.Invalid("calibration_id", "give either calibration_id or grid_id")
	case calibrationID != "":
		cal, err := b.calibration(ctx, c, calibrationID)
		if err != nil {
			return nil, err
		}
		if !reportable(cal, c.User.ID) {
			return nil, domain.New(domain.ReasonCalibrationBlind,
				"calibration %s is blind until your own score is submitted", cal.ID).With(domain.MetaCalibrationID, cal.ID)
		}
		return []store.Calibration{cal}, nil
	}
	if err := limits.ID("grid_id", gridID); err != nil {
		return nil, err
	}
	list, err := b.Store.ListCalibrations(ctx, store.CalibrationQuery{UserID: c.User.ID, GridID: gridID, Limit: MaxEvaluationPage})
	if err != nil {
		return nil, domain.Internal("list calibrations", err)
	}
	var out []store.Calibration
	for _, cal := range list {
		if reportable(cal, c.User.ID) {
			out = append(out, cal)
		}
	}
	if len(out) == 0 {
		return nil, domain.NotFound("no calibration on grid %s whose report you may read", gridID)
	}
	return out, nil
}

// AgreementReport measures one calibration, or every calibration on a grid
// whose report the caller may read (see agreement.BuildReport).
func (b *Backend) AgreementReport(ctx context.Context, c Caller, calibrationID, gridID string) (AgreementView, error) {
	cals, err := b.reportSessions(ctx, c, calibrationID, gridID)
	if err != nil {
		return AgreementView{}, err
	}
	// The criteria of the newest calibration's grid version; answers are
	// matched by criterion id across versions.
	newest := cals[0]
	for _, cal := range cals {
		if cal.CreatedAt.After(newest.CreatedAt) {
			newest = cal
		}
	}
	rec, err := b.grid(ctx, newest.GridID, newest.GridVersion)
	if err != nil {
		return AgreementView{}, err
	}
	var criteria []agreement.ReportCriterion
	for _, sec := range rec.Grid.Sections {
		for _, cr := range sec.Criteria {
			rc := agreement.ReportCriterion{ID: cr.ID, Label: cr.Label, Type: cr.Type}
			if cr.Type == grid.TypeChoice {
				rc.Points = map[string]float64{}
				for _, ch := range cr.Choices {
					rc.Points[ch.ID] = ch.Points
				}
			}
			criteria = append(criteria, rc)
		}
	}
	names := map[string]string{}
	var sessions []agreement.ReportSession
	for _, cal := range cals {
		s := agreement.ReportSession{ID: cal.ID, At: cal.CreatedAt}
		for _, sc := range cal.Scores {
			if sc.SubmittedAt.IsZero() {
				continue // a draft is not a score
			}
			names[sc.EvaluatorID] = sc.EvaluatorName
			answers := map[string]string{}
			for _, a := range sc.Answers {
				answers[a.CriterionID] = a.Value
			}
			s.Ratings = append(s.Ratings, agreement.Rating{Evaluator: sc.EvaluatorID, Expert: sc.EvaluatorID == cal.ExpertID,
				Answers: answers, Total: float64(sc.TotalTenths) / 10, HasTotal: sc.HasTotal})
		}
		sessions = append(sessions, s)
	}
	rep := agreement.BuildReport(criteria, sessions, agreement.Options{Draws: ReportDraws, Seed: ReportSeed})
	return AgreementView{Report: rep, Grid: rec, Names: names, GeneratedAt: b.Clock.Now().UTC()}, nil
}

// ExportAgreementReport is the report as a tar archive (report.json and
// CSV tables) encrypted with age to recipient (R9: every extraction is
// encrypted). It is audited before anything is returned.
func (b *Backend) ExportAgreementReport(ctx context.Context, c Caller, calibrationID, gridID, recipient string) ([]byte, string, error) {
	target := calibrationID
	if target == "" {
		target = "grid:" + gridID
	}
	e := entry{target: target}
	fail := func(err error) ([]byte, string, error) {
		return nil, "", b.record(ctx, c, ActionCalibrationExport, e, err)
	}
	rcp, err := privacy.ParseRecipient(recipient)
	if err != nil {
		return fail(err)
	}
	v, err := b.AgreementReport(ctx, c, calibrationID, gridID)
	if err != nil {
		return fail(err)
	}
	archive, err := reportArchive(v)
	if err != nil {
		return fail(domain.Internal("write the report", err))
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rcp)
	if err == nil {
		_, err = w.Write(archive)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return fail(domain.Internal("encrypt the report", err))
	}
	kind := "age-x25519"
	if strings.HasPrefix(strings.TrimSpace(recipient), "ssh-") {
		kind, _, _ = strings.Cut(strings.TrimSpace(recipient), " ")
	}
	e.details = map[string]string{"sessions": strconv.Itoa(len(v.Report.Sessions)), "recipient": kind}
	if err := b.record(ctx, c, ActionCalibrationExport, e, nil); err != nil {
		return nil, "", &domain.Error{Reason: domain.ReasonAuditUnavailable,
			Message: "export not given: the audit trail is unavailable", Err: err}
	}
	name := fmt.Sprintf("agreement-%s-%s.tar.age", v.Grid.Grid.ID, v.GeneratedAt.Format("20060102-150405"))
	return out.Bytes(), name, nil
}

type alphaJSON struct {
	Level            string   `json:"level"`
	Defined          bool     `json:"defined"`
	Alpha            *float64 `json:"alpha,omitempty"`
	CILow            *float64 `json:"ci95_low,omitempty"`
	CIHigh           *float64 `json:"ci95_high,omitempty"`
	Pairable         int      `json:"pairable"`
	PairableItems    int      `json:"pairable_items"`
	PercentAgreement float64  `json:"percent_agreement"`
	Flagged          bool     `json:"flagged"`
	Undefined        string   `json:"undefined,omitempty"`
}

func alphaOf(a agreement.AlphaResult) alphaJSON {
	j := alphaJSON{Level: a.Level.String(), Defined: a.Defined, Pairable: a.Pairable, PairableItems: a.PairableItems,
		PercentAgreement: round(100*a.PercentAgreement, 1), Flagged: a.Flagged, Undefined: a.Undefined}
	if a.Defined {
		v := round(a.Value, 3)
		j.Alpha = &v
		if a.Interval {
			lo, hi := round(a.Low, 3), round(a.High, 3)
			j.CILow, j.CIHigh = &lo, &hi
		}
	}
	return j
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

type biasJSON struct {
	Evaluator string  `json:"evaluator"`
	Name      string  `json:"name"`
	Bias      float64 `json:"bias"`
	Count     int     `json:"count"`
}

// reportArchive writes the report as report.json and CSV tables.
func reportArchive(v AgreementView) ([]byte, error) {
	r := v.Report
	biases := func(bs []agreement.Bias) []biasJSON {
		out := []biasJSON{}
		for _, b := range bs {
			out = append(out, biasJSON{Evaluator: b.Evaluator, Name: v.Name(b.Evaluator), Bias: round(b.Bias, 3), Count: b.Count})
		}
		return out
	}
	type critJSON struct {
		ID    string     `json:"criterion_id"`
		Label string     `json:"label"`
		Type  string     `json:"type"`
		Alpha alphaJSON  `json:"alpha"`
		Bias  []biasJSON `json:"bias"`
	}
	type sessJSON struct {
		Calibration string     `json:"calibration_id"`
		CreatedAt   string     `json:"created_at"`
		Reference   string     `json:"reference"`
		Evaluators  int        `json:"evaluators"`
		Nominal     *alphaJSON `json:"nominal,omitempty"`
		Ordinal     *alphaJSON `json:"ordinal,omitempty"`
		Bias        []biasJSON `json:"total_bias"`
	}
	type pointJSON struct {
		Calibration string  `json:"calibration_id"`
		At          string  `json:"at"`
		Bias        float64 `json:"bias"`
	}
	type driftJSON struct {
		Evaluator string      `json:"evaluator"`
		Name      string      `json:"name"`
		Points    []pointJSON `json:"points"`
		Mean      float64     `json:"mean_bias"`
		Slope     float64     `json:"slope"`
	}
	doc := struct {
		GridID      string      `json:"grid_id"`
		GridName    string      `json:"grid_name"`
		GeneratedAt string      `json:"generated_at"`
		Threshold   float64     `json:"threshold"`
		Draws       int         `json:"bootstrap_draws"`
		Criteria    []critJSON  `json:"criteria"`
		Sessions    []sessJSON  `json:"sessions"`
		Drift       []driftJSON `json:"drift"`
	}{GridID: v.Grid.Grid.ID, GridName: v.Grid.Grid.Name, GeneratedAt: v.GeneratedAt.Format(time.RFC3339),
		Threshold: r.Threshold, Draws: r.Draws}
	crit := [][]string{{"criterion_id", "label", "type", "level", "alpha", "ci95_low", "ci95_high", "pairable",
		"pairable_items", "percent_agreement", "flagged", "undefined"}}
	bias := [][]string{{"criterion_id", "evaluator", "name", "bias", "count"}}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, c := range r.Criteria {
		a := alphaOf(c.Alpha)
		doc.Criteria = append(doc.Criteria, critJSON{ID: c.Criterion.ID, Label: c.Criterion.Label, Type: c.Criterion.Type,
			Alpha: a, Bias: biases(c.Bias)})
		crit = append(crit, []string{c.Criterion.ID, c.Criterion.Label, c.Criterion.Type, a.Level, num(a.Alpha),
			num(a.CILow), num(a.CIHigh), strconv.Itoa(a.Pairable), strconv.Itoa(a.PairableItems),
			strconv.FormatFloat(a.PercentAgreement, 'f', -1, 64), strconv.FormatBool(a.Flagged), a.Undefined})
		for _, bj := range biases(c.Bias) {
			bias = append(bias, []string{c.Criterion.ID, bj.Evaluator, bj.Name, strconv.FormatFloat(bj.Bias, 'f', -1, 64),
				strconv.Itoa(bj.Count)})
		}
	}
	sess := [][]string{{"calibration_id", "created_at", "reference", "evaluators", "nominal_alpha", "ordinal_alpha",
		"evaluator", "name", "total_bias"}}
	for _, s := range r.Sessions {
		sj := sessJSON{Calibration: s.ID, CreatedAt: s.At.UTC().Format(time.RFC3339), Reference: s.Ref,
			Evaluators: s.Evaluators, Bias: biases(s.Bias)}
		var nom, ord string
		if s.Nominal != nil {
			a := alphaOf(*s.Nominal)
			sj.Nominal, nom = &a, num(a.Alpha)
		}
		if s.Ordinal != nil {
			a := alphaOf(*s.Ordinal)
			sj.Ordinal, ord = &a, num(a.Alpha)
		}
		doc.Sessions = append(doc.Sessions, sj)
		for _, bj := range sj.Bias {
			sess = append(sess, []string{s.ID, sj.CreatedAt, s.Ref, strconv.Itoa(s.Evaluators), nom, ord, bj.Evaluator,
				bj.Name, strconv.FormatFloat(bj.Bias, 'f', -1, 64)})
		}
	}
	drift := [][]string{{"evaluator", "name", "calibration_id", "at", "bias"}}
	for _, d := range r.Drift {
		dj := driftJSON{Evaluator: d.Evaluator, Name: v.Name(d.Evaluator), Mean: round(d.Mean, 3), Slope: round(d.Slope, 3)}
		for _, p := range d.Points {
			at := p.At.UTC().Format(time.RFC3339)
			dj.Points = append(dj.Points, pointJSON{Calibration: p.Session, At: at, Bias: round(p.Bias, 3)})
			drift = append(drift, []string{d.Evaluator, dj.Name, p.Session, at, strconv.FormatFloat(round(p.Bias, 3), 'f', -1, 64)})
		}
		doc.Drift = append(doc.Drift, dj)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	put := func(name string, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), ModTime: v.GeneratedAt,
			Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := put("report.json", append(js, '\n')); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name string
		rows [][]string
	}{{"criteria.csv", crit}, {"bias.csv", bias}, {"sessions.csv", sess}, {"drift.csv", drift}} {
		var cb bytes.Buffer
		cw := csv.NewWriter(&cb)
		if err := cw.WriteAll(t.rows); err != nil {
			return nil, err
		}
		if err := put(t.name, cb.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
