package attack

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// redirectServer answers /loop with a redirect to itself, /two and /one
// with a chain to /ok, and /ok with "hello" after okDelay; it counts the
// requests each path gets.
func redirectServer(t *testing.T, okDelay time.Duration) (*http.ServeMux, map[string]*atomic.Int64) {
	t.Helper()
	counts := map[string]*atomic.Int64{}
	mux := http.NewServeMux()
	redirect := func(path, to string) {
		n := new(atomic.Int64)
		counts[path] = n
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Location", to)
			w.WriteHeader(http.StatusFound)
			w.Write([]byte("moved"))
		})
	}
	redirect("/loop", "/loop")
	redirect("/away", "http://192.0.2.1:9/x") // TEST-NET-1: never followed, nothing is sent there
	redirect("/two", "/one")
	redirect("/one", "/ok")
	n := new(atomic.Int64)
	counts["/ok"] = n
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		time.Sleep(okDelay)
		w.Write([]byte("hello"))
	})
	return mux, counts
}

// TestRedirects: both engines follow redirects as vegeta does (up to
// Options.Redirects, 10 by default; the result is the last response, its
// latency the whole chain's; past the limit an error of kind redirects;
// NoFollow: the 3xx is the result; none to a host that is not loopback
// and not confirmed), and the fast engine does so itself rather than
// falling back to vegeta's.
func TestRedirects(t *testing.T) {
	const okDelay = 30 * time.Millisecond
	cases := []struct {
		name, path string
		redirects  int
		code       uint16
		kind       string // error kind of every result; "": all OK
		says       string // what every result's error says, with kind ("stopped after" if "")
		bytesIn    uint64
		requests   map[string]int64 // requests per path, per hit
		expect     *scenarios.Expect
	}{
		{name: "loop", path: "/loop", kind: scenarios.ErrRedirects, requests: map[string]int64{"/loop": 1 + DefaultRedirects}},
		{name: "to ok", path: "/one", code: 200, bytesIn: 5 + 5, requests: map[string]int64{"/one": 1, "/ok": 1},
			expect: &scenarios.Expect{Status: []uint16{200}, BodyContains: "hello"}}, // checks judge the last response
		{name: "chain", path: "/two", redirects: 2, code: 200, bytesIn: 5 + 5 + 5, requests: map[string]int64{"/two": 1, "/one": 1, "/ok": 1}},
		{name: "past limit", path: "/two", redirects: 1, kind: scenarios.ErrRedirects, requests: map[string]int64{"/two": 1, "/one": 1, "/ok": 0}},
		{name: "no follow", path: "/one", redirects: -1, code: 302, bytesIn: 5, requests: map[string]int64{"/one": 1, "/ok": 0}},
		// A redirect off loopback, to a host not confirmed, is not followed.
		{name: "away", path: "/away", kind: scenarios.ErrRedirects, says: "redirected to 192.0.2.1, which is not loopback: not followed", requests: map[string]int64{"/away": 1}},
	}
	forEngines(t, func(t *testing.T, engine string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mux, counts := redirectServer(t, okDelay)
				u := server(t, mux.ServeHTTP)
				s := scenario(t, "hold 20/s for 1s", scenarios.Endpoint{Name: "r", Method: "GET", URL: tc.path, Weight: 1, Class: scenarios.Page, Expect: tc.expect})
				sum, dir, rs := run(t, Options{Engine: engine, Scenario: s, Target: u, Redirects: tc.redirects, MaxBody: -1})
				info, err := scenarios.ReadRunInfo(dir)
				if err != nil {
					t.Fatal(err)
				}
				if info.Engine != engine {
					t.Errorf("engine %q, want %q", info.Engine, engine)
				}
				if len(rs) != 20 || sum.Results != 20 {
					t.Fatalf("%d results (summary %d), want 20", len(rs), sum.Results)
				}
				if tc.kind != "" {
					if sum.OK != 0 || sum.Errors[tc.kind] != sum.Results {
						t.Errorf("ok %d, errors %v: want all %d of kind %q", sum.OK, sum.Errors, sum.Results, tc.kind)
					}
				} else if sum.OK != sum.Results {
					t.Errorf("ok %d of %d, errors %v", sum.OK, sum.Results, sum.Errors)
				}
				for _, r := range rs {
					if tc.kind != "" {
						says := tc.says
						if says == "" {
							says = "stopped after"
						}
						if r.Code != 0 || !strings.Contains(r.Error, says) || !strings.Contains(r.Error, "redirect") {
							t.Fatalf("seq %d: code %d, error %q: want a redirects error", r.Seq, r.Code, r.Error)
						}
						continue
					}
					if r.Code != tc.code || r.Error != "" || r.BytesIn != tc.bytesIn {
						t.Fatalf("seq %d: code %d, error %q, bytes in %d: want %d, no error, %d bytes in", r.Seq, r.Code, r.Error, r.BytesIn, tc.code, tc.bytesIn)
					}
					if want := map[uint16]string{200: "hello", 302: "moved"}[tc.code]; string(r.Body) != want {
						t.Fatalf("seq %d: body %q, want %q (the last response's)", r.Seq, r.Body, want)
					}
					if tc.code == 200 && r.Latency < okDelay {
						t.Fatalf("seq %d: latency %s, less than /ok takes (%s): the chain is not all counted", r.Seq, r.Latency, okDelay)
					}
				}
				for path, per := range tc.requests {
					if got, want := counts[path].Load(), per*int64(len(rs)); got != want {
						t.Errorf("%s got %d requests, want %d (%d a hit)", path, got, want, per)
					}
				}
			})
		}
	})
}
