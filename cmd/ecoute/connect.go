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

var connectUsage = fmt.Sprintf(`usage: ecoute [connect] [--server ADDR] [--insecure] [--theme NAME] [--pin-file PATH] [--silent]

Connects to an ecouted server and opens the console.

  --server ADDR     host:port of the server (default: $ECOUTE_SERVER, else %s)
  --insecure        plain text instead of TLS; refused unless ADDR is a loopback address
  --theme NAME      colours: %v (default %s; NO_COLOR turns colours off)
  --pin-file PATH   pinned server CAs (default: %s)
  --silent          do not open the sound device; play silently in real time

Security: on the first connection to a server the console trusts the
certificate authority it presents and pins it (like SSH's known_hosts),
printing its SHA-256 fingerprint; compare it with the one ecouted printed.
A server presenting another CA later is refused, with the file line to delete
if the change is expected.

While the console runs, messages from libraries (e.g. the sound system) go to
%s.
`, defaultServer, strings.Join(themes.Names(), ", "), themes.Default, pinFileHint(), logPathHint())

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
	if help, err := parseFlags(fs, args, connectUsage); help || err != nil {
		return err
	}
	if _, err := themes.Lookup(*theme); err != nil {
		return err
	}
	addr := *server
	if addr == "" {
		addr = os.Getenv("ECOUTE_SERVER")
	}
	if addr == "" {
		addr = defaultServer
	}

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
			Client:     c,
			Engine:     eng,
			ServerAddr: c.Addr(),
			Theme:      *theme,
			Notice:     c.TrustNotice(),
		})
	})
}
