package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func analyzeSim(t *testing.T, h *simHost, curve string, seed uint64) (*Analysis, *scenarios.RunInfo) {
	t.Helper()
	info := testScenario(t, curve)
	f := NewFolder(info, time.Second)
	h.simulate(info, seed, f.Add)
	return Analyze(f.Windows(), info.Scenario.SLO), info
}

// The capacity band must contain the host's true capacity, whichever way
// the curve reaches it, and the first endpoint to fail must be the one
// whose pool the plan starves.
func TestCapacityBandContainsTrueCapacity(t *testing.T) {
	curves := []string{
		spikeCurve,
		"slow: ramp 10/s to 400/s over 3m",
		"steep: ramp 50/s to 1000/s over 30s, hold 1000/s for 10s",
		"quiet: hold 20/s for 10s, climb: exp 20/s to 600/s over 1m, fall: decay 600/s half-life 10s for 1m",
		"stairs: step 100/s to 400/s by +50/s every 15s",
	}
	hosts := map[string]struct {
		h     *simHost
		first string
	}{
		"images starved": {starvedHost(), "images"},
		"pages starved": {&simHost{
			classes: map[scenarios.Class]simClass{
				scenarios.Page:  {workers: 1, service: 40 * time.Millisecond, jitter: 0.5, queue: 20},
				scenarios.Asset: {workers: 64, service: 10 * time.Millisecond, jitter: 0.5, queue: 500},
				scenarios.API:   {workers: 8, service: 30 * time.Millisecond, jitter: 0.5, queue: 50},
			},
			hostTimeout: 2 * time.Second, clientTO: 4 * time.Second,
		}, "home"},
		"slow queue, timeouts": {&simHost{
			classes: map[scenarios.Class]simClass{
				scenarios.Page:  {workers: 16, service: 30 * time.Millisecond, jitter: 0.3, queue: 5000},
				scenarios.Asset: {workers: 6, service: 25 * time.Millisecond, jitter: 0.3, queue: 5000},
				scenarios.API:   {workers: 8, service: 30 * time.Millisecond, jitter: 0.3, queue: 5000},
			},
			hostTimeout: 20 * time.Second, clientTO: 3 * time.Second,
		}, "images"},
	}
	checked := 0
	for name, hc := range hosts {
		for _, c := range curves {
			for seed := uint64(1); seed <= 2; seed++ {
				a, info := analyzeSim(t, hc.h, c, seed)
				truth := hc.h.capacity(info.Scenario.Endpoints)
				if info.Scenario.Curve.Peak() <= truth*1.1 {
					continue // this curve does not reach the capacity
				}
				checked++
				if !a.Broke {
					t.Errorf("%s, %q: peak %.0f > capacity %.0f but the analysis says it held: %s", name, c, info.Scenario.Curve.Peak(), truth, a.Verdict)
					continue
				}
				if a.CapacityLo > truth || a.CapacityHi < truth {
					t.Errorf("%s, %q, seed %d: capacity band [%.1f, %.1f] misses the true capacity %.1f\n%s", name, c, seed, a.CapacityLo, a.CapacityHi, truth, a.Verdict)
				}
				if a.CapacityHi > truth*1.35 || a.CapacityLo < truth*0.7 {
					t.Errorf("%s, %q: capacity band [%.1f, %.1f] is too wide around %.1f to be useful", name, c, a.CapacityLo, a.CapacityHi, truth)
				}
				if a.First == nil || a.First.Name != hc.first {
					got := "none"
					if a.First != nil {
						got = a.First.Name
					}
					t.Errorf("%s, %q: first failing endpoint %s, want %s", name, c, got, hc.first)
				}
				if !strings.Contains(a.Verdict, "broke") || !strings.Contains(a.Verdict, hc.first+" failed first") {
					t.Errorf("%s, %q: verdict does not say it broke and what failed first: %s", name, c, a.Verdict)
				}
			}
		}
	}
	if checked < 24 {
		t.Errorf("only %d host × curve × seed runs reached the capacity", checked)
	}
	t.Logf("%d runs checked", checked)
}

func ampleHost() *simHost {
	return &simHost{
		classes: map[scenarios.Class]simClass{
			scenarios.Page:  {workers: 64, service: 20 * time.Millisecond, jitter: 0.3, queue: 500},
			scenarios.Asset: {workers: 64, service: 10 * time.Millisecond, jitter: 0.3, queue: 500},
			scenarios.API:   {workers: 16, service: 30 * time.Millisecond, jitter: 0.3, queue: 500},
		},
		hostTimeout: 3 * time.Second, clientTO: 5 * time.Second,
	}
}

func TestHeldVerdict(t *testing.T) {
	a, _ := analyzeSim(t, ampleHost(), spikeCurve, 1)
	if a.Broke || !a.SLOHeld() {
		t.Fatalf("an ample host broke: %s", a.Verdict)
	}
	if !strings.Contains(a.Verdict, "held the SLO through the whole curve: peak 400 req/s, p99 ≤ ") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	s := a.Summary()
	if !s.SLOHeld || s.BreakAtS != nil || s.CapacityBand[1] != nil || s.RecoveryS != nil || s.FirstFailingEndpoint != nil {
		t.Errorf("summary of a held run: %+v", s)
	}
	if math.Abs(s.CapacityRPS-400) > 5 {
		t.Errorf("capacity of a held run = %v, want the peak offered, 400", s.CapacityRPS)
	}
}

