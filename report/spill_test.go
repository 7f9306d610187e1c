package report

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// spillResults is a run of n results at rate/s over info's curve, in
// completion order: latencies lognormal around 2 ms, every 499th result a
// straggler that completes 90 s late (past SpillAfter, so its window is
// already on disk), every 1009th one whose send time is before any other.
func spillResults(info interface {
	Due(uint64) time.Duration
}, start time.Time, n int, seed uint64) []vegeta.Result {
	rng := rand.New(rand.NewPCG(seed, 7))
	urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/api/checkout", "http://127.0.0.1:8080/x"}
	rs := make([]vegeta.Result, n)
	for i := range rs {
		seq := uint64(i)
		r := vegeta.Result{Seq: seq, Method: "GET", URL: urls[rng.IntN(len(urls))], Code: 200,
			Latency:   time.Duration(math.Exp(rng.NormFloat64()) * 2e6),
			Timestamp: start.Add(info.Due(seq) + time.Duration(rng.IntN(3000))*time.Microsecond)}
		if rng.IntN(10) == 0 {
			r.Code, r.Error = 0, "dial tcp: connection refused"
		}
		if i%499 == 0 {
			r.Latency = 90 * time.Second
		}
		if i%1009 == 0 {
			r.Timestamp = start.Add(-3 * time.Second)
		}
		rs[i] = r
	}
	// Completion order: a straggler comes back 90 s of sends later.
	out := make([]vegeta.Result, 0, n)
	var held []vegeta.Result
	for i, r := range rs {
		if r.Latency == 90*time.Second {
			held = append(held, r)
		} else {
			out = append(out, r)
		}
		for len(held) > 0 && rs[i].Timestamp.Sub(held[0].Timestamp) > 90*time.Second {
			out = append(out, held[0])
			held = held[1:]
		}
	}
	return append(out, held...)
}

// TestSpillSameWindows: a Folder that spills its old windows to disk ends
// with exactly the windows of one that keeps them all, stragglers
// included, and leaves no file behind.
func TestSpillSameWindows(t *testing.T) {
	info := testScenario(t, "ramp 10/s to 100/s over 100s, hold 100/s for 300s")
	rs := spillResults(info, info.Start, int(info.Scenario.Curve.Requests()), 1)
	plain := NewFolder(info, time.Second)
	spilled := NewFolder(info, time.Second)
	dir := t.TempDir()
	if err := spilled.Spill(dir); err != nil {
		t.Fatal(err)
	}
	maxInMemory := 0
	for i := range rs {
		plain.Add(&rs[i])
		spilled.Add(&rs[i])
		maxInMemory = max(maxInMemory, len(spilled.w))
	}
	if spilled.sp.n < 300 || len(spilled.sp.late) == 0 {
		t.Fatalf("%d windows spilled, %d late windows: the test did not exercise spilling", spilled.sp.n, len(spilled.sp.late))
	}
	if limit := int(SpillAfter/time.Second) + 2; maxInMemory > limit {
		t.Errorf("up to %d windows in memory, want ≤ %d", maxInMemory, limit)
	}
	want, got := plain.Windows(), spilled.Windows()
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Fatalf("windows differ after spilling (%d vs %d windows, %d vs %d results)", len(want.W), len(got.W), want.Results, got.Results)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("spill directory not empty: %v", ents)
	}
	// Folding goes on in memory after the windows were read back.
	r := rs[len(rs)-1]
	spilled.Add(&r)
	if spilled.Windows().Results != got.Results+1 {
		t.Error("Add after Windows lost a result")
	}
}

// TestSpillMemoryFlat: folding 10 minutes at 5,000/s, a spilling Folder's
// heap at minute 10 is within 1 MB of its heap at minute 2; one that keeps
// every window grows by more than 5 MB (which shows the measurement can
// see growth).
func TestSpillMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("folds 3 million results")
	}
	info := testScenario(t, "hold 5000/s for 10m")
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / 1e6
	}
	urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/api/checkout"}
	grow := func(spill bool) float64 {
		f := NewFolder(info, time.Second)
		if spill {
			if err := f.Spill(t.TempDir()); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		r := &vegeta.Result{Method: "GET", Code: 200}
		var at2 float64
		for seq := uint64(0); seq < 5000*600; seq++ {
			r.Seq, r.URL = seq, urls[seq%3]
			r.Timestamp = info.Start.Add(info.Due(seq) + time.Duration(rng.IntN(100))*time.Microsecond)
			r.Latency = time.Duration(math.Exp(rng.NormFloat64()*0.8) * 60e3)
			f.Add(r)
			if seq == 5000*120 {
				at2 = heap()
			}
		}
		at10 := heap()
		t.Logf("spill %v: heap %.1f MB at minute 2, %.1f MB at minute 10", spill, at2, at10)
		runtime.KeepAlive(f)
		return at10 - at2
	}
	if g := grow(true); g > 1 {
		t.Errorf("spilling folder grew %.1f MB from minute 2 to 10", g)
	}
	if g := grow(false); g < 5 {
		t.Errorf("folder keeping every window grew only %.1f MB: the measurement cannot see growth", g)
	}
}
