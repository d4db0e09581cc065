// Package player plays MP3 recordings through beep's speaker, or through a
// null output that advances with the clock where no sound device opens.
//
// It knows nothing of gRPC or Bubble Tea: a Source hands it the MP3 bytes
// from any byte offset, and events come back on a channel.
package player

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Source opens the MP3 bytes of one recording from a byte offset to the end.
// The returned reader need not be seekable; closing it stops the transfer.
type Source interface {
	Open(ctx context.Context, offset int64) (io.ReadCloser, error)
}

// Info describes the recording behind a Source. The frame index (Index, or
// FrameOffsets when Index is nil) gives the byte offset of every MP3 frame
// (from the backend, computed at ingestion); when both are nil the player
// builds it by scanning the source once.
type Info struct {
	Size int64
	// FrameOffsets is the whole index in memory (a local file, a short
	// recording).
	FrameOffsets []int64
	// Index serves the offsets on demand (a long recording whose index
	// comes from the server page by page). It wins over FrameOffsets.
	Index           FrameIndex
	SampleRate      int
	SamplesPerFrame int
	// Channels is 2 for a stereo recording: a two-party call, one party
	// per channel (see Controls.SetBalance). 0 is read as 1.
	Channels int
	// Peaks (0..255 of full scale, one per PeakBucket; from GetWaveform)
	// locate the silences. When nil, PeaksFunc is asked for them the first
	// time they are needed, and when that is nil too the first silence
	// jump computes them by decoding the source once.
	Peaks      []byte
	PeakBucket time.Duration
	PeaksFunc  func(ctx context.Context) (peaks []byte, bucket time.Duration, err error)
	// Silenced lists frames (numbers in the index) whose audio cannot be
	// decoded (a damaged local file): they play as silence.
	Silenced []int
	// Damage, when set, says why the frames stop where they do (a local
	// file cut short): playback goes up to it, then ends with this error.
	Damage error
}

// FrameIndex tells where frames are in the source, for an index that is not
// held in memory whole.
type FrameIndex interface {
	// Frames is the number of frames in the recording.
	Frames() int
	// Offsets returns the byte offsets of frames [from, from+n), fewer at
	// the end of the recording.
	Offsets(ctx context.Context, from, n int) ([]int64, error)
}

// sliceIndex is a FrameIndex held in memory.
type sliceIndex []int64

func (s sliceIndex) Frames() int { return len(s) }

func (s sliceIndex) Offsets(_ context.Context, from, n int) ([]int64, error) {
	if from < 0 || from > len(s) {
		return nil, fmt.Errorf("frame %d is outside the index (%d frames)", from, len(s))
	}
	return s[from:min(len(s), from+n)], nil
}

// index is the frame index, whichever way it was given.
func (info Info) index() FrameIndex {
	if info.Index != nil {
		return info.Index
	}
	return sliceIndex(info.FrameOffsets)
}

// frames is the number of frames in the recording.
func (info Info) frames() int { return info.index().Frames() }

// EventKind says what happened to a track.
type EventKind int

// The events a Track reports.
const (
	EventPlaying     EventKind = iota + 1 // playback started or resumed
	EventPaused                           // paused by the user
	EventEnded                            // reached the end of the recording
	EventError                            // decoding or transfer failed; Err says why
	EventFirstSample                      // the first samples after Play or Seek reached the output
)

// Event is sent on Track.Events.
type Event struct {
	Kind     EventKind
	Position time.Duration
	Err      error
}

// Track is one recording loaded into the engine.
type Track interface {
	Play()
	Pause()
	Toggle()
	// Seek moves to an absolute position, clamped to [0, Duration].
	Seek(pos time.Duration)
	Position() time.Duration
	Duration() time.Duration
	Playing() bool
	// Events is closed by Close.
	Events() <-chan Event
	Close() error
}

// Controls are the listening aids of a track opened on an Engine: speed,
// volume, A–B loop and silence jumps. Every method returns at once; changes
// are heard within the decode buffer (a few hundred milliseconds).
type Controls interface {
	// SetSpeed changes the tempo without changing the pitch; s is rounded
	// to a quarter and clamped to [MinSpeed, MaxSpeed].
	SetSpeed(s float64)
	Speed() float64
	// SetVolume sets the gain in dB, clamped to [MinVolumeDB, MaxVolumeDB].
	SetVolume(db float64)
	Volume() float64
	SetMuted(muted bool)
	Muted() bool
	// SetLoop plays [a, b) over and over; b <= a turns the loop off. The
	// loop is at least MinLoop long.
	SetLoop(a, b time.Duration)
	Loop() (a, b time.Duration, ok bool)
	// SkipSilence moves to where speech resumes after the next (forward)
	// or previous silence; false when there is none that way.
	SkipSilence(forward bool) (time.Duration, bool)
	// SetBalance weighs the two parties of a stereo (two-party)
	// recording, one per channel: -1 plays only the left one, 1 only the
	// right one, 0 both at full level. It is clamped to [-1, 1] and
	// rounded to BalanceStep.
	SetBalance(b float64)
	Balance() float64
	// SetPartyMuted silences one party (0: left channel, 1: right
	// channel) without touching the other. The channels stay apart in
	// the output: a muted party's channel is silent.
	SetPartyMuted(party int, muted bool)
	PartyMuted(party int) bool
	// Parties is 2 for a two-party (stereo) recording, 1 otherwise; the
	// party controls do nothing on one party.
	Parties() int
}

// OutputKind says where samples go.
type OutputKind string

// The outputs.
const (
	OutputSpeaker OutputKind = "speaker"
	OutputNull    OutputKind = "silent"
)
