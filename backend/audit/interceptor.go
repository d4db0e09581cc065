package audit

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Method names this interceptor treats specially (policy has the same
// constants; audit does not import policy to keep the dependency one way).
const (
	mLogin          = "/ecoute.v1.AuthService/Login"
	mLogout         = "/ecoute.v1.AuthService/Logout"
	mChangePassword = "/ecoute.v1.AuthService/ChangePassword"
	mListCalls      = "/ecoute.v1.CallService/ListCalls"
	mGetCall        = "/ecoute.v1.CallService/GetCall"
	mStreamAudio    = "/ecoute.v1.CallService/StreamAudio"
)

// quiet methods are not recorded when they succeed: they read nothing
// about a person (WhoAmI, the waveform that goes with an audited stream)
// or are plumbing (health, reflection).
var quiet = map[string]bool{
	"/ecoute.v1.AuthService/WhoAmI":      true,
	"/ecoute.v1.CallService/GetWaveform": true,
}

func plumbing(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

// Audio stream rule: a listening is recorded once, not every seek. The
// first StreamAudio of a call in a session is recorded (on its first chunk
// sent); later streams of the same call in the same session are recorded
// again only when ListenWindow has passed since the last recorded one, or
// when they restart the whole file (offset 0, no length). Seeks and ranged
// reads (offset > 0, or a length) therefore add nothing.
const (
	ListenWindow = 30 * time.Minute // the session idle timeout
	maxListens   = 10000
)

// Sessions is what the interceptor needs to name the caller of a refused
// request (the guard refused it before putting the principal in the
// context). *store.SQLite implements it.
type Sessions interface {
	SessionByHash(ctx context.Context, hash string) (store.Session, error)
	UserByID(ctx context.Context, id string) (store.User, error)
}

// Interceptor records, in one place, the RPCs of R10 that no operation
// records itself: logins (success and failure, with the source address and
// the login tried), reads of call content (list, view, audio stream
// start), every other call that is neither quiet nor self-audited (so each
// RPC added later is recorded under its method name with the id it names),
// and every request the guard refused, self-audited or not. Reads of call
// content fail closed: if their entry cannot be written, the content is
// not sent.
//
// It wraps the guard from both sides: Unary/Stream go first in the chain,
// CaptureUnary/CaptureStream right after auth.Guard, which hands them the
// principal through a slot in the context.
type Interceptor struct {
	Rec      Appender
	Clock    clock.Clock
	Log      *slog.Logger
	Sessions Sessions // optional: names the caller of refused requests
	// SelfAudited tells the methods whose handlers record every outcome
	// themselves (the front door's operations): only the guard's refusals
	// of them are recorded here.
	SelfAudited map[string]bool

	mu      sync.Mutex
	listens map[listenKey]time.Time
}

type listenKey struct{ session, call string }

// NewInterceptor returns an interceptor recording into rec.
func NewInterceptor(rec Appender, c clock.Clock, sessions Sessions, logger *slog.Logger) *Interceptor {
	if c == nil {
		c = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Interceptor{Rec: rec, Clock: c, Sessions: sessions, Log: logger, listens: map[listenKey]time.Time{}}
}

// slot carries what the guard decided from the capture back out to the
// recording interceptor.
type slot struct {
	mu        sync.Mutex
	passed    bool // the guard let the call through
	actor     Actor
	tokenHash string
}

type slotKey struct{}

func slotFrom(ctx context.Context) *slot {
	s, _ := ctx.Value(slotKey{}).(*slot)
	return s
}

func (s *slot) get() (passed bool, a Actor, tokenHash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.passed, s.actor, s.tokenHash
}

func capture(ctx context.Context) {
	s := slotFrom(ctx)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passed = true
	if p, ok := auth.FromContext(ctx); ok {
		s.actor = Actor{UserID: p.User.ID, Login: p.User.Login, Role: p.User.Role}
		s.tokenHash = p.TokenHash
	}
}

// CaptureUnary goes right after the guard in the unary chain.
func (i *Interceptor) CaptureUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	capture(ctx)
	return h(ctx, req)
}

// CaptureStream goes right after the guard in the stream chain.
func (i *Interceptor) CaptureStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	capture(ss.Context())
	return h(srv, ss)
}

func source(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	return status.Code(err).String()
}

// MaxLoginLen bounds the login tried that a failure records.
const MaxLoginLen = 64

func (i *Interceptor) record(ctx context.Context, e Entry) error {
	if e.Source == "" {
		e.Source = source(ctx)
	}
	if e.Actor == (Actor{}) {
		if s := slotFrom(ctx); s != nil {
			_, e.Actor, _ = s.get()
		}
	}
	err := i.Rec.Append(ctx, e)
	if err != nil {
		i.Log.Error("audit", "action", e.Action, "err", err)
	}
	return err
}

var errAudit = rpcerr.Error(domain.New(domain.ReasonAuditUnavailable, "audit trail unavailable: content not sent"))

// identify names the holder of the bearer token of a refused request, if
// the session exists at all.
func (i *Interceptor) identify(ctx context.Context) Actor {
	if i.Sessions == nil {
		return Actor{}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return Actor{}
	}
	_, token, ok := strings.Cut(vals[0], " ")
	if !ok {
		return Actor{}
	}
	se, err := i.Sessions.SessionByHash(ctx, auth.HashToken(strings.TrimSpace(token)))
	if err != nil {
		return Actor{}
	}
	u, err := i.Sessions.UserByID(ctx, se.UserID)
	if err != nil {
		return Actor{UserID: se.UserID}
	}
	return Actor{UserID: u.ID, Login: u.Login, Role: u.Role}
}

func (i *Interceptor) denied(ctx context.Context, method string, req any, err error) {
	i.record(ctx, Entry{Action: ActionAccessDenied, Actor: i.identify(ctx), Target: targetOf(req),
		Details: map[string]string{"method": method, "result": result(err)}})
}

// targetOf finds what a request acts on: its first non-empty string field
// named "id" or ending in "_id", looking one message deep.
func targetOf(req any) string {
	m, ok := req.(proto.Message)
	if !ok || m == nil || !m.ProtoReflect().IsValid() {
		return ""
	}
	return findID(m.ProtoReflect(), 1)
}

func findID(m protoreflect.Message, depth int) string {
	fields := m.Descriptor().Fields()
	for n := range fields.Len() {
		f := fields.Get(n)
		name := string(f.Name())
		if f.Kind() == protoreflect.StringKind && !f.IsList() && !f.IsMap() &&
			(name == "id" || strings.HasSuffix(name, "_id")) {
			if v := m.Get(f).String(); v != "" {
				return v
			}
		}
	}
	if depth == 0 {
		return ""
	}
	for n := range fields.Len() {
		f := fields.Get(n)
		if f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() && m.Has(f) {
			if v := findID(m.Get(f).Message(), depth-1); v != "" {
				return v
			}
		}
	}
	return ""
}

// genericAction is the action of a call without a dedicated name: the
// method, e.g. "ecoute.v1.AdminService/CreateUser".
func genericAction(method string) string { return strings.TrimPrefix(method, "/") }

// Unary is the unary interceptor; it goes first in the chain.
func (i *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if plumbing(info.FullMethod) {
		return h(ctx, req)
	}
	sl := &slot{}
	ctx = context.WithValue(ctx, slotKey{}, sl)
	resp, err := h(ctx, req)
	if passed, _, _ := sl.get(); !passed {
		i.denied(ctx, info.FullMethod, req, err)
		return resp, err
	}
	d := map[string]string{"result": result(err)}
	switch m := info.FullMethod; {
	case m == mLogin:
		r, _ := req.(*ecoutev1.LoginRequest)
		lr, _ := resp.(*ecoutev1.LoginResponse)
		if err == nil && lr.GetPrincipal() != nil {
			p := lr.GetPrincipal()
			i.record(ctx, Entry{Action: ActionLoginSuccess, Actor: Actor{UserID: p.GetUserId(), Login: p.GetLogin(), Role: p.GetRole()}})
			return resp, err
		}
		login := r.GetLogin()
		if len(login) > MaxLoginLen {
			login = login[:MaxLoginLen]
		}
		i.record(ctx, Entry{Action: ActionLoginFailure, Actor: Actor{Login: login}, Details: d})
	case m == mLogout:
		i.record(ctx, Entry{Action: ActionLogout, Details: d})
	case m == mChangePassword:
		i.record(ctx, Entry{Action: ActionPasswordChange, Details: d})
	case m == mGetCall:
		r, _ := req.(*ecoutev1.GetCallRequest)
		if i.record(ctx, Entry{Action: ActionCallView, Target: r.GetCallId(), Details: d}) != nil && err == nil {
			return nil, errAudit
		}
	case m == mListCalls:
		if lr, ok := resp.(*ecoutev1.ListCallsResponse); ok {
			d["returned"] = strconv.Itoa(len(lr.GetCalls()))
		}
		if r, ok := req.(*ecoutev1.ListCallsRequest); ok && r.GetPageToken() != "" {
			d["next_page"] = "true"
		}
		if i.record(ctx, Entry{Action: ActionCallList, Details: d}) != nil && err == nil {
			return nil, errAudit
		}
	case quiet[m] && err == nil, i.SelfAudited[m]:
	default:
		i.record(ctx, Entry{Action: genericAction(m), Target: targetOf(req), Details: d})
	}
	return resp, err
}

// slotStream carries the slot to the handlers of a stream.
type slotStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *slotStream) Context() context.Context { return s.ctx }

