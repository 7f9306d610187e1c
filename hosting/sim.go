package hosting

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// SimOptions configure Simulate.
type SimOptions struct {
	Start         time.Time     // t = 0 of the curve: Result.Timestamp = Start + scheduled send time
	Seed          int64         // a simulation is repeatable for a given seed
	Poisson       bool          // Poisson arrivals of intensity r(t) instead of the exact schedule N⁻¹(i + ½)
	ClientTimeout time.Duration // a request not answered in this time fails as the client's timeout; 0 = never
	// Shard i of Shards simulates requests i, i+n, i+2n, … (Seq counts this
	// shard's requests, as a sharded attack does) against 1/n of the host:
	// each pool's workers, queue and autoscale sizes split as evenly as
	// whole numbers allow, and 1/n of the bandwidth. Shards run in parallel
	// and their results merge like a sharded real run's. Shards may not
	// exceed the plan's MaxShards.
	Shard, Shards int
	Target        string // base URL joined to endpoint paths; default "http://127.0.0.1"
	Attack        string // Result.Attack
	// ConnectionsPerVisitor is how many of a page view's assets load at
	// once (SimulateVisits); 0 means a browser's 6.
	ConnectionsPerVisitor int
}

// SimStats sums up a simulation.
type SimStats struct {
	Requests       uint64  `json:"requests"`
	OK             uint64  `json:"ok"`               // 200
	Rejected       uint64  `json:"rejected_503"`     // queue full, 503
	TimedOut       uint64  `json:"host_timeout_504"` // queued past the host timeout
	Refused        uint64  `json:"refused"`          // queue full, when_full: refuse
	Reset          uint64  `json:"reset"`            // queue full, when_full: reset
	ClientTimeouts uint64  `json:"client_timeouts"`
	Faults         uint64  `json:"faults"`       // injected resets, garbage and drips
	PeakWorkers    int     `json:"peak_workers"` // most workers in all pools at once
	Seconds        float64 `json:"seconds"`      // scheduled time of the last request
}

// Simulate runs plan p under curve with the endpoint mix, without any
// network, calling emit once per request, in order of Timestamp, with one
// reused Result (copy it to keep it). It stops early, returning what it has
// and ctx.Err(), when ctx is done.
//
// The model is the live Host's: a request goes to its class's pool; it
// starts when a worker is free, waiting in the FIFO queue if need be; a
// full queue answers 503 (or refuses or resets, by plan) at once; a request
// that would wait longer than the host timeout gets 504 at the timeout; a
// worker is held for the service time and until the body has crossed the
// link, whose backlog grows by size/bandwidth at each arrival served;
// autoscaling checks at the first arrival after each check is due (or, for
// a pool above its minimum that no request reaches, an Every later, as the
// live host's timer does), and ordered workers join Lag later and take the
// queue from there.
//
// Results look like a real run's: Seq is the request index (this shard's),
// Timestamp Start + the scheduled send time, Latency from then to the last
// byte, Code 200/503/504 with Error set to the status ("503 Service
// Unavailable") as vegeta does, or Code 0 with the error text Go's client
// gives for a refused or reset connection, garbage, or a client timeout.
// Method, URL, BytesOut (the request body) and BytesIn (the response body)
// are those of the endpoint picked by scenarios.Mix, so request i hits the
// same endpoint as in a real run.
//
// Each request's fate is decided when it arrives, so results come out in
// arrival order at no memory cost. The price: workers ordered by
// autoscaling serve, from their arrival, the requests that arrived after
// the order (those queued before it keep the start they had; the live
// host hands the same starts out in FIFO order), and a request's place on
// the link is reserved when it arrives (the link is first come, first
// served by arrival, not by the end of service).
func Simulate(ctx context.Context, p *Plan, curve *scenarios.Curve, mix []scenarios.Endpoint, o SimOptions, emit func(*vegeta.Result)) (SimStats, error) {
	var st SimStats
	if err := o.check(p, curve); err != nil {
		return st, err
	}
	if len(mix) == 0 {
		mix = scenarios.DefaultEndpoints()
	}
	h, err := newSimHost(p, mix, o, &st)
	if err != nil {
		return st, err
	}
	src := newSimArrivals(curve, o, h.rng)
	picker := src.mix(mix)
	var r vegeta.Result
	r.Attack = o.Attack
	for i := uint64(0); ; i++ {
		if i&0xffff == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		ts, ok := src.next()
		if !ok {
			break
		}
		t := int64(math.Round(ts * 1e9))
		k := picker.Next()
		r.Seq = i
		r.Timestamp = o.Start.Add(time.Duration(t))
		h.serve(t, k, &r)
		emit(&r)
	}
	return st, nil
}