// A generator that falls behind must be blamed, not the host.
func TestGeneratorBlamed(t *testing.T) {
	h := ampleHost()
	h.genLagFrom, h.genLagBy = 60*time.Second, 2*time.Second
	a, _ := analyzeSim(t, h, spikeCurve, 1)
	if !a.GenBlamed || a.GenBehindAt < 0 {
		t.Fatalf("generator lag not noticed: %s", a.Verdict)
	}
	if !strings.HasPrefix(a.Verdict, "The generator fell behind its schedule") || strings.Contains(a.Verdict, "plan broke") {
		t.Errorf("verdict should blame the generator: %s", a.Verdict)
	}
	if math.Abs(a.GenBehindAt-60) > 1.5 {
		t.Errorf("generator behind from %v s, want about 60", a.GenBehindAt)
	}

	// Sends dropped (half the schedule never sent): the shortfall is the
	// generator's, so no window counts against the host.
	h = ampleHost()
	h.genDropFrom = 40 * time.Second
	a, _ = analyzeSim(t, h, spikeCurve, 1)
	if a.Broke || !a.GenBlamed || a.Unsent < 1000 {
		t.Errorf("dropped sends: broke=%v blamed=%v unsent=%v: %s", a.Broke, a.GenBlamed, a.Unsent, a.Verdict)
	}
	for _, j := range a.Windows {
		if j.State == Violated {
			t.Fatalf("window at %v s blamed on the host: %v", j.Start, j.Why)
		}
	}
}

// A violation shorter than the grace period is forgiven; with no grace it
// is a break.
func TestGrace(t *testing.T) {
	// 3 s at twice the images capacity, then back under it.
	curve := "base: hold 100/s for 20s, blip: hold 500/s for 3s, after: hold 100/s for 20s"
	h := starvedHost()
	info := testScenario(t, curve)
	f := NewFolder(info, time.Second)
	h.simulate(info, 1, f.Add)
	ws := f.Windows()
	slo := scenarios.DefaultSLO
	// The blip fails some 11% of all requests: however short, that is
	// not a run that held (the share gate).
	a := Analyze(ws, slo)
	if !a.Broke || a.Gate != GateShare || math.Abs(a.BreakAt-20) > 1 || !strings.Contains(a.Verdict, "though no failing stretch outlasted the 5 s grace") {
		t.Errorf("a 3 s blip failing 11%% of all requests, 5 s grace: gate %q: %s", a.Gate, a.Verdict)
	}
	// With an error limit above the run's share, the grace forgives it.
	slo.MaxErrorRatio = 0.2
	a = Analyze(ws, slo)
	if a.Broke {
		t.Errorf("a 3 s blip broke a 5 s grace: %s", a.Verdict)
	}
	var bad int
	for _, j := range a.Windows {
		if j.State == Violated {
			bad++
		}
	}
	if bad == 0 {
		t.Fatalf("the blip violated no window")
	}
	slo.Grace = 0
	a = Analyze(ws, slo)
	if !a.Broke || a.Gate != GateStretch || math.Abs(a.BreakAt-20) > 1 {
		t.Errorf("with no grace the blip should break at 20 s: %s", a.Verdict)
	}
}

// Recovery is measured from the rate falling under capacity to the SLO
// holding again: here a backlog built over 20 s drains for about 9 s.
func TestRecovery(t *testing.T) {
	h := &simHost{
		classes: map[scenarios.Class]simClass{
			scenarios.Page:  {workers: 64, service: 20 * time.Millisecond, queue: 5000},
			scenarios.Asset: {workers: 4, service: 20 * time.Millisecond, queue: 5000}, // 200/s
			scenarios.API:   {workers: 64, service: 20 * time.Millisecond, queue: 5000},
		},
		hostTimeout: 30 * time.Second, clientTO: 30 * time.Second,
	}
	curve := "before: hold 150/s for 20s, over: hold 300/s for 20s, after: hold 100/s for 1m"
	a, info := analyzeSim(t, h, curve, 1)
	// Images get 8/9.2 of the mix: 261/s against 200/s for 20 s leaves a
	// backlog of ~1,220; at 100/s (87/s of images) it drains at 113/s, and
	// p99 is under 1 s once fewer than 200 wait: (1220-200)/113 ≈ 9 s.
	share := 8 / 9.2
	backlog := (300*share - 200) * 20
	want := (backlog - 200) / (200 - 100*share)
	if !a.Broke {
		t.Fatalf("did not break: %s", a.Verdict)
	}
	if a.FellBelowAt != 40 {
		t.Errorf("fell below capacity at %v s, want 40 (%s)", a.FellBelowAt, a.Verdict)
	}
	if a.Recovery < 0 || math.Abs(a.Recovery-want) > 2 {
		t.Errorf("recovery %v s, want about %.1f s: %s", a.Recovery, want, a.Verdict)
	}
	if !strings.Contains(a.Verdict, "it recovered") || !strings.Contains(a.Verdict, `at the start of the "over" phase at 300 req/s`) {
		t.Errorf("verdict: %s", a.Verdict)
	}
	_ = info
}

// A host that is down from the start fails from the start and never
// recovers.
func TestDeadHost(t *testing.T) {
	info := testScenario(t, "hold 50/s for 20s")
	f := NewFolder(info, time.Second)
	h := starvedHost()
	h.simulate(info, 1, func(r *vegeta.Result) {
		r.Code, r.Latency, r.BytesIn = 0, 300*time.Microsecond, 0
		r.Error = `Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused`
		f.Add(r)
	})
	a := Analyze(f.Windows(), info.Scenario.SLO)
	if a.Kind != KindUnreachable || a.SLOHeld() || a.DownAt != 0 || a.Capacity != 0 {
		t.Fatalf("dead host: kind %s, down at %v: %s", a.Kind, a.DownAt, a.Verdict)
	}
	if !strings.HasPrefix(a.Verdict, "Nothing answered at 127.0.0.1:8080 (connection refused) from the start of the run: is the server running?") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	if got := a.ErrorCounts()["refused"]; got != a.Total.Requests {
		t.Errorf("refused %d of %d", got, a.Total.Requests)
	}
	// Not a capacity result: summary.json and the facts give no band,
	// break or recovery.
	s := a.Summary()
	if s.CapacityBand[0] != nil || s.CapacityBand[1] != nil || s.BreakAtS != nil || s.BreakOfferedRPS != nil || s.Gate != "" || s.Scaled || s.RecoveryS != nil {
		t.Errorf("summary of an unreachable host: band %v, break %v at %v, gate %q, scaled %v", s.CapacityBand, s.BreakAtS, s.BreakOfferedRPS, s.Gate, s.Scaled)
	}
	if facts := fmt.Sprint(a.Facts()); !strings.Contains(facts, "[capacity not measured: nothing answered]") || strings.Contains(facts, "[break") {
		t.Errorf("facts of an unreachable host: %s", facts)
	}
}

