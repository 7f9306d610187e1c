package hosting

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// SimulateVisits runs plan p under scenario s whose arrivals are visitors
// (s.Visitors: page views or journeys), as Simulate does for a mix of
// requests, and the way flashcrowd run's visits engine sends them: the
// curve's i-th arrival (this shard's) is a visitor due at N⁻¹(g + ½); a
// page view sends its page, then, once the page has answered with a
// success (slow or not), its assets at most connsPerVisitor at a time,
// each connection taking the next asset when its last one ended; a failed
// page sends no assets. The assets that leave at the same instant reach
// the host in the page's order, and it takes them first come, first
// served, as an event-driven server (nginx) does; flashcrowd serve's live
// host, a Go program, has been seen to take such a burst in another order,
// so which asset a page view's break is put down to can differ between the
// two while the broken share agrees (docs/simulate.md). A journey sends its steps in order, a think time
// apart (fixed, or exponential drawn from a stream of the seed), and stops
// at the first step that fails; a step that is a page with assets loads
// them as a page view of its own (visit sees it too), and the journey goes
// on when they are in; a capture is taken to match whenever its
// step succeeded (the model has no bodies: the shop's ids are always
// there). Arrivals that are neither (an endpoint without assets in a
// page-view scenario) are one request each.
//
// emit sees every request in order of Timestamp, with one reused Result,
// exactly as from Simulate: a page's or a journey's first request has Seq
// i, the others scenarios.AssetSeq plus a count, as in a real run. visit
// sees each visitor's record when its last response has ended, in that
// order: Start is the arrival's instant, Took runs from it to the last
// response, OK says every part succeeded (for page views, each within
// s.SLO.P99 when the SLO has one: a slower success breaks the page as
// "slow"), Broke names the part whose failure ended first.
//
// The requests meet the host model of Simulate, in order of the instant
// each is sent: a later step or asset leaves after its page's or step's
// response, so the host sees the visitors' requests interleaved as the
// live host would. Checks on responses (expect:) are not modelled: a
// response the host answers 200 passes them.
func SimulateVisits(ctx context.Context, p *Plan, s *scenarios.Scenario, o SimOptions, emit func(*vegeta.Result), visit func(*scenarios.Visit)) (SimStats, error) {
	var st SimStats
	if s == nil || !s.Visitors() {
		return st, fmt.Errorf("simulate: the scenario's arrivals are not visitors (no page lists assets, no journeys)")
	}
	if err := o.check(p, s.Curve); err != nil {
		return st, err
	}
	h, err := newSimHost(p, s.Endpoints, o, &st)
	if err != nil {
		return st, err
	}
	idx := make(map[string]int, len(s.Endpoints))
	for i, e := range s.Endpoints {
		idx[e.Name] = i
	}
	vs := &visitSim{h: h, o: o, emit: emit, visit: visit, slow: int64(s.SLO.P99),
		conns: max(o.ConnectionsPerVisitor, 1), journeys: s.Journeys,
		rng: rand.New(rand.NewPCG(uint64(o.Seed)^0x2545f4914f6cdd1d, 0x853c49e6748cea9b^uint64(o.Shard)))}
	vs.r.Attack = o.Attack
	if o.ConnectionsPerVisitor <= 0 {
		vs.conns = 6
	}
	src := newSimArrivals(s.Curve, o, h.rng)
	var picker *scenarios.Mix
	if s.HasJourneys() {
		picker = src.mix(scenarios.JourneyEndpoints(s.Journeys))
		for _, j := range s.Journeys {
			var steps []int
			for _, step := range j.Steps {
				k, ok := idx[step.Endpoint]
				if !ok {
					return SimStats{}, fmt.Errorf("simulate: journey %q: no endpoint %q", j.Name, step.Endpoint)
				}
				steps = append(steps, k)
			}
			vs.steps = append(vs.steps, steps)
		}
	} else {
		picker = src.mix(scenarios.ArrivalEndpoints(s.Endpoints))
	}
	vs.assets = make([][]int, len(s.Endpoints))
	for i, e := range s.Endpoints {
		for _, a := range e.Assets {
			k, ok := idx[a.Name]
			if !ok {
				return SimStats{}, fmt.Errorf("simulate: page %q: no endpoint %q", e.Name, a.Name)
			}
			for range a.Count {
				vs.assets[i] = append(vs.assets[i], k)
			}
		}
	}
	next, more := src.next()
	for n := uint64(0); ; n++ {
		if n&0xfff == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		var t int64
		if more {
			t = int64(math.Round(next * 1e9))
		}
		switch {
		case len(vs.q) > 0 && (!more || vs.q[0].t <= t):
			// What is due at the arrival's instant goes first: it was
			// set in motion earlier.
			vs.run(heap.Pop(&vs.q).(simEvent))
		case more:
			vs.arrive(src.i-1, t, picker.Next())
			next, more = src.next()
		default:
			return st, nil
		}
	}
}

