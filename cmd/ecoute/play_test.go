package main

import (
	"strings"
	"testing"
)

// The party flags are checked before anything plays, and refused on a
// recording with one channel, saying why.
func TestPlayPartyFlags(t *testing.T) {
	mono := "../../player/testdata/sweep.mp3"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mute-party", "3", mono}, "give 1 or 2"},
		{[]string{"--balance", "2", mono}, "give -1 to 1"},
		{[]string{"--silent", "--no-tui", "--mute-party", "2", mono}, "has one channel"},
	} {
		err := runPlay(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
