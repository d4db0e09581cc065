package sshserve

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"

	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/tui"
)

// Messages of a session, in its own language (LANG, LC_ALL sent by the
// client).
const (
	msgNeedTerminal i18n.Key = "sshserve.needTerminal"
	msgNoCommand    i18n.Key = "sshserve.noCommand"
	msgOneConsole   i18n.Key = "sshserve.oneConsole"
	msgTooMany      i18n.Key = "sshserve.tooMany"
	msgIdle         i18n.Key = "sshserve.idle"
	msgLimit        i18n.Key = "sshserve.limit"
	msgIdleSoon     i18n.Key = "sshserve.idleSoon"
	msgLimitSoon    i18n.Key = "sshserve.limitSoon"
	msgShutdown     i18n.Key = "sshserve.shutdown"
	msgEnded        i18n.Key = "sshserve.ended"
	msgNoConsole    i18n.Key = "sshserve.noConsole"
)

// Why a session was stopped.
var (
	errIdle     = errors.New("idle")
	errLimit    = errors.New("limit")
	errShutdown = errors.New("shutdown")
)

// sizeQuery asks the terminal where the cursor lands when sent to the far
// corner: its size. For clients that send no window changes (Windows
// OpenSSH); the cursor is saved and restored around it.
const sizeQuery = "\x1b7\x1b[9999;9999H\x1b[6n\x1b8"

// sizePoll is how often such a client's size is asked.
const sizePoll = 2 * time.Second

// session is one console served.
type session struct {
	s       *Server
	sess    ssh.Session
	id      Identity
	p       *i18n.Printer
	started time.Time
	cancel  context.CancelCauseFunc
	msgs    chan tea.Msg
	lastKey atomic.Int64 // Unix nanoseconds, on the server's clock

	// The size poll of clients without window changes.
	querying atomic.Bool
	sizeMu   sync.Mutex
	w, h     int
}

func (se *session) stop(cause error) {
	if se.cancel != nil {
		se.cancel(cause)
	}
}

// touch records a key press (or a click): the idle timeout counts from the
// last one.
func (se *session) touch() { se.lastKey.Store(se.s.cfg.Clock.Now().UnixNano()) }

// send hands msg to the console, dropping it if the console lags.
func (se *session) send(msg tea.Msg) {
	select {
	case se.msgs <- msg:
	default:
	}
}

// say writes a line to the client, outside the console.
func say(sess ssh.Session, text string) {
	_, _ = sess.Write([]byte("\r\n" + text + "\r\n"))
}

