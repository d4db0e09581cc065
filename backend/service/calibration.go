package service

import (
	"context"
	"math"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/agreement"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Calibration implements CalibrationService over core: blind calibration
// and the agreement report.
type Calibration struct {
	ecoutev1.UnimplementedCalibrationServiceServer
	Core *core.Backend
}

var calibrationStatus = map[ecoutev1.CalibrationStatus]string{
	ecoutev1.CalibrationStatus_CALIBRATION_STATUS_OPEN:   store.CalibrationOpen,
	ecoutev1.CalibrationStatus_CALIBRATION_STATUS_CLOSED: store.CalibrationClosed,
}

func scoreViewOf(s core.ScoreView) *ecoutev1.CalibrationScore {
	ps := &ecoutev1.CalibrationScore{EvaluatorId: s.Score.EvaluatorID, EvaluatorName: s.Score.EvaluatorName,
		Expert: s.Expert, Comment: s.Score.Comment, Score: scoreOf(s.Result), Version: s.Score.Version,
		Submitted: s.Submitted(), SubmittedAt: ts(s.Score.SubmittedAt), Hits: hitsOf(s.Hits)}
	for _, a := range s.Score.Answers {
		ps.Answers = append(ps.Answers, &ecoutev1.Answer{CriterionId: a.CriterionID, Value: a.Value, Comment: a.Comment})
	}
	return ps
}

// calibrationOf converts a calibration as its reader may see it: never the
// call's id, agent or team.
func calibrationOf(v core.CalibrationView) *ecoutev1.Calibration {
	c := v.Calibration
	pc := &ecoutev1.Calibration{CalibrationId: c.ID, CreatedById: c.CreatedBy, CreatedByName: c.CreatedByName,
		CreatedAt: ts(c.CreatedAt), Status: keyOf(calibrationStatus, c.Status), ClosedAt: ts(c.ClosedAt),
		GridId: c.GridID, GridVersion: int32(c.GridVersion), GridName: v.Grid.Grid.Name,
		CallStartedAt: ts(c.CallStartedAt), CallDuration: durationpb.New(c.CallDuration), Direction: c.Direction,
		AudioAvailable: v.AudioAvailable, RetainedUntil: ts(c.RetainedUntil)}
	for _, sc := range c.Scores {
		pc.Evaluators = append(pc.Evaluators, &ecoutev1.CalibrationEvaluator{UserId: sc.EvaluatorID,
			Name: sc.EvaluatorName, Expert: sc.EvaluatorID == c.ExpertID, Submitted: !sc.SubmittedAt.IsZero(),
			SubmittedAt: ts(sc.SubmittedAt)})
	}
	if v.Mine != nil {
		pc.MyScore = scoreViewOf(*v.Mine)
	}
	pc.Scores = each(v.Others, scoreViewOf)
	return pc
}

// CreateCalibration opens a calibration.
func (s *Calibration) CreateCalibration(ctx context.Context, req *ecoutev1.CreateCalibrationRequest) (*ecoutev1.CreateCalibrationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CalibrationView, error) {
		return s.Core.CreateCalibration(ctx, c, core.NewCalibration{CallID: req.GetCallId(), GridID: req.GetGridId(),
			EvaluatorLogins: req.GetEvaluatorLogins(), ExpertLogin: req.GetExpertLogin()})
	}, func(v core.CalibrationView) *ecoutev1.CreateCalibrationResponse {
		return &ecoutev1.CreateCalibrationResponse{Calibration: calibrationOf(v)}
	})
}

// ListCalibrations lists the caller's calibrations.
func (s *Calibration) ListCalibrations(ctx context.Context, req *ecoutev1.ListCalibrationsRequest) (*ecoutev1.ListCalibrationsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]core.CalibrationView, error) {
		return s.Core.ListCalibrations(ctx, c, int(req.GetPageSize()))
	}, func(vs []core.CalibrationView) *ecoutev1.ListCalibrationsResponse {
		return &ecoutev1.ListCalibrationsResponse{Calibrations: each(vs, calibrationOf)}
	})
}

// GetCalibration returns one calibration with its grid.
func (s *Calibration) GetCalibration(ctx context.Context, req *ecoutev1.GetCalibrationRequest) (*ecoutev1.GetCalibrationResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.CalibrationView, error) {
		return s.Core.GetCalibration(ctx, c, req.GetCalibrationId())
	}, func(v core.CalibrationView) *ecoutev1.GetCalibrationResponse {
		return &ecoutev1.GetCalibrationResponse{Calibration: calibrationOf(v), Grid: GridToProto(v.Grid)}
	})
}

// SaveCalibrationScore saves the caller's draft.
func (s *Calibration) SaveCalibrationScore(ctx context.Context, req *ecoutev1.SaveCalibrationScoreRequest) (*ecoutev1.SaveCalibrationScoreResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CalibrationView, error) {
		return s.Core.SaveCalibrationScore(ctx, c, core.CalibrationDraft{ID: req.GetCalibrationId(),
			ExpectedVersion: req.GetExpectedVersion(), Answers: answersOf(req.GetAnswers()), Comment: req.GetComment()})
	}, func(v core.CalibrationView) *ecoutev1.SaveCalibrationScoreResponse {
		return &ecoutev1.SaveCalibrationScoreResponse{Calibration: calibrationOf(v)}
	})
}

