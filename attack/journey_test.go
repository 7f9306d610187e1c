package attack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// journeyScenario parses a journey scenario file written into dir, with
// its feeder CSV beside it (the real parser and opener).
func journeyScenario(t *testing.T, dir, yaml string) *scenarios.Scenario {
	t.Helper()
	file := filepath.Join(dir, "journeys.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readVisits reads a run's visits.jsonl.
func readVisits(t *testing.T, dir string) []scenarios.Visit {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, scenarios.VisitsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []scenarios.Visit
	if err := scenarios.ReadVisits("visits.jsonl", f, func(v *scenarios.Visit) error { out = append(out, *v); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A real cookie-checking shop on loopback: a journey sends back the session
// cookie its first page set (each journey its own), carries its feeder
// row's values and the order id it captured into later requests (its
// path, and the text its check looks for), and a capture that finds
// nothing abandons the journey at its step.
func TestJourneyCookiesCapturesAndFeeder(t *testing.T) {
	var (
		mu       sync.Mutex
		sessions int
		noCookie []string           // requests past the first page without the session cookie
		skus     = map[string]int{} // sku values the cart saw
		orders   = map[string]string{}
		fetched  int
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		c, err := r.Cookie("sid")
		switch {
		case r.URL.Path == "/":
			if err == nil {
				noCookie = append(noCookie, "a second page view reused a cookie: journeys share a jar")
			}
			sessions++
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: fmt.Sprint(sessions), Path: "/"})
			w.Write([]byte("<html>shop</html>"))
			return
		case err != nil:
			noCookie = append(noCookie, r.URL.Path)
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		switch {
		case r.URL.Path == "/api/cart":
			b, _ := io.ReadAll(r.Body)
			skus[string(b)]++
			w.Write([]byte(`{"items":1}`))
		case r.URL.Path == "/api/checkout":
			id := fmt.Sprintf("o-%s", c.Value)
			orders[id] = c.Value
			fmt.Fprintf(w, `{"order":{"id":%q,"total":12.5}}`, id)
		case strings.HasPrefix(r.URL.Path, "/api/orders/"):
			id := strings.TrimPrefix(r.URL.Path, "/api/orders/")
			if orders[id] != c.Value {
				http.NotFound(w, r) // not this session's order
				return
			}
			fetched++
			fmt.Fprintf(w, `{"status":"paid","id":%q}`, id)
		case r.URL.Path == "/api/empty":
			w.Write([]byte(`{}`))
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "skus.csv"), []byte("sku,qty\njacket,1\nboots,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := journeyScenario(t, dir, `name: shop
curve: "hold 10/s for 2s"
endpoints:
  - {name: home, path: /}
  - {name: cart, method: POST, path: /api/cart, body: "{{sku}}×{{qty}}"}
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}", expect: {body_contains: '"id":"{{order_id}}"'}}
  - {name: empty, path: /api/empty}
journeys:
  buy:
    weight: 3
    think: 5ms
    feeder: skus.csv
    steps: [home, cart, {endpoint: checkout, capture: {order_id: "json:$.order.id"}}, order]
  lost:
    weight: 1
    steps: [home, {endpoint: empty, capture: {x: "json:$.id"}}, home]
`)
	out := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vs := readVisits(t, out)
	var buy, lost int
	for _, v := range vs {
		switch v.Name {
		case "buy":
			buy++
			if !v.OK || v.Sent != 4 {
				t.Errorf("buy journey %+v: want complete, 4 requests", v)
			}
		case "lost":
			lost++
			if v.OK || v.Step != 1 || v.Why != "capture x" || v.Broke != "empty" || !v.Abandoned || v.Sent != 2 {
				t.Errorf("lost journey %+v: want abandoned at step 1 (empty), capture x", v)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if buy != 15 || lost != 5 || sum.Results != 15*4+5*2 {
		t.Errorf("%d buy and %d lost journeys, %d results; want 15, 5 and 70", buy, lost, sum.Results)
	}
	if len(noCookie) > 0 {
		t.Errorf("requests without their journey's cookie: %q", noCookie)
	}
	// The n-th buy journey takes feeder row n mod 2, whatever the other
	// journeys between them: the rows in turn.
	if skus["jacket×1"] != 8 || skus["boots×2"] != 7 {
		t.Errorf("cart bodies %v: want the feeder's rows in turn (jacket×1 8 times, boots×2 7)", skus)
	}
	if fetched != 15 {
		t.Errorf("%d orders fetched by their captured id, want 15", fetched)
	}
	// The results carry the endpoint's URL as written, so the report
	// counts /api/orders/o-1, o-2, … as one endpoint.
	ws, err := report.Open([]string{out}, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := report.Analyze(ws, s.SLO)
	found := false
	for _, e := range a.Endpoints {
		if e.Name == "order" {
			found = e.Requests == 15
		}
	}
	if !found {
		t.Errorf("the report does not count 15 requests of endpoint order: %+v", a.Endpoints)
	}
	if a.Visitors == nil || len(a.Visitors.Journeys) != 2 || !strings.Contains(a.Verdict, "Journeys: every buy journey completed (15); 100% of 5 lost journeys failed, most at step 2 empty (capture x).") {
		t.Errorf("verdict: %s", a.Verdict)
	}
}

// Against a simulated host whose database-like api pool is small, the
// journeys that only browse pages complete, and the checkouts fail only
// at their api steps and only once the api pool saturates.
func TestJourneysCheckoutsFailWhereTheAPIPoolSaturates(t *testing.T) {
	plan, err := hosting.LoadPlan("../testdata/plans/shop-db.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hosting.NewSeededHost(plan, 1))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	// The db pool holds 50 api requests a second; a buy journey sends 3,
	// one arrival in four buys: the pool saturates near 67 journeys a
	// second, at about two thirds of the ramp.
	s := journeyScenario(t, t.TempDir(), `name: shop
curve: "ramp 5/s to 100/s over 10s"
endpoints:
  - {name: home, path: /}
  - {name: product, path: /p/jacket}
  - {name: cart, method: POST, path: /api/cart}
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}"}
journeys:
  browse: {weight: 3, steps: [home, product]}
  buy:
    weight: 1
    steps: [home, product, cart, {endpoint: checkout, capture: {order_id: "json:$.id"}}, order]
`)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 10 * time.Second, NoAbort: true}, nil); err != nil {
		t.Fatal(err)
	}
	var browse, buy, buyFailed, early int
	for _, v := range readVisits(t, out) {
		switch v.Name {
		case "browse":
			browse++
			if !v.OK {
				t.Errorf("a browse journey failed: %+v", v)
			}
		case "buy":
			buy++
			if v.OK {
				continue
			}
			buyFailed++
			if v.Broke != "cart" && v.Broke != "checkout" && v.Broke != "order" {
				t.Errorf("a buy journey failed at %q (%s), not at an api step", v.Broke, v.Why)
			}
			if v.Start < 3*time.Second { // under 34 journeys a second: the pool at half its capacity or less
				early++
			}
		}
	}
	t.Logf("%d browse journeys, %d buy journeys, %d failed (%d in the first 3 s)", browse, buy, buyFailed, early)
	if browse+buy != int(s.Curve.Requests()) || buyFailed == 0 || early > 0 {
		t.Errorf("%d journeys of %d; %d buy journeys failed, %d of them in the first 3 s: want failures, none early", browse+buy, s.Curve.Requests(), buyFailed, early)
	}
}

// A journey's step that is a page with assets loads them as a browser
// does, with the journey's cookies: each such step is also a page view
// among the visitors', the journey's count of requests includes the
// assets, and the cart sees the session cookie the page set (the
// simulated host's shop answers {"items":1} only then).
func TestJourneyStepsArePageViews(t *testing.T) {
	plan, err := hosting.LoadPlan("vps")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hosting.NewSeededHost(plan, 1))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	s := journeyScenario(t, t.TempDir(), `name: shop
curve: "hold 20/s for 2s"
endpoints:
  - {name: product page, path: /p/jacket, class: page, assets: [hero×1, photo×3]}
  - {name: hero, path: /img/hero.jpg, class: asset}
  - {name: photo, path: /img/p.jpg, class: asset}
  - {name: cart, method: POST, path: /api/cart, expect: {body_contains: '"items":1'}}
  - {name: checkout, method: POST, path: /api/checkout}
journeys:
  browse: {weight: 1, steps: [product page]}
  buy: {weight: 1, think: 5ms, steps: [product page, cart, checkout]}
`)
	out := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 5 * time.Second, ConnectionsPerVisitor: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var journeys, pages, buys int
	for _, v := range readVisits(t, out) {
		if !v.OK {
			t.Errorf("a visit failed on an idle vps: %+v", v)
		}
		switch v.Kind {
		case scenarios.PageView:
			pages++
			if v.Name != "product page" || v.Sent != 5 {
				t.Errorf("page view %+v: want product page with its 4 assets", v)
			}
		case scenarios.JourneyVisit:
			journeys++
			want := 5
			if v.Name == "buy" {
				buys++
				want = 7
			}
			if v.Sent != want {
				t.Errorf("journey %s sent %d requests, want %d", v.Name, v.Sent, want)
			}
		}
	}
	if journeys != 40 || pages != 40 || buys == 0 || sum.Results != uint64(40*5+2*buys) || sum.OK != sum.Results {
		t.Errorf("%d journeys (%d buys), %d page views, %d results (%d OK)", journeys, buys, pages, sum.Results, sum.OK)
	}
}

// A run stopped while journeys think between steps ends them at once and
// counts them as cut short, not as journeys the site broke: in the
// summary, its shares and visits.jsonl alike.
func TestJourneysCutShortByTheStop(t *testing.T) {
	target := server(t, okHandler)
	s := journeyScenario(t, t.TempDir(), `name: thinkers
curve: "hold 20/s for 10s"
endpoints:
  - {name: home, path: /}
  - {name: product, path: /p}
journeys:
  browse:
    think: 30s
    steps: [home, product]
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	out := filepath.Join(t.TempDir(), "run")
	sum, err := Run(ctx, context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stopped != "interrupted" || sum.Results != sum.Sent || sum.Sent == 0 {
		t.Errorf("stopped %q, %d sent, %d results: the stop should wait for the requests in flight, not for the journeys' think time, and keep them all", sum.Stopped, sum.Sent, sum.Results)
	}
	v := sum.Visits
	if v == nil || v.Interrupted == 0 || v.Interrupted != v.Started || v.OK != 0 || len(v.Broken) != 0 {
		t.Fatalf("visits %+v: want every journey cut short in its 30 s think, none broken or lost", v)
	}
	var b strings.Builder
	if err := sum.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), fmt.Sprintf("cut short by the stop  %s (not in the shares above)", fmtCount(v.Interrupted))) || strings.Contains(b.String(), "failed at") ||
		!regexp.MustCompile(`planned\s+`+fmtCount(sum.Planned)+` journeys\n\s+sent\s+\d+ requests`).MatchString(b.String()) {
		t.Errorf("summary:\n%s", b.String())
	}
	for _, x := range readVisits(t, out) {
		if x.Why != scenarios.Interrupted {
			t.Errorf("visit %+v: want why %q", x, scenarios.Interrupted)
		}
	}
}

// A run stopped hard (a second Ctrl-C) while journeys and page views wait
// on a slow step still records them: the visit engine's last visits are
// collected after the kill, as interrupted (cut short, counted apart),
// in visits.jsonl, the Summary and the report.
func TestJourneyHardStopKeepsInterruptedVisits(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow") {
			select { // hangs until the generator gives up on it
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		w.Write([]byte("ok"))
	})
	for _, c := range []struct{ name, yaml, kind string }{
		{"journeys", `name: hang
curve: "hold 20/s for 20s"
endpoints:
  - {name: home, path: /}
  - {name: slow, path: /slow}
journeys:
  shop: {steps: [home, slow, home]}
  browse: {steps: [home, home]}
`, scenarios.JourneyVisit},
		{"page views", `name: hang
curve: "hold 20/s for 20s"
endpoints:
  - {name: page, path: /, assets: [img]}
  - {name: img, path: /slow.png}
  - {name: quick, path: /quick, assets: [icon]}
  - {name: icon, path: /icon.png}
`, scenarios.PageView},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := server(t, h)
			s := journeyScenario(t, t.TempDir(), c.yaml)
			out := filepath.Join(t.TempDir(), "run")
			ctx, soft := context.WithCancel(context.Background())
			hard, kill := context.WithCancel(context.Background())
			go func() {
				time.Sleep(time.Second)
				soft() // the first Ctrl-C: the slow requests keep the run waiting
				time.Sleep(500 * time.Millisecond)
				kill() // the second
			}()
			began := time.Now()
			sum, err := Run(ctx, hard, Options{Scenario: s, Target: target, Out: out, Timeout: 30 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(began); el > 6*time.Second {
				t.Errorf("Run took %s after a hard stop at 1.5 s", el)
			}
			vs := readVisits(t, out)
			var interrupted, complete uint64
			for _, v := range vs {
				if v.Kind == c.kind && v.Why == scenarios.Interrupted {
					interrupted++
				}
				if v.OK {
					complete++
				}
				if v.Kind == c.kind && !v.OK && v.Why != scenarios.Interrupted {
					t.Errorf("visit %+v: broken, not interrupted: the kill broke it, not the site", v)
				}
			}
			if interrupted < 5 || complete < 5 || sum.Visits == nil || sum.Visits.Interrupted != interrupted || sum.Visits.Started != uint64(len(vs)) {
				t.Fatalf("%d visits in visits.jsonl, %d interrupted; Summary.Visits %+v: want the ~10 visits in flight interrupted, the others complete", len(vs), interrupted, sum.Visits)
			}
			ws, err := report.Open([]string{out}, time.Second, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			a := report.Analyze(ws, s.SLO)
			if a.Visitors == nil || a.W.Visitors.Interrupted != interrupted || c.kind == scenarios.JourneyVisit && len(a.Visitors.Journeys) == 0 {
				t.Errorf("report: visitors %+v, %+v: want them, with %d interrupted", a.Visitors, a.W.Visitors, interrupted)
			}
		})
	}
}

// An integer id above 2^53 is captured as the server wrote it: decoded
// through a float64 it would come back as 9007199254740992.
func TestJourneyCapturesBigIntegerIDsExactly(t *testing.T) {
	var (
		mu  sync.Mutex
		ids = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/checkout":
			w.Write([]byte(`{"id": 9007199254740993, "nested": {"n": 1.50}}`))
		case strings.HasPrefix(r.URL.Path, "/api/orders/"):
			mu.Lock()
			ids[strings.TrimPrefix(r.URL.Path, "/api/orders/")]++
			mu.Unlock()
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	s := journeyScenario(t, t.TempDir(), `name: bigid
curve: "hold 5/s for 1s"
endpoints:
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}-{{n}}"}
journeys:
  buy:
    steps: [{endpoint: checkout, capture: {order_id: "json:$.id", n: "json:$.nested.n"}}, order]
`)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 5 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 1 || ids["9007199254740993-1.50"] != 5 {
		t.Errorf("orders fetched by id %v: want 9007199254740993-1.50 five times", ids)
	}
}

// A run whose requests fail for reasons other than 503s and timeouts: the
// report names them (per endpoint, by kind, with exact status codes),
// shows "-" for the latency of an endpoint nothing succeeded at, and
// gives each journey's failing step with why; a journey failing at its
// last step counts as failed (started = completed + failed).
func TestReportSaysWhyRequestsAndJourneysFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write([]byte("home"))
		case "/big":
			w.Write([]byte("short")) // fails min_bytes
		case "/checkout":
			w.Write([]byte(`{"order":{}}`)) // no id to capture
		case "/order":
			http.Error(w, "no", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	s := journeyScenario(t, t.TempDir(), `name: why
curve: "hold 6/s for 1s"
endpoints:
  - {name: home, path: /}
  - {name: big page, path: /big, expect: {min_bytes: 1000}}
  - {name: checkout, method: POST, path: /checkout}
  - {name: order, path: /order}
journeys:
  browse: {weight: 1, steps: [home, big page]}
  buyx: {weight: 1, steps: [home, {endpoint: checkout, capture: {id: "json:$.order.id"}}, order]}
  buy: {weight: 1, steps: [home, order]}
`)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: out, Timeout: 5 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	ws, err := report.Open([]string{out}, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := report.Analyze(ws, s.SLO)
	var text strings.Builder
	if err := a.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	got := text.String()
	for _, want := range []string{
		"check min_bytes 2", "http 403 2",
		"step 2 big page (check min_bytes) 2", "step 2 checkout (capture id) 2", "step 2 order (http 403) 2",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
	dashes := regexp.MustCompile(`│ +- │ +- │ +- │`)
	section := ""
	for _, line := range strings.Split(got, "\n") {
		if line != "" && strings.IndexAny(line, " ┌│├└") != 0 && !strings.HasPrefix(line, "warning") {
			section = line
		}
		if strings.HasPrefix(line, "│ big page ") && strings.Contains(line, "100%") && !dashes.MatchString(line) && section == "Endpoints" {
			t.Errorf("big page had no success, its latencies should read -: %s", line)
		}
		if w := len([]rune(line)); w > 100 && section != "Phases" && strings.ContainsAny(line, "│┌") {
			t.Errorf("%s: line %d columns wide: %s", section, w, line)
		}
	}
	sum := a.Summary()
	for _, j := range sum.Visitors.Journeys {
		if j.Started != j.Completed+j.Failed || j.Failed != 2 || len(j.FailedBy) != 1 || j.FailedBy[0].Why == "" {
			t.Errorf("journey %+v: want 2 failed, with why, and started = completed + failed", j)
		}
	}
	for _, e := range sum.Endpoints {
		if e.Name == "order" && e.Errors["http 403"] != 2 {
			t.Errorf("summary endpoint order errors %v, want http 403: 2", e.Errors)
		}
	}
}
