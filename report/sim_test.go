package report

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// This file is a small stand-in for hosting.Simulate: a FIFO queueing host
// with a worker pool per class, a queue limit (503 when full), a host
// timeout (504) and a client timeout, fed with requests at exactly the
// times the curve schedules them. Its capacity per class is workers/service
// time, so a test knows the true capacity.

type simClass struct {
	workers int
	service time.Duration // mean; uniform ±jitter
	jitter  float64
	queue   int // waiting requests beyond which new ones get 503
}

type simHost struct {
	classes     map[scenarios.Class]simClass
	hostTimeout time.Duration // 504 after waiting this long for a worker
	clientTO    time.Duration // the client gives up
	// genLag, if set, delays sends from this offset on by genLagBy, as a
	// generator that cannot keep up would.
	genLagFrom  time.Duration
	genLagBy    time.Duration
	genDropFrom time.Duration // from here on only every other request is sent
}

// capacity is the rate of the whole mix the host can serve: the class that
// saturates first limits it.
func (h *simHost) capacity(eps []scenarios.Endpoint) float64 {
	var total float64
	share := map[scenarios.Class]float64{}
	for _, e := range eps {
		total += e.Weight
		share[e.Class] += e.Weight
	}
	c := 1e18
	for cl, w := range share {
		k := h.classes[cl]
		cap := float64(k.workers) / k.service.Seconds()
		c = min(c, cap/(w/total))
	}
	return c
}

type freeHeap []time.Duration

func (h freeHeap) Len() int           { return len(h) }
func (h freeHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h freeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *freeHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *freeHeap) Pop() any          { o := *h; x := o[len(o)-1]; *h = o[:len(o)-1]; return x }

type simPool struct {
	free    freeHeap
	waiting []time.Duration // start times of accepted requests not yet started, FIFO
	cls     simClass
}

// simulate runs the curve through the host and calls emit with each result
// (in send order, reusing one Result).
func (h *simHost) simulate(info *scenarios.RunInfo, seed uint64, emit func(*vegeta.Result)) {
	rng := rand.New(rand.NewPCG(seed, 1))
	pools := map[scenarios.Class]*simPool{}
	for cl, k := range h.classes {
		p := &simPool{cls: k}
		for range k.workers {
			p.free = append(p.free, 0)
		}
		pools[cl] = p
	}
	mix := scenarios.NewMix(info.Scenario.Endpoints)
	var r vegeta.Result
	n := info.Scenario.Curve.Requests()
	for seq := uint64(0); seq < n; seq++ {
		due := info.Due(seq)
		if due < 0 {
			break
		}
		ep := info.Scenario.Endpoints[mix.Next()]
		if h.genDropFrom > 0 && due >= h.genDropFrom && seq%2 == 1 {
			continue
		}
		sent := due
		if h.genLagBy > 0 && due >= h.genLagFrom {
			sent += h.genLagBy
		}
		p := pools[ep.Class]
		for len(p.waiting) > 0 && p.waiting[0] <= sent {
			p.waiting = p.waiting[1:]
		}
		r = vegeta.Result{Attack: "sim", Seq: seq, Method: ep.Method, URL: "http://127.0.0.1:8080" + ep.URL,
			Timestamp: info.Start.Add(sent), BytesOut: 0}
		switch {
		case len(p.waiting) >= p.cls.queue:
			r.Code, r.Latency, r.Error = 503, time.Millisecond, "503 Service Unavailable"
		default:
			start := max(sent, p.free[0])
			if start-sent > h.hostTimeout {
				// Gives up waiting: the slot it would have used stays free.
				r.Code, r.Latency, r.Error = 504, h.hostTimeout, "504 Gateway Timeout"
				break
			}
			svc := time.Duration(float64(p.cls.service) * (1 + p.cls.jitter*(2*rng.Float64()-1)))
			end := start + svc
			p.free[0] = end
			heap.Fix(&p.free, 0)
			if start > sent {
				p.waiting = append(p.waiting, start)
			}
			r.Latency = end - sent
			r.Code, r.BytesIn = 200, 2048
			if r.Latency > h.clientTO {
				r.Code, r.Latency, r.BytesIn = 0, h.clientTO, 0
				r.Error = `Get "http://127.0.0.1:8080` + ep.URL + `": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
			}
		}
		emit(&r)
	}
}

// testScenario is a spike against a page + images mix: a ramp up past the
// host's capacity, a hold at the peak and a decay back down.
func testScenario(t testing.TB, curve string) *scenarios.RunInfo {
	t.Helper()
	c, err := scenarios.ParseCurve("test", curve, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.RunInfo{
		Tool: "flashcrowd", Target: "http://127.0.0.1:8080", Plan: "shared",
		Scenario: &scenarios.Scenario{Name: "test-spike", Curve: c, Compress: 1, SLO: scenarios.DefaultSLO,
			Endpoints: []scenarios.Endpoint{
				{Name: "home", Method: "GET", URL: "/", Weight: 1, Class: scenarios.Page},
				{Name: "images", Method: "GET", URL: "/img/hero.jpg", Weight: 8, Class: scenarios.Asset},
				{Name: "checkout", Method: "POST", URL: "/api/checkout", Weight: 0.2, Class: scenarios.API},
			}},
		Shard: 0, Shards: 1,
		Start: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
		// A finished run writes its end; one without was killed.
		End: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC).Add(c.Duration()),
	}
}

// starvedHost runs images on a small pool: capacity of the mix ~ 225 req/s.
func starvedHost() *simHost {
	return &simHost{
		classes: map[scenarios.Class]simClass{
			scenarios.Page:  {workers: 8, service: 20 * time.Millisecond, jitter: 0.3, queue: 200},
			scenarios.Asset: {workers: 4, service: 20 * time.Millisecond, jitter: 0.3, queue: 100},
			scenarios.API:   {workers: 4, service: 40 * time.Millisecond, jitter: 0.3, queue: 50},
		},
		hostTimeout: 3 * time.Second,
		clientTO:    5 * time.Second,
	}
}

const spikeCurve = "warmup: ramp 20/s to 60/s over 20s, surge: ramp 60/s to 400/s over 60s, peak: hold 400/s for 10s, fade: ramp 400/s to 20/s over 40s, tail: hold 20/s for 30s"

// foldSim folds a simulated run.
func foldSim(t testing.TB, h *simHost, info *scenarios.RunInfo, width time.Duration) *Folder {
	f := NewFolder(info, width)
	h.simulate(info, 1, f.Add)
	return f
}
