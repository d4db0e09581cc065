//go:build !unix

package main

import "os"

// redirectStderr is a no-op where fd 2 cannot be swapped.
func redirectStderr(*os.File) (restore func(), err error) { return func() {}, nil }
