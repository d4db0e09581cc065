package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
	"github.com/ecoute/ecoute/tui"
)

const defaultServer = "localhost:7443"

// connectUsage is the default command's help.
func connectUsage() string {
	return T("ecoute.connectUsage", defaultServer, strings.Join(themes.Names(), ", "), themes.Default, pinFileHint(),
		configPathHint(), draftDirHint(), logPathHint())
}

func draftDirHint() string {
	d, err := tui.DefaultDraftDir()
	if err != nil {
		return "$XDG_CACHE_HOME/ecoute/drafts"
	}
	return d
}

func pinFileHint() string {
	p, err := client.DefaultPinFile()
	if err != nil {
		return "$XDG_CONFIG_HOME/ecoute/known_servers"
	}
	return p
}

// runConnect implements the default command.
func runConnect(args []string) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	server := fs.String("server", "", "")
	insecure := fs.Bool("insecure", false, "")
	theme := fs.String("theme", "", "")
	pinFile := fs.String("pin-file", "", "")
	silent := fs.Bool("silent", false, "")
	configPath := fs.String("config", "", "")
	login := fs.String("login", "", "")
	if help, err := parseFlags(fs, args, connectUsage()); help || err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	*theme = pick(*theme, cfg.Theme)
	if _, err := themes.Lookup(*theme); err != nil {
		return err
	}
	addr := pick(*server, os.Getenv("ECOUTE_SERVER"), cfg.Server, defaultServer)
	*pinFile = pick(*pinFile, cfg.PinFile)
	*silent = *silent || cfg.Silent

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := client.Dial(ctx, addr, client.Options{Insecure: *insecure, PinFile: *pinFile})
	if err != nil {
		return err
	}
	defer c.Close()
	if n := c.TrustNotice(); n != "" {
		fmt.Println(n)
	}

	return withStderrLog(func(log *os.File) error {
		eng := player.NewEngine(player.EngineOptions{ForceNull: *silent, Log: log})
		defer eng.Close()
		return tui.Run(ctx, tui.Options{
			Lang:       langFor(cfg),
			Client:     c,
			Engine:     eng,
			ServerAddr: c.Addr(),
			Theme:      *theme,
			Notice:     c.TrustNotice(),
			Keys:       cfg.Keys,
			Login:      *login,
		})
	})
}
