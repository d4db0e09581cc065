// Package backend assembles ecouted: store, blobs, PKI, sessions and the gRPC
// services. The ecouted command and the console's demo mode both start it
// through Open and Serve.
package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/lexicon"
	"github.com/ecoute/ecoute/backend/pki"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"github.com/ecoute/ecoute/backend/sampling"
	"github.com/ecoute/ecoute/backend/service"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Config says where the data lives and what to use for time and logs.
type Config struct {
	DataDir string
	Clock   clock.Clock  // nil = clock.Real{}
	Logger  *slog.Logger // nil = discard
	// TLSHosts are extra names or addresses for the server certificate,
	// beyond localhost, the loopback addresses and the host name.
	TLSHosts []string
	// PasswordMaxAge forces a password change at the next login once a
	// password is older; 0 = 90 days.
	PasswordMaxAge time.Duration
	// KeyFile holds the data key (base64) for encryption at rest; empty =
	// $ECOUTE_DATA_KEY, else DIR/data.key (created on first start).
	KeyFile string
	// Transcoder is the external encoder ("ffmpeg" or "lame", or a path to
	// one) that converts uploads outside the canonical audio profile; empty =
	// such uploads are refused.
	Transcoder string
	// Settings are ecouted.yaml's (sampling, retention; its transcoder
	// fills Transcoder when that is empty); zero = config.Defaults().
	// Open refuses unlawful values.
	Settings config.Config
	// SampleAll keeps every recording at the daily sampling: systematic
	// recording, which R2 forbids. It exists for tests that must see what
	// they upload; ecouted.yaml cannot set it, no flag does, and the
	// day's sampling record says rate 1, which sampling.Verify reports as
	// above the lawful maximum.
	SampleAll bool
}

// App is an opened backend.
type App struct {
	cfg      Config
	store    *store.SQLite
	blobs    blobStore
	pki      *pki.PKI
	sessions *auth.Sessions
	log      *slog.Logger
	audit    *audit.Log
	core     *core.Backend
	// ingestLock is held (shared) while this process may write audio.
	ingestLock *os.File
	life       *dataLife // sampling and retention jobs
}

// Paths under the data directory.
const (
	DBFile   = "ecoute.db"
	AudioDir = "audio"
	TLSDir   = "tls"
)

// Open opens or creates the data directory: database (migrated), audio
// store, CA and server certificate.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("data directory is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	cfg, serr := withSettings(cfg)
	if serr != nil {
		return nil, serr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &App{cfg: cfg, log: cfg.Logger}
	var err error
	if a.blobs, err = openBlobs(ctx, cfg); err != nil {
		return nil, err
	}
	if a.pki, err = pki.Ensure(filepath.Join(cfg.DataDir, TLSDir), cfg.Clock, cfg.TLSHosts); err != nil {
		return nil, err
	}
	if a.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	if err := a.checkSharedKeys(ctx); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.sealPersonalData(ctx); err != nil {
		a.store.Close()
		return nil, err
	}
	if a.sessions, err = auth.NewSessions(a.store, cfg.Clock, auth.DefaultParams); err != nil {
		a.store.Close()
		return nil, err
	}
	if a.audit, err = openAudit(ctx, cfg, a.store); err != nil {
		a.store.Close()
		return nil, err
	}
	a.configureIdentity()
	if a.core, err = a.openCore(); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.openDataLife(); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.registerTrustPurgers(); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.registerTrainingPurgers(); err != nil {
		a.store.Close()
		return nil, err
	}
	return a, nil
}

// openCore builds the front door that the gRPC services and the command
// line share; it fails when the configured transcoder cannot be found.
func (a *App) openCore() (*core.Backend, error) {
	b := &core.Backend{Store: a.store, Sessions: a.sessions, Blobs: a.blobs, Trail: a.audit,
		Privacy: &privacy.Requests{Store: a.store, Blobs: a.blobs, Audit: a.audit, Clock: a.cfg.Clock},
		Clock:   a.cfg.Clock, Lexicon: lexicon.Default(), Settings: a.cfg.Settings, Log: a.log,
		IDKey: a.blobs.DeriveKey(sampling.IDKeyPurpose)}
	if a.cfg.Transcoder != "" {
		t, err := audio.NewTranscoder(a.cfg.Transcoder)
		if err != nil {
			return nil, fmt.Errorf("ingest.transcoder: %w", err)
		}
		b.Transcoder = t
	}
	return b, nil
}

// Core is the front door: every operation of the backend, for the command
// line (with core.Local()) and the tests.
func (a *App) Core() *core.Backend { return a.core }

// Close stops the background work and releases the database.
func (a *App) Close() error {
	a.core.Close()
	if f, ok := a.blobs.(*blobs.Files); ok {
		f.ClosePacks()
	}
	a.releaseIngest()
	return errors.Join(a.audit.Close(), a.store.Close())
}

// Store exposes the store to tests and maintenance commands.
func (a *App) Store() store.Store { return a.store }

