// Package demo generates the demo data set: teams, agents, campaigns and 30
// days of sampled calls whose audio is composed from the embedded dialogue
// clips. The backend's SeedDemo stores it; nothing here touches storage.
package demo

import (
	crand "crypto/rand"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ecoute/ecoute/backend/sampling"
)

// Team, Agent and Campaign are the reference data.
type Team struct{ ID, Name string }

// Agent is one call-centre agent.
type Agent struct{ ID, Name, TeamID string }

// Campaign is a client's service.
type Campaign struct{ ID, Name, ClientName string }

// Customer is a caller's identity (R5).
type Customer struct{ Name, Phone, Address, Number string }

// Call is one kept call. Its audio is made on demand by Compose.
type Call struct {
	ExternalID   string
	AgentID      string
	TeamID       string
	CampaignID   string
	Direction    string
	Start, End   time.Time
	Customer     Customer
	ConsentAsked time.Time
	ConsentGiven time.Time
	Ring         time.Duration
	BackOffice   time.Duration
	ActivityType string
	Evaluated    bool
	Plan         []Segment // the frames the audio is made of
}

// Day is one day of traffic: what was received, how much the sampling kept,
// how many callers opted out (those are only counted, R3).
type Day struct {
	Day                      time.Time
	Received, Kept, OptedOut int
}

// Dataset is everything the demo needs.
type Dataset struct {
	Teams     []Team
	Agents    []Agent
	Campaigns []Campaign
	Calls     []Call
	Days      []Day
}

// Parameters of the traffic.
const (
	Days          = 30
	CallsPerDay   = 20   // per agent, on average
	KeepRate      = 0.05 // R2
	OptOutRate    = 0.03
	EvaluatedRate = 0.30
	MinDuration   = 20 * time.Second
	MaxDuration   = 6 * time.Minute
)

// Teams of the demo.
var Teams = []Team{
	{"team-energie", "Équipe Énergie"},
	{"team-banque", "Équipe Banque"},
	{"team-support", "Équipe Support"},
}

// Campaigns of the demo.
var Campaigns = []Campaign{
	{"camp-azur", "Azur Énergie — service clients", "Azur Énergie"},
	{"camp-opinion", "Opinion Plus — enquête satisfaction", "Opinion Plus"},
}

var agentNames = []string{
	"Camille Lefèvre", "Julien Moreau", "Sarah Benali", "Thomas Girard",
	"Inès Fontaine", "Nicolas Roux", "Laura Chevalier", "Mehdi Haddad",
	"Émilie Laurent", "Antoine Marchand", "Chloé Perrin", "Hugo Lambert",
}

var (
	firstNames = []string{"Jean", "Marie", "Pierre", "Nathalie", "Philippe", "Isabelle", "Michel", "Sylvie",
		"Alain", "Catherine", "Patrick", "Sandrine", "Christophe", "Valérie", "Olivier", "Sophie", "Françoise",
		"Bernard", "Martine", "Karim", "Fatima", "Yann", "Lucie", "Gérard", "Hélène", "Léa", "Manon", "Louis"}
	lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
		"Leroy", "Moreau", "Simon", "Michel", "Lefebvre", "Garcia", "David", "Bertrand", "Morel", "Fournier",
		"Mercier", "Blanc", "Guerin", "Boyer", "Garnier", "Faure", "André", "Rousseau", "Bonnet", "Gauthier"}
	streets = []string{"rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur",
		"rue des Lilas", "chemin des Vignes", "place de la Mairie", "rue du Moulin", "allée des Tilleuls",
		"avenue de la Gare", "rue Émile Zola", "impasse des Acacias"}
	cities = []struct{ Post, Name string }{{"69003", "Lyon"}, {"13006", "Marseille"}, {"31000", "Toulouse"},
		{"44000", "Nantes"}, {"33800", "Bordeaux"}, {"59000", "Lille"}, {"67000", "Strasbourg"},
		{"34000", "Montpellier"}, {"35000", "Rennes"}, {"21000", "Dijon"}, {"06000", "Nice"}, {"75011", "Paris"}}
	activityTypes = []string{"information", "réclamation", "modification de contrat", "facturation", "résiliation"}
)

