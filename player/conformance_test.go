package player

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/ecoute/ecoute/internal/conformance"
)

// decodeAll decodes a whole source at its own rate through the decode
// boundary, from start.
func decodeAll(t testing.TB, src Source, info Info, start int64) ([][2]float64, error) {
	t.Helper()
	var got [][2]float64
	err := decode(context.Background(), src, info, segment{start: start, speed: 1}, info.SampleRate, func(c chunk) bool {
		got = append(got, c.samples...)
		return true
	})
	return got, err
}

// Every conformance stream the player accepts plays whole and matches its
// reference decode; the others are refused with a reason.
func TestConformanceStreams(t *testing.T) {
	streams, err := conformance.Streams(conformance.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		t.Run(s.Name, func(t *testing.T) {
			src, info, err := FileSource(filepath.Join(conformance.Dir(), s.Name+".bit"))
			if err != nil {
				t.Logf("refused: %v", err)
				return
			}
			got, err := decodeAll(t, src, info, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if s.NoRef {
				return
			}
			ch, ix, err := conformance.Layout(s.Bit)
			if err != nil {
				t.Fatal(err)
			}
			ref := conformance.Stereo(s.Ref, conformance.RefFrames(ch, ix.Silenced), ix.SamplesPerFrame)
			m := conformance.Compare(conformance.DropFrames(got, ix.Silenced, ix.SamplesPerFrame), ref, 2*ix.SamplesPerFrame)
			t.Logf("%s: %d samples, reference %d: %v", s.Name, len(got), len(ref), m)
			if len(ref) > 0 && !m.Good() {
				t.Errorf("does not match its reference: %v", m)
			}
		})
	}
}

// Every seek starts clean: decoding from a position gives the samples the
// whole decode has there, from the first one — also at 8 kbit/s, where the
// bit reservoir reaches back dozens of frames (a fixed preroll of three
// frames left a full-scale click in the first milliseconds).
func TestSeekStartsClean(t *testing.T) {
	streams, err := conformance.Streams(conformance.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		src, info, err := FileSource(filepath.Join(conformance.Dir(), s.Name+".bit"))
		if err != nil {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			whole, err := decodeAll(t, src, info, 0)
			if err != nil {
				t.Fatal(err)
			}
			rate := int64(info.SampleRate)
			spf := int64(info.SamplesPerFrame)
			var starts []int64
			for _, at := range []int64{rate / 2, int64(len(whole)) / 3, int64(len(whole)) * 2 / 3, 7*spf + 100, int64(len(whole)) - spf - 7} {
				if at > 0 && at < int64(len(whole)) {
					starts = append(starts, at)
				}
			}
			for _, at := range starts {
				got, err := decodeAll(t, src, info, at)
				if err != nil {
					t.Fatalf("from %d: %v", at, err)
				}
				want := whole[at:]
				if len(got) != len(want) {
					t.Fatalf("from sample %d: %d samples, want %d", at, len(got), len(want))
				}
				worst, where := 0.0, 0
				for i := range want {
					for c := range 2 {
						if d := math.Abs(got[i][c] - want[i][c]); d > worst {
							worst, where = d, i
						}
					}
				}
				if worst > 1e-9 {
					t.Errorf("from sample %d (%.3f s): differs by %.4f of full scale at +%.2f ms", at, float64(at)/float64(rate), worst, float64(where)*1000/float64(rate))
				}
			}
		})
	}
}
