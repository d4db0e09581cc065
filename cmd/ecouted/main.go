// Command ecouted is the Écoute recording backend.
//
//	ecouted [--data DIR] <command> [flags]
//
// Commands: init, serve, seed-demo, user, team, agent, campaign, directory,
// period, and more (see the usage). The data directory defaults to
// $XDG_DATA_HOME/ecouted, else ~/.local/share/ecouted.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/internal/termsafe"
)

const usage = `ecouted — the Écoute recording backend

Usage:
  ecouted [--data DIR] <command> [flags]

Commands:
  init        create the data directory, the TLS certificates and the first administrator
  serve       serve gRPC (TLS by default), and the console over SSH with --ssh-listen
  seed-demo   fill an empty data directory with demo data and one account per role
  user add    create a named account (one-time password)
  user disable|enable|reset-password|list|locks
              disable or re-enable an account, give it a one-time password, list accounts,
              list the logins throttled from an address
  user company LOGIN COMPANY
              link a client account to its company (the campaigns' client name)
  grant list|approve|refuse  the privileged grants waiting for a second person (four-eyes)
  user key add|list|remove   the SSH public keys of the accounts (remote review over SSH)
  team add|rename|end|list          the teams
  agent add|rename|move|end|list    the agents whose calls are recorded
  campaign add|rename|end|list      the campaigns the calls belong to
  directory import [--dry-run] FILE.csv
              bring teams, agents and campaigns in line with a PBX or HR export
  period add  declare a recording period of a team (R6)
  audit verify|list   check the audit trail's hash chain / print entries
  export-subject      export what is held about a person, encrypted with age
  erase-subject       delete a customer's recordings (objection)
  requests add|list|close  the dpo's register of the requests of the people concerned (R7)
  authorized-persons  export who may access what (R8), encrypted with age
  ingest      import recordings: --meta META.json AUDIO, or --dir DIR of pairs
  activity import [--dry-run] FILE.csv
              import the telephony side's activity figures (R5), kept 12 months
  sample      run the daily random sampling now (R2): keep sampling.rate of each past day
  purge       run the retention purge now (R4): delete what has outlived its period
  config defaults|check  print every setting of ecouted.yaml (default, range, rule) /
              check the configuration and print the settings in force
  grid import|export|list  evaluation grids as YAML (import FILE, export ID)
  calibration alpha --level nominal|ordinal|interval FILE.csv
              Krippendorff's α of a rater × item CSV file, with its 95 % interval

Global flags:
  --data DIR  data directory (default: $XDG_DATA_HOME/ecouted, else ~/.local/share/ecouted)
  --config FILE    settings (sampling, retention, transcoder, store: postgres://…, blobs:
              s3://…; default: DIR/ecouted.yaml when it exists); an unlawful value makes
              every command refuse to start
  --key-file FILE  data key for the audio encrypted at rest (base64, mode 0600; default:
              $ECOUTE_DATA_KEY, else DIR/data.key, created on first start)

Run "ecouted <command> --help" for the flags of a command.
`

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ecouted")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ecouted")
	}
	return "ecouted-data"
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ecouted:", termsafe.Line(domain.Describe(err)))
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("ecouted", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	data := global.String("data", defaultDataDir(), "data directory")
	global.StringVar(&keyFile, "key-file", "", "data key file")
	global.StringVar(&configFile, "config", "", "settings file (default DIR/ecouted.yaml)")
	if err := global.Parse(args); err != nil {
		return err
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "init":
		return cmdInit(*data, rest, stdin, stdout, stderr)
	case "serve":
		return cmdServe(*data, rest, stderr)
	case "seed-demo":
		return cmdSeed(*data, rest, stdout, stderr)
	case "user":
		return cmdUser(*data, rest, stdin, stdout, stderr)
	case "team":
		return cmdTeam(*data, rest, stdout, stderr)
	case "agent":
		return cmdAgent(*data, rest, stdout, stderr)
	case "campaign":
		return cmdCampaign(*data, rest, stdout, stderr)
	case "directory":
		return cmdDirectory(*data, rest, stdout, stderr)
	case "period":
		return cmdPeriod(*data, rest, stderr)
	case "ingest":
		return cmdIngest(*data, rest, stdout, stderr)
	case "audit":
		return cmdAudit(*data, rest, stdout, stderr)
	case "export-subject":
		return cmdExportSubject(*data, rest, stdout, stderr)
	case "erase-subject":
		return cmdEraseSubject(*data, rest, stdout, stderr)
	case "authorized-persons":
		return cmdAuthorizedPersons(*data, rest, stdout, stderr)
	case "requests":
		return cmdRequests(*data, rest, stdout, stderr)
	case "grant":
		return cmdGrant(*data, rest, stdout, stderr)
	case "sample":
		return cmdSample(*data, rest, stdout, stderr)
	case "purge":
		return cmdPurge(*data, rest, stdout, stderr)
	case "config":
		return cmdConfig(*data, rest, stdout, stderr)
	case "grid":
		return cmdGrid(*data, rest, stdout, stderr)
	case "calibration":
		return cmdCalibration(rest, stdout, stderr)
	case "activity":
		return cmdActivity(*data, rest, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (init, serve, seed-demo, user, team, agent, campaign, directory, period, ingest, activity, sample, purge, config, grid, grant, requests; see --help)", safe(cmd))
}

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ecouted [--data DIR] %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// keyFile is the global --key-file flag (see blobs.LoadKey).
var keyFile string

func open(ctx context.Context, data string, log *slog.Logger, hosts []string) (*backend.App, error) {
	settings, err := loadSettings(data)
	if err != nil {
		return nil, err
	}
	return backend.Open(ctx, backend.Config{DataDir: data, Logger: log, TLSHosts: hosts, KeyFile: keyFile, Settings: settings})
}

// readPassword takes the password from stdin when it is piped; ok is false
// when stdin is a terminal (or nothing was piped).
func readPassword(stdin io.Reader) (pw string, ok bool, err error) {
	if f, isFile := stdin.(*os.File); isFile {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", false, nil
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	return line, line != "", nil
}

func cmdInit(data string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("init", `init --login LOGIN --name "First Last"`+"\n\n"+
		"Creates the data directory, the CA and server certificate (in DIR/tls) and the first\n"+
		"administrator. The password is read from stdin when piped; otherwise one is generated\n"+
		"and printed once.", stderr)
	login := fs.String("login", "admin", "login of the first administrator")
	name := fs.String("name", "", `full name of the first administrator, e.g. "Paul Renaud" (required)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New(`init: --name "First Last" is required (accounts are named, R9)`)
	}
	pw, piped, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if !piped {
		pw = auth.GeneratePassword()
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	// Initial passwords are one-time (R9), the first administrator's too.
	if _, err := app.Core().InitAdmin(ctx, core.Local(), *login, *name, pw); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(stdout, "initialised %s\nadministrator: %s (the password is one-time: change it at first login)\n", data, *login)
	if !piped {
		fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
	}
	fmt.Fprintf(stdout, "CA certificate for clients: %s\n", filepath.Join(data, backend.TLSDir, "ca.pem"))
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdServe(data string, args []string, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--listen ADDR] [--insecure] [--tls-host NAME]... [--ssh-listen ADDR [--ssh-…]]\n\n"+
		"Serves gRPC with TLS (certificates in DIR/tls, made on first start) until SIGINT or\n"+
		"SIGTERM. Prints \"listening on ADDR\" on stderr once ready. With --ssh-listen, also serves\n"+
		"the console over SSH (key registered with \"user key add\", then password; the sound\n"+
		"plays on the reviewer's machine with \"ecoute listen CODE\") and prints \"ssh listening on\n"+
		"ADDR\" first.", stderr)
	listen := fs.String("listen", "127.0.0.1:7443", "address to listen on (port 0 picks a free port)")
	insecure := fs.Bool("insecure", false, "serve plain text; accepted on loopback addresses only")
	var hosts listFlag
	fs.Var(&hosts, "tls-host", "extra host name or address for the server certificate (repeatable)")
	var sshOpts sshOptions
	sshOpts.register(fs)
	pprofAddr := fs.String("pprof", "", "serve Go profiles (CPU, heap, mutex, block) over HTTP on this loopback address, e.g. 127.0.0.1:6060 (cmd/ecoute-load -profile uses it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *insecure && !backend.IsLoopback(*listen) {
		return fmt.Errorf("serve: --insecure is allowed on loopback addresses only, not %s", *listen)
	}
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr, stderr); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := open(ctx, data, log, hosts)
	if err != nil {
		return err
	}
	defer app.Close()
	// Clear what a crash left before saying we are ready.
	if _, err := app.PrepareIngest(ctx); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	mode := "TLS"
	if *insecure {
		mode = "plain text (loopback only)"
	}
	if sshOpts.listen != "" {
		stopSSH, err := startSSH(ctx, app, data, sshOpts, lis.Addr(), *insecure, log, stderr)
		if err != nil {
			lis.Close()
			return err
		}
		defer stopSSH()
	}
	fmt.Fprintf(stderr, "listening on %s\n", lis.Addr())
	log.Info("serving", "addr", lis.Addr().String(), "mode", mode, "data", data)
	err = app.Serve(ctx, lis, !*insecure)
	log.Info("stopped")
	return err
}

func cmdSeed(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed-demo", "seed-demo\n\n"+
		"Fills an empty data directory with demo data (3 teams, 12 agents, 30 days of sampled\n"+
		"calls ending today, and for the statistics a fourth team of 6 agents and 5 months of\n"+
		"evaluations and activity before the current month) and one account per role with a\n"+
		"random password, printed as\n"+
		"\"<role> <login> <password>\" lines. Refuses a directory already seeded.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	t0 := time.Now()
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("seed-demo: %w", err)
	}
	for _, a := range accounts {
		fmt.Fprintf(stdout, "%s %s %s\n", a.Role, a.Login, a.Password)
	}
	fmt.Fprintf(stderr, "seeded in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}