// check refuses options Simulate cannot honour.
func (o *SimOptions) check(p *Plan, curve *scenarios.Curve) error {
	n := max(o.Shards, 1)
	if o.Shard < 0 || o.Shard >= n {
		return fmt.Errorf("simulate: shard %d of %d", o.Shard, n)
	}
	if curve == nil {
		return fmt.Errorf("simulate: no curve")
	}
	if m, limit := p.MaxShards(); n > m {
		return fmt.Errorf("simulate: %d shards is more than plan %s allows (%d: %s)", n, p.Name, m, limit)
	}
	return nil
}

// simArrivals is a shard's arrivals: the exact schedule's instants
// N⁻¹(g + ½) for its share g = i·n + shard, or a Poisson process of
// intensity r(t)/n.
type simArrivals struct {
	arr      *arrivals
	total    float64
	requests uint64
	n, shard uint64
	poisson  bool
	gamma    float64 // Poisson: the unit-rate process, this shard's
	rng      *rand.Rand
	i        uint64
}

func newSimArrivals(c *scenarios.Curve, o SimOptions, rng *rand.Rand) *simArrivals {
	return &simArrivals{arr: newArrivals(c), total: c.Total(), requests: c.Requests(),
		n: uint64(max(o.Shards, 1)), shard: uint64(o.Shard), poisson: o.Poisson, rng: rng}
}

// next is the next arrival's instant, in seconds from t = 0; false when
// the curve has no more.
func (a *simArrivals) next() (float64, bool) {
	var x float64
	if a.poisson {
		a.gamma += a.rng.ExpFloat64()
		if x = a.gamma * float64(a.n); x > a.total {
			return 0, false
		}
	} else {
		g := a.i*a.n + a.shard
		if g >= a.requests {
			return 0, false
		}
		x = math.Min(float64(g)+0.5, a.total) // scenarios.Curve.Due
	}
	a.i++
	return a.arr.at(x), true
}

// mix is a Mix over eps for these arrivals: exact arrivals pick as a
// run of one shard would (the shard's share of the one sequence);
// Poisson arrivals have no global index, so each shard takes its own
// picks.
func (a *simArrivals) mix(eps []scenarios.Endpoint) *scenarios.Mix {
	m := scenarios.NewMix(eps)
	if a.poisson {
		return m
	}
	return m.Shard(int(a.shard), int(a.n))
}

// simHost is one shard's simulated host with the endpoints it serves:
// serve decides the fate of one request at a time, in order of arrival.
type simHost struct {
	p      *Plan
	s      *sim
	eps    []simEndpoint
	rng    *rand.Rand    // arrivals (Poisson) and faults
	svcRng [3]*rand.Rand // service times: one stream per class, as NewSeededHost draws them
	ct, ht int64
	faulty bool
	st     *SimStats
	served bool
}

