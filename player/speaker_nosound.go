//go:build nosound || !cgo

package player

import "errors"

// openSpeaker in a build without cgo or with the nosound tag: the speaker
// needs ALSA through cgo, so the null output is the only one.
func openSpeaker(*Engine) (string, error) {
	return "", errors.New("built without sound support (nosound)")
}
