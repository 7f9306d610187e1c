package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func res(at time.Duration, lat time.Duration, code uint16, err, url string) *vegeta.Result {
	return &vegeta.Result{Timestamp: t0.Add(at), Latency: lat, Code: code, Error: err, Method: "GET", URL: url, BytesIn: 100, BytesOut: 10}
}

// Each result lands in the window it was sent in, counted by status class
// and error kind; its completion counts in the window it ended in.
func TestFoldCounts(t *testing.T) {
	f := NewFolder(nil, time.Second)
	u := "http://127.0.0.1:8080/img/a.jpg"
	for _, r := range []*vegeta.Result{
		res(100*time.Millisecond, 10*time.Millisecond, 200, "", u),
		res(200*time.Millisecond, 1500*time.Millisecond, 200, "", u), // completes in window 1
		res(300*time.Millisecond, time.Millisecond, 503, "503 Service Unavailable", u),
		res(400*time.Millisecond, 3*time.Second, 504, "504 Gateway Timeout", u),
		res(500*time.Millisecond, 5*time.Second, 0, `Get "`+u+`": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, u),
		res(600*time.Millisecond, time.Millisecond, 0, `Get "`+u+`": dial tcp 127.0.0.1:8080: connect: connection refused`, u),
		res(700*time.Millisecond, time.Millisecond, 0, `Get "`+u+`": read tcp 127.0.0.1:1->127.0.0.1:8080: read: connection reset by peer`, u),
		res(800*time.Millisecond, time.Millisecond, 0, `Get "`+u+`": tls: first record does not look like a TLS handshake`, u),
		res(900*time.Millisecond, time.Millisecond, 0, `Get "`+u+`": dial tcp 127.0.0.1:8080: socket: too many open files`, u),
		res(1100*time.Millisecond, 20*time.Millisecond, 301, "", "http://127.0.0.1:8080/"),
		res(1200*time.Millisecond, 20*time.Millisecond, 404, "404 Not Found", "http://127.0.0.1:8080/"),
	} {
		f.Add(r)
	}
	ws := f.Windows()
	if len(ws.W) != 6 { // the timeout completes in window 5
		t.Fatalf("%d windows, want 6", len(ws.W))
	}
	w0, w1 := &ws.W[0].Total, &ws.W[1].Total
	if w0.Requests != 9 || w0.OK != 2 || w0.S503 != 1 || w0.S504 != 1 || w0.Status[5] != 2 || w0.Status[0] != 5 {
		t.Errorf("window 0: %+v", w0)
	}
	want := [numErrorKinds]uint64{Timeout: 1, Refused: 1, Reset: 1, TLS: 1, Generator: 1}
	if w0.Errors != want {
		t.Errorf("error kinds %v, want %v", w0.Errors, want)
	}
	if w0.DoneOK != 1 || w1.DoneOK != 2 || w1.Requests != 2 || w1.Status[3] != 1 || w1.Status[4] != 1 {
		t.Errorf("window 1: %+v (window 0 done ok %d)", w1, w0.DoneOK)
	}
	if w0.BytesIn != 900 || w0.BytesOut != 90 {
		t.Errorf("bytes %d/%d", w0.BytesIn, w0.BytesOut)
	}
	if ws.W[5].Total.Done != 1 || ws.W[5].Total.Requests != 0 {
		t.Errorf("the timeout should complete in window 5: %+v", ws.W[5].Total)
	}
	if len(ws.Endpoints) != 2 || ws.Endpoints[0].Name != "GET /img/a.jpg" || ws.Endpoints[0].Class != scenarios.Asset || ws.Endpoints[1].Class != scenarios.Page {
		t.Errorf("endpoints %+v", ws.Endpoints)
	}
	// Plain files: t = 0 is the start of the first window.
	if !ws.Origin.Equal(t0.Truncate(time.Second)) {
		t.Errorf("origin %v, want %v", ws.Origin, t0.Truncate(time.Second))
	}
}

func TestClassifyError(t *testing.T) {
	for s, want := range map[string]ErrorKind{
		"net/http: request canceled (Client.Timeout exceeded while awaiting headers)": Timeout,
		"read tcp 1.2.3.4:5->6.7.8.9:80: i/o timeout":                                 Timeout,
		"context deadline exceeded":                                                   Timeout,
		"dial tcp 127.0.0.1:1: connect: connection refused":                           Refused,
		"write tcp: broken pipe":                                                      Reset,
		"read: connection reset by peer":                                              Reset,
		"EOF":                                                                         Reset,
		`Get "http://127.0.0.1:8/": EOF`:                                              Reset,
		"http: server closed idle connection":                                         Reset,
		"x509: certificate signed by unknown authority":                               TLS,
		"remote error: tls: handshake failure":                                        TLS,
		"dial tcp: lookup nohost: no such host":                                       DNS,
		"socket: too many open files":                                                 Generator,
		"":                                                                            OtherError,
	} {
		if got := ClassifyError(s); got != want {
			t.Errorf("ClassifyError(%q) = %s, want %s", s, got, want)
		}
	}
}

// Scenario endpoints are matched by method and path (and query, if the
// scenario gives one); unknown requests go to their class's "other".
func TestEndpointMatching(t *testing.T) {
	info := testScenario(t, "hold 10/s for 10s")
	info.Scenario.Endpoints = append(info.Scenario.Endpoints,
		scenarios.Endpoint{Name: "search-a", Method: "GET", URL: "/search?q=a", Weight: 1, Class: scenarios.Page},
		scenarios.Endpoint{Name: "search-b", Method: "GET", URL: "http://127.0.0.1:8080/search?q=b", Weight: 1, Class: scenarios.Page})
	f := NewFolder(info, time.Second)
	for url, want := range map[string]string{
		"http://127.0.0.1:8080/":                "home",
		"http://127.0.0.1:8080/img/hero.jpg":    "images",
		"http://127.0.0.1:8080/img/hero.jpg#x":  "images",
		"http://127.0.0.1:8080/search?q=b":      "search-b",
		"http://127.0.0.1:8080/search?q=a":      "search-a",
		"http://127.0.0.1:8080/search?q=zzz":    "search-a", // path only: the first with that path
		"http://127.0.0.1:8080/img/unknown.png": "other asset",
		"http://127.0.0.1:8080/api/v2/unknown":  "other api",
		"http://127.0.0.1:8080/about":           "other page",
		"http://127.0.0.1:8080?utm=1":           "home",
	} {
		i := f.endpoint("GET", url)
		if got := f.eps[i].Name; got != want {
			t.Errorf("%s → %s, want %s", url, got, want)
		}
	}
	if i := f.endpoint("POST", "http://127.0.0.1:8080/api/checkout"); f.eps[i].Name != "checkout" {
		t.Errorf("POST /api/checkout → %s", f.eps[i].Name)
	}
	if i := f.endpoint("GET", "http://127.0.0.1:8080/api/checkout"); f.eps[i].Name != "other api" {
		t.Errorf("GET /api/checkout → %s, want other api (the method differs)", f.eps[i].Name)
	}
}

// classOfPath must agree with scenarios.ClassOf.
func TestClassOfPath(t *testing.T) {
	for _, p := range []string{"/", "/api", "/api/", "/API/x", "/apix", "/img/a", "/IMG/A", "/static/x", "/assets/y.txt",
		"/a.JPG", "/a.css", "/a.js", "/x.woff2", "/dir.jpg/page", "/a.html", "/a", "/.png", "/p.mp4"} {
		if got, want := classOfPath(p), scenarios.ClassOf(p); got != want {
			t.Errorf("classOfPath(%q) = %s, scenarios.ClassOf says %s", p, got, want)
		}
	}
}

// A file with a million distinct URLs keeps a bounded number of series.
func TestEndpointsBounded(t *testing.T) {
	f := NewFolder(nil, time.Second)
	for i := range 20000 {
		f.Add(res(time.Duration(i)*time.Millisecond, time.Millisecond, 200, "", fmt.Sprintf("http://127.0.0.1:8080/img/%d.jpg?x=%d", i, i)))
		f.Add(res(time.Duration(i)*time.Millisecond, time.Millisecond, 200, "", fmt.Sprintf("http://127.0.0.1:8080/p/%d", i)))
	}
	ws := f.Windows()
	if len(ws.Endpoints) > MaxEndpoints+3 {
		t.Fatalf("%d series for 40,000 distinct URLs", len(ws.Endpoints))
	}
	var total uint64
	for i := range ws.Endpoints {
		s := ws.Sum(i)
		total += s.Requests
	}
	if total != 40000 {
		t.Fatalf("series hold %d requests, want 40000", total)
	}
	if s := ws.Sum(f.other[1]); s.Requests != 20000-MaxEndpoints/2 {
		t.Errorf("other asset holds %d", s.Requests)
	}
}

// Results out of order fold into the same windows as in order.
func TestFoldOutOfOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var rs []vegeta.Result
	for i := range 5000 {
		code := uint16(200)
		if rng.IntN(10) == 0 {
			code = 503
		}
		rs = append(rs, *res(time.Duration(i)*7*time.Millisecond, time.Duration(rng.ExpFloat64()*30e6), code, "", "http://127.0.0.1:8080/"))
	}
	a, b := NewFolder(nil, time.Second), NewFolder(nil, time.Second)
	for i := range rs {
		a.Add(&rs[i])
	}
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	for i := range rs {
		b.Add(&rs[i])
	}
	if wa, wb := a.Windows(), b.Windows(); !reflect.DeepEqual(wa, wb) {
		t.Fatal("shuffled results fold differently")
	}
}

// Shards folded apart and merged equal the whole run folded at once; so do
// 1 s windows merged into 5 s ones and 5 s windows folded directly.
func TestMergeShardsAndRewindow(t *testing.T) {
	whole := testScenario(t, spikeCurve)
	var all []vegeta.Result
	starvedHost().simulate(whole, 1, func(r *vegeta.Result) { all = append(all, *r) })

	one := NewFolder(whole, time.Second)
	for i := range all {
		one.Add(&all[i])
	}
	// Split the same results into two shards: shard k gets the requests
	// with global index ≡ k (mod 2), with seq = index/2, as attack sends them.
	merged := NewFolder(nil, time.Second)
	for k := range 2 {
		info := *whole
		info.Shard, info.Shards = k, 2
		f := NewFolder(&info, time.Second)
		for i := range all {
			if all[i].Seq%2 == uint64(k) {
				r := all[i]
				r.Seq /= 2
				f.Add(&r)
			}
		}
		if k == 0 {
			merged = f
			continue
		}
		if err := merged.Merge(f); err != nil {
			t.Fatal(err)
		}
	}
	wa, wb := one.Windows(), merged.Windows()
	if len(wa.W) != len(wb.W) {
		t.Fatalf("%d windows vs %d", len(wa.W), len(wb.W))
	}
	for i := range wa.W {
		x, y := &wa.W[i], &wb.W[i]
		if x.Total.Requests != y.Total.Requests || x.Total.OK != y.Total.OK || x.Total.S503 != y.Total.S503 ||
			x.Total.Latency.Quantile(.99) != y.Total.Latency.Quantile(.99) || x.Total.DoneOK != y.Total.DoneOK {
			t.Fatalf("window %d differs: %+v vs %+v", i, x.Total, y.Total)
		}
		if d := x.Offered - y.Offered; d > 1e-6 || d < -1e-6 {
			t.Fatalf("window %d offered %v vs %v (two shards' halves should add up)", i, x.Offered, y.Offered)
		}
		if x.Lag.Max > uint64(time.Millisecond/time.Microsecond) || y.Lag.Max > uint64(time.Millisecond/time.Microsecond) {
			t.Fatalf("window %d: lag %d/%d µs for a generator that sent on time", i, x.Lag.Max, y.Lag.Max)
		}
	}
	if got, want := Analyze(wb, whole.Scenario.SLO).Verdict, Analyze(wa, whole.Scenario.SLO).Verdict; got != want {
		t.Errorf("merged shards: %s\nwhole: %s", got, want)
	}

	five := NewFolder(whole, 5*time.Second)
	for i := range all {
		five.Add(&all[i])
	}
	re, err := wa.Rewindow(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	direct := five.Windows()
	if len(re.W) != len(direct.W) {
		t.Fatalf("rewindowed %d windows, folded %d", len(re.W), len(direct.W))
	}
	for i := range re.W {
		if !reflect.DeepEqual(re.W[i].Total, direct.W[i].Total) || re.W[i].Offered-direct.W[i].Offered > 1e-6 {
			t.Fatalf("5 s window %d differs", i)
		}
	}
	if _, err := wa.Rewindow(1500 * time.Millisecond); err == nil {
		t.Error("rewindowing 1 s windows into 1.5 s ones should fail")
	}
}

// Folding a result allocates nothing once its window and endpoint exist.
func TestFoldNoAllocs(t *testing.T) {
	info := testScenario(t, "hold 100/s for 1h")
	f := NewFolder(info, time.Second)
	rs := benchResults(info, 5000)
	for i := range rs {
		f.Add(&rs[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		f.Add(&rs[i%len(rs)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Add allocates %v times per result in steady state", allocs)
	}
}

// benchResults is n results of a run at 100/s with a realistic mix of
// outcomes.
func benchResults(info *scenarios.RunInfo, n int) []vegeta.Result {
	rng := rand.New(rand.NewPCG(9, 10))
	urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/api/checkout"}
	out := make([]vegeta.Result, n)
	for i := range out {
		seq := uint64(i)
		r := vegeta.Result{Seq: seq, Method: "GET", URL: urls[i%len(urls)], Code: 200, BytesIn: 2048,
			Timestamp: info.Start.Add(info.Due(seq) + time.Duration(rng.IntN(2000))*time.Microsecond),
			Latency:   time.Duration(rng.ExpFloat64() * 40e6)}
		switch rng.IntN(20) {
		case 0:
			r.Code, r.Error = 503, "503 Service Unavailable"
		case 1:
			r.Code, r.Error = 0, `Get "`+r.URL+`": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
		}
		if i%len(urls) == 2 {
			r.Method = "POST"
		}
		out[i] = r
	}
	return out
}