func newSimHost(p *Plan, mix []scenarios.Endpoint, o SimOptions, st *SimStats) (*simHost, error) {
	eps, err := simEndpoints(p, mix, o.Target)
	if err != nil {
		return nil, err
	}
	f := p.Faults
	h := &simHost{p: p, s: newSim(p, max(o.Shards, 1), o.Shard), eps: eps,
		rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15^uint64(o.Shard))),
		ct:  int64(o.ClientTimeout), ht: int64(p.HostTimeout), faulty: f.Reset+f.Garbage+f.Drip > 0, st: st}
	for c := range h.svcRng {
		h.svcRng[c] = serviceStream(o.Seed, c, o.Shard)
	}
	return h, nil
}

// serve is a request of endpoint k arriving at t ns from t = 0, t not
// below any earlier call's: it fills r's Method, URL, BytesOut, Code,
// Error, BytesIn and Latency (not Seq, Timestamp or Attack).
func (h *simHost) serve(t int64, k int, r *vegeta.Result) {
	st, e, p := h.st, &h.eps[k], h.p
	pl := h.s.pools[e.pool]
	pl.advance(t)
	r.Method, r.URL, r.BytesOut = e.method, e.url, e.bytesOut
	r.BytesIn, r.Error, r.Code = 0, "", 0
	var lat int64
	st.Requests++
	st.Seconds = max(st.Seconds, float64(t)/1e9)
	faults := p.Faults

	begin := pl.minFree()
	switch {
	case begin <= t: // a worker is free
		begin = t
	case pl.queued() >= pl.qcap: // the queue is full
		switch p.WhenFull {
		case FullRefuse:
			r.Error = e.errRefused
			st.Refused++
		case FullReset:
			r.Error = e.errReset
			st.Reset++
		default:
			r.Code, r.Error, r.BytesIn = 503, "503 Service Unavailable", uint64(len(body503))
			st.Rejected++
		}
		goto done
	case h.ht > 0 && begin-t > h.ht: // it would wait past the host timeout
		pl.enqueue(t + h.ht)
		r.Code, r.Error, r.BytesIn = 504, "504 Gateway Timeout", uint64(len(body504))
		lat = h.ht
		st.TimedOut++
		goto done
	default:
		pl.enqueue(begin)
	}
	{
		svc := int64(e.spec.Service.Mean)
		if e.spec.Service.Kind != Constant {
			svc = int64(e.spec.Service.sample(h.svcRng[e.class]))
		}
		u := 2.0
		if h.faulty {
			u = h.rng.Float64()
		}
		var end int64
		switch {
		case u < faults.Reset:
			end = begin + svc
			r.Error = e.errMidBody
			st.Faults++
		case u < faults.Reset+faults.Garbage:
			end = begin + svc
			r.Error = e.errGarbage
			st.Faults++
		case u < faults.Reset+faults.Garbage+faults.Drip:
			end = begin + svc + e.drip
			r.Code, r.BytesIn = 200, uint64(e.spec.Size)
			st.Faults++
		default:
			end = begin + svc + e.tx
			if e.tx > 0 {
				// The body's bytes join the link's backlog now, at
				// the arrival being simulated: reserving from a
				// queued request's future start instead would push
				// every later arrival's body behind it.
				h.s.linkFree = max(h.s.linkFree, t) + e.tx
				end = max(end, h.s.linkFree)
			}
			r.Code, r.BytesIn = 200, uint64(e.spec.Size)
		}
		pl.assign(end)
		lat = end - t
		if r.Code == 200 {
			st.OK++
		}
	}
done:
	if h.ct > 0 && lat > h.ct {
		if r.Code == 200 {
			st.OK--
		}
		r.Code, r.Error, r.BytesIn = 0, e.errTimeout, 0
		lat = h.ct
		st.ClientTimeouts++
	}
	r.Latency = time.Duration(lat)
	if h.s.autoscaled || !h.served {
		st.PeakWorkers = max(st.PeakWorkers, h.s.workers())
	}
	h.served = true
}

// simEndpoint is an endpoint with everything the simulation needs about it
// worked out once.
type simEndpoint struct {
	name        string
	method, url string
	bytesOut    uint64
	pool        int
	class       int // classIndex
	spec        ClassSpec
	tx, drip    int64 // ns on an idle link; ns to drip the body
	errTimeout  string
	errRefused  string
	errReset    string // the connection reset before any response
	errMidBody  string // reset while reading the body
	errGarbage  string
}

