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

// OutputKind says where samples go.
type OutputKind string

// The outputs.
const (
	OutputSpeaker OutputKind = "speaker"
	OutputNull    OutputKind = "silent"
)
