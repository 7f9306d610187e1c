package hosting

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Host is a simulated host serving a plan over HTTP: requests wait for a
// worker of their class's pool in a bounded FIFO queue, hold it for their
// service time and the time their body takes on the shared link, and get
// 503 (or a reset) when the queue is full and 504 when they waited past the
// host timeout. Paths: / and /p/* are pages, /img/* (and static files) are
// assets, /api/* is the api; /healthz answers ok and /_stats the Stats as
// JSON, outside the model. Pages set a session cookie and the api answers
// checkout with order ids, for journeys (see shop.go).
//
// A Host has no goroutine of its own: autoscaling acts as requests arrive,
// ordered workers arrive on a timer, and a pool above its minimum with no
// request arriving is checked on a timer until it is back at its minimum
// (so an idle host scales down, and then its timers stop). Handler's hosts
// need no Close; Close fails the requests still queued and cancels workers
// on order and checks.
type Host struct {
	plan    *Plan
	epoch   time.Time
	pools   []*livePool
	classes [3]liveClass
	body    []byte // filler, as long as the largest response
	done    chan struct{}
	closeMu sync.Once

	sleepSlack atomic.Int64 // moving average of time.Sleep's overshoot, ns (see sleep)

	shop shop // session cookies, order ids (see shop.go)

	linkMu   sync.Mutex
	linkFree time.Duration // since epoch: when the link has sent everything reserved

	served   atomic.Uint64
	dripped  atomic.Uint64 // of served: bodies dripped by the drip fault
	bytesOut atomic.Uint64
	inflight atomic.Int64
	rejected [numReasons]atomic.Uint64
}

type liveClass struct {
	spec  ClassSpec
	rngMu sync.Mutex
	rng   *rand.Rand // service times, when seeded (else the global source)
	pool  *livePool
	tx    time.Duration // time on an idle link
	ct    string        // content type
}

// Reasons a request is not served normally, as counted in Stats.
const (
	reasonFull    = iota // queue full: 503 (or refused/reset, by plan)
	reasonTimeout        // queued past the host timeout: 504
	reasonRefused        // connection refused at accept or reset, when_full: refuse
	reasonReset          // connection reset, when_full: reset
	reasonGone           // client went away while queued
	faultReset           // fault: reset mid-body
	faultGarbage         // fault: non-HTTP bytes
	numReasons
)

// (A dripped body is no rejection: it is a full 200, counted in Stats'
// Served and Dripped.)
var reasonNames = [numReasons]string{"queue_full_503", "host_timeout_504", "refused", "reset", "client_gone", "fault_reset", "fault_garbage"}

// Bodies of the host's error responses (the simulator counts the same bytes).
const (
	body503 = "503 service unavailable: queue full\n"
	body504 = "504 gateway timeout: queued past the host timeout\n"
)

// garbage is what a garbage fault sends instead of an HTTP response.
const garbage = "\x16\x03\x01\x02\x00 this is not HTTP \xff\xfe\r\n\r\n"

// Handler returns a Host serving p: an http.Handler for tests
// (httptest.NewServer(hosting.Handler(plan))) and for embedding. p must be
// valid (LoadPlan's plans are).
func Handler(p *Plan) http.Handler { return NewHost(p) }

// NewSeededHost returns a host serving p whose service times are
// repeatable: each class draws them, in the order its requests start
// service, from the stream Simulate draws the same class's from with the
// same seed (shard 0). A simulation and a real run against this host then
// see the same service times, so what differs between them is the model's
// mechanics (queueing, the link, timing), not the luck of the draw.
func NewSeededHost(p *Plan, seed int64) *Host {
	h := NewHost(p)
	for c := range h.classes {
		h.classes[c].rng = serviceStream(seed, c, 0)
	}
	return h
}

