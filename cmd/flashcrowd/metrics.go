package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// defaultMetricsHold is how long /metrics stays up after a run: one
// default Prometheus scrape interval, so the last scrape sees the final
// counts.
const defaultMetricsHold = 15 * time.Second

// metricsFlags are --metrics-addr, --metrics-hold and --run-id.
type metricsFlags struct {
	addr  string
	hold  time.Duration
	runID string
	fs    *pflag.FlagSet
}

func (m *metricsFlags) add(fs *pflag.FlagSet, hold bool) {
	m.fs = fs
	fs.StringVar(&m.addr, "metrics-addr", "", "serve Prometheus metrics on `HOST:PORT` at /metrics (e.g. 127.0.0.1:9464; see docs/metrics.md)")
	if hold {
		fs.DurationVar(&m.hold, "metrics-hold", defaultMetricsHold, "with --metrics-addr: keep /metrics up this `DURATION` after the run ends, so the last scrape sees the final counts")
		fs.StringVar(&m.runID, "run-id", "", "the `ID` in the metrics' run label (default: the --out directory's name; with --shard, give every shard the same one)")
	}
}

// runLabel is the run label of a run writing to out.
func (m *metricsFlags) runLabel(out string) string {
	if m.runID != "" {
		return m.runID
	}
	return shardSuffix.ReplaceAllString(filepath.Base(filepath.Clean(out)), "")
}

// compareRunLabel is the run label of compare's entry name: the
// comparison's id, a slash, the entry.
func compareRunLabel(id, name string) string { return id + "/" + name }

// shardSuffix is what run adds to a sharded run's default directory.
var shardSuffix = regexp.MustCompile(`-shard-\d+-of-\d+$`)

// metricsServer serves /metrics for one command.
type metricsServer struct {
	reg  *prometheus.Registry
	runs *runCollector
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	hold time.Duration
	name string // the command, for messages
}

// start checks the address and listens on it before anything is sent: a
// malformed address or a port in use is bad usage (exit 2). It returns
// nil when --metrics-addr was not given.
func (m *metricsFlags) start(e *env, name string) (*metricsServer, error) {
	if m.addr == "" {
		if m.fs != nil && m.fs.Changed("metrics-hold") {
			return nil, usagef("--metrics-hold keeps /metrics up after the run: give --metrics-addr too")
		}
		return nil, nil
	}
	host, port, err := net.SplitHostPort(m.addr)
	if err != nil {
		return nil, usagef("--metrics-addr %q: want HOST:PORT such as 127.0.0.1:9464", m.addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return nil, usagef("--metrics-addr %q: port %q: want 0 to 65535 (0 picks a free one)", m.addr, port)
	}
	if m.hold < 0 {
		return nil, usagef("--metrics-hold %s: want a duration ≥ 0", m.hold)
	}
	if w := metricsListenWarning(host, port); w != "" {
		fmt.Fprintf(e.stderr, "flashcrowd %s: warning: %s\n", name, w)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, usagef("--metrics-addr %s: %v", m.addr, err)
	}
	s := &metricsServer{reg: prometheus.NewRegistry(), runs: &runCollector{}, ln: ln, done: make(chan struct{}), hold: m.hold, name: name}
	s.reg.MustRegister(s.runs)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	fmt.Fprintf(e.stderr, "flashcrowd %s: Prometheus metrics on http://%s/metrics\n", name, ln.Addr())
	return s, nil
}

// metricsListenWarning is what to warn about serving metrics on host:port.
func metricsListenWarning(host, port string) string {
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.IsUnspecified():
		return fmt.Sprintf("--metrics-addr %s listens on every interface; the metrics are readable from outside this machine (127.0.0.1:%s keeps them on loopback)", net.JoinHostPort(host, port), port)
	case host != "localhost" && (ip == nil || !ip.IsLoopback()):
		return fmt.Sprintf("--metrics-addr %s is not a loopback address; the metrics are readable from outside this machine", host)
	}
	return ""
}

// meter adds a run's Meter to what /metrics shows; nil server, nil meter.
func (s *metricsServer) meter(run string, shard int, slo scenarios.SLO) *attack.Meter {
	if s == nil {
		return nil
	}
	m := &attack.Meter{Run: run, Shard: strconv.Itoa(shard), SLO: slo}
	s.runs.add(m)
	return m
}

