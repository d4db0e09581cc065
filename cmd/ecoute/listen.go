package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/player"
)

// `ecoute listen CODE` is the companion of a console served over SSH: on
// the reviewer's machine, logged in as the same account, it follows the
// session's player with the one-time code the session shows, fetches the
// call's audio itself and plays it here, in step (play, pause, seek,
// speed, loop, volume, the parties' balance).

// listenUsage is ecoute listen's help.
func listenUsage() string {
	return T("ecoute.listenUsage", defaultServer, pinFileHint(), configPathHint())
}

// seekTolerance is how far the companion may drift from the session's
// player before it seeks (a seek is heard as a jump).
const seekTolerance = 400 * time.Millisecond

// runListen implements `ecoute listen`.
func runListen(args []string) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "", "")
	insecure := fs.Bool("insecure", false, "")
	pinFile := fs.String("pin-file", "", "")
	login := fs.String("login", "", "")
	silent := fs.Bool("silent", false, "")
	configPath := fs.String("config", "", "")
	var codes []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Print(listenUsage())
				return nil
			}
			return usageError(err.Error(), listenUsage())
		}
		if fs.NArg() == 0 {
			break
		}
		codes = append(codes, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(codes) != 1 {
		return usageError(T("ecoute.listenOneCode"), listenUsage())
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	addr := pick(*server, os.Getenv("ECOUTE_SERVER"), cfg.Server, defaultServer)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.Dial(ctx, addr, client.Options{Insecure: *insecure, PinFile: pick(*pinFile, cfg.PinFile)})
	if err != nil {
		return err
	}
	defer c.Close()
	if n := c.TrustNotice(); n != "" {
		fmt.Fprintln(os.Stderr, n)
	}
	in := bufio.NewReader(os.Stdin)
	name := *login
	if name == "" {
		if name, err = ask(in, T("ecoute.listenLoginPrompt")); err != nil {
			return err
		}
	}
	pw, err := askSecret(in, T("ecoute.listenPasswordPrompt", name))
	if err != nil {
		return err
	}
	resp, err := c.Login(ctx, name, pw)
	if err != nil {
		return fmt.Errorf("%s: %w", T("ecoute.listenLoginRefused"), err)
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = c.Logout(lctx)
	}()
	if resp.GetPasswordChangeRequired() {
		return errors.New(T("ecoute.listenMustChange"))
	}
	stream, err := c.FollowPlayback(ctx, codes[0], "")
	if err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return errors.New(T("ecoute.listenBadCode", codes[0]))
		}
		return err
	}
	eng := player.NewEngine(player.EngineOptions{ForceNull: *silent || cfg.Silent, Log: playLog()})
	defer eng.Close()
	fmt.Println(T("ecoute.playOutput", eng.OutputReason()))
	f := &follower{gw: c, eng: eng, out: os.Stdout}
	defer f.close()
	return f.follow(ctx, c, stream)
}

