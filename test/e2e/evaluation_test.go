package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo's agent account is agent-01, Camille Lefèvre, of a team the demo
// supervisor leads.
const demoAgentName = "Camille Lefèvre"

// TestEvaluationJourney: in the demo, a supervisor opens a call of the demo
// agent that has no evaluation, fills the grid while the player plays,
// pins a timed note, sees it saved, submits it after a confirmation that
// shows the total, and finds it in the evaluation list kept until one year
// from today. Then the agent, in a second console on the same data, opens
// it and acknowledges it.
func TestEvaluationJourney(t *testing.T) {
	requireTmux(t)
	bin := buildEcoute(t)
	data := t.TempDir()
	tm := startTmux(t, 140, 45, nil, bin+" demo --silent --data "+data)
	tm.waitFor("the call list", callRowRE, 90*time.Second)
	time.Sleep(300 * time.Millisecond)

	// The first row of the agent's that is not evaluated ("·").
	row, callTime := -1, ""
	i := 0
	for _, line := range strings.Split(tm.screen(), "\n") {
		if !callRowRE.MatchString(line) {
			continue
		}
		if strings.Contains(line, demoAgentName) && strings.HasSuffix(strings.TrimSpace(line), "·") {
			row, callTime = i, callRowRE.FindString(line)
			break
		}
		i++
	}
	if row < 0 {
		t.Fatalf("no unevaluated call of %s on the first screen:\n%s", demoAgentName, tm.screen())
	}
	for range row {
		tm.keys("j")
	}
	tm.keys("Enter")
	tm.waitFor("the player", positionRE, 20*time.Second)

	tm.keys("e")
	tm.waitFor("the draft", regexp.MustCompile(`Status draft`), 20*time.Second)
	tm.waitFor("the kept-until date", regexp.MustCompile(`Kept until `+regexp.QuoteMeta(oneYearAhead())), 5*time.Second)
	// The player keeps working on the evaluation screen.
	tm.keys("Space")
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := positionRE.FindStringSubmatch(tm.screen())
		if m != nil && seconds(m) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the player did not play on the evaluation screen:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// "1" is the first option of every criterion (yes, 1, the best choice);
	// each answer moves to the next criterion. More presses than criteria
	// end on the overall comment, where digits do nothing.
	for range 30 {
		tm.keys("1")
	}
	tm.waitFor("a live total", regexp.MustCompile(`Total \d+\.\d %`), 10*time.Second)
	// n pins the playback time into the comment.
	tm.keys("n")
	tm.waitFor("the comment field", regexp.MustCompile(`› \[\d{2}:\d{2}\]`), 5*time.Second)
	tm.keys("-l", "reformulation claire")
	tm.keys("Enter")
	tm.waitFor("the pinned note", regexp.MustCompile(`Overall comment: \[\d{2}:\d{2}\] reformulation claire`), 5*time.Second)
	tm.waitFor("the saved state", regexp.MustCompile(`✓ saved \d{2}:\d{2}:\d{2}`), 10*time.Second)

	tm.keys("s")
	m := tm.waitFor("the confirmation", regexp.MustCompile(`Submit this evaluation\? Total (\d+\.\d) %`), 5*time.Second)
	total := m[1]
	tm.keys("Enter")
	tm.waitFor("the submitted state", regexp.MustCompile(`Status submitted · Total `+regexp.QuoteMeta(total)), 10*time.Second)

	// The list shows it, kept one year.
	tm.keys("q")
	tm.waitFor("the call screen", positionRE, 10*time.Second)
	tm.keys("q")
	tm.waitFor("the call list", callRowRE, 10*time.Second)
	tm.keys("v")
	listRow := regexp.MustCompile(regexp.QuoteMeta(callTime) + `\s+` + demoAgentName + `\s+submitted\s+` +
		regexp.QuoteMeta(total) + ` %\s+` + regexp.QuoteMeta(oneYearAhead()))
	tm.waitFor("the evaluation in the list", listRow, 10*time.Second)
	tm.keys("q")
	tm.waitFor("the call list", callRowRE, 10*time.Second)
	tm.keys("q")
	tm.waitExit("q on the call list")

	// The agent acknowledges it.
	ag := startTmux(t, 140, 45, nil, bin+" demo --silent --data "+data+" --as agent")
	ag.waitFor("the agent's call list", callRowRE, 60*time.Second)
	ag.keys("v")
	ag.waitFor("the agent's evaluations", listRow, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	i, pos := 0, -1
	for _, line := range strings.Split(ag.screen(), "\n") {
		if !callRowRE.MatchString(line) {
			continue
		}
		if listRow.MatchString(line) {
			pos = i
			break
		}
		i++
	}
	for range pos {
		ag.keys("j")
	}
	ag.keys("Enter")
	ag.waitFor("the evaluation, read-only", regexp.MustCompile(`Status submitted`), 10*time.Second)
	// The agent cannot change an answer.
	ag.keys("2")
	ag.waitFor("the refusal", regexp.MustCompile(`answer: your role`), 5*time.Second)
	ag.keys("a")
	ag.keys("-l", "lu")
	ag.keys("Enter")
	ag.waitFor("the acknowledgement", regexp.MustCompile(`Status acknowledged`), 10*time.Second)
}

// oneYearAhead is the date an evaluation made today is kept until, as the
// console shows it (local time, the console's default).
func oneYearAhead() string { return time.Now().AddDate(1, 0, 0).Format("2006-01-02") }
