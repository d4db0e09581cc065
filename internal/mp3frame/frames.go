package mp3frame

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// FrameReader yields the indexed frames of a stream read from its first
// byte: bytes the index left out (tags, junk, a cut frame) are skipped, and
// the frames it marks silenced come out silenced (see Silence).
type FrameReader struct {
	r  *bufio.Reader
	ix *Index
	// ClearEmphasis clears each header's emphasis bits, for a decoder
	// (see ClearEmphasis).
	ClearEmphasis bool
	pos           int64
	next          int
	buf           []byte
}

// NewFrameReader reads the frames of ix from r, positioned at byte 0 of the
// stream ix was made from.
func (ix *Index) NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10), ix: ix}
}

// Next returns the next frame, valid until the following call, and its
// number; io.EOF after the last one.
func (f *FrameReader) Next() ([]byte, int, error) {
	if f.next >= len(f.ix.Offsets) {
		return nil, 0, io.EOF
	}
	off := f.ix.Offsets[f.next]
	if off < f.pos {
		return nil, 0, fmt.Errorf("frame %d at byte %d: index out of order", f.next, off)
	}
	if off > f.pos {
		n, err := f.r.Discard(int(off - f.pos))
		f.pos += int64(n)
		if err != nil {
			return nil, 0, f.short(err)
		}
	}
	hdr, err := f.r.Peek(4)
	if err != nil {
		return nil, 0, f.short(err)
	}
	h, err := ParseHeader(hdr)
	if err != nil {
		return nil, 0, fmt.Errorf("frame %d at byte %d: %w", f.next, off, err)
	}
	f.buf = slices.Grow(f.buf[:0], h.FrameSize)[:h.FrameSize]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, 0, f.short(err)
	}
	f.pos += int64(h.FrameSize)
	if _, ok := slices.BinarySearch(f.ix.Silenced, f.next); ok {
		Silence(h, f.buf)
	}
	if f.ClearEmphasis {
		ClearEmphasis(f.buf)
	}
	n := f.next
	f.next++
	return f.buf, n, nil
}

func (f *FrameReader) short(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("frame %d at byte %d: the stream ends before it", f.next, f.pos)
	}
	return fmt.Errorf("read frame %d: %w", f.next, err)
}

// Reader returns the frames back to back as one stream: the repaired copy
// of a damaged file (no tags, nothing between frames).
func (f *FrameReader) Reader() io.Reader { return &framesStream{f: f} }

type framesStream struct {
	f    *FrameReader
	rest []byte
	err  error
}

func (s *framesStream) Read(p []byte) (int, error) {
	for len(s.rest) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		b, _, err := s.f.Next()
		if err != nil {
			s.err = err
			return 0, err
		}
		s.rest = b
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}
