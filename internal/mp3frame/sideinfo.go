package mp3frame

import (
	"errors"
	"fmt"
)

// MaxReservoir is the furthest back a frame's main data may begin, in bytes:
// main_data_begin has 9 bits in MPEG-1, 8 in MPEG-2 and 2.5.
func MaxReservoir(version int) int {
	if version == MPEG1 {
		return 511
	}
	return 255
}

// SideInfo is what this package reads of a frame's side information.
type SideInfo struct {
	// MainDataBegin is how many bytes before the frame's own main data its
	// audio begins: bytes lent by earlier frames (the bit reservoir).
	MainDataBegin int
	// Part23Bits is the total length of the granules' coded data.
	Part23Bits int
}

// ErrSideInfo means the side information cannot describe a real frame
// (a damaged frame): decoding it plays garbage or fails.
var ErrSideInfo = errors.New("invalid side information")

// ReadSideInfo parses the side information of frame (header included) and
// checks it as the ISO reference decoder and minimp3 do: big_values at most
// 288, no window switching with block type 0, and coded data that fits in
// the bytes the frame and its reservoir hold.
func ReadSideInfo(h Header, frame []byte) (SideInfo, error) {
	off := 4
	if h.CRC {
		off += 2
	}
	n := h.SideInfoSize()
	if len(frame) < off+n {
		return SideInfo{}, fmt.Errorf("%w: frame of %d bytes is shorter than its side information", ErrSideInfo, len(frame))
	}
	br := bitReader{b: frame[off : off+n]}
	var si SideInfo
	nch := h.Channels
	if h.Version == MPEG1 {
		si.MainDataBegin = br.read(9)
		if nch == 1 {
			br.read(5)
		} else {
			br.read(3)
		}
		br.read(4 * nch) // scfsi
	} else {
		si.MainDataBegin = br.read(8)
		br.read(nch) // private bits
	}
	for gr := range h.Granules() {
		for ch := range nch {
			part23 := br.read(12)
			bigValues := br.read(9)
			br.read(8) // global_gain
			if h.Version == MPEG1 {
				br.read(4)
			} else {
				br.read(9)
			}
			if br.read(1) == 1 { // window switching
				blockType := br.read(2)
				if blockType == 0 {
					return si, fmt.Errorf("%w: granule %d channel %d switches windows with block type 0", ErrSideInfo, gr, ch)
				}
				br.read(1 + 10 + 9)
			} else {
				br.read(15 + 4 + 3)
			}
			if h.Version == MPEG1 {
				br.read(1) // preflag
			}
			br.read(2)
			if bigValues > 288 {
				return si, fmt.Errorf("%w: granule %d channel %d has big_values %d (at most 288)", ErrSideInfo, gr, ch, bigValues)
			}
			si.Part23Bits += part23
		}
	}
	if avail := (h.MainDataSize() + si.MainDataBegin) * 8; si.Part23Bits > avail {
		return si, fmt.Errorf("%w: %d bits of coded audio in %d bits of main data", ErrSideInfo, si.Part23Bits, avail)
	}
	return si, nil
}

// MainDataBegin reads only the reservoir pointer of frame (header included).
func MainDataBegin(h Header, frame []byte) int {
	off := 4
	if h.CRC {
		off += 2
	}
	if len(frame) < off+2 {
		return 0
	}
	if h.Version == MPEG1 {
		return int(frame[off])<<1 | int(frame[off+1]>>7)
	}
	return int(frame[off])
}

// Silence rewrites a frame's side information in place so that it decodes
// to silence: every granule empty, the reservoir pointer kept, so that the
// main-data bytes it holds for later frames stay where they expect them.
// The repair of a frame whose own audio cannot be decoded.
func Silence(h Header, frame []byte) {
	off := 4
	if h.CRC {
		off += 2
	}
	n := h.SideInfoSize()
	if len(frame) < off+n {
		return
	}
	mdb := MainDataBegin(h, frame)
	clear(frame[off : off+n])
	if h.Version == MPEG1 {
		frame[off] = byte(mdb >> 1)
		frame[off+1] = byte(mdb&1) << 7
	} else {
		frame[off] = byte(mdb)
	}
}

// bitReader reads big-endian bit fields; past the end it reads zeros.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) read(n int) int {
	v := 0
	for range n {
		bit := 0
		if i := r.pos >> 3; i < len(r.b) {
			bit = int(r.b[i]>>(7-uint(r.pos&7))) & 1
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}
