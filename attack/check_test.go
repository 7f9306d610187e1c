package attack

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestBodyScanAcrossChunks: the streamed search finds the text exactly
// when the whole body holds it, however the body is cut into chunks,
// including texts that overlap themselves ("aab" in "aaab").
func TestBodyScanAcrossChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := []string{"", "a", "aaab", "abaabaab", "xxAdd to cartxx", "Add to car", "dd to cart", "Add to carAdd to cart", "ababababc"}
	for range 200 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		bodies = append(bodies, string(b))
	}
	for _, needle := range []string{"Add to cart", "aab", "abab", "abc", "a", "aaaa", "abaab"} {
		c := newChecker(&scenarios.Expect{BodyContains: needle})
		for _, body := range bodies {
			want := strings.Contains(body, needle)
			// Every cut into two, and random cuts into many.
			for cut := 0; cut <= len(body); cut++ {
				var s bodyScan
				c.scan(&s, []byte(body[:cut]))
				c.scan(&s, []byte(body[cut:]))
				if s.found != want {
					t.Fatalf("%q in %q cut at %d: found %v", needle, body, cut, s.found)
				}
			}
			for range 20 {
				var s bodyScan
				for rest := body; rest != ""; {
					n := 1 + rng.IntN(len(rest))
					c.scan(&s, []byte(rest[:n]))
					rest = rest[n:]
				}
				if s.found != want {
					t.Fatalf("%q in %q in random chunks: found %v", needle, body, s.found)
				}
			}
		}
	}
}

func TestJudgeOrderAndTexts(t *testing.T) {
	c := newChecker(&scenarios.Expect{Status: []uint16{200, 304}, MinBytes: 10, BodyContains: "s3cret", MaxLatency: time.Second})
	for _, tc := range []struct {
		r     vegeta.Result
		found bool
		want  string
	}{
		{vegeta.Result{Code: 200, BytesIn: 20, Latency: time.Millisecond}, true, ""},
		{vegeta.Result{Code: 201, BytesIn: 0, Latency: time.Hour}, false, "check status: 201 not in [200, 304]"},
		{vegeta.Result{Code: 200, BytesIn: 9, Latency: time.Hour}, false, "check min_bytes: body under 10 bytes"},
		{vegeta.Result{Code: 200, BytesIn: 10, Latency: time.Hour}, false, "check body_contains: text not found in the body"},
		{vegeta.Result{Code: 200, BytesIn: 10, Latency: 2 * time.Second}, true, "check max_latency: slower than 1s"},
		{vegeta.Result{Code: 503, Error: "503 Service Unavailable"}, false, "503 Service Unavailable"},
		{vegeta.Result{Error: "connection refused"}, false, "connection refused"},
	} {
		r := tc.r
		c.judge(&r, &bodyScan{found: tc.found})
		if r.Error != tc.want {
			t.Errorf("%+v: error %q, want %q", tc.r, r.Error, tc.want)
		}
	}
}

