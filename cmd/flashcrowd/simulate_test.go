package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// simArgs is a small simulation: press-spike compressed 200× (5 minutes)
// with its peak at 2,000/s against the shared plan, which breaks.
func simArgs(out string, extra ...string) []string {
	return append([]string{"simulate", "--scenario", "press-spike", "--compress", "200", "--peak", "2000/s", "--plan", "shared", "--out", out, "-q"}, extra...)
}

func runSim(t *testing.T, args []string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func readSummary(t *testing.T, dir string) (report.Summary, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s, b
}

// A simulation writes the run directory and a report marked as simulated,
// and the same seed gives a byte-identical summary.json.
func TestSimulateRepeatable(t *testing.T) {
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	var sums [][]byte
	for _, d := range dirs {
		code, out, errs := runSim(t, simArgs(d))
		if code != exitSLO { // the shared plan breaks: the scenario's SLO fails
			t.Fatalf("exit %d, want 3: %s", code, errs)
		}
		if !strings.Contains(out, "The simulated shared plan broke") || !strings.Contains(out, "no request was sent") {
			t.Errorf("report text does not read as a simulation:\n%s", out)
		}
		_, b := readSummary(t, d)
		sums = append(sums, b)
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Errorf("same seed, different summary.json:\n%s\n---\n%s", sums[0], sums[1])
	}
	s, _ := readSummary(t, dirs[0])
	if !s.Simulated || s.Plan != "shared" || !bytes.Contains(sums[0], []byte(`"simulated": true`)) {
		t.Errorf("summary.json not marked simulated: simulated=%v plan=%q", s.Simulated, s.Plan)
	}
	info, err := scenarios.ReadRunInfo(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !info.Simulated || info.Engine != "simulate" || info.Seed != defaultSimSeed || info.Plan != "shared" || info.PlanCost != 5 {
		t.Errorf("run.json: simulated %v engine %q seed %d plan %q cost %g", info.Simulated, info.Engine, info.Seed, info.Plan, info.PlanCost)
	}
	// The request count is the curve's, whatever the shards.
	if want := info.Scenario.Curve.Requests(); s.Requests != want {
		t.Errorf("%d requests simulated, the curve has %d", s.Requests, want)
	}
	for _, f := range []string{report.WindowsFile, report.HTMLFile, report.MarkdownFile, report.OverviewPNG, report.EndpointsPNG, report.LatencyVsLoadPNG} {
		if _, err := os.Stat(filepath.Join(dirs[0], f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dirs[0], report.HTMLFile))
	if !bytes.Contains(html, []byte("simulated: no request was sent")) || !bytes.Contains(html, []byte("SIMULATED (shared plan)")) {
		t.Errorf("report.html does not say it is simulated")
	}

	// flashcrowd report re-judges the saved windows, still simulated.
	var out, errb bytes.Buffer
	if code := run([]string{"report", dirs[0], "--out", t.TempDir()}, nil, &out, &errb); code != exitSLO { // shared breaks
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "The simulated shared plan") {
		t.Errorf("flashcrowd report of a simulation:\n%s", out.String())
	}

	// Another seed changes the service times, so the summary.
	d := filepath.Join(t.TempDir(), "c")
	if code, _, errs := runSim(t, simArgs(d, "--seed", "2")); code != exitSLO {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, b := readSummary(t, d); bytes.Equal(b, sums[0]) {
		t.Errorf("seeds 1 and 2 gave the same summary.json")
	}
}

// Poisson arrivals give a different run that agrees with the exact
// schedule's in the large: request count within 4 standard deviations,
// capacity within 10%, error ratio at the peak within 5 points, break
// within the window plus the grace period.
func TestSimulatePoisson(t *testing.T) {
	de, dp := filepath.Join(t.TempDir(), "exact"), filepath.Join(t.TempDir(), "poisson")
	for _, c := range []struct {
		dir  string
		args []string
	}{{de, nil}, {dp, []string{"--arrivals", "poisson"}}} {
		if code, _, errs := runSim(t, simArgs(c.dir, c.args...)); code != exitSLO {
			t.Fatalf("exit %d, want 3 (shared breaks): %s", code, errs)
		}
	}
	e, eb := readSummary(t, de)
	p, pb := readSummary(t, dp)
	if bytes.Equal(eb, pb) {
		t.Fatal("poisson and exact arrivals gave the same summary.json")
	}
	t.Logf("exact: %d requests, capacity %.0f, peak errors %.3f, break %v; poisson: %d, %.0f, %.3f, %v",
		e.Requests, e.CapacityRPS, e.PeakErrorRatio, *e.BreakAtS, p.Requests, p.CapacityRPS, p.PeakErrorRatio, *p.BreakAtS)
	if d := math.Abs(float64(p.Requests) - float64(e.Requests)); d > 4*math.Sqrt(float64(e.Requests)) {
		t.Errorf("poisson sent %d requests, the curve %d", p.Requests, e.Requests)
	}
	if e.BreakAtS == nil || p.BreakAtS == nil {
		t.Fatal("the shared plan must break at a 2,000/s peak")
	}
	if math.Abs(p.CapacityRPS-e.CapacityRPS)/e.CapacityRPS > 0.10 {
		t.Errorf("capacity: poisson %.0f, exact %.0f", p.CapacityRPS, e.CapacityRPS)
	}
	if math.Abs(p.PeakErrorRatio-e.PeakErrorRatio) > 0.05 {
		t.Errorf("peak error ratio: poisson %.3f, exact %.3f", p.PeakErrorRatio, e.PeakErrorRatio)
	}
	if math.Abs(*p.BreakAtS-*e.BreakAtS) > e.WindowS+e.SLO.GraceS {
		t.Errorf("break: poisson %.0f s, exact %.0f s", *p.BreakAtS, *e.BreakAtS)
	}
	if p.MaxSendLagMs != 0 || p.GeneratorBehind {
		t.Errorf("poisson arrivals judged as a lagging generator: lag %g ms, behind %v", p.MaxSendLagMs, p.GeneratorBehind)
	}
}

// Bad plans, scenarios and flags exit 2 and write nothing; a failed --slo
// exits 3 with the report written; --results keeps every result.
func TestSimulateExits(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad-plan.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nworkers: -3\nqueue: 10\nclasses:\n  page: {service: 10ms, size: 1KB}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--plan", "no-such-plan"}, "no-such-plan"},
		{[]string{"--plan", bad}, "bad-plan.yaml"},
		{[]string{"--scenario", "no-such-scenario"}, "no-such-scenario"},
		{[]string{"--arrivals", "sometimes"}, "--arrivals"},
		{[]string{"--shards", "0"}, "--shards"},
		{[]string{"--window", "soon"}, "--window"},
		{[]string{"--slo", "p99=fast"}, "--slo"},
		{[]string{"--results", "--shards", "2"}, "--results"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		args := append([]string{"simulate", "--out", out, "-q"}, c.args...)
		code, _, errs := runSim(t, args)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", c.args, code, errs, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: wrote %s", c.args, out)
		}
	}

	d := filepath.Join(t.TempDir(), "slo")
	code, _, errs := runSim(t, simArgs(d, "--slo", "errors=1%"))
	if code != exitSLO || !strings.Contains(errs, "the --slo SLO failed") {
		t.Errorf("failed --slo: exit %d, %q; want 3", code, errs)
	}
	if _, err := os.Stat(filepath.Join(d, report.SummaryFile)); err != nil {
		t.Errorf("failed --slo: no report: %v", err)
	}

	// --results: every simulated result, in vegeta's own encoding.
	d = filepath.Join(t.TempDir(), "results")
	if code, _, errs := runSim(t, []string{"simulate", "--curve", "hold 100/s for 5s", "--plan", "shared", "--out", d, "--results", "-q"}); code != exitOK {
		t.Fatalf("--results: exit %d: %s", code, errs)
	}
	fh, err := os.Open(filepath.Join(d, "results.gob"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	dec := vegeta.NewDecoder(fh)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		if r.Code != 200 || r.Seq != uint64(n) {
			t.Fatalf("result %d: %+v", n, r)
		}
		n++
	}
	if n != 500 {
		t.Errorf("results.gob holds %d results, want 500", n)
	}
}

// The shard count is a speed setting, not part of the answer: for every
// built-in plan, the capacity a simulation reports with --shards 2 (the
// default) and 8 (more than any built-in but cdn allows, so lowered) is
// that of --shards 1 within 20%, and the rate achieved at the peak within
// 3%. Before shard counts were capped, shared's 2 static workers became
// one a shard, 8 at --shards 8: capacity +43%, achieved 2,848 req/s
// against the plan's 754.
//
// Why 20%: press-spike compressed 60× rises about 9.4% a 1 s window where
// these plans break, so the capacity found moves in steps of that size;
// each shard draws its own service times, so another shard count is
// another draw, and seeds 1–6 at one shard already spread vps's and cdn's
// capacity over two steps (vps 2,083–2,491, cdn 3,899–4,664 req/s). The
// achieved peak, which is the plan's throughput and not where a p99 first
// crosses the SLO, is far steadier: the spread seen is under 1%.
func TestSimulateCapacityShardFree(t *testing.T) {
	if testing.Short() {
		t.Skip("12 simulations of 9 M requests each")
	}
	for _, plan := range []string{"shared", "vps", "cloud", "cdn"} {
		var base report.Summary
		for _, n := range []string{"1", "2", "8"} {
			d := filepath.Join(t.TempDir(), plan+"-"+n)
			code, _, errs := runSim(t, []string{"simulate", "--plan", plan, "--compress", "60", "--shards", n, "--out", d, "-q"})
			s, _ := readSummary(t, d)
			if want := map[bool]int{true: exitOK, false: exitSLO}[s.SLOHeld]; code != want {
				t.Fatalf("%s --shards %s: exit %d with slo_held %v: %s", plan, n, code, s.SLOHeld, errs)
			}
			info, err := scenarios.ReadRunInfo(d)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s --shards %s (%d used): capacity %.0f, achieved at the peak %.0f", plan, n, info.Shards, s.CapacityRPS, s.PeakAchievedRPS)
			if n == "1" {
				base = s
				continue
			}
			if math.Abs(s.CapacityRPS-base.CapacityRPS) > 0.20*base.CapacityRPS {
				t.Errorf("%s: capacity %.0f req/s with --shards %s, %.0f with 1", plan, s.CapacityRPS, n, base.CapacityRPS)
			}
			if math.Abs(s.PeakAchievedRPS-base.PeakAchievedRPS) > 0.03*base.PeakAchievedRPS {
				t.Errorf("%s: %.0f req/s achieved at the peak with --shards %s, %.0f with 1", plan, s.PeakAchievedRPS, n, base.PeakAchievedRPS)
			}
		}
	}
}

// More shards than the plan allows are lowered, with a note, and run.json
// records the count used: --shards 8 of shared is --shards 2.
func TestSimulateShardsLowered(t *testing.T) {
	var sums [][]byte
	for _, n := range []string{"8", "2"} {
		d := filepath.Join(t.TempDir(), n)
		code, _, errs := runSim(t, simArgs(d, "--shards", n))
		if code != exitSLO {
			t.Fatalf("--shards %s: exit %d, want 3 (shared breaks): %s", n, code, errs)
		}
		lowered := strings.Contains(errs, "--shards 8 lowered to 2: the shared plan allows at most 2 (pool static: 2 workers)")
		if lowered != (n == "8") {
			t.Errorf("--shards %s: stderr %q", n, errs)
		}
		info, err := scenarios.ReadRunInfo(d)
		if err != nil {
			t.Fatal(err)
		}
		if info.Shards != 2 || info.Options["shards"] != "2" {
			t.Errorf("--shards %s: run.json shards %d, option %q; want 2", n, info.Shards, info.Options["shards"])
		}
		_, b := readSummary(t, d)
		sums = append(sums, b)
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Errorf("--shards 8 (lowered to 2) and --shards 2 gave different summary.json")
	}
	// The default is a constant the plan allows, whatever the machine.
	var out, errb bytes.Buffer
	if code := run([]string{"simulate", "-h"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "(default 2)") {
		t.Errorf("simulate -h: exit %d, want --shards (default 2):\n%s", code, out.String())
	}
}
