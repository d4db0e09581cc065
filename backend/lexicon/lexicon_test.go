package lexicon

import (
	"strings"
	"testing"
)

func TestHits(t *testing.T) {
	l := Default()
	cases := []struct {
		text     string
		category string
		span     string // the text the hit must cover
	}{
		// French
		{"Le client est malade depuis lundi.", Health, "malade"},
		{"Il parle de sa maladie.", Health, "maladie"},
		{"Conseillère en ARRÊT MALADIE la semaine passée.", Health, "ARRÊT MALADIE"},
		{"client hospitalisé", Health, "hospitalisé"},
		{"Elle est diabétique", Health, "diabétique"},
		{"Il a évoqué le syndicat.", TradeUnion, "syndicat"},
		{"deux déléguées syndicales", TradeUnion, "déléguées syndicales"},
		{"deux délégués syndicaux", TradeUnion, "syndicaux"},
		{"Il est à la CGT", TradeUnion, "CGT"},
		{"client musulman", Religion, "musulman"},
		{"pendant le ramadan", Religion, "ramadan"},
		{"un accent étranger marqué", EthnicOrigin, "accent étranger"},
		{"Sa vie sexuelle ne nous regarde pas", SexLife, "vie sexuelle"},
		{"propos de gauchiste", Political, "gauchiste"},
		{"il est athée", Philosophical, "athée"},
		{"une vraie franc-maçonne", Philosophical, "franc-maçonne"},
		{"Quel imbécile !", Insult, "imbécile"},
		{"Conseiller complètement DÉBILE", Insult, "DÉBILE"},
		{"quel con", Insult, "con"},
		{"la cliente est une idiote", Insult, "idiote"},
		{"Le client est malade", Health, "malade"},
		{"l'hôpital a appelé", Health, "hôpital"},
		{"sans accents : hopital", Health, "hopital"},
		// English
		{"The caller was sick last week.", Health, "sick"},
		{"mentions her ILLNESS", Health, "ILLNESS"},
		{"was hospitalized twice", Health, "hospitalized"},
		{"on sick leave", Health, "sick leave"},
		{"a trade union rep", TradeUnion, "trade union"},
		{"She is a unionist.", TradeUnion, "unionist"},
		{"a devout Christian", Religion, "Christian"},
		{"goes to church", Religion, "church"},
		{"heavy foreign accent", EthnicOrigin, "foreign accent"},
		{"his sexuality", SexLife, "sexuality"},
		{"far-right views", Political, "far-right"},
		{"an atheist", Philosophical, "atheist"},
		{"what an idiot", Insult, "idiot"},
		{"the agent is stupid", Insult, "stupid"},
	}
	for _, tc := range cases {
		hits := l.Check(tc.text)
		found := false
		for _, h := range hits {
			if h.Category == tc.category && tc.text[h.Start:h.End] == tc.span && h.Text == tc.span {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: want %s on %q, got %+v", tc.text, tc.category, tc.span, hits)
		}
	}
}

func TestNearMisses(t *testing.T) {
	l := Default()
	for _, text := range []string{
		// French
		"La syndication des contenus est en panne.",
		"Appel traité deux fois, avec malice.",
		"Le client a reçu sa facture, contrat résilié.",
		"Conseillère concise et constructive, bon contrôle du dossier.",
		"Écoute active, reformulation correcte, prise de congé soignée.",
		"Le client voulait connaître l'origine de la facture.",
		"Malaise dans le traitement du dossier : délai non annoncé.",
		"La malachite n'a rien à voir.",
		"Le raccordement est prévu en juillet.",
		// English
		"The syndication feed failed.",
		"Agent was polite and concise; the union of both files was sent.",
		"Call cancelled at the customer's request.",
		"The agent illustrated the offer clearly.",
		"Good racing pace through the script.",
		"Asked for the account number before any detail.",
		"Christmas offer explained correctly.",
		"Condition checked; contract confirmed.",
	} {
		if hits := l.Check(text); len(hits) > 0 {
			t.Errorf("%q: unexpected hits %+v", text, hits)
		}
	}
}

func TestSpansAreBytesOfTheOriginal(t *testing.T) {
	l := Default()
	text := "Très professionnel — mais « Dépression » évoquée et syndicat cité."
	hits := l.Check(text)
	if len(hits) != 2 {
		t.Fatalf("want 2 hits, got %+v", hits)
	}
	if text[hits[0].Start:hits[0].End] != "Dépression" || hits[0].Category != Health || hits[0].Lang != "fr" {
		t.Errorf("first hit %+v", hits[0])
	}
	if text[hits[1].Start:hits[1].End] != "syndicat" || hits[1].Category != TradeUnion {
		t.Errorf("second hit %+v", hits[1])
	}
	if hits[0].Start > hits[1].Start {
		t.Error("hits not in text order")
	}
}

func TestLongestOfSameCategory(t *testing.T) {
	hits := Default().Check("arrêt maladie")
	if len(hits) != 1 || hits[0].Text != "arrêt maladie" {
		t.Errorf("want one phrase hit, got %+v", hits)
	}
}

func TestDataFilesCoverEveryCategory(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		b, err := dataFS.ReadFile("data/" + lang + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Categories {
			if !strings.Contains(string(b), "["+c+"]") {
				t.Errorf("%s lexicon lacks [%s]", lang, c)
			}
		}
	}
	if Default().Size() < 200 {
		t.Errorf("only %d entries loaded", Default().Size())
	}
}

func TestParseRefusesBadData(t *testing.T) {
	for _, src := range []string{"malade\n", "[gossip]\nx\n", "[health]\nab*\n", "[health]\ntwo words*\n"} {
		if _, err := Parse("fr", []byte(src)); err == nil {
			t.Errorf("%q accepted", src)
		}
	}
}

// BenchmarkCheck: the check runs on every save of a draft (autosave), so it
// must stay far below a network round trip.
func BenchmarkCheck(b *testing.B) {
	l := Default()
	text := strings.Repeat("Accueil correct, reformulation précise, le client évoque sa maladie et le syndicat. ", 6)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if len(l.Check(text)) == 0 {
			b.Fatal("no hit")
		}
	}
}
