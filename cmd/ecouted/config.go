package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/ecoute/ecoute/backend/config"
)

// configFile is the global --config flag; empty = DIR/ecouted.yaml if it
// exists, else the defaults.
var configFile string

// loadSettings reads the configuration every command starts with, so an
// unlawful setting stops ecouted before it touches any data.
func loadSettings(data string) (config.Config, error) {
	if configFile != "" {
		return config.Load(configFile, true)
	}
	return config.Load(filepath.Join(data, config.FileName), false)
}

func cmdConfig(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "defaults" && args[0] != "check") {
		return errors.New(`unknown config command: use "ecouted config defaults" or "ecouted config check"`)
	}
	sub := args[0]
	if sub == "check" {
		fs := newFlags("config check", "config check\n\n"+
			"Reads the configuration (--config FILE, else DIR/ecouted.yaml) and prints the settings in force,\n"+
			"or exits non-zero with the reason it would be refused.", stderr)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		c, err := loadSettings(data)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "sampling.rate\t%g\n", c.SamplingRate)
		fmt.Fprintf(tw, "sampling.hour\t%d\n", c.SamplingHour)
		fmt.Fprintf(tw, "retention.recordings\t%s\n", c.Recordings)
		fmt.Fprintf(tw, "retention.connection_logs\t%s\n", c.ConnectionLogs)
		fmt.Fprintf(tw, "ingest.transcoder\t%q\n", c.Transcoder)
		fmt.Fprintf(tw, "store\t%q\n", config.RedactURL(c.Store))
		fmt.Fprintf(tw, "blobs\t%q\n", c.Blobs)
		return tw.Flush()
	}
	fs := newFlags("config defaults", "config defaults\n\n"+
		"Prints every setting of ecouted.yaml with its default, the allowed range and the rule\n"+
		"(REQUIREMENTS.md) it implements, then the limits the law fixes. Periods are written\n"+
		"90d, 12w, 6mo, 1y (months and years are calendar units).", stderr)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tDEFAULT\tALLOWED\tRULE\tMEANING")
	for _, s := range config.Settings() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Key, s.Default, s.Allowed, s.Rule, s.Meaning)
	}
	return tw.Flush()
}