func BenchmarkFold(b *testing.B) {
	info := testScenario(b, "hold 100/s for 1h")
	rs := benchResults(info, 100000)
	f := NewFolder(info, time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.Add(&rs[i%len(rs)])
	}
}

func BenchmarkFoldPlain(b *testing.B) {
	info := testScenario(b, "hold 100/s for 1h")
	rs := benchResults(info, 100000)
	f := NewFolder(nil, time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.Add(&rs[i%len(rs)])
	}
}

// BenchmarkWindowMemory reports the heap a busy window costs: 1,000 windows
// of 5,000 results each over a page, three assets and an API call.
func BenchmarkWindowMemory(b *testing.B) {
	info := testScenario(b, "hold 5000/s for 1000s")
	info.Scenario.Endpoints = []scenarios.Endpoint{
		{Name: "home", Method: "GET", URL: "/", Weight: 1, Class: scenarios.Page},
		{Name: "hero", Method: "GET", URL: "/img/hero.jpg", Weight: 1, Class: scenarios.Asset},
		{Name: "logo", Method: "GET", URL: "/img/logo.png", Weight: 1, Class: scenarios.Asset},
		{Name: "css", Method: "GET", URL: "/css/site.css", Weight: 1, Class: scenarios.Asset},
		{Name: "cart", Method: "POST", URL: "/api/cart", Weight: 1, Class: scenarios.API},
	}
	urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/img/logo.png", "http://127.0.0.1:8080/css/site.css", "http://127.0.0.1:8080/api/cart"}
	for range b.N {
		rng := rand.New(rand.NewPCG(1, 2))
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f := NewFolder(info, time.Second)
		var r vegeta.Result
		for i := range 5_000_000 {
			r = vegeta.Result{Seq: uint64(i), Method: "GET", URL: urls[i%5], Code: 200,
				Timestamp: info.Start.Add(info.Due(uint64(i))), Latency: time.Duration(math.Exp(rng.NormFloat64()*0.5) * 15e6)}
			if i%5 == 4 {
				r.Method = "POST"
			}
			f.Add(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		ws := f.Windows()
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(ws.W)), "B/window")
		runtime.KeepAlive(f)
	}
}

func TestWidthFor(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		time.Minute: time.Second, time.Hour: time.Second, 2 * time.Hour: 2 * time.Second,
		6 * time.Hour: 6 * time.Second, 6*time.Hour + time.Minute: 7 * time.Second, 48 * time.Hour: 48 * time.Second,
	} {
		if got := WidthFor(d); got != want {
			t.Errorf("WidthFor(%s) = %s, want %s", d, got, want)
		}
	}
}
