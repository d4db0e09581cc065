package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ecoute/ecoute/backend/agreement"
)

const calibrationUsage = `Usage: ecouted calibration <command>

Commands:
  alpha --level nominal|ordinal|interval FILE.csv
         Krippendorff's α of a rater × item table, with its bootstrap 95 % interval,
         the number of pairable values and the percent agreement

Run "ecouted calibration alpha --help" for the file format and the flags.
`

const alphaSynopsis = `calibration alpha --level nominal|ordinal|interval [flags] FILE.csv

Reads one row per rater and one column per item (a call, a question). An empty
cell is a missing value (not scored, N/A). With --header the first row names
the items; with --names the first column names the raters. Nominal cells are
labels compared as text ("yes", "no", "b"; "1" and "1.0" differ); ordinal and
interval cells are numbers (with --sep ';' a decimal comma is accepted).

Prints α at the level given (nominal for yes/no and choices, ordinal for 1–5
scales, interval for measures), its 95 % interval from a bootstrap over the
items (deterministic for a given --seed), the pairable values (those of items
scored by at least two raters; the others are left out) and the percent
agreement. When every pairable value is the same, α is undefined: the command
says so, prints the percent agreement and exits 0. A bad file is refused with
its line number and nothing is computed.`

func cmdCalibration(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stderr, calibrationUsage)
		if len(args) == 0 {
			return errors.New("missing calibration command")
		}
		return nil
	}
	switch args[0] {
	case "alpha":
		return cmdCalibrationAlpha(args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown calibration command %q (alpha)", args[0])
}

// alphaTable is a rater × item table read from a CSV file.
type alphaTable struct {
	raters, items []string // names; empty when the file has none
	cells         [][]string
	lineOf        func(row, col int) int // line of a cell
}

func cmdCalibrationAlpha(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibration alpha", alphaSynopsis, stderr)
	levelName := fs.String("level", "", "level of measurement: nominal, ordinal or interval (required)")
	header := fs.Bool("header", false, "the first row names the items")
	names := fs.Bool("names", false, "the first column names the raters")
	sep := fs.String("sep", ",", "cell separator, one character (e.g. ';' for a French spreadsheet export)")
	missing := fs.String("missing", "", `further cell texts meaning "no value", comma-separated (e.g. "NA,N/A")`)
	draws := fs.Int("draws", agreement.DefaultDraws, "bootstrap resamples")
	seed := fs.Uint64("seed", 1, "bootstrap seed (the same seed gives the same interval)")
	// Flags may come before or after the file.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New("calibration alpha: give one CSV file (see --help)")
	}
	if *levelName == "" {
		return errors.New("calibration alpha: --level nominal|ordinal|interval is required")
	}
	level, err := agreement.ParseLevel(*levelName)
	if err != nil {
		return fmt.Errorf("calibration alpha: %w", err)
	}
	comma, size := utf8.DecodeRuneInString(*sep)
	if *sep == "" || size != len(*sep) || comma == '"' || comma == '\n' || comma == '\r' || comma == utf8.RuneError {
		return fmt.Errorf("calibration alpha: --sep %q: give one character other than a quote or a newline", *sep)
	}
	if *draws <= 0 {
		return fmt.Errorf("calibration alpha: --draws %d: must be positive", *draws)
	}
	absent := map[string]bool{}
	for m := range strings.SplitSeq(*missing, ",") {
		if m = strings.TrimSpace(m); m != "" {
			absent[m] = true
		}
	}

	file := files[0]
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("calibration alpha: %w", err)
	}
	defer f.Close()
	t, err := readAlphaTable(f, comma, *header, *names)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if level == agreement.Nominal {
		t.warnNames(stderr, *header, *names)
	}
	data, err := t.values(level, comma, absent)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	res, err := agreement.Alpha(data, level, agreement.Options{Draws: *draws, Seed: *seed})
	switch {
	case errors.Is(err, agreement.ErrNoVariation):
		fmt.Fprintf(stdout, "Krippendorff's α (%s): undefined: every pairable value is the same, there is no variation to explain\n", level)
	case errors.Is(err, agreement.ErrTooFewRaters):
		return fmt.Errorf("%s: one rater row: %w", file, err)
	case err != nil:
		return fmt.Errorf("%s: %w", file, err)
	default:
		fmt.Fprintf(stdout, "Krippendorff's α (%s): %.3f\n", level, res.Alpha)
		ci := res.CI
		if math.IsNaN(ci.Low) {
			fmt.Fprintf(stdout, "%g %% interval: not available (no resample of the items had any variation)\n", ci.Confidence*100)
		} else {
			fmt.Fprintf(stdout, "%g %% interval: [%.3f, %.3f] (bootstrap: %d resamples of the items, seed %d",
				ci.Confidence*100, ci.Low, ci.High, ci.Draws, ci.Seed)
			if ci.Skipped > 0 {
				fmt.Fprintf(stdout, "; %d without variation left out", ci.Skipped)
			}
			fmt.Fprintln(stdout, ")")
		}
	}
	fmt.Fprintf(stdout, "pairable values: %d, from %d of %d items (%d raters)\n", res.Pairable, res.PairableItems, res.Items, res.Raters)
	fmt.Fprintf(stdout, "percent agreement: %.1f %%\n", res.PercentAgreement*100)
	if err == nil {
		shown := math.Round(res.Alpha*1000) / 1000 // compare what is printed
		switch {
		case shown < agreement.MinTentative:
			fmt.Fprintf(stdout, "note: α below %.3f, too low even for tentative conclusions (Krippendorff asks for 0.800)\n", agreement.MinTentative)
		case shown < 0.8:
			fmt.Fprintf(stdout, "note: α between %.3f and 0.800, enough for tentative conclusions only\n", agreement.MinTentative)
		}
	}
	return nil
}

