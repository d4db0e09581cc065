package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// EncodeOffsets packs ascending frame offsets as uvarint deltas: a constant
// bitrate file costs one or two bytes a frame instead of eight.
func EncodeOffsets(offsets []int64) ([]byte, error) {
	buf := make([]byte, 0, len(offsets)*2+binary.MaxVarintLen64)
	var prev int64
	for i, o := range offsets {
		if o < prev {
			return nil, fmt.Errorf("frame offset %d (%d) goes backwards", i, o)
		}
		buf = binary.AppendUvarint(buf, uint64(o-prev))
		prev = o
	}
	return buf, nil
}

// DecodeOffsets is the inverse of EncodeOffsets.
func DecodeOffsets(b []byte) ([]int64, error) {
	out := make([]int64, 0, len(b))
	var prev int64
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("corrupt frame offsets")
		}
		prev += int64(d)
		out = append(out, prev)
		b = b[n:]
	}
	return out, nil
}
