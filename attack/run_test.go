package attack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// perSecond counts results by the second of their actual send time.
func perSecond(rs []vegeta.Result, start time.Time) map[int]int {
	out := map[int]int{}
	for _, r := range rs {
		out[int(r.Timestamp.Sub(start)/time.Second)]++
	}
	return out
}

// perSecondMisses lists the whole seconds whose sends miss the curve by
// more than 1% at rates ≥ 1,000/s or by more than one request below.
func perSecondMisses(t *testing.T, c *scenarios.Curve, got map[int]int) []string {
	t.Helper()
	var miss []string
	for s := 0; s < int(c.Seconds()); s++ {
		want := c.N(float64(s+1)) - c.N(float64(s))
		tol := 1.0
		if want >= 1000 {
			tol = want / 100
		}
		if d := float64(got[s]) - want; d > tol+1e-9 || d < -tol-1e-9 {
			miss = append(miss, fmt.Sprintf("second %d: %d sent, curve says %.1f (tolerance ±%.1f)", s, got[s], want, tol))
		} else {
			t.Logf("second %d: %d sent, curve %.1f", s, got[s], want)
		}
	}
	return miss
}

// onSchedule runs attempt up to twice: the per-second counts of real sends
// are a timing check, and a machine shared with other work can hold a
// run's goroutines off the CPU for tens of milliseconds. A run that missed
// the curve and measured (in its own lag figures) that its sends were late
// by more than 10 ms gets one more try; a miss without such lag, or two
// misses, fail. attempt returns the misses and the run's max lag. Under
// the race detector misses are logged, not failed (go test ./... checks
// them without it).
func onSchedule(t *testing.T, attempt func() ([]string, time.Duration)) {
	t.Helper()
	for try := 1; ; try++ {
		miss, lag := attempt()
		if len(miss) == 0 {
			return
		}
		if raceEnabled {
			t.Logf("race detector on: schedule not checked (sends missed the curve with a max send lag of %s: %s)", lag, strings.Join(miss, "; "))
			return
		}
		if try == 1 && lag > 10*time.Millisecond {
			t.Logf("sends missed the curve with a max send lag of %s (a busy machine?), trying again: %s", lag, strings.Join(miss, "; "))
			continue
		}
		for _, m := range miss {
			t.Error(m)
		}
		return
	}
}

// checkLag: the run's own lag figures agree with the lag measured from the
// results file (scheduled time from Seq and run.json, against Timestamp).
func checkLag(t *testing.T, sum *Summary, measured time.Duration) {
	t.Helper()
	if d := sum.Lag.Max - measured; d > time.Millisecond+measured/50 || d < -time.Millisecond-measured/50 {
		t.Errorf("summary says max send lag %s, results file says %s", sum.Lag.Max, measured)
	}
}

