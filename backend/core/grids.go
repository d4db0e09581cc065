package core

import (
	"context"
	"errors"
	"strconv"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/store"
)

// ActionGridSave is the audit action of a grid saved.
const ActionGridSave = "grid.save"

// ListGrids returns the latest version of every grid, by name.
func (b *Backend) ListGrids(ctx context.Context) ([]store.GridRecord, error) {
	recs, err := b.Store.ListGrids(ctx)
	if err != nil {
		return nil, domain.Internal("list grids", err)
	}
	return recs, nil
}

// GetGrid returns one version of a grid (0 = the latest).
func (b *Backend) GetGrid(ctx context.Context, id string, version int) (store.GridRecord, error) {
	if id == "" {
		return store.GridRecord{}, domain.Invalid("grid_id", "is required")
	}
	if err := limits.ID("grid_id", id); err != nil {
		return store.GridRecord{}, err
	}
	if version < 0 {
		return store.GridRecord{}, domain.Invalid("version", "must not be negative")
	}
	return b.grid(ctx, id, version)
}

func (b *Backend) grid(ctx context.Context, id string, version int) (store.GridRecord, error) {
	r, err := b.Store.GetGrid(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) && version == 0 {
		return store.GridRecord{}, domain.NotFound("grid %s not found", id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.GridRecord{}, domain.NotFound("grid %s version %d not found", id, version)
	}
	if err != nil {
		return store.GridRecord{}, domain.Internal("get grid", err)
	}
	return r, nil
}

// GridSource is a grid to save: as a value, or in its YAML form (the form
// `ecouted grid import` reads). Exactly one is given.
type GridSource struct {
	Grid *grid.Grid
	YAML []byte
}

// problems turns a grid's problems into field violations under field.
func problems(field string, err error) error {
	var ps grid.Problems
	if !errors.As(err, &ps) {
		return domain.Invalid(field, "%v", err)
	}
	fs := make([]domain.FieldViolation, len(ps))
	for i, p := range ps {
		fs[i] = domain.FieldViolation{Field: field, Description: p.String()}
		if field == "grid" {
			fs[i] = domain.FieldViolation{Field: "grid." + p.Path, Description: p.Msg}
		}
	}
	return domain.Problems(field+": "+err.Error(), fs)
}

// ParseGrid checks a grid source and returns the grid it holds.
func ParseGrid(src GridSource) (grid.Grid, error) {
	switch {
	case len(src.YAML) > 0 && src.Grid != nil:
		return grid.Grid{}, domain.Invalid("grid", "give grid or yaml, not both")
	case len(src.YAML) > 0:
		g, err := grid.ParseYAML(src.YAML)
		if err != nil {
			return grid.Grid{}, problems("yaml", err)
		}
		return g, nil
	case src.Grid != nil:
		if err := grid.Validate(*src.Grid); err != nil {
			return grid.Grid{}, problems("grid", err)
		}
		return *src.Grid, nil
	}
	return grid.Grid{}, domain.Invalid("grid", "grid or yaml is required")
}

// SaveGrid validates and stores a grid: a new grid, an edit in place of its
// latest version, or a new version when an evaluation uses the latest
// (newVersion says which).
func (b *Backend) SaveGrid(ctx context.Context, c Caller, src GridSource) (rec store.GridRecord, newVersion bool, err error) {
	type saved struct {
		rec   store.GridRecord
		isNew bool
	}
	s, err := once(ctx, b, c, "grid.save", ActionGridSave,
		func(ctx context.Context) (saved, entry, error) {
			g, err := ParseGrid(src)
			if err != nil {
				return saved{}, entry{}, err
			}
			e := entry{target: g.ID}
			by := c.User.ID
			if by == "" {
				by = c.User.Login // the command line's operator
			}
			rec, isNew, err := b.Store.SaveGrid(ctx, g, by, b.Clock.Now())
			if err != nil {
				return saved{}, e, domain.Internal("save grid", err)
			}
			e.details = map[string]string{"version": strconv.Itoa(rec.Grid.Version), "new_version": strconv.FormatBool(isNew)}
			return saved{rec, isNew}, e, nil
		},
		func(ctx context.Context, r store.Request) (saved, error) {
			rec, err := b.grid(ctx, r.ObjectID, 0)
			return saved{rec, r.Count == 1}, err
		})
	return s.rec, s.isNew, err
}

// ExportGrid writes a grid version (0 = the latest) in its YAML form.
func (b *Backend) ExportGrid(ctx context.Context, id string, version int) ([]byte, error) {
	r, err := b.GetGrid(ctx, id, version)
	if err != nil {
		return nil, err
	}
	out, err := grid.MarshalYAML(r.Grid)
	if err != nil {
		return nil, domain.Internal("export grid", err)
	}
	return out, nil
}
