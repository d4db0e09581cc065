// Package policy is the role table of DESIGN.md as data: which methods each
// role may call, which fields it may receive, and which calls it may see. The
// services consult it for every request; nothing else decides access.
package policy

import (
	"slices"
	"strings"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rows is which calls a role may read.
type Rows int

const (
	// RowsNone: no call at all.
	RowsNone Rows = iota
	// RowsOwnTeams: the calls of the teams the user is linked to.
	RowsOwnTeams
	// RowsTrainees: the calls of the trainer's trainees (the agents of
	// their teams that one of their coaching sessions names) and the calls
	// their sessions include (issue 13): not every call of their teams.
	RowsTrainees
	// RowsOwnCalls: the calls of the agent the user is.
	RowsOwnCalls
	// RowsAllTechnical: every call, technical fields only.
	RowsAllTechnical
)

func (r Rows) String() string {
	return [...]string{"none", "own teams", "trainees", "own calls", "all, technical only"}[r]
}

// Rule is what one role may do and see.
type Rule struct {
	Methods []string // full gRPC method names
	Fields  []string // visible field paths, "call.<proto field>[.<sub field>]" or pseudo fields
	Masked  []string // visible fields sent masked (all but the last two digits)
	Rows    Rows
}

// Method names, as gRPC spells them.
const (
	MLogin          = "/ecoute.v1.AuthService/Login"
	MLogout         = "/ecoute.v1.AuthService/Logout"
	MWhoAmI         = "/ecoute.v1.AuthService/WhoAmI"
	MChangePassword = "/ecoute.v1.AuthService/ChangePassword"
	MListCalls      = "/ecoute.v1.CallService/ListCalls"
	MGetCall        = "/ecoute.v1.CallService/GetCall"
	MStreamAudio    = "/ecoute.v1.CallService/StreamAudio"
	MGetWaveform    = "/ecoute.v1.CallService/GetWaveform"
	MUpload         = "/ecoute.v1.IngestService/UploadRecording"

	MListAuditEvents       = "/ecoute.v1.AuditService/ListAuditEvents"
	MVerifyAuditChain      = "/ecoute.v1.AuditService/VerifyAuditChain"
	MExportSubject         = "/ecoute.v1.PrivacyService/ExportSubject"
	MEraseSubject          = "/ecoute.v1.PrivacyService/EraseSubject"
	MListAuthorizedPersons = "/ecoute.v1.PrivacyService/ListAuthorizedPersons"

	MListUsers            = "/ecoute.v1.AdminService/ListUsers"
	MCreateUser           = "/ecoute.v1.AdminService/CreateUser"
	MSetUserDisabled      = "/ecoute.v1.AdminService/SetUserDisabled"
	MSetUserTeams         = "/ecoute.v1.AdminService/SetUserTeams"
	MResetPassword        = "/ecoute.v1.AdminService/ResetPassword"
	MListSessions         = "/ecoute.v1.AdminService/ListSessions"
	MRevokeSessions       = "/ecoute.v1.AdminService/RevokeSessions"
	MListTeams            = "/ecoute.v1.AdminService/ListTeams"
	MCreateTeam           = "/ecoute.v1.AdminService/CreateTeam"
	MAddRecordingPeriod   = "/ecoute.v1.AdminService/AddRecordingPeriod"
	MListRecordingPeriods = "/ecoute.v1.AdminService/ListRecordingPeriods"
	MMyRecordingPeriods   = "/ecoute.v1.RecordingPeriodService/MyRecordingPeriods"

	MListAgents     = "/ecoute.v1.DirectoryService/ListAgents"
	MCreateAgent    = "/ecoute.v1.DirectoryService/CreateAgent"
	MRenameAgent    = "/ecoute.v1.DirectoryService/RenameAgent"
	MMoveAgent      = "/ecoute.v1.DirectoryService/MoveAgent"
	MEndAgent       = "/ecoute.v1.DirectoryService/EndAgent"
	MListCampaigns  = "/ecoute.v1.DirectoryService/ListCampaigns"
	MCreateCampaign = "/ecoute.v1.DirectoryService/CreateCampaign"
	MRenameCampaign = "/ecoute.v1.DirectoryService/RenameCampaign"
	MEndCampaign    = "/ecoute.v1.DirectoryService/EndCampaign"
	MRenameTeam     = "/ecoute.v1.DirectoryService/RenameTeam"
	MEndTeam        = "/ecoute.v1.DirectoryService/EndTeam"

	MListGrantRequests = "/ecoute.v1.TrustService/ListGrantRequests"
	MApproveGrant      = "/ecoute.v1.TrustService/ApproveGrant"
	MRefuseGrant       = "/ecoute.v1.TrustService/RefuseGrant"
	MListLoginLocks    = "/ecoute.v1.TrustService/ListLoginLocks"

	MRecordPrivacyRequest = "/ecoute.v1.PrivacyRequestService/RecordPrivacyRequest"
	MListPrivacyRequests  = "/ecoute.v1.PrivacyRequestService/ListPrivacyRequests"
	MClosePrivacyRequest  = "/ecoute.v1.PrivacyRequestService/ClosePrivacyRequest"

	MUploadActivity   = "/ecoute.v1.IngestService/UploadActivity"
	MQualityStats     = "/ecoute.v1.StatsService/QualityStats"
	MAgentActivity    = "/ecoute.v1.StatsService/AgentActivity"
	MClientTables     = "/ecoute.v1.StatsService/ClientTables"
	MStatsEvaluations = "/ecoute.v1.StatsService/StatsEvaluations"
	MExportStats      = "/ecoute.v1.StatsService/ExportStats"
)

// Statistics (issue 17): supervisors, trainers, agents and hr read the
// dashboards of their reach (core scopes them) and export them; the
// evaluations behind a figure go to those who read evaluations. The
// client role reads only its company's fixed tables and exports them.
// The dpo gets an agent's activity figures through ExportSubject only.
var (
	statsRead   = []string{MQualityStats, MAgentActivity, MStatsEvaluations, MExportStats}
	statsClient = []string{MClientTables, MExportStats}
)

// Field paths. FieldAudioStream is a pseudo field: the right to hear the
// call (StreamAudio, GetWaveform); FieldAudio is the technical AudioInfo.
const (
	FieldCallID         = "call.call_id"
	FieldStartedAt      = "call.started_at"
	FieldEndedAt        = "call.ended_at"
	FieldDuration       = "call.duration"
	FieldAgentID        = "call.agent_id"
	FieldAgentName      = "call.agent_name"
	FieldTeamID         = "call.team_id"
	FieldTeamName       = "call.team_name"
	FieldCampaignID     = "call.campaign_id"
	FieldCampaignName   = "call.campaign_name"
	FieldDirection      = "call.direction"
	FieldCustomerName   = "call.customer.name"
	FieldCustomerPhone  = "call.customer.phone_e164"
	FieldCustomerAddr   = "call.customer.address"
	FieldCustomerNumber = "call.customer.customer_number"
	FieldConsent        = "call.consent"
	FieldRetainedUntil  = "call.retained_until"
	FieldEvaluated      = "call.evaluated"
	FieldAudio          = "call.audio"
	FieldAudioStream    = "call.audio_stream"
)

var (
	authMethods = []string{MLogin, MLogout, MWhoAmI, MChangePassword}
	readCalls   = []string{MListCalls, MGetCall}
	hearCalls   = []string{MStreamAudio, MGetWaveform}

	// callCore is what every role that reviews calls sees of a call.
	callCore = []string{FieldCallID, FieldStartedAt, FieldEndedAt, FieldDuration, FieldAgentID, FieldTeamID,
		FieldTeamName, FieldCampaignID, FieldCampaignName, FieldDirection, FieldConsent, FieldRetainedUntil,
		FieldEvaluated}
	technical = []string{FieldCallID, FieldStartedAt, FieldEndedAt, FieldDuration, FieldRetainedUntil, FieldAudio}

	// adminRead is the account, team and period lists (the dpo reads
	// them too); adminWrite changes them.
	adminRead  = []string{MListUsers, MListTeams, MListRecordingPeriods, MListSessions}
	adminWrite = []string{MCreateUser, MSetUserDisabled, MSetUserTeams, MResetPassword, MRevokeSessions,
		MCreateTeam, MAddRecordingPeriod}
	// directoryRead lists the agents and campaigns (admin, dpo);
	// directoryWrite changes the directory (admin). Supervisors and
	// trainers list the agents of their own teams (core scopes it), to
	// name whom they review; the client department never sees individual
	// agents (R8).
	directoryRead  = []string{MListAgents, MListCampaigns}
	directoryWrite = []string{MCreateAgent, MRenameAgent, MMoveAgent, MEndAgent, MCreateCampaign, MRenameCampaign,
		MEndCampaign, MRenameTeam, MEndTeam}
	// recorded are told when they may be recorded (R6).
	recorded = []string{MMyRecordingPeriods}
	// auditRead reads and verifies the audit trail (dpo, admin).
	auditRead = []string{MListAuditEvents, MVerifyAuditChain}
	// privacyDPO answers the rights of the people concerned (R7, R8).
	privacyDPO = []string{MExportSubject, MEraseSubject, MListAuthorizedPersons, MRecordPrivacyRequest,
		MListPrivacyRequests, MClosePrivacyRequest}
	// secondPerson decides the privileged grants another person asked for
	// (four-eyes: another administrator or the dpo).
	secondPerson = []string{MListGrantRequests, MApproveGrant, MRefuseGrant}
)

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Evaluations (issue 6): methods, and the fields of an ecoute.v1.Evaluation
// by role. HR reads scores, not the written comments.
const (
	MListGrids             = "/ecoute.v1.EvaluationService/ListGrids"
	MGetGrid               = "/ecoute.v1.EvaluationService/GetGrid"
	MSaveGrid              = "/ecoute.v1.EvaluationService/SaveGrid"
	MStartEvaluation       = "/ecoute.v1.EvaluationService/StartEvaluation"
	MSaveEvaluation        = "/ecoute.v1.EvaluationService/SaveEvaluation"
	MSubmitEvaluation      = "/ecoute.v1.EvaluationService/SubmitEvaluation"
	MListEvaluations       = "/ecoute.v1.EvaluationService/ListEvaluations"
	MGetEvaluation         = "/ecoute.v1.EvaluationService/GetEvaluation"
	MAcknowledgeEvaluation = "/ecoute.v1.EvaluationService/AcknowledgeEvaluation"
	MDisputeEvaluation     = "/ecoute.v1.EvaluationService/DisputeEvaluation"
	MResolveDispute        = "/ecoute.v1.EvaluationService/ResolveDispute"
	MCheckComment          = "/ecoute.v1.EvaluationService/CheckComment"
	MHandOverEvaluation    = "/ecoute.v1.EvaluationService/HandOverEvaluation"
)

// Training (issue 13): coaching sessions, the screen captures shown inside
// them (R11: trainers only), blind calibration and its agreement report
// (supervisors and trainers; never the agent, hr or the client role), and
// the telephony side's capture upload.
const (
	MUploadScreenCaptures       = "/ecoute.v1.IngestService/UploadScreenCaptures"
	MListCoachingSessions       = "/ecoute.v1.CoachingService/ListCoachingSessions"
	MGetCoachingSession         = "/ecoute.v1.CoachingService/GetCoachingSession"
	MCreateCoachingSession      = "/ecoute.v1.CoachingService/CreateCoachingSession"
	MAddCoachingGoal            = "/ecoute.v1.CoachingService/AddCoachingGoal"
	MAttachEvaluation           = "/ecoute.v1.CoachingService/AttachEvaluation"
	MAddClip                    = "/ecoute.v1.CoachingService/AddClip"
	MSaveCoachingNotes          = "/ecoute.v1.CoachingService/SaveCoachingNotes"
	MShareCoachingSession       = "/ecoute.v1.CoachingService/ShareCoachingSession"
	MAcknowledgeCoachingSession = "/ecoute.v1.CoachingService/AcknowledgeCoachingSession"
	MDisputeCoachingSession     = "/ecoute.v1.CoachingService/DisputeCoachingSession"
	MListScreenCaptures         = "/ecoute.v1.CoachingService/ListScreenCaptures"
	MGetScreenCapture           = "/ecoute.v1.CoachingService/GetScreenCapture"
	MCreateCalibration          = "/ecoute.v1.CalibrationService/CreateCalibration"
	MListCalibrations           = "/ecoute.v1.CalibrationService/ListCalibrations"
	MGetCalibration             = "/ecoute.v1.CalibrationService/GetCalibration"
	MSaveCalibrationScore       = "/ecoute.v1.CalibrationService/SaveCalibrationScore"
	MSubmitCalibrationScore     = "/ecoute.v1.CalibrationService/SubmitCalibrationScore"
	MCloseCalibration           = "/ecoute.v1.CalibrationService/CloseCalibration"
	MGetAgreementReport         = "/ecoute.v1.CalibrationService/GetAgreementReport"
	MExportAgreementReport      = "/ecoute.v1.CalibrationService/ExportAgreementReport"
)

var (
	coachingRead  = []string{MListCoachingSessions, MGetCoachingSession}
	coachingWrite = []string{MCreateCoachingSession, MAddCoachingGoal, MAttachEvaluation, MAddClip, MSaveCoachingNotes,
		MShareCoachingSession}
	coachingAnswer = []string{MAcknowledgeCoachingSession, MDisputeCoachingSession}
	captureView    = []string{MListScreenCaptures, MGetScreenCapture}
	calibrate      = []string{MCreateCalibration, MListCalibrations, MGetCalibration, MSaveCalibrationScore,
		MSubmitCalibrationScore, MCloseCalibration, MGetAgreementReport, MExportAgreementReport}
)

var (
	evalRead  = []string{MListGrids, MGetGrid, MListEvaluations, MGetEvaluation}
	evalWrite = []string{MSaveGrid, MStartEvaluation, MSaveEvaluation, MSubmitEvaluation, MResolveDispute, MCheckComment,
		MHandOverEvaluation}
	evalAnswer = []string{MAcknowledgeEvaluation, MDisputeEvaluation}

	evalScores = []string{"evaluation.evaluation_id", "evaluation.call_id", "evaluation.grid_id",
		"evaluation.grid_version", "evaluation.grid_name", "evaluation.agent_id", "evaluation.agent_name",
		"evaluation.team_id", "evaluation.evaluator_id", "evaluation.evaluator_name", "evaluation.status",
		"evaluation.version", "evaluation.score", "evaluation.call_started_at", "evaluation.created_at",
		"evaluation.updated_at", "evaluation.submitted_at", "evaluation.retained_until",
		"evaluation.acknowledged_at", "evaluation.disputed_at", "evaluation.resolved_at", "evaluation.resolution",
		"evaluation.resolved_by_name", "evaluation.respond_until"}
	evalText = []string{"evaluation.answers", "evaluation.comment", "evaluation.hits",
		"evaluation.override_reason", "evaluation.agent_comment", "evaluation.resolution_reason"}
)

// EvaluationScope is which evaluations u may read: those of the calls u may
// read, except HR, who reads the scores of every submitted evaluation (R8).
// Drafts are their evaluators' working copies: only supervisors see them.
func EvaluationScope(u domain.User) domain.EvalScope {
	if u.Role == domain.RoleHR {
		return domain.EvalScope{Scope: domain.Scope{All: true}}
	}
	return domain.EvalScope{Scope: Scope(u), Drafts: u.Role == domain.RoleSupervisor}
}

// Table is the role table (DESIGN.md "Roles and what they see"). Only the
// methods that exist so far are listed; later issues add theirs here.
var Table = map[string]Rule{
	domain.RoleSupervisor: {
		Methods: join(authMethods, readCalls, hearCalls, recorded, evalRead, evalWrite, []string{MListAgents}, statsRead, calibrate, pairing),
		Fields:  join(callCore, []string{FieldAgentName, FieldCustomerPhone, FieldAudioStream}, evalScores, evalText),
		Masked:  []string{FieldCustomerPhone},
		Rows:    RowsOwnTeams,
	},
	domain.RoleTrainer: {
		Methods: join(authMethods, readCalls, hearCalls, recorded, evalRead, []string{MListAgents, MCheckComment}, statsRead,
			coachingRead, coachingWrite, captureView, calibrate, pairing),
		Fields: join(callCore, []string{FieldAgentName, FieldAudioStream}, evalScores, evalText),
		Rows:   RowsTrainees,
	},
	domain.RoleAgent: {
		Methods: join(authMethods, readCalls, hearCalls, recorded, evalRead, evalAnswer, statsRead, coachingRead, coachingAnswer, pairing),
		Fields:  join(callCore, []string{FieldAgentName, FieldCustomerPhone, FieldAudioStream}, evalScores, evalText),
		Masked:  []string{FieldCustomerPhone},
		Rows:    RowsOwnCalls,
	},
	domain.RoleHR: {
		Methods: join(authMethods, evalRead, statsRead),
		Fields:  join([]string{FieldAgentName}, evalScores),
		Rows:    RowsNone,
	},
	domain.RoleClient: {
		Methods: join(authMethods, statsClient),
		Rows:    RowsNone,
	},
	domain.RoleMaintenance: {
		Methods: join(authMethods, readCalls),
		Fields:  technical,
		Rows:    RowsAllTechnical,
	},
	domain.RoleDPO: {
		Methods: join(authMethods, []string{MListUsers, MListTeams, MListRecordingPeriods}, directoryRead, auditRead, privacyDPO,
			secondPerson),
		Fields: []string{FieldAgentName, FieldCustomerName, FieldCustomerPhone, FieldCustomerAddr, FieldCustomerNumber},
		Rows:   RowsNone,
	},
	domain.RoleAdmin: {
		Methods: join(authMethods, adminRead, adminWrite, directoryRead, directoryWrite, auditRead, []string{MListAuthorizedPersons},
			secondPerson, []string{MListLoginLocks}, sshKeys),
		Fields: []string{FieldAudio},
		Rows:   RowsNone,
	},
	// The telephony side's service account: uploads, reads nothing.
	domain.RoleTelephony: {
		Methods: join(authMethods, []string{MUpload, MUploadActivity, MUploadScreenCaptures}),
		Rows:    RowsNone,
	},
}

// Roles lists the roles in the table's order of presentation.
var Roles = []string{domain.RoleSupervisor, domain.RoleTrainer, domain.RoleAgent, domain.RoleHR, domain.RoleClient,
	domain.RoleMaintenance, domain.RoleDPO, domain.RoleAdmin, domain.RoleTelephony}

// ValidRole tells whether role is in the table.
func ValidRole(role string) bool {
	_, ok := Table[role]
	return ok
}

// Public methods need no session.
func Public(method string) bool {
	return method == MLogin || strings.HasPrefix(method, "/grpc.health.v1.") ||
		strings.HasPrefix(method, "/grpc.reflection.")
}

// Allowed tells whether role may call method.
func Allowed(role, method string) bool {
	return slices.Contains(Table[role].Methods, method)
}

// AllowedMethods lists the methods of role, sorted.
func AllowedMethods(role string) []string {
	return sorted(Table[role].Methods)
}

// VisibleFields lists the field paths of role, sorted.
func VisibleFields(role string) []string {
	return sorted(Table[role].Fields)
}

// Visible tells whether role may receive field.
func Visible(role, field string) bool {
	return slices.Contains(Table[role].Fields, field)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Scope is the set of calls a user may read.
func Scope(u domain.User) domain.Scope {
	switch Table[u.Role].Rows {
	case RowsOwnTeams:
		return domain.Scope{TeamIDs: slices.Clone(u.TeamIDs)}
	case RowsTrainees:
		if u.ID == "" {
			return domain.Scope{}
		}
		return domain.Scope{Trainer: u.ID, TrainerTeams: slices.Clone(u.TeamIDs)}
	case RowsOwnCalls:
		if u.AgentID == "" {
			return domain.Scope{}
		}
		return domain.Scope{AgentIDs: []string{u.AgentID}}
	case RowsAllTechnical:
		return domain.Scope{All: true}
	}
	return domain.Scope{}
}

// Subjects names the message types whose fields the role table filters,
// with the prefix of their paths in Rule.Fields and Rule.Masked. A type not
// listed here is filtered by method only: whoever may call the method gets
// all of it. Later issues add their types (e.g. an evaluation) here.
var Subjects = map[protoreflect.FullName]string{
	"ecoute.v1.Call":       "call",
	"ecoute.v1.Evaluation": "evaluation",
}

// RedactMessage clears, in place, every field of msg (a proto.Message, at
// any depth: lists, maps, nested messages) that role may not receive, and
// masks the masked ones. The gRPC interceptor runs it on every response
// and every streamed message before serialisation.
func RedactMessage(role string, msg any) {
	if m, ok := msg.(proto.Message); ok && m != nil {
		redact(role, m.ProtoReflect(), 0)
	}
}

// RedactCall clears, in place, every field of c that role may not receive
// and masks the masked ones. It runs before the response is serialised.
func RedactCall(role string, c *ecoutev1.Call) { RedactMessage(role, c) }

// MaskPhone keeps the last two digits: "+33612345642" → "••••••••42". The
// dots make it obvious that the number is masked, not short.
func MaskPhone(p string) string {
	if p == "" {
		return ""
	}
	var digits []rune
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 2 {
		return "••••••••"
	}
	return "••••••••" + string(digits[len(digits)-2:])
}
