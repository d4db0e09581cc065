package main

import (
	"context"

	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/tui"
)

// The full-screen player of `ecoute play` (without --no-tui), in the run's
// language.
func init() {
	localPlayerUI = func(ctx context.Context, eng *player.Engine, tr player.Track, title string) error {
		return tui.RunLocalPlayer(ctx, eng, tr, title, lang)
	}
}