// A run stopped early (Ctrl-C, an abort) that held says it held until it
// stopped, not "through the whole curve".
func TestHeldUntilStopped(t *testing.T) {
	info := testScenario(t, spikeCurve)
	info.Stopped = "interrupted"
	info.End = info.Start.Add(90 * time.Second)
	f := NewFolder(info, time.Second)
	ampleHost().simulate(info, 1, func(r *vegeta.Result) {
		if r.Timestamp.Before(info.End) {
			f.Add(r)
		}
	})
	a := Analyze(f.Windows(), info.Scenario.SLO)
	if a.Broke || a.SLOHeld() || a.Kind != KindIncomplete || strings.Contains(a.Verdict, "whole curve") ||
		!strings.HasPrefix(a.Verdict, "Incomplete: the run stopped early (interrupted) 1 m 30 s into the 2 m 40 s curve, so it does not show") {
		t.Errorf("kind %s: %s", a.Kind, a.Verdict)
	}
}

// fold folds results made by gen (index, due time) for info's curve into
// windows of width and analyses them.
func foldGen(t *testing.T, info *scenarios.RunInfo, width time.Duration, gen func(i uint64, at time.Duration, r *vegeta.Result) bool) *Analysis {
	t.Helper()
	f := NewFolder(info, width)
	c := info.Scenario.Curve
	mix := scenarios.NewMix(info.Scenario.Endpoints)
	var r vegeta.Result
	for i := uint64(0); i < c.Requests(); i++ {
		e := info.Scenario.Endpoints[mix.Next()]
		at := time.Duration(c.Inv(float64(i)) * 1e9)
		r = vegeta.Result{Seq: i, Code: 200, Method: e.Method, URL: "http://127.0.0.1:8080" + e.URL, Latency: 10 * time.Millisecond}
		if !gen(i, at, &r) {
			continue
		}
		r.Timestamp = info.Start.Add(at)
		f.Add(&r)
	}
	return Analyze(f.Windows(), info.Scenario.SLO)
}

// In a window of a few requests the p99 is its slowest request: one slow
// request there is forgiven, two are not.
func TestP99OfSparseWindows(t *testing.T) {
	for _, slow := range []int{1, 2} {
		info := testScenario(t, "hold 24/s for 30s")
		a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
			if int(i%24) < slow {
				r.Latency = 3 * time.Second
			}
			return true
		})
		if broke := slow > 1; a.Broke != broke {
			t.Errorf("%d slow request(s) of 24 in every window: broke %v, want %v: %s", slow, a.Broke, broke, a.Verdict)
		}
	}
}

// A run that fails from its second second to its end (5 s, the grace 5 s)
// broke: the failing stretch was cut short by the end, not recovered.
func TestShortRunFailingToTheEnd(t *testing.T) {
	info := testScenario(t, "hold 200/s for 5s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= time.Second && i%2 == 0 {
			r.Code, r.Error = 503, "503 Service Unavailable"
		}
		return true
	})
	if !a.Broke || a.BreakAt != 1 {
		t.Errorf("failing from 1 s to the end of a 5 s run: broke %v at %v: %s", a.Broke, a.BreakAt, a.Verdict)
	}
	// A lighter failure (10%, 0.3% of the run) in the last 2 s of a 60 s
	// run is within the grace.
	info = testScenario(t, "hold 200/s for 60s")
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 58*time.Second && i%10 == 0 {
			r.Code, r.Error = 503, "503 Service Unavailable"
		}
		return true
	})
	if a.Broke {
		t.Errorf("failing in the last 2 s of 60 s, grace 5 s: %s", a.Verdict)
	}
}

// A simulation's windows are judged against what arrived: a Poisson window
// with no arrivals is not a throughput failure.
func TestSimulatedPoissonWindows(t *testing.T) {
	info := testScenario(t, "hold 0.3/s for 10m")
	info.Simulated = true
	a := foldGen(t, info, 10*time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		return at < 100*time.Second || at > 130*time.Second // an empty stretch, as Poisson arrivals leave
	})
	if a.Broke {
		t.Errorf("a simulated run with an empty window broke: %s", a.Verdict)
	}
}

// A lone request in a window is no p99: a slow one there is judged by the
// error limit (a timeout is an error), not as the window's p99.
func TestLoneSlowRequests(t *testing.T) {
	info := testScenario(t, "hold 0.5/s for 2m")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		r.Latency = 2 * time.Second
		return true
	})
	if a.Broke {
		t.Errorf("one 2 s request every 2 s: %s", a.Verdict)
	}
}

// The peak p99 is a window's while the curve offered load: two stragglers
// sent after its end (a journey's last steps) do not make the verdict's
// "p99 peaked at", which the latency plot would not show.
func TestPeakP99LeavesOutStragglersAfterTheCurve(t *testing.T) {
	info := testScenario(t, "hold 50/s for 10s")
	f := NewFolder(info, time.Second)
	c := info.Scenario.Curve
	for i := uint64(0); i < c.Requests(); i++ {
		at := time.Duration(c.Inv(float64(i)) * 1e9)
		f.Add(&vegeta.Result{Seq: i, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: time.Duration(10+i%20) * time.Millisecond, Timestamp: info.Start.Add(at)})
	}
	for k := range uint64(2) {
		f.Add(&vegeta.Result{Seq: c.Requests() + k, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 600 * time.Millisecond,
			Timestamp: info.Start.Add(11*time.Second + time.Duration(k)*100*time.Millisecond)})
	}
	a := Analyze(f.Windows(), info.Scenario.SLO)
	if a.PeakP99 >= 100*time.Millisecond || a.PeakP99At >= 10 || strings.Contains(a.Verdict, "600 ms") {
		t.Errorf("peak p99 %s at %.0f s (the stragglers' 600 ms after the curve's end): %s", a.PeakP99, a.PeakP99At, a.Verdict)
	}
	if a.PeakP99 < 20*time.Millisecond {
		t.Errorf("peak p99 %s: want the curve's windows' (about 29 ms)", a.PeakP99)
	}
}

