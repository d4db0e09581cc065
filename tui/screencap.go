package tui

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // captures are PNG or JPEG keyframes
	_ "image/png"
	"sort"
	"strings"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// A screen capture is drawn with half-block characters: each cell shows
// two pixels, the upper one as the foreground of "▀" and the lower one as
// its background, in 24-bit colour (Bubble Tea lowers it to what the
// terminal supports). It works in every terminal, tmux and SSH included.

// The thumbnail a capture is reduced to once, in a Cmd, so that drawing
// it at every frame costs a few thousand cells at most, whatever the
// capture's size: the keys stay responsive.
const (
	thumbMaxW = 160
	thumbMaxH = 90
	// capRows caps the rows a capture takes on screen.
	capRows = 18
)

// thumb is a capture reduced to at most thumbMaxW×thumbMaxH pixels.
type thumb struct {
	w, h int
	px   [][3]uint8 // row-major
}

// decodeThumb decodes a PNG or JPEG image and averages it down to a
// thumbnail that keeps its aspect ratio.
func decodeThumb(data []byte) (*thumb, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode screen capture: %w", err) // i18n: wrapped, the clip screen words it
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, errors.New("decode screen capture: empty image") // i18n: wrapped, the clip screen words it
	}
	scale := max(float64(b.Dx())/thumbMaxW, float64(b.Dy())/thumbMaxH, 1)
	t := &thumb{w: max(1, int(float64(b.Dx())/scale)), h: max(1, int(float64(b.Dy())/scale))}
	t.px = make([][3]uint8, t.w*t.h)
	for y := range t.h {
		y0, y1 := b.Min.Y+y*b.Dy()/t.h, b.Min.Y+(y+1)*b.Dy()/t.h
		for x := range t.w {
			x0, x1 := b.Min.X+x*b.Dx()/t.w, b.Min.X+(x+1)*b.Dx()/t.w
			var r, g, bl, n uint64
			for yy := y0; yy < max(y1, y0+1); yy++ {
				for xx := x0; xx < max(x1, x0+1); xx++ {
					cr, cg, cb, _ := img.At(xx, yy).RGBA()
					r, g, bl, n = r+uint64(cr>>8), g+uint64(cg>>8), bl+uint64(cb>>8), n+1
				}
			}
			t.px[y*t.w+x] = [3]uint8{uint8(r / n), uint8(g / n), uint8(bl / n)}
		}
	}
	return t, nil
}

// halfBlock draws the thumbnail in at most cols×rows cells, keeping its
// aspect ratio (a cell is about twice as high as wide: two pixels).
func (t *thumb) halfBlock(cols, rows int) string {
	if t == nil || cols <= 0 || rows <= 0 {
		return ""
	}
	w := cols
	h := w * t.h / t.w // pixel rows for this width
	if h > rows*2 {
		h = rows * 2
		w = max(1, h*t.w/t.h)
	}
	h = max(2, h+h%2)
	at := func(x, y int) [3]uint8 {
		return t.px[min(t.h-1, y*t.h/h)*t.w+min(t.w-1, x*t.w/w)]
	}
	var sb strings.Builder
	for y := 0; y < h; y += 2 {
		if y > 0 {
			sb.WriteByte('\n')
		}
		// A colour is written only when it changes: a flat area costs one
		// byte per cell more than its character.
		var lastU, lastD [3]uint8
		for x := range w {
			u, d := at(x, y), at(x, y+1)
			if x == 0 || u != lastU {
				fmt.Fprintf(&sb, "\x1b[38;2;%d;%d;%dm", u[0], u[1], u[2])
			}
			if x == 0 || d != lastD {
				fmt.Fprintf(&sb, "\x1b[48;2;%d;%d;%dm", d[0], d[1], d[2])
			}
			sb.WriteString("▀")
			lastU, lastD = u, d
		}
		sb.WriteString("\x1b[m")
	}
	return sb.String()
}

// captureAt is the index of the capture shown at pos: the last one at or
// before it (-1 before the first).
func captureAt(caps []*ecoutev1.ScreenCapture, pos time.Duration) int {
	return sort.Search(len(caps), func(i int) bool { return caps[i].GetOffset().AsDuration() > pos }) - 1
}
