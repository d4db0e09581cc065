package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the formats a capture may be in
	_ "image/png"
	"io"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/store"
)

// Screen captures (R11): the agent's screen during a recorded call, as
// keyframes on the call's clock, uploaded by the telephony side beside the
// audio, encrypted at rest in the blob store, deleted with the recording,
// and shown only to a trainer inside a coaching session that includes the
// call. Every view is audited.

// Audit actions of screen captures.
const (
	ActionCaptureUpload  = "capture.upload"
	ActionCaptureRefused = "capture.refused"
	// ActionCaptureOptOut carries nothing about the call, like the audio's.
	ActionCaptureOptOut = "capture.refused.optout"
	ActionCaptureList   = "capture.list"
	ActionCaptureView   = "capture.view"
)

// Limits of captures.
const (
	// MaxCaptureBytes bounds one image: a message is at most 4 MiB.
	MaxCaptureBytes = 3 << 20
	// MaxCaptureSide and MaxCapturePixels bound an image's size, so that
	// decoding one costs at most 32 MiB.
	MaxCaptureSide   = 4096
	MaxCapturePixels = 8 << 20
	// MaxCaptureUpload bounds one upload, like the audio's.
	MaxCaptureUpload = 256 << 20
	// MaxCapturesPerUpload bounds the captures of one upload (a capture
	// every second of a 5-hour call).
	MaxCapturesPerUpload = 18000
)

// CaptureHeader is the first message of a capture upload.
type CaptureHeader struct {
	ExternalID string
	// Consent is required (nil: not given).
	Consent *Consent
}

// CaptureUpload is one capture as sent.
type CaptureUpload struct {
	Offset time.Duration
	Image  []byte
}

// CapturesStored is the outcome of a capture upload.
type CapturesStored struct {
	CallID             string
	Stored, Duplicates int
}

// CaptureKey is where one upload of a call's captures lives in the blob
// store.
func CaptureKey(callID, upload string) string {
	return "captures/" + callID[:2] + "/" + callID + "/" + upload + ".bin"
}

// UploadCaptures checks the header (nil: none was sent), then stores the
// captures next returns (io.EOF at the end) in one encrypted blob and their
// rows. An opted-out call is refused before next is called (R3); every
// refusal stores nothing. IngestService.UploadScreenCaptures comes here.
func (b *Backend) UploadCaptures(ctx context.Context, c Caller, h *CaptureHeader, next func() (*CaptureUpload, error)) (CapturesStored, error) {
	res, err := b.uploadCaptures(ctx, h, next)
	action, e := ActionCaptureUpload, entry{target: res.CallID}
	switch {
	case domain.Is(err, domain.ReasonOptedOut):
		action, e = ActionCaptureOptOut, entry{}
	case err != nil:
		action, e = ActionCaptureRefused, entry{}
	default:
		e.details = map[string]string{"stored": strconv.Itoa(res.Stored), "duplicates": strconv.Itoa(res.Duplicates)}
	}
	return res, b.record(ctx, c, action, e, err)
}

