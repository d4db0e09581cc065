package demo

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/internal/mp3frame"
)

// The clips share one profile (MPEG-2 Layer III, 16 kHz mono, 32 kbps CBR)
// and were encoded without bit reservoir, so whole frames can be cut and
// concatenated into valid MP3 streams.
//
//go:embed audio/*.mp3
var audioFS embed.FS

const silenceName = "silence.mp3"

type clip struct {
	name  string
	data  []byte
	offs  []int64
	sizes []int
	peaks []byte // one per frame
}

// Library holds the clips, indexed and decoded once.
type Library struct {
	dialogues []clip
	silence   clip

	SampleRate, SamplesPerFrame, Channels, BitrateKbps int
}

// Segment is a run of frames [From, To) of one clip; Clip -1 is silence.
type Segment struct{ Clip, From, To int }

var (
	libOnce sync.Once
	lib     *Library
	libErr  error
)

// LoadLibrary indexes and decodes the embedded clips, once per process
// (decoding all of them takes about a second on one core).
func LoadLibrary() (*Library, error) {
	libOnce.Do(func() { lib, libErr = loadLibrary() })
	return lib, libErr
}

func loadLibrary() (*Library, error) {
	names, err := fs.Glob(audioFS, "audio/*.mp3")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	clips := make([]clip, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			clips[i], errs[i] = loadClip(n)
		}()
	}
	wg.Wait()
	l := &Library{}
	for i, c := range clips {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if c.name == silenceName {
			l.silence = c
		} else {
			l.dialogues = append(l.dialogues, c)
		}
	}
	if len(l.dialogues) == 0 || l.silence.data == nil {
		return nil, fmt.Errorf("demo audio: need dialogues and %s", silenceName)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(l.silence.data))
	if err != nil {
		return nil, err
	}
	l.SampleRate, l.SamplesPerFrame, l.Channels, l.BitrateKbps = ix.SampleRate, ix.SamplesPerFrame, ix.Channels, ix.BitrateKbps
	for _, c := range l.dialogues {
		cix, _ := mp3frame.Scan(bytes.NewReader(c.data))
		if cix.SampleRate != l.SampleRate || cix.SamplesPerFrame != l.SamplesPerFrame || cix.Channels != l.Channels {
			return nil, fmt.Errorf("demo audio %s: profile differs from %s", c.name, silenceName)
		}
	}
	return l, nil
}

func loadClip(name string) (clip, error) {
	data, err := audioFS.ReadFile(name)
	if err != nil {
		return clip{}, err
	}
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		return clip{}, fmt.Errorf("demo audio %s: %w", name, err)
	}
	c := clip{name: path.Base(name), data: data, offs: ix.Offsets, sizes: make([]int, len(ix.Offsets))}
	for i, o := range ix.Offsets {
		end := ix.Size
		if i+1 < len(ix.Offsets) {
			end = ix.Offsets[i+1]
		}
		h, err := mp3frame.ParseHeader(data[o:])
		if err != nil {
			return clip{}, err
		}
		c.sizes[i] = min(h.FrameSize, int(end-o))
	}
	// Decoding every clip costs over a second, at every demo start: use the
	// peaks computed in advance (clippeaks.go, checked by a test) when they
	// match, decode only a clip that changed since.
	if p, err := base64.StdEncoding.DecodeString(clipPeaks[c.name]); err == nil && len(p) == len(ix.Offsets) {
		c.peaks = p
		return c, nil
	}
	if c.peaks, err = framePeaks(data, ix); err != nil {
		return clip{}, fmt.Errorf("demo audio %s: %w", name, err)
	}
	return c, nil
}

// framePeaks decodes a clip and returns one peak per frame.
func framePeaks(data []byte, ix mp3frame.Index) ([]byte, error) {
	peaks, err := audio.Peaks(data, ix.SamplesPerFrame)
	if err != nil {
		return nil, err
	}
	// The decoder may emit one bucket more or less than there are frames.
	out := make([]byte, len(ix.Offsets))
	copy(out, peaks)
	return out, nil
}

// FrameDuration is the playing time of one frame.
func (l *Library) FrameDuration() time.Duration {
	return time.Duration(l.SamplesPerFrame) * time.Second / time.Duration(l.SampleRate)
}

func (l *Library) clip(i int) *clip {
	if i < 0 {
		return &l.silence
	}
	return &l.dialogues[i]
}

// Plan chooses the frames of a call lasting about target: a short silence,
// then dialogues separated by a second of silence, cut at a frame boundary.
// It returns the plan and its exact duration.
func (l *Library) Plan(r *rand.Rand, target time.Duration) ([]Segment, time.Duration) {
	fd := l.FrameDuration()
	need := int((target + fd - 1) / fd)
	var plan []Segment
	add := func(c, from, to int) {
		to = min(to, from+need)
		if to > from {
			plan = append(plan, Segment{c, from, to})
			need -= to - from
		}
	}
	add(-1, 0, 1+r.IntN(len(l.silence.offs)))
	prev := -1
	for need > 0 {
		c := r.IntN(len(l.dialogues))
		if c == prev && len(l.dialogues) > 1 {
			c = (c + 1) % len(l.dialogues)
		}
		prev = c
		add(c, 0, len(l.dialogues[c].offs))
		add(-1, 0, len(l.silence.offs))
	}
	n := 0
	for _, s := range plan {
		n += s.To - s.From
	}
	return plan, time.Duration(n) * fd
}

// Composed is a call's audio with its frame index and peaks.
type Composed struct {
	Data    []byte
	Offsets []int64
	Peaks   []byte // one per audio.Bucket
}

// Compose concatenates the planned frames. No decoding: peaks come from the
// per-frame peaks computed when the library was loaded.
func (l *Library) Compose(plan []Segment) Composed {
	frames, size := 0, 0
	for _, s := range plan {
		c := l.clip(s.Clip)
		frames += s.To - s.From
		for f := s.From; f < s.To; f++ {
			size += c.sizes[f]
		}
	}
	out := Composed{Data: make([]byte, 0, size), Offsets: make([]int64, 0, frames)}
	framePeaks := make([]byte, 0, frames)
	for _, s := range plan {
		c := l.clip(s.Clip)
		for f := s.From; f < s.To; f++ {
			out.Offsets = append(out.Offsets, int64(len(out.Data)))
			out.Data = append(out.Data, c.data[c.offs[f]:c.offs[f]+int64(c.sizes[f])]...)
		}
		framePeaks = append(framePeaks, c.peaks[s.From:s.To]...)
	}
	out.Peaks = audio.Rebucket(framePeaks, l.SamplesPerFrame, l.SampleRate)
	return out
}
