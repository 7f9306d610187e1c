package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// scrape reads http://addr/metrics in the text format, parsed by
// Prometheus's own parser; protobuf asks for the protobuf format
// (native histograms travel only there).
func scrape(t *testing.T, addr string, protobuf bool) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if protobuf {
		req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scraping %s: %v", addr, err)
	}
	defer resp.Body.Close()
	out := map[string]*dto.MetricFamily{}
	if !protobuf {
		p := expfmt.NewTextParser(model.LegacyValidation)
		if out, err = p.TextToMetricFamilies(resp.Body); err != nil {
			t.Fatalf("parsing /metrics: %v", err)
		}
		return out
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decoding /metrics (%s): %v", resp.Header.Get("Content-Type"), err)
		}
		out[mf.GetName()] = mf
	}
}

// sumOf adds the values of a family's series whose labels include want.
func sumOf(mf *dto.MetricFamily, want map[string]string) float64 {
	if mf == nil {
		return -1
	}
	var s float64
	for _, m := range mf.Metric {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			s += m.Counter.GetValue()
		case m.Gauge != nil:
			s += m.Gauge.GetValue()
		case m.Histogram != nil:
			s += float64(m.Histogram.GetSampleCount())
		}
	}
	return s
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.Label {
		if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// waitFor polls cond every 100 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool, why func() string) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("%s: not after %s\n%s", what, limit, why())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// summaryJSON is the part of a run's summary.json the tests compare with.
type summaryJSON struct {
	Requests  uint64            `json:"requests"`
	Failed    uint64            `json:"failed"`
	Errors    map[string]uint64 `json:"errors"`
	Endpoints []struct {
		Name     string  `json:"name"`
		Requests uint64  `json:"requests"`
		Failed   uint64  `json:"failed"`
		P99      float64 `json:"p99_ms"`
	} `json:"endpoints"`
}

func readSummaryCounts(t *testing.T, dir string) summaryJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s summaryJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return s
}

