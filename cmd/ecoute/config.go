package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/themes"
	"github.com/ecoute/ecoute/tui"
)

// fileConfig is ~/.config/ecoute/config.yaml. Every setting is optional;
// a command-line flag wins over the environment, which wins over the file.
type fileConfig struct {
	Server  string           `yaml:"server"`
	Theme   string           `yaml:"theme"`
	PinFile string           `yaml:"pin_file"`
	Silent  bool             `yaml:"silent"`
	Lang    string           `yaml:"lang"`
	Keys    tui.KeyOverrides `yaml:"keys"`
}

// defaultConfigPath is $XDG_CONFIG_HOME/ecoute/config.yaml.
func defaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("%s: %w", T("ecoute.errConfigDir"), err)
	}
	return filepath.Join(dir, "ecoute", "config.yaml"), nil
}

func configPathHint() string {
	p, err := defaultConfigPath()
	if err != nil {
		return "$XDG_CONFIG_HOME/ecoute/config.yaml"
	}
	return p
}

// loadConfig reads path ("" is the default path). A missing default file is
// an empty config; a missing file the user named is an error. Unknown keys
// are errors, so a typo does not silently do nothing.
func loadConfig(path string) (fileConfig, error) {
	var cfg fileConfig
	named := path != ""
	if !named {
		p, err := defaultConfigPath()
		if err != nil {
			return cfg, nil
		}
		path = p
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !named {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", T("ecoute.errConfig", path), err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("%s: %w", T("ecoute.errConfig", path), err)
	}
	if cfg.Theme != "" {
		if _, err := themes.Lookup(cfg.Theme); err != nil {
			return cfg, fmt.Errorf("%s: theme: %w", T("ecoute.errConfig", path), err)
		}
	}
	if cfg.Lang != "" {
		if _, err := i18n.Parse(cfg.Lang); err != nil {
			return cfg, fmt.Errorf("%s: lang: %w", T("ecoute.errConfig", path), err)
		}
	}
	if err := cfg.Keys.Validate(i18n.New(lang)); err != nil {
		return cfg, fmt.Errorf("%s: %w", T("ecoute.errConfig", path), err)
	}
	cfg.PinFile = expandHome(cfg.PinFile)
	return cfg, nil
}

func expandHome(p string) string {
	if len(p) >= 2 && p[:2] == "~/" {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}

// pick returns the first non-empty value.
func pick(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
