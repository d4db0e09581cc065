package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/demo"
)

// DemoAccount is a ready-to-use demo login.
type DemoAccount struct{ Role, Login, Password string }

// ErrAlreadySeeded means the data directory already holds the demo data.
var ErrAlreadySeeded = errors.New("demo data already seeded")

const seededKey = "demo_seeded_at"

// demoUsers are the demo accounts, one per role.
var demoUsers = []struct {
	role, login, first, last, name string
	teams                          []string
	agent                          string
}{
	{store.RoleSupervisor, "demo-supervisor", "Claire", "Dubois", "", []string{"team-energie", "team-banque"}, ""},
	{store.RoleTrainer, "demo-trainer", "Marc", "Vidal", "", []string{"team-support", "team-energie"}, ""},
	{store.RoleAgent, "demo-agent", "Camille", "Lefèvre", "", nil, "agent-01"},
	{store.RoleHR, "demo-hr", "Agnès", "Carpentier", "", nil, ""},
	{store.RoleClient, "demo-client", "Bruno", "Masson", "Bruno Masson (Azur Énergie)", nil, ""},
	{store.RoleMaintenance, "demo-maintenance", "Kevin", "Lucas", "Kevin Lucas (prestataire)", nil, ""},
	{store.RoleDPO, "demo-dpo", "Hélène", "Brunet", "", nil, ""},
	{store.RoleAdmin, "demo-admin", "Paul", "Renaud", "", nil, ""},
	// The telephony gateway's service account is the one account that is
	// no person; it is named after the person responsible for it.
	{store.RoleTelephony, "demo-telephony", "Sophie", "Garnier", "Passerelle téléphonie (Sophie Garnier)", nil, ""},
}

