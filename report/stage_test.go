package report

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The fold's fast paths (a cache of recent request lines, staged latency
// buckets, the wall-clock offset) give exactly the windows of the plain
// algorithm: every result's latency recorded straight into its window's
// histograms, and t.Sub(origin) for its offset. Results come mostly in
// order with stragglers for earlier windows, latencies span the staged
// range and beyond it, and the origin has a monotonic clock reading or not.
func TestFoldFastPathsExact(t *testing.T) {
	for _, mono := range []bool{false, true} {
		info := testScenario(t, "hold 200/s for 40s")
		if mono {
			info.Start = time.Now() // carries a monotonic reading
		}
		rng := rand.New(rand.NewPCG(5, 6))
		urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/api/checkout", "http://127.0.0.1:8080/elsewhere"}
		var rs []vegeta.Result
		for seq := uint64(0); seq < 8000; seq++ {
			lat := time.Duration(rng.ExpFloat64() * 30e6)
			switch rng.IntN(50) {
			case 0:
				lat = 100 * time.Hour // past the staged buckets
			case 1:
				lat = -time.Millisecond
			}
			r := vegeta.Result{Seq: seq, Method: "GET", URL: urls[rng.IntN(len(urls))], Code: 200, Latency: lat,
				Timestamp: info.Start.Add(info.Due(seq) + time.Duration(rng.IntN(5000))*time.Microsecond)}
			if r.URL == urls[2] {
				r.Method = "POST"
			}
			rs = append(rs, r)
		}
		// Stragglers: every 97th result arrives 600 results (3 s) late.
		for i := 97; i+600 < len(rs); i += 97 {
			x := rs[i]
			copy(rs[i:i+600], rs[i+1:i+601])
			rs[i+600] = x
		}
		f := NewFolder(info, time.Second)
		for i := range rs {
			r := rs[i] // a fresh copy: the URL strings are shared all the same
			f.Add(&r)
			if i%1234 == 0 {
				f.Windows() // flushes the stage mid-window: later adds merge into filled buckets
			}
		}
		got := f.Windows()

		// The reference: the same counts, histograms filled directly.
		want := make(map[int]*Window)
		for i := range rs {
			r := &rs[i]
			k := int(floorDiv64(int64(r.Timestamp.Sub(info.Start)), int64(time.Second)))
			w := want[k]
			if w == nil {
				w = &Window{Index: k}
				want[k] = w
			}
			ep := f.lookup(r.Method, r.URL)
			w.Total.Latency.Record(r.Latency)
			w.ep(ep).Latency.Record(r.Latency)
			w.Lag.Record(r.Timestamp.Sub(info.Start.Add(info.Due(r.Seq))))
		}
		checked := 0
		for i := range got.W {
			g := &got.W[i]
			w := want[g.Index]
			if w == nil {
				continue
			}
			checked++
			if !reflect.DeepEqual(g.Total.Latency, w.Total.Latency) || !reflect.DeepEqual(g.Lag, w.Lag) {
				t.Fatalf("mono %v: window %d: total or lag histogram differs from direct recording", mono, g.Index)
			}
			for e := range w.Endpoints {
				if !reflect.DeepEqual(g.Endpoints[e].Latency, w.Endpoints[e].Latency) {
					t.Fatalf("mono %v: window %d endpoint %d: histogram differs from direct recording", mono, g.Index, e)
				}
			}
		}
		if checked < 40 || got.Results != uint64(len(rs)) {
			t.Errorf("mono %v: checked %d windows, %d results", mono, checked, got.Results)
		}
	}
}

// A simulated run's results are sent exactly when due: their send lag is 0
// whatever their Seq (Poisson arrivals do not follow N⁻¹(seq)).
func TestFoldSimulatedNoLag(t *testing.T) {
	info := testScenario(t, "hold 100/s for 10s")
	info.Simulated = true
	f := NewFolder(info, time.Second)
	for seq := uint64(0); seq < 1000; seq++ {
		// Timestamps far from N⁻¹(seq), as a Poisson process's may be.
		f.Add(&vegeta.Result{Seq: seq, Method: "GET", URL: "/", Code: 200, Latency: time.Millisecond,
			Timestamp: info.Start.Add(time.Duration(seq%10) * time.Second)})
	}
	ws := f.Windows()
	for _, w := range ws.W {
		if w.Lag.N > 0 && w.Lag.Max != 0 {
			t.Fatalf("window %d: lag up to %d µs in a simulated run", w.Index, w.Lag.Max)
		}
	}
	if a := Analyze(ws, info.Scenario.SLO); a.MaxLag != 0 || a.GenBehindAt >= 0 {
		t.Errorf("simulated run: max lag %s, generator behind at %g", a.MaxLag, a.GenBehindAt)
	}
}
