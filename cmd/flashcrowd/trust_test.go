package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// trustScale is how much each built-in plan is shrunk for the trust test
// (workers, queues, autoscale steps and bandwidth divided by it), so that
// it breaks at a rate this machine really sends on loopback.
var trustScale = map[string]int{"shared": 1, "vps": 3, "cloud": 4, "cdn": 6}

// scalePlan divides a plan's workers, queues, autoscale sizes and
// bandwidth by k (at least one worker each).
func scalePlan(t *testing.T, p *hosting.Plan, k int) *hosting.Plan {
	t.Helper()
	if k == 1 {
		return p
	}
	q := *p
	q.Name = fmt.Sprintf("%s/%d", p.Name, k)
	q.Pools = append([]hosting.Pool(nil), p.Pools...)
	for i := range q.Pools {
		pl := &q.Pools[i]
		pl.Workers = max(pl.Workers/k, 1)
		pl.Queue /= k
		if a := pl.Autoscale; a != nil {
			b := *a
			b.Min, b.Max, b.Step = max(a.Min/k, 1), max(a.Max/k, 1), max(a.Step/k, 1)
			pl.Autoscale = &b
		}
	}
	q.Classes = map[scenarios.Class]hosting.ClassSpec{}
	for c, s := range p.Classes {
		q.Classes[c] = s
	}
	q.Bandwidth /= int64(k)
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	return &q
}

// trustSeed seeds the simulation and the real host's service times alike:
// 1, or FLASHCROWD_TRUST_SEED.
func trustSeed(t *testing.T) int64 {
	v := os.Getenv("FLASHCROWD_TRUST_SEED")
	if v == "" {
		return 1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("FLASHCROWD_TRUST_SEED=%q: %v", v, err)
	}
	return n
}

// trustFigures are one side's answers.
type trustFigures struct {
	capacity, peakErrors, breakAt float64
	broke                         bool
	requests                      uint64
	verdict                       string
}

func figures(a *report.Analysis) trustFigures {
	return trustFigures{capacity: a.Capacity, peakErrors: a.PeakErrorRatio, breakAt: a.BreakAt, broke: a.Broke,
		requests: a.Total.Requests, verdict: a.Verdict}
}