// SeedDemo fills an empty data directory with the demo data set (30 days of
// sampled calls ending today by the App's clock) and one account per role
// with a fresh random password. It refuses with ErrAlreadySeeded the second
// time: passwords are only known when they are made.
func (a *App) SeedDemo(ctx context.Context) ([]DemoAccount, error) {
	if _, err := a.store.Setting(ctx, seededKey); err == nil {
		return nil, ErrAlreadySeeded
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	start := a.cfg.Clock.Now()
	lib, err := demo.LoadLibrary()
	if err != nil {
		return nil, err
	}
	ds, err := demo.Generate(start, lib)
	if err != nil {
		return nil, err
	}
	for _, t := range ds.Teams {
		if err := a.store.CreateTeam(ctx, store.Team{ID: t.ID, Name: t.Name, CreatedAt: start}); err != nil {
			return nil, err
		}
	}
	for _, c := range ds.Campaigns {
		if err := a.store.CreateCampaign(ctx, store.Campaign{ID: c.ID, Name: c.Name, ClientName: c.ClientName, CreatedAt: start}); err != nil {
			return nil, err
		}
	}
	for _, ag := range ds.Agents {
		if err := a.store.CreateAgent(ctx, store.Agent{ID: ag.ID, Name: ag.Name, TeamID: ag.TeamID, CreatedAt: start}); err != nil {
			return nil, err
		}
	}
	accounts, err := a.seedUsers(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.seedPeriods(ctx, ds); err != nil {
		return nil, err
	}
	calls, err := a.composeCalls(ctx, lib, ds.Calls)
	if err != nil {
		return nil, err
	}
	if err := a.store.InsertCalls(ctx, calls); err != nil {
		return nil, err
	}
	// Real evaluations set the calls' evaluated flag (evaluations.go).
	if err := a.seedEvaluations(ctx, ds.Calls, calls); err != nil {
		return nil, err
	}
	if err := a.seedTraining(ctx, calls); err != nil {
		return nil, err
	}
	if err := a.seedStatistics(ctx, ds); err != nil {
		return nil, err
	}
	for _, d := range ds.Days {
		if err := a.store.AddSamplingCounts(ctx, d.Day, d.Received, d.Kept); err != nil {
			return nil, err
		}
		if err := a.store.AddOptOut(ctx, d.Day, d.OptedOut); err != nil {
			return nil, err
		}
	}
	if err := a.store.SetSetting(ctx, seededKey, fmt.Sprint(start.UnixMilli())); err != nil {
		return nil, err
	}
	// The seed is one entry of the trail, not one per account or period.
	op := core.Local()
	if err := a.audit.Append(ctx, audit.Entry{Actor: op.Actor(), Source: op.Source, Action: audit.ActionSeedDemo,
		Details: map[string]string{"accounts": fmt.Sprint(len(accounts)), "calls": fmt.Sprint(len(calls))}}); err != nil {
		return nil, fmt.Errorf("demo data seeded, but its audit entry could not be written: %w", err)
	}
	a.log.Info("demo data seeded", "calls", len(calls), "took", time.Since(start))
	return accounts, nil
}

// seedUsers hashes the demo passwords in parallel: argon2id is the slow part.
func (a *App) seedUsers(ctx context.Context) ([]DemoAccount, error) {
	accounts := make([]DemoAccount, len(demoUsers))
	errs := make([]error, len(demoUsers))
	var wg sync.WaitGroup
	for i, u := range demoUsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := auth.GeneratePassword()
			accounts[i] = DemoAccount{Role: u.role, Login: u.login, Password: pw}
			errs[i] = a.AddUser(ctx, NewUser{Login: u.login, FirstName: u.first, LastName: u.last,
				DisplayName: u.name, Role: u.role, Password: pw, TeamIDs: u.teams, AgentID: u.agent})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("demo accounts: %w", err)
	}
	return accounts, nil
}

// seedPeriods declares, for every team, a recording period covering the
// whole demo (from its first call to the end of today, R6) and a next one
// a week later, so an agent sees both.
func (a *App) seedPeriods(ctx context.Context, ds *demo.Dataset) error {
	now := a.cfg.Clock.Now()
	from := store.DayOf(now).AddDate(0, 0, -31)
	for _, c := range ds.Calls {
		if c.Start.Before(from) {
			from = store.DayOf(c.Start)
		}
	}
	tomorrow := store.DayOf(now).AddDate(0, 0, 1)
	for _, t := range ds.Teams {
		next := tomorrow.AddDate(0, 0, 6)
		for _, p := range []store.RecordingPeriod{
			{TeamID: t.ID, StartsAt: from, EndsAt: tomorrow, Note: "demo: the whole demo period"},
			{TeamID: t.ID, StartsAt: next, EndsAt: next.AddDate(0, 0, 14), Note: "demo: next campaign"},
		} {
			p.ID, p.CreatedBy, p.CreatedAt = core.NewID(), audit.System.Login, now
			if err := a.store.AddRecordingPeriod(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedBlobs is the blob store for demo data: files written without fsync
// (demo data is disposable and durability would cost seconds at every demo
// start), or the configured object storage as it is.
func (a *App) seedBlobs() blobs.Store {
	if f, ok := a.blobs.(*blobs.Files); ok {
		fast := *f
		fast.NoSync = true
		return &fast
	}
	return a.blobs
}

// composeCalls builds each call's MP3 from whole clip frames and writes it.
// Blob writes skip fsync: demo data is disposable and durability would cost
// seconds at every demo start.
func (a *App) composeCalls(ctx context.Context, lib *demo.Library, in []demo.Call) ([]store.NewCall, error) {
	out := make([]store.NewCall, len(in))
	work := make(chan int)
	errc := make(chan error, 1)
	b := a.seedBlobs()
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				nc, err := a.composeCall(ctx, b, lib, in[i])
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
				out[i] = nc
			}
		}()
	}
	for i := range in {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return out, nil
}

func (a *App) composeCall(ctx context.Context, b blobs.Store, lib *demo.Library, c demo.Call) (store.NewCall, error) {
	comp := lib.Compose(c.Plan)
	id := core.NewID()
	key := core.AudioKey(id)
	if _, err := b.Put(ctx, key, bytes.NewReader(comp.Data)); err != nil {
		return store.NewCall{}, err
	}
	dur := time.Duration(len(comp.Offsets)) * lib.FrameDuration()
	sc := store.Call{
		ID: id, ExternalID: c.ExternalID, StartedAt: c.Start, EndedAt: c.End,
		AgentID: c.AgentID, TeamID: c.TeamID, CampaignID: c.CampaignID, Direction: c.Direction,
		CustomerName: c.Customer.Name, CustomerPhone: c.Customer.Phone, CustomerAddress: c.Customer.Address,
		CustomerNumber:     c.Customer.Number,
		ConsentRequestedAt: c.ConsentAsked, ConsentAnsweredAt: c.ConsentGiven, ConsentAccepted: true,
		RingTime: c.Ring, TalkTime: dur, BackOfficeTime: c.BackOffice, ActivityType: c.ActivityType,
		State: store.StateKept, RetainedUntil: a.cfg.Settings.RecordingKeptUntil(c.Start),
		Audio: store.Audio{Key: key, Size: int64(len(comp.Data)), Codec: "mp3", SampleRate: lib.SampleRate,
			Channels: lib.Channels, BitrateKbps: lib.BitrateKbps, FrameCount: len(comp.Offsets),
			SamplesPerFrame: lib.SamplesPerFrame, Duration: dur},
		CreatedAt: c.End,
	}
	return store.NewCall{Call: sc, Waveform: store.Waveform{Peaks: comp.Peaks, Bucket: audio.Bucket,
		FrameOffsets: comp.Offsets, SamplesPerFrame: lib.SamplesPerFrame, SampleRate: lib.SampleRate}}, nil
}

// RenewDemoPassword gives the demo account of role a fresh random password
// and returns it. It exists for `ecoute demo --data DIR`: demo passwords are
// known only when made, and a kept demo directory still has to log in. It
// refuses data directories that were not seeded with the demo.
func (a *App) RenewDemoPassword(ctx context.Context, role string) (DemoAccount, error) {
	if _, err := a.store.Setting(ctx, seededKey); err != nil {
		return DemoAccount{}, fmt.Errorf("not a demo data directory: %w", err)
	}
	for _, u := range demoUsers {
		if u.role != role {
			continue
		}
		user, err := a.store.UserByLogin(ctx, u.login)
		if err != nil {
			return DemoAccount{}, fmt.Errorf("demo account %s: %w", u.login, err)
		}
		pw := auth.GeneratePassword()
		hash, err := auth.HashPassword(pw, auth.DefaultParams)
		if err != nil {
			return DemoAccount{}, err
		}
		if err := a.store.ChangePassword(ctx, user.ID, hash, false, a.cfg.Clock.Now()); err != nil {
			return DemoAccount{}, err
		}
		return DemoAccount{Role: role, Login: u.login, Password: pw}, nil
	}
	return DemoAccount{}, fmt.Errorf("no demo account for role %q", role)
}