// A host that answers every request with a failure (a site in maintenance
// mode: all 503; or one that resets every connection) broke from the
// start, below the rate offered; it did not "scale up to 0 req/s", and the
// verdict says no request succeeded rather than "p99 peaked at 0 ms".
func TestEveryRequestFails(t *testing.T) {
	for _, c := range []struct {
		name, says string
		fail       func(r *vegeta.Result)
	}{
		{"503", "not one request succeeded (all 500 failed: http 503)", func(r *vegeta.Result) { r.Code = 503 }},
		{"reset", "not one request succeeded (all 500 failed: reset)", func(r *vegeta.Result) {
			r.Code, r.Error = 0, "read tcp 127.0.0.1:1->127.0.0.1:8080: read: connection reset by peer"
		}},
	} {
		info := testScenario(t, "hold 100/s for 5s")
		a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
			r.Latency = time.Millisecond
			c.fail(r)
			return true
		})
		if !a.Broke || a.Kind != KindBroke || a.Scaled || a.Capacity != 0 || a.CapacityHi != 100 || a.Served != 0 {
			t.Errorf("%s: kind %s, scaled %v, band %v–%v, served %v; want broke, not scaled, below 100 req/s", c.name, a.Kind, a.Scaled, a.CapacityLo, a.CapacityHi, a.Served)
		}
		if !strings.Contains(a.Verdict, c.says) || strings.Contains(a.Verdict, "scaled") || strings.Contains(a.Verdict, "0 ms") {
			t.Errorf("%s: %s", c.name, a.Verdict)
		}
		facts := fmt.Sprint(a.Facts())
		if !strings.Contains(facts, "capacity below 100 req/s") || strings.Contains(facts, "p99 0 ms") {
			t.Errorf("%s: facts %s", c.name, facts)
		}
	}
}

// A run stopped while its host was broken (Ctrl-C at 10 s; the replies in
// flight and a journey's last steps came back until 14 s): what came after
// the stop is not judged (it would "hold", a recovery that never was), the
// load due after it is not "due but never sent", and the verdict says when
// the run stopped sending, not when it ended.
func TestStoppedWhileBroken(t *testing.T) {
	info := testScenario(t, "hold 300/s for 30s")
	info.Stopped = "interrupted"
	info.StoppedAt = info.Start.Add(10 * time.Second)
	info.End = info.Start.Add(14 * time.Second)
	f := NewFolder(info, time.Second)
	c := info.Scenario.Curve
	var seq uint64
	for i := uint64(0); i < c.Requests(); i++ {
		at := time.Duration(c.Inv(float64(i)) * 1e9)
		if at >= 10*time.Second {
			break
		}
		r := &vegeta.Result{Seq: i, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 20 * time.Millisecond, Timestamp: info.Start.Add(at)}
		if at >= 2*time.Second && i%2 == 0 {
			r.Code, r.Latency = 503, time.Millisecond
		}
		f.Add(r)
		seq = i
	}
	for k := range uint64(12) { // stragglers after the stop, all fine
		f.Add(&vegeta.Result{Seq: seq + 1 + k, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 20 * time.Millisecond,
			Timestamp: info.Start.Add(10*time.Second + time.Duration(k)*300*time.Millisecond)})
	}
	a := Analyze(f.Windows(), info.Scenario.SLO)
	if !a.Broke || a.RecoveredAt >= 0 || a.FellBelowAt >= 0 || strings.Contains(a.Verdict, "recovered at") {
		t.Errorf("broke %v, recovered at %v, fell below at %v: %s", a.Broke, a.RecoveredAt, a.FellBelowAt, a.Verdict)
	}
	if a.Unsent > 5 {
		t.Errorf("%v due but never sent: the curve's load after the stop was never meant to be sent", a.Unsent)
	}
	if !strings.Contains(a.Incomplete, "stopped early (interrupted) 10 s into the 30 s curve") {
		t.Errorf("incomplete: %q", a.Incomplete)
	}
	for _, j := range a.Windows {
		if j.Start >= 10 && j.State != Idle {
			t.Errorf("window at %v s, after the stop, judged %s", j.Start, j.State)
		}
	}
}

// Results cut short (a truncated file) say what held before the cut, not
// the curve's rate after it; nor did traffic "fall below capacity" where
// the results end, or where the curve does.
func TestCutResultsAndCurveEnd(t *testing.T) {
	info := testScenario(t, "ramp 100/s to 1200/s over 20s")
	f := NewFolder(info, time.Second)
	c := info.Scenario.Curve
	cut := 8 * time.Second
	for i := uint64(0); i < c.Requests(); i++ {
		at := time.Duration(c.Inv(float64(i)) * 1e9)
		if at >= cut {
			break
		}
		f.Add(&vegeta.Result{Seq: i, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 20 * time.Millisecond, Timestamp: info.Start.Add(at)})
	}
	ws := f.Windows()
	ws.CutAt = cut
	a := Analyze(ws, info.Scenario.SLO)
	if a.Kind != KindIncomplete || a.PeakOffered > 600 || strings.Contains(a.Verdict, "1,200 req/s") {
		t.Errorf("kind %s, peak %v: %s", a.Kind, a.PeakOffered, a.Verdict)
	}

	// A host of 300 req/s under a flat 600 req/s to the curve's end: it
	// never recovered, and traffic never fell below capacity (the curve
	// ended).
	info = testScenario(t, "hold 600/s for 20s")
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if i%2 == 0 {
			r.Code = 503
		}
		return true
	})
	if !a.Broke || a.FellBelowAt >= 0 || strings.Contains(a.Verdict, "fell below capacity") {
		t.Errorf("fell below at %v: %s", a.FellBelowAt, a.Verdict)
	}
}