// visitSim is one shard's visitors in flight, with the host they meet.
type visitSim struct {
	h        *simHost
	o        SimOptions
	emit     func(*vegeta.Result)
	visit    func(*scenarios.Visit)
	r        vegeta.Result
	slow     int64
	conns    int
	assets   [][]int // page views: per endpoint, its assets' endpoints, expanded (thumb×8 → 8)
	journeys []scenarios.Journey
	steps    [][]int    // journeys: per journey, its steps' endpoints
	rng      *rand.Rand // journeys' exponential think times
	assetN   uint64
	q        eventQueue
	pushed   uint64
}

// simVisit is a visitor in flight.
type simVisit struct {
	rec     scenarios.Visit
	ep      int   // page view: the page
	j       int   // journey: which
	next    int   // page view: the next asset to send; journey: the next step
	done    int   // page view: assets sent
	due     int64 // the arrival's instant, ns from t = 0
	end     int64 // the last response's end so far
	brokeAt int64
	// A page view that is a journey's step: its journey, which goes on
	// when the page view has loaded its assets (then) or stopped at its
	// failed page (not then).
	parent *simVisit
	then   bool
}

// simEvent is a request due to leave (a step, or an asset on one of the
// visitor's connections), or a visit's end (fin).
type simEvent struct {
	t   int64
	n   uint64 // order pushed: ties go first in, first out
	v   *simVisit
	fin bool
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].t < q[j].t || q[i].t == q[j].t && q[i].n < q[j].n
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (vs *visitSim) push(t int64, v *simVisit, fin bool) {
	heap.Push(&vs.q, simEvent{t: t, n: vs.pushed, v: v, fin: fin})
	vs.pushed++
}

// send is one request of endpoint k leaving at t as seq: its result goes
// out, and its error kind ("slow" for a page view's success past the
// SLO's p99) and end come back.
func (vs *visitSim) send(t int64, k int, seq uint64, judgeSlow bool) (string, int64) {
	r := &vs.r
	r.Seq = seq
	r.Timestamp = vs.o.Start.Add(time.Duration(t))
	vs.h.serve(t, k, r)
	vs.emit(r)
	kind := scenarios.ErrorKind(r.Code, r.Error)
	if kind == "" && judgeSlow && vs.slow > 0 && int64(r.Latency) > vs.slow {
		kind = "slow"
	}
	return kind, t + int64(r.Latency)
}

func (vs *visitSim) nextSeq() uint64 {
	vs.assetN++
	return scenarios.AssetSeq + vs.assetN - 1
}

// arrive is this shard's i-th arrival, at t, of k: a page (or a single
// request), or journey k.
func (vs *visitSim) arrive(i uint64, t int64, k int) {
	if vs.steps != nil {
		v := &simVisit{j: k, due: t, rec: scenarios.Visit{Kind: scenarios.JourneyVisit, Name: vs.journeys[k].Name, Seq: i, Step: -1,
			Start: time.Duration(t)}}
		vs.step(v, t, i)
		return
	}
	kind, end := vs.send(t, k, i, true)
	if len(vs.assets[k]) == 0 {
		return // a single-request arrival: no page view
	}
	v := &simVisit{ep: k, due: t, end: end, rec: scenarios.Visit{Kind: scenarios.PageView, Name: vs.endpointName(k), Seq: i, Step: -1,
		Start: time.Duration(t), Sent: 1}}
	vs.broke(v, k, kind, end)
	if kind != "" && kind != "slow" {
		vs.push(end, v, true) // no page, no assets
		return
	}
	// The browser has the page: its connections start on the assets,
	// in the page's order.
	for range min(vs.conns, len(vs.assets[k])) {
		vs.push(end, v, false)
	}
}

