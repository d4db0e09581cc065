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
// correctly, with a message that says how to convert them. A damaged file
// plays what is valid: junk is skipped, undecodable frames play as silence,
// and a file cut short plays up to the cut, then says why it stops there.
func FileSource(path string) (Source, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	ix, err := mp3frame.ScanLenient(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s is not a playable MP3: %w", path, err)
	}
	if err := ix.Profile(); err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", path, err)
	}
	info := infoFromIndex(ix)
	if n := len(ix.Damage); n > 0 {
		last := ix.Damage[n-1]
		if last.Frame < 0 && last.Offset+last.Length == ix.Size && last.Offset > ix.Offsets[len(ix.Offsets)-1] {
			info.Damage = fmt.Errorf("%s is damaged after %s: truncated (%s)", path, formatTime(ix.Duration()), last.Reason)
		}
	}
	return fileSource(path), info, nil
}

// formatTime renders a position as M:SS.
func formatTime(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
}

func infoFromIndex(ix mp3frame.Index) Info {
	return Info{Size: ix.Size, FrameOffsets: ix.Offsets, SampleRate: ix.SampleRate, SamplesPerFrame: ix.SamplesPerFrame,
		Channels: ix.Channels, Silenced: ix.Silenced}
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
	ix, err := mp3frame.ScanLenient(r)
	if err != nil {
		return Info{}, fmt.Errorf("not a playable MP3: %w", err)
	}
	if err := ix.Profile(); err != nil {
		return Info{}, err
	}
	return infoFromIndex(ix), nil
}

func checkInfo(info Info) error {
	switch {
	case info.frames() == 0:
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