// A server that dies 5.5 s into a steady 100 req/s fails half of that
// window's requests (refused), then all: the server went down, not a
// capacity break; the capacity is what held before.
func TestServerDiesMidWindow(t *testing.T) {
	info := testScenario(t, "hold 100/s for 15s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 5500*time.Millisecond {
			r.Code, r.Latency = 0, 200*time.Microsecond
			r.Error = `Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused`
		}
		return true
	})
	if a.Kind != KindUnreachable || !strings.Contains(a.Verdict, "held the SLO at up to 100 req/s, then stopped answering") {
		t.Errorf("kind %s: %s", a.Kind, a.Verdict)
	}
	if facts := fmt.Sprint(a.Facts()); !strings.Contains(facts, "at least 100 req/s (held until the server stopped answering") {
		t.Errorf("facts: %s", facts)
	}
	// A host that breaks by its own failures (503s), then goes down, broke.
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		switch {
		case at >= 8*time.Second:
			r.Code, r.Error = 0, `Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused`
		case at >= 4*time.Second && i%2 == 0:
			r.Code = 503
		}
		return true
	})
	if a.Kind != KindBroke {
		t.Errorf("503s from 4 s, down from 8 s: kind %s: %s", a.Kind, a.Verdict)
	}
}

// An outage at a steady rate (all 503 from 5.5 s to 11.5 s at 100 req/s,
// held before and after) is not a capacity of 11–33 req/s, nor a host
// that scaled up: it failed at a rate it had held. A queue that fills
// slowly at a steady rate just past the capacity (the host then serves
// 95% of it) is a break at a capacity.
func TestOutageAtHeldRate(t *testing.T) {
	info := testScenario(t, "hold 100/s for 20s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 5500*time.Millisecond && at < 11500*time.Millisecond {
			r.Code, r.Latency = 503, time.Millisecond
		}
		return true
	})
	if !a.Broke || !a.AtHeldRate || a.Scaled || a.CapacityLo < 99 || !math.IsInf(a.CapacityHi, 1) ||
		!strings.Contains(a.Verdict, "at 100 req/s, a rate it had held before: not its capacity (at least 100 req/s) but an outage or a fault") {
		t.Errorf("held-rate %v, scaled %v, band %v–%v: %s", a.AtHeldRate, a.Scaled, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	if s := a.Summary(); !s.AtHeldRate || s.SLOHeld || s.CapacityBand[1] != nil {
		t.Errorf("summary.json: break at a held rate %v, held %v, band top %v", s.AtHeldRate, s.SLOHeld, s.CapacityBand[1])
	}
	if _, err := a.LatencyVsLoadPlot(); err != nil {
		t.Errorf("latency vs load: %v", err)
	}

	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 8*time.Second && i%20 == 0 {
			r.Code = 503
		}
		return true
	})
	if !a.Broke || a.AtHeldRate || a.CapacityHi > 110 || !strings.Contains(a.Verdict, "(capacity ") {
		t.Errorf("a slow queue fill: held-rate %v, band %v–%v: %s", a.AtHeldRate, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	// Held for 2 s only (a queue filling at a rate past the capacity, in
	// quarter-second windows), then 30% refused: a capacity, not an outage.
	a = foldGen(t, info, 250*time.Millisecond, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 2*time.Second && i%10 < 3 {
			r.Code = 503
		}
		return true
	})
	if !a.Broke || a.AtHeldRate {
		t.Errorf("held 2 s, then 30%% refused: held-rate %v: %s", a.AtHeldRate, a.Verdict)
	}
	// The latency growing (a queue filling) from the start, then 30%
	// refused: not an outage either.
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		r.Latency = 10*time.Millisecond + at/10
		if at >= 5*time.Second && i%10 < 3 {
			r.Code = 503
		}
		return true
	})
	if !a.Broke || a.AtHeldRate {
		t.Errorf("latency rising, then 30%% refused: held-rate %v: %s", a.AtHeldRate, a.Verdict)
	}
	// Held for 5 s while the latency grew slowly (a queue filling), then
	// 30% refused: a queue had hidden the capacity it then served.
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		r.Latency = 10*time.Millisecond + at/50
		if at >= 5*time.Second && i%10 < 3 {
			r.Code = 503
		}
		return true
	})
	if !a.Broke || a.AtHeldRate || a.FellFrom != 100 || a.FellSteady || a.CapacityLo > 70 || a.CapacityHi < 70 || a.CapacityHi > 80 ||
		!strings.Contains(a.Verdict, "a queue, filling while its latency grew, had hidden its capacity") {
		t.Errorf("latency rising slowly, then 30%% refused: held-rate %v, fell from %v (steady %v), band %v–%v: %s", a.AtHeldRate, a.FellFrom, a.FellSteady, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}

// A host that served 600 req/s for 6 s, then steadily 400, its queue
// full (a burst allowance ran out, a throttle): its capacity fell to 400
// req/s; neither an outage nor a capacity of 600. One that fails a third
// at once, answering the rest as fast as before, had a fault (or a rate
// limiter refused them): the capacity is at least what it held. One whose
// answers dwindle (a leak: a growing share of errors) had a fault.
func TestCapacityFellAtHeldRate(t *testing.T) {
	info := testScenario(t, "hold 200/s for 3s, hold 600/s for 14s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 9*time.Second {
			r.Latency = 300 * time.Millisecond // a full queue
			if i%3 == 0 {
				r.Code, r.Latency = 503, time.Millisecond
			}
		}
		return true
	})
	if !a.Broke || a.AtHeldRate || a.FellFrom != 600 || !a.FellSteady || a.HeldSecs != 6 || a.CapacityLo > 400 || a.CapacityHi < 400 || a.CapacityHi > 450 ||
		!strings.Contains(a.Verdict, "at 600 req/s, a rate it had held for 6 s; from then it served "+rps(a.Served)+" of the mix (capacity ") ||
		!strings.Contains(a.Verdict, "its capacity fell (a burst allowance running out, a throttle)") {
		t.Errorf("held-rate %v, fell from %v (steady %v, held %v s), band %v–%v: %s", a.AtHeldRate, a.FellFrom, a.FellSteady, a.HeldSecs, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	if s := a.Summary(); s.FellFromReqS == nil || *s.FellFromReqS != 600 || s.CapacityBand[1] == nil || *s.CapacityBand[1] > 450 || s.AtHeldRate {
		t.Errorf("summary.json: fell from %v, band %v, held-rate %v", s.FellFromReqS, s.CapacityBand, s.AtHeldRate)
	}
	if facts := fmt.Sprint(a.Facts()); !strings.Contains(facts, "it had held 600 req/s for 6 s before") {
		t.Errorf("facts: %s", facts)
	}

	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 9*time.Second && i%3 == 0 {
			r.Code, r.Latency = 503, time.Millisecond
		}
		return true
	})
	if !a.Broke || !a.AtHeldRate || a.FellFrom != 0 || a.CapacityLo != 600 || !strings.Contains(a.Verdict, "an outage or a fault") {
		t.Errorf("a third failing at once: held-rate %v, fell from %v, band %v–%v: %s", a.AtHeldRate, a.FellFrom, a.CapacityLo, a.CapacityHi, a.Verdict)
	}

	info = testScenario(t, "hold 300/s for 30s")
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 8*time.Second && float64(i%100) < 100*(at-8*time.Second).Seconds()/15 {
			r.Code, r.Latency = 503, time.Millisecond
		}
		return true
	})
	if !a.Broke || !a.AtHeldRate || a.FellFrom != 0 || !math.IsInf(a.CapacityHi, 1) || !strings.Contains(a.Verdict, "an outage or a fault") {
		t.Errorf("a growing share failing: held-rate %v, fell from %v, band %v–%v: %s", a.AtHeldRate, a.FellFrom, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}

// A host that fails a fixed share of requests at every rate (a check that
// always fails on one endpoint) serves more as more is offered: that is no
// scaling, however far above the band its later windows serve.
func TestFixedShareFailingIsNotScaling(t *testing.T) {
	info := testScenario(t, "hold 50/s for 10s, ramp 50/s to 400/s over 30s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 8*time.Second && i%12 == 0 {
			r.Code = 404
		}
		return true
	})
	if !a.Broke || a.Scaled || strings.Contains(a.Verdict, "scaled") {
		t.Errorf("broke %v, scaled %v to %v (band %v–%v): %s", a.Broke, a.Scaled, a.ScaledTo, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}

// A host that fails a tenth of its requests on the way up a steep ramp
// (from 860 req/s), and saturates at 1,500 req/s: the SLO broke before the
// host was saturated. The verdict does not call 860–955 req/s its capacity;
// it names what it served while saturated, and compare's capacity is that.
func TestBrokeBeforeSaturated(t *testing.T) {
	info := testScenario(t, "ramp 100/s to 2000/s over 20s, hold 2000/s for 20s")
	served := map[int64]int{}
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		slot := int64(at / (100 * time.Millisecond))
		switch {
		case served[slot] >= 150: // 1,500 req/s
			r.Code = 503
		case at >= 8*time.Second && i%10 == 0:
			r.Code = 503
		default:
			served[slot]++
		}
		return true
	})
	if !a.Broke || !a.brokeBeforeSaturated() || a.SaturatedAt < 1300 || a.SaturatedAt > 1600 ||
		!strings.Contains(a.Verdict, "before it was saturated: it served") || strings.Contains(a.Verdict, "(capacity ") {
		t.Errorf("broke %v, saturated at %v, band %v–%v: %s", a.Broke, a.SaturatedAt, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	if k := a.capacityRate(); k != a.SaturatedAt {
		t.Errorf("compare's capacity %v, want the rate served saturated, %v", k, a.SaturatedAt)
	}
	if _, err := a.LatencyVsLoadPlot(); err != nil {
		t.Errorf("latency vs load: %v", err)
	}
}

// A killed run's results end 2 ms into a window, with one good answer
// there, after 5 s of a host failing a fifth of its requests: that sliver
// is not a recovery (nor, were it a failure, the worst window at 100%);
// the verdict says the results end before it recovered.
func TestKilledRunSliver(t *testing.T) {
	for _, lastOK := range []bool{true, false} {
		info := testScenario(t, "hold 300/s for 40s")
		f := NewFolder(info, time.Second)
		c := info.Scenario.Curve
		var n uint64
		for i := uint64(0); i < c.Requests(); i++ {
			at := time.Duration(c.Inv(float64(i)) * 1e9)
			if at >= 25*time.Second {
				break
			}
			r := &vegeta.Result{Seq: i, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 20 * time.Millisecond, Timestamp: info.Start.Add(at)}
			if at >= 20*time.Second && i%5 == 0 {
				r.Code = 503
			}
			f.Add(r)
			n = i + 1
		}
		last := &vegeta.Result{Seq: n, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 20 * time.Millisecond, Timestamp: info.Start.Add(25*time.Second + 2*time.Millisecond)}
		if !lastOK {
			last.Code = 503
		}
		f.Add(last)
		ws := f.Windows()
		ws.CutAt = 25*time.Second + 3*time.Millisecond
		a := Analyze(ws, info.Scenario.SLO)
		if !a.Broke || a.RecoveredAt >= 0 || strings.Contains(a.Verdict, "recovered at") || !strings.Contains(a.Verdict, "before it recovered") {
			t.Errorf("last answer ok %v: broke %v, recovered at %v: %s", lastOK, a.Broke, a.RecoveredAt, a.Verdict)
		}
		if a.MaxErrorRatio > 0.25 {
			t.Errorf("last answer ok %v: worst window %v, from the sliver: %s", lastOK, a.MaxErrorRatio, a.Verdict)
		}
	}
}

// A run that held with failing windows forgiven by the grace (a 3 s burst
// of 503s at 400 req/s, the grace 5 s, under 1% failed over the run) does
// not say the SLO held "at every rate offered": it names the highest rate
// a window failed at.
func TestHeldWithForgivenWindows(t *testing.T) {
	info := testScenario(t, "ramp 100/s to 400/s over 30s, hold 400/s for 6m")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 40*time.Second && at < 43*time.Second && i%20 == 0 {
			r.Code = 503
		}
		return true
	})
	if a.Broke || a.Kind != KindHeld || a.violatedTop() < 399 {
		t.Fatalf("kind %s, failed windows up to %v: %s", a.Kind, a.violatedTop(), a.Verdict)
	}
	facts := fmt.Sprint(a.Facts())
	if strings.Contains(facts, "at every rate offered") || !strings.Contains(facts, "windows failed, within the grace, at up to 400 req/s") {
		t.Errorf("facts: %s", facts)
	}
}