func simEndpoints(p *Plan, mix []scenarios.Endpoint, target string) ([]simEndpoint, error) {
	if target == "" {
		target = "http://127.0.0.1"
	}
	base, err := url.Parse(target)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("simulate: target %q is not a URL", target)
	}
	hostport := base.Host
	if base.Port() == "" {
		hostport += ":80"
		if base.Scheme == "https" {
			hostport = base.Host + ":443"
		}
	}
	// Go's client names the local end of the connection; a simulation has
	// none, so it uses a fixed ephemeral port.
	conn := "tcp 127.0.0.1:40000->" + hostport
	out := make([]simEndpoint, len(mix))
	for i, e := range mix {
		u := e.URL
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			u = strings.TrimSuffix(target, "/") + u
		}
		m := e.Method
		if m == "" {
			m = "GET"
		}
		op := m[:1] + strings.ToLower(m[1:]) + " " + fmt.Sprintf("%q", u) + ": "
		c := endpointClass(e)
		spec := p.Class(c)
		se := simEndpoint{name: e.Name, method: m, url: u, bytesOut: uint64(len(e.Body)), pool: p.PoolOf(c), class: classIndex(c), spec: spec,
			tx:         int64(p.transmit(spec) * 1e9),
			errTimeout: op + "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
			errRefused: op + "dial tcp " + hostport + ": connect: connection refused",
			errReset:   op + "read " + conn + ": read: connection reset by peer",
			errMidBody: "read " + conn + ": read: connection reset by peer",
			errGarbage: op + `net/http: HTTP/1.x transport connection broken: malformed HTTP status code "this"`,
		}
		if p.Faults.DripRate > 0 {
			se.drip = int64(float64(spec.Size) / float64(p.Faults.DripRate) * 1e9)
		}
		out[i] = se
	}
	return out, nil
}

// serviceStream is the random stream of class index c's service times for
// a seed (and shard): the simulator and a seeded live host draw the k-th
// served request of a class its service time from the same stream, so
// that both sides of a comparison see the same service times, in the
// order requests start (which a FIFO pool makes their arrival order).
func serviceStream(seed int64, c, shard int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x5851f42d4c957f2d*uint64(c+1), 0xda3e39cb94b95bdb^uint64(shard)))
}

// sim is the simulated host of one shard.
type sim struct {
	pools      []*simPool
	linkFree   int64
	autoscaled bool
}

func newSim(p *Plan, n, k int) *sim {
	s := &sim{}
	for i := range p.Pools {
		pl := p.Pools[i]
		sp := &simPool{qcap: share(pl.Queue, n, k)}
		w := share(pl.Workers, n, k)
		if a := pl.Autoscale; a != nil {
			sa := *a
			sa.Min, sa.Max, sa.Step = w, share(a.Max, n, k), share(a.Step, n, k)
			sp.as = &sa
			s.autoscaled = true
		}
		sp.free = make([]int64, w) // all free at t = 0
		sp.ring = make([]int64, max(sp.qcap, 1))
		s.pools = append(s.pools, sp)
	}
	return s
}

// share is shard k's part of v split n ways in whole numbers: the n parts
// add up to v. (Simulate keeps n <= MaxShards, so no part of a worker
// count, autoscale step or non-zero queue is 0.)
func share(v, n, k int) int {
	s := v / n
	if k < v%n {
		s++
	}
	return s
}

