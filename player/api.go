// Package player plays MP3 recordings through beep's speaker, or through a
// null output that advances with the clock where no sound device opens.
//
// It knows nothing of gRPC or Bubble Tea: a Source hands it the MP3 bytes
// from any byte offset, and events come back on a channel.
package player

import (
	"context"
	"io"
	"time"
)

// Source opens the MP3 bytes of one recording from a byte offset to the end.
// The returned reader need not be seekable; closing it stops the transfer.
type Source interface {
	Open(ctx context.Context, offset int64) (io.ReadCloser, error)
}

// Info describes the recording behind a Source. FrameOffsets is the byte
// offset of every MP3 frame (from the backend, computed at ingestion); when
// it is nil the player builds it by scanning the source once.
type Info struct {
	Size            int64
	FrameOffsets    []int64
	SampleRate      int
	SamplesPerFrame int
	// Peaks (0..255 of full scale, one per PeakBucket; from GetWaveform)
	// locate the silences. When nil, the first silence jump computes them
	// by decoding the source once.
	Peaks      []byte
	PeakBucket time.Duration
	// Damage, when set, says why the frames stop where they do (a local
	// file cut short): playback goes up to it, then ends with this error.
	Damage error
}

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
}

// OutputKind says where samples go.
type OutputKind string

// The outputs.
const (
	OutputSpeaker OutputKind = "speaker"
	OutputNull    OutputKind = "silent"
)
