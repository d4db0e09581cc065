package store

import (
	"context"
	"errors"
	"os"
	"testing"
)

func TestIngestStore(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	s, path := openTest(t)
	fixture(t, s, 2)
	keys, err := s.AudioKeys(ctx)
	if err != nil || len(keys) != 2 || !keys["k"] || !keys[""] {
		t.Errorf("audio keys %v, %v; want k and the pending call's empty key", keys, err)
	}
	a, wf, err := s.IngestedAudio(ctx, "a1-01")
	if err != nil || a.Key != "k" || a.Size != 10 || len(wf.FrameOffsets) != 2 || wf.FrameOffsets[1] != 144 {
		t.Errorf("ingested audio %+v %+v, %v", a, wf, err)
	}
	// Pending calls are invisible to GetCall but not here.
	if _, _, err := s.IngestedAudio(ctx, "pending"); err != nil {
		t.Errorf("pending call: %v", err)
	}
	if _, _, err := s.IngestedAudio(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("the store is expected in WAL mode: %v", err)
	}
	if err := s.SyncCommitted(ctx); err != nil {
		t.Errorf("sync: %v", err)
	}
}
