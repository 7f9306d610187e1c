package attack

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Meter is the live view of a run for an exporter (Prometheus in the
// command): cumulative counts per endpoint, latency and send-lag
// histograms, the offered rate, the phase, and the SLO judged on each
// completed second.
//
// Run folds every result into the Meter's own counters on the one
// goroutine that already handles results (no lock, no allocation per
// result) and publishes a copy a few times a second, at each progress
// tick, and once more when the run ends; Snapshot reads the last copy. So
// a scrape sees counts at most 250 ms old, and the final counts once Run
// has returned.
type Meter struct {
	// Run and Shard label the figures: the run's id and its shard
	// ("0" when not sharded).
	Run   string
	Shard string
	// SLO judges each completed second (zero: scenarios.DefaultSLO).
	SLO scenarios.SLO

	mu   sync.Mutex
	snap MeterSnapshot
	pub  bool // Run has published snap
	// While the run sends, the hits started and due are read at each
	// Snapshot (they move between ticks; a scrape sees them exact).
	tgt   *MixTargeter
	pacer *CurvePacer
	start time.Time
}

// MeterSnapshot is what a Meter last published. From the moment the
// Meter exists it shows the run at zero (every endpoint's, once Run has
// set up its targets), so that the first scrape of a run waiting for its
// start sees every counter at 0, not at its first counts.
type MeterSnapshot struct {
	Run, Shard string
	Started    bool    // sending has begun (false while waiting for the start)
	Done       bool    // the run has ended: these are its final counts
	Scheduled  uint64  // hits due by the curve so far (this shard)
	Offered    float64 // the curve's rate now, hits/s (this shard)
	Phase      string  // the curve's phase now ("" before the start, past its end, or between phases)
	Phases     []string
	// SLOHeld is the verdict of the last judged second with traffic;
	// true before the first (the exporter leaves the series out until
	// Judged counts a held or violated second).
	SLOHeld bool
	// Judged counts the judged seconds by state: "held", "violated",
	// "behind" (short of the offered rate because the generator fell
	// behind, not the host), "idle".
	Judged    map[string]uint64
	Endpoints []EndpointSnapshot // the scenario's endpoints, then "other"
	// Visits are the visitors that have ended so far, by kind and name
	// (a page view's page, a journey's name), when the arrivals are
	// visitors (page views or journeys).
	Visits []VisitSnapshot
}

// VisitSnapshot is the visits of one kind and name that have ended.
type VisitSnapshot struct {
	Kind     string // scenarios.PageView or scenarios.JourneyVisit
	Name     string
	Complete uint64
	// Broken counts the visits that did not complete, by what broke them
	// first: the part's endpoint for a page view, "step N endpoint" for a
	// journey.
	Broken map[string]uint64
	// Interrupted counts the visits the run's stop cut short: neither
	// complete nor broken by the site.
	Interrupted uint64
}

// EndpointSnapshot is one endpoint's cumulative figures.
type EndpointSnapshot struct {
	Name     string
	Sent     uint64            // hits started
	Results  uint64            // results received
	OK       uint64            // results without error (scenarios.ErrorKind "")
	Codes    map[uint16]uint64 // results by HTTP status (0: no response)
	Errors   map[string]uint64 // failed results by scenarios.ErrorKind
	InFlight uint64
	Latency  Histogram // successful requests only
	Lag      Histogram // send time − scheduled time, every hit
}

// Histogram is a cumulative histogram of durations with log buckets
// (16 a power of two, within 3%).
type Histogram struct {
	Count uint64
	Sum   time.Duration
	c     [hbuckets]uint64
}

func (h *Histogram) add(d time.Duration) {
	d = max(d, 0)
	h.c[hindex(uint64(d))]++
	h.Count++
	h.Sum += d
}

// Cumulative gives, for each upper bound in seconds (ascending), how many
// observations were at or below it (a bucket counts when its middle is).
func (h *Histogram) Cumulative(bounds []float64) []uint64 {
	out := make([]uint64, len(bounds))
	j := 0
	var seen uint64
	for i, c := range h.c {
		v := float64(hvalue(i)) / 1e9
		for j < len(bounds) && v > bounds[j] {
			out[j] = seen
			j++
		}
		if j == len(bounds) {
			break
		}
		seen += c
	}
	for ; j < len(bounds); j++ {
		out[j] = seen
	}
	return out
}

// Native gives the histogram as a Prometheus native (exponential)
// histogram of the given schema: bucket i holds (2^((i−1)/2^schema),
// 2^(i/2^schema)] seconds; zero counts the observations of 0. Indices come
// in ascending order.
func (h *Histogram) Native(schema int32) (index []int32, count []uint64, zero uint64) {
	scale := math.Exp2(float64(schema))
	for i, c := range h.c {
		if c == 0 {
			continue
		}
		v := float64(hvalue(i)) / 1e9
		if v <= 0 {
			zero += c
			continue
		}
		k := int32(math.Ceil(math.Log2(v) * scale))
		if n := len(index); n > 0 && index[n-1] == k {
			count[n-1] += c
			continue
		}
		index = append(index, k)
		count = append(count, c)
	}
	return index, count, zero
}

// Quantile is the q-quantile of the observations, 0 when there are none.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	rank := min(max(uint64(q*float64(h.Count)+0.5), 1), h.Count)
	var seen uint64
	for i, c := range h.c {
		if seen += c; seen >= rank {
			return time.Duration(hvalue(i))
		}
	}
	return 0
}

