package service

import (
	"context"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Pairing implements PairingService: a console whose sound plays
// elsewhere (served over SSH) publishes its player's state; a companion of
// the same account follows it.
type Pairing struct {
	ecoutev1.UnimplementedPairingServiceServer
	Core *core.Backend
}

// CreatePairing gives the caller's session its pairing and a fresh code.
func (s *Pairing) CreatePairing(ctx context.Context, _ *ecoutev1.CreatePairingRequest) (*ecoutev1.CreatePairingResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return serve(ctx, nil, func(c core.Caller) (core.Pairing, error) {
		return s.Core.CreatePairing(ctx, c, p.TokenHash)
	}, func(pr core.Pairing) *ecoutev1.CreatePairingResponse {
		return &ecoutev1.CreatePairingResponse{PairingId: pr.ID, Code: pr.Code, CodeExpiresAt: ts(pr.CodeExpires)}
	})
}

// PublishPlayback sets the state of the caller session's pairing.
func (s *Pairing) PublishPlayback(ctx context.Context, req *ecoutev1.PublishPlaybackRequest) (*ecoutev1.PublishPlaybackResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetState() == nil {
		return nil, domain.Invalid("state", "is required")
	}
	return serve(ctx, nil, func(c core.Caller) (int, error) {
		return s.Core.PublishPlayback(ctx, c, p.TokenHash, req.GetPairingId(), PlaybackOf(req.GetState()))
	}, func(n int) *ecoutev1.PublishPlaybackResponse {
		return &ecoutev1.PublishPlaybackResponse{Followers: int32(n)}
	})
}

// FollowPlayback streams the state of a pairing until it ends or the
// caller leaves.
func (s *Pairing) FollowPlayback(req *ecoutev1.FollowPlaybackRequest, stream grpc.ServerStreamingServer[ecoutev1.FollowPlaybackResponse]) error {
	ctx := stream.Context()
	c, err := caller(ctx, nil)
	if err != nil {
		return err
	}
	f, err := s.Core.FollowPlayback(ctx, c, req.GetCode(), req.GetPairingId())
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		u, err := f.Next(ctx)
		if err != nil {
			return nil // the caller left
		}
		if err := stream.Send(&ecoutev1.FollowPlaybackResponse{PairingId: u.PairingID, Login: u.Login,
			State: StateOf(u.State), Ended: u.Ended, SentAt: timestamppb.New(u.SentAt)}); err != nil {
			return err
		}
		if u.Ended {
			return nil
		}
	}
}

// PlaybackOf converts a published state.
func PlaybackOf(st *ecoutev1.PlaybackState) core.PlaybackState {
	return core.PlaybackState{CallID: st.GetCallId(), Playing: st.GetPlaying(), Position: dur(st.GetPosition()),
		Speed: st.GetSpeed(), LoopStart: dur(st.GetLoopStart()), LoopEnd: dur(st.GetLoopEnd()), VolumeDB: st.GetVolumeDb(),
		Muted: st.GetMuted(), Balance: st.GetBalance(), PartyMuted: [2]bool{st.GetParty1Muted(), st.GetParty2Muted()},
		Sequence: st.GetSequence()}
}

// StateOf converts a state to send.
func StateOf(st core.PlaybackState) *ecoutev1.PlaybackState {
	out := &ecoutev1.PlaybackState{CallId: st.CallID, Playing: st.Playing, Position: durationpb.New(st.Position),
		Speed: st.Speed, VolumeDb: st.VolumeDB, Muted: st.Muted, Balance: st.Balance, Party1Muted: st.PartyMuted[0],
		Party2Muted: st.PartyMuted[1], Sequence: st.Sequence}
	if st.LoopEnd > st.LoopStart {
		out.LoopStart, out.LoopEnd = durationpb.New(st.LoopStart), durationpb.New(st.LoopEnd)
	}
	return out
}

// dur converts a duration; unset is zero.
func dur(d *durationpb.Duration) time.Duration { return d.AsDuration() }
