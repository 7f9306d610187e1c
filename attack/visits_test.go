package attack

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// pageViewScenario parses a page-view scenario file (the real parser).
func pageViewScenario(t *testing.T, curve, extra string) *scenarios.Scenario {
	t.Helper()
	yaml := `name: visitors
curve: "` + curve + `"
slo: {p99: 10s, grace: 2s}
endpoints:
  - {name: home, path: /, weight: 1, assets: [hero, thumb×8]}
  - {name: hero, path: /img/hero.jpg}
  - {name: thumb, path: /img/thumb.jpg` + extra + `}
`
	s, err := scenarios.Parse("visitors.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Against the simulated shared plan, whose asset pool saturates first, a
// page view is complete only when its page and its nine images are. The
// visits add up exactly with the requests (a page view's parts are its
// results; a failed page is a page view broken by the page), and the
// share of complete page views is at least the product of its parts'
// success, window by window: failures at an overloaded host come in
// bursts that a visitor's parallel requests share, so the product (what a
// report of independent requests would infer) understates complete page
// views, here by about half. The verdict names the images as what broke
// the visitors' pages, and every visitor of the curve arrived once.
func TestPageViewsAreTheProductOfTheirParts(t *testing.T) {
	plan, err := hosting.LoadPlan("shared")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hosting.NewSeededHost(plan, 1))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	// 10 requests a page view: from 200 to 1,500 req/s, about twice the
	// plan's capacity for this mix.
	s := pageViewScenario(t, "ramp 20/s to 150/s over 12s", "")
	dir := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: dir, Timeout: 10 * time.Second, NoAbort: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Info.Engine != EngineVisits || sum.Visits == nil {
		t.Fatalf("engine %q, visits %v: want the visits engine", sum.Info.Engine, sum.Visits)
	}
	// Every arrival of the curve is one page view, seq 0..n-1.
	f, err := os.Open(filepath.Join(dir, scenarios.VisitsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[uint64]bool{}
	var sent uint64
	err = scenarios.ReadVisits("visits.jsonl", f, func(v *scenarios.Visit) error {
		if seen[v.Seq] {
			t.Errorf("visitor %d recorded twice", v.Seq)
		}
		seen[v.Seq] = true
		sent += uint64(v.Sent)
		if v.OK != (v.Broke == "") || v.Sent < 1 || v.Sent > 10 || v.OK && v.Sent != 10 {
			t.Errorf("inconsistent visit %+v", *v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Curve.Requests(); uint64(len(seen)) != n || sum.Visits.Started != n {
		t.Fatalf("%d page views recorded, summary %d, curve %d arrivals", len(seen), sum.Visits.Started, n)
	}
	for i := range uint64(len(seen)) {
		if !seen[i] {
			t.Fatalf("visitor %d missing", i)
		}
	}
	if sent != sum.Results {
		t.Errorf("visits sent %d requests, the run has %d results", sent, sum.Results)
	}

	ws, err := report.Open([]string{dir}, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if ws.Visitors == nil {
		t.Fatal("no visitors read")
	}
	idx := map[string]int{}
	for i, e := range ws.Endpoints {
		idx[e.Name] = i
	}
	// Expected complete page views: per window, views × Π success^count.
	succ := func(w *report.Window, name string) float64 {
		i := idx[name]
		if i >= len(w.Endpoints) || w.Endpoints[i].Requests == 0 {
			return 1
		}
		return float64(w.Endpoints[i].OK) / float64(w.Endpoints[i].Requests)
	}
	var views, complete uint64
	var expect float64
	for k := range ws.W {
		w := &ws.W[k]
		vw := ws.Visitors.W[w.Index]
		if vw == nil {
			continue
		}
		views += vw.Views
		complete += vw.Complete
		expect += float64(vw.Views) * succ(w, "home") * succ(w, "hero") * math.Pow(succ(w, "thumb"), 8)
	}
	got, want := float64(complete)/float64(views), expect/float64(views)
	t.Logf("%d page views: %.3f complete, product of parts %.3f", views, got, want)
	if got < want-0.03 || got == 1 {
		t.Errorf("complete page views %.3f, product of their parts' success %.3f: want at least the product, and some broken", got, want)
	}
	// Exact: a complete page view holds a successful page, hero and 8
	// thumbs; a page view broken by its page is a failed page request.
	var ok [3]uint64
	var failedPages uint64
	for k := range ws.W {
		for name, i := range idx {
			if i < len(ws.W[k].Endpoints) {
				st := &ws.W[k].Endpoints[i]
				switch name {
				case "home":
					ok[0] += st.OK
					failedPages += st.Failed()
				case "hero":
					ok[1] += st.OK
				case "thumb":
					ok[2] += st.OK
				}
			}
		}
	}
	if complete > ok[0] || complete > ok[1] || 8*complete > ok[2] {
		t.Errorf("%d complete page views, but only %v successful home, hero, thumb requests", complete, ok)
	}
	if sum.Visits.Broken["home"] != failedPages {
		t.Errorf("%d page views broken by their page, %d failed page requests", sum.Visits.Broken["home"], failedPages)
	}
	a := report.Analyze(ws, s.SLO)
	t.Log(a.Verdict)
	if a.Visitors == nil || a.Visitors.PeakBrokenRatio < 0.2 {
		t.Fatalf("visitors at the peak: %+v; want many broken pages at twice the capacity", a.Visitors)
	}
	if by := a.Visitors.PeakBrokenBy[0].Name; by != "hero" && by != "thumb" {
		t.Errorf("page views at the peak broken first by %q, want an image", by)
	}
	if !strings.Contains(a.Verdict, "of visitors got a broken page") || !strings.Contains(a.Verdict, "without its") {
		t.Errorf("verdict does not name the visitors' broken pages: %s", a.Verdict)
	}
}

// A page that fails sends no assets (the browser has no HTML), a page view
// breaks on the asset that failed first, and a body check on an asset
// fails exactly the responses without the text.
func TestPageViewParts(t *testing.T) {
	var pages, thumbs atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			if pages.Add(1)%4 == 0 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("<html>page</html>"))
		case "/img/hero.jpg":
			w.Write([]byte("JFIF hero"))
		case "/img/thumb.jpg":
			if thumbs.Add(1)%8 == 0 {
				w.Write([]byte("not an image"))
				return
			}
			w.Write([]byte("JFIF thumb"))
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	s := pageViewScenario(t, "hold 20/s for 2s", `, expect: {body_contains: "JFIF"}`)
	dir := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: dir, Timeout: 5 * time.Second, ConnectionsPerVisitor: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, scenarios.VisitsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var byPage, byThumb, ok int
	err = scenarios.ReadVisits("visits.jsonl", f, func(v *scenarios.Visit) error {
		switch {
		case v.OK:
			ok++
		case v.Broke == "home":
			byPage++
			if v.Sent != 1 || v.Why != "http 503" {
				t.Errorf("a failed page sent %d requests (want 1), why %q", v.Sent, v.Why)
			}
		case v.Broke == "thumb":
			byThumb++
			if v.Why != "check body_contains" {
				t.Errorf("thumb broke a page view with %q, want the body check", v.Why)
			}
		default:
			t.Errorf("unexpected visit %+v", *v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 40 visitors: every 4th page fails; every 8th thumbnail lacks the
	// text (one in each page's 8 when visitors do not overlap).
	if byPage != 10 || ok+byThumb != 30 || byThumb == 0 {
		t.Errorf("complete %d, broken by the page %d, by a thumb %d: want 10 broken by the page, 30 with their assets, most broken by a thumb", ok, byPage, byThumb)
	}
	if got := sum.Errors["check body_contains"]; got != 30 {
		t.Errorf("%d body-check failures, want 30 (one in 8 of 240 thumbnails): %v", got, sum.Errors)
	}
	if sum.Results != 10+30*10 {
		t.Errorf("%d results, want 310 (10 failed pages alone, 30 pages with 9 assets)", sum.Results)
	}
}

// At a few visitors a second, a window's requests are whole page views
// (9 requests) and single requests (1), not the mix's mean: at one arrival
// a second, two windows in a row hold one API call each where the mean
// offers 3.7 requests. A host that answers
// every request at once holds the SLO whatever the windows' counts do
// (the report judges a page-view run's throughput by what its visitors
// sent, with a slack of two page views).
func TestPageViewsLowRateHolds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(okHandler))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	yaml := `name: visitors
curve: "hold 1/s for 9s"
slo: {p99: 1s, grace: 1s}
endpoints:
  - {name: home, path: /, weight: 1, assets: [hero, thumb×7]}
  - {name: hero, path: /img/hero.jpg}
  - {name: thumb, path: /img/thumb.jpg}
  - {name: api, path: /api/x, weight: 2}
`
	s, err := scenarios.Parse("visitors.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), context.Background(), Options{Scenario: s, Target: target, Out: dir, Timeout: 5 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	ws, err := report.Open([]string{dir}, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := report.Analyze(ws, s.SLO)
	if a.Kind != report.KindHeld || a.Visitors == nil || a.Visitors.Broken != 0 || a.Visitors.Views != 3 {
		t.Errorf("a host that answered every request: %s (visitors %+v)", a.Verdict, a.Visitors)
	}
}

// recentShare sums the last seconds' page views, forgetting older ones
// as its ring turns.
func TestRecentShare(t *testing.T) {
	var r recentShare
	for s := int64(0); s < 20; s++ {
		for i := int64(0); i < s; i++ {
			r.add(s, i%2 == 0)
		}
	}
	// Seconds 14 to 18: 14+15+16+17+18 = 80 page views, half (rounded
	// up per second) broken: 7+8+8+9+9 = 41.
	if n, bad := r.last(19, 5); n != 80 || bad != 41 {
		t.Errorf("last 5 s before 19: %d page views, %d broken; want 80, 41", n, bad)
	}
	if n, _ := r.last(40, 5); n != 0 {
		t.Errorf("20 s later: %d page views, want none", n)
	}
}
