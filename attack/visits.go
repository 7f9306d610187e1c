package attack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// EngineVisits sends a scenario whose arrivals are page views: each
// arrival is a visitor who loads a page, then its assets, over net/http.
const EngineVisits = "visits"

// DefaultConnectionsPerVisitor is how many of a page view's assets load at
// once, as a browser opens six connections to a host.
const DefaultConnectionsPerVisitor = 6

// visitEngine sends page views. Its dispatcher paces arrivals by the curve
// (the i-th visitor is due at Curve.Due(i)) and starts one goroutine per
// visitor, so a slow site has more visitors in flight (the open model).
// A visitor sends its page; when the page has answered with a success it
// sends the page's assets, at most perVisitor at a time, as a browser
// does once it has the HTML; a failed page sends no assets. Every request
// is an ordinary result (a page's Seq is its visitor's index, an asset's
// scenarios.AssetSeq plus a count), and each page view ends with a
// scenarios.Visit on visits.
//
// Connections are pooled across visitors (keep-alive, up to
// Options.MaxConnections): a browser's own connection set-up is not
// modelled, which keeps a generator of thousands of visitors a second
// within the machine's local ports.
type visitEngine struct {
	*transport
	client     *http.Client
	tgt        *MixTargeter
	eps        []scenarios.Endpoint
	chks       *checks
	assets     [][]int // per endpoint: its assets' endpoint indices, expanded (thumb×8 → 8)
	perVisitor int
	slow       time.Duration // a success slower than this breaks a page view (the SLO's p99); 0: none
	maxBody    int64

	began time.Time // the attack clock's zero (the pacer's elapsed)
	start time.Time // t = 0 of the curve
	due   func(i uint64) (time.Duration, bool)

	ctx     context.Context
	cancel  context.CancelFunc
	stopped atomic.Bool
	halt    chan struct{} // closed by Stop: journeys end at their next step
	results chan *vegeta.Result
	visits  chan *scenarios.Visit
	wg      sync.WaitGroup
	assetN  atomic.Uint64

	js *journeys // the scenario's journeys; nil when the arrivals are page views

	maxVisitors int64        // bound on visitors in flight (Options.MaxWorkers)
	inflight    atomic.Int64 // visitors in flight
}

func newVisitEngine(o *Options, tgt *MixTargeter, eps []scenarios.Endpoint, chks *checks) (*visitEngine, error) {
	tr := newTransport(o)
	idx := map[string]int{}
	for i, e := range eps {
		idx[e.Name] = i
	}
	v := &visitEngine{
		transport: tr, tgt: tgt, eps: eps, chks: chks, maxBody: o.MaxBody,
		perVisitor: o.ConnectionsPerVisitor, maxVisitors: int64(o.MaxWorkers),
		slow:    o.Scenario.SLO.P99,
		assets:  make([][]int, len(eps)),
		results: make(chan *vegeta.Result, 1024),
		visits:  make(chan *scenarios.Visit, 256),
	}
	if v.perVisitor <= 0 {
		v.perVisitor = DefaultConnectionsPerVisitor
	}
	for i, e := range eps {
		for _, a := range e.Assets {
			for range a.Count {
				v.assets[i] = append(v.assets[i], idx[a.Name])
			}
		}
	}
	v.client = &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: checkRedirect(o.Redirects, o.Confirm)}
	if o.Scenario.HasJourneys() {
		js, err := newJourneys(o.Scenario, eps, o.Shard, o.Shards)
		if err != nil {
			return nil, fmt.Errorf("starting run: %w", err)
		}
		v.js = js
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.halt = make(chan struct{})
	return v, nil
}

// Attack paces arrivals until the curve ends or Stop; the channel closes
// when every visitor has finished.
func (v *visitEngine) Attack(_ vegeta.Targeter, p vegeta.Pacer, _ time.Duration, _ string) <-chan *vegeta.Result {
	go func() {
		defer func() {
			v.wg.Wait()
			close(v.results)
			close(v.visits)
		}()
		var i uint64
		for !v.stopped.Load() {
			wait, stop := p.Pace(time.Since(v.began), i)
			if stop {
				return
			}
			if wait > 0 {
				// Sleep in short steps so that Stop is seen promptly.
				t := time.NewTimer(min(wait, 100*time.Millisecond))
				select {
				case <-t.C:
				case <-v.ctx.Done():
					t.Stop()
					return
				}
				continue
			}
			if v.inflight.Load() >= v.maxVisitors {
				// At the bound: wait for a visitor to finish (sends fall
				// behind, and the run says so).
				time.Sleep(time.Millisecond)
				continue
			}
			v.inflight.Add(1)
			v.wg.Add(1)
			if v.js != nil {
				k, nth := v.js.pick()
				go v.journey(i, k, nth)
			} else {
				go v.visit(i, v.tgt.pick())
			}
			i++
		}
	}()
	return v.results
}