// A host that serves less the more it is sent past its capacity of 200
// req/s (a queue with timeouts, thrashing): the band is where the SLO
// broke, and the verdict says how little it served overloaded.
func TestOverloadCollapse(t *testing.T) {
	info := testScenario(t, "ramp 50/s to 400/s over 20s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		rate := 50 + 350*at.Seconds()/20
		if rate > 200 && math.Mod(float64(i)*0.618034, 1) >= (400-rate)/rate {
			r.Code, r.Latency = 503, time.Millisecond
		}
		return true
	})
	if !a.Broke || a.SaturatedAt <= 0 || a.SaturatedAt >= a.CapacityLo || a.CapacityLo > 200 || a.CapacityHi < 200 ||
		!strings.Contains(a.Verdict, "; overloaded, it served only "+rps(a.SaturatedAt)+" of the mix") {
		t.Errorf("band %v–%v, served saturated %v: %s", a.CapacityLo, a.CapacityHi, a.SaturatedAt, a.Verdict)
	}
}

// A host failing a third of a flat 100 req/s to the curve's end, then a
// few successful stragglers after it (journeys' later steps, sent after
// their think time): the stragglers are no recovery.
func TestStragglersAfterTheCurveAreNoRecovery(t *testing.T) {
	info := testScenario(t, "hold 100/s for 10s")
	f := NewFolder(info, time.Second)
	c := info.Scenario.Curve
	for i := uint64(0); i < c.Requests(); i++ {
		r := vegeta.Result{Seq: i, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 10 * time.Millisecond,
			Timestamp: info.Start.Add(time.Duration(c.Inv(float64(i)) * 1e9))}
		if i%3 == 0 {
			r.Code = 503
		}
		f.Add(&r)
	}
	for k := uint64(0); k < 150; k++ { // later steps, 10–12 s
		f.Add(&vegeta.Result{Seq: c.Requests() + k, Code: 200, Method: "GET", URL: "http://127.0.0.1:8080/", Latency: 10 * time.Millisecond,
			Timestamp: info.Start.Add(10*time.Second + time.Duration(k)*(2*time.Second)/150)})
	}
	a := Analyze(f.Windows(), info.Scenario.SLO)
	if !a.Broke || a.RecoveredAt >= 0 || strings.Contains(a.Verdict, "recovered") {
		t.Errorf("recovered at %v: %s", a.RecoveredAt, a.Verdict)
	}
}

