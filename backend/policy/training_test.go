package policy

import (
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
)

// The training methods, written out by hand like TestRoleMethodMatrix:
// screen captures for trainers only (R11), calibration for supervisors
// and trainers, never the agent, hr or the client role.
func TestTrainingMethodMatrix(t *testing.T) {
	methods := []string{MListCoachingSessions, MGetCoachingSession, MCreateCoachingSession, MAddCoachingGoal,
		MAttachEvaluation, MAddClip, MSaveCoachingNotes, MShareCoachingSession, MAcknowledgeCoachingSession,
		MDisputeCoachingSession, MListScreenCaptures, MGetScreenCapture, MCreateCalibration, MListCalibrations,
		MGetCalibration, MSaveCalibrationScore, MSubmitCalibrationScore, MCloseCalibration, MGetAgreementReport,
		MExportAgreementReport, MUploadScreenCaptures}
	//                              read write  answer caps calibration upload
	want := map[string]string{
		domain.RoleSupervisor:  "00 000000 00 00 11111111 0",
		domain.RoleTrainer:     "11 111111 00 11 11111111 0",
		domain.RoleAgent:       "11 000000 11 00 00000000 0",
		domain.RoleHR:          "00 000000 00 00 00000000 0",
		domain.RoleClient:      "00 000000 00 00 00000000 0",
		domain.RoleMaintenance: "00 000000 00 00 00000000 0",
		domain.RoleDPO:         "00 000000 00 00 00000000 0",
		domain.RoleAdmin:       "00 000000 00 00 00000000 0",
		domain.RoleTelephony:   "00 000000 00 00 00000000 1",
	}
	for role, row := range want {
		var bits []rune
		for _, r := range row {
			if r != ' ' {
				bits = append(bits, r)
			}
		}
		if len(bits) != len(methods) {
			t.Fatalf("%s: %d bits for %d methods", role, len(bits), len(methods))
		}
		for i, m := range methods {
			if got := Allowed(role, m); got != (bits[i] == '1') {
				t.Errorf("Allowed(%s, %s) = %v", role, m, got)
			}
		}
	}
}