// NewHost returns a host serving p. The caller should Close it when done.
func NewHost(p *Plan) *Host {
	h := &Host{plan: p, epoch: time.Now(), done: make(chan struct{})}
	for i := range p.Pools {
		h.pools = append(h.pools, &livePool{h: h, spec: &p.Pools[i], workers: p.Pools[i].Workers, qcap: p.Pools[i].Queue})
	}
	var maxSize int64
	for i, c := range scenarios.Classes {
		s := p.Class(c)
		tx := time.Duration(p.transmit(s) * 1e9)
		lc := &h.classes[i]
		lc.spec, lc.pool, lc.tx, lc.ct = s, h.pools[p.PoolOf(c)], tx, contentType(c)
		maxSize = max(maxSize, s.Size)
	}
	h.body = filler(int(maxSize))
	return h
}

func contentType(c scenarios.Class) string {
	switch c {
	case scenarios.Asset:
		return "image/jpeg"
	case scenarios.API:
		return "application/json"
	}
	return "text/html; charset=utf-8"
}

// filler is n bytes of HTML-ish text.
func filler(n int) []byte {
	const line = "<p>flashcrowd simulated host: the quick brown fox jumps over the lazy dog.</p>\n"
	b := make([]byte, n)
	for i := 0; i < n; i += len(line) {
		copy(b[i:], line)
	}
	return b
}

// Plan returns the plan the host serves.
func (h *Host) Plan() *Plan { return h.plan }

// Close fails every queued request (they get 503) and cancels workers on
// order. It is safe to call more than once.
func (h *Host) Close() {
	h.closeMu.Do(func() {
		close(h.done)
		for _, p := range h.pools {
			p.mu.Lock()
			for _, o := range p.orders {
				o.t.Stop()
			}
			p.orders = nil
			if p.idle != nil {
				p.idle.Stop()
			}
			p.idleWanted = false
			p.mu.Unlock()
		}
	})
}

func (h *Host) now() time.Duration { return time.Since(h.epoch) }

// ServeHTTP serves one request through the plan's model.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
		return
	case "/_stats":
		w.Header().Set("Content-Type", "application/json")
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		e.Encode(h.Stats())
		return
	}
	ci := classOfPath(path)
	lc := &h.classes[ci]
	pool := lc.pool
	switch pool.acquire(r.Context()) {
	case reasonFull:
		h.full(w)
		return
	case reasonTimeout:
		h.rejected[reasonTimeout].Add(1)
		h.errorResponse(w, http.StatusGatewayTimeout, body504)
		return
	case reasonGone:
		h.rejected[reasonGone].Add(1)
		return
	}
	h.inflight.Add(1)
	defer func() {
		h.inflight.Add(-1)
		pool.release()
	}()
	start := h.now()
	svc := lc.service()
	f := h.plan.Faults
	u := 2.0
	if f.Reset+f.Garbage+f.Drip > 0 {
		u = rand.Float64()
	}
	switch {
	case u < f.Reset:
		h.rejected[faultReset].Add(1)
		h.sleep(svc)
		h.resetMidBody(w, lc)
		return
	case u < f.Reset+f.Garbage:
		h.rejected[faultGarbage].Add(1)
		h.sleep(svc)
		h.garbage(w)
		return
	case u < f.Reset+f.Garbage+f.Drip:
		h.sleep(svc)
		if h.drip(w, r, lc) {
			h.dripped.Add(1)
			h.served.Add(1)
		}
		return
	}
	// The body's time on the link is reserved when service starts: the
	// link's backlog grows by size/B, and the body is done no earlier than
	// service end plus its own sending time.
	end := start + svc + lc.tx
	if lc.tx > 0 {
		h.linkMu.Lock()
		h.linkFree = max(h.linkFree, start) + lc.tx
		end = max(end, h.linkFree)
		h.linkMu.Unlock()
	}
	h.sleep(end - h.now())
	switch ci {
	case 0: // pages
		h.shop.pageCookie(w, r)
	case 2: // api
		if n, ok := h.shop.answer(w, r, lc.spec.Size); ok {
			h.bytesOut.Add(uint64(n))
			h.served.Add(1)
			return
		}
	}
	hd := w.Header()
	hd["Content-Type"] = []string{lc.ct}
	hd["Content-Length"] = []string{strconv.FormatInt(lc.spec.Size, 10)}
	w.WriteHeader(http.StatusOK)
	n, _ := w.Write(h.body[:lc.spec.Size])
	h.bytesOut.Add(uint64(n))
	h.served.Add(1)
}

