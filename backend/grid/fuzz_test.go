package grid

import (
	"reflect"
	"testing"

	"github.com/ecoute/ecoute/internal/demo/grids"
)

// FuzzParseYAML: a grid file from anywhere never panics the parser; what it
// accepts is a valid grid within the limits, and writing it back gives the
// same grid.
func FuzzParseYAML(f *testing.F) {
	names, files, err := grids.Files()
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		f.Add(files[n])
	}
	f.Add([]byte("id: x\nname: X\nsections: [{id: s, title: S, weight: .nan, criteria: []}]\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseYAML(data)
		if err != nil {
			return
		}
		if err := Validate(g); err != nil {
			t.Fatalf("accepted an invalid grid: %v", err)
		}
		out, err := MarshalYAML(g)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseYAML(out)
		if err != nil {
			t.Fatalf("its own YAML refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, g) {
			t.Fatalf("round trip changed the grid:\n%+v\n%+v", g, back)
		}
	})
}
