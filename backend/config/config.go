// Package config reads ecouted.yaml: the sampling rate and hour (R2), the
// retention periods (R4) and the external transcoder used at ingestion.
//
// Every setting has a default and a lawful range; a file that names an
// unknown key or a value outside its range is refused as a whole, so that
// ecouted never runs on a setting the law does not allow.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the configuration file looked for in the data directory.
const FileName = "ecouted.yaml"

// Config is the whole configuration. The zero value is not valid; start
// from Defaults.
type Config struct {
	// SamplingRate is the fraction of each day's recordings kept (R2).
	SamplingRate float64
	// SamplingHour is the hour (0–23, UTC) at which the daily jobs run.
	SamplingHour int
	// Recordings is how long a recording is kept after collection (R4).
	Recordings Period
	// ConnectionLogs is how long logins, sessions and audit entries are kept (R4).
	ConnectionLogs Period
	// Transcoder is the path of ffmpeg or lame, used to convert uploads to
	// the canonical audio profile; empty means such uploads are refused.
	Transcoder string
	// PasswordMaxAge is how old a password may get before the next login
	// must change it (R9).
	PasswordMaxAge Period
	// AuditWitness is a file outside the data directory (another volume, a
	// mount of another host) where the audit trail's signed head is sealed
	// too, beside DIR/audit-head.log; empty: no witness (R10).
	AuditWitness string
	// Store is the database: empty for the embedded SQLite file of the data
	// directory, or a PostgreSQL URL (postgres://user@host:5432/db; the
	// password from PGPASSWORD or ~/.pgpass, not from this file) shared by
	// several ecouted.
	Store string
	// Blobs is where recordings and screen captures go: empty for the
	// data directory, or s3://bucket[/prefix]?endpoint=host:port (the
	// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
	Blobs string
}

// Limits that the law fixes: they bound the settings and are applied as they
// are where nothing is configurable.
var (
	MinSamplingRate = 0.001
	// MaxSamplingRate is the lawful maximum of sampling.rate (R2). The
	// authorisation this product follows keeps 5 % of each day's calls and
	// deletes 95 %; recording must stay occasional, never systematic (a
	// rate of 1 keeps every call, which the regulator forbids). Écoute
	// allows up to twice the authorised rate, so a small centre may keep a
	// usable sample of each agent, and no more: at least 90 % of every
	// day's recordings is always deleted.
	MaxSamplingRate       = 0.10
	MaxRecordings         = MustPeriod("6mo")
	MinConnectionLogs     = MustPeriod("3mo")
	MaxConnectionLogs     = MustPeriod("12mo")
	Evaluations           = MustPeriod("1y") // R4, R12: analysis documents at most 1 year
	AgentNamesOnRecording = MustPeriod("1y") // R4: names attached to recordings, from collection
	// RequestIDs is how long the server remembers the request id of a
	// write, to answer a resent request without applying it twice.
	RequestIDs        = MustPeriod("24h")
	MinPasswordMaxAge = MustPeriod("1d")
	MaxPasswordMaxAge = MustPeriod("1y")
)

// Defaults is the configuration used when no file exists.
func Defaults() Config {
	return Config{
		SamplingRate:   0.05,
		SamplingHour:   2,
		Recordings:     MaxRecordings,
		ConnectionLogs: MustPeriod("6mo"),
		PasswordMaxAge: MustPeriod("90d"),
	}
}

// Setting describes one key for `ecouted config defaults`.
type Setting struct {
	Key, Default, Allowed, Rule, Meaning string
}