// TestRunPerSecondCounts sends a ramp from 5/s to 50/s and then 2,000/s
// to a real loopback server and checks every second's sends against the
// curve, the results file against the schedule, and run.json.
func TestRunPerSecondCounts(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		u := server(t, okHandler)
		c := curve(t, "low: ramp 5/s to 50/s over 2s, high: hold 2000/s for 3s")
		onSchedule(t, func() ([]string, time.Duration) {
			var sunk int
			o := Options{Engine: engine, Scenario: &scenarios.Scenario{Name: "t", Curve: c, Endpoints: pressMix(t)}, Target: u, Timeout: 5 * time.Second,
				Out: filepath.Join(t.TempDir(), "run"), Info: scenarios.RunInfo{Version: "test", Args: []string{"run", "--x"}}}
			sum, err := Run(context.Background(), context.Background(), o, func(*vegeta.Result) { sunk++ })
			if err != nil {
				t.Fatal(err)
			}
			rs := readResults(t, filepath.Join(o.Out, ResultsFile))
			if uint64(len(rs)) != c.Requests() || sum.Sent != c.Requests() || sum.Results != c.Requests() || sum.Planned != c.Requests() || sunk != len(rs) {
				t.Fatalf("curve has %d requests; sent %d, results %d in summary, %d in file, %d sunk", c.Requests(), sum.Sent, sum.Results, len(rs), sunk)
			}
			if sum.OK != sum.Results || sum.Stopped != "" {
				t.Errorf("ok %d of %d, stopped %q", sum.OK, sum.Results, sum.Stopped)
			}

			info, err := scenarios.ReadRunInfo(o.Out)
			if err != nil {
				t.Fatal(err)
			}
			if info.Tool != "flashcrowd" || info.Engine != engine || info.Vegeta != VegetaVersion || info.Results != ResultsFile ||
				info.Version != "test" || len(info.Args) != 2 || info.Shards != 1 || info.End.Before(info.Start) || !info.Start.Equal(sum.Info.Start) {
				t.Errorf("run.json: %+v", info)
			}
			seen := make([]bool, len(rs))
			var lagMax time.Duration
			for _, r := range rs {
				if seen[r.Seq] {
					t.Fatalf("seq %d twice", r.Seq)
				}
				seen[r.Seq] = true
				lag := r.Timestamp.Sub(info.Start) - info.Due(r.Seq)
				lagMax = max(lagMax, lag)
				if lag < -time.Millisecond {
					t.Errorf("seq %d sent %s before its scheduled time", r.Seq, -lag)
				}
				if r.Body != nil || r.Headers != nil || r.BytesIn != 5 {
					t.Errorf("seq %d: body %q, headers %v, bytes in %d: want no body or headers kept, 5 bytes in", r.Seq, r.Body, r.Headers, r.BytesIn)
					break
				}
			}
			checkLag(t, sum, lagMax)
			var buf bytes.Buffer
			sum.WriteText(&buf)
			t.Logf("max send lag %s; summary:\n%s", lagMax, buf.String())
			return perSecondMisses(t, c, perSecond(rs, sum.Info.Start)), lagMax
		})
	})
}