// TestRunChecks: against a server that leaves the text out of every third
// page, serves every fourth image short, answers every fifth status
// request 204 and every seventh 503, and holds every fourth slow request,
// each check fails exactly the responses that lacked what it checks, on
// both engines; the page's text is split across two chunks of its body.
func TestRunChecks(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		var (
			mu   sync.Mutex
			seen = map[string]int{} // requests by path
			want = map[string]int{} // responses that should fail, by kind
		)
		pad := strings.Repeat("x", 3000)
		u := server(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.URL.Path]++
			n := seen[r.URL.Path]
			fail := func(kind string) { want[kind]++ }
			switch r.URL.Path {
			case "/page":
				if n%3 == 0 {
					fail("check body_contains")
				}
			case "/img.jpg":
				if n%4 == 0 {
					fail("check min_bytes")
				}
			case "/status":
				if n%7 == 0 {
					fail("http 503")
				} else if n%5 == 0 {
					fail("check status")
				}
			case "/slow":
				if n%4 == 0 {
					fail("check max_latency")
				}
			}
			mu.Unlock()
			switch r.URL.Path {
			case "/page":
				w.Write([]byte(pad + "Add to"))
				w.(http.Flusher).Flush() // the text spans two chunks
				if n%3 == 0 {
					w.Write([]byte(" basket" + pad))
				} else {
					w.Write([]byte(" cart" + pad))
				}
			case "/img.jpg":
				if n%4 == 0 {
					w.Write([]byte("short"))
				} else {
					w.Write([]byte(pad))
				}
			case "/status":
				switch {
				case n%7 == 0:
					w.WriteHeader(http.StatusServiceUnavailable)
				case n%5 == 0:
					w.WriteHeader(http.StatusNoContent)
				}
			case "/slow":
				if n%4 == 0 {
					time.Sleep(700 * time.Millisecond)
				}
			}
		})
		eps := []scenarios.Endpoint{
			{Name: "page", Method: "GET", URL: "/page", Weight: 1, Class: scenarios.Page, Expect: &scenarios.Expect{BodyContains: "Add to cart"}},
			{Name: "img", Method: "GET", URL: "/img.jpg", Weight: 1, Class: scenarios.Asset, Expect: &scenarios.Expect{MinBytes: 1000}},
			{Name: "status", Method: "GET", URL: "/status", Weight: 1, Class: scenarios.Page, Expect: &scenarios.Expect{Status: []uint16{200}}},
			{Name: "slow", Method: "GET", URL: "/slow", Weight: 1, Class: scenarios.Page, Expect: &scenarios.Expect{MaxLatency: 300 * time.Millisecond}},
			{Name: "plain", Method: "GET", URL: "/plain", Weight: 1, Class: scenarios.Page},
		}
		m := &Meter{Run: "checks", Shard: "0"}
		sum, _, results := run(t, Options{Scenario: scenario(t, "hold 50/s for 2s", eps...), Target: u, Engine: engine, Meter: m})
		if sum.Info.Engine != engine {
			t.Fatalf("engine %s, want %s", sum.Info.Engine, engine)
		}
		mu.Lock()
		defer mu.Unlock()
		if sum.Results != 100 || seen["/page"] != 20 {
			t.Fatalf("results %d, page requests %d; want 100, 20", sum.Results, seen["/page"])
		}
		for _, k := range []string{"check body_contains", "check min_bytes", "check status", "http 503", "check max_latency"} {
			if want[k] == 0 {
				t.Fatalf("the server failed no response of kind %s", k)
			}
		}
		// Responses slower than max_latency only because the machine is
		// busy would fail too: count those the result shows as slow.
		extraSlow := 0
		byKind := map[string]int{}
		for _, r := range results {
			k := scenarios.ErrorKind(r.Code, r.Error)
			byKind[k]++
			if k == "check max_latency" && r.Latency < 700*time.Millisecond {
				extraSlow++
			}
			if strings.HasPrefix(k, "check ") && (r.Code < 200 || r.Code >= 400) {
				t.Errorf("a check failure with status %d: %+v", r.Code, r)
			}
		}
		if extraSlow > 0 {
			t.Logf("%d fast-served responses were slower than 300ms here", extraSlow)
		}
		for k, n := range want {
			got := int(sum.Errors[k])
			if k == "check max_latency" {
				got -= extraSlow
			}
			if got != n || byKind[k] != int(sum.Errors[k]) {
				t.Errorf("%s: summary %d, results file %d; the server sent %d", k, sum.Errors[k], byKind[k], n)
			}
		}
		if len(sum.Errors) != len(want) {
			t.Errorf("error kinds %v, want those of %v", sum.Errors, want)
		}
		if ok := 100 - len(results) + byKind[""]; uint64(ok) != sum.OK {
			t.Errorf("ok %d, results file %d", sum.OK, ok)
		}
		// The live metrics (errors_total{kind}) count the same kinds.
		for _, e := range m.Snapshot().Endpoints {
			for k, n := range e.Errors {
				if k != "http 503" && k != "check "+map[string]string{"page": "body_contains", "img": "min_bytes", "status": "status", "slow": "max_latency"}[e.Name] {
					t.Errorf("meter: endpoint %s has errors of kind %s", e.Name, k)
				}
				if n != sum.Errors[k] {
					t.Errorf("meter: %s %s %d, summary %d", e.Name, k, n, sum.Errors[k])
				}
			}
		}
	})
}

