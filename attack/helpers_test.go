package attack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// curve parses an inline curve or fails the test.
func curve(t testing.TB, s string) *scenarios.Curve {
	t.Helper()
	c, err := scenarios.ParseCurve("test", s, nil)
	if err != nil {
		t.Fatalf("parsing curve %q: %v", s, err)
	}
	return c
}

func scenario(t testing.TB, c string, eps ...scenarios.Endpoint) *scenarios.Scenario {
	if len(eps) == 0 {
		eps = scenarios.DefaultEndpoints()
	}
	return &scenarios.Scenario{Name: "test", Curve: curve(t, c), Compress: 1, Endpoints: eps, SLO: scenarios.DefaultSLO}
}

// server starts a loopback HTTP server with h, closed at the end of the test.
func server(t testing.TB, h http.HandlerFunc) *url.URL {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	return u
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Write([]byte("hello"))
}

// run runs o against its target in a fresh directory and returns the
// summary, the directory and the results read back from it.
func run(t testing.TB, o Options) (*Summary, string, []vegeta.Result) {
	t.Helper()
	if o.Out == "" {
		o.Out = filepath.Join(t.TempDir(), "run")
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	sum, err := Run(context.Background(), context.Background(), o, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum, o.Out, readResults(t, filepath.Join(o.Out, ResultsFile))
}

// readResults decodes a whole gob results file with vegeta's decoder and
// fails the test on anything but a clean end.
func readResults(t testing.TB, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decoding %s after %d results: %v", path, len(out), err)
		}
		out = append(out, r)
	}
}

// forEngines runs f as a subtest for each engine, each against its own
// server.
func forEngines(t *testing.T, f func(t *testing.T, engine string)) {
	for _, e := range []string{EngineFast, EngineVegeta} {
		// One after the other: two engines sending at once on a 2-core
		// machine would each measure the other's load.
		t.Run(e, func(t *testing.T) { f(t, e) })
	}
}