// handle serves one session channel.
func (s *Server) handle(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.wg.Add(1)
		defer s.wg.Done()
		ctx := sess.Context()
		st, _ := ctx.Value(connKey{}).(*conn)
		id, ok := identityOf(ctx.Permissions().Permissions)
		env := sessionEnv(sess)
		se := &session{s: s, sess: sess, id: id, p: i18n.New(langOf(env)), started: s.cfg.Clock.Now(),
			msgs: make(chan tea.Msg, 16)}
		if !ok || st == nil {
			_ = sess.Exit(1)
			return
		}
		st.mu.Lock()
		st.channels++
		first := st.channels == 1
		st.mu.Unlock()
		if !first {
			// The connection's session is the first channel's: a second
			// console would share, and end, its backend session.
			say(sess, se.p.T(msgOneConsole))
			_ = sess.Exit(1)
			return
		}
		reason := "disconnect"
		defer func() {
			s.cfg.Auth.Ended(context.WithoutCancel(ctx), id, sess.RemoteAddr().String(), reason, se.started)
		}()
		if sess.RawCommand() != "" || sess.Subsystem() != "" {
			reason = "no-terminal"
			say(sess, se.p.T(msgNoCommand))
			_ = sess.Exit(1)
			return
		}
		pty, winch, ok := sess.Pty()
		if !ok {
			reason = "no-terminal"
			say(sess, se.p.T(msgNeedTerminal))
			_ = sess.Exit(1)
			return
		}
		if !s.slots.take(id.Login) {
			reason = "cap"
			say(sess, se.p.T(msgTooMany))
			_ = sess.Exit(1)
			return
		}
		defer s.slots.release(id.Login)
		s.mu.Lock()
		if s.shutdown {
			s.mu.Unlock()
			reason = "shutdown"
			say(sess, se.p.T(msgShutdown))
			_ = sess.Exit(1)
			return
		}
		runCtx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		se.cancel = cancel
		s.sessions[se] = struct{}{}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.sessions, se)
			s.mu.Unlock()
		}()

		se.touch()
		se.w, se.h = pty.Window.Width, pty.Window.Height
		go se.watch(runCtx)
		go se.resizes(runCtx, winch)
		if noWindowChanges(ctx.ClientVersion()) {
			go se.pollSize(runCtx)
		}
		console := s.cfg.console
		if console == nil {
			console = (*session).run
		}
		err := console(se, runCtx, pty, env)
		code := 0
		switch cause := context.Cause(runCtx); {
		case errors.Is(cause, errIdle):
			reason = "idle"
			say(sess, se.p.T(msgIdle, fmtDuration(s.cfg.IdleTimeout)))
		case errors.Is(cause, errLimit):
			reason = "limit"
			say(sess, se.p.T(msgLimit, fmtDuration(s.cfg.SessionLimit)))
		case errors.Is(cause, errShutdown):
			reason = "shutdown"
			say(sess, se.p.T(msgShutdown))
		case ctx.Err() != nil:
			reason = "disconnect"
			return
		case errors.Is(err, tui.ErrSessionEnded):
			reason = "session"
			say(sess, se.p.T(msgEnded))
			code = 1
		case err != nil:
			reason = "error"
			s.cfg.Log.Error("ssh: console", "login", id.Login, "err", err)
			say(sess, se.p.T(msgNoConsole, err))
			code = 1
		default:
			reason = "quit"
		}
		_ = sess.Exit(code)
	}
}

// run runs the console until the user quits or ctx ends.
func (se *session) run(ctx context.Context, pty ssh.Pty, env []string) error {
	s := se.s
	c, err := client.Dial(ctx, s.cfg.Backend, client.Options{CAPEM: s.cfg.CAPEM, Insecure: s.cfg.Insecure,
		Clock: s.cfg.Clock})
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Resume(ctx, se.id.Token, se.id.PasswordChangeRequired)
	if err != nil {
		return err
	}
	// The server never opens a sound device for a session: the player
	// runs on the null output, and the sound goes to a companion.
	eng := player.NewEngine(player.EngineOptions{ForceNull: true, Clock: s.cfg.Clock})
	defer eng.Close()
	profile := colorprofile.Env(env)
	if profile < colorprofile.TrueColor {
		// The terminal may say better than TERM does.
		se.send(tea.RequestCapability("RGB")())
	}
	companion := s.companionServer(se.sess.LocalAddr())
	command := "ecoute listen --server " + companion // i18n: a command line
	if s.cfg.Insecure {
		command += " --insecure"
	}
	return tui.Run(ctx, tui.Options{
		Client:         c,
		Engine:         eng,
		ServerAddr:     companion,
		Input:          se.sess,
		Output:         se.sess,
		Environ:        env,
		Width:          pty.Window.Width,
		Height:         pty.Window.Height,
		Profile:        &profile,
		ProgramOptions: []tea.ProgramOption{tea.WithFilter(se.filter)},
		Lang:           langOf(env),
		Session:        resp,
		Companion:      &tui.Companion{Command: command},
		Messages:       se.msgs,
		DraftDir:       s.cfg.DraftDir,
	})
}

