package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// requirePrometheusEnv makes a missing prometheus binary a failure (.ci/run
// sets it, having installed Debian's prometheus package).
const requirePrometheusEnv = "FLASHCROWD_REQUIRE_PROMETHEUS"

// prometheusBinary finds the Prometheus server: $PROMETHEUS, else
// prometheus on PATH. Without one the test is skipped, or fails when
// FLASHCROWD_REQUIRE_PROMETHEUS=1.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMETHEUS"); p != "" {
		return p
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		msg := "the Prometheus server is not installed (apt-get install prometheus, or set PROMETHEUS=/path/to/prometheus)"
		if os.Getenv(requirePrometheusEnv) == "1" {
			t.Fatalf("%s, and %s=1", msg, requirePrometheusEnv)
		}
		t.Skipf("%s; %s=1 makes this a failure", msg, requirePrometheusEnv)
	}
	return p
}

// promServer is a Prometheus server started by a test.
type promServer struct {
	t    *testing.T
	base string // http://127.0.0.1:PORT
}

// startPrometheus starts Prometheus on a loopback port with a temporary
// data directory, scraping target every second, with extra flags. It is
// stopped by its PID and its data directory removed when the test ends.
func startPrometheus(t *testing.T, target string, extra ...string) *promServer {
	t.Helper()
	bin := prometheusBinary(t)
	dir, err := os.MkdirTemp("", "flashcrowd-prometheus-")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: flashcrowd
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['%s']
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=1h",
		"--web.listen-address="+addr,
	)
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "prometheus.log")); err == nil {
				t.Logf("prometheus log (last 3000 bytes):\n%s", tail(string(b), 3000))
			}
		}
		os.RemoveAll(dir)
	})
	p := &promServer{t: t, base: "http://" + addr}
	waitFor(t, time.Minute, "Prometheus ready", func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true // reported below
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string { b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log")); return tail(string(b), 3000) })
	select {
	case err := <-exited:
		b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
		t.Fatalf("prometheus exited: %v\n%s", err, tail(string(b), 3000))
	default:
	}
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// promSample is one series of a query's answer.
type promSample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query at at (zero: now) through /api/v1/query and
// returns the vector, or the API's error.
func (p *promServer) query(q string, at time.Time) ([]promSample, error) {
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64))
	}
	return p.get("/api/v1/query?" + v.Encode())
}

// queryRange runs a range query from start to end at step 1 s.
func (p *promServer) queryRange(q string, start, end time.Time) ([]promSample, error) {
	v := url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix()+1, 10)}, "step": {"1"}}
	return p.get("/api/v1/query_range?" + v.Encode())
}

