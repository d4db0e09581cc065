//go:build unix

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// redirectStderr points fd 2 at f and returns a function that puts the
// original back. os.Stderr keeps its fd number, so Go writes follow too.
func redirectStderr(f *os.File) (restore func(), err error) {
	saved, err := unix.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("save stderr: %w", err) // i18n: a system failure, detail after a translated sentence
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		unix.Close(saved)
		return nil, fmt.Errorf("redirect stderr: %w", err) // i18n: a system failure, detail after a translated sentence
	}
	return func() {
		_ = unix.Dup2(saved, 2)
		_ = unix.Close(saved)
	}, nil
}