// A host that answers a share of requests 401 (journeys that skipped the
// login step) or with the wrong page (a failed content check) does so at
// any rate: no capacity is read from it, the band is "at least" what held,
// and summary.json says why.
func TestFailuresNotOfLoad(t *testing.T) {
	info := testScenario(t, "hold 50/s for 5s, ramp 50/s to 200/s over 20s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 5*time.Second && i%5 == 0 {
			r.Code, r.Latency = 401, time.Millisecond
		}
		return true
	})
	if !a.Broke || !a.NotOfLoad || a.Served != 0 || a.SaturatedAt != 0 || !math.IsInf(a.CapacityHi, 1) || a.CapacityLo < 49 ||
		!strings.Contains(a.Verdict, "by failures that come at any rate, not of load") || !strings.Contains(a.Verdict, "http 401") {
		t.Errorf("not of load %v, served %v, band %v–%v: %s", a.NotOfLoad, a.Served, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	if s := a.Summary(); !s.NotOfLoad || s.CapacityBand[1] != nil {
		t.Errorf("summary.json: not of load %v, band %v", s.NotOfLoad, s.CapacityBand)
	}
	// 503s at the same share are of load: a capacity.
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 5*time.Second && i%5 == 0 {
			r.Code, r.Latency = 503, time.Millisecond
		}
		return true
	})
	if !a.Broke || a.NotOfLoad {
		t.Errorf("503s: not of load %v: %s", a.NotOfLoad, a.Verdict)
	}
}