// exits 2 before anything is sent, the pre-flight request included; so
// does --metrics-hold without --metrics-addr.
// exits 2 before anything is sent, the pre-flight request included.
func TestMetricsUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var hits atomic.Int64 // every request, pre-flight or not
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	for _, args := range [][]string{
		{"run", "--rate", "50/s", "--duration", "2s", "--target", target.URL},
		{"compare", "--rate", "50/s", "--duration", "2s", "--target", "mine=" + target.URL},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		code, _, errs := runCLI(t, append(args, "--out", dir, "--metrics-addr", busy.Addr().String())...)
		if code != 2 || !strings.Contains(errs, "address already in use") || hits.Load() != 0 {
			t.Errorf("%s with a taken --metrics-addr: exit %d, %d requests reached the target (want 2, none):\n%s", args[0], code, hits.Load(), errs)
		}
	}
	for _, c := range []struct{ addr, says string }{
		{"127.0.0.1", "want HOST:PORT"},
		{"127.0.0.1:http-alt", "port"},
		{"127.0.0.1:70000", "want 0 to 65535"},
		{busy.Addr().String(), "address already in use"},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		code, _, errs := runCLI(t, "run", "--rate", "50/s", "--duration", "2s", "--out", dir, "--metrics-addr", c.addr)
		if code != 2 || !strings.Contains(errs, c.says) {
			t.Errorf("--metrics-addr %s: exit %d, want 2 saying %q:\n%s", c.addr, code, c.says, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, "run.json")); err == nil || strings.Contains(errs, "sending ") {
			t.Errorf("--metrics-addr %s: the run started:\n%s", c.addr, errs)
		}
		if strings.Contains(errs, "against the simulated host") {
			t.Errorf("--metrics-addr %s: the run was announced before its bad flag:\n%s", c.addr, errs)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errs := runCLI(t, "run", "--rate", "50/s", "--duration", "2s", "--out", dir, "--metrics-hold", "5s")
	if _, err := os.Stat(dir); code != 2 || !strings.Contains(errs, "give --metrics-addr too") || err == nil {
		t.Errorf("--metrics-hold without --metrics-addr: exit %d, want 2 saying so, and no run:\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "serve", "--listen", "127.0.0.1:0", "--metrics-addr", busy.Addr().String())
	if code != 2 || !strings.Contains(errs, "address already in use") {
		t.Errorf("serve with a taken --metrics-addr: exit %d:\n%s", code, errs)
	}
}

// TestMetricsListenWarning: every interface, or an address that is not
// loopback, gets a warning; loopback none.
func TestMetricsListenWarning(t *testing.T) {
	for host, warn := range map[string]bool{"": true, "0.0.0.0": true, "::": true, "192.0.2.1": true, "127.0.0.1": false, "::1": false, "localhost": false} {
		if got := metricsListenWarning(host, "9464"); (got != "") != warn {
			t.Errorf("host %q: warning %q, want one: %v", host, got, warn)
		}
	}
}

// exposedNames are the metric names flashcrowd can expose.
func exposedNames() map[string]bool {
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	descs := append([]*prometheus.Desc(nil), runDescs...)
	ch := make(chan *prometheus.Desc, 32)
	hostCollector{}.Describe(ch)
	close(ch)
	for d := range ch {
		descs = append(descs, d)
	}
	for _, d := range descs {
		if m := re.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

// dashboard is the part of the Grafana dashboard the tests read.
type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Panels        []struct {
		ID      int                      `json:"id"`
		Title   string                   `json:"title"`
		Type    string                   `json:"type"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana/flashcrowd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("deploy/grafana/flashcrowd.json: %v", err)
	}
	return d
}

// dashboardQueries are every PromQL expression of the dashboard (panels,
// annotations, variables), named for messages.
func dashboardQueries(d dashboard) map[string]string {
	q := map[string]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q[fmt.Sprintf("panel %q %s", p.Title, tg.RefID)] = tg.Expr
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			q["annotation "+a.Name] = a.Expr
		}
	}
	for _, v := range d.Templating.List {
		if m := regexp.MustCompile(`^label_values\((.*), *\w+\)$`).FindStringSubmatch(v.Definition); m != nil {
			q["variable "+v.Name] = m[1]
		}
	}
	return q
}

// TestDashboard: the Grafana dashboard is a dashboard (uid, title,
// schema, panels with a place and queries), and every metric its queries
// name is one flashcrowd exposes.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 30 || len(d.Panels) < 8 {
		t.Fatalf("dashboard uid %q title %q schema %d, %d panels", d.UID, d.Title, d.SchemaVersion, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.Type == "" || p.GridPos.W == 0 || p.GridPos.H == 0 || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: duplicate id, or no type, size or query", p.ID, p.Title)
		}
		ids[p.ID] = true
	}
	names := exposedNames()
	if !names["flashcrowd_requests_sent_total"] || !names["flashcrowd_host_busy_workers"] {
		t.Fatalf("exposed names %v: the registry's names were not read", names)
	}
	metric := regexp.MustCompile(`\bflashcrowd_[a-z_]+`)
	seen := 0
	for where, q := range dashboardQueries(d) {
		for _, m := range metric.FindAllString(q, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suf)
			}
			if !names[base] {
				t.Errorf("%s names %s, which flashcrowd does not expose", where, m)
			}
			seen++
		}
	}
	if seen < 15 {
		t.Errorf("only %d metric names in the dashboard's queries", seen)
	}
}

// TestMetricsFinalCounts: a run's /metrics, parsed by Prometheus's own
// parser, ends with the counts of the run's own summary.json, in the text
// and the protobuf format (native histogram included), and stays up for
// the hold until Ctrl-C, which says it ends the hold.
func TestMetricsFinalCounts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd, stderr, done := startRun(t, "--curve", "hold 150/s for 3s", "--plan", "vps", "--out", dir,
		"--metrics-addr", addr, "--metrics-hold", "2m", "--run-id", "final-counts")
	waitFor(t, time.Minute, "the run ends and holds its metrics", func() bool {
		return strings.Contains(stderr.String(), "serving the final counts")
	}, stderr.String)
	sum := readSummaryCounts(t, dir)
	text := scrape(t, addr, false)
	run := map[string]string{"run": "final-counts", "shard": "0"}
	if v := sumOf(text["flashcrowd_run_done"], run); v != 1 {
		t.Fatalf("flashcrowd_run_done %v, want 1", v)
	}
	if v := sumOf(text["flashcrowd_requests_sent_total"], run); v != float64(sum.Requests) || v != 450 {
		t.Errorf("sent %v, summary.json requests %d (want 450)", v, sum.Requests)
	}
	if v := sumOf(text["flashcrowd_requests_scheduled_total"], run); v != 450 {
		t.Errorf("scheduled %v, want 450", v)
	}
	ok := sumOf(text["flashcrowd_requests_completed_total"], map[string]string{"outcome": "ok"})
	bad := sumOf(text["flashcrowd_requests_completed_total"], map[string]string{"outcome": "error"})
	if ok+bad != float64(sum.Requests) || bad != float64(sum.Failed) || sumOf(text["flashcrowd_errors_total"], nil) != bad && bad > 0 {
		t.Errorf("completed ok %v error %v; summary.json requests %d failed %d", ok, bad, sum.Requests, sum.Failed)
	}
	for _, e := range sum.Endpoints {
		if v := sumOf(text["flashcrowd_requests_sent_total"], map[string]string{"endpoint": e.Name}); v != float64(e.Requests) {
			t.Errorf("endpoint %s: sent %v, summary.json %d", e.Name, v, e.Requests)
		}
	}
	if v := sumOf(text["flashcrowd_request_duration_seconds"], nil); v != ok {
		t.Errorf("duration histogram holds %v, %v successes", v, ok)
	}
	if v := sumOf(text["flashcrowd_in_flight"], nil); v != 0 {
		t.Errorf("%v in flight after the run", v)
	}
	var rep struct {
		SLOHeld bool `json:"slo_held"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err != nil || json.Unmarshal(b, &rep) != nil || !rep.SLOHeld {
		t.Errorf("summary.json: %v: the report should hold the SLO at 150/s on vps", err)
	}
	// The live judge has no grace: a second it counts violated is one the
	// report's own windows also found outside the SLO (and forgave, as
	// shorter than the grace). A noisy machine may make such a second; a
	// live judge that disagrees with the report makes one the report has not.
	violated := sumOf(text["flashcrowd_slo_seconds_total"], map[string]string{"state": "violated"})
	if violated > 0 {
		ws, err := report.Open([]string{dir}, time.Second, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		a := report.Analyze(ws, ws.Info.Scenario.SLO)
		var bad []string
		for _, w := range a.Windows {
			if w.State == report.Violated {
				bad = append(bad, fmt.Sprintf("%.2f s: %v", w.Start, w.Why))
			}
		}
		if len(bad) == 0 {
			t.Errorf("live verdict: %v seconds violated, but none of the report's windows was", violated)
		} else {
			t.Logf("live: %v seconds violated; the report's violated windows (within the grace): %v", violated, bad)
		}
	}
	if v := sumOf(text["flashcrowd_slo_held"], run); v != 1 {
		t.Errorf("live verdict: slo_held %v at the end; the report held", v)
	}
	// The protobuf format carries the native histogram beside the
	// classic buckets.
	pb := scrape(t, addr, true)
	mf := pb["flashcrowd_request_duration_seconds"]
	if mf == nil || len(mf.Metric) == 0 {
		t.Fatalf("no duration histogram in the protobuf format")
	}
	h := mf.Metric[0].Histogram
	var native, cur int64
	for _, d := range h.PositiveDelta {
		cur += d
		native += cur
	}
	if h.GetSchema() != nativeSchema || len(h.PositiveSpan) == 0 || uint64(native)+h.GetZeroCount() != h.GetSampleCount() || len(h.Bucket) != len(durationBuckets) {
		t.Errorf("native histogram: schema %d, %d spans, %d in buckets of %d; %d classic buckets",
			h.GetSchema(), len(h.PositiveSpan), native, h.GetSampleCount(), len(h.Bucket))
	}
	// Ctrl-C ends the hold.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if code := exitStatus(err); code != 0 {
			t.Errorf("exit %d after the run and a Ctrl-C in the hold, want 0\n%s", code, stderr.String())
		}
		// The run is over: the signal ends the hold, and says so.
		if s := stderr.String(); !strings.Contains(s, "flashcrowd: ending the metrics hold") || strings.Contains(s, "stopping (keeping every result") {
			t.Errorf("a Ctrl-C in the hold should say it ends the hold, not that it stops the run:\n%s", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after Ctrl-C\n%s", stderr.String())
	}
}

// TestMetricsInterruptedHold: a run stopped by Ctrl-C still serves its
// final counts for the hold: every request it sent, as its results file
// holds them.
func TestMetricsInterruptedHold(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd, stderr, done := startRun(t, "--rate", "100/s", "--duration", "1m", "--plan", "vps", "--out", dir,
		"--metrics-addr", addr, "--metrics-hold", "2m")
	waitFor(t, 30*time.Second, "requests counted on /metrics", func() bool {
		return sumOf(scrape(t, addr, false)["flashcrowd_requests_completed_total"], nil) >= 100
	}, stderr.String)
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, time.Minute, "the interrupted run holds its metrics", func() bool {
		return strings.Contains(stderr.String(), "serving the final counts")
	}, stderr.String)
	text := scrape(t, addr, false)
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	sent := sumOf(text["flashcrowd_requests_sent_total"], nil)
	completed := sumOf(text["flashcrowd_requests_completed_total"], nil)
	if sumOf(text["flashcrowd_run_done"], nil) != 1 || sent != float64(len(rs)) || completed != sent {
		t.Errorf("after Ctrl-C: done %v, sent %v, completed %v; results file %d", sumOf(text["flashcrowd_run_done"], nil), sent, completed, len(rs))
	}
	if sched := sumOf(text["flashcrowd_requests_scheduled_total"], nil); sched < sent || sched >= 6000 {
		t.Errorf("scheduled %v: want what was due when the run stopped (sent %v), not the whole curve", sched, sent)
	}
	// The second Ctrl-C ends the hold; the run's status is still 130.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if code := exitStatus(err); code != exitInterrupted {
			t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after the second Ctrl-C\n%s", stderr.String())
	}
}

// TestMetricsServe: serve --metrics-addr shows the simulated host's pools.
func TestMetricsServe(t *testing.T) {
	port, mport := freePort(t), freePort(t)
	a, _ := json.Marshal([]string{"serve", "--plan", "vps", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", mport)})
	cmd := childCommand(string(a))
	var errb syncBuf
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { errb.WriteString(string(p)); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr := fmt.Sprintf("127.0.0.1:%d", mport)
	waitFor(t, 30*time.Second, "serve listening", func() bool { return strings.Contains(errb.String(), "capacity:") }, errb.String)
	for range 20 {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The host counts a request served after writing its body, so the
	// client may read the 20th response before the count moves.
	var m map[string]*dto.MetricFamily
	waitFor(t, 10*time.Second, "20 served in /metrics", func() bool {
		m = scrape(t, addr, false)
		return sumOf(m["flashcrowd_host_served_total"], nil) >= 20
	}, func() string { return fmt.Sprint(sumOf(m["flashcrowd_host_served_total"], nil), " served") })
	var pools []string
	for _, x := range m["flashcrowd_host_workers"].GetMetric() {
		for _, lp := range x.Label {
			if lp.GetName() == "pool" {
				pools = append(pools, lp.GetValue())
			}
		}
	}
	sort.Strings(pools)
	if len(pools) == 0 || sumOf(m["flashcrowd_host_workers"], nil) <= 0 || sumOf(m["flashcrowd_host_served_total"], nil) < 20 || m["flashcrowd_host_queue_length"] == nil {
		t.Errorf("pools %v, workers %v, served %v", pools, sumOf(m["flashcrowd_host_workers"], nil), sumOf(m["flashcrowd_host_served_total"], nil))
	}
	// The host is idle again: its queues are empty (the length is what
	// waits now), their bounds those of the plan (vps: 128 for the
	// default pool, 512 for static).
	if v := sumOf(m["flashcrowd_host_queue_length"], nil); v != 0 || v != sumOf(m["flashcrowd_host_queued"], nil) {
		t.Errorf("flashcrowd_host_queue_length %v on an idle host, want 0 (flashcrowd_host_queued %v)", v, sumOf(m["flashcrowd_host_queued"], nil))
	}
	if v := sumOf(m["flashcrowd_host_queue_capacity"], nil); v != 128+512 {
		t.Errorf("flashcrowd_host_queue_capacity sums to %v over the pools, want the plan's 128+512", v)
	}
}

// TestMetricsBeforeStart: while a run waits for --start-at, /metrics
// already holds the run's series, at zero (every endpoint's counters, the
// schedule, the offered rate; no phase), so Prometheus's first sample of
// each counter is 0 and the dashboard's $run lists the run. Once it
// sends, flashcrowd_phase_info has one series, the phase now, at 1.
func TestMetricsBeforeStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte(`name: waits
curve:
  - "warm: hold 20/s for 4s"
  - "peak: hold 40/s for 4s"
endpoints:
  - {name: home, path: /, weight: 3}
  - {name: search, path: /search, weight: 1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd, stderr, done := startRun(t, "--scenario", file, "--plan", "vps", "--out", filepath.Join(dir, "run"),
		"--start-at", "+6s", "--metrics-addr", addr, "--metrics-hold", "0", "--run-id", "waits")
	defer cmd.Process.Kill()
	waitFor(t, 30*time.Second, "the run waits for its start", func() bool {
		return strings.Contains(stderr.String(), "waiting ")
	}, stderr.String)
	m := scrape(t, addr, false)
	run := map[string]string{"run": "waits", "shard": "0"}
	for _, ep := range []string{"home", "search"} {
		lv := map[string]string{"run": "waits", "shard": "0", "endpoint": ep}
		for _, name := range []string{"flashcrowd_requests_sent_total", "flashcrowd_requests_completed_total", "flashcrowd_in_flight", "flashcrowd_request_duration_seconds", "flashcrowd_send_lag_seconds"} {
			mf := m[name]
			n := 0
			for _, x := range mf.GetMetric() {
				if hasLabels(x, lv) {
					n++
				}
			}
			if n == 0 || sumOf(mf, lv) != 0 {
				t.Errorf("waiting: %s{endpoint=%q}: %d series summing to %v, want series at 0", name, ep, n, sumOf(mf, lv))
			}
		}
	}
	for _, name := range []string{"flashcrowd_requests_scheduled_total", "flashcrowd_offered_rate", "flashcrowd_run_done", "flashcrowd_slo_seconds_total"} {
		if mf := m[name]; len(mf.GetMetric()) == 0 || sumOf(mf, run) != 0 {
			t.Errorf("waiting: %s: %d series summing to %v, want series at 0", name, len(mf.GetMetric()), sumOf(mf, run))
		}
	}
	if mf := m["flashcrowd_phase_info"]; len(mf.GetMetric()) != 0 {
		t.Errorf("waiting: flashcrowd_phase_info has %d series, want none before the start", len(mf.GetMetric()))
	}
	// Sending: one phase, at 1.
	waitFor(t, 30*time.Second, "requests counted on /metrics", func() bool {
		return sumOf(scrape(t, addr, false)["flashcrowd_requests_completed_total"], nil) >= 10
	}, stderr.String)
	mf := scrape(t, addr, false)["flashcrowd_phase_info"]
	if len(mf.GetMetric()) != 1 || mf.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("sending: flashcrowd_phase_info %v, want one series, the phase now, at 1", mf.GetMetric())
	}
	select {
	case err := <-done:
		if code := exitStatus(err); code != 0 {
			t.Errorf("exit %d\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the run did not end\n%s", stderr.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// childCommand is the test binary re-run as `flashcrowd ARGS` (args: a
// JSON list), as startRun does for run.
func childCommand(args string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunChild$")
	cmd.Env = append(os.Environ(), "FLASHCROWD_RUN_ARGS="+args)
	return cmd
}

// TestMetricsCompare: compare --metrics-addr shows each live entry under
// its own run label, COMPARE/NAME, with that run's counts.
func TestMetricsCompare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cmp")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a, _ := json.Marshal([]string{"compare", "--plan", "vps", "--plan", "cdn", "--curve", "hold 100/s for 2s", "--out", dir,
		"--metrics-addr", addr, "--metrics-hold", "2m", "--quiet"})
	cmd := childCommand(string(a))
	var errb syncBuf
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { errb.WriteString(string(p)); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	waitFor(t, 2*time.Minute, "compare ends and holds its metrics", func() bool {
		return strings.Contains(errb.String(), "serving the final counts")
	}, errb.String)
	m := scrape(t, addr, false)
	for _, plan := range []string{"vps", "cdn"} {
		run := map[string]string{"run": "cmp/" + plan}
		sum := readSummaryCounts(t, filepath.Join(dir, plan))
		if v := sumOf(m["flashcrowd_requests_sent_total"], run); v != float64(sum.Requests) || v != 200 {
			t.Errorf("%s: sent %v, summary.json %d (want 200)", plan, v, sum.Requests)
		}
		if v := sumOf(m["flashcrowd_run_done"], run); v != 1 {
			t.Errorf("%s: run_done %v", plan, v)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if code := exitStatus(err); code != 0 {
			t.Errorf("exit %d after Ctrl-C in the hold\n%s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after Ctrl-C\n%s", errb.String())
	}
}

// BenchmarkMetricsScrape is the generator's cost of one scrape of a run
// of three endpoints (gather and encode, as promhttp does).
func BenchmarkMetricsScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	rc := &runCollector{}
	reg.MustRegister(rc)
	m := meterAfterRun(b)
	rc.add(m)
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			enc.Encode(mf)
		}
	}
}

// meterAfterRun is a Meter after a short real run over loopback against a
// server answering 200 to every request (three endpoints).
func meterAfterRun(b *testing.B) *attack.Meter {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, err := scenarios.ParseCurve("bench", "hold 300/s for 1s", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := &scenarios.Scenario{Name: "bench", Curve: c, Compress: 1, SLO: scenarios.DefaultSLO, Endpoints: []scenarios.Endpoint{
		{Name: "page", URL: "/", Weight: 1}, {Name: "image", URL: "/i", Weight: 8}, {Name: "api", URL: "/a", Weight: 1}}}
	m := &attack.Meter{Run: "bench", Shard: "0"}
	if _, err := attack.Run(context.Background(), context.Background(), attack.Options{Scenario: s, Target: u, Meter: m}, nil); err != nil {
		b.Fatal(err)
	}
	return m
}

// TestMetricsSLOBroken: against a host far past its capacity the live
// verdict breaks, as the report's does; against one well within it, both
// hold (TestMetricsFinalCounts's run is checked here too).
func TestMetricsSLOBroken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The shared plan holds about 160/s of the default mix.
	cmd, stderr, done := startRun(t, "--curve", "hold 600/s for 4s", "--plan", "shared", "--timeout", "2s", "--out", dir,
		"--metrics-addr", addr, "--metrics-hold", "2m", "--run-id", "broken")
	waitFor(t, 2*time.Minute, "the run ends and holds its metrics", func() bool {
		return strings.Contains(stderr.String(), "serving the final counts")
	}, stderr.String)
	m := scrape(t, addr, false)
	var rep struct {
		SLOHeld bool `json:"slo_held"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	violated := sumOf(m["flashcrowd_slo_seconds_total"], map[string]string{"state": "violated"})
	if rep.SLOHeld || violated < 2 || sumOf(m["flashcrowd_slo_held"], nil) != 0 {
		t.Errorf("report held %v; live: %v seconds violated, slo_held %v: want both broken",
			rep.SLOHeld, violated, sumOf(m["flashcrowd_slo_held"], nil))
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after Ctrl-C\n%s", stderr.String())
	}
}

// TestMetricsVisitors: a run whose arrivals are journeys, some of whose
// steps are page views, exports its visitors as they end: the final
// flashcrowd_visits_total and flashcrowd_visits_broken_total, parsed by
// Prometheus's own parser, hold exactly what the run's visits.jsonl does.
func TestMetricsVisitors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, []byte(`name: shop
curve: "hold 200/s for 3s"
endpoints:
  - {name: product page, path: /p/jacket, class: page, assets: [hero×1, photo×4]}
  - {name: hero, path: /img/hero.jpg, class: asset}
  - {name: photo, path: /img/p.jpg, class: asset}
  - {name: checkout, method: POST, path: /api/checkout, class: api}
journeys:
  browse: {weight: 3, steps: [product page]}
  buy: {weight: 1, steps: [product page, checkout]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The real Prometheus server scrapes the run too, when it is installed
	// (CI installs it), so the dashboard's visitor panels are tried on it.
	var prom *promServer
	if _, err := exec.LookPath("prometheus"); err == nil || os.Getenv("PROMETHEUS") != "" || os.Getenv(requirePrometheusEnv) == "1" {
		prom = startPrometheus(t, addr)
	}
	began := time.Now()
	// The shared plan's 2 static workers hold about 800 images a second:
	// at 200 page views a second of 5 images each they turn some away, and
	// page views break.
	cmd, stderr, done := startRun(t, "--scenario", file, "--plan", "shared", "--out", out,
		"--metrics-addr", addr, "--metrics-hold", "2m", "--run-id", "visitors", "--start-at", "+3s")
	waitFor(t, time.Minute, "the run ends and holds its metrics", func() bool {
		return strings.Contains(stderr.String(), "serving the final counts")
	}, stderr.String)
	want := map[[4]string]float64{} // kind, name, outcome or "by:"+by
	f, err := os.Open(filepath.Join(out, scenarios.VisitsFile))
	if err != nil {
		t.Fatal(err)
	}
	err = scenarios.ReadVisits("visits.jsonl", f, func(v *scenarios.Visit) error {
		switch {
		case v.OK:
			want[[4]string{v.Kind, v.Name, "complete"}]++
		case v.Why == scenarios.Interrupted:
			want[[4]string{v.Kind, v.Name, "interrupted"}]++
		default:
			want[[4]string{v.Kind, v.Name, "broken"}]++
			by := v.Broke
			if v.Kind == scenarios.JourneyVisit {
				by = v.FailedAt()
			}
			want[[4]string{v.Kind, v.Name, "by", by}]++
		}
		return nil
	})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	text := scrape(t, addr, false)
	got := map[[4]string]float64{}
	for _, m := range text["flashcrowd_visits_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		if l["run"] != "visitors" || l["shard"] != "0" {
			t.Errorf("visits labelled %v", l)
		}
		if v := m.Counter.GetValue(); v > 0 {
			got[[4]string{l["kind"], l["name"], l["outcome"]}] = v
		}
	}
	for _, m := range text["flashcrowd_visits_broken_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		got[[4]string{l["kind"], l["name"], "by", l["by"]}] = m.Counter.GetValue()
	}
	t.Logf("visits.jsonl: %v", want)
	if want[[4]string{scenarios.PageView, "product page", "complete"}] == 0 || want[[4]string{scenarios.PageView, "product page", "broken"}] == 0 ||
		want[[4]string{scenarios.JourneyVisit, "buy", "complete"}] == 0 {
		t.Fatalf("visits.jsonl lacks complete and broken page views, or buy journeys: %v", want)
	}
	if !maps.Equal(got, want) {
		t.Errorf("metrics %v\nvisits.jsonl %v", got, want)
	}
	if prom != nil {
		// Two more scrapes of the final counts, then every visitor panel
		// of the dashboard has data for the run.
		time.Sleep(2500 * time.Millisecond)
		r := strings.NewReplacer(`"$run"`, `"visitors"`, `"$endpoint"`, `".*"`, "$__rate_interval", "5s", "$__interval", "1s")
		n := 0
		for where, q := range dashboardQueries(readDashboard(t)) {
			if !strings.Contains(q, "flashcrowd_visits") {
				continue
			}
			n++
			res, err := prom.queryRange(r.Replace(q), began, time.Now())
			if err != nil || len(res) == 0 {
				t.Errorf("dashboard %s: %v, %d series: %s", where, err, len(res), r.Replace(q))
			}
		}
		if n < 4 {
			t.Errorf("%d visitor panels in the dashboard", n)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after Ctrl-C\n%s", stderr.String())
	}
}
