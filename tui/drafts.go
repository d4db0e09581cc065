package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

// A draft is what the user typed into an evaluation the server has not
// confirmed yet. It is written to the user's cache directory on every
// change, so a network blink, a crash or a closed terminal never loses a
// half-filled grid; the evaluation screen deletes it once the server has
// answered, and offers it back when it finds one at start.
//
// The files hold personal judgements about named agents: the directory is
// 0700 and each file 0600, written to a temporary name and renamed so a
// crash mid-write leaves the previous draft whole.

// Draft is one saved draft. Data is the evaluation screen's own encoding;
// the store does not look inside.
type Draft struct {
	// EvaluationID keys the draft: the evaluation's id, or any stable
	// name the screen picks for one not created yet (e.g. "new-<call id>").
	EvaluationID string          `json:"evaluation_id"`
	CallID       string          `json:"call_id,omitempty"`
	Login        string          `json:"login,omitempty"` // whose draft it is
	Saved        time.Time       `json:"saved"`
	Data         json.RawMessage `json:"data"`
}

// ErrNoDraft is returned by Load when there is no draft for the id.
var ErrNoDraft = errors.New("no draft") // i18n: a sentinel, never shown

// DraftStore keeps drafts as one JSON file each in a private directory.
// It is written from tea.Cmds, which may run out of order: PutNewer and
// DropUpTo take the number of the edit they stand for, and an older one
// never overwrites a newer one.
type DraftStore struct {
	dir   string
	clock clock.Clock

	mu sync.Mutex
	// gens orders the writes of each evaluation id: 2×edit for a save,
	// 2×edit+1 for a drop, so a drop wins over the save of its own edit.
	gens map[string]int
}

// DefaultDraftDir is $XDG_CACHE_HOME/ecoute/drafts (or the platform's
// cache directory).
func DefaultDraftDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("drafts: no cache directory: %w", err) // i18n: detail after a translated sentence
	}
	return filepath.Join(base, "ecoute", "drafts"), nil
}

// OpenDrafts opens (creating it 0700 if needed) the draft directory dir;
// "" means DefaultDraftDir. clk stamps the drafts; nil is the real clock.
func OpenDrafts(dir string, clk clock.Clock) (*DraftStore, error) {
	if dir == "" {
		d, err := DefaultDraftDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if clk == nil {
		clk = clock.Real{}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("drafts: create %s: %w", dir, err)
	}
	// MkdirAll keeps an existing directory's mode: tighten it.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("drafts: restrict %s: %w", dir, err)
	}
	return &DraftStore{dir: dir, clock: clk, gens: map[string]int{}}, nil
}

// PutNewer saves d as of edit gen, unless a newer edit was saved or
// dropped already (then it does nothing).
func (s *DraftStore) PutNewer(d Draft, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.newer(d.EvaluationID, 2*gen) {
		return nil
	}
	return s.Save(d)
}

// DropUpTo deletes the draft of id once the server confirmed edit gen,
// unless a newer edit was saved since (that draft is still unsent).
func (s *DraftStore) DropUpTo(id string, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.newer(id, 2*gen+1) {
		return nil
	}
	return s.Delete(id)
}

// newer records order for id unless an operation of a later order was
// done already; mu is held.
func (s *DraftStore) newer(id string, order int) bool {
	if last, ok := s.gens[id]; ok && order < last {
		return false
	}
	s.gens[id] = order
	return true
}

// Dir is where the drafts are kept.
func (s *DraftStore) Dir() string { return s.dir }

// fileName maps an id to a file name that cannot leave the directory.
func fileName(id string) (string, error) {
	if id == "" {
		return "", errors.New("drafts: empty evaluation id") // i18n: a programming error
	}
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "%%%04x", r)
		}
	}
	return b.String() + ".json", nil
}

// Save writes d (stamping Saved) atomically, readable by the user only.
func (s *DraftStore) Save(d Draft) error {
	name, err := fileName(d.EvaluationID)
	if err != nil {
		return err
	}
	d.Saved = s.clock.Now().UTC()
	if len(d.Data) == 0 {
		d.Data = json.RawMessage("null")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("drafts: encode %s: %w", d.EvaluationID, err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("drafts: save %s: %w", d.EvaluationID, err)
	}
	return nil
}

// Load reads the draft for id; ErrNoDraft when there is none.
func (s *DraftStore) Load(id string) (Draft, error) {
	name, err := fileName(id)
	if err != nil {
		return Draft{}, err
	}
	return s.read(filepath.Join(s.dir, name))
}

func (s *DraftStore) read(path string) (Draft, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Draft{}, ErrNoDraft
	}
	if err != nil {
		return Draft{}, fmt.Errorf("drafts: read %s: %w", path, err)
	}
	var d Draft
	if err := json.Unmarshal(b, &d); err != nil {
		return Draft{}, fmt.Errorf("drafts: decode %s: %w", path, err)
	}
	return d, nil
}

// Delete forgets the draft for id (once the server confirmed it); no
// draft is not an error.
func (s *DraftStore) Delete(id string) error {
	name, err := fileName(id)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("drafts: delete %s: %w", id, err)
	}
	return nil
}

// List returns every draft, newest first. A damaged file is skipped, not
// fatal: the others can still be offered back.
func (s *DraftStore) List() ([]Draft, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("drafts: list %s: %w", s.dir, err)
	}
	var out []Draft
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		d, err := s.read(filepath.Join(s.dir, e.Name()))
		if err != nil {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Draft) int { return b.Saved.Compare(a.Saved) })
	return out, nil
}

// ListFor returns login's drafts, newest first (several people may share
// one machine account in a training room).
func (s *DraftStore) ListFor(login string) ([]Draft, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d Draft) bool { return d.Login != login }), nil
}