// TestRunShardsUnion runs four shards at once against one server, all
// starting at the same instant, and a single run of the same curve: the
// shards together send every request of the single schedule once, at the
// same scheduled times, with the same endpoint mix, and their per-second
// sends add up to the curve.
func TestRunShardsUnion(t *testing.T) {
	u := server(t, okHandler)
	c := curve(t, "hold 1500/s for 2s")
	sc := func() *scenarios.Scenario {
		return &scenarios.Scenario{Name: "t", Curve: c, Endpoints: pressMix(t)}
	}
	type shardRun struct {
		info *scenarios.RunInfo
		rs   []vegeta.Result
	}
	onSchedule(t, func() ([]string, time.Duration) {
		start := time.Now().Add(300 * time.Millisecond)
		runs := make([]shardRun, 4)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() {
				o := Options{Scenario: sc(), Target: u, Shard: i, Shards: 4, StartAt: start, Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second}
				if _, err := Run(context.Background(), context.Background(), o, nil); err != nil {
					t.Error(err)
					return
				}
				info, err := scenarios.ReadRunInfo(o.Out)
				if err != nil {
					t.Error(err)
					return
				}
				runs[i] = shardRun{info, readResults(t, filepath.Join(o.Out, ResultsFile))}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		_, _, single := run(t, Options{Scenario: sc(), Target: u})
		singleInfo := &scenarios.RunInfo{Scenario: sc(), Shards: 1}

		due := map[time.Duration]int{}
		urls := map[string]int{}
		for _, r := range single {
			due[singleInfo.Due(r.Seq)]++
			urls[r.URL]++
		}
		var union []vegeta.Result
		for i, sr := range runs {
			if sr.info.Shard != i || sr.info.Shards != 4 || !sr.info.Start.Equal(start) {
				t.Errorf("shard %d run.json: shard %d/%d start %s", i, sr.info.Shard, sr.info.Shards, sr.info.Start)
			}
			for _, r := range sr.rs {
				due[sr.info.Due(r.Seq)]--
				urls[r.URL]--
			}
			union = append(union, sr.rs...)
		}
		if len(union) != len(single) || uint64(len(single)) != c.Requests() {
			t.Fatalf("shards sent %d, single run %d, curve %d", len(union), len(single), c.Requests())
		}
		for d, n := range due {
			if n != 0 {
				t.Errorf("scheduled time %s: single run minus shards = %d", d, n)
			}
		}
		for u, n := range urls {
			if n != 0 {
				t.Errorf("endpoint %s: single run minus shards = %d", u, n)
			}
		}
		var lagMax time.Duration
		for _, sr := range runs {
			for _, r := range sr.rs {
				lagMax = max(lagMax, r.Timestamp.Sub(start)-sr.info.Due(r.Seq))
			}
		}
		return perSecondMisses(t, c, perSecond(union, start)), lagMax
	})
}

// faultServer starts a loopback listener whose connections are handled by
// h, and returns its URL.
func faultServer(t *testing.T, h http.HandlerFunc) *url.URL {
	return server(t, h)
}

func hijack(w http.ResponseWriter) net.Conn {
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	return c
}

// TestRunFaults: every kind of fault at the target is counted by kind and
// kept in the results; none crashes the run.
func TestRunFaults(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		refused := func() *url.URL {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse("http://" + ln.Addr().String())
			ln.Close()
			return u
		}
		cases := []struct {
			kind   string
			target func() *url.URL
		}{
			{scenarios.ErrRefused, refused},
			{scenarios.ErrReset, func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) {
					c := hijack(w)
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				})
			}},
			{scenarios.ErrTimeout, func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				})
			}},
			{scenarios.ErrGarbage, func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) {
					c := hijack(w)
					c.Write([]byte("\x16\x03\x01 this is not HTTP\r\n\r\n"))
					c.Close()
				})
			}},
			{"http 503", func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "busy", http.StatusServiceUnavailable)
				})
			}},
			{scenarios.ErrTruncated, func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) {
					c := hijack(w)
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little"))
					c.Close()
				})
			}},
			{scenarios.ErrClosed, func() *url.URL {
				return faultServer(t, func(w http.ResponseWriter, r *http.Request) { hijack(w).Close() })
			}},
		}
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.kind, " ", "_"), func(t *testing.T) {
				t.Parallel()
				sum, _, rs := run(t, Options{Engine: engine, Scenario: scenario(t, "hold 40/s for 1s"), Target: tc.target(), Timeout: 300 * time.Millisecond})
				if uint64(len(rs)) != sum.Sent || sum.Sent != 40 {
					t.Fatalf("sent %d, kept %d, want 40", sum.Sent, len(rs))
				}
				if sum.Errors[tc.kind] != sum.Results || len(sum.Errors) != 1 {
					t.Errorf("errors by kind %v, want all %d %q (first error: %q)", sum.Errors, sum.Results, tc.kind, rs[0].Error)
				}
			})
		}
	})
}

// TestRunAbort: a target that only answers 503 trips "errors > 50% for
// 2s": the run stops early, keeps its results and says why.
func TestRunAbort(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		u := server(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) })
		rule, _ := scenarios.ParseAbortRule("errors > 50% for 2s")
		sum, dir, rs := run(t, Options{Engine: engine, Scenario: scenario(t, "hold 100/s for 30s"), Target: u, Abort: []scenarios.AbortRule{rule}})
		if sum.Aborted == nil || *sum.Aborted != rule || !strings.HasPrefix(sum.Stopped, "aborted: errors > 50% for 2s") {
			t.Fatalf("aborted %v, stopped %q", sum.Aborted, sum.Stopped)
		}
		if sum.Sent >= sum.Planned || sum.Sent < 200 || uint64(len(rs)) != sum.Sent {
			t.Errorf("planned %d, sent %d, kept %d: want stopped after about 3 s with every result kept", sum.Planned, sum.Sent, len(rs))
		}
		info, _ := scenarios.ReadRunInfo(dir)
		if info.Stopped != sum.Stopped {
			t.Errorf("run.json stopped %q", info.Stopped)
		}
		// --no-abort runs the whole curve.
		sum, _, _ = run(t, Options{Engine: engine, Scenario: scenario(t, "hold 100/s for 3s"), Target: u, Abort: []scenarios.AbortRule{rule}, NoAbort: true})
		if sum.Aborted != nil || sum.Sent != sum.Planned {
			t.Errorf("NoAbort: aborted %v, sent %d of %d", sum.Aborted, sum.Sent, sum.Planned)
		}
	})
}

