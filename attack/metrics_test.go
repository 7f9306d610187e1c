package attack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestMeterMatchesSummary: a run's Meter ends with the Summary's own
// counts, per endpoint and in total, and its histograms hold every success.
func TestMeterMatchesSummary(t *testing.T) {
	u := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		okHandler(w, r)
	})
	eps := []scenarios.Endpoint{
		{Name: "page", URL: "/", Weight: 1},
		{Name: "image", URL: "/img", Weight: 3},
		{Name: "gone", URL: "/missing", Weight: 1},
	}
	m := &Meter{Run: "r1", Shard: "0"}
	sum, _, _ := run(t, Options{Target: u, Scenario: scenario(t, "hold 200/s for 3s", eps...), Meter: m})
	s := m.Snapshot()
	if !s.Started || !s.Done {
		t.Fatalf("snapshot started %v done %v, want both", s.Started, s.Done)
	}
	if s.Scheduled != sum.Planned {
		t.Errorf("scheduled %d, summary planned %d", s.Scheduled, sum.Planned)
	}
	if len(s.Endpoints) != 4 || s.Endpoints[3].Name != OtherEndpoint {
		t.Fatalf("endpoints %+v: want page, image, gone, other", s.Endpoints)
	}
	var sent, results, ok, failed uint64
	for _, e := range s.Endpoints {
		sent += e.Sent
		results += e.Results
		ok += e.OK
		for _, n := range e.Errors {
			failed += n
		}
		if e.Latency.Count != e.OK {
			t.Errorf("%s: latency histogram holds %d, %d successes", e.Name, e.Latency.Count, e.OK)
		}
		if c := e.Latency.Cumulative([]float64{1e-9, 1e9}); c[1] != e.OK || c[0] > c[1] {
			t.Errorf("%s: cumulative buckets %v, %d successes", e.Name, c, e.OK)
		}
		if e.Lag.Count != e.Results || e.InFlight != 0 {
			t.Errorf("%s: lag histogram holds %d of %d results; %d in flight at the end", e.Name, e.Lag.Count, e.Results, e.InFlight)
		}
	}
	if sent != sum.Sent || results != sum.Results || ok != sum.OK || failed != sum.Errors["http 404"] || sent != 600 {
		t.Errorf("meter sent %d results %d ok %d failed %d; summary sent %d results %d ok %d errors %v",
			sent, results, ok, failed, sum.Sent, sum.Results, sum.OK, sum.Errors)
	}
	if g := s.Endpoints[2]; g.Errors["http 404"] != g.Results || g.Codes[404] != g.Results || g.OK != 0 {
		t.Errorf("gone: %+v: every result should be a 404 error", g.Codes)
	}
	if p := s.Endpoints[1]; p.Sent != 3*s.Endpoints[0].Sent {
		t.Errorf("image sent %d, page %d: want the 3:1 mix", p.Sent, s.Endpoints[0].Sent)
	}
	// A fifth of the requests fail (404): every second with traffic breaks
	// the 1% error limit.
	if s.SLOHeld || s.Judged["violated"] < 3 || s.Judged["held"] != 0 {
		t.Errorf("slo held %v, judged %v: want every second violated", s.SLOHeld, s.Judged)
	}
}

// TestMeterSLOHeld: a host that answers every request quickly holds the
// SLO in every judged second.
func TestMeterSLOHeld(t *testing.T) {
	u := server(t, okHandler)
	m := &Meter{Run: "r2", Shard: "0"}
	sum, _, _ := run(t, Options{Target: u, Scenario: scenario(t, "hold 100/s for 3s"), Meter: m})
	s := m.Snapshot()
	if sum.OK != 300 || !s.SLOHeld || s.Judged["violated"] != 0 || s.Judged["held"] < 3 {
		t.Errorf("%d ok; slo held %v, judged %v: want every second held", sum.OK, s.SLOHeld, s.Judged)
	}
}

