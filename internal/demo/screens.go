package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"time"
)

// Screen captures of the demo (R11): pictures of a customer-relationship
// application as an agent's screen would show it during a call, drawn from
// blocks (no text, so no font and no personal data). Each one is
// different, and carries its own position on the call's clock twice: as a
// progress bar, and as 16 black or white squares (the second, in binary,
// most significant first) along its bottom edge.

// ScreenSize is the size of the demo's captures.
const (
	ScreenWidth  = 640
	ScreenHeight = 360
)

// ScreenEvery is how often the demo captures the screen.
const ScreenEvery = 5 * time.Second

var (
	screenBG     = color.RGBA{0xec, 0xef, 0xf4, 0xff}
	screenHeader = color.RGBA{0x1f, 0x3a, 0x5f, 0xff}
	screenSide   = color.RGBA{0xd5, 0xdb, 0xe5, 0xff}
	screenActive = color.RGBA{0x3d, 0x7e, 0xc9, 0xff}
	screenLabel  = color.RGBA{0x9a, 0xa5, 0xb4, 0xff}
	screenField  = color.RGBA{0xff, 0xff, 0xff, 0xff}
	screenValue  = color.RGBA{0x3b, 0x44, 0x52, 0xff}
	screenAlert  = color.RGBA{0xe0, 0x8a, 0x1e, 0xff}
	screenOK     = color.RGBA{0x3f, 0x9e, 0x5a, 0xff}
)

// Screen draws the capture at position at of a call that lasts dur; seed
// makes each call's screens its own. It returns PNG bytes.
func Screen(seed uint64, at, dur time.Duration) []byte {
	img := image.NewRGBA(image.Rect(0, 0, ScreenWidth, ScreenHeight))
	fill := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{C: c}, image.Point{}, draw.Src)
	}
	fill(0, 0, ScreenWidth, ScreenHeight, screenBG)
	fill(0, 0, ScreenWidth, 36, screenHeader)
	// The application's tabs: the agent moves through them as the call goes.
	step := int(at / (20 * time.Second))
	for i := range 5 {
		c := screenSide
		if i == step%5 {
			c = screenActive
		}
		fill(8, 48+i*34, 120, 74+i*34, c)
	}
	// A form whose values fill in as the call goes.
	x := xorshift(seed ^ uint64(step+1)*0x9e3779b97f4a7c15)
	filled := int(at/ScreenEvery) + 1
	for row := range 6 {
		y := 52 + row*38
		fill(140, y, 250, y+10, screenLabel)
		fill(140, y+14, 620, y+32, screenField)
		if row < filled {
			w := 80 + int(x.next()%300)
			fill(146, y+18, 146+w, y+28, screenValue)
		}
	}
	status := screenAlert
	if at > dur/2 {
		status = screenOK
	}
	fill(560, 8, 628, 28, status)
	// The position: a progress bar and the second in binary.
	frac := 0.0
	if dur > 0 {
		frac = min(1, float64(at)/float64(dur))
	}
	fill(0, ScreenHeight-30, ScreenWidth, ScreenHeight-22, screenSide)
	fill(0, ScreenHeight-30, int(frac*ScreenWidth), ScreenHeight-22, screenActive)
	sec := int(at / time.Second)
	for bit := range 16 {
		c := color.RGBA{0xff, 0xff, 0xff, 0xff}
		if sec&(1<<(15-bit)) != 0 {
			c = color.RGBA{0, 0, 0, 0xff}
		}
		fill(8+bit*20, ScreenHeight-18, 24+bit*20, ScreenHeight-2, c)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

// ScreenSecond reads back the second a demo capture shows (its squares).
func ScreenSecond(img image.Image) int {
	sec := 0
	for bit := range 16 {
		r, _, _, _ := img.At(16+bit*20, ScreenHeight-10).RGBA()
		sec <<= 1
		if r < 0x8000 {
			sec |= 1
		}
	}
	return sec
}

type xorshift uint64

func (x *xorshift) next() uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint64(*x)
}