// service draws a service time for a request of the class.
func (lc *liveClass) service() time.Duration {
	if lc.rng == nil || lc.spec.Service.Kind == Constant {
		return lc.spec.Service.sample(globalRand{})
	}
	lc.rngMu.Lock()
	d := lc.spec.Service.sample(lc.rng)
	lc.rngMu.Unlock()
	return d
}

// classOfPath maps a path to a class index: /api/ api, /img/ (and static
// files) asset, the rest (/, /p/…) page.
func classOfPath(path string) int {
	switch {
	case strings.HasPrefix(path, "/p/") || path == "/":
		return 0
	case strings.HasPrefix(path, "/img/"):
		return 1
	case strings.HasPrefix(path, "/api/"):
		return 2
	}
	return classIndex(scenarios.ClassOf(path))
}

// sleep holds for d. time.Sleep overshoots by the timer slack (about
// 0.05 ms on bare metal, 0.7 ms on some VMs), which would stretch a
// 1.5 ms service time by up to half and leave the host slower than its
// plan (and than Simulate); so sleep shortens each sleep by the overshoot
// seen lately, a moving average, and holds for d on average.
func (h *Host) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	slack := time.Duration(h.sleepSlack.Load())
	s := d - slack
	t0 := time.Now()
	if s > 0 {
		time.Sleep(s)
	}
	over := time.Since(t0) - max(s, 0) // this sleep's own overshoot
	h.sleepSlack.Store(int64(slack + (over-slack)/16))
}

