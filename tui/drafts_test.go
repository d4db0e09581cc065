package tui

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

func TestDraftStoreRoundTripPrivateFiles(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	clk := clock.NewFake(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	s, err := OpenDrafts("", clk)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "ecoute", "drafts"); s.Dir() != want {
		t.Errorf("dir %s, want %s", s.Dir(), want)
	}
	if _, err := s.Load("ev-1"); !errors.Is(err, ErrNoDraft) {
		t.Fatalf("load before save: %v, want ErrNoDraft", err)
	}
	data := json.RawMessage(`{"answers":{"greeting":3},"comment":"très bien"}`)
	if err := s.Save(Draft{EvaluationID: "ev-1", CallID: "call-7", Login: "marie", Data: data}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	// An id with characters that mean something to a file system stays
	// inside the directory.
	if err := s.Save(Draft{EvaluationID: "../new/call 8", Login: "paul", Data: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("ev-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.CallID != "call-7" || got.Login != "marie" || string(got.Data) != string(data) || !got.Saved.Equal(clk.Now().Add(-time.Minute)) {
		t.Errorf("loaded %+v", got)
	}
	st, err := os.Stat(s.Dir())
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 2 {
		t.Fatalf("%d files in the draft dir, want 2 (no temporaries left)", len(entries))
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].EvaluationID != "../new/call 8" {
		t.Fatalf("list (newest first) = %+v, %v", list, err)
	}
	mine, _ := s.ListFor("marie")
	if len(mine) != 1 || mine[0].EvaluationID != "ev-1" {
		t.Errorf("ListFor(marie) = %+v", mine)
	}
	// A damaged file does not hide the others.
	if err := os.WriteFile(filepath.Join(s.Dir(), "broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Errorf("list with a damaged file: %d drafts, want 2", len(list))
	}
	if err := s.Delete("ev-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("ev-1"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Load("ev-1"); !errors.Is(err, ErrNoDraft) {
		t.Errorf("load after delete: %v", err)
	}
	if err := s.Save(Draft{}); err == nil {
		t.Error("a draft without an id was saved")
	}
}

func TestDraftStoreTightensExistingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "drafts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDrafts(dir, nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("existing dir left at %v", st.Mode().Perm())
	}
}