// ask reads a line after a prompt on stderr.
func ask(in *bufio.Reader, prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// askSecret reads a password without echo from a terminal, or a line from
// a pipe.
func askSecret(in *bufio.Reader, prompt string) (string, error) {
	if term.IsTerminal(os.Stdin.Fd()) {
		fmt.Fprint(os.Stderr, prompt)
		b, err := term.ReadPassword(os.Stdin.Fd())
		fmt.Fprintln(os.Stderr)
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// followGateway is what the companion asks the server for a call's audio.
type followGateway interface {
	GetWaveform(ctx context.Context, callID string) (*ecoutev1.GetWaveformResponse, error)
	AudioSize(ctx context.Context, callID string) (int64, error)
	AudioSource(callID string, size int64) client.ByteSource
	PlaybackInfo(callID string, wf *ecoutev1.GetWaveformResponse, size int64) client.Playback
}

// trackOpener opens a track; *player.Engine is one.
type trackOpener interface {
	Open(src player.Source, info player.Info) (player.Track, error)
}

// follower plays a followed pairing's states.
type follower struct {
	gw     followGateway
	eng    trackOpener
	out    io.Writer
	callID string
	track  player.Track
	ctl    player.Controls
	shown  string // the last state line printed
}

// follow applies the pairing's states until it ends, rejoining after a
// lost connection.
func (f *follower) follow(ctx context.Context, c client.Pairing, stream client.PlaybackStream) error {
	var pairing string
	for {
		m, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			fmt.Fprintln(f.out, T("ecoute.listenEnded"))
			return nil
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// The connection broke: rejoin the same pairing.
			fmt.Fprintln(f.out, T("ecoute.listenRejoin"))
			if stream, err = c.FollowPlayback(ctx, "", pairing); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%s: %w", T("ecoute.listenLost"), err)
			}
			continue
		}
		if pairing == "" {
			fmt.Fprintln(f.out, T("ecoute.listenFollowing", m.GetLogin()))
		}
		pairing = m.GetPairingId()
		if err := f.apply(ctx, m.GetState(), time.Now()); err != nil {
			fmt.Fprintln(f.out, err)
		}
		if m.GetEnded() {
			fmt.Fprintln(f.out, T("ecoute.listenEnded"))
			return nil
		}
	}
}

// apply makes the local player do what the session's does; st's position
// is as of received.
func (f *follower) apply(ctx context.Context, st *ecoutev1.PlaybackState, received time.Time) error {
	if st.GetCallId() != f.callID {
		f.close()
		if st.GetCallId() == "" {
			f.say(T("ecoute.listenIdle"))
			return nil
		}
		if err := f.open(ctx, st.GetCallId()); err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.listenOpenFailed", st.GetCallId()), err)
		}
	}
	if f.track == nil {
		return nil
	}
	speed := st.GetSpeed()
	if speed == 0 {
		speed = 1
	}
	if c := f.ctl; c != nil {
		if c.Speed() != speed {
			c.SetSpeed(speed)
		}
		c.SetVolume(st.GetVolumeDb())
		c.SetMuted(st.GetMuted())
		if c.Parties() == 2 {
			c.SetBalance(st.GetBalance())
			c.SetPartyMuted(0, st.GetParty1Muted())
			c.SetPartyMuted(1, st.GetParty2Muted())
		}
		a, b := st.GetLoopStart().AsDuration(), st.GetLoopEnd().AsDuration()
		if oa, ob, on := c.Loop(); b > a && (!on || oa != a || ob != b) {
			c.SetLoop(a, b)
		} else if b <= a && on {
			c.SetLoop(0, 0)
		}
	}
	want := st.GetPosition().AsDuration()
	if st.GetPlaying() {
		// The time the message took to be applied, at the session's speed.
		want += time.Duration(float64(time.Since(received)) * speed)
	}
	if d := f.track.Position() - want; d > seekTolerance || d < -seekTolerance {
		f.track.Seek(want)
	}
	switch {
	case st.GetPlaying() && !f.track.Playing():
		f.track.Play()
	case !st.GetPlaying() && f.track.Playing():
		f.track.Pause()
	}
	f.showState(st, speed)
	return nil
}

// open loads a call as the console does.
func (f *follower) open(ctx context.Context, callID string) error {
	wf, err := f.gw.GetWaveform(ctx, callID)
	if err != nil {
		return err
	}
	size := wf.GetTotalSize()
	if size <= 0 {
		if size, err = f.gw.AudioSize(ctx, callID); err != nil {
			return err
		}
	}
	p := f.gw.PlaybackInfo(callID, wf, size)
	info := player.Info{Size: p.Size, SampleRate: p.SampleRate, SamplesPerFrame: p.SamplesPerFrame,
		Channels: p.Channels, FrameOffsets: p.FrameOffsets, PeaksFunc: p.PeaksFunc}
	if p.Index != nil {
		info.Index = p.Index
	}
	tr, err := f.eng.Open(f.gw.AudioSource(callID, size), info)
	if err != nil {
		return err
	}
	f.track, f.callID = tr, callID
	f.ctl, _ = tr.(player.Controls)
	go func() { // drain the events: this player is driven from the session
		for range tr.Events() {
		}
	}()
	f.say(T("ecoute.listenCall", callID, formatClock(tr.Duration())))
	return nil
}

func (f *follower) close() {
	if f.track != nil {
		_ = f.track.Close()
	}
	f.track, f.ctl, f.callID = nil, nil, ""
}

// showState prints what the player does when it changes (not its
// position moving on).
func (f *follower) showState(st *ecoutev1.PlaybackState, speed float64) {
	key := "ecoute.listenPaused"
	if st.GetPlaying() {
		key = "ecoute.listenPlaying"
	}
	line := T(i18n.Key(key), formatClock(st.GetPosition().AsDuration()), speed)
	if a, b := st.GetLoopStart().AsDuration(), st.GetLoopEnd().AsDuration(); b > a {
		line += " " + T("ecoute.listenLoop", formatClock(a), formatClock(b))
	}
	// The position alone moving on is not news.
	state := fmt.Sprintf("%v %g %v %v", st.GetPlaying(), speed, st.GetLoopStart().AsDuration(), st.GetLoopEnd().AsDuration())
	if state != f.shown {
		f.shown = state
		f.say(line)
	}
}

func (f *follower) say(s string) { fmt.Fprintln(f.out, s) }
