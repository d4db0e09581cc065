package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDefaultsAndValues(t *testing.T) {
	c, err := Parse(strings.NewReader(""))
	if err != nil || c != Defaults() {
		t.Fatalf("empty file: %+v %v, want the defaults", c, err)
	}
	c, err = Parse(strings.NewReader("sampling:\n  rate: 0.1\n  hour: 4\nretention:\n  recordings: 90d\n  connection_logs: 1y\npasswords:\n  max_age: 60d\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{SamplingRate: 0.1, SamplingHour: 4, Recordings: Period{90, "d"}, ConnectionLogs: Period{1, "y"},
		PasswordMaxAge: Period{60, "d"}}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	c, err = Parse(strings.NewReader("store: postgres://ecoute@db-a,db-b/ecoute?target_session_attrs=read-write\nblobs: s3://calls/site-a?endpoint=s3.local:9000\n"))
	if err != nil || c.Store != "postgres://ecoute@db-a,db-b/ecoute?target_session_attrs=read-write" || c.Blobs != "s3://calls/site-a?endpoint=s3.local:9000" {
		t.Errorf("store and blobs: %+v, %v", c, err)
	}
}

func TestParseRefusals(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"sampling:\n  rate: 0.05\n  rat: 1\n", `line 3: unknown key "sampling.rat"`},
		{"retention:\n  recordings: 6mo\nfoo: 1\n", `line 3: unknown key "foo"`},
		{"retention:\n  connection_logs: 2mo\n", "allowed range 3mo–12mo"},
		{"retention:\n  connection_logs: 13mo\n", "allowed range 3mo–12mo"},
		{"retention:\n  connection_logs: 80d\n", "allowed range 3mo–12mo"},
		{"retention:\n  recordings: 7mo\n", "longer than the allowed maximum 6mo"},
		{"retention:\n  recordings: 183d\n", "longer than the allowed maximum 6mo"},
		{"retention:\n  recordings: 6m\n", `write "mo" for months`},
		{"sampling:\n  rate: 0.0001\n", "allowed range 0.001–0.1"},
		{"sampling:\n  rate: 1.5\n", "systematic recording"},
		{"sampling:\n  rate: 1\n", "sampling.rate: 1 keeps every call: that is systematic recording"},
		{"sampling:\n  rate: 0.5\n", "allowed range 0.001–0.1"},
		{"sampling:\n  rate: 0.1001\n", "allowed range 0.001–0.1"},
		{"sampling:\n  rate: lots\n", "line 2: sampling.rate"},
		{"sampling:\n  hour: 24\n", "0–23"},
		{"passwords:\n  max_age: 2y\n", "passwords.max_age: 2y is outside the allowed range 1d–1y"},
		{"passwords:\n  max_age: 12h\n", "passwords.max_age: 12h is outside the allowed range 1d–1y"},
		{"ingest:\n  transcoder: /bin/sh\n", "neither ffmpeg nor lame"},
		{"ingest:\n  transcoder: /nonexistent/ffmpeg\n", "ingest.transcoder"},
		{"- a\n- b\n", "must be a mapping"},
		{"sampling:\n  rate: 0.1\nsampling:\n  hour: 3\n", "set twice"},
		{"store: mysql://db/ecoute\n", "not a postgres:// URL"},
		{"store: postgres://ecoute:hunter2@db/ecoute\n", "holds a password"},
		{"blobs: /var/lib/ecoute\n", "not an s3:// URL"},
		{"store:\n  url: x\n", "want a postgres:// URL"},
	}
	for _, c := range cases {
		_, err := Parse(strings.NewReader(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error containing %q", c.yaml, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the password: %v", c.yaml, err)
		}
	}
	// The limits themselves are lawful.
	for _, y := range []string{"retention:\n  connection_logs: 3mo\n", "retention:\n  connection_logs: 12mo\n",
		"retention:\n  connection_logs: 1y\n", "retention:\n  recordings: 1mo\n", "sampling:\n  rate: 0.1\n",
		"sampling:\n  rate: 0.001\n"} {
		if _, err := Parse(strings.NewReader(y)); err != nil {
			t.Errorf("%q refused: %v", y, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	if c, err := Load(p, false); err != nil || c != Defaults() {
		t.Errorf("missing default file: %+v %v", c, err)
	}
	if _, err := Load(p, true); err == nil {
		t.Error("missing explicit file accepted")
	}
	if err := os.WriteFile(p, []byte("retention:\n  connection_logs: 2mo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, false); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad file: %v, want an error naming the file", err)
	}
}

func TestPeriod(t *testing.T) {
	aug31 := time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC)
	// A day the target month lacks stands for the rest of that month.
	for _, c := range []struct {
		p    string
		from time.Time
		back bool
		want time.Time
	}{
		{"6mo", aug31, true, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"6mo", aug31, false, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"6mo", time.Date(2027, 8, 31, 12, 0, 0, 0, time.UTC), false, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"6mo", time.Date(2027, 8, 29, 12, 0, 0, 0, time.UTC), false, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"6mo", time.Date(2026, 8, 28, 23, 0, 0, 0, time.UTC), false, time.Date(2027, 2, 28, 23, 0, 0, 0, time.UTC)},
		{"1mo", time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC), false, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"1mo", time.Date(2027, 3, 31, 9, 0, 0, 0, time.UTC), true, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"1y", time.Date(2028, 2, 29, 9, 0, 0, 0, time.UTC), false, time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"12mo", time.Date(2027, 10, 30, 9, 0, 0, 0, time.UTC), false, time.Date(2028, 10, 30, 9, 0, 0, 0, time.UTC)},
	} {
		var got time.Time
		if c.back {
			got = MustPeriod(c.p).Before(c.from)
		} else {
			got = MustPeriod(c.p).After(c.from)
		}
		if !got.Equal(c.want) {
			t.Errorf("%s %s %s = %s, want %s", c.p, map[bool]string{true: "before", false: "after"}[c.back], c.from, got, c.want)
		}
	}
	if got := MustPeriod("90d").After(aug31); !got.Equal(aug31.AddDate(0, 0, 90)) {
		t.Errorf("90d after = %v", got)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"1y", "12mo", 0}, {"90d", "3mo", -1}, {"92d", "3mo", 1}, {"26w", "6mo", -1}, {"2mo", "3mo", -1}} {
		if got := MustPeriod(c.a).Compare(MustPeriod(c.b)); got != c.want {
			t.Errorf("%s vs %s = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "6", "1.5y", "6 mo"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSettingsCoverEveryKey(t *testing.T) {
	var b strings.Builder
	for _, s := range Settings() {
		if s.Rule == "" || s.Default == "" || s.Allowed == "" {
			t.Errorf("%s lacks a rule, default or range", s.Key)
		}
		b.WriteString(s.Key + ": " + strings.Trim(s.Default, `"`) + "\n")
	}
	for _, k := range []string{"sampling.rate", "sampling.hour", "retention.recordings", "retention.connection_logs", "ingest.transcoder"} {
		if !strings.Contains(b.String(), k+":") {
			t.Errorf("config defaults omits %s", k)
		}
	}
}