// An outage in the middle of a ramp (every request 503 from 10 s to 16
// s), after which the host holds the SLO at more than it broke at: not a
// capacity "below" the breaking rate, nor a host that scaled up.
func TestOutageMidRamp(t *testing.T) {
	info := testScenario(t, "ramp 100/s to 600/s over 25s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 10*time.Second && at < 16*time.Second {
			r.Code, r.Latency = 503, 200*time.Microsecond
		}
		return true
	})
	if !a.Broke || !a.AtHeldRate || !a.HeldLater || a.Scaled || !math.IsInf(a.CapacityHi, 1) || a.CapacityLo < 250 ||
		!strings.Contains(a.Verdict, "held more than that later: not its capacity") {
		t.Errorf("held later %v, scaled %v, band %v–%v: %s", a.HeldLater, a.Scaled, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}

// A burst allowance that ran out to 30% of the rate held (its queue full):
// its capacity fell to 30%, not an outage "at least" the rate held.
func TestCapacityFellFar(t *testing.T) {
	info := testScenario(t, "hold 500/s for 20s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		if at >= 7*time.Second {
			r.Latency = 400 * time.Millisecond
			if i%10 >= 3 {
				r.Code, r.Latency = 503, time.Millisecond
			}
		}
		return true
	})
	if !a.Broke || a.AtHeldRate || a.FellFrom != 500 || a.CapacityLo > 160 || a.CapacityHi < 130 {
		t.Errorf("held-rate %v, fell from %v, band %v–%v: %s", a.AtHeldRate, a.FellFrom, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}

// A page that never says what its check looks for fails the SLO in the
// warm-up, at any rate; the host breaks under load much later. The
// verdict says both: failures not of load from the start, and, with those
// left aside, the break under load, with a band around the host's true
// capacity (starvedHost: its image pool).
func TestNotOfLoadFirstThenCapacity(t *testing.T) {
	h := starvedHost()
	info := testScenario(t, spikeCurve)
	f := NewFolder(info, time.Second)
	var n uint64
	h.simulate(info, 1, func(r *vegeta.Result) {
		if strings.HasSuffix(r.URL, "/") && r.Code == 200 {
			if n++; n%5 == 0 {
				r.Error = scenarios.ErrCheckPrefix + scenarios.CheckBodyContains + `: no "Add to cart"`
			}
		}
		f.Add(r)
	})
	a := Analyze(f.Windows(), info.Scenario.SLO)
	truth := h.capacity(info.Scenario.Endpoints)
	if !a.Broke || !a.NotOfLoad || a.UnderLoad == nil {
		t.Fatalf("not of load %v, under load %+v: %s", a.NotOfLoad, a.UnderLoad, a.Verdict)
	}
	if a.CapacityLo > truth || a.CapacityHi < truth || a.CapacityHi > 1.35*truth {
		t.Errorf("band %.0f–%.0f misses the true capacity %.0f: %s", a.CapacityLo, a.CapacityHi, truth, a.Verdict)
	}
	if a.BreakAt > 15 || a.UnderLoad.At < 20 {
		t.Errorf("break at %v (want in the warm-up), under load at %v (want in the surge)", a.BreakAt, a.UnderLoad.At)
	}
	for _, want := range []string{"into the \"warmup\" phase", "not of load", "check body_contains", "left aside, it broke under load"} {
		if !strings.Contains(a.Verdict, want) {
			t.Errorf("verdict lacks %q: %s", want, a.Verdict)
		}
	}
	s := a.Summary()
	if s.UnderLoadAtS == nil || s.CapacityBand[1] == nil || *s.CapacityBand[1] < truth {
		t.Errorf("summary.json: under load at %v, band %v", s.UnderLoadAtS, s.CapacityBand)
	}
	// Without the failing page the same host breaks at the same place.
	f = NewFolder(info, time.Second)
	h.simulate(info, 1, f.Add)
	b := Analyze(f.Windows(), info.Scenario.SLO)
	if b.NotOfLoad || math.Abs(b.BreakAt-a.UnderLoad.At) > 3 {
		t.Errorf("clean run broke at %v, the other under load at %v: %s", b.BreakAt, a.UnderLoad.At, b.Verdict)
	}
}

// A rate limiter with a burst allowance (nginx's limit_req rate=400r/s
// burst=3000 nodelay, answering 429): it lets everything through while
// the burst lasts, then refuses the excess at once and serves its rate,
// the latency of what it lets through unchanged. Its capacity is the
// rate it sustains, on a hold (a rate it had held) and on a ramp (where
// the rates it held past it say nothing).
func TestBurstLimiter(t *testing.T) {
	limiter := func(rate, burst float64) func(i uint64, at time.Duration, r *vegeta.Result) bool {
		tokens, last := burst, time.Duration(0)
		return func(i uint64, at time.Duration, r *vegeta.Result) bool {
			tokens = min(burst, tokens+rate*(at-last).Seconds())
			last = at
			r.Latency = time.Millisecond
			if tokens < 1 {
				r.Code, r.Latency = 429, 200*time.Microsecond
				return true
			}
			tokens--
			return true
		}
	}
	info := testScenario(t, "hold 600/s for 40s")
	a := foldGen(t, info, time.Second, limiter(400, 3000))
	if !a.Broke || a.AtHeldRate || !a.Throttled || a.CapacityLo > 400 || a.CapacityHi < 400 || a.CapacityHi > 460 ||
		!strings.Contains(a.Verdict, "a rate limiter (http 429) whose burst allowance ran out") {
		t.Errorf("hold: held-rate %v, throttled %v, band %v–%v: %s", a.AtHeldRate, a.Throttled, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	if a.BreakAt < 13 || a.BreakAt > 16 {
		t.Errorf("hold: broke at %v, the burst runs out at 15 s", a.BreakAt)
	}
	if s := a.Summary(); s.CapacityBand[1] == nil || *s.CapacityBand[1] > 460 || s.AtHeldRate || !s.Throttled {
		t.Errorf("summary.json: band %v, held-rate %v, throttled %v", s.CapacityBand, s.AtHeldRate, s.Throttled)
	}
	info = testScenario(t, "ramp 100/s to 1000/s over 40s, hold 200/s for 10s")
	a = foldGen(t, info, time.Second, limiter(400, 3000))
	if !a.Broke || a.CapacityLo > 400 || a.CapacityHi < 400 || a.CapacityHi > 480 {
		t.Errorf("ramp: throttled %v, band %v–%v: %s", a.Throttled, a.CapacityLo, a.CapacityHi, a.Verdict)
	}
	// The same refusals as 503s at a hold stay an outage or a fault (a
	// share failing at once): only 429 names a rate limiter.
	info = testScenario(t, "hold 600/s for 40s")
	lim := limiter(400, 3000)
	a = foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		lim(i, at, r)
		if r.Code == 429 {
			r.Code = 503
		}
		return true
	})
	if a.Throttled || !a.AtHeldRate {
		t.Errorf("503s: throttled %v, held-rate %v: %s", a.Throttled, a.AtHeldRate, a.Verdict)
	}
}

// At 1 req/s every window holds one success, none with a p99 to judge:
// the verdict still names the latency the requests had, not "0 ms".
func TestPeakP99OfLoneRequests(t *testing.T) {
	info := testScenario(t, "hold 1/s for 10s")
	a := foldGen(t, info, time.Second, func(i uint64, at time.Duration, r *vegeta.Result) bool {
		r.Latency = 700 * time.Millisecond
		return true
	})
	if a.PeakP99 < 690*time.Millisecond || a.PeakP99 > 710*time.Millisecond || !strings.Contains(a.Verdict, "p99 ≤ 70") {
		t.Errorf("peak p99 %v: %s", a.PeakP99, a.Verdict)
	}
}
