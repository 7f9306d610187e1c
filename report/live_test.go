package report

import (
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestLiveHTTP folds the results of a real vegeta attack on a loopback
// server whose images run on two workers (about 100 images a second) and
// whose page is cheap, and checks the fold against vegeta's own metrics and
// the exact latencies, and that the images are found to fail first.
func TestLiveHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("sends about 1,000 requests over 4 s")
	}
	sem := make(chan struct{}, 2)
	var waiting atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/img/x.jpg" {
			w.Write([]byte("<html>ok</html>"))
			return
		}
		if waiting.Add(1) > 20 {
			waiting.Add(-1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		sem <- struct{}{}
		waiting.Add(-1)
		time.Sleep(20 * time.Millisecond)
		<-sem
		w.Write(make([]byte, 1024))
	}))
	defer srv.Close()

	atk := vegeta.NewAttacker(vegeta.Timeout(5*time.Second), vegeta.KeepAlive(true), vegeta.Connections(200), vegeta.MaxWorkers(400))
	tr := vegeta.NewStaticTargeter(
		vegeta.Target{Method: "GET", URL: srv.URL + "/"},
		vegeta.Target{Method: "GET", URL: srv.URL + "/img/x.jpg"},
	)
	pacer := vegeta.LinearPacer{StartAt: vegeta.Rate{Freq: 50, Per: time.Second}, Slope: 100}
	f := NewFolder(nil, 250*time.Millisecond)
	var m vegeta.Metrics
	var lats []time.Duration
	for r := range atk.Attack(tr, pacer, 4*time.Second, "live") {
		f.Add(r)
		m.Add(r)
		if r.Code >= 200 && r.Code < 400 {
			lats = append(lats, r.Latency) // the fold's latency is of successes
		}
	}
	m.Close()
	ws := f.Windows()
	tot := ws.Sum(-1)
	if tot.Requests != m.Requests || tot.OK != uint64(math.Round(m.Success*float64(m.Requests))) {
		t.Errorf("folded %d requests, %d ok; vegeta counts %d, success %.4f", tot.Requests, tot.OK, m.Requests, m.Success)
	}
	if got, want := tot.S503, uint64(m.StatusCodes["503"]); got != want {
		t.Errorf("503s: folded %d, vegeta %d", got, want)
	}
	if tot.BytesIn != m.BytesIn.Total || tot.BytesOut != m.BytesOut.Total {
		t.Errorf("bytes in/out %d/%d, vegeta %d/%d", tot.BytesIn, tot.BytesOut, m.BytesIn.Total, m.BytesOut.Total)
	}
	slices.Sort(lats)
	exact := lats[int(math.Ceil(0.99*float64(len(lats))))-1]
	if got := tot.Latency.Quantile(.99); got < exact.Truncate(time.Microsecond) || float64(got) > float64(exact)*1.01+1000 {
		t.Errorf("p99 %v, exact %v", got, exact)
	}
	slo := scenarios.SLO{P99: 500 * time.Millisecond, MaxErrorRatio: 0.01, MinThroughput: 0.9, Grace: 500 * time.Millisecond}
	a := Analyze(ws, slo)
	t.Logf("%d requests, %d 503s: %s", tot.Requests, tot.S503, a.Verdict)
	if tot.S503 == 0 || !a.Broke {
		t.Fatalf("the image pool never overflowed (load too low for this machine?): %s", a.Verdict)
	}
	if a.First == nil || a.First.Name != "GET /img/x.jpg" {
		t.Errorf("first failing endpoint %v, want GET /img/x.jpg", a.First)
	}
	for _, e := range a.Endpoints {
		if e.Name == "GET /" && e.Failed > 0 {
			t.Errorf("the page failed %d times", e.Failed)
		}
	}
}