func (b *Backend) uploadCaptures(ctx context.Context, h *CaptureHeader, next func() (*CaptureUpload, error)) (CapturesStored, error) {
	switch {
	case h == nil:
		return CapturesStored{}, domain.Invalid("header", "the first message must be the header")
	case h.Consent == nil:
		return CapturesStored{}, domain.Invalid("header.consent", "is required (R3)")
	case !h.Consent.Accepted:
		return CapturesStored{}, domain.New(domain.ReasonOptedOut, "the caller opted out of recording: nothing is stored (R3)")
	case h.ExternalID == "":
		return CapturesStored{}, domain.Invalid("header.external_id", "is required")
	}
	if err := limits.ExternalID("header.external_id", h.ExternalID); err != nil {
		return CapturesStored{}, err
	}
	callID, dur, err := b.Store.CaptureTarget(ctx, h.ExternalID)
	if errors.Is(err, store.ErrNotFound) {
		return CapturesStored{}, domain.NotFound("header.external_id: no recording %q is held: upload its audio first (a recording the sampling did not keep is not held either)", h.ExternalID)
	} else if err != nil {
		return CapturesStored{}, domain.Internal("find the call", err)
	}
	key := CaptureKey(callID, NewID())
	p, err := b.Blobs.Create(key)
	if err != nil {
		return CapturesStored{}, domain.Internal("create captures", err)
	}
	defer p.Discard()
	now := b.Clock.Now()
	var caps []store.Capture
	var total int64
	for i := 0; ; i++ {
		u, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CapturesStored{}, received(err)
		}
		if i >= MaxCapturesPerUpload {
			return CapturesStored{}, domain.New(domain.ReasonResourceExhausted, "captures: more than %d in one upload", MaxCapturesPerUpload)
		}
		c, err := checkCapture(i, u, dur)
		if err != nil {
			return CapturesStored{}, err
		}
		if total += int64(len(u.Image)); total > MaxCaptureUpload {
			return CapturesStored{}, domain.New(domain.ReasonResourceExhausted, "captures: more than %d bytes in one upload", MaxCaptureUpload)
		}
		c.ID, c.CallID, c.BlobKey, c.BlobOffset, c.CreatedAt = NewID(), callID, key, p.Size(), now
		if _, err := p.Write(u.Image); err != nil {
			return CapturesStored{}, domain.Internal("store captures", err)
		}
		caps = append(caps, c)
	}
	if len(caps) == 0 {
		return CapturesStored{}, domain.Invalid("captures", "no capture received")
	}
	if err := p.Close(); err != nil {
		return CapturesStored{}, domain.Internal("store captures", err)
	}
	// Checked whole: finish storing even if the client goes away.
	ctx = context.WithoutCancel(ctx)
	if err := p.Commit(ctx); err != nil {
		return CapturesStored{}, domain.Internal("store captures", err)
	}
	stored, dup, err := b.Store.InsertCaptures(ctx, caps)
	if err == nil && stored == 0 {
		// Nothing new: the blob has no row to keep it.
		err = b.Blobs.Delete(ctx, key)
		return CapturesStored{CallID: callID, Duplicates: dup}, domainInternal("remove unused captures", err)
	}
	if err != nil {
		if derr := b.Blobs.Delete(ctx, key); derr != nil {
			b.Log.Error("remove orphan captures", "key", key, "err", derr)
		}
		return CapturesStored{}, domain.Internal("store captures", err)
	}
	b.Log.Info("screen captures stored", "call", callID, "stored", stored, "duplicates", dup, "bytes", total)
	return CapturesStored{CallID: callID, Stored: stored, Duplicates: dup}, nil
}

func domainInternal(what string, err error) error {
	if err == nil {
		return nil
	}
	return domain.Internal(what, err)
}