// NewUser is an account to create.
type NewUser struct {
	Login, DisplayName, Role, Password string
	// FirstName and LastName name the person (R9); when both are empty
	// they are taken from DisplayName ("First Last").
	FirstName, LastName string
	TeamIDs             []string
	AgentID             string
	// PasswordChangeRequired makes the password one-time: the user
	// chooses a new one at first login.
	PasswordChangeRequired bool
}

// AddUser checks and creates an account without recording it in the
// audit trail: for the demo seed (recorded as a whole) and tests. Accounts
// made by people go through Core().CreateUser.
func (a *App) AddUser(ctx context.Context, u NewUser) error {
	first, last := u.FirstName, u.LastName
	if first == "" && last == "" {
		first, last = auth.SplitName(u.DisplayName)
	}
	_, err := a.sessions.CreateAccount(ctx, auth.NewAccount{Login: u.Login, FirstName: first, LastName: last,
		DisplayName: u.DisplayName, Role: u.Role, Password: u.Password, TeamIDs: u.TeamIDs, AgentID: u.AgentID,
		OneTime: u.PasswordChangeRequired})
	return err
}

// ServerTLS is the TLS configuration presenting leaf + CA.
func (a *App) ServerTLS() (*tls.Config, error) { return a.pki.ServerTLS(), nil }

// CACertPEM is the CA certificate clients pin.
func (a *App) CACertPEM() ([]byte, error) { return a.pki.CACertPEM(), nil }

// NewGRPCServer builds a server with every service, health and reflection,
// behind the authentication and authorisation interceptors.
func (a *App) NewGRPCServer(secure bool) (*grpc.Server, error) {
	g := &auth.Guard{Sessions: a.sessions, Public: policy.Public, Allowed: policy.Allowed, Redact: policy.RedactMessage}
	// The reads of many consoles are recorded together (audit.Batcher).
	ai := audit.NewInterceptor(audit.NewBatcher(a.audit), a.cfg.Clock, a.store, a.log)
	ai.SelfAudited = service.SelfAudited
	ei := &rpcerr.Interceptor{Log: a.log}
	opts := []grpc.ServerOption{
		// The audit interceptor wraps the guard to record refusals too; the
		// errors of the handlers become statuses (with their reasons) right
		// where they are returned, so the audit records their codes.
		grpc.ChainUnaryInterceptor(ai.Unary, g.Unary, ai.CaptureUnary, ei.Unary),
		grpc.ChainStreamInterceptor(ai.Stream, g.Stream, ai.CaptureStream, ei.Stream),
	}
	if secure {
		cfg, err := a.ServerTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	s := grpc.NewServer(opts...)
	ecoutev1.RegisterAuthServiceServer(s, &service.Auth{Core: a.core})
	ecoutev1.RegisterCallServiceServer(s, &service.Calls{Store: a.store, Blobs: a.blobs, Waveforms: a.core,
		KeptUntil: a.cfg.Settings.RecordingKeptUntil, Calibrations: a.core})
	ecoutev1.RegisterAdminServiceServer(s, &service.Admin{Core: a.core})
	ecoutev1.RegisterRecordingPeriodServiceServer(s, &service.RecordingPeriods{Core: a.core})
	ecoutev1.RegisterAuditServiceServer(s, &service.Audit{Core: a.core})
	ecoutev1.RegisterPrivacyServiceServer(s, &service.Privacy{Core: a.core})
	ecoutev1.RegisterEvaluationServiceServer(s, &service.Evaluations{Core: a.core})
	ecoutev1.RegisterIngestServiceServer(s, &service.Ingest{Core: a.core})
	ecoutev1.RegisterDirectoryServiceServer(s, &service.Directory{Core: a.core})
	ecoutev1.RegisterTrustServiceServer(s, &service.Trust{Core: a.core})
	ecoutev1.RegisterPrivacyRequestServiceServer(s, &service.Register{Core: a.core})
	ecoutev1.RegisterCoachingServiceServer(s, &service.Coaching{Core: a.core})
	ecoutev1.RegisterCalibrationServiceServer(s, &service.Calibration{Core: a.core})
	ecoutev1.RegisterStatsServiceServer(s, &service.Stats{Core: a.core})
	ecoutev1.RegisterPairingServiceServer(s, &service.Pairing{Core: a.core})
	registerHealth(s)
	if err := registerReflection(s); err != nil {
		return nil, err
	}
	return s, nil
}

// IsLoopback tells whether addr (host:port or host) is a loopback address.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves on lis until ctx ends, then stops gracefully (in-flight calls
// get 5 s). Plain text is refused unless lis is on a loopback address.
func (a *App) Serve(ctx context.Context, lis net.Listener, secure bool) error {
	if !secure && !IsLoopback(lis.Addr().String()) {
		return fmt.Errorf("refusing plain text on %s: --insecure is allowed on loopback addresses only", lis.Addr())
	}
	if _, err := a.PrepareIngest(ctx); err != nil {
		return err
	}
	s, err := a.NewGRPCServer(secure)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	// Daily sampling and purge; stopped and waited for on the way out (an
	// interrupted job is safe: each step commits or rolls back whole).
	jobCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() { a.runDailyJobs(jobCtx); close(jobsDone) }()
	defer func() { stopJobs(); <-jobsDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { s.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		s.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}
