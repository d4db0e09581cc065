package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeCSV(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "scores.csv")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Krippendorff (2011)'s reliability data, with a header row and rater names.
const k2011CSV = `observer,u1,u2,u3,u4,u5,u6,u7,u8,u9,u10,u11,u12
A,1,2,3,3,2,1,4,1,2,,,
B,1,2,3,3,2,2,4,1,2,5,,3
C,,3,3,3,2,3,4,2,2,5,1,
D,1,2,3,3,2,4,4,1,2,5,1,
`

func TestCalibrationAlphaOnACSVFile(t *testing.T) {
	f := writeCSV(t, k2011CSV)
	for level, want := range map[string]string{"nominal": "0.743", "ordinal": "0.815", "interval": "0.849"} {
		out, errOut, err := runArgs("", "calibration", "alpha", "--level", level, "--header", "--names", f)
		if err != nil {
			t.Fatalf("%s: %v %s", level, err, errOut)
		}
		for _, line := range []string{
			"Krippendorff's α (" + level + "): " + want + "\n",
			"95 % interval: [",
			"(bootstrap: 1000 resamples of the items, seed 1)",
			"pairable values: 40, from 11 of 12 items (4 raters)\n",
			"percent agreement: 80.0 %\n",
		} {
			if !strings.Contains(out, line) {
				t.Errorf("%s: no %q in\n%s", level, line, out)
			}
		}
		if errOut != "" {
			t.Errorf("%s: unexpected warning %q", level, errOut)
		}
	}
	// Flags after the file; the same seed prints the same interval, and the
	// nominal α (0.743) is flagged as tentative.
	a, _, err := runArgs("", "calibration", "alpha", f, "--names", "--header", "--level", "nominal", "--seed", "7")
	b, _, _ := runArgs("", "calibration", "alpha", "--level", "nominal", "--header", "--names", "--seed", "7", f)
	if err != nil || a != b || !strings.Contains(a, "seed 7") || !strings.Contains(a, "tentative conclusions only") {
		t.Errorf("seed 7: %v\n%s\n%s", err, a, b)
	}
}

func TestCalibrationAlphaFormats(t *testing.T) {
	// No header, no names, a French export: semicolons and decimal commas.
	f := writeCSV(t, "\ufeff1,5;2;3\n1,5;2;3,5\n;2;3\n")
	out, _, err := runArgs("", "calibration", "alpha", "--level", "interval", "--sep", ";", f)
	if err != nil || !strings.Contains(out, "pairable values: 8, from 3 of 3 items (3 raters)") {
		t.Errorf("French export: %v\n%s", err, out)
	}
	// Nominal labels, N/A as missing, no variation: α undefined, said so.
	f = writeCSV(t, "yes,yes,N/A,yes\nyes,,yes,yes\n")
	out, _, err = runArgs("", "calibration", "alpha", "--level", "nominal", "--missing", "N/A", f)
	if err != nil || !strings.Contains(out, "α (nominal): undefined: every pairable value is the same") ||
		!strings.Contains(out, "pairable values: 4, from 2 of 4 items (2 raters)") || !strings.Contains(out, "percent agreement: 100.0 %") ||
		strings.Contains(out, "NaN") {
		t.Errorf("no variation: %v\n%s", err, out)
	}
	// Without --missing, "N/A" is an answer like another.
	out, _, _ = runArgs("", "calibration", "alpha", "--level", "nominal", f)
	if !strings.Contains(out, "pairable values: 6, from 3 of 4 items") {
		t.Errorf("N/A as a label:\n%s", out)
	}
	// At the nominal level, names left in the file are warned about.
	f = writeCSV(t, k2011CSV)
	_, errOut, err := runArgs("", "calibration", "alpha", "--level", "nominal", f)
	if err != nil || !strings.Contains(errOut, "line 1 looks like item names") || !strings.Contains(errOut, "add --names") {
		t.Errorf("names not warned about: %v %q", err, errOut)
	}
}

func TestCalibrationAlphaRefusesBadInput(t *testing.T) {
	if _, errOut, err := runArgs("", "calibration", "alpha", "--help"); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(errOut, "one row per rater and one column per item") {
		t.Errorf("--help: %v %q", err, errOut)
	}
	if _, errOut, err := runArgs("", "--help"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "calibration alpha --level nominal|ordinal|interval FILE.csv") {
		t.Errorf("ecouted --help does not list calibration: %q", errOut)
	}
	k := writeCSV(t, k2011CSV)
	cases := []struct {
		body string // "" = use k
		args []string
		want string
	}{
		{"1,2,3\n1,2\n", []string{"--level", "interval"}, "scores.csv: line 2: 2 cells, but line 1 has 3"},
		{"1,2\n\n1,\"2\n", []string{"--level", "interval"}, "scores.csv: line 3, column"},
		{"1,2\n1,deux\n", []string{"--level", "ordinal"}, `scores.csv: line 2, item 2: "deux" is not a number (the ordinal level needs numbers)`},
		{"r,q1,q2\nann,1,2\nbob,1,x\n", []string{"--level", "ordinal", "--header", "--names"}, `line 3, item 2 ("q2"), rater "bob": "x" is not a number`},
		{"1,2\n1,NaN\n", []string{"--level", "interval"}, `line 2, item 2: "NaN" is not a finite number`},
		{"", []string{"--level", "ordinal"}, `line 1, item 1: "observer" is not a number (the ordinal level needs numbers) (if the first row names the items, add --header)`},
		{"", []string{"--level", "ordinal", "--header"}, `line 2, item 1 ("observer"): "A" is not a number (the ordinal level needs numbers) (if the first column names the raters, add --names)`},
		{"r,q1\nann,1\nann,2\n", []string{"--level", "nominal", "--header", "--names"}, `line 3: rater "ann" already has a row on line 2`},
		{"r,q1\n,1\n", []string{"--level", "nominal", "--header", "--names"}, "line 2: no rater name"},
		{"1,2,3\n", []string{"--level", "nominal"}, "one rater row: α needs at least two raters"},
		{"1,\n,2\n", []string{"--level", "nominal"}, "no pairable values"},
		{"\n", []string{"--level", "nominal"}, "no rater rows"},
		{"", []string{}, "--level nominal|ordinal|interval is required"},
		{"", []string{"--level", "ratio"}, `unknown level of measurement "ratio"`},
		{"", []string{"--level", "nominal", "--sep", ";;"}, `--sep ";;"`},
		{"", []string{"--level", "nominal", "--draws", "0"}, "--draws 0"},
	}
	for _, c := range cases {
		f := k
		if c.body != "" {
			f = writeCSV(t, c.body)
		}
		out, _, err := runArgs("", append(append([]string{"calibration", "alpha"}, c.args...), f)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %v: %v, want an error with %q", c.body, c.args, err, c.want)
		}
		if out != "" {
			t.Errorf("%q %v: printed %q before refusing", c.body, c.args, out)
		}
	}
	for _, args := range [][]string{{"alpha", "--level", "nominal"}, {"alpha", "--level", "nominal", k, k}} {
		if _, _, err := runArgs("", append([]string{"calibration"}, args...)...); err == nil || !strings.Contains(err.Error(), "give one CSV file") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := runArgs("", "calibration", "beta"); err == nil || !strings.Contains(err.Error(), `unknown calibration command "beta"`) {
		t.Errorf("beta: %v", err)
	}
}