// Stream is the stream interceptor; it goes first in the chain.
func (i *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if plumbing(info.FullMethod) {
		return h(srv, ss)
	}
	sl := &slot{}
	ctx := context.WithValue(ss.Context(), slotKey{}, sl)
	base := &slotStream{ServerStream: ss, ctx: ctx}
	switch m := info.FullMethod; {
	case m == mStreamAudio:
		w := &audioStream{ServerStream: base, i: i}
		err := h(srv, w)
		if passed, _, _ := sl.get(); !passed {
			i.denied(ctx, m, w.req, err)
			return err
		}
		if !w.sent && err != nil && w.auditErr == nil {
			// An attempt that read nothing is still worth a trace: asking
			// for a call outside one's scope is what R10 wants to see.
			i.record(ctx, Entry{Action: ActionAudioStream, Target: heard(w.req),
				Details: map[string]string{"result": result(err), "offset": strconv.FormatInt(w.req.GetOffset(), 10)}})
		}
		return err
	}
	w := &firstRecv{ServerStream: base}
	err := h(srv, w)
	if passed, _, _ := sl.get(); !passed {
		i.denied(ctx, info.FullMethod, w.first, err)
		return err
	}
	if !i.SelfAudited[info.FullMethod] && !(quiet[info.FullMethod] && err == nil) {
		i.record(ctx, Entry{Action: genericAction(info.FullMethod), Target: targetOf(w.first),
			Details: map[string]string{"result": result(err)}})
	}
	return err
}