// TestJudgeWindow: the live verdict follows the report's rules.
func TestJudgeWindow(t *testing.T) {
	slo := scenarios.SLO{P99: 100 * time.Millisecond, MaxErrorRatio: 0.01, MinThroughput: 0.95}
	fast, slow := hist{}, hist{}
	for range 200 {
		fast.add(time.Millisecond)
		slow.add(time.Millisecond)
	}
	for range 10 {
		slow.add(time.Second)
	}
	var noLag hist
	noLag.add(0)
	cases := []struct {
		name               string
		n, failed, gen, ok uint64
		lat                *hist
		offered            float64
		cut                bool
		want               string
	}{
		{"quiet", 0, 0, 0, 0, &hist{}, 0.5, false, "idle"},
		{"good", 200, 0, 0, 200, &fast, 200, false, "held"},
		{"errors", 200, 10, 0, 190, &fast, 200, false, "violated"},
		{"generator errors are not the host's", 200, 10, 10, 190, &fast, 200, false, "held"},
		{"slow successes", 210, 0, 0, 210, &slow, 210, false, "violated"},
		{"host short of offered", 200, 0, 0, 150, &fast, 200, false, "violated"},
		{"generator behind", 100, 0, 0, 100, &fast, 200, false, "behind"},
		{"stopped in the second", 100, 0, 0, 100, &fast, 200, true, "held"},
	}
	for _, c := range cases {
		if got := judgeWindow(slo, c.n, c.failed, c.gen, c.lat, &noLag, c.ok, c.offered, c.offered, c.cut); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// TestHistogramNative: native buckets are ascending, hold every
// observation and put each where its schema says.
func TestHistogramNative(t *testing.T) {
	var h Histogram
	h.add(0)
	h.add(time.Second)     // log2 1 = 0 → bucket 0
	h.add(3 * time.Second) // log2 3 · 8 = 12.7 → bucket 13
	h.add(3 * time.Second)
	idx, cnt, zero := h.Native(3)
	if zero != 1 || len(idx) != 2 || idx[0] != 0 || idx[1] != 13 || cnt[0] != 1 || cnt[1] != 2 {
		t.Errorf("native: index %v count %v zero %d", idx, cnt, zero)
	}
	if c := h.Cumulative([]float64{0.5, 2, 5}); c[0] != 1 || c[1] != 2 || c[2] != 4 {
		t.Errorf("cumulative: %v", c)
	}
	if h.Sum != 7*time.Second || h.Quantile(1) < 3*time.Second*97/100 {
		t.Errorf("sum %s, max quantile %s", h.Sum, h.Quantile(1))
	}
}

// TestMeterFoldNoAlloc: folding a result into the Meter allocates nothing
// (once an endpoint's code and error kind have been seen).
func TestMeterFoldNoAlloc(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	eps := []scenarios.Endpoint{{Name: "page", URL: "/", Weight: 1}, {Name: "image", URL: "/img", Weight: 8}}
	tgt, err := NewMixTargeter(u, eps, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f := newMeterFold(&Meter{}, start, &CurvePacer{Curve: curve(t, "hold 100/s for 1m")}, tgt, eps, nil)
	ok := &vegeta.Result{Method: "GET", URL: tgt.Targets()[1].URL, Code: 200, Timestamp: start, Latency: time.Millisecond}
	bad := &vegeta.Result{Method: "GET", URL: tgt.Targets()[0].URL, Code: 503, Timestamp: start, Latency: time.Millisecond}
	f.add(ok, "", 0, true)
	f.add(bad, "http 503", 0, true)
	var i int
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		ok.Timestamp = start.Add(time.Duration(i) * time.Millisecond) // crosses into new seconds
		f.add(ok, "", time.Duration(i)*time.Microsecond, true)
		f.add(bad, "http 503", 0, true)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per fold of two results, want 0", allocs)
	}
	if e := f.eps[1]; e.ok != 1002 || f.eps[0].errors["http 503"] != 1002 {
		t.Errorf("folded %d ok images and %d 503 pages, want 1002 each", e.ok, f.eps[0].errors["http 503"])
	}
}

// BenchmarkMeterFold is the Meter's cost per result on the result loop.
func BenchmarkMeterFold(b *testing.B) {
	u, _ := url.Parse("http://127.0.0.1:1")
	eps := []scenarios.Endpoint{{Name: "page", URL: "/", Weight: 1}, {Name: "image", URL: "/img", Weight: 8}}
	tgt, _ := NewMixTargeter(u, eps, nil, 0, 1)
	start := time.Now()
	f := newMeterFold(&Meter{}, start, &CurvePacer{Curve: curve(b, "hold 100/s for 1m")}, tgt, eps, nil)
	r := &vegeta.Result{Method: "GET", URL: tgt.Targets()[1].URL, Code: 200, Timestamp: start, Latency: time.Millisecond}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Timestamp = start.Add(time.Duration(i) * 50 * time.Microsecond)
		f.add(r, "", time.Microsecond, true)
	}
}

// TestMeterEndpointNames: every endpoint gets a label value of its own,
// the catch-all "other" included.
func TestMeterEndpointNames(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	eps := []scenarios.Endpoint{{Name: "other", URL: "/o", Weight: 1}, {Name: "a", URL: "/a", Weight: 1}, {Name: "a", URL: "/a", Method: "POST", Weight: 1}}
	tgt, err := NewMixTargeter(u, eps, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := newMeterFold(&Meter{}, time.Now(), &CurvePacer{Curve: curve(t, "hold 1/s for 1s")}, tgt, eps, nil)
	var got []string
	for _, e := range f.eps {
		got = append(got, e.name)
	}
	if strings.Join(got, ",") != "other,a,a (2),other (2)" {
		t.Errorf("names %q", got)
	}
	post := &vegeta.Result{Method: "POST", URL: tgt.Targets()[2].URL}
	if i := f.endpoint(post); i != 2 {
		t.Errorf("POST /a folds into endpoint %d, want 2", i)
	}
	if i := f.endpoint(&vegeta.Result{Method: "GET", URL: "http://127.0.0.1:1/elsewhere"}); i != 3 {
		t.Errorf("an unknown URL folds into endpoint %d, want 3 (other)", i)
	}
}
