package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestTrainingJourney: in the demo, the trainer opens their draft coaching
// session, plays its clip with the agent's screen captures drawn beside
// the player (half-block characters, through tmux) and following the
// playback position, and sets a goal on a grid criterion; then the demo
// agent, in a second console on the same data, opens the session shared
// with them and acknowledges it.
func TestTrainingJourney(t *testing.T) {
	requireTmux(t)
	bin := buildEcoute(t)
	data := t.TempDir()
	tm := startTmux(t, 120, 40, nil, bin+" demo --silent --data "+data+" --as trainer")
	tm.waitFor("the call list", callRowRE, 90*time.Second)

	tm.keys("T")
	tm.waitFor("the sessions", regexp.MustCompile(`Mise en attente annoncée\s+Sarah Benali\s+\S+.*draft`), 10*time.Second)
	tm.keys("Enter")
	tm.waitFor("the session", regexp.MustCompile(`Clips \(1\)`), 10*time.Second)
	tm.waitFor("the clip's captures", regexp.MustCompile(`\d+ screen captures`), 5*time.Second)
	tm.waitFor("the session's retention", regexp.MustCompile(`kept until `+regexp.QuoteMeta(oneYearAhead())+` \(one year\)`), 5*time.Second)

	tm.keys("Enter")
	tm.waitFor("the capture at the start", regexp.MustCompile(`Screen at 0:00 \(1 of \d+, png \d+×\d+\)`), 20*time.Second)
	tm.waitFor("the capture drawn", regexp.MustCompile(`▀{20,}`), 10*time.Second)
	// Playing moves the position, and the capture shown follows it: it is
	// the last one at or before the position.
	tm.keys("Space")
	labelRE := regexp.MustCompile(`Screen at (\d+):(\d{2}) \((\d+) of`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := tm.screen()
		pos, lab := positionRE.FindStringSubmatch(s), labelRE.FindStringSubmatch(s)
		if pos != nil && lab != nil && seconds(pos) >= 4 {
			at, _ := strconv.Atoi(lab[2])
			n, _ := strconv.Atoi(lab[3])
			if n > 1 && at > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the capture did not follow the playback:\n%s", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.keys("Space")
	// A seek back to the start shows the first capture again.
	tm.keys("0")
	tm.waitFor("the first capture after the seek", regexp.MustCompile(`0:00 / \d+:\d{2}[\s\S]*Screen at 0:00 \(1 of`), 10*time.Second)

	tm.keys("q")
	tm.waitFor("the session", regexp.MustCompile(`Goals \(0\)`), 10*time.Second)
	due := time.Now().AddDate(0, 2, 0).Format("2006-01-02")
	tm.keys("g")
	tm.waitFor("the goal prompt", regexp.MustCompile(`Goal: GRID CRITERION TARGET DUE`), 5*time.Second)
	tm.keys("-l", "inbound-service greeting 80 "+due)
	tm.keys("Enter")
	tm.waitFor("the goal", regexp.MustCompile(`Goals \(1\)[\s\S]*Formule d'accueil.*: target 80 by `+due), 10*time.Second)
	tm.keys("q")
	tm.keys("q")
	tm.waitFor("the call list", callRowRE, 10*time.Second)
	tm.keys("q")
	tm.waitExit("q on the call list")

	ag := startTmux(t, 120, 40, nil, bin+" demo --silent --data "+data+" --as agent")
	ag.waitFor("the agent's call list", callRowRE, 60*time.Second)
	ag.keys("T")
	ag.waitFor("the agent's shared session", regexp.MustCompile(`Reformulation et prise de congé.*shared`), 10*time.Second)
	ag.keys("Enter")
	ag.waitFor("the session", regexp.MustCompile(`Clips \(\d+\)`), 10*time.Second)
	if regexp.MustCompile(`screen captures`).MatchString(ag.screen()) {
		t.Errorf("the agent is told about screen captures:\n%s", ag.screen())
	}
	ag.keys("a")
	ag.waitFor("the acknowledgement prompt", regexp.MustCompile(`Acknowledge — an optional comment`), 5*time.Second)
	ag.keys("-l", "lu, merci")
	ag.keys("Enter")
	ag.waitFor("the acknowledged session", regexp.MustCompile(`Reformulation et prise de congé\s+acknowledged`), 10*time.Second)
	ag.waitFor("the agent's comment", regexp.MustCompile(`Agent's comment: lu, merci`), 5*time.Second)
}
