package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
	"github.com/ecoute/ecoute/tui"
)

// demoUsage is ecoute demo's help.
func demoUsage() string {
	return T("ecoute.demoUsage", strings.Join(themes.Names(), ", "), themes.Default, logPathHint())
}

func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dataDir := fs.String("data", "", "")
	role := fs.String("as", "supervisor", "")
	theme := fs.String("theme", "", "")
	silent := fs.Bool("silent", false, "")
	if help, err := parseFlags(fs, args, demoUsage()); help || err != nil {
		return err
	}
	// The settings file's theme and keys apply to the demo too.
	cfg, err := loadConfig("")
	if err != nil {
		return err
	}
	*theme = pick(*theme, cfg.Theme)
	if _, err := themes.Lookup(*theme); err != nil {
		return err
	}

	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ecoute-demo-")
		if err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.errDemoDir"), err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	return withStderrLog(func(log *os.File) error {
		logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
		app, err := backend.Open(ctx, backend.Config{DataDir: dir, Logger: logger})
		if err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.errDemoOpen", dir), err)
		}
		defer app.Close()

		account, err := demoAccount(ctx, app, *role, log)
		if err != nil {
			return err
		}

		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.errDemoListen"), err)
		}
		srvCtx, stopServer := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- app.Serve(srvCtx, lis, true) }()
		defer func() {
			stopServer()
			<-served
		}()

		caPEM, err := app.CACertPEM()
		if err != nil {
			return err
		}
		c, err := client.Dial(ctx, lis.Addr().String(), client.Options{CAPEM: caPEM})
		if err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.errDemoConnect"), err)
		}
		defer c.Close()

		eng := player.NewEngine(player.EngineOptions{ForceNull: *silent, Log: log})
		defer eng.Close()
		return tui.Run(ctx, tui.Options{
			Lang:       langFor(cfg),
			Client:     c,
			Engine:     eng,
			ServerAddr: "demo (" + c.Addr() + ")",
			Login:      account.Login,
			Password:   account.Password,
			Theme:      *theme,
			Keys:       cfg.Keys,
		})
	})
}

// demoAccount seeds the data directory on first use and returns the demo
// account to log in with. Demo passwords are random and known only when
// made, so a kept data directory gets a fresh one for the account used.
func demoAccount(ctx context.Context, app *backend.App, role string, log *os.File) (backend.DemoAccount, error) {
	accounts, err := app.SeedDemo(ctx)
	switch {
	case errors.Is(err, backend.ErrAlreadySeeded):
		acc, err := app.RenewDemoPassword(ctx, role)
		if err != nil {
			return backend.DemoAccount{}, fmt.Errorf("%s: %w", T("ecoute.errDemoAccount", role), err)
		}
		fmt.Fprintf(log, "demo account: %s %s %s\n", acc.Role, acc.Login, acc.Password) // i18n: a log line
		return acc, nil
	case err != nil:
		return backend.DemoAccount{}, fmt.Errorf("%s: %w", T("ecoute.errDemoSeed"), err)
	}
	var found *backend.DemoAccount
	for i, a := range accounts {
		fmt.Fprintf(log, "demo account: %s %s %s\n", a.Role, a.Login, a.Password) // i18n: a log line
		if a.Role == role {
			found = &accounts[i]
		}
	}
	if found == nil {
		return backend.DemoAccount{}, errors.New(T("ecoute.errDemoNoAccount", role))
	}
	return *found, nil
}
