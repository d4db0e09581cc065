package player

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
)

// FileSource opens a local MP3 file. It indexes the frames once (a read of
// the file without decoding) and refuses files go-mp3 would not decode
// correctly, with a message that says how to convert them.
func FileSource(path string) (Source, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	ix, err := mp3frame.Scan(bufio.NewReaderSize(f, 64<<10))
	var damage error
	if err != nil {
		// A file cut short or damaged further on still plays up to the
		// damage, and then says why it stops there.
		good, gerr := goodPrefix(f)
		if gerr != nil || len(good.Offsets) == 0 {
			return nil, Info{}, fmt.Errorf("%s is not a playable MP3: %w", path, err)
		}
		ix, damage = good, fmt.Errorf("%s is damaged after %s: %w", path, formatTime(good.Duration()), err)
	}
	if err := mp3frame.CheckProfile(ix.Header()); err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", path, err)
	}
	info := infoFromIndex(ix)
	info.Damage = damage
	return fileSource(path), info, nil
}

// goodPrefix indexes the frames of f up to the first one that is cut short,
// unreadable or of another format than the first.
func goodPrefix(f *os.File) (mp3frame.Index, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return mp3frame.Index{}, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var ix mp3frame.Index
	var off int64
	if p, _ := br.Peek(10); len(p) == 10 && string(p[:3]) == "ID3" {
		size := int64(p[6]&0x7f)<<21 | int64(p[7]&0x7f)<<14 | int64(p[8]&0x7f)<<7 | int64(p[9]&0x7f)
		total := 10 + size
		if p[5]&0x10 != 0 {
			total += 10
		}
		if n, err := br.Discard(int(total)); err != nil {
			return mp3frame.Index{}, fmt.Errorf("ID3v2 tag cut short at %d", n)
		}
		off = total
	}
	for {
		hdr, _ := br.Peek(4)
		if len(hdr) < 4 {
			break
		}
		h, err := mp3frame.ParseHeader(hdr)
		if err != nil {
			break
		}
		if len(ix.Offsets) == 0 {
			ix.Version, ix.SampleRate, ix.Channels = h.Version, h.SampleRate, h.Channels
			ix.BitrateKbps, ix.SamplesPerFrame = h.BitrateKbps, h.SamplesPerFrame
		} else if h.Version != ix.Version || h.SampleRate != ix.SampleRate {
			break
		}
		if n, _ := br.Discard(h.FrameSize); n != h.FrameSize {
			break
		}
		ix.Offsets = append(ix.Offsets, off)
		off += int64(h.FrameSize)
	}
	ix.Size = off
	return ix, nil
}

// formatTime renders a position as M:SS.
func formatTime(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
}

func infoFromIndex(ix mp3frame.Index) Info {
	return Info{Size: ix.Size, FrameOffsets: ix.Offsets, SampleRate: ix.SampleRate, SamplesPerFrame: ix.SamplesPerFrame}
}

type fileSource string

// Open returns a reader that deliberately hides the file's Seek: go-mp3 scans
// every frame of a seekable input before the first sample.
func (p fileSource) Open(ctx context.Context, offset int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(string(p))
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek %s to %d: %w", p, offset, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{f, f}, nil
}

// indexSource scans a source that came without a frame index.
func indexSource(ctx context.Context, src Source) (Info, error) {
	r, err := src.Open(ctx, 0)
	if err != nil {
		return Info{}, fmt.Errorf("open audio: %w", err)
	}
	defer r.Close()
	ix, err := mp3frame.Scan(r)
	if err != nil {
		return Info{}, fmt.Errorf("not a playable MP3: %w", err)
	}
	if err := mp3frame.CheckProfile(ix.Header()); err != nil {
		return Info{}, err
	}
	return infoFromIndex(ix), nil
}

func checkInfo(info Info) error {
	switch {
	case len(info.FrameOffsets) == 0:
		return errors.New("no MP3 frames")
	case info.SampleRate <= 0:
		return fmt.Errorf("invalid sample rate %d", info.SampleRate)
	case info.SamplesPerFrame <= 0:
		return fmt.Errorf("invalid samples per frame %d", info.SamplesPerFrame)
	}
	return nil
}

// duration of n frames.
func (info Info) framesDuration(n int) time.Duration {
	return time.Duration(int64(n) * int64(info.SamplesPerFrame) * int64(time.Second) / int64(info.SampleRate))
}