// checkCapture checks one capture: a position inside the recording, a PNG
// or JPEG image that decodes whole, within the size limits.
func checkCapture(i int, u *CaptureUpload, dur time.Duration) (store.Capture, error) {
	at := func(f string) string { return field("captures", i, f) }
	switch {
	case u == nil:
		return store.Capture{}, domain.Invalid(at("image"), "missing")
	case u.Offset < 0:
		return store.Capture{}, domain.Invalid(at("offset"), "must not be negative")
	case u.Offset > dur:
		return store.Capture{}, domain.Invalid(at("offset"), "%v is after the end of the recording (%v)", u.Offset, dur)
	case len(u.Image) == 0:
		return store.Capture{}, domain.Invalid(at("image"), "is empty")
	case len(u.Image) > MaxCaptureBytes:
		return store.Capture{}, domain.Invalid(at("image"), "%d bytes, at most %d", len(u.Image), MaxCaptureBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(u.Image))
	if err != nil || (format != "png" && format != "jpeg") {
		return store.Capture{}, domain.Invalid(at("image"), "not a PNG or JPEG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxCaptureSide || cfg.Height > MaxCaptureSide ||
		cfg.Width*cfg.Height > MaxCapturePixels {
		return store.Capture{}, domain.Invalid(at("image"), "%d × %d pixels: at most %d a side and %d in all",
			cfg.Width, cfg.Height, MaxCaptureSide, MaxCapturePixels)
	}
	if _, _, err := image.Decode(bytes.NewReader(u.Image)); err != nil {
		return store.Capture{}, domain.Invalid(at("image"), "the %s image does not decode: %v", format, err)
	}
	return store.Capture{Offset: u.Offset.Truncate(time.Millisecond), Format: format, Width: cfg.Width,
		Height: cfg.Height, Size: int64(len(u.Image))}, nil
}

// captureAccess is the rule of R11: the trainer of a coaching session
// that includes the call, and nobody else in any other way.
func (b *Backend) captureAccess(ctx context.Context, c Caller, sessionID, callID string) (store.CoachingSession, error) {
	refuse := func() (store.CoachingSession, error) {
		return store.CoachingSession{}, domain.New(domain.ReasonCapturesTrainingOnly,
			"screen captures are shown only to the trainer of a coaching session that includes the call (R11)")
	}
	if c.User.Role != domain.RoleTrainer {
		return refuse()
	}
	switch {
	case sessionID == "":
		return store.CoachingSession{}, domain.Invalid("session_id", "is required")
	case callID == "":
		return store.CoachingSession{}, domain.Invalid("call_id", "is required")
	}
	if err := errors.Join(limits.ID("session_id", sessionID), limits.ID("call_id", callID)); err != nil {
		de, _ := domain.As(err)
		return store.CoachingSession{}, de
	}
	s, err := b.Store.GetCoachingSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse()
	} else if err != nil {
		return store.CoachingSession{}, domain.Internal("get coaching session", err)
	}
	if s.TrainerID != c.User.ID {
		return refuse()
	}
	for _, it := range s.Items {
		if it.CallID == callID {
			return s, nil
		}
	}
	return refuse()
}

// ListCaptures lists the captures of a call inside a coaching session,
// without their images. Audited.
func (b *Backend) ListCaptures(ctx context.Context, c Caller, sessionID, callID string) ([]store.Capture, error) {
	e := entry{target: callID, details: map[string]string{"session": sessionID}}
	if _, err := b.captureAccess(ctx, c, sessionID, callID); err != nil {
		return nil, b.record(ctx, c, ActionCaptureList, e, err)
	}
	caps, err := b.Store.ListCaptures(ctx, callID)
	if err != nil {
		return nil, b.record(ctx, c, ActionCaptureList, e, domain.Internal("list captures", err))
	}
	e.details["captures"] = strconv.Itoa(len(caps))
	if err := b.record(ctx, c, ActionCaptureList, e, nil); err != nil {
		return nil, err
	}
	return caps, nil
}

// Capture reads one capture's image inside a coaching session. The view
// is audited before the image is read: no trace, no image.
func (b *Backend) Capture(ctx context.Context, c Caller, sessionID, callID, captureID string) (store.Capture, []byte, error) {
	e := entry{target: callID, details: map[string]string{"session": sessionID, "capture": captureID}}
	fail := func(err error) (store.Capture, []byte, error) {
		return store.Capture{}, nil, b.record(ctx, c, ActionCaptureView, e, err)
	}
	if _, err := b.captureAccess(ctx, c, sessionID, callID); err != nil {
		return fail(err)
	}
	if captureID == "" {
		return fail(domain.Invalid("capture_id", "is required"))
	}
	if err := limits.ID("capture_id", captureID); err != nil {
		return fail(err)
	}
	cp, err := b.Store.GetCapture(ctx, callID, captureID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(domain.NotFound("capture %s of call %s not found", captureID, callID))
	} else if err != nil {
		return fail(domain.Internal("get capture", err))
	}
	e.details["offset"] = cp.Offset.String()
	if err := b.record(ctx, c, ActionCaptureView, e, nil); err != nil {
		return store.Capture{}, nil, &domain.Error{Reason: domain.ReasonAuditUnavailable,
			Message: "audit trail unavailable: the capture is not sent", Err: err}
	}
	img, err := b.readCapture(ctx, cp)
	if err != nil {
		return store.Capture{}, nil, err
	}
	return cp, img, nil
}

// readCapture reads a capture's bytes from its blob.
func (b *Backend) readCapture(ctx context.Context, cp store.Capture) ([]byte, error) {
	blob, err := b.Blobs.Open(ctx, cp.BlobKey)
	if err != nil {
		return nil, domain.Internal("open captures", err)
	}
	defer blob.Close()
	img := make([]byte, cp.Size)
	if n, err := blob.ReadAt(img, cp.BlobOffset); int64(n) < cp.Size {
		return nil, domain.Internal("read capture", fmt.Errorf("%s at %d: %w", cp.BlobKey, cp.BlobOffset, err))
	}
	return img, nil
}
