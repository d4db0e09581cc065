package client

import (
	"context"
	"errors"
	"io"
	"sync"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// Pairing brings the sound of a console that runs elsewhere to the user's
// own machine. A console served over SSH runs on the server, which plays
// no sound: its player publishes what it does, and a companion on the
// reviewer's machine (ecoute listen CODE), logged in as the same account,
// follows it with the one-time code the console shows.
type Pairing interface {
	// CreatePairing gives the session its pairing and a fresh one-time
	// code; the previous unused code stops working.
	CreatePairing(ctx context.Context) (*ecoutev1.CreatePairingResponse, error)
	// PublishPlayback sends the player's state to the pairing's
	// companions and answers how many follow. States carry an increasing
	// sequence, so the request is safe to send again.
	PublishPlayback(ctx context.Context, pairingID string, st *ecoutev1.PlaybackState) (followers int, err error)
	// FollowPlayback joins a pairing by its code, or rejoins it by the id
	// a previous follow received (code empty). The first state has come
	// when it returns: a refused code is its error (ErrNotFound).
	FollowPlayback(ctx context.Context, code, pairingID string) (PlaybackStream, error)
}

// PlaybackStream is the states of a followed pairing.
type PlaybackStream interface {
	// Recv returns the next state; io.EOF after the last one (Ended),
	// or the typed error that broke the stream.
	Recv() (*ecoutev1.FollowPlaybackResponse, error)
}

// CreatePairing implements Pairing. Not asked again blindly: a code
// answered but lost would only leave an unused code behind, but the
// console asks again itself.
func (c *Client) CreatePairing(ctx context.Context) (*ecoutev1.CreatePairingResponse, error) {
	var resp *ecoutev1.CreatePairingResponse
	err := c.conns.do(ctx, "create pairing", Once, func(ctx context.Context) (err error) {
		resp, err = c.pairing.CreatePairing(ctx, &ecoutev1.CreatePairingRequest{})
		return err
	})
	return resp, err
}

// PublishPlayback implements Pairing.
func (c *Client) PublishPlayback(ctx context.Context, pairingID string, st *ecoutev1.PlaybackState) (int, error) {
	var resp *ecoutev1.PublishPlaybackResponse
	err := c.conns.do(ctx, "publish playback", Again, func(ctx context.Context) (err error) {
		resp, err = c.pairing.PublishPlayback(ctx, &ecoutev1.PublishPlaybackRequest{PairingId: pairingID, State: st})
		return err
	})
	return int(resp.GetFollowers()), err
}

// FollowPlayback implements Pairing. Joining by code is asked once (the
// code is single-use); rejoining by id is asked again while the server is
// away.
func (c *Client) FollowPlayback(ctx context.Context, code, pairingID string) (PlaybackStream, error) {
	op, retry := "follow playback", Once
	if code == "" {
		retry = Again
	}
	var st *followStream
	err := c.conns.do(ctx, op, retry, func(actx context.Context) error {
		// The stream outlives the attempt: only the wait for its first
		// message is bounded by it.
		sctx, cancel := context.WithCancel(ctx)
		s, err := c.pairing.FollowPlayback(sctx, &ecoutev1.FollowPlaybackRequest{Code: code, PairingId: pairingID})
		if err != nil {
			cancel()
			return err
		}
		first, err := recvWithin(actx, s)
		if err != nil {
			cancel()
			return err
		}
		st = &followStream{s: s, first: first, cancel: cancel, op: op}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// recvWithin receives one message, giving up when ctx ends first.
func recvWithin(ctx context.Context, s interface {
	Recv() (*ecoutev1.FollowPlaybackResponse, error)
}) (*ecoutev1.FollowPlaybackResponse, error) {
	type result struct {
		m   *ecoutev1.FollowPlaybackResponse
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := s.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type followStream struct {
	s interface {
		Recv() (*ecoutev1.FollowPlaybackResponse, error)
	}
	op     string
	cancel context.CancelFunc

	mu    sync.Mutex
	first *ecoutev1.FollowPlaybackResponse
	done  bool
}

func (f *followStream) Recv() (*ecoutev1.FollowPlaybackResponse, error) {
	f.mu.Lock()
	if m := f.first; m != nil {
		f.first = nil
		f.done = m.GetEnded()
		f.mu.Unlock()
		return m, nil
	}
	done := f.done
	f.mu.Unlock()
	if done {
		f.cancel()
		return nil, io.EOF
	}
	m, err := f.s.Recv()
	if err != nil {
		f.cancel()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, typed(f.op, err)
	}
	f.mu.Lock()
	f.done = m.GetEnded()
	f.mu.Unlock()
	return m, nil
}

// Resume starts from a session opened elsewhere — an SSH login, which
// checked the account's key and password itself — as Login would: the
// token is kept for every later request and the principal read back.
func (c *Client) Resume(ctx context.Context, token string, passwordChangeRequired bool) (*ecoutev1.LoginResponse, error) {
	c.token.set(token)
	p, err := c.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.LoginResponse{Token: token, Principal: p, PasswordChangeRequired: passwordChangeRequired}, nil
}