// Settings lists every key of the file, then the fixed limits that are not
// configurable, in the order they are documented.
func Settings() []Setting {
	d := Defaults()
	return []Setting{
		{"sampling.rate", strconv.FormatFloat(d.SamplingRate, 'g', -1, 64),
			fmt.Sprintf("%g–%g", MinSamplingRate, MaxSamplingRate), "R2",
			"fraction of each day's recordings kept, chosen at random per agent; the rest is deleted (at most 10 %: twice the authorised 5 %, never systematic)"},
		{"sampling.hour", strconv.Itoa(d.SamplingHour), "0–23 (UTC)", "R2, R4",
			"hour at which the daily sampling, then the retention purge, run inside serve"},
		{"retention.recordings", d.Recordings.String(), "1h–" + MaxRecordings.String(), "R4",
			"recordings (audio and row) are deleted this long after the call started"},
		{"retention.connection_logs", d.ConnectionLogs.String(),
			MinConnectionLogs.String() + "–" + MaxConnectionLogs.String(), "R4, R10",
			"sessions, login records and audit entries are deleted after this"},
		{"ingest.transcoder", `""`, "path to ffmpeg or lame, or empty", "R14",
			"converts uploads outside the canonical audio profile; empty refuses them"},
		{"passwords.max_age", d.PasswordMaxAge.String(), MinPasswordMaxAge.String() + "–" + MaxPasswordMaxAge.String(), "R9",
			"a password older than this must be changed at the next login"},
		{"audit.witness", `""`, "absolute path outside the data directory, or empty", "R10",
			"a second file, on another volume or host, where the audit trail's signed head is sealed; audit verify checks it"},
		{"store", `""`, "empty (SQLite in the data directory) or postgres://user@host:port/db", "R15",
			"the database; PostgreSQL (with a standby) lets several ecouted share it; its password from PGPASSWORD or ~/.pgpass"},
		{"blobs", `""`, "empty (the data directory) or s3://bucket[/prefix]?endpoint=host:port[&tls=false][&ca=FILE]", "R9, R15",
			"where the recordings go, encrypted before they leave ecouted; S3 credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"},
		{"(fixed) evaluations", Evaluations.String(), "not configurable", "R4, R12",
			"evaluations are deleted this long after they were created"},
		{"(fixed) agent names on recordings", AgentNamesOnRecording.String(), "not configurable", "R4",
			"agent names are detached from recordings this long after collection"},
		{"(fixed) request ids", RequestIDs.String(), "not configurable", "R4",
			"a write sent again with the same request_id within this time is answered, not applied again"},
	}
}

// Validate checks every value against its lawful range.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.SamplingRate >= 1:
		errs = append(errs, fmt.Errorf("sampling.rate: %g keeps every call: that is systematic recording, which the law forbids (R2); the allowed range is %g–%g",
			c.SamplingRate, MinSamplingRate, MaxSamplingRate))
	case c.SamplingRate < MinSamplingRate || c.SamplingRate > MaxSamplingRate:
		errs = append(errs, fmt.Errorf("sampling.rate: %g is outside the allowed range %g–%g (R2: a random sample, never systematic recording)",
			c.SamplingRate, MinSamplingRate, MaxSamplingRate))
	}
	if c.SamplingHour < 0 || c.SamplingHour > 23 {
		errs = append(errs, fmt.Errorf("sampling.hour: %d is outside the allowed range 0–23", c.SamplingHour))
	}
	if c.Recordings.IsZero() {
		errs = append(errs, errors.New("retention.recordings: is required"))
	} else if c.Recordings.Compare(MaxRecordings) > 0 {
		errs = append(errs, fmt.Errorf("retention.recordings: %s is longer than the allowed maximum %s (R4); shorter values such as 1mo are allowed",
			c.Recordings, MaxRecordings))
	}
	if c.ConnectionLogs.IsZero() ||
		c.ConnectionLogs.Compare(MinConnectionLogs) < 0 || c.ConnectionLogs.Compare(MaxConnectionLogs) > 0 {
		errs = append(errs, fmt.Errorf("retention.connection_logs: %s is outside the allowed range %s–%s (R4: at least 3 months, at most 1 year)",
			c.ConnectionLogs, MinConnectionLogs, MaxConnectionLogs))
	}
	if c.PasswordMaxAge.IsZero() ||
		c.PasswordMaxAge.Compare(MinPasswordMaxAge) < 0 || c.PasswordMaxAge.Compare(MaxPasswordMaxAge) > 0 {
		errs = append(errs, fmt.Errorf("passwords.max_age: %s is outside the allowed range %s–%s (R9: passwords are renewed)",
			c.PasswordMaxAge, MinPasswordMaxAge, MaxPasswordMaxAge))
	}
	if c.Transcoder != "" {
		if err := checkTranscoder(c.Transcoder); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		errs = append(errs, fmt.Errorf("store: %q is not a postgres:// URL (leave it empty for the embedded database)", RedactURL(c.Store)))
	}
	if u, err := url.Parse(c.Store); err == nil && c.Store != "" {
		if _, ok := u.User.Password(); ok {
			errs = append(errs, fmt.Errorf("store: %q holds a password; give it in PGPASSWORD or ~/.pgpass (R9: no secret in the settings file)", RedactURL(c.Store)))
		}
	}
	if c.Blobs != "" && !strings.HasPrefix(c.Blobs, "s3://") {
		errs = append(errs, fmt.Errorf("blobs: %q is not an s3:// URL (leave it empty for the data directory)", c.Blobs))
	}
	if c.AuditWitness != "" && !filepath.IsAbs(c.AuditWitness) {
		errs = append(errs, fmt.Errorf("audit.witness: %q is not an absolute path", c.AuditWitness))
	}
	return errors.Join(errs...)
}

