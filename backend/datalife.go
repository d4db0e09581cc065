package backend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/jobs"
	"github.com/ecoute/ecoute/backend/retention"
	"github.com/ecoute/ecoute/backend/sampling"
	"github.com/ecoute/ecoute/backend/store"
)

// schedulerPoll is how often the daily jobs' scheduler reads the clock.
const schedulerPoll = time.Minute

// withSettings fills the configuration file's settings (defaults when none
// were given) and refuses unlawful ones before anything is opened or
// created: ecouted does not start on a setting R2 or R4 forbids.
func withSettings(cfg Config) (Config, error) {
	if cfg.Settings == (config.Config{}) {
		cfg.Settings = config.Defaults()
	}
	if err := cfg.Settings.Validate(); err != nil {
		return cfg, fmt.Errorf("configuration refused: %w", err)
	}
	if cfg.Transcoder == "" {
		cfg.Transcoder = cfg.Settings.Transcoder
	}
	if cfg.PasswordMaxAge == 0 {
		// A calendar period measured from now: days and weeks are exact,
		// months and years as long as the coming ones.
		now := cfg.Clock.Now()
		cfg.PasswordMaxAge = cfg.Settings.PasswordMaxAge.After(now).Sub(now)
	}
	return cfg, nil
}

// dataLife is the sampling and the retention purge, with their runner.
type dataLife struct {
	runner    *jobs.Runner
	sampler   *sampling.Sampler
	retention *retention.Job
}

func (a *App) openDataLife() error {
	s := a.cfg.Settings
	d := &dataLife{
		runner:    &jobs.Runner{Store: a.store, Clock: a.cfg.Clock, Log: a.log, Observe: a.auditJobRun},
		sampler:   &sampling.Sampler{Store: a.store, Blobs: a.blobs, Rate: s.SamplingRate},
		retention: &retention.Job{Store: a.store, Blobs: a.blobs, Retention: s},
	}
	// Audit entries are connection logs (R4); evaluations live 1 year (R12).
	if err := d.retention.Register("audit", a.AuditPurger(s.ConnectionLogCutoff)); err != nil {
		return err
	}
	if err := d.retention.Register("evaluations", retention.PurgerFunc(a.store.DeleteExpiredEvaluations)); err != nil {
		return err
	}
	// Ended agents' names go a year after the last recording that named
	// them (R4); the rows nothing refers to any more go after them
	// ("agent_names" runs before "agents": purgers run by name).
	if err := d.retention.Register("agent_names", retention.PurgerFunc(func(ctx context.Context, now time.Time) (int, error) {
		return a.store.EraseAgentNames(ctx, config.AgentNameCutoff(now), now)
	})); err != nil {
		return err
	}
	if err := d.retention.Register("agents", retention.PurgerFunc(func(ctx context.Context, _ time.Time) (int, error) {
		return a.store.DeleteForgottenAgents(ctx)
	})); err != nil {
		return err
	}
	// Request ids are remembered a day (config.RequestIDs).
	if err := d.retention.Register("requests", retention.PurgerFunc(func(ctx context.Context, now time.Time) (int, error) {
		return a.store.DeleteRequests(ctx, config.RequestCutoff(now))
	})); err != nil {
		return err
	}
	if err := registerStatsPurgers(a, d.retention); err != nil {
		return err
	}
	a.life = d
	return nil
}

// auditJobRun traces every job run with its counts (R10).
func (a *App) auditJobRun(ctx context.Context, r store.JobRun) {
	action := audit.ActionJobPurge
	if r.Job == sampling.JobName {
		action = audit.ActionJobSampling
	}
	counts := make(map[string]int64, len(r.Summary)+1)
	for k, v := range r.Summary {
		counts[k] = int64(v)
	}
	e := audit.JobEvent(action, r.RunFor.UTC().Format(time.RFC3339), counts)
	if r.Err != "" {
		e.Details["error"] = r.Err
	}
	if err := a.audit.Append(context.WithoutCancel(ctx), e); err != nil {
		a.log.Error("audit job run", "job", r.Job, "err", err)
	}
}

// Settings is the configuration in force.
func (a *App) Settings() config.Config { return a.cfg.Settings }

// Sample runs the daily sampling for now (R2) and records the run.
func (a *App) Sample(ctx context.Context, now time.Time) (sampling.Report, error) {
	var rep sampling.Report
	_, err := a.life.runner.Run(ctx, a.sampleTask(&rep), now)
	return rep, err
}

// Purge runs the retention purge for now (R4) and records the run; the
// counts are per kind of data.
func (a *App) Purge(ctx context.Context, now time.Time) (map[string]int, error) {
	run, err := a.life.runner.Run(ctx, a.purgeTask(), now)
	return run.Summary, err
}

// RegisterPurger adds a kind of data to the retention purge.
func (a *App) RegisterPurger(name string, p retention.Purger) error {
	return a.life.retention.Register(name, p)
}

func (a *App) sampleTask(rep *sampling.Report) jobs.Task {
	return jobs.Task{Name: sampling.JobName, Run: func(ctx context.Context, now time.Time) (map[string]int, error) {
		r, err := a.life.sampler.Run(ctx, now)
		if rep != nil {
			*rep = r
		}
		return r.Summary(), err
	}}
}

func (a *App) purgeTask() jobs.Task {
	return jobs.Task{Name: retention.JobName, Run: a.life.retention.Run}
}

// runDailyJobs samples, then purges (so the space the sampling freed is
// reclaimed), every day at sampling.hour UTC until ctx ends.
func (a *App) runDailyJobs(ctx context.Context) {
	h := a.cfg.Settings.SamplingHour
	a.log.Info("daily sampling and purge scheduled", "hour_utc", h,
		"next", jobs.NextAt(a.cfg.Clock.Now(), h).Format(time.RFC3339), "rate", a.cfg.Settings.SamplingRate,
		"recordings", a.cfg.Settings.Recordings.String(), "connection_logs", a.cfg.Settings.ConnectionLogs.String())
	a.life.runner.Daily(ctx, a.cfg.Settings.SamplingHour, schedulerPoll, a.sampleTask(nil), a.purgeTask())
}

// FormatCounts renders a run's counts as "k=v" pairs in a stable order.
func FormatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}