// TestSimulationTrust runs each built-in plan both ways at a small scale,
// simulated (hosting.Simulate → report) and for real (attack.Run against
// the live host flashcrowd serve runs, on loopback → report), under a
// ramp from 0.7 to 1.3 times the plan's capacity (at its starting size),
// and checks that they agree: capacity within 10%, error
// ratio at the peak within 5 percentage points, break time within the
// window plus the grace period.
//
// The plans are shrunk (trustScale) so that their peaks stay under about
// 1,000 req/s, which this 2-core machine sends on loopback without falling
// behind; the models are otherwise the built-ins. Both sides draw the same
// service times (hosting.NewSeededHost, FLASHCROWD_TRUST_SEED, default 1):
// with 3 or 4 workers whose service times are lognormal, where one
// independent draw breaks varies by ±20% (cloud/4: 430–674 req/s over 40
// seeds), far more than the 10% the check allows, so two independent draws
// would test luck, not the model. About 85 s: skipped with -short.
func TestSimulationTrust(t *testing.T) {
	if testing.Short() {
		t.Skip("sends about 80 s of real traffic on loopback")
	}
	base, err := scenarios.Builtin("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	const width = time.Second
	slo := scenarios.SLO{P99: time.Second, MaxErrorRatio: 0.01, MinThroughput: 0.95, Grace: 2 * time.Second}
	var rows []string
	for _, name := range hosting.BuiltinPlanNames() {
		t.Run(name, func(t *testing.T) {
			rows = append(rows, trustPlan(t, name, base, width, slo))
		})
	}
	t.Logf("side by side (simulated / real):\n| plan (shrunk) | capacity at start size (req/s) | ramp | requests | capacity found (req/s) | errors at peak | break at (s) |\n|---|---|---|---|---|---|---|\n%s",
		strings.Join(rows, "\n"))
}

// trustSetup shrinks built-in plan name and builds the scenario that
// ramps it from 0.7 to 1.3 times its capacity at its starting size c.
func trustSetup(t *testing.T, name string, base *scenarios.Scenario, slo scenarios.SLO) (plan *hosting.Plan, s *scenarios.Scenario, c, lo, hi float64) {
	t.Helper()
	full, err := hosting.LoadPlan(name)
	if err != nil {
		t.Fatal(err)
	}
	plan = scalePlan(t, full, trustScale[name])
	// Capacity at the starting size: what the ramp must cross.
	start := *plan
	start.Pools = append([]hosting.Pool(nil), plan.Pools...)
	for i := range start.Pools {
		start.Pools[i].Autoscale = nil
	}
	c = start.Capacity(base.Endpoints)
	// The ramp climbs 3.75% of the capacity a second, so that one
	// window's difference in the break moves the capacity found by
	// less than the 10% allowed.
	lo, hi = 0.7*c, 1.3*c
	spec := fmt.Sprintf("warm: hold %s for 2s, climb: ramp %s to %s over 16s, peak: hold %s for 2s",
		scenarios.Rate(lo), scenarios.Rate(lo), scenarios.Rate(hi), scenarios.Rate(hi))
	curve, err := scenarios.ParseCurve("trust", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := *base
	sc.Name, sc.Curve, sc.Compress, sc.SLO, sc.Abort = "trust-"+name, curve, 1, slo, nil
	return plan, &sc, c, lo, hi
}

// simulated runs the simulation of trustSetup's plan and scenario with seed.
func simulated(t *testing.T, plan *hosting.Plan, s *scenarios.Scenario, width time.Duration, slo scenarios.SLO, seed int64) trustFigures {
	t.Helper()
	simInfo := &scenarios.RunInfo{Scenario: s, Plan: plan.Name, Simulated: true, Shards: 1,
		Start: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Seed: seed}
	sm := simulation{Plan: plan, Info: simInfo, Width: width, ClientTimeout: 10 * time.Second}
	ws, _, err := sm.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return figures(report.Analyze(ws, slo))
}

// trustPlan runs one plan both ways, checks that they agree and returns
// the README's table row.
func trustPlan(t *testing.T, name string, base *scenarios.Scenario, width time.Duration, slo scenarios.SLO) string {
	{
		plan, s, c, lo, hi := trustSetup(t, name, base, slo)

		// (a) Simulated.
		sim := simulated(t, plan, s, width, slo, trustSeed(t))

		// (b) Real: the simulated host on loopback, the real generator.
		// The simulation is exact (seeded); the real run shares the
		// machine's two cores with the generator, the host and whatever
		// else runs. A disagreement is therefore checked on a second real
		// run before it fails the test: a model that is wrong disagrees
		// both times, a stall of a busy machine rarely twice.
		var row string
		var problems []string
		for attempt := 1; attempt <= 2; attempt++ {
			real, behind := realRun(t, plan, s, width, slo)
			t.Logf("%s (capacity %.0f/s at start size): simulated: %s", plan.Name, c, sim.verdict)
			t.Logf("%s: real (attempt %d): %s", plan.Name, attempt, real.verdict)
			row = fmt.Sprintf("| %s | %.0f | %s → %s | %s / %s | %.0f / %.0f | %.1f%% / %.1f%% | %.0f / %.0f |",
				plan.Name, c, fmtCap(lo), fmtCap(hi), fmtCount(float64(sim.requests)), fmtCount(float64(real.requests)),
				sim.capacity, real.capacity, 100*sim.peakErrors, 100*real.peakErrors, sim.breakAt, real.breakAt)
			problems = trustProblems(plan.Name, sim, real, behind, width, slo)
			if len(problems) == 0 {
				return row
			}
			t.Logf("attempt %d: %s", attempt, strings.Join(problems, "; "))
		}
		for _, p := range problems {
			t.Error(p)
		}
		return row
	}
}

// trustProblems lists where the real run disagrees with the simulation by
// more than the README's bounds.
func trustProblems(name string, sim, real trustFigures, behind bool, width time.Duration, slo scenarios.SLO) []string {
	if behind {
		return []string{fmt.Sprintf("%s: the generator fell behind on this machine: the real run cannot judge the simulation", name)}
	}
	if !sim.broke || !real.broke {
		return []string{fmt.Sprintf("%s: broke simulated %v, real %v: the ramp to 1.3× capacity must break it", name, sim.broke, real.broke)}
	}
	var ps []string
	if d := math.Abs(sim.capacity-real.capacity) / real.capacity; d > 0.10 {
		ps = append(ps, fmt.Sprintf("%s: capacity simulated %.0f/s, real %.0f/s: %.1f%% apart (> 10%%)", name, sim.capacity, real.capacity, 100*d))
	}
	if d := math.Abs(sim.peakErrors - real.peakErrors); d > 0.05 {
		ps = append(ps, fmt.Sprintf("%s: error ratio at the peak simulated %.1f%%, real %.1f%%: %.1f points apart (> 5)", name, 100*sim.peakErrors, 100*real.peakErrors, 100*d))
	}
	if d := math.Abs(sim.breakAt - real.breakAt); d > (width + slo.Grace).Seconds() {
		ps = append(ps, fmt.Sprintf("%s: break simulated at %.1f s, real at %.1f s: %.1f s apart (> window + grace = %s)", name, sim.breakAt, real.breakAt, d, width+slo.Grace))
	}
	return ps
}

// realRun sends s's curve with attack.Run at the simulated host serving
// plan on a loopback listener, folds the results and judges them. behind
// reports whether the generator fell behind its schedule.
func realRun(t *testing.T, plan *hosting.Plan, s *scenarios.Scenario, width time.Duration, slo scenarios.SLO) (trustFigures, bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	// The host draws its service times from the simulation's streams
	// (trustSeed): both sides see the same service times, so the test
	// judges the model's mechanics, not the luck of two independent draws
	// (with 3 or 4 lognormal workers the capacity found by one draw alone
	// spreads over ±20%; see README-simulate.md).
	h := hosting.NewSeededHost(plan, trustSeed(t))
	defer h.Close()
	go func() { served <- hosting.ServeHost(hctx, ln, h) }()
	defer func() { stop(); <-served }()

	startAt := time.Now().Add(300 * time.Millisecond)
	info := &scenarios.RunInfo{Scenario: s, Plan: plan.Name, Shards: 1, Start: startAt}
	f := report.NewFolder(info, width)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.Curve.Seconds()*float64(time.Second))+30*time.Second)
	defer cancel()
	sum, err := attack.Run(ctx, ctx, attack.Options{
		Scenario: s, Target: &url.URL{Scheme: "http", Host: ln.Addr().String()},
		Timeout: 10 * time.Second, MaxWorkers: 2000, MaxConnections: 2000, StartAt: startAt, NoAbort: true, Engine: trustEngine(),
	}, func(r *vegeta.Result) { f.Add(r) })
	if err != nil {
		t.Fatalf("%s: real run: %v", plan.Name, err)
	}
	if sum.Stopped != "" {
		t.Fatalf("%s: real run stopped: %s", plan.Name, sum.Stopped)
	}
	a := report.Analyze(f.Windows(), slo)
	return figures(a), a.GenBlamed || a.GenBehindAt >= 0 && a.GenBehindAt <= a.BreakAt
}