// TestRunChecksScanWholeBodies: the vegeta engine checks the whole body
// whatever --max-body keeps, and keeps what it is told to.
func TestRunChecksScanWholeBodies(t *testing.T) {
	big := strings.Repeat("y", 50000) + "needle"
	u := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) })
	eps := []scenarios.Endpoint{{Name: "big", Method: "GET", URL: "/big", Weight: 1, Class: scenarios.Page, Expect: &scenarios.Expect{BodyContains: "needle", MinBytes: 50006}}}
	forEngines(t, func(t *testing.T, engine string) {
		sum, _, results := run(t, Options{Scenario: scenario(t, "hold 20/s for 1s", eps...), Target: u, Engine: engine, MaxBody: 100})
		if sum.OK != 20 || len(sum.Errors) != 0 {
			t.Fatalf("ok %d, errors %v", sum.OK, sum.Errors)
		}
		for _, r := range results {
			if len(r.Body) != 100 || r.BytesIn != uint64(len(big)) || !bytes.HasPrefix([]byte(big), r.Body) {
				t.Fatalf("kept %d body bytes of %d", len(r.Body), r.BytesIn)
			}
		}
	})
}

// TestRunEnvRedacted: values from ${ENV:NAME} reach the server (a header
// and a query), and neither run.json nor the results file (URLs, error
// texts) holds them, on both engines.
func TestRunEnvRedacted(t *testing.T) {
	const token, key = "tok-7f3a9c", "key-51be02"
	src := `curve: hold 20/s for 1s
endpoints:
  - name: api
    path: "/api?key=${ENV:FC_KEY}"
    headers: {Authorization: "Bearer ${ENV:FC_TOKEN}"}
    expect: {status: [200]}
  - name: drop
    path: "/drop?key=${ENV:FC_KEY}"
`
	env := func(n string) (string, bool) {
		return map[string]string{"FC_TOKEN": token, "FC_KEY": key}[n], n == "FC_TOKEN" || n == "FC_KEY"
	}
	s, err := scenarios.ParseEnv("env.yaml", []byte(src), nil, env)
	if err != nil {
		t.Fatal(err)
	}
	forEngines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var auth, keys []string
		u := server(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth, keys = append(auth, r.Header.Get("Authorization")), append(keys, r.URL.Query().Get("key"))
			mu.Unlock()
			if r.URL.Path == "/drop" {
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close()
			}
		})
		sum, dir, results := run(t, Options{Scenario: s, Target: u, Engine: engine})
		mu.Lock()
		defer mu.Unlock()
		if sum.OK != 10 || len(auth) < 20 {
			t.Fatalf("ok %d of %d requests; errors %v", sum.OK, len(auth), sum.Errors)
		}
		for i := range auth {
			if keys[i] != key || (auth[i] != "Bearer "+token && auth[i] != "") {
				t.Fatalf("request %d: key %q, authorization %q", i, keys[i], auth[i])
			}
		}
		written := []string{}
		for _, f := range []string{scenarios.RunInfoFile, ResultsFile} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			written = append(written, string(b))
		}
		dropErr := 0
		for _, r := range results {
			written = append(written, r.URL, r.Error)
			if strings.Contains(r.URL, "/drop") && r.Error != "" {
				dropErr++
				if !strings.Contains(r.Error, "${ENV:FC_KEY}") {
					t.Errorf("error text lost the URL: %q", r.Error)
				}
			}
		}
		if dropErr != 10 {
			t.Errorf("%d dropped requests failed, want 10", dropErr)
		}
		for _, w := range written {
			if strings.Contains(w, token) || strings.Contains(w, key) {
				t.Fatalf("a value from the environment was written down: %.300q", w)
			}
		}
		if !strings.Contains(written[0], "Bearer ${ENV:FC_TOKEN}") || !strings.Contains(written[0], "/api?key=${ENV:FC_KEY}") {
			t.Errorf("run.json lacks the references:\n%s", written[0])
		}
	})
}

// FuzzBodyScan: however a body is cut, the streamed search agrees with
// bytes.Contains on the whole body.
func FuzzBodyScan(f *testing.F) {
	f.Add("aab", "aaab", uint8(2), uint8(1))
	f.Add("Add to cart", "xxAdd to cartxx", uint8(5), uint8(3))
	f.Fuzz(func(t *testing.T, needle, body string, cut1, cut2 uint8) {
		if needle == "" || len(needle) > scenarios.MaxBodyContains {
			return
		}
		c := newChecker(&scenarios.Expect{BodyContains: needle})
		a := min(int(cut1), len(body))
		b := min(a+int(cut2), len(body))
		var s bodyScan
		for _, p := range []string{body[:a], body[a:b], body[b:]} {
			c.scan(&s, []byte(p))
		}
		if want := strings.Contains(body, needle); s.found != want {
			t.Fatalf("%q in %q cut at %d, %d: found %v", needle, body, a, b, s.found)
		}
	})
}