func (vs *visitSim) endpointName(k int) string { return vs.h.eps[k].name }

// broke notes a failed part: the one that ended first breaks the visit.
func (vs *visitSim) broke(v *simVisit, k int, kind string, end int64) {
	if kind != "" && (v.rec.Broke == "" || end < v.brokeAt) {
		v.rec.Broke, v.rec.Why, v.brokeAt = vs.endpointName(k), kind, end
	}
}

// run handles one event.
func (vs *visitSim) run(e simEvent) {
	v := e.v
	switch {
	case e.fin:
		v.rec.OK = v.rec.Broke == ""
		v.rec.Took = time.Duration(v.end - v.due)
		vs.visit(&v.rec)
		if j := v.parent; j != nil && v.then {
			j.rec.Sent += v.rec.Sent - 1 // the page was counted as the step
			j.end = v.end
			vs.goOn(j)
		}
	case v.rec.Kind == scenarios.JourneyVisit:
		vs.step(v, e.t, vs.nextSeq())
	default:
		// One of the page view's connections is free: it takes the
		// next asset, as a browser's does (a failure that came back at
		// once frees its connection at once).
		as := vs.assets[v.ep]
		if v.next == len(as) {
			return // another connection was free first
		}
		k := as[v.next]
		v.next++
		kind, end := vs.send(e.t, k, vs.nextSeq(), true)
		v.rec.Sent++
		v.done++
		v.end = max(v.end, end)
		vs.broke(v, k, kind, end)
		if v.next < len(as) {
			// This connection is free again at end: it takes the next
			// asset then, unless another is free before it.
			vs.push(end, v, false)
		}
		if v.done == len(as) {
			vs.push(v.end, v, true)
		}
	}
}

// step sends a journey's next step at t as seq; after it, the journey
// thinks and goes on, or ends (at the last step, or the first that fails).
func (vs *visitSim) step(v *simVisit, t int64, seq uint64) {
	steps := vs.steps[v.j]
	s := v.next
	k := steps[s]
	kind, end := vs.send(t, k, seq, false)
	v.next++
	v.rec.Sent++
	v.end = end
	if as := vs.assets[k]; len(as) > 0 {
		// A page with assets: the visitor's browser loads them, as a page
		// view of its own; the journey goes on once they are in, even if
		// one failed (the visitor goes on without the image).
		pk := kind
		if pk == "" && vs.slow > 0 && end-t > vs.slow {
			pk = "slow"
		}
		pv := &simVisit{ep: k, due: t, end: end, parent: v, then: kind == "",
			rec: scenarios.Visit{Kind: scenarios.PageView, Name: vs.endpointName(k), Seq: v.rec.Seq, Step: -1, Start: time.Duration(t), Sent: 1}}
		vs.broke(pv, k, pk, end)
		if kind == "" {
			for range min(vs.conns, len(as)) {
				vs.push(end, pv, false)
			}
			return
		}
		vs.push(end, pv, true) // the page failed: no assets
	}
	if kind != "" {
		v.rec.Broke, v.rec.Why, v.rec.Step = vs.endpointName(k), kind, s
		v.rec.Abandoned = true
		vs.push(end, v, true)
		return
	}
	vs.goOn(v)
}

// goOn is journey v after a step that succeeded, ended at v.end: it ends
// there, or thinks and sends its next step.
func (vs *visitSim) goOn(v *simVisit) {
	end := v.end
	if v.next == len(vs.steps[v.j]) {
		vs.push(end, v, true)
		return
	}
	th := vs.journeys[v.j].Think
	d := int64(th.Mean)
	if th.Exponential {
		d = int64(vs.rng.ExpFloat64() * float64(th.Mean))
	}
	vs.push(end+d, v, false)
}
