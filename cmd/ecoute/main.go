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

// mainUsage is the command's help.
func mainUsage() string { return T("ecoute.mainUsage", configPathHint()) }

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
		case "listen":
			return runListen(args[1:])
		case "help":
			return runHelp(args[1:])
		case "config":
			return runConfig(args[1:])
		case "completion":
			return runCompletion(args[1:])
		case "-h", "-help", "--help":
			fmt.Print(mainUsage())
			return nil
		}
	}
	return runConnect(args)
}

func runHelp(args []string) error {
	if len(args) == 0 {
		fmt.Print(mainUsage())
		return nil
	}
	switch args[0] {
	case "connect":
		return runConnect([]string{"--help"})
	case "demo":
		return runDemo([]string{"--help"})
	case "play":
		return runPlay([]string{"--help"})
	case "listen":
		return runListen([]string{"--help"})
	case "config":
		return runConfig([]string{"--help"})
	case "completion":
		return runCompletion([]string{"--help"})
	}
	return usageError(T("ecoute.noHelp", args[0]), mainUsage())
}

func parseFlags(fs *flag.FlagSet, args []string, usage string) (help bool, err error) {
	fs.Usage = func() {}
	fs.SetOutput(discard{})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			return true, nil
		}
		return false, usageError(err.Error(), usage)
	}
	if fs.NArg() > 0 {
		return false, usageError(T("ecoute.unexpectedArg", fs.Arg(0)), usage)
	}
	return false, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