// Stop ends the arrivals; the requests in flight finish, and so do page
// views, but a journey goes no further than the step it is on (one
// thinking stops at once): its remaining steps would keep a stopped run
// waiting for minutes of think time. Such journeys count as interrupted.
func (v *visitEngine) Stop() bool {
	if v.stopped.Swap(true) {
		return false
	}
	close(v.halt)
	return true
}

// kill fails what is in flight at once.
func (v *visitEngine) kill() {
	v.stopped.Store(true)
	v.cancel()
	v.transport.kill()
}

// visitEnd is when visit pv ended: its last response (a journey's, or a
// page view's), from its due time and Took, or its start and Took when
// Took counts from its page (a journey's page view, or no due time).
func (v *visitEngine) visitEnd(pv *scenarios.Visit) time.Time {
	if pv.Kind == scenarios.JourneyVisit || v.js == nil {
		if due, ok := v.due(pv.Seq); ok {
			return v.start.Add(due + pv.Took)
		}
	}
	return v.start.Add(pv.Start + pv.Took)
}

// part is one request of a page view, as the visit judges it.
type part struct {
	ep   int
	res  *vegeta.Result
	kind string // scenarios.ErrorKind, "slow" for a success past v.slow, "" ok
}

// visit is visitor i's page view of endpoint ep (or its single request,
// for an arrival without assets).
func (v *visitEngine) visit(i uint64, ep int) {
	defer v.wg.Done()
	defer v.inflight.Add(-1)
	page := v.send(v.client, ep, i)
	if len(v.eps[ep].Assets) == 0 && len(v.assets[ep]) == 0 {
		return // a single-request arrival: no page view
	}
	pv, end := v.pageView(v.client, i, page)
	if due, ok := v.due(i); ok {
		pv.Took = end.Sub(v.start.Add(due))
	} else {
		pv.Took = end.Sub(page.res.Timestamp)
	}
	v.visits <- pv
}

// pageView is the rest of visitor i's page view once its page has
// answered: the page's assets, over client, when the page succeeded. It
// returns the page view's record (Took not set) and the end of its last
// response.
func (v *visitEngine) pageView(client *http.Client, i uint64, page part) (*scenarios.Visit, time.Time) {
	ep := page.ep
	pv := &scenarios.Visit{Kind: scenarios.PageView, Name: v.eps[ep].Name, Seq: i, Step: -1,
		Start: page.res.Timestamp.Sub(v.start), Sent: 1}
	end := page.res.End()
	// The part that broke the page view is the failure that ended first.
	var brokeAt time.Time
	broke := func(p part) {
		if p.kind != "" && (pv.Broke == "" || p.res.End().Before(brokeAt)) {
			pv.Broke, pv.Why, brokeAt = v.eps[p.ep].Name, p.kind, p.res.End()
		}
	}
	broke(page)
	if page.kind == "" || page.kind == "slow" {
		// The browser has the page: it loads the assets.
		parts := make([]part, len(v.assets[ep]))
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range min(v.perVisitor, len(parts)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1) - 1)
					if k >= len(parts) || v.ctx.Err() != nil {
						return
					}
					parts[k] = v.send(client, v.assets[ep][k], scenarios.AssetSeq+v.assetN.Add(1)-1)
				}
			}()
		}
		wg.Wait()
		for _, p := range parts {
			if p.res == nil {
				// Not sent: the run was killed. The page view did not complete.
				if pv.Broke == "" {
					pv.Broke, pv.Why, brokeAt = v.eps[ep].Name, scenarios.Interrupted, end
				}
				continue
			}
			pv.Sent++
			if e := p.res.End(); e.After(end) {
				end = e
			}
			broke(p)
		}
	}
	pv.OK = pv.Broke == ""
	return pv, end
}

// send sends one request of endpoint ep as seq over client and hands its
// result on: a journey's step without values or captures, judged as a
// part of a page view (a success slower than the SLO's p99 is "slow").
func (v *visitEngine) send(client *http.Client, ep int, seq uint64) part {
	if seq >= scenarios.AssetSeq {
		v.tgt.count(ep) // a page was counted when it was picked
	}
	p, _ := v.step(client, journeyStep{ep: ep}, seq, nil)
	if p.kind == "" && v.slow > 0 && p.res.Latency > v.slow {
		p.kind = "slow"
	}
	return p
}

// readBody reads a body to its end, keeping at most maxBody bytes in r
// (none by default) and scanning it for the endpoint's check.
func (v *visitEngine) readBody(body io.Reader, r *vegeta.Result, chk *checker, scan *bodyScan) (int64, error) {
	var buf [32 << 10]byte
	var n int64
	for {
		k, err := body.Read(buf[:])
		if k > 0 {
			n += int64(k)
			if chk.scansBody() {
				chk.scan(scan, buf[:k])
			}
			if keep := v.maxBody; keep < 0 || int64(len(r.Body)) < keep {
				room := k
				if keep >= 0 {
					room = min(k, int(keep-int64(len(r.Body))))
				}
				r.Body = append(r.Body, buf[:room]...)
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