func (h *Host) errorResponse(w http.ResponseWriter, code int, body string) {
	hd := w.Header()
	hd["Content-Type"] = []string{"text/plain; charset=utf-8"}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	if code == http.StatusServiceUnavailable {
		hd["Retry-After"] = []string{"1"}
	}
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// full answers a request that found its queue full, as the plan says.
func (h *Host) full(w http.ResponseWriter) {
	switch h.plan.WhenFull {
	case FullRefuse:
		h.rejected[reasonRefused].Add(1)
		abortConn(w, nil)
	case FullReset:
		h.rejected[reasonReset].Add(1)
		abortConn(w, nil)
	default:
		h.rejected[reasonFull].Add(1)
		h.errorResponse(w, http.StatusServiceUnavailable, body503)
	}
}

// abortConn resets the request's connection (RST, not FIN), after writing
// pre if any. A writer that cannot be hijacked (HTTP/2, a recorder) gets
// http.ErrAbortHandler, which net/http servers turn into a reset.
func abortConn(w http.ResponseWriter, pre []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if len(pre) > 0 {
		buf.Write(pre)
		buf.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// resetMidBody sends the headers and half the body, then resets.
func (h *Host) resetMidBody(w http.ResponseWriter, lc *liveClass) {
	hd := w.Header()
	hd["Content-Type"] = []string{lc.ct}
	hd["Content-Length"] = []string{strconv.FormatInt(lc.spec.Size, 10)}
	w.WriteHeader(http.StatusOK)
	w.Write(h.body[:lc.spec.Size/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	abortConn(w, nil)
}

// garbage answers with bytes that are not HTTP and closes the connection.
func (h *Host) garbage(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	buf.WriteString(garbage)
	buf.Flush()
	conn.Close()
}

// drip sends the body at the plan's drip rate, in 20 slices a second, and
// reports whether all of it went out.
func (h *Host) drip(w http.ResponseWriter, r *http.Request, lc *liveClass) bool {
	hd := w.Header()
	hd["Content-Type"] = []string{lc.ct}
	hd["Content-Length"] = []string{strconv.FormatInt(lc.spec.Size, 10)}
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	chunk := max(h.plan.Faults.DripRate/20, 1)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for off := int64(0); off < lc.spec.Size; off += chunk {
		if off > 0 {
			select {
			case <-t.C:
			case <-r.Context().Done():
				return false
			case <-h.done:
				return false
			}
		}
		n, err := w.Write(h.body[off:min(off+chunk, lc.spec.Size)])
		h.bytesOut.Add(uint64(n))
		if err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
	}
	return true
}

// Stats is a snapshot of a host, as /_stats serves it.
type Stats struct {
	Plan     string  `json:"plan"`
	Uptime   float64 `json:"uptime_s"`
	InFlight int64   `json:"in_flight"` // holding a worker
	Queued   int     `json:"queued"`    // waiting for one
	Served   uint64  `json:"served"`    // answered 200 in full (dripped bodies included)
	// Dripped counts the responses of Served whose body the drip fault
	// sent slowly, at the plan's drip_rate: full 200s, only late.
	Dripped  uint64 `json:"fault_drip"`
	BytesOut uint64 `json:"bytes_out"`
	// Rejected counts requests not served, by reason: queue_full_503,
	// host_timeout_504, refused, reset, client_gone; and the faults that
	// break a response: fault_reset, fault_garbage.
	Rejected map[string]uint64 `json:"rejected"`
	Workers  int               `json:"workers"` // in all pools, now
	Pools    []PoolStats       `json:"pools"`
}

// PoolStats is one pool's state.
type PoolStats struct {
	Name    string `json:"name"`
	Workers int    `json:"workers"`
	Pending int    `json:"pending"` // ordered by autoscaling, not yet arrived
	Busy    int    `json:"busy"`
	Queued  int    `json:"queued"`
	Queue   int    `json:"queue"` // its length
}

// Stats returns a snapshot of the host's counters.
func (h *Host) Stats() Stats {
	s := Stats{Plan: h.plan.Name, Uptime: h.now().Seconds(), InFlight: h.inflight.Load(), Served: h.served.Load(),
		Dripped: h.dripped.Load(), BytesOut: h.bytesOut.Load(), Rejected: map[string]uint64{}}
	for i := range h.rejected {
		s.Rejected[reasonNames[i]] = h.rejected[i].Load()
	}
	for _, p := range h.pools {
		p.mu.Lock()
		ps := PoolStats{Name: p.spec.Name, Workers: p.workers, Pending: p.pending, Busy: p.busy, Queued: p.queued, Queue: p.qcap}
		p.mu.Unlock()
		s.Pools = append(s.Pools, ps)
		s.Workers += ps.Workers
		s.Queued += ps.Queued
	}
	return s
}

// full reports whether the main pool has no worker and no queue place free
// (Serve refuses connections then, under when_full: refuse).
func (h *Host) mainFull() bool {
	p := h.pools[0]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy >= p.workers && p.queued >= p.qcap
}

// livePool is a pool of workers with a bounded FIFO queue of waiting
// requests.
type livePool struct {
	h    *Host
	spec *Pool

	mu         sync.Mutex
	workers    int
	busy       int
	pending    int
	queued     int
	qcap       int
	head, tail *waiter
	nextTick   time.Duration
	orders     []*liveOrder
	idle       *time.Timer // makes the check no arrival made (see idleCheck)
	idleWanted bool        // the last check left workers above the minimum or on order
}

type waiter struct {
	ready      chan struct{}
	granted    bool
	prev, next *waiter
}

// acquire waits for a worker. It returns -1 when granted, or the reason it
// was not.
func (p *livePool) acquire(ctx context.Context) int {
	p.mu.Lock()
	if p.spec.Autoscale != nil {
		p.autoscale(p.h.now())
	}
	if p.busy < p.workers && p.head == nil {
		p.busy++
		p.mu.Unlock()
		return -1
	}
	if p.queued >= p.qcap {
		p.mu.Unlock()
		return reasonFull
	}
	w := &waiter{ready: make(chan struct{})}
	w.prev = p.tail
	if p.tail != nil {
		p.tail.next = w
	} else {
		p.head = w
	}
	p.tail = w
	p.queued++
	p.mu.Unlock()

	var tc <-chan time.Time
	if to := p.h.plan.HostTimeout; to > 0 {
		t := time.NewTimer(to)
		defer t.Stop()
		tc = t.C
	}
	reason := reasonGone
	select {
	case <-w.ready:
		return -1
	case <-tc:
		reason = reasonTimeout
	case <-ctx.Done():
	case <-p.h.done:
		reason = reasonFull
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.granted {
		return -1
	}
	p.unlink(w)
	p.queued--
	return reason
}

func (p *livePool) unlink(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		p.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		p.tail = w.prev
	}
	w.prev, w.next = nil, nil
}

// grant hands a worker to the head of the queue; p.mu is held.
func (p *livePool) grant() {
	w := p.head
	p.unlink(w)
	p.queued--
	w.granted = true
	close(w.ready)
}

// release frees a worker, handing it to the next in the queue if the pool
// is not shrinking.
func (p *livePool) release() {
	p.mu.Lock()
	if p.busy <= p.workers && p.head != nil {
		p.grant()
	} else {
		p.busy--
	}
	p.mu.Unlock()
}

// autoscale applies the plan's rule at most once per Every, at the first
// arrival after each check is due, or, while the pool is above its minimum
// or has workers on order, one Every after it was due if no request came
// (idleCheck); the simulator does the same. p.mu is held.
func (p *livePool) autoscale(now time.Duration) {
	a := p.spec.Autoscale
	if now < p.nextTick {
		return
	}
	p.nextTick = now + a.Every
	d := decide(a, p.busy, p.queued, p.workers, p.pending)
	switch {
	case d > 0:
		p.pending += d
		o := &liveOrder{n: d}
		o.t = time.AfterFunc(a.Lag, func() { p.arrive(o) })
		p.orders = append(p.orders, o)
	case d < 0:
		p.workers += d
	}
	p.idleWanted = p.workers > a.Min || p.pending > 0
	if p.idleWanted {
		at := p.nextTick + a.Every - now
		if p.idle == nil {
			p.idle = time.AfterFunc(at, p.idleCheck)
		} else {
			p.idle.Reset(at)
		}
	}
}

// idleCheck makes the check that is an Every overdue because no request
// has arrived since it was due: without it an idle host would keep its
// scaled-out workers for ever. An arrival's check in the meantime moves
// the deadline on.
func (p *livePool) idleCheck() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.h.done:
		return
	default:
	}
	if !p.idleWanted {
		return
	}
	now := p.h.now()
	if due := p.nextTick + p.spec.Autoscale.Every; now < due {
		p.idle.Reset(due - now)
		return
	}
	p.autoscale(now)
}

// liveOrder is workers ordered by autoscaling, arriving when t fires.
type liveOrder struct {
	n int
	t *time.Timer
}

// arrive adds the ordered workers and puts them to work on the queue.
func (p *livePool) arrive(o *liveOrder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.orders {
		if x == o {
			p.orders = append(p.orders[:i], p.orders[i+1:]...)
			break
		}
	}
	p.pending -= o.n
	p.workers += o.n
	for p.busy < p.workers && p.head != nil {
		p.busy++
		p.grant()
	}
}

// decide is the autoscaling rule shared by the live host and the simulator:
// the number of workers to order (> 0) or retire (< 0).
func decide(a *Autoscale, busy, queued, workers, pending int) int {
	util := float64(busy+queued) / float64(max(workers+pending, 1))
	switch {
	case util > a.Target && workers+pending < a.Max:
		return min(a.Step, a.Max-workers-pending)
	case util < a.Target/2 && pending == 0 && workers > a.Min:
		return -min(a.Step, workers-a.Min)
	}
	return 0
}

// globalRand draws from math/rand/v2's concurrency-safe source.
type globalRand struct{}

func (globalRand) ExpFloat64() float64  { return rand.ExpFloat64() }
func (globalRand) NormFloat64() float64 { return rand.NormFloat64() }

type source interface {
	ExpFloat64() float64
	NormFloat64() float64
}

// ServeHost is Serve for a host made by NewHost or NewSeededHost; the
// caller closes h.
func ServeHost(ctx context.Context, ln net.Listener, h *Host) error { return serveHost(ctx, ln, h) }
