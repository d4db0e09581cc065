package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// logPath is where stderr goes while a full-screen UI runs.
func logPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s: %w", T("ecoute.errLogDir"), err)
	}
	return filepath.Join(dir, "ecoute", "ecoute.log"), nil
}

func logPathHint() string {
	p, err := logPath()
	if err != nil {
		return "$XDG_CACHE_HOME/ecoute/ecoute.log"
	}
	return p
}

// withStderrLog runs f with the process's file descriptor 2 pointing at the
// log file, so that C libraries (ALSA) writing to stderr cannot corrupt the
// screen. f also gets the file for its own diagnostics. On return stderr is
// restored, and if anything was logged the user is told where.
func withStderrLog(f func(log *os.File) error) error {
	path, err := logPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", T("ecoute.errCreateLogDir"), err)
	}
	log, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", T("ecoute.errOpenLog"), err)
	}
	defer log.Close()
	var before int64
	if st, err := log.Stat(); err == nil {
		before = st.Size()
	}
	restore, err := redirectStderr(log)
	if err != nil {
		return err
	}
	runErr := f(log)
	restore()
	if st, err := log.Stat(); err == nil && st.Size() > before {
		fmt.Fprintln(os.Stderr, T("ecoute.logged", path))
	}
	return runErr
}