// SubmitCalibrationScore submits the caller's score.
func (s *Calibration) SubmitCalibrationScore(ctx context.Context, req *ecoutev1.SubmitCalibrationScoreRequest) (*ecoutev1.SubmitCalibrationScoreResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CalibrationView, error) {
		return s.Core.SubmitCalibrationScore(ctx, c, req.GetCalibrationId(), req.GetExpectedVersion(), req.GetOverrideReason())
	}, func(v core.CalibrationView) *ecoutev1.SubmitCalibrationScoreResponse {
		return &ecoutev1.SubmitCalibrationScoreResponse{Calibration: calibrationOf(v)}
	})
}

// CloseCalibration closes a calibration.
func (s *Calibration) CloseCalibration(ctx context.Context, req *ecoutev1.CloseCalibrationRequest) (*ecoutev1.CloseCalibrationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CalibrationView, error) {
		return s.Core.CloseCalibration(ctx, c, req.GetCalibrationId())
	}, func(v core.CalibrationView) *ecoutev1.CloseCalibrationResponse {
		return &ecoutev1.CloseCalibrationResponse{Calibration: calibrationOf(v)}
	})
}

func alphaMsg(a agreement.AlphaResult) *ecoutev1.Alpha {
	pa := &ecoutev1.Alpha{Level: a.Level.String(), Defined: a.Defined, Pairable: int32(a.Pairable),
		PairableItems: int32(a.PairableItems), PercentAgreement: 100 * a.PercentAgreement, Flagged: a.Flagged,
		Undefined: a.Undefined, Interval: a.Interval}
	if a.Defined {
		pa.Value = a.Value
	}
	if a.Interval && !math.IsNaN(a.Low) && !math.IsNaN(a.High) {
		pa.CiLow, pa.CiHigh = a.Low, a.High
	}
	return pa
}

// ReportOf converts an agreement report.
func ReportOf(v core.AgreementView) *ecoutev1.AgreementReport {
	r := v.Report
	biases := func(bs []agreement.Bias) []*ecoutev1.EvaluatorBias {
		var out []*ecoutev1.EvaluatorBias
		for _, b := range bs {
			out = append(out, &ecoutev1.EvaluatorBias{EvaluatorId: b.Evaluator, Name: v.Name(b.Evaluator), Bias: b.Bias,
				Count: int32(b.Count)})
		}
		return out
	}
	pr := &ecoutev1.AgreementReport{GridId: v.Grid.Grid.ID, GridName: v.Grid.Grid.Name, Threshold: r.Threshold,
		Draws: int32(r.Draws), GeneratedAt: timestamppb.New(v.GeneratedAt)}
	for _, c := range r.Criteria {
		pr.Criteria = append(pr.Criteria, &ecoutev1.CriterionAgreement{CriterionId: c.Criterion.ID, Label: c.Criterion.Label,
			Type: c.Criterion.Type, Alpha: alphaMsg(c.Alpha), Bias: biases(c.Bias)})
	}
	for _, s := range r.Sessions {
		ps := &ecoutev1.SessionAgreement{CalibrationId: s.ID, CreatedAt: ts(s.At), Reference: s.Ref,
			Bias: biases(s.Bias), Evaluators: int32(s.Evaluators)}
		if s.Nominal != nil {
			ps.Nominal = alphaMsg(*s.Nominal)
		}
		if s.Ordinal != nil {
			ps.Ordinal = alphaMsg(*s.Ordinal)
		}
		pr.Sessions = append(pr.Sessions, ps)
	}
	for _, d := range r.Drift {
		pd := &ecoutev1.EvaluatorDrift{EvaluatorId: d.Evaluator, Name: v.Name(d.Evaluator), MeanBias: d.Mean, Slope: d.Slope}
		for _, p := range d.Points {
			pd.Points = append(pd.Points, &ecoutev1.DriftPoint{CalibrationId: p.Session, At: ts(p.At), Bias: p.Bias})
		}
		pr.Drift = append(pr.Drift, pd)
	}
	return pr
}

// GetAgreementReport measures one calibration or a grid's.
func (s *Calibration) GetAgreementReport(ctx context.Context, req *ecoutev1.GetAgreementReportRequest) (*ecoutev1.GetAgreementReportResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.AgreementView, error) {
		return s.Core.AgreementReport(ctx, c, req.GetCalibrationId(), req.GetGridId())
	}, func(v core.AgreementView) *ecoutev1.GetAgreementReportResponse {
		return &ecoutev1.GetAgreementReportResponse{Report: ReportOf(v)}
	})
}

// ExportAgreementReport is the report encrypted with age.
func (s *Calibration) ExportAgreementReport(ctx context.Context, req *ecoutev1.ExportAgreementReportRequest) (*ecoutev1.ExportAgreementReportResponse, error) {
	type export struct {
		data []byte
		name string
	}
	return serve(ctx, nil, func(c core.Caller) (export, error) {
		b, name, err := s.Core.ExportAgreementReport(ctx, c, req.GetCalibrationId(), req.GetGridId(), req.GetRecipient())
		return export{b, name}, err
	}, func(e export) *ecoutev1.ExportAgreementReportResponse {
		return &ecoutev1.ExportAgreementReportResponse{Encrypted: e.data, Filename: e.name}
	})
}
