package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ecoute/ecoute/internal/i18n"
)

// The console's language: --lang (anywhere on the command line), else the
// settings file's lang:, else the environment (LC_ALL, LC_MESSAGES, LANG),
// else English.

// takeLang removes --lang X / --lang=X from args and returns its value.
func takeLang(args []string) (lang string, rest []string) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--lang" || a == "-lang":
			if i+1 < len(args) {
				lang = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--lang=") || strings.HasPrefix(a, "-lang="):
			lang = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return lang, rest
}

// chooseLang decides the language from the flag's value and the settings
// file (read quietly: a broken file is reported by the command itself).
func chooseLang(flagValue, configPath string) (i18n.Lang, error) {
	cfg, _ := loadConfig(configPath)
	return i18n.Choose(flagValue, cfg.Lang, os.Getenv)
}

// langFor is the run's language, the settings file read by the command
// taken into account when --lang and the environment left it open.
func langFor(cfg fileConfig) i18n.Lang {
	if cfg.Lang != "" && !langFlagGiven {
		if l, err := i18n.Parse(cfg.Lang); err == nil {
			return l
		}
	}
	return lang
}

// langFlagGiven records that --lang was on the command line (it wins over
// every setting).
var langFlagGiven bool

// T is a message of the ecoute command in the run's language.
func T(k i18n.Key, args ...any) string { return i18n.New(lang).T(k, args...) }

// usageError is a usage mistake followed by the command's help.
func usageError(msg, usage string) error { return fmt.Errorf("%s\n\n%s", msg, usage) }
