package audio

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
)

// referencePeaks decodes data with go-mp3 in one pass, no memo, and buckets
// its samples as PeaksOf does.
func referencePeaks(t *testing.T, data []byte, per int) (mix []byte, ch [2][]byte) {
	t.Helper()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	b := bucketer{per: per}
	b.add(pcm)
	b.flush()
	return b.mix, b.ch
}

// Frames seen before in the same order are not decoded again, and the
// peaks are exactly those of a full decode: a recording made of a short
// piece repeated decodes that piece about once.
func TestPeaksMemoMatchesFullDecode(t *testing.T) {
	piece, err := os.ReadFile("../../player/testdata/markers.mp3") // no bit reservoir, 4 s
	if err != nil {
		t.Fatal(err)
	}
	tail, err := os.ReadFile("../../player/testdata/sweep.mp3")
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for range 30 { // two minutes
		data = append(data, piece...)
	}
	data = append(data, tail...)
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	const per = 800
	mix, ch, decoded, err := peaksOf(bytes.NewReader(data), &ix, per, memoFrames)
	if err != nil {
		t.Fatal(err)
	}
	wantMix, wantCh := referencePeaks(t, data, per)
	if !bytes.Equal(mix, wantMix) || !bytes.Equal(ch[0], wantCh[0]) || !bytes.Equal(ch[1], wantCh[1]) {
		t.Fatalf("memoised peaks differ from a full decode (%d vs %d buckets)", len(mix), len(wantMix))
	}
	pieceFrames := len(ix.Offsets) - 56 // the sweep's frames
	if decoded > len(ix.Offsets)/10 {
		t.Errorf("decoded %d of %d frames: the memo did not work", decoded, len(ix.Offsets))
	}
	t.Logf("decoded %d of %d frames (one piece is %d)", decoded, len(ix.Offsets), pieceFrames/30)
	// Without the memo every frame is decoded, and the peaks are the same.
	plain, _, n, err := peaksOf(bytes.NewReader(data), &ix, per, 0)
	if err != nil || !bytes.Equal(plain, wantMix) || n != len(ix.Offsets) {
		t.Errorf("without memo: %d decoded, same peaks %v, %v", n, bytes.Equal(plain, wantMix), err)
	}
}

// The memo never serves frames whose audio starts in earlier frames' bytes
// (a bit reservoir): a stream with one decodes as a whole.
func TestPeaksWithReservoir(t *testing.T) {
	data, err := os.ReadFile("../../testdata/conformance/mp3/l3-sin1k0db.bit")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := mp3frame.ScanLenient(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := io.ReadAll(ix.NewFrameReader(bytes.NewReader(data)).Reader())
	if err != nil {
		t.Fatal(err)
	}
	rix, err := mp3frame.Scan(bytes.NewReader(rep))
	if err != nil {
		t.Fatal(err)
	}
	mix, _, _, err := peaksOf(bytes.NewReader(rep), &rix, 2205, memoFrames)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := referencePeaks(t, rep, 2205)
	if !bytes.Equal(mix, want) {
		t.Errorf("peaks of a stream with a bit reservoir differ from a full decode")
	}
}

func TestPeakWindow(t *testing.T) {
	peaks := make([]byte, 1000) // 50 s at 50 ms
	for i := range peaks {
		peaks[i] = byte(i % 200)
	}
	left, right := bytes.Clone(peaks), make([]byte, 1000)
	ms := time.Millisecond
	// The whole call in at most 100 buckets: 10 stored per bucket, maxima.
	w := PeakWindow(peaks, [][]byte{left, right}, 50*ms, 0, 0, 100)
	if len(w.Peaks) != 100 || w.Bucket != 500*ms || w.From != 0 || w.Peaks[0] != 9 || w.Peaks[99] != 199 {
		t.Fatalf("whole: %d peaks of %v from %v, first %d last %d", len(w.Peaks), w.Bucket, w.From, w.Peaks[0], w.Peaks[99])
	}
	if len(w.Channels) != 2 || !bytes.Equal(w.Channels[0], w.Peaks) || w.Channels[1][50] != 0 {
		t.Errorf("channels %d, left = mix %v", len(w.Channels), bytes.Equal(w.Channels[0], w.Peaks))
	}
	// A range, finer than stored: the stored resolution, from a bucket's
	// start.
	w = PeakWindow(peaks, nil, 50*ms, 10*time.Second+20*ms, 11*time.Second, 1000)
	if w.From != 10*time.Second || w.Bucket != 50*ms || len(w.Peaks) != 20 || w.Peaks[0] != 0 || w.Channels != nil {
		t.Errorf("range: from %v, %d of %v, first %d", w.From, len(w.Peaks), w.Bucket, w.Peaks[0])
	}
	// Asks for the stored resolution get it, a page of at most
	// MaxWaveformBuckets at a time; asks for more buckets get at most
	// MaxWaveformBuckets, coarser.
	long := make([]byte, 3*MaxWaveformBuckets+5)
	if w := PeakWindow(long, nil, 50*ms, 0, 0, 0); len(w.Peaks) != MaxWaveformBuckets || w.Bucket != 50*ms {
		t.Errorf("stored resolution: %d peaks of %v", len(w.Peaks), w.Bucket)
	}
	last := time.Duration(3*MaxWaveformBuckets) * 50 * ms
	if w := PeakWindow(long, nil, 50*ms, last, 0, 0); len(w.Peaks) != 5 || w.From != last {
		t.Errorf("last page: %d peaks from %v", len(w.Peaks), w.From)
	}
	if w := PeakWindow(long, nil, 50*ms, 0, 0, 1<<20); len(w.Peaks) > MaxWaveformBuckets || w.Bucket != 200*ms {
		t.Errorf("too many buckets asked: %d peaks of %v", len(w.Peaks), w.Bucket)
	}
	if w := PeakWindow(peaks, nil, 50*ms, time.Hour, 0, 10); len(w.Peaks) != 0 {
		t.Errorf("past the end: %d peaks", len(w.Peaks))
	}
}