// newRand is a ChaCha8 generator keyed from crypto/rand: the sampling of the
// demo must be as unpredictable as the real one (R2) and fast to draw from.
func newRand() *rand.Rand {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

func paris() *time.Location {
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}

// Generate makes the data set for 30 days ending at now. The audio plan of
// each call refers to lib; call Compose to get the bytes.
func Generate(now time.Time, lib *Library) (*Dataset, error) {
	r := newRand()
	ds := &Dataset{Teams: Teams, Campaigns: Campaigns}
	for i, n := range agentNames {
		ds.Agents = append(ds.Agents, Agent{ID: fmt.Sprintf("agent-%02d", i+1), Name: n, TeamID: Teams[i%len(Teams)].ID})
	}
	loc := paris()
	today := now.In(loc)
	d0 := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	seq := 0
	for di := Days - 1; di >= 0; di-- {
		day := d0.AddDate(0, 0, -di)
		if day.Weekday() == time.Sunday {
			continue
		}
		dayStat := Day{Day: day}
		for _, a := range ds.Agents {
			received := CallsPerDay - 4 + r.IntN(9)
			if day.Weekday() == time.Saturday {
				received /= 2
			}
			// Callers who opt out are refused at upload: counted, never stored.
			optedOut := 0
			for range received {
				if r.Float64() < OptOutRate {
					optedOut++
				}
			}
			recorded := received - optedOut
			// The real sampling's quota (stratified per agent, randomised
			// rounding). Calls are generated independently, so making only
			// the kept ones is the same as drawing them from all recorded;
			// composing audio for the 95% the job would delete costs
			// seconds at every demo start.
			kept := sampling.Quota(recorded, KeepRate, r)
			for range kept {
				c, ok := makeCall(r, lib, a, day, now, seq)
				if !ok {
					continue
				}
				seq++
				ds.Calls = append(ds.Calls, c)
				dayStat.Kept++
			}
			dayStat.Received += recorded
			dayStat.OptedOut += optedOut
		}
		ds.Days = append(ds.Days, dayStat)
	}
	return ds, nil
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// duration is log-normal around 2 minutes, clamped to 20 s – 6 min, so most
// calls last 1 to 3 minutes.
func duration(r *rand.Rand) time.Duration {
	d := time.Duration(120*math.Exp(0.45*r.NormFloat64())) * time.Second
	return min(max(d, MinDuration), MaxDuration)
}

func makeCall(r *rand.Rand, lib *Library, a Agent, day, now time.Time, seq int) (Call, bool) {
	dur := duration(r)
	// Opening hours 8:30–19:00, Paris time.
	start := day.Add(8*time.Hour + 30*time.Minute + time.Duration(r.Int64N(int64(10*time.Hour+30*time.Minute-dur))))
	start = start.Truncate(time.Second)
	if start.Add(dur).After(now) {
		return Call{}, false // today's calls are only those already over
	}
	camp := Campaigns[0]
	switch a.TeamID {
	case "team-banque":
		camp = Campaigns[1]
	case "team-support":
		camp = pick(r, Campaigns)
	}
	dir := "inbound"
	if camp.ID == "camp-opinion" {
		dir = "outbound"
	}
	city := pick(r, cities)
	prefix := "AZ"
	if camp.ID == "camp-opinion" {
		prefix = "OP"
	}
	plan, audioDur := lib.Plan(r, dur)
	asked := start.Add(-time.Duration(8+r.IntN(8)) * time.Second)
	c := Call{
		ExternalID: fmt.Sprintf("demo-%s-%s-%04d", day.Format("20060102"), a.ID, seq),
		AgentID:    a.ID, TeamID: a.TeamID, CampaignID: camp.ID, Direction: dir,
		Start: start, End: start.Add(audioDur),
		Customer: Customer{
			Name:    pick(r, firstNames) + " " + pick(r, lastNames),
			Phone:   phone(r),
			Address: fmt.Sprintf("%d %s, %s %s", 1+r.IntN(120), pick(r, streets), city.Post, city.Name),
			Number:  fmt.Sprintf("%s-%07d", prefix, r.IntN(10_000_000)),
		},
		ConsentAsked: asked,
		ConsentGiven: asked.Add(time.Duration(2+r.IntN(4)) * time.Second),
		Ring:         time.Duration(2+r.IntN(24)) * time.Second,
		BackOffice:   time.Duration(r.IntN(91)) * time.Second,
		ActivityType: pick(r, activityTypes),
		Evaluated:    now.Sub(start) > 48*time.Hour && r.Float64() < EvaluatedRate,
		Plan:         plan,
	}
	return c, true
}

// phone is a French number in E.164: mobile (6, 7) or geographic (1–5).
func phone(r *rand.Rand) string {
	lead := pick(r, []int{6, 6, 6, 7, 1, 2, 3, 4, 5})
	return fmt.Sprintf("+33%d%08d", lead, r.IntN(100_000_000))
}