// close keeps /metrics up for the hold (cut short by Ctrl-C: the first
// one if the run was not interrupted, else the second), then stops it.
func (s *metricsServer) close(e *env) {
	if s == nil {
		return
	}
	if s.hold > 0 && s.runs.started() {
		stop := e.ctx.Done()
		if e.ctx.Err() != nil {
			stop = e.hard.Done()
		} else if e.stopNote != nil {
			note := "ending the metrics hold (the run is over: every result is kept)"
			e.stopNote.Store(&note)
		}
		fmt.Fprintf(e.stderr, "flashcrowd %s: serving the final counts on http://%s/metrics for %s (Ctrl-C ends it)\n", s.name, s.ln.Addr(), s.hold)
		t := time.NewTimer(s.hold)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(e.stderr, "flashcrowd %s: stopping the metrics server: %v\n", s.name, err)
	}
	s.srv.Close()
	<-s.done
}

// Metric names, as documented in docs/metrics.md.
var (
	runLabels = []string{"run", "shard"}
	epLabels  = []string{"endpoint", "run", "shard"}

	descScheduled = prometheus.NewDesc("flashcrowd_requests_scheduled_total", "Requests due by the curve so far (this shard); for visitors, arrivals due times the mix's requests per arrival (nominal: failed pages send no assets, abandoned journeys no more steps).", runLabels, nil)
	descSent      = prometheus.NewDesc("flashcrowd_requests_sent_total", "Requests started.", epLabels, nil)
	descCompleted = prometheus.NewDesc("flashcrowd_requests_completed_total", "Requests whose result came back, by outcome: ok (a 2xx/3xx response) or error.", append(epLabels, "outcome"), nil)
	descResponses = prometheus.NewDesc("flashcrowd_responses_total", "Responses by HTTP status code (requests without a response are in flashcrowd_errors_total only).", append(epLabels, "code"), nil)
	descErrors    = prometheus.NewDesc("flashcrowd_errors_total", "Failed requests by kind, as the report counts them (timeout, refused, reset, http 503, ...).", append(epLabels, "kind"), nil)
	descDuration  = prometheus.NewDesc("flashcrowd_request_duration_seconds", "Latency of successful requests (classic buckets and a native histogram).", epLabels, nil)
	descLag       = prometheus.NewDesc("flashcrowd_send_lag_seconds", "How late each request was sent after its scheduled time.", epLabels, nil)
	descInFlight  = prometheus.NewDesc("flashcrowd_in_flight", "Requests sent and not yet answered.", epLabels, nil)
	descOffered   = prometheus.NewDesc("flashcrowd_offered_rate", "The curve's rate now, requests per second (this shard).", runLabels, nil)
	descPhase     = prometheus.NewDesc("flashcrowd_phase_info", "1, labelled with the curve's phase now; no series outside every phase (before the start, between phases, past the end).", append(runLabels, "phase"), nil)
	descSLOHeld   = prometheus.NewDesc("flashcrowd_slo_held", "1 while the last judged second held the SLO, 0 when it broke it.", runLabels, nil)
	descJudged    = prometheus.NewDesc("flashcrowd_slo_seconds_total", "Seconds judged against the SLO, by state: held, violated, behind (the generator fell behind), idle.", append(runLabels, "state"), nil)
	descDone      = prometheus.NewDesc("flashcrowd_run_done", "1 once the run has ended: the counts are final.", runLabels, nil)
	descVisits    = prometheus.NewDesc("flashcrowd_visits_total", "Visitors whose visit ended, by kind (page view, journey), name (the page, the journey) and outcome: complete (every part succeeded), broken, or interrupted (cut short by the run's stop).", append(runLabels, "kind", "name", "outcome"), nil)
	descVisitsBy  = prometheus.NewDesc("flashcrowd_visits_broken_total", "Broken visits by what broke them first: the part's endpoint for a page view, \"step N endpoint\" for a journey.", append(runLabels, "kind", "name", "by"), nil)

	runDescs = []*prometheus.Desc{descVisits, descVisitsBy, descScheduled, descSent, descCompleted, descResponses, descErrors, descDuration, descLag,
		descInFlight, descOffered, descPhase, descSLOHeld, descJudged, descDone}
)