// Snapshot copies what the Meter last published.
func (m *Meter) Snapshot() MeterSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snap
	if !m.pub {
		// Registered, and Run has not yet published: the run's own series
		// are at zero (no endpoint is known yet).
		s = MeterSnapshot{Run: m.Run, Shard: m.Shard, SLOHeld: true}
	}
	if m.tgt != nil && s.Started && !s.Done {
		picks := m.tgt.Picks()
		for i := range s.Endpoints {
			e := &s.Endpoints[i]
			if i < len(picks) {
				e.Sent = max(e.Sent, picks[i])
			}
			e.InFlight = e.Sent - min(e.Results, e.Sent)
		}
		s.Scheduled = max(s.Scheduled, m.pacer.requests(min(dueBy(m.pacer, time.Since(m.start)), m.pacer.Hits())))
	}
	s.Phases = append([]string(nil), s.Phases...)
	s.Judged = copyMap(s.Judged)
	s.Endpoints = append([]EndpointSnapshot(nil), s.Endpoints...)
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		e.Codes, e.Errors = copyMap(e.Codes), copyMap(e.Errors)
	}
	s.Visits = append([]VisitSnapshot(nil), s.Visits...)
	for i := range s.Visits {
		s.Visits[i].Broken = copyMap(s.Visits[i].Broken)
	}
	return s
}