// filter sees every message before the console: key presses and clicks
// are activity (output is not), suspending would stop the server's
// process, and a pending size query's answer is the window's size.
func (se *session) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch m := msg.(type) {
	case tea.KeyPressMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		se.touch()
	case tea.SuspendMsg:
		return tea.ResumeMsg{}
	case tea.CursorPositionMsg:
		if se.querying.CompareAndSwap(true, false) {
			se.sizeMu.Lock()
			defer se.sizeMu.Unlock()
			w, h := m.X+1, m.Y+1
			if w == se.w && h == se.h {
				return nil
			}
			se.w, se.h = w, h
			return tea.WindowSizeMsg{Width: w, Height: h}
		}
	}
	return msg
}

// resizes hands the client's window changes to the console.
func (se *session) resizes(ctx context.Context, winch <-chan ssh.Window) {
	for {
		select {
		case <-ctx.Done():
			return
		case w, ok := <-winch:
			if !ok {
				return
			}
			se.sizeMu.Lock()
			same := w.Width == se.w && w.Height == se.h
			se.w, se.h = w.Width, w.Height
			se.sizeMu.Unlock()
			if !same {
				se.send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}
}

// pollSize asks the terminal its size now and then.
func (se *session) pollSize(ctx context.Context) {
	t := time.NewTicker(sizePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			se.querying.Store(true)
			se.send(tea.RawMsg{Msg: sizeQuery})
		}
	}
}

// watch ends the session on its limits, warning a little before.
func (se *session) watch(ctx context.Context) {
	s := se.s
	idle, limit := s.cfg.IdleTimeout, s.cfg.SessionLimit
	warnIdle, warnLimit := min(time.Minute, idle/4), min(5*time.Minute, limit/10)
	warnedIdle, warnedLimit := false, false
	t := time.NewTicker(s.cfg.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Clock.Now()
		quiet := now.Sub(time.Unix(0, se.lastKey.Load()))
		open := now.Sub(se.started)
		switch {
		case open >= limit:
			se.stop(errLimit)
			return
		case quiet >= idle:
			se.stop(errIdle)
			return
		}
		if quiet < idle-warnIdle {
			warnedIdle = false
		} else if !warnedIdle {
			warnedIdle = true
			se.send(tui.StatusMsg{Text: se.p.T(msgIdleSoon, fmtDuration(idle-quiet)), Level: tui.LevelWarn})
		}
		if !warnedLimit && open >= limit-warnLimit {
			warnedLimit = true
			se.send(tui.StatusMsg{Text: se.p.T(msgLimitSoon, fmtDuration(limit-open)), Level: tui.LevelWarn})
		}
	}
}

// companionServer is the address a companion dials: the configured one,
// else the address the client reached with the backend's port.
func (s *Server) companionServer(local net.Addr) string {
	if s.cfg.CompanionServer != "" {
		return s.cfg.CompanionServer
	}
	_, port, err := net.SplitHostPort(s.cfg.Backend)
	if err != nil {
		return s.cfg.Backend
	}
	host := hostOf(local)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// noWindowChanges tells the clients that never send a window change.
func noWindowChanges(version string) bool {
	return strings.Contains(strings.ToLower(version), "windows")
}

// sessionEnv is the client's environment with the terminal's type.
func sessionEnv(sess ssh.Session) []string {
	env := sess.Environ()
	if pty, _, ok := sess.Pty(); ok && pty.Term != "" {
		env = append(env, "TERM="+pty.Term)
	}
	return env
}

// langOf is the language the client's environment asks for.
func langOf(env []string) i18n.Lang {
	l, _ := i18n.Choose("", "", func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if name, v, ok := strings.Cut(env[i], "="); ok && name == k {
				return v
			}
		}
		return ""
	})
	return l
}

// fmtDuration writes a limit for people: "15 min", "8 h", "45 s".
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d >= time.Minute:
		return strconv.Itoa(int((d+30*time.Second)/time.Minute)) + " min"
	}
	return strconv.Itoa(int((d+time.Second/2)/time.Second)) + " s"
}
