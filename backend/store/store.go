// Package store keeps users, sessions, teams and call records.
//
// Store is the interface the services use; SQLite implements it now and a
// PostgreSQL implementation can follow with the same conformance tests. Every
// time crosses this boundary as time.Time and is stored as INTEGER Unix
// milliseconds UTC (R14).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
)

// Sentinel errors; the front door (backend/core) turns them into typed
// refusals.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// Roles a user may hold (the values are domain's: the store keeps them as
// they are).
const (
	RoleSupervisor  = domain.RoleSupervisor
	RoleTrainer     = domain.RoleTrainer
	RoleAgent       = domain.RoleAgent
	RoleHR          = domain.RoleHR
	RoleClient      = domain.RoleClient
	RoleMaintenance = domain.RoleMaintenance
	RoleDPO         = domain.RoleDPO
	RoleAdmin       = domain.RoleAdmin
	RoleTelephony   = domain.RoleTelephony
)

// Call states: pending recordings wait for the daily sampling and are never
// listed; kept ones are visible.
const (
	StatePending = "pending"
	StateKept    = "kept"
)

// User is one named account (R9).
type User = domain.User

// Session is a login; the token itself is never stored, only its hash.
type Session struct {
	TokenHash  string
	UserID     string
	SourceAddr string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
}

// Team groups agents; supervisors and trainers are linked to teams.
type Team struct {
	ID, Name  string
	CreatedAt time.Time
	// EndedAt is when the team was ended (zero: active): it takes no new
	// recordings and no new agents.
	EndedAt time.Time
}

// Agent is a call-centre position holder whose calls are recorded.
type Agent struct {
	ID, Name, TeamID string
	CreatedAt        time.Time
	// EndedAt is when the agent left their recorded position (zero:
	// active): no recording started after it is accepted.
	EndedAt time.Time
	// NameErasedAt is when Name was replaced by a pseudonym (R4); zero
	// while the name is kept.
	NameErasedAt time.Time
}

// Campaign is a client's service the calls belong to.
type Campaign struct {
	ID, Name, ClientName string
	CreatedAt            time.Time
	// EndedAt is when the campaign was ended (zero: active): no recording
	// started after it is accepted.
	EndedAt time.Time
}

// Audio is the technical description of a stored recording.
type Audio struct {
	Key             string // blob key
	Size            int64
	Codec           string
	SampleRate      int
	Channels        int
	BitrateKbps     int
	FrameCount      int
	SamplesPerFrame int
	Duration        time.Duration
	// Repair says what of a damaged upload was left out or silenced to
	// store the rest; empty when it was stored whole.
	Repair string
}

// Call is one recorded call. AgentName, TeamName and CampaignName are filled
// on reads.
type Call struct {
	ID           string
	ExternalID   string
	StartedAt    time.Time
	EndedAt      time.Time
	AgentID      string
	AgentName    string
	TeamID       string
	TeamName     string
	CampaignID   string
	CampaignName string
	Direction    string

	CustomerName    string
	CustomerPhone   string
	CustomerAddress string
	CustomerNumber  string

	ConsentRequestedAt time.Time
	ConsentAnsweredAt  time.Time // zero when not answered
	ConsentAccepted    bool

	RingTime       time.Duration
	TalkTime       time.Duration
	BackOfficeTime time.Duration
	ActivityType   string
	Lost           bool

	State         string
	RetainedUntil time.Time
	Audio         Audio
	Evaluated     bool
	CreatedAt     time.Time
}

// Waveform is what playback needs, computed once after the sampling.
type Waveform struct {
	Peaks []byte // one per Bucket, 0..255 of full scale
	// ChannelPeaks are a stereo recording's peaks per channel (left, right),
	// each as long as Peaks; nil for mono.
	ChannelPeaks    [][]byte
	Bucket          time.Duration
	FrameOffsets    []int64
	SamplesPerFrame int
	SampleRate      int
	// AudioSize is the stored audio's size in bytes (filled on reads; the
	// call's Audio.Size on inserts).
	AudioSize int64
	// Channels is the audio's (filled on reads).
	Channels int
}

// NewCall is a call to insert with its waveform.
type NewCall struct {
	Call     Call
	Waveform Waveform
}

// Scope limits the calls a caller may read. The zero Scope reads nothing.
type Scope = domain.Scope

// Filter narrows a call listing; zero fields do not filter.
type Filter struct {
	StartedAfter  time.Time
	StartedBefore time.Time
	TeamIDs       []string
	AgentIDs      []string
	CampaignIDs   []string
	Evaluated     *bool
	MinDuration   time.Duration
	MaxDuration   time.Duration
	// MinScore and MaxScore bound the total of the call's submitted
	// evaluation, in percent; nil does not filter.
	MinScore, MaxScore *float64
}

// Order keys for ListCalls.
const (
	OrderStartedAt = "started_at"
	OrderDuration  = "duration"
	OrderAgentName = "agent_name"
)

// Cursor is the position after which a page starts (keyset pagination): the
// sort key of the last row seen and its id as tie-breaker.
type Cursor struct {
	Int int64  // started_at or duration in ms
	Str string // agent name
	ID  string
	// Agent is the agent id of the last row, in agent-name order (calls
	// are ordered by agent name, agent id, call id); empty: the agent of
	// call ID.
	Agent string
}

// ListQuery asks for one page of kept calls.
type ListQuery struct {
	Scope  Scope
	Filter Filter
	Order  string // one of the Order* keys
	Desc   bool
	Limit  int
	After  *Cursor
}

// Store is the persistence the backend needs.
type Store interface {
	JobStore
	Close() error
	Identity
	IngestStore
	AuditStore
	PrivacyStore
	CallFilterStore
	CallLister
	ChangeCounters
	EvaluationStore
	RequestStore
	Directory
	SSHKeyStore
	ThrottleStore
	GrantStore
	RegisterStore
	TrainingStore
	StatsStore

	CreateUser(ctx context.Context, u User) error
	UserByLogin(ctx context.Context, login string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	SetPassword(ctx context.Context, userID, hash string, changeRequired bool) error
	CountUsers(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, hash string) (Session, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions revokes every session of the user but except.
	DeleteUserSessions(ctx context.Context, userID, except string) error

	CreateTeam(ctx context.Context, t Team) error
	CreateAgent(ctx context.Context, a Agent) error
	CreateCampaign(ctx context.Context, c Campaign) error
	TeamByID(ctx context.Context, id string) (Team, error)
	AgentByID(ctx context.Context, id string) (Agent, error)
	CampaignByID(ctx context.Context, id string) (Campaign, error)

	// InsertCalls adds calls in one transaction; ErrDuplicate if an
	// external_id is already known.
	InsertCalls(ctx context.Context, calls []NewCall) error
	CallIDByExternalID(ctx context.Context, externalID string) (string, error)
	// GetCall returns a kept call inside scope, or ErrNotFound.
	GetCall(ctx context.Context, id string, scope Scope) (Call, error)
	ListCalls(ctx context.Context, q ListQuery) (calls []Call, total int64, err error)
	GetWaveform(ctx context.Context, id string, scope Scope) (Waveform, error)

	AddOptOut(ctx context.Context, day time.Time, n int) error
	OptOutCount(ctx context.Context, day time.Time) (int, error)
	AddSamplingCounts(ctx context.Context, day time.Time, received, kept int) error

	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// DayOf is the 00:00 UTC instant of t's day, the key of per-day counters.
func DayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