func copyMap[K comparable](m map[K]uint64) map[K]uint64 {
	out := make(map[K]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// OtherEndpoint names results whose method and URL match none of the
// scenario's endpoints.
const OtherEndpoint = "other"

// meterFold is Run's side of a Meter: touched by Run's result goroutine
// only.
type meterFold struct {
	m      *Meter
	start  time.Time
	pacer  *CurvePacer
	tgt    *MixTargeter
	slo    scenarios.SLO
	byURL  map[string]int // URL → endpoint index, when the URL is unique
	eps    []endpointFold
	method []string // per endpoint, to tell apart endpoints that share a URL
	urls   []string
	phases []string

	// prevLat is the median latency of the successes of the last second
	// judged: responses complete that long after their sends, so the
	// throughput check counts the curve moved back by it, as the report
	// does (report.Analysis.lagged).
	prevLat time.Duration
	ring    [ringSize]judgeSecond // by the second hits were sent in
	doneOK  [ringSize]struct{ at, n int64 }
	judged  int64 // seconds before this one are judged
	stopAt  int64 // the second the run began stopping in; -1 not stopping
	held    bool
	counted map[string]uint64
	visits  []VisitSnapshot
}

// visit folds in a visitor's record.
func (f *meterFold) visit(v *scenarios.Visit) {
	var vs *VisitSnapshot
	for i := range f.visits {
		if f.visits[i].Kind == v.Kind && f.visits[i].Name == v.Name {
			vs = &f.visits[i]
			break
		}
	}
	if vs == nil {
		f.visits = append(f.visits, VisitSnapshot{Kind: v.Kind, Name: v.Name, Broken: map[string]uint64{}})
		vs = &f.visits[len(f.visits)-1]
	}
	switch {
	case v.OK:
		vs.Complete++
	case v.Why == scenarios.Interrupted:
		vs.Interrupted++
	case v.Kind == scenarios.JourneyVisit:
		vs.Broken[v.FailedAt()]++
	default:
		vs.Broken[v.Broke]++
	}
}

type endpointFold struct {
	name    string
	results uint64
	ok      uint64
	codes   map[uint16]uint64
	errors  map[string]uint64
	lat     Histogram
	lag     Histogram
}

// judgeSecond is one second of sends, judged once its results are in.
type judgeSecond struct {
	at          int64
	n, failed   uint64
	gen         uint64 // failures of the generator (fd limit, no ports)
	lat, lagged hist   // successful latencies; send lag
}

// settle is how long after a second ends its sends are judged: results
// arriving later are in the report but not in the live verdict.
const settle = time.Second

// newMeterFold sets up the fold of a run whose arrivals are visits
// (page views, journeys) of the kinds and names in visits, none when they
// are single requests.
func newMeterFold(m *Meter, start time.Time, pacer *CurvePacer, tgt *MixTargeter, eps []scenarios.Endpoint, visits []VisitSnapshot) *meterFold {
	f := &meterFold{m: m, start: start, pacer: pacer, tgt: tgt, slo: m.SLO, byURL: map[string]int{}, held: true, stopAt: -1, counted: map[string]uint64{}}
	for _, v := range visits {
		f.visits = append(f.visits, VisitSnapshot{Kind: v.Kind, Name: v.Name, Broken: map[string]uint64{}})
	}
	if f.slo == (scenarios.SLO{}) {
		f.slo = scenarios.DefaultSLO
	}
	dup := map[string]bool{}
	for i, t := range tgt.Targets() {
		name := eps[i].Name
		if name == "" {
			name = t.Method + " " + eps[i].Redacted().URL
		}
		f.eps = append(f.eps, endpointFold{name: name, codes: map[uint16]uint64{}, errors: map[string]uint64{}})
		f.method = append(f.method, t.Method)
		f.urls = append(f.urls, t.URL)
		if _, seen := f.byURL[t.URL]; seen {
			dup[t.URL] = true
		}
		f.byURL[t.URL] = i
	}
	for u := range dup {
		delete(f.byURL, u)
	}
	f.eps = append(f.eps, endpointFold{name: OtherEndpoint, codes: map[uint16]uint64{}, errors: map[string]uint64{}})
	// Names label series: two endpoints of one name (a targets file can
	// list a request twice) are told apart by a number.
	names := map[string]bool{}
	for i := range f.eps {
		name := f.eps[i].name
		for k := 2; names[name]; k++ {
			name = fmt.Sprintf("%s (%d)", f.eps[i].name, k)
		}
		names[name], f.eps[i].name = true, name
	}
	for i := range f.ring {
		f.ring[i].at = -1
		f.doneOK[i].at = -1
	}
	for _, sp := range pacer.Curve.Spans() {
		if sp.Name != "" && !contains(f.phases, sp.Name) {
			f.phases = append(f.phases, sp.Name)
		}
	}
	return f
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// endpoint is the index of r's endpoint; the last index is "other".
func (f *meterFold) endpoint(r *vegeta.Result) int {
	if i, ok := f.byURL[r.URL]; ok {
		return i
	}
	for i, u := range f.urls {
		if u == r.URL && f.method[i] == r.Method {
			return i
		}
	}
	return len(f.eps) - 1
}

// add folds one result; kind is its scenarios.ErrorKind.
func (f *meterFold) add(r *vegeta.Result, kind string, lag time.Duration, hasLag bool) {
	e := &f.eps[f.endpoint(r)]
	e.results++
	e.codes[r.Code]++
	if hasLag {
		e.lag.add(lag)
	}
	sec := int64(max(r.Timestamp.Sub(f.start), 0) / time.Second)
	js := &f.ring[sec%ringSize]
	if js.at != sec {
		if js.at >= f.judged && js.at >= 0 {
			// A second not yet judged is overwritten only by a result
			// sent 16 s later than it: judge it now with what came.
			f.judge(js)
		}
		js.lat.reset()
		js.lagged.reset()
		js.at, js.n, js.failed, js.gen = sec, 0, 0, 0
	}
	js.n++
	if hasLag {
		js.lagged.add(lag)
	}
	if kind != "" {
		e.errors[kind]++
		js.failed++
		if kind == scenarios.ErrFDLimit || kind == scenarios.ErrNoPorts {
			js.gen++
		}
		return
	}
	e.ok++
	e.lat.add(r.Latency)
	js.lat.add(r.Latency)
	end := int64(max(r.End().Sub(f.start), 0) / time.Second)
	d := &f.doneOK[end%ringSize]
	if d.at != end {
		d.at, d.n = end, 0
	}
	d.n++
}

// tick judges the seconds that have settled by el and publishes;
// stopping: the run is stopping (seconds from now on are cut short).
func (f *meterFold) tick(el time.Duration, stopping, done bool) {
	if stopping && f.stopAt < 0 {
		f.stopAt = int64(el / time.Second)
	}
	upTo := int64((el - settle) / time.Second) // seconds before this have settled
	if done {
		upTo = int64(el/time.Second) + 1
	}
	for sec := max(f.judged, upTo-ringSize+1); sec < upTo; sec++ {
		js := &f.ring[sec%ringSize]
		if js.at != sec {
			js.lat.reset()
			js.lagged.reset()
			js.at, js.n, js.failed, js.gen = sec, 0, 0, 0
		}
		f.judge(js)
	}
	f.judged = max(f.judged, upTo)
	f.publish(el, done)
}

// judge judges one second of sends the way the report judges a
// window (report.Analyze): host errors over the limit, the p99 of
// successful requests over the limit, or fewer successes completed in the
// second than the throughput share of the offered count (not checked in a
// second the run was stopped in). A second short of the offered count
// because the generator fell behind counts as "behind", not violated.
func (f *meterFold) judge(js *judgeSecond) {
	sec := js.at
	if sec < f.judged {
		return
	}
	cut := f.stopAt >= 0 && sec >= f.stopAt
	t0, t1 := float64(sec), float64(sec+1)
	end := f.pacer.Curve.Seconds()
	offered := 0.0
	if t0 < end {
		offered = (f.pacer.Curve.N(math.Min(t1, end)) - f.pacer.Curve.N(t0)) / float64(f.pacer.shards())
	}
	lagBy := f.prevLat
	if lagBy == 0 && js.lat.n > 0 {
		lagBy = js.lat.quantile(0.5)
	}
	if f.slo.P99 > 0 {
		lagBy = min(lagBy, f.slo.P99)
	}
	expected := offered
	if l := lagBy.Seconds(); l > 0 && t0 < end {
		c := f.pacer.Curve
		if n := c.N(math.Min(t1, end)) - c.N(t0); n > 0 {
			expected = offered * math.Min(1, (c.N(math.Min(math.Max(t1-l, 0), end))-c.N(math.Max(t0-l, 0)))/n)
		}
	}
	if js.lat.n > 0 {
		f.prevLat = js.lat.quantile(0.5)
	}
	var doneOK uint64
	if d := f.doneOK[sec%ringSize]; d.at == sec {
		doneOK = uint64(d.n)
	}
	state := judgeWindow(f.slo, js.n, js.failed, js.gen, &js.lat, &js.lagged, doneOK, offered, expected, cut)
	if t0 >= end {
		// Past the curve's end: only sends that lagged past it (a
		// starved generator's stragglers) fall here; they are counted,
		// but a second of a few stragglers does not turn the live
		// verdict.
		state = "idle"
	}
	f.counted[state]++
	switch state {
	case "held":
		f.held = true
	case "violated":
		f.held = false
	}
	if sec >= f.judged {
		f.judged = sec + 1
	}
}

// Tolerances of the window judgement, as in report/analyze.go.
const (
	judgeSlack       = 2    // requests a second may fall short of share·offered
	judgeGenShortage = 0.10 // share of the offered requests not sent before the generator counts as behind
	judgeGenLag      = 250 * time.Millisecond
)

// judgeWindow is the live verdict on one second: "idle", "held",
// "violated" or "behind". n hits were sent in it, failed of them failed
// (gen of those inside the generator), lat holds the latencies of its
// successes, lag its send lags; doneOK successes completed in it, offered
// is the curve's count for it, expected what of that a host answering at
// its recent latency completes within it; cut: the run stopped in it.
func judgeWindow(slo scenarios.SLO, n, failed, gen uint64, lat, lag *hist, doneOK uint64, offered, expected float64, cut bool) string {
	if n == 0 && (offered < 1 || cut) {
		return "idle"
	}
	violated := false
	if host := n - gen; host > 0 && float64(failed-gen)/float64(host) > slo.MaxErrorRatio {
		violated = true
	}
	var p99 time.Duration
	switch k := lat.n; {
	case k <= 1:
	case k < 100:
		p99 = lat.quantile(float64(k-1) / float64(k))
	default:
		p99 = lat.quantile(0.99)
	}
	if slo.P99 > 0 && p99 > slo.P99 {
		violated = true
	}
	short := slo.MinThroughput > 0 && offered >= 1 && !cut && float64(doneOK) < slo.MinThroughput*expected-judgeSlack
	behind := !cut && offered >= 1 && float64(n) < (1-judgeGenShortage)*offered-judgeSlack ||
		lag.quantile(0.9) > judgeGenLag || gen > 0 && gen*20 >= n
	switch {
	case !violated && short && behind:
		return "behind"
	case violated || short:
		return "violated"
	}
	return "held"
}

// waiting publishes the run at zero, before its start: every endpoint's
// and visit's series, none of them counted yet.
func (f *meterFold) waiting() {
	s := MeterSnapshot{
		Run: f.m.Run, Shard: f.m.Shard, Phases: f.phases,
		SLOHeld: true, Judged: map[string]uint64{},
	}
	for _, v := range f.visits {
		v.Broken = copyMap(v.Broken)
		s.Visits = append(s.Visits, v)
	}
	for i := range f.eps {
		e := &f.eps[i]
		s.Endpoints = append(s.Endpoints, EndpointSnapshot{Name: e.name, Codes: map[uint16]uint64{}, Errors: map[string]uint64{}})
	}
	f.m.mu.Lock()
	f.m.snap, f.m.pub = s, true
	f.m.mu.Unlock()
}

// visitNames lists the kinds and names of the visits a run of s ends:
// the pages (endpoints with assets) when its arrivals are page views; its
// journeys, and the pages among their steps, when they are journeys; none
// when its arrivals are single requests.
func visitNames(s *scenarios.Scenario, eps []scenarios.Endpoint) []VisitSnapshot {
	var out []VisitSnapshot
	add := func(kind, name string) {
		for _, v := range out {
			if v.Kind == kind && v.Name == name {
				return
			}
		}
		out = append(out, VisitSnapshot{Kind: kind, Name: name})
	}
	hasAssets := map[string]bool{}
	for _, e := range eps {
		if len(e.Assets) > 0 {
			hasAssets[e.Name] = true
		}
	}
	switch {
	case s.HasJourneys():
		for _, j := range s.Journeys {
			add(scenarios.JourneyVisit, j.Name)
		}
		for _, j := range s.Journeys {
			for _, st := range j.Steps {
				if hasAssets[st.Endpoint] {
					add(scenarios.PageView, st.Endpoint)
				}
			}
		}
	case s.PageViews():
		for _, e := range scenarios.ArrivalEndpoints(eps) {
			if e.Weight > 0 && hasAssets[e.Name] {
				add(scenarios.PageView, e.Name)
			}
		}
	}
	return out
}

// publish copies the folded figures into the Meter.
func (f *meterFold) publish(el time.Duration, done bool) {
	sent := f.tgt.Picks()
	scheduled := f.pacer.requests(min(dueBy(f.pacer, el), f.pacer.Hits()))
	phase := f.pacer.Curve.PhaseAt(el.Seconds())
	s := MeterSnapshot{
		Run: f.m.Run, Shard: f.m.Shard, Started: true, Done: done,
		Scheduled: scheduled, Phase: phase, Phases: f.phases,
		SLOHeld: f.held, Judged: copyMap(f.counted),
	}
	if !done {
		s.Offered = f.pacer.Curve.Rate(el.Seconds()) * f.pacer.perArrival() / float64(f.pacer.shards())
	}
	for _, v := range f.visits {
		v.Broken = copyMap(v.Broken)
		s.Visits = append(s.Visits, v)
	}
	for i := range f.eps {
		e := &f.eps[i]
		es := EndpointSnapshot{
			Name: e.name, Results: e.results, OK: e.ok,
			Codes: copyMap(e.codes), Errors: copyMap(e.errors),
			Latency: e.lat, Lag: e.lag,
		}
		if i < len(sent) {
			es.Sent = sent[i]
		} else {
			es.Sent = e.results // "other": results not from the mix
		}
		if es.Sent > es.Results {
			es.InFlight = es.Sent - es.Results
		}
		s.Endpoints = append(s.Endpoints, es)
	}
	f.m.mu.Lock()
	f.m.snap, f.m.pub = s, true
	f.m.tgt, f.m.pacer, f.m.start = f.tgt, f.pacer, f.start
	f.m.mu.Unlock()
}

// dueBy is how many of this shard's hits are due by el from the start.
func dueBy(p *CurvePacer, el time.Duration) uint64 {
	if el < 0 {
		return 0
	}
	n := p.Curve.N(el.Seconds())
	g := min(uint64(math.Floor(n+0.5)), p.Curve.Requests()) // global hits 0..g−1 are due (g + ½ ≤ n)
	k, i := p.shards(), uint64(p.Shard)
	if g <= i {
		return 0
	}
	return (g - i + k - 1) / k
}

// SortedKeys lists a map's keys in order, for stable output.
func SortedKeys[K uint16 | string](m map[K]uint64) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