// trustEngine is the generator's engine for the real runs:
// FLASHCROWD_TRUST_ENGINE, or vegeta's.
func trustEngine() string {
	if e := os.Getenv("FLASHCROWD_TRUST_ENGINE"); e != "" {
		return e
	}
	return attack.EngineVegeta
}

// TestSimulatedVisitorsAgreeWithRun runs one page-view scenario both ways
// against the shared plan, whose image pool turns requests away first:
// flashcrowd simulate (hosting.SimulateVisits) and flashcrowd run against
// the live host. At 1.5 times the plan's capacity for the mix the share of
// page views that came back complete, the share broken at the peak and the
// share of requests that failed agree within 10, 10 and 5 percentage
// points. (Measured on 2026-12-04: complete 53% simulated, 49% in two real
// runs. Which image a broken page is put down to differs, see
// hosting.SimulateVisits.) About 20 s: skipped with -short.
func TestSimulatedVisitorsAgreeWithRun(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of page views on loopback")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "pv.yaml")
	if err := os.WriteFile(file, []byte(`name: pv-trust
curve:
  - "calm: hold 50/s for 5s"
  - "overload: hold 130/s for 15s"
endpoints:
  - {name: product page, path: /p/jacket, class: page, weight: 1, assets: [hero image, product photos×4, thumbnails×3]}
  - {name: hero image, path: /img/hero.jpg, class: asset}
  - {name: product photos, path: /img/jacket-1.jpg, class: asset}
  - {name: thumbnails, path: /img/thumbs.jpg, class: asset}
slo: {p99: 1s, errors: 1%, throughput: 95%, grace: 2s}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	sides := map[string]report.Summary{}
	for _, cmd := range []string{"simulate", "run"} {
		out := filepath.Join(dir, cmd)
		if code, stdout, stderr := runCLI(t, cmd, "--scenario", file, "--plan", "shared", "--out", out, "-q"); code != exitSLO {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", cmd, code, exitSLO, stdout, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var sum report.Summary
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Visitors == nil || sum.Visitors.Views != 2200 {
			t.Fatalf("%s: visitors %+v, want 2,200 page views", cmd, sum.Visitors)
		}
		sides[cmd] = sum
	}
	sim, run := sides["simulate"], sides["run"]
	share := func(s report.Summary) float64 { return float64(s.Visitors.Complete) / float64(s.Visitors.Views) }
	failed := func(s report.Summary) float64 { return float64(s.Failed) / float64(max(s.Requests, 1)) }
	t.Logf("complete: simulated %.1f%%, run %.1f%%; broken at the peak: %.1f%%, %.1f%%; requests failed: %.1f%%, %.1f%%",
		100*share(sim), 100*share(run), 100*sim.Visitors.PeakBrokenRatio, 100*run.Visitors.PeakBrokenRatio, 100*failed(sim), 100*failed(run))
	if d := math.Abs(share(sim) - share(run)); d > 0.10 {
		t.Errorf("complete page views: simulated %.1f%%, run %.1f%%: more than 10 points apart", 100*share(sim), 100*share(run))
	}
	if d := math.Abs(sim.Visitors.PeakBrokenRatio - run.Visitors.PeakBrokenRatio); d > 0.10 {
		t.Errorf("broken at the peak: simulated %.1f%%, run %.1f%%: more than 10 points apart", 100*sim.Visitors.PeakBrokenRatio, 100*run.Visitors.PeakBrokenRatio)
	}
	if d := math.Abs(failed(sim) - failed(run)); d > 0.05 {
		t.Errorf("failed requests: simulated %.1f%%, run %.1f%%: more than 5 points apart", 100*failed(sim), 100*failed(run))
	}
}