// slowServer answers after d (or when the client goes away).
func slowServer(t *testing.T, d time.Duration) *url.URL {
	return server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			w.Write([]byte("slow"))
		case <-r.Context().Done():
		}
	})
}

// TestRunInterrupt: cancelling stops sending, waits for the requests in
// flight and keeps every one of them.
func TestRunInterrupt(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		u := slowServer(t, 400*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		o := Options{Engine: engine, Scenario: scenario(t, "hold 200/s for 20s"), Target: u, Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second}
		sum, err := Run(ctx, context.Background(), o, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs := readResults(t, filepath.Join(o.Out, ResultsFile))
		if sum.Stopped != "interrupted" || sum.Sent >= sum.Planned || sum.Sent < 150 {
			t.Errorf("stopped %q after %d of %d", sum.Stopped, sum.Sent, sum.Planned)
		}
		if uint64(len(rs)) != sum.Sent || sum.OK != sum.Sent {
			t.Errorf("sent %d, kept %d, ok %d: every request in flight should be waited for and kept", sum.Sent, len(rs), sum.OK)
		}
		info, _ := scenarios.ReadRunInfo(o.Out)
		if info.Stopped != "interrupted" || info.End.IsZero() {
			t.Errorf("run.json: stopped %q end %s", info.Stopped, info.End)
		}
	})
}

// TestRunHardStop: a second cancellation returns without waiting for
// requests in flight (the server would hold them 10 s, the timeout is
// 20 s), and the results file is still valid.
func TestRunHardStop(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		u := slowServer(t, 10*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		hard, hardCancel := context.WithCancel(context.Background())
		time.AfterFunc(500*time.Millisecond, cancel)
		time.AfterFunc(time.Second, hardCancel)
		o := Options{Engine: engine, Scenario: scenario(t, "hold 100/s for 20s"), Target: u, Out: filepath.Join(t.TempDir(), "run"), Timeout: 20 * time.Second}
		sum, err := Run(ctx, hard, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs := readResults(t, filepath.Join(o.Out, ResultsFile))
		if uint64(len(rs)) != sum.Results || sum.Results >= sum.Sent || sum.Stopped != "interrupted" {
			t.Errorf("sent %d, results %d, in file %d, stopped %q: want the in-flight requests abandoned", sum.Sent, sum.Results, len(rs), sum.Stopped)
		}
		if !strings.Contains(strings.Join(sum.Warnings, "\n"), "abandoned") {
			t.Errorf("no warning about abandoned requests: %q", sum.Warnings)
		}
	})
}

// TestRunWorkerCap: with too few workers for a slow target, every request
// is still sent (late), and the run says it fell behind.
func TestRunWorkerCap(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		u := slowServer(t, 200*time.Millisecond)
		var out bytes.Buffer
		sum, dir, rs := run(t, Options{Engine: engine, Scenario: scenario(t, "hold 200/s for 1s"), Target: u, MaxWorkers: 20, Progress: &out})
		if sum.Sent != sum.Planned || uint64(len(rs)) != sum.Planned {
			t.Errorf("sent %d of %d, kept %d: a slow target must not get fewer requests", sum.Sent, sum.Planned, len(rs))
		}
		w := strings.Join(sum.Warnings, "\n")
		if !strings.Contains(w, "worker cap (20)") || !strings.Contains(w, "fell behind schedule") || sum.Lag.P99 < 500*time.Millisecond {
			t.Errorf("lag %+v, warnings:\n%s", sum.Lag, w)
		}
		info, _ := scenarios.ReadRunInfo(dir)
		if len(info.Warnings) != len(sum.Warnings) {
			t.Errorf("run.json warnings %q", info.Warnings)
		}
		if !strings.Contains(out.String(), "WORKER CAP") || !strings.Contains(out.String(), "warning: requests in flight reached the worker cap") {
			t.Errorf("progress does not show the cap:\n%s", out.String())
		}
	})
}