// readAlphaTable reads the CSV rows, checks that they all have the same
// number of cells and splits off the names.
func readAlphaTable(r io.Reader, comma rune, header, names bool) (*alphaTable, error) {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	t := &alphaTable{}
	var pos [][]int // line of each cell
	width, widthLine := -1, 0
	seen := map[string]int{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if first && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff") // a spreadsheet's byte-order mark
		}
		if width < 0 {
			width, widthLine = len(rec), line
		} else if len(rec) != width {
			return nil, fmt.Errorf("line %d: %s, but line %d has %d (every row needs a cell per item; leave a missing value empty)",
				line, cellCount(len(rec)), widthLine, width)
		}
		if first && header {
			if names {
				rec = rec[1:]
			}
			t.items = rec
			continue
		}
		if names {
			name := strings.TrimSpace(rec[0])
			if name == "" {
				return nil, fmt.Errorf("line %d: no rater name in the first column (--names)", line)
			}
			if prev, dup := seen[name]; dup {
				return nil, fmt.Errorf("line %d: rater %q already has a row on line %d", line, name, prev)
			}
			seen[name] = line
			t.raters = append(t.raters, name)
			rec = rec[1:]
		}
		lines := make([]int, len(rec))
		off := 0
		if names {
			off = 1
		}
		for i := range rec {
			lines[i], _ = cr.FieldPos(i + off)
		}
		t.cells = append(t.cells, rec)
		pos = append(pos, lines)
	}
	if len(t.cells) == 0 {
		return nil, errors.New("no rater rows")
	}
	t.lineOf = func(row, col int) int { return pos[row][col] }
	return t, nil
}

// values turns the cells into Alpha's table: labels for the nominal level,
// numbers otherwise; empty cells and the --missing texts are missing.
func (t *alphaTable) values(level agreement.Level, comma rune, absent map[string]bool) ([][]float64, error) {
	cells := make([][]string, len(t.cells))
	for r, row := range t.cells {
		cells[r] = make([]string, len(row))
		for i, c := range row {
			if c = strings.TrimSpace(c); !absent[c] {
				cells[r][i] = c
			}
		}
	}
	if level == agreement.Nominal {
		data, _ := agreement.Codes(cells)
		return data, nil
	}
	data := make([][]float64, len(cells))
	for r, row := range cells {
		data[r] = make([]float64, len(row))
		for i, c := range row {
			if c == "" {
				data[r][i] = agreement.Missing
				continue
			}
			num := c
			if comma != ',' {
				num = strings.Replace(num, ",", ".", 1) // decimal comma
			}
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return nil, t.cellError(r, i, fmt.Sprintf("%q is not a number (the %s level needs numbers)", c, level), true)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, t.cellError(r, i, fmt.Sprintf("%q is not a finite number", c), false)
			}
			data[r][i] = v
		}
	}
	return data, nil
}

// warnNames warns when, at the nominal level (where names cannot be told
// from labels), the first row or column looks like names rather than
// answers: every cell filled, all different, and none found elsewhere in the
// table.
func (t *alphaTable) warnNames(stderr io.Writer, header, names bool) {
	looksLikeNames := func(cells []string, elsewhere func(string) bool) bool {
		if len(cells) < 2 {
			return false
		}
		seen := map[string]bool{}
		for _, c := range cells {
			c = strings.TrimSpace(c)
			if c == "" || seen[c] || elsewhere(c) {
				return false
			}
			seen[c] = true
		}
		return true
	}
	if !header && len(t.cells) > 1 && looksLikeNames(t.cells[0], func(c string) bool {
		for _, row := range t.cells[1:] {
			for _, d := range row {
				if strings.TrimSpace(d) == c {
					return true
				}
			}
		}
		return false
	}) {
		fmt.Fprintf(stderr, "warning: line %d looks like item names (all different, found nowhere else); if it is, add --header\n", t.lineOf(0, 0))
	}
	if !names && len(t.cells[0]) > 1 {
		first := make([]string, len(t.cells))
		for r, row := range t.cells {
			first[r] = row[0]
		}
		if looksLikeNames(first, func(c string) bool {
			for _, row := range t.cells {
				for _, d := range row[1:] {
					if strings.TrimSpace(d) == c {
						return true
					}
				}
			}
			return false
		}) {
			fmt.Fprintln(stderr, "warning: the first column looks like rater names (all different, found nowhere else); if it is, add --names")
		}
	}
}

func (t *alphaTable) cellError(row, col int, msg string, hint bool) error {
	where := fmt.Sprintf("line %d, item %d", t.lineOf(row, col), col+1)
	if col < len(t.items) && strings.TrimSpace(t.items[col]) != "" {
		where += fmt.Sprintf(" (%q)", strings.TrimSpace(t.items[col]))
	}
	if len(t.raters) > 0 {
		where += fmt.Sprintf(", rater %q", t.raters[row])
	}
	switch {
	case hint && row == 0 && len(t.items) == 0:
		msg += " (if the first row names the items, add --header)"
	case hint && col == 0 && len(t.raters) == 0:
		msg += " (if the first column names the raters, add --names)"
	}
	return fmt.Errorf("%s: %s", where, msg)
}

func cellCount(n int) string {
	if n == 1 {
		return "1 cell"
	}
	return fmt.Sprintf("%d cells", n)
}