// MaxShards is the most shards Simulate may split p into, and what sets
// that limit ("pool static: 2 workers"). A shard simulates its part of
// every pool, so it needs at least one of each pool's workers (at the
// autoscale minimum), one of its autoscale step and, if the pool has a
// queue, one queue place: past that a shard would get a worker, a step or
// a queue the plan does not have (or lose the queue it has), and the
// shard count would change the answer. Sizes larger than the shard count
// split in whole numbers whose sum is the plan's, so up to MaxShards the
// model keeps the plan's workers, queues and bandwidth (each shard's pools
// are smaller, pooling a little less; the capacity found agrees within a
// window's step, as TestSimulateCapacityShardFree checks).
func (p *Plan) MaxShards() (int, string) {
	m, limit := math.MaxInt, ""
	lower := func(v int, what string, pl *Pool) {
		if v < m {
			m, limit = v, fmt.Sprintf("pool %s: %s", pl.Name, what)
		}
	}
	for i := range p.Pools {
		pl := &p.Pools[i]
		lower(pl.Workers, plural(pl.Workers, "worker"), pl)
		if a := pl.Autoscale; a != nil {
			lower(a.Step, fmt.Sprintf("autoscale step %d", a.Step), pl)
		}
		if pl.Queue > 0 {
			lower(pl.Queue, plural(pl.Queue, "queue place"), pl)
		}
	}
	if m < 1 { // not a valid plan; Simulate reports its own error
		return 1, limit
	}
	return m, limit
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (s *sim) workers() int {
	w := 0
	for _, p := range s.pools {
		w += len(p.free) - p.pending
	}
	return w
}

// simPool is a pool's state: its workers' free times (a min-heap, with
// the workers on order) and the times its queued requests leave the queue
// (a ring, in order).
type simPool struct {
	free       []int64
	ring       []int64
	head, n    int
	qcap       int
	as         *Autoscale
	nextTick   int64
	orders     []order
	pending    int
	checkedYet bool
	idleWanted bool // the last check left workers above the minimum or on order
}

type order struct {
	at int64
	n  int
}

func (p *simPool) minFree() int64 { return p.free[0] }

func (p *simPool) queued() int { return p.n }

// advance brings the pool to time t: queued requests that started (or
// timed out) leave the queue, ordered workers arrive, and autoscaling
// checks if one is due. Checks no arrival made come first: as on the live
// host, a pool above its minimum (or with workers on order) that no
// request reached for an Every after a check was due is checked then, at
// that instant, again and again until it is back at its minimum.
//
// Workers ordered at t0 join the free-time heap at once, free from
// t0 + Lag: a request arriving after the order that finds every present
// worker busy waits for them as it would on the live host, where they
// take the head of the queue the moment they arrive. (Requests queued
// before the order keep the start they were given; the starts are the
// same instants as the live host's, handed out in a slightly different
// order, so the queue's length, the 503s and the total wait agree.) Until
// the order arrives those slots count as pending, not as busy workers.
func (p *simPool) advance(t int64) {
	if p.idleWanted {
		every := int64(p.as.Every)
		for p.idleWanted && p.nextTick+every <= t {
			at := p.nextTick + every
			p.settle(at)
			p.check(at)
		}
	}
	p.settle(t)
	if p.as == nil || t < p.nextTick && p.checkedYet {
		return
	}
	p.checkedYet = true
	p.check(t)
}

// settle brings the queue and the orders to time t.
func (p *simPool) settle(t int64) {
	for p.n > 0 && p.ring[p.head] <= t {
		p.head++
		if p.head == len(p.ring) {
			p.head = 0
		}
		p.n--
	}
	for len(p.orders) > 0 && p.orders[0].at <= t {
		p.pending -= p.orders[0].n
		p.orders = p.orders[1:]
	}
}

// check applies the autoscaling rule at time t.
func (p *simPool) check(t int64) {
	p.nextTick = t + int64(p.as.Every)
	busy := 0
	for _, f := range p.free {
		if f > t {
			busy++
		}
	}
	// Every slot on order is free no earlier than its arrival, after t.
	busy -= p.pending
	d := decide(p.as, busy, p.n, len(p.free)-p.pending, p.pending)
	switch {
	case d > 0:
		at := t + int64(p.as.Lag)
		p.pending += d
		p.orders = append(p.orders, order{at: at, n: d})
		for range d {
			heapPush(&p.free, at)
		}
	case d < 0:
		for range -d {
			heapPop(&p.free)
		}
	}
	p.idleWanted = len(p.free)-p.pending > p.as.Min || p.pending > 0
}

// enqueue adds a queued request leaving the queue at leave. The ring stays
// sorted by leave time: starts come in arrival order, except that workers
// on order can start a later arrival before requests queued earlier, which
// then goes in before them.
func (p *simPool) enqueue(leave int64) {
	n := len(p.ring)
	i := p.head + p.n
	if i >= n {
		i -= n
	}
	for k := p.n; k > 0; k-- {
		j := i - 1
		if j < 0 {
			j += n
		}
		if p.ring[j] <= leave {
			break
		}
		p.ring[i] = p.ring[j]
		i = j
	}
	p.ring[i] = leave
	p.n++
}

// assign gives the earliest-free worker a job ending at end.
func (p *simPool) assign(end int64) {
	p.free[0] = end
	heapDown(p.free, 0)
}

// heapPush adds v to the min-heap *h.
func heapPush(h *[]int64, v int64) {
	*h = append(*h, v)
	a := *h
	i := len(a) - 1
	for i > 0 {
		j := (i - 1) / 2
		if a[j] <= a[i] {
			break
		}
		a[i], a[j] = a[j], a[i]
		i = j
	}
}

// heapPop removes the least element of the min-heap *h.
func heapPop(h *[]int64) {
	a := *h
	last := len(a) - 1
	a[0] = a[last]
	*h = a[:last]
	if last > 0 {
		heapDown(*h, 0)
	}
}

func heapDown(h []int64, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r] < h[l] {
			m = r
		}
		if h[i] <= h[m] {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// arrivals inverts the curve's N(t) with a cursor that only moves forward,
// since arrivals come in order.
type arrivals struct {
	c     *scenarios.Curve
	segs  []segInv
	j     int
	start []float64
	cum   []float64
}

// segInv is a segment's inverse with its constants worked out once.
type segInv struct {
	s    *scenarios.Segment
	k    float64 // exp: growth rate; decay: ln2/half-life
	fast bool
}

func newArrivals(c *scenarios.Curve) *arrivals {
	a := &arrivals{c: c}
	var t, n float64
	for i := range c.Segments {
		s := &c.Segments[i]
		a.start = append(a.start, t)
		a.cum = append(a.cum, n)
		t += s.Dur
		n += s.N(s.Dur)
		si := segInv{s: s}
		switch s.Kind {
		case scenarios.Hold:
			si.fast = s.From > 0
		case scenarios.Exp:
			si.k = math.Log(s.To/s.From) / s.Dur
			si.fast = si.k != 0
		case scenarios.Decay:
			si.k = math.Ln2 / s.HalfLife
			si.fast = true
		}
		a.segs = append(a.segs, si)
	}
	a.cum = append(a.cum, n)
	return a
}

// at is N⁻¹(x), for x not below the previous call's.
func (a *arrivals) at(x float64) float64 {
	for a.j < len(a.segs)-1 && x >= a.cum[a.j+1] {
		a.j++
	}
	si := &a.segs[a.j]
	s := si.s
	y := x - a.cum[a.j]
	if y <= 0 {
		return a.start[a.j]
	}
	var t float64
	if si.fast {
		switch s.Kind {
		case scenarios.Hold:
			t = y / s.From
		case scenarios.Exp:
			t = math.Log1p(y*si.k/s.From) / si.k
		case scenarios.Decay:
			v := -y * si.k / s.From
			if v <= -1 {
				t = s.Dur
			} else {
				t = -math.Log1p(v) / si.k
			}
		}
		if !(t <= s.Dur) {
			t = s.Dur
		}
	} else {
		t = s.Inv(y)
	}
	return a.start[a.j] + t
}
