package directory

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func parse(t *testing.T, s string) File {
	t.Helper()
	f, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseTheSpreadsheetVariants(t *testing.T) {
	want := []Row{
		{Line: 2, Kind: KindTeam, ID: "T-SUP", Name: "Support"},
		{Line: 3, Kind: KindCampaign, ID: "C-BOX", Name: "Offre Box", Client: "Orange"},
		{Line: 4, Kind: KindAgent, ID: "1001", Name: "Zoé Lefèvre", Team: "T-SUP"},
		{Line: 5, Kind: KindAgent, ID: "1002", Name: "Jean Dupont", Team: "T-SUP", Ended: true},
	}
	english := "kind,id,name,team,client,status\n" +
		"team,T-SUP,Support,,,\n" +
		"campaign,C-BOX,Offre Box,,Orange,\n" +
		"agent,1001,Zoé Lefèvre,T-SUP,,active\n" +
		"agent,1002,Jean Dupont,T-SUP,,ended\n"
	// A French spreadsheet: headers in French, columns in another order,
	// semicolons, CRLF, a byte order mark, quoted fields, French keywords.
	french := "\ufeffStatut;Type;Identifiant;Nom;Équipe;Client\r\n" +
		";Équipe;T-SUP;Support;;\r\n" +
		";campagne;C-BOX;\"Offre Box\";;Orange\r\n" +
		"actif;agent;1001;\"Zoé Lefèvre\";T-SUP;\r\n" +
		"terminé;agent;1002;Jean Dupont;T-SUP;\r\n"
	cp1252, err := charmap.Windows1252.NewEncoder().String(strings.TrimPrefix(french, "\ufeff"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{"english": english, "french": french, "windows-1252": cp1252,
		"tabs": strings.ReplaceAll(english, ",", "\t")} {
		t.Run(name, func(t *testing.T) {
			f := parse(t, in)
			if len(f.Errors) > 0 {
				t.Fatalf("errors: %v", f.Errors)
			}
			if f.Windows1252 != (name == "windows-1252") {
				t.Errorf("Windows1252 = %v", f.Windows1252)
			}
			if fmt.Sprint(f.Rows) != fmt.Sprint(want) {
				t.Errorf("rows\n got %v\nwant %v", f.Rows, want)
			}
		})
	}
}

func TestParseNamesEveryBadLine(t *testing.T) {
	in := "# exported from the PBX\n" +
		"kind;id;name;team\n" +
		"agent;1001;Zoé;T1\n" +
		"\n" +
		"robot;9;R2;T1\n" + // line 5
		"agent;;Sans Id;T1\n" +
		"agent;1003;;T1\n" +
		"agent;1004;Sans Équipe;\n" +
		"team;T1;Un;T2\n" +
		"agent;1001;Zoé Bis;T1\n" + // line 10
		"agent;1005;\"Sur\ndeux lignes\";T1;trop\n" + // lines 11-12
		"agent;1006;Fin;T1\n" // line 13
	f := parse(t, in)
	want := []string{
		`line 5: kind "robot": use team, agent or campaign`,
		"line 6: agent : the id is empty",
		"line 7: agent 1003: the name is empty",
		"line 8: agent 1004: an active agent needs a team",
		"line 9: team T1: only an agent row names a team",
		"line 10: agent 1001 is already on line 3",
		"line 11: 5 fields, but the header names 4 columns",
	}
	var got []string
	for _, e := range f.Errors {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}
	if len(f.Rows) != 2 || f.Rows[0].Line != 3 || f.Rows[1].Line != 13 {
		t.Errorf("rows: %+v", f.Rows)
	}
}

func TestParseRefusesABadHeader(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "the file is empty",
		"kind,id,nom,stauts\n":       `line 1: unknown column "stauts"`,
		"id,name\nagent,1\n":         `line 1: no "kind" column`,
		"kind,id,name,type\nx,y,z\n": `line 1: column "kind" is given twice`,
	} {
		f := parse(t, in)
		if len(f.Errors) != 1 || !strings.HasPrefix(f.Errors[0].Error(), want) {
			t.Errorf("%q: %v, want %q", in, f.Errors, want)
		}
		if len(f.Rows) != 0 {
			t.Errorf("%q: rows %v", in, f.Rows)
		}
	}
}

func TestParseEndedRowsNeedOnlyAnID(t *testing.T) {
	f := parse(t, "kind,id,status\nagent,1001,ended\ncampaign,C1,Ended\n")
	if len(f.Errors) != 0 || len(f.Rows) != 2 || !f.Rows[0].Ended || !f.Rows[1].Ended {
		t.Fatalf("%+v", f)
	}
	f = parse(t, "kind,id,status\nagent,1001,maybe\n")
	if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Error(), `status "maybe"`) {
		t.Fatalf("%+v", f.Errors)
	}
}
