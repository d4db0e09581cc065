package demo

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/internal/mp3frame"
)

func TestGenerate(t *testing.T) {
	lib, err := LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC) // a Monday
	ds, err := Generate(now, lib)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Teams) != 3 || len(ds.Agents) != 12 || len(ds.Campaigns) != 2 {
		t.Fatalf("%d teams, %d agents, %d campaigns", len(ds.Teams), len(ds.Agents), len(ds.Campaigns))
	}
	var received, kept, optedOut int
	for _, d := range ds.Days {
		received += d.Received
		kept += d.Kept
		optedOut += d.OptedOut
	}
	if kept != len(ds.Calls) {
		t.Errorf("days say %d kept, %d calls", kept, len(ds.Calls))
	}
	if rate := float64(kept) / float64(received); rate < 0.035 || rate > 0.065 {
		t.Errorf("kept %d of %d (%.3f), want about 5%%", kept, received, rate)
	}
	if optedOut == 0 {
		t.Error("no opted-out call counted")
	}
	e164 := regexp.MustCompile(`^\+33[1-9][0-9]{8}$`)
	perAgent := map[string]int{}
	var evaluated, old int
	first, last := now, time.Time{}
	for _, c := range ds.Calls {
		perAgent[c.AgentID]++
		if c.Start.Before(first) {
			first = c.Start
		}
		if c.End.After(last) {
			last = c.End
		}
		d := c.End.Sub(c.Start)
		if d < MinDuration || d > MaxDuration+lib.FrameDuration() {
			t.Errorf("%s lasts %v", c.ExternalID, d)
		}
		if !c.ConsentAsked.Before(c.ConsentGiven) || c.ConsentGiven.After(c.Start) {
			t.Errorf("%s: consent %v/%v not before start %v", c.ExternalID, c.ConsentAsked, c.ConsentGiven, c.Start)
		}
		if !e164.MatchString(c.Customer.Phone) || c.Customer.Name == "" || c.Customer.Address == "" || c.Customer.Number == "" {
			t.Errorf("%s: customer %+v", c.ExternalID, c.Customer)
		}
		if now.Sub(c.Start) > 48*time.Hour {
			old++
			if c.Evaluated {
				evaluated++
			}
		} else if c.Evaluated {
			t.Errorf("%s evaluated though less than 2 days old", c.ExternalID)
		}
	}
	if len(perAgent) != 12 {
		t.Errorf("only %d agents have kept calls", len(perAgent))
	}
	if r := float64(evaluated) / float64(old); r < 0.15 || r > 0.45 {
		t.Errorf("%.2f of old calls evaluated, want about 0.3", r)
	}
	if now.Sub(first) > Days*24*time.Hour || last.After(now) || now.Sub(last) > 3*24*time.Hour {
		t.Errorf("calls span %v – %v for now %v", first, last, now)
	}
}

func TestComposeIsValidMP3(t *testing.T) {
	lib, err := LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	r := newRand()
	for _, target := range []time.Duration{20 * time.Second, 150 * time.Second, 6 * time.Minute} {
		plan, dur := lib.Plan(r, target)
		if dur < target || dur > target+lib.FrameDuration() {
			t.Errorf("plan for %v lasts %v", target, dur)
		}
		c := lib.Compose(plan)
		ix, err := mp3frame.Scan(bytes.NewReader(c.Data))
		if err != nil {
			t.Fatalf("composed audio does not scan: %v", err)
		}
		if len(ix.Offsets) != len(c.Offsets) || ix.Duration() != dur {
			t.Errorf("scan finds %d frames (%v), compose says %d (%v)", len(ix.Offsets), ix.Duration(), len(c.Offsets), dur)
		}
		for i := range ix.Offsets {
			if ix.Offsets[i] != c.Offsets[i] {
				t.Fatalf("frame %d at %d, compose says %d", i, ix.Offsets[i], c.Offsets[i])
			}
		}
		// Composed peaks agree with peaks decoded from the composed file.
		decoded, err := audio.Peaks(c.Data, lib.SampleRate/20)
		if err != nil {
			t.Fatal(err)
		}
		if d := len(decoded) - len(c.Peaks); d < -1 || d > 1 {
			t.Errorf("%d composed peaks, %d decoded", len(c.Peaks), len(decoded))
		}
		var diff, n int
		for i := range min(len(decoded), len(c.Peaks)) {
			diff += abs(int(decoded[i]) - int(c.Peaks[i]))
			n++
		}
		mean := float64(diff) / float64(n)
		t.Logf("%v: composed vs decoded peaks differ by %.1f on average", target, mean)
		if mean > 25 {
			t.Errorf("composed peaks differ from decoded ones by %.1f on average", mean)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