// TestRunBodies: bodies are read to the end and counted but not kept,
// unless MaxBody asks for a prefix.
func TestRunBodies(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		big := bytes.Repeat([]byte("x"), 1<<20)
		u := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
		for _, mb := range []int64{0, 10} {
			_, _, rs := run(t, Options{Engine: engine, Scenario: scenario(t, "hold 20/s for 1s"), Target: u, MaxBody: mb, KeepHeaders: mb > 0})
			for _, r := range rs {
				if int64(len(r.Body)) != mb || r.BytesIn != 1<<20 || (mb > 0) != (r.Headers != nil) {
					t.Fatalf("MaxBody %d: body %d bytes, bytes in %d, headers %v", mb, len(r.Body), r.BytesIn, r.Headers)
				}
			}
		}
	})
}

// TestRunSafety: a target that is not loopback is refused before anything
// is sent or written; a directory that holds a run is not overwritten.
func TestRunSafety(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	u, _ := url.Parse("http://192.0.2.1") // TEST-NET-1: never contacted
	_, err := Run(context.Background(), context.Background(), Options{Scenario: scenario(t, "hold 1/s for 1s"), Target: u, Out: dir}, nil)
	if !errors.Is(err, ErrNotConfirmed) || !strings.Contains(err.Error(), "--confirm 192.0.2.1") {
		t.Errorf("unconfirmed target: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run directory created for a refused run")
	}
	eps := []scenarios.Endpoint{{Name: "cdn", URL: "https://cdn.example/x.jpg", Weight: 1}}
	_, err = Run(context.Background(), context.Background(), Options{Scenario: scenario(t, "hold 1/s for 1s", eps...), Target: server(t, okHandler), Out: dir}, nil)
	if !errors.Is(err, ErrNotConfirmed) || !strings.Contains(err.Error(), "cdn.example") {
		t.Errorf("unconfirmed endpoint host: %v", err)
	}

	u2 := server(t, okHandler)
	_, _, rs := run(t, Options{Scenario: scenario(t, "hold 10/s for 1s"), Target: u2, Out: dir})
	_, err = Run(context.Background(), context.Background(), Options{Scenario: scenario(t, "hold 10/s for 1s"), Target: u2, Out: dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("second run into the same directory: %v", err)
	}
	if again := readResults(t, filepath.Join(dir, ResultsFile)); len(again) != len(rs) {
		t.Errorf("first run's results changed: %d then %d", len(rs), len(again))
	}
}

// TestRunProgress: the plan line first, then progress lines.
func TestRunProgress(t *testing.T) {
	u := server(t, okHandler)
	for _, live := range []bool{false, true} {
		var out bytes.Buffer
		run(t, Options{Scenario: scenario(t, "ramp: ramp 10/s to 100/s over 2s"), Target: u, Progress: &out, Live: live})
		s := out.String()
		if !strings.HasPrefix(s, "sending 110 requests over 2s, peak 100/s, to "+u.String()) {
			t.Errorf("live=%v: plan line: %q", live, firstLine(s))
		}
		if !strings.Contains(s, "] ramp") || !strings.Contains(s, "offered ") || live != strings.Contains(s, "\r\x1b[K") {
			t.Errorf("live=%v: progress:\n%q", live, s)
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// TestRunResultsKept: --results none/sample=N/the budget choose which raw
// results go to the file, run.json says which, and the sink still sees
// every result.
func TestRunResultsKept(t *testing.T) {
	u := server(t, okHandler)
	cases := []struct {
		results string
		budget  int64
		check   func(t *testing.T, rs []vegeta.Result, info *scenarios.RunInfo, sum *Summary)
	}{
		{"sample=10", 0, func(t *testing.T, rs []vegeta.Result, info *scenarios.RunInfo, sum *Summary) {
			if len(rs) != 20 || info.ResultsKept != "1 in 10 (seq a multiple of 10)" {
				t.Errorf("kept %d of 200 (want 20), kept %q", len(rs), info.ResultsKept)
			}
			for _, r := range rs {
				if r.Seq%10 != 0 {
					t.Fatalf("seq %d kept", r.Seq)
				}
			}
		}},
		{"", 3000, func(t *testing.T, rs []vegeta.Result, info *scenarios.RunInfo, sum *Summary) {
			if len(rs) < 10 || len(rs) > 100 || !strings.HasPrefix(info.ResultsKept, "all up to the budget of 3000 bytes, then 1 in 100") {
				t.Errorf("kept %d of 200, kept %q", len(rs), info.ResultsKept)
			}
			if !strings.Contains(strings.Join(sum.Warnings, "\n"), "reached its budget") {
				t.Errorf("no budget warning: %q", sum.Warnings)
			}
		}},
		{"all", 3000, func(t *testing.T, rs []vegeta.Result, info *scenarios.RunInfo, sum *Summary) {
			if len(rs) != 200 || info.ResultsKept != "all" {
				t.Errorf("kept %d of 200, kept %q", len(rs), info.ResultsKept)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.results, func(t *testing.T) {
			var sunk int
			o := Options{Scenario: scenario(t, "hold 200/s for 1s"), Target: u, Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second,
				Results: tc.results, ResultsBudget: tc.budget}
			sum, err := Run(context.Background(), context.Background(), o, func(*vegeta.Result) { sunk++ })
			if err != nil {
				t.Fatal(err)
			}
			if sunk != 200 || sum.Results != 200 {
				t.Fatalf("sink saw %d, summary %d: want every result", sunk, sum.Results)
			}
			info, err := scenarios.ReadRunInfo(o.Out)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, readResults(t, filepath.Join(o.Out, ResultsFile)), info, sum)
		})
	}
	o := Options{Scenario: scenario(t, "hold 20/s for 1s"), Target: u, Out: filepath.Join(t.TempDir(), "run"), Results: "none"}
	if _, err := Run(context.Background(), context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	info, err := scenarios.ReadRunInfo(o.Out)
	if _, serr := os.Stat(filepath.Join(o.Out, ResultsFile)); err != nil || !os.IsNotExist(serr) || info.Results != "" || info.ResultsKept != "none" {
		t.Errorf("none: run.json %v %+v, results file %v", err, info, serr)
	}
	o.Results = "sample=0"
	if _, err := Run(context.Background(), context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "sample=N") {
		t.Errorf("sample=0: %v", err)
	}
}

// TestRunOpenModel: the fast engine keeps the open model: a target that
// answers in 300 ms at 400/s needs about 120 requests in flight, more than
// the connections it starts with, and gets them: every request is sent,
// and sends are on time once the pool has grown.
func TestRunOpenModel(t *testing.T) {
	u := slowServer(t, 300*time.Millisecond)
	// A pool that does not grow leaves most of the last second's 400 sends
	// late, in every run. A shared 2-core machine can starve one run's
	// schedule too (a whole run lagging 12 ms at the median was seen in
	// CI), so the lateness check is given three runs: a pool that does not
	// grow fails all three.
	for attempt := 1; attempt <= 3; attempt++ {
		sum, dir, rs := run(t, Options{Engine: EngineFast, Scenario: scenario(t, "hold 400/s for 3s"), Target: u})
		if sum.Sent != sum.Planned || sum.OK != sum.Planned || uint64(len(rs)) != sum.Planned {
			t.Fatalf("planned %d, sent %d, ok %d, kept %d", sum.Planned, sum.Sent, sum.OK, len(rs))
		}
		if sum.PeakConns < 100 || sum.PeakInFlight < 100 {
			t.Fatalf("peak connections %d, in flight %d: want ≥ 100 (400/s × 300 ms)", sum.PeakConns, sum.PeakInFlight)
		}
		info, _ := scenarios.ReadRunInfo(dir)
		var late int
		for _, r := range rs {
			if r.Timestamp.Sub(info.Start) > 2*time.Second && r.Timestamp.Sub(info.Start)-info.Due(r.Seq) > 20*time.Millisecond {
				late++
			}
		}
		t.Logf("attempt %d: peak connections %d, %d late sends in the last second, lag %+v", attempt, sum.PeakConns, late, sum.Lag)
		switch {
		case late > 0 && raceEnabled:
			t.Logf("race detector on: %d sends in the last second more than 20 ms late (not checked)", late)
			return
		case late <= 2:
			return
		case attempt == 3:
			t.Errorf("%d sends in the last second more than 20 ms late, in three runs: the pool did not grow with the target", late)
		}
	}
}