// shouldRecordListen applies the audio stream rule and notes the listening.
func (i *Interceptor) shouldRecordListen(ctx context.Context, req *ecoutev1.StreamAudioRequest) bool {
	var session string
	if s := slotFrom(ctx); s != nil {
		_, _, session = s.get()
	}
	k := listenKey{session: session, call: heard(req)}
	now := i.Clock.Now()
	i.mu.Lock()
	defer i.mu.Unlock()
	last, seen := i.listens[k]
	replay := req.GetOffset() == 0 && req.GetLength() == 0
	if seen && now.Sub(last) < ListenWindow && !replay {
		return false
	}
	if len(i.listens) >= maxListens {
		for key, t := range i.listens {
			if now.Sub(t) >= ListenWindow {
				delete(i.listens, key)
			}
		}
		if len(i.listens) >= maxListens {
			clear(i.listens) // worst case: a few listenings recorded twice
		}
	}
	i.listens[k] = now
	return true
}

type audioStream struct {
	grpc.ServerStream
	i        *Interceptor
	req      *ecoutev1.StreamAudioRequest
	sent     bool
	auditErr error
}

func (s *audioStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if r, ok := m.(*ecoutev1.StreamAudioRequest); ok && err == nil {
		s.req = r
	}
	return err
}

// SendMsg records the listening before the first chunk leaves.
func (s *audioStream) SendMsg(m any) error {
	if !s.sent {
		s.sent = true
		ctx := s.Context()
		if s.i.shouldRecordListen(ctx, s.req) {
			d := map[string]string{"offset": strconv.FormatInt(s.req.GetOffset(), 10), "result": "ok"}
			if l := s.req.GetLength(); l > 0 {
				d["length"] = strconv.FormatInt(l, 10)
			}
			if err := s.i.record(ctx, Entry{Action: ActionAudioStream, Target: heard(s.req), Details: d}); err != nil {
				s.auditErr = err
				return errAudit
			}
		}
	}
	return s.ServerStream.SendMsg(m)
}

// heard names what a listening reads: the call, or the blind calibration
// whose call it is ("calibration:ID": the calibration's evaluators are not
// told the call's id, and the trail names what they asked for).
func heard(req *ecoutev1.StreamAudioRequest) string {
	if id := req.GetCalibrationId(); id != "" {
		return "calibration:" + id
	}
	return req.GetCallId()
}

// firstRecv keeps the first message of a stream, to name its target.
type firstRecv struct {
	grpc.ServerStream
	first any
}

func (s *firstRecv) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if s.first == nil && err == nil {
		s.first = m
	}
	return err
}
