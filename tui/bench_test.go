package tui

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/themes"
)

// benchCalls is the size of the list the console must stay smooth with.
const benchCalls = 100_000

// loadedApp is an App at 120×40 on the calls screen with benchCalls rows
// loaded page by page, as scrolling to the end would have loaded them.
func loadedApp(b *testing.B) *App {
	b.Helper()
	b.Setenv("NO_COLOR", "")
	fb := &fakeBackend{n: benchCalls}
	th, _ := themes.Lookup("dark")
	a := newApp(context.Background(), fb, &fakeEngine{}, th, "localhost:7443")
	a.c.Loc = time.UTC
	a.c.Principal = &ecoutev1.Principal{Login: "ana", Role: "supervisor"}
	s := newCallsScreen(a.c)
	a.stack = []Screen{s}
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	token := ""
	for {
		resp, err := fb.ListCalls(context.Background(), client.CallQuery{PageSize: 500, PageToken: token})
		if err != nil {
			b.Fatal(err)
		}
		s.Update(callsPageMsg{token: token, resp: resp})
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
	}
	if len(s.list.rows) != benchCalls {
		b.Fatalf("%d rows loaded, want %d", len(s.list.rows), benchCalls)
	}
	return a
}

// BenchmarkCallsKeypressToFrame is the time from a key to the next frame
// (Update then the full View) on a list of 100,000 loaded calls, with the
// cursor in the middle of the list.
func BenchmarkCallsKeypressToFrame(b *testing.B) {
	for _, k := range []struct {
		name string
		msg  tea.KeyPressMsg
	}{
		{"down", tea.KeyPressMsg{Code: tea.KeyDown}},
		{"pgdn", tea.KeyPressMsg{Code: tea.KeyPgDown}},
	} {
		b.Run(k.name, func(b *testing.B) {
			a := loadedApp(b)
			s := a.top().(*callsScreen)
			s.list.cursor = benchCalls / 2
			s.list.clamp()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if s.list.cursor >= benchCalls-200 {
					s.list.cursor = benchCalls / 2
				}
				a.Update(k.msg)
				_ = a.View()
			}
		})
	}
	b.Run("end", func(b *testing.B) {
		a := loadedApp(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			key := tea.KeyPressMsg{Code: 'G', Text: "G"}
			if i%2 == 1 {
				key = tea.KeyPressMsg{Code: 'g', Text: "g"}
			}
			a.Update(key)
			_ = a.View()
		}
	})
}

// firstFrame signals the first write that holds the console's name.
type firstFrame struct {
	once sync.Once
	done chan struct{}
	buf  bytes.Buffer
}

func (f *firstFrame) Write(p []byte) (int, error) {
	f.buf.Write(p)
	if bytes.Contains(f.buf.Bytes(), []byte(appName)) {
		f.once.Do(func() { close(f.done) })
	}
	return len(p), nil
}

// BenchmarkStartToFirstFrame runs the real program (login screen) from
// NewApp to the first frame written to the terminal.
func BenchmarkStartToFirstFrame(b *testing.B) {
	b.Setenv("NO_COLOR", "")
	th, _ := themes.Lookup("dark")
	for i := 0; i < b.N; i++ {
		out := &firstFrame{done: make(chan struct{})}
		inR, inW := io.Pipe()
		a := NewApp(context.Background(), &fakeBackend{n: 10}, &fakeEngine{}, th, "localhost:7443", "", "")
		p := tea.NewProgram(a, tea.WithInput(inR), tea.WithOutput(out), tea.WithWindowSize(120, 40))
		errc := make(chan error, 1)
		go func() { _, err := p.Run(); errc <- err }()
		select {
		case <-out.done:
		case <-time.After(10 * time.Second):
			b.Fatal("no first frame in 10 s")
		}
		b.StopTimer()
		p.Quit()
		inW.Close()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