// checkTranscoder refuses anything but an executable ffmpeg or lame: the
// ingestion builds its command line from the program's name.
func checkTranscoder(p string) error {
	base := strings.ToLower(filepath.Base(p))
	if !strings.HasPrefix(base, "ffmpeg") && !strings.HasPrefix(base, "lame") {
		return fmt.Errorf("ingest.transcoder: %q is neither ffmpeg nor lame", p)
	}
	if _, err := exec.LookPath(p); err != nil {
		return fmt.Errorf("ingest.transcoder: %w", err)
	}
	return nil
}

// Load reads path; explicit says the user named the file, so a missing file
// is an error rather than "use the defaults".
func Load(path string, explicit bool) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return Defaults(), nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse reads the YAML form, fills what it omits with the defaults and
// validates the result.
func Parse(r io.Reader) (Config, error) {
	c := Defaults()
	var doc yaml.Node
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil // an empty file means the defaults
		}
		return Config{}, err
	}
	if len(doc.Content) == 0 {
		return c, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Config{}, fmt.Errorf("line %d: the file must be a mapping of sections (sampling, retention, ingest)", root.Line)
	}
	setters := map[string]func(n *yaml.Node) error{
		"sampling.rate": func(n *yaml.Node) error {
			v, err := strconv.ParseFloat(scalar(n), 64)
			if err != nil || n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a number such as 0.05")
			}
			c.SamplingRate = v
			return nil
		},
		"sampling.hour": func(n *yaml.Node) error {
			v, err := strconv.Atoi(scalar(n))
			if err != nil || n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a whole hour 0–23")
			}
			c.SamplingHour = v
			return nil
		},
		"retention.recordings": func(n *yaml.Node) (err error) {
			c.Recordings, err = ParsePeriod(scalar(n))
			return err
		},
		"retention.connection_logs": func(n *yaml.Node) (err error) {
			c.ConnectionLogs, err = ParsePeriod(scalar(n))
			return err
		},
		"passwords.max_age": func(n *yaml.Node) (err error) {
			c.PasswordMaxAge, err = ParsePeriod(scalar(n))
			return err
		},
		"ingest.transcoder": func(n *yaml.Node) error {
			if n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a path")
			}
			c.Transcoder = n.Value
			return nil
		},
		"store": func(n *yaml.Node) error {
			if n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a postgres:// URL")
			}
			c.Store = n.Value
			return nil
		},
		"blobs": func(n *yaml.Node) error {
			if n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want an s3:// URL")
			}
			c.Blobs = n.Value
			return nil
		},
		"audit.witness": func(n *yaml.Node) error {
			if n.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a path")
			}
			c.AuditWitness = n.Value
			return nil
		},
	}
	known := make([]string, 0, len(setters))
	for k := range setters {
		known = append(known, k)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	var walk func(prefix string, m *yaml.Node) error
	walk = func(prefix string, m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := prefix + k.Value
			if seen[key] {
				return fmt.Errorf("line %d: %s is set twice", k.Line, key)
			}
			seen[key] = true
			if set, ok := setters[key]; ok {
				if err := set(v); err != nil {
					return fmt.Errorf("line %d: %s: %w", v.Line, key, err)
				}
				continue
			}
			if v.Kind == yaml.MappingNode && prefix == "" && isSection(key, known) {
				if err := walk(key+".", v); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("line %d: unknown key %q (known keys: %s)", k.Line, key, strings.Join(known, ", "))
		}
		return nil
	}
	if err := walk("", root); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// RedactURL hides the password of a URL, for messages.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

func scalar(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func isSection(s string, keys []string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, s+".") {
			return true
		}
	}
	return false
}
