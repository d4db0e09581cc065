package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/grid"
)

const gridUsage = `Usage: ecouted [--data DIR] grid <command>

Commands:
  import FILE            read an evaluation grid from YAML and store it; editing a grid
                         that evaluations use makes a new version (they keep theirs)
  export ID [--version N]  print a grid as YAML (default: its latest version)
  list                   list the grids (latest versions)

The YAML form is the one of internal/demo/grids/*.yaml. Errors name the line.
`

func cmdGrid(data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stderr, gridUsage)
		if len(args) == 0 {
			return errors.New("missing grid command")
		}
		return nil
	}
	switch args[0] {
	case "import":
		return cmdGridImport(data, args[1:], stdout, stderr)
	case "export":
		return cmdGridExport(data, args[1:], stdout, stderr)
	case "list":
		return cmdGridList(data, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown grid command %q (import, export, list)", args[0])
}

func cmdGridImport(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("grid import", "grid import FILE", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("grid import: give one YAML file")
	}
	file := fs.Arg(0)
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("grid import: %w", err)
	}
	// Validate before opening the data directory, so a typo is reported
	// even without one.
	if _, err := grid.ParseYAML(b); err != nil {
		var ps grid.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintf(stderr, "%s:%s\n", safe(file), safe(p.String()))
			}
			return fmt.Errorf("grid import: %d problem(s) in %s", len(ps), file)
		}
		return fmt.Errorf("grid import %s: %w", file, err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	rec, isNew, err := app.Core().SaveGrid(ctx, core.Local(), core.GridSource{YAML: b})
	if err != nil {
		return fmt.Errorf("grid import %s: %w", file, err)
	}
	what := "updated in place (no evaluation uses it yet)"
	if isNew {
		what = "stored as a new version"
	}
	fmt.Fprintf(stdout, "grid %s version %d %s: %d sections, %d criteria\n", safe(rec.Grid.ID), rec.Grid.Version, what,
		len(rec.Grid.Sections), rec.Grid.CriterionCount())
	return nil
}

func cmdGridExport(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("grid export", "grid export ID [--version N]", stderr)
	version := fs.Int("version", 0, "the version to export (default: the latest)")
	// The id comes first: pick it off so the flags may follow it.
	var id string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if id == "" {
		return errors.New("grid export: give a grid id (see ecouted grid list)")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	b, err := app.Core().ExportGrid(ctx, id, *version)
	if err != nil {
		return fmt.Errorf("grid export: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}

func cmdGridList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("grid list", "grid list", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	recs, err := app.Core().ListGrids(ctx)
	if err != nil {
		return fmt.Errorf("grid list: %w", err)
	}
	for _, r := range recs {
		dir := r.Grid.Direction
		if dir == "" {
			dir = "any"
		}
		fmt.Fprintf(stdout, "%-20s v%-3d %-9s %s\n", safe(r.Grid.ID), r.Grid.Version, safe(dir), safe(r.Grid.Name))
	}
	return nil
}
