// Command ecoute is the Écoute console: it connects to ecouted and runs the
// terminal UI, runs a self-contained demo, or plays a local recording.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ecoute/ecoute/internal/i18n"
)

const mainUsage = `Écoute — quality-monitoring console for call centres.

usage:
  ecoute [connect] [--server ADDR] [--insecure] [--theme NAME] [--pin-file PATH]
         [--silent] [--config PATH] [--login NAME]
                              connect to a server and open the console
  ecoute demo [--data DIR] [--as ROLE] [--theme NAME] [--silent]
                              run a server with demo data in this process and open the console
  ecoute play FILE.mp3 [--no-tui]
                              play a local recording
  ecoute config               show the settings file's path, an example and the key actions
  ecoute completion bash|zsh|fish
                              print a shell completion script
  ecoute help [COMMAND]       show this help, or a command's

Every command takes --lang en|fr (default: the settings file's lang:, else
$LC_ALL, $LC_MESSAGES or $LANG, else English).

Settings: %s (server, theme, pin_file, silent, lang, keys);
flags win over $ECOUTE_SERVER, which wins over the file. NO_COLOR=1 turns colours off.
In the console, ? lists every key of the screen.

Run "ecoute help connect" for the connection options.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ecoute:", err)
		os.Exit(1)
	}
}

// lang is the language chosen for this run (see lang.go).
var lang = i18n.English

func run(args []string) error {
	flagLang, args := takeLang(args)
	langFlagGiven = flagLang != ""
	l, err := chooseLang(flagLang, "")
	if err != nil {
		return err
	}
	lang = l
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(args[1:])
		case "play":
			return runPlay(args[1:])
		case "connect":
			return runConnect(args[1:])
		case "help":
			return runHelp(args[1:])
		case "config":
			return runConfig(args[1:])
		case "completion":
			return runCompletion(args[1:])
		case "-h", "-help", "--help":
			fmt.Printf(mainUsage, configPathHint())
			return nil
		}
	}
	return runConnect(args)
}

func runHelp(args []string) error {
	if len(args) == 0 {
		fmt.Printf(mainUsage, configPathHint())
		return nil
	}
	switch args[0] {
	case "connect":
		return runConnect([]string{"--help"})
	case "demo":
		return runDemo([]string{"--help"})
	case "play":
		return runPlay([]string{"--help"})
	case "config":
		return runConfig([]string{"--help"})
	case "completion":
		return runCompletion([]string{"--help"})
	}
	return fmt.Errorf("no help for %q\n\n%s", args[0], fmt.Sprintf(mainUsage, configPathHint()))
}

func parseFlags(fs *flag.FlagSet, args []string, usage string) (help bool, err error) {
	fs.Usage = func() {}
	fs.SetOutput(discard{})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			return true, nil
		}
		return false, fmt.Errorf("%v\n\n%s", err, usage)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected argument %q\n\n%s", fs.Arg(0), usage)
	}
	return false, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