// durationBuckets are the classic buckets of both histograms, in seconds.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// nativeSchema is the native histograms' resolution: 2^(1/8), buckets
// about 9% wide (the Meter's own are 3 to 6%).
const nativeSchema = 3

// runCollector shows the Meters of the runs of one command (compare makes
// several, one after another; earlier ones keep their final counts).
type runCollector struct {
	mu     sync.Mutex
	meters []*attack.Meter
}

func (c *runCollector) add(m *attack.Meter) {
	c.mu.Lock()
	c.meters = append(c.meters, m)
	c.mu.Unlock()
}

// started tells whether a run has started sending (so has figures to hold).
func (c *runCollector) started() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.meters {
		if m.Snapshot().Started {
			return true
		}
	}
	return false
}

func (c *runCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range runDescs {
		ch <- d
	}
}

func (c *runCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	meters := append([]*attack.Meter(nil), c.meters...)
	c.mu.Unlock()
	for _, m := range meters {
		collectRun(ch, m.Snapshot())
	}
}

// collectRun shows one run's snapshot. A run waiting for its start shows
// every series at zero (and no phase), so Prometheus's first sample of
// each counter is 0 and increase() counts the run from its first request.
func collectRun(ch chan<- prometheus.Metric, s attack.MeterSnapshot) {
	run := []string{s.Run, s.Shard}
	must := func(m prometheus.Metric, err error) {
		if err == nil {
			ch <- m
		}
	}
	counter := func(d *prometheus.Desc, v uint64, lv ...string) {
		must(prometheus.NewConstMetric(d, prometheus.CounterValue, float64(v), lv...))
	}
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		must(prometheus.NewConstMetric(d, prometheus.GaugeValue, v, lv...))
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	counter(descScheduled, s.Scheduled, run...)
	gauge(descOffered, s.Offered, run...)
	if s.Judged["held"]+s.Judged["violated"] > 0 {
		// Absent until a second with traffic was judged: a run that
		// breaks from its first second never shows "held".
		gauge(descSLOHeld, b2f(s.SLOHeld), run...)
	}
	gauge(descDone, b2f(s.Done), run...)
	if s.Phase != "" {
		gauge(descPhase, 1, s.Run, s.Shard, s.Phase)
	}
	for _, st := range []string{"held", "violated", "behind", "idle"} {
		counter(descJudged, s.Judged[st], s.Run, s.Shard, st)
	}
	for _, v := range s.Visits {
		var broken uint64
		for _, by := range attack.SortedKeys(v.Broken) {
			broken += v.Broken[by]
			counter(descVisitsBy, v.Broken[by], s.Run, s.Shard, v.Kind, v.Name, by)
		}
		counter(descVisits, v.Complete, s.Run, s.Shard, v.Kind, v.Name, "complete")
		counter(descVisits, broken, s.Run, s.Shard, v.Kind, v.Name, "broken")
		if v.Interrupted > 0 {
			counter(descVisits, v.Interrupted, s.Run, s.Shard, v.Kind, v.Name, "interrupted")
		}
	}
	for i, e := range s.Endpoints {
		if i == len(s.Endpoints)-1 && e.Results == 0 {
			continue // "other": results that match no endpoint; none so far
		}
		lv := []string{e.Name, s.Run, s.Shard}
		counter(descSent, e.Sent, lv...)
		counter(descCompleted, e.OK, e.Name, s.Run, s.Shard, "ok")
		counter(descCompleted, e.Results-e.OK, e.Name, s.Run, s.Shard, "error")
		gauge(descInFlight, float64(e.InFlight), lv...)
		for _, code := range attack.SortedKeys(e.Codes) {
			if code != 0 {
				counter(descResponses, e.Codes[code], e.Name, s.Run, s.Shard, strconv.Itoa(int(code)))
			}
		}
		for _, k := range attack.SortedKeys(e.Errors) {
			counter(descErrors, e.Errors[k], e.Name, s.Run, s.Shard, k)
		}
		ch <- histMetric(descDuration, &e.Latency, lv)
		ch <- histMetric(descLag, &e.Lag, lv)
	}
}