func (p *promServer) get(path string) ([]promSample, error) {
	resp, err := http.Get(p.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: decoding the answer: %w", path, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s: %s", path, body.Error)
	}
	var out []promSample
	for _, r := range body.Data.Result {
		pair := r.Value
		if len(r.Values) > 0 {
			pair = r.Values[len(r.Values)-1]
		}
		s := promSample{Metric: r.Metric, Value: math.NaN()}
		if len(pair) == 2 {
			if str, ok := pair[1].(string); ok {
				s.Value, _ = strconv.ParseFloat(str, 64)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// scalar is a query's single value; it fails the test unless there is
// exactly one series.
func (p *promServer) scalar(q string, at time.Time) float64 {
	p.t.Helper()
	r, err := p.query(q, at)
	if err != nil {
		p.t.Fatalf("query %s: %v", q, err)
	}
	if len(r) != 1 {
		p.t.Fatalf("query %s: %d series, want 1: %v", q, len(r), r)
	}
	return r[0].Value
}

// TestPrometheusScrapesRun: the real Prometheus server scrapes a real run
// every second; after the run its own HTTP API gives the run's own
// summary.json counts exactly, the sending rate within 2% of the offered
// rate, and a p99 within the buckets' factor of 2 of the report's; and
// every query of the Grafana dashboard runs on it.
func TestPrometheusScrapesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server and a 14 s run (not in -short; go test ./... runs it)")
	}
	maddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prom := startPrometheus(t, maddr)
	// A second server with native histograms on reads the exponential
	// buckets (it then keeps no classic ones: Prometheus 2.42).
	native := startPrometheus(t, maddr, "--enable-feature=native-histograms")

	dir := filepath.Join(t.TempDir(), "run")
	const rate, secs = 300, 10
	cmd, stderr, done := startRun(t, "--curve", fmt.Sprintf("hold %d/s for %ds", rate, secs), "--plan", "cdn", "--out", dir,
		"--metrics-addr", maddr, "--metrics-hold", "2m", "--run-id", "prom-test",
		// /metrics is up while the run waits for its start: Prometheus
		// scrapes from the first second on.
		"--start-at", "+4s")
	waitFor(t, 2*time.Minute, "the run ends and holds its metrics", func() bool {
		return strings.Contains(stderr.String(), "serving the final counts")
	}, stderr.String)
	// Prometheus has the final counts once it has scraped run_done = 1.
	sel := `{run="prom-test"}`
	waitFor(t, time.Minute, "Prometheus scrapes the final counts", func() bool {
		r, err := prom.query("flashcrowd_run_done"+sel, time.Time{})
		return err == nil && len(r) == 1 && r[0].Value == 1
	}, stderr.String)
	sum := readSummaryCounts(t, dir)
	info, err := scenarios.ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Counts: exact.
	if v := prom.scalar("sum(flashcrowd_requests_sent_total"+sel+")", time.Time{}); v != float64(sum.Requests) || v != rate*secs {
		t.Errorf("Prometheus: %v requests sent; summary.json: %d (curve: %d)", v, sum.Requests, rate*secs)
	}
	if v := prom.scalar(`sum(flashcrowd_requests_completed_total{run="prom-test",outcome="error"})`, time.Time{}); v != float64(sum.Failed) {
		t.Errorf("Prometheus: %v failed; summary.json: %d", v, sum.Failed)
	}
	if v := prom.scalar("sum(flashcrowd_requests_scheduled_total"+sel+")", time.Time{}); v != rate*secs {
		t.Errorf("Prometheus: %v scheduled, want %d", v, rate*secs)
	}
	for _, e := range sum.Endpoints {
		q := fmt.Sprintf(`sum(flashcrowd_requests_sent_total{run="prom-test",endpoint=%q})`, e.Name)
		if v := prom.scalar(q, time.Time{}); v != float64(e.Requests) {
			t.Errorf("Prometheus: endpoint %s: %v sent; summary.json: %d", e.Name, v, e.Requests)
		}
	}

	// The rate of sends over the stretch [start+4s, start+9s] is the
	// offered rate.
	at := info.Start.Add(9 * time.Second)
	sent := prom.scalar("sum(rate(flashcrowd_requests_sent_total"+sel+"[5s]))", at)
	offered := prom.scalar("avg_over_time(flashcrowd_offered_rate"+sel+"[5s])", at)
	if math.Abs(sent-offered) > 0.02*offered || math.Abs(offered-rate) > 1e-9 {
		t.Errorf("Prometheus: rate(sent) %.1f/s, offered %.1f/s over [4 s, 9 s] (curve %d/s): want within 2%%", sent, offered, rate)
	}

	// Latency: the buckets' p99 within a factor of 2 of the report's.
	if len(sum.Endpoints) != 1 {
		t.Fatalf("summary.json: %d endpoints, want the default one", len(sum.Endpoints))
	}
	p99 := prom.scalar("histogram_quantile(0.99, sum by (le) (flashcrowd_request_duration_seconds_bucket"+sel+"))", time.Time{}) * 1000
	if rep := sum.Endpoints[0].P99; !(p99 >= rep/2 && p99 <= rep*2) {
		t.Errorf("Prometheus: p99 %.2f ms; report %.2f ms: want within a factor of 2", p99, rep)
	}
	t.Logf("Prometheus: %d sent, rate %.1f/s (offered %.1f/s), p99 %.2f ms (report %.2f ms)", sum.Requests, sent, offered, p99, sum.Endpoints[0].P99)

	// The native histogram: every success, and a p99 within its 9%
	// buckets (and the hist's own 3%) of the report's.
	waitFor(t, time.Minute, "the native-histogram Prometheus scrapes the final counts", func() bool {
		r, err := native.query("flashcrowd_run_done"+sel, time.Time{})
		return err == nil && len(r) == 1 && r[0].Value == 1
	}, stderr.String)
	okCount := prom.scalar(`sum(flashcrowd_requests_completed_total{run="prom-test",outcome="ok"})`, time.Time{})
	if v := native.scalar("histogram_count(sum(flashcrowd_request_duration_seconds"+sel+"))", time.Time{}); v != okCount {
		t.Errorf("native histogram: %v observations, %v successes", v, okCount)
	}
	np99 := native.scalar("histogram_quantile(0.99, sum(flashcrowd_request_duration_seconds"+sel+"))", time.Time{}) * 1000
	if rep := sum.Endpoints[0].P99; !(np99 >= rep/1.15 && np99 <= rep*1.15) {
		t.Errorf("native histogram: p99 %.2f ms; report %.2f ms: want within 15%%", np99, rep)
	}
	t.Logf("native histogram: p99 %.2f ms", np99)

	// Every query of the dashboard runs; the main panels have data.
	d := readDashboard(t)
	r := strings.NewReplacer(`"$run"`, `"prom-test"`, `"$endpoint"`, `".*"`, "$__rate_interval", "5s", "$__interval", "1s")
	end := time.Now()
	for where, q := range dashboardQueries(d) {
		res, err := prom.queryRange(r.Replace(q), info.Start, end)
		if err != nil {
			t.Errorf("dashboard %s: %v", where, err)
			continue
		}
		// (This run's arrivals are requests: the visitors' panels have no
		// data here; TestMetricsVisitors checks their metrics and labels.)
		if !strings.Contains(q, "flashcrowd_host_") && !strings.Contains(q, "== 0") && !strings.Contains(q, "errors_total") && !strings.Contains(q, "flashcrowd_visits") && len(res) == 0 {
			t.Errorf("dashboard %s: no data for the run: %s", where, r.Replace(q))
		}
	}

	// Ctrl-C ends the hold.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if code := exitStatus(err); code != 0 {
			t.Errorf("exit %d, want 0\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still holding 30 s after Ctrl-C\n%s", stderr.String())
	}
}