// histMetric is a histogram with both classic buckets (read by every
// Prometheus) and native buckets (read by servers with native histograms
// on, over the protobuf format).
func histMetric(d *prometheus.Desc, h *attack.Histogram, lv []string) prometheus.Metric {
	cum := h.Cumulative(durationBuckets)
	hm := &dto.Histogram{
		SampleCount:   proto.Uint64(h.Count),
		SampleSum:     proto.Float64(h.Sum.Seconds()),
		Schema:        proto.Int32(nativeSchema),
		ZeroThreshold: proto.Float64(1e-9),
	}
	for i, b := range durationBuckets {
		hm.Bucket = append(hm.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(cum[i])})
	}
	idx, cnt, zero := h.Native(nativeSchema)
	hm.ZeroCount = proto.Uint64(zero)
	var prev int64
	for i, k := range idx {
		if i == 0 || k != idx[i-1]+1 {
			off := k
			if i > 0 {
				off = k - idx[i-1] - 1
			}
			hm.PositiveSpan = append(hm.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(off), Length: proto.Uint32(0)})
		}
		sp := hm.PositiveSpan[len(hm.PositiveSpan)-1]
		*sp.Length++
		hm.PositiveDelta = append(hm.PositiveDelta, int64(cnt[i])-prev)
		prev = int64(cnt[i])
	}
	if h.Count == 0 {
		// An empty native histogram needs a span to be told from a
		// classic one.
		hm.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	return &constHist{desc: d, labels: prometheus.MakeLabelPairs(d, lv), h: hm}
}

type constHist struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *dto.Histogram
}

func (c *constHist) Desc() *prometheus.Desc { return c.desc }
func (c *constHist) Write(m *dto.Metric) error {
	m.Label, m.Histogram = c.labels, c.h
	return nil
}

// hostCollector shows a simulated host's pools (serve).
type hostCollector struct{ h *hosting.Host }

var (
	hostLabels       = []string{"plan", "pool"}
	descHostWorkers  = prometheus.NewDesc("flashcrowd_host_workers", "Workers of the simulated host's pool now (autoscaled capacity).", hostLabels, nil)
	descHostPending  = prometheus.NewDesc("flashcrowd_host_workers_pending", "Workers ordered by autoscaling, not yet arrived.", hostLabels, nil)
	descHostBusy     = prometheus.NewDesc("flashcrowd_host_busy_workers", "Workers holding a request.", hostLabels, nil)
	descHostQueued   = prometheus.NewDesc("flashcrowd_host_queued", "Requests waiting for a worker.", hostLabels, nil)
	descHostQueue    = prometheus.NewDesc("flashcrowd_host_queue_length", "Requests in the pool's queue now, waiting for a worker (as flashcrowd_host_queued).", hostLabels, nil)
	descHostQueueCap = prometheus.NewDesc("flashcrowd_host_queue_capacity", "The pool's queue bound: waiting places; a request finding them full is refused.", hostLabels, nil)
	descHostServed   = prometheus.NewDesc("flashcrowd_host_served_total", "Requests the simulated host answered 200 in full.", []string{"plan"}, nil)
	descHostRejects  = prometheus.NewDesc("flashcrowd_host_rejected_total", "Requests the simulated host refused or failed, by reason.", []string{"plan", "reason"}, nil)
)

func (c hostCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHostWorkers, descHostPending, descHostBusy, descHostQueued, descHostQueue, descHostQueueCap, descHostServed, descHostRejects} {
		ch <- d
	}
}

func (c hostCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.h.Stats()
	g := func(d *prometheus.Desc, v int, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), lv...)
	}
	for _, p := range st.Pools {
		g(descHostWorkers, p.Workers, st.Plan, p.Name)
		g(descHostPending, p.Pending, st.Plan, p.Name)
		g(descHostBusy, p.Busy, st.Plan, p.Name)
		g(descHostQueued, p.Queued, st.Plan, p.Name)
		g(descHostQueue, p.Queued, st.Plan, p.Name)
		g(descHostQueueCap, p.Queue, st.Plan, p.Name)
	}
	ch <- prometheus.MustNewConstMetric(descHostServed, prometheus.CounterValue, float64(st.Served), st.Plan)
	for _, k := range attack.SortedKeys(st.Rejected) {
		ch <- prometheus.MustNewConstMetric(descHostRejects, prometheus.CounterValue, float64(st.Rejected[k]), st.Plan, k)
	}
}

// host adds a simulated host's pools to what /metrics shows.
func (s *metricsServer) host(h *hosting.Host) {
	if s != nil {
		s.reg.MustRegister(hostCollector{h})
	}
}
