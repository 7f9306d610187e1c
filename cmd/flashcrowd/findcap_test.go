package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestNextProbe: the bisection brackets a host of known capacity within
// the tolerance, from below, from above and from a run that held.
func TestNextProbe(t *testing.T) {
	const truth = 754.0
	for _, start := range []float64{761, 640, 1000, 300, 2500} {
		held, broke := 0.0, math.Inf(1)
		var rates []float64
		for n := 0; ; n++ {
			r, stop := nextProbe(start, held, broke, n)
			if stop != "" {
				break
			}
			rates = append(rates, r)
			if r <= truth {
				held = math.Max(held, r)
			} else {
				broke = math.Min(broke, r)
			}
		}
		if held == 0 || math.IsInf(broke, 1) || !(held <= truth && truth < broke) {
			t.Errorf("start %v: probes %v end at held %v, broke %v: want a bracket around %v", start, rates, held, broke, truth)
			continue
		}
		// Seven probes bisect a bracket of up to ±20% of the start to
		// about 5%; a start far off takes the steps of 15% and 20% first.
		if w := (broke - held) / held; w > 0.10 || (w > findCapTolerance && math.Abs(start-truth)/truth < 0.2) {
			t.Errorf("start %v: probes %v: bracket %v–%v is %.1f%% wide", start, rates, held, broke, 100*w)
		}
	}
}

// TestFindCapacity: --find-capacity against the simulated host of a plan
// whose capacity for the mix is known brackets it, within 10%, and keeps
// every probe as a run directory of its own.
func TestFindCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("real loopback probes, about 40 s")
	}
	plan, err := hosting.LoadPlan("shared")
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := scenarios.Builtin("press-spike")
	truth := plan.Capacity(sc.Endpoints)
	var cs report.Search
	var stdout, dir string
	// The probes are real loopback runs: a probe the generator could not
	// keep up with cannot judge the host, so the search is made once more
	// when that happened (a busy machine), as compare's check is.
	for attempt := 1; attempt <= 2; attempt++ {
		dir = filepath.Join(t.TempDir(), "run")
		var code int
		code, stdout, _ = runCLI(t, "run", "--plan", "shared", "--scenario", "press-spike", "--curve", "ramp 400/s to 1200/s over 6s",
			"--find-capacity", "--probe", "4s", "--out", dir, "--quiet")
		if code != exitSLO {
			t.Fatalf("exit %d, want %d (the ramp breaks shared)\n%s", code, exitSLO, stdout)
		}
		b, err := os.ReadFile(filepath.Join(dir, report.SearchFile))
		if err != nil {
			t.Fatal(err)
		}
		cs = report.Search{}
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatal(err)
		}
		for i, p := range cs.Probes {
			if _, err := os.Stat(filepath.Join(p.Dir, "results.gob")); err != nil || p.Dir != filepath.Join(dir, report.SearchDir, fmt.Sprintf("probe-%d", i+1)) {
				t.Errorf("probe %d: %v", i+1, err)
			}
		}
		if !strings.Contains(string(b), "generator fell behind") || attempt == 2 {
			break
		}
		t.Logf("attempt %d: the generator fell behind in a probe; searching once more\n%s", attempt, stdout)
	}
	t.Logf("truth %.0f/s\n%s", truth, stdout)
	if cs.HeldRPS == nil || cs.BrokeRPS == nil {
		t.Fatalf("no bracket: %+v", cs)
	}
	held, broke := *cs.HeldRPS, *cs.BrokeRPS
	if held >= broke || held < 0.9*truth || held > 1.05*truth || broke > 1.1*truth || broke < 0.95*truth {
		t.Errorf("bracket %.0f–%.0f req/s around a capacity of %.0f req/s: want within 10%%", held, broke, truth)
	}
	if cs.WidthPct == nil || *cs.WidthPct > 10 || len(cs.Probes) > findCapMaxProbes || cs.JudgedS != 2 {
		t.Errorf("width %v%%, %d probes, judged %v s", cs.WidthPct, len(cs.Probes), cs.JudgedS)
	}
	if !strings.Contains(stdout, "Capacity search\nProbes of 4 s each") || !strings.Contains(stdout, cs.Statement) {
		t.Errorf("stdout lacks the search:\n%s", stdout)
	}
	// The run's report carries the search, and so does a report made
	// again from the run directory.
	checkReport := func(dir string) {
		t.Helper()
		var sum report.Summary
		b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
		if err != nil || json.Unmarshal(b, &sum) != nil || sum.CapacitySearch == nil ||
			*sum.CapacitySearch.HeldRPS != held || *sum.CapacitySearch.BrokeRPS != broke || len(sum.CapacitySearch.Probes) != len(cs.Probes) {
			t.Errorf("%s: summary.json's capacity_search %+v (%v)", dir, sum.CapacitySearch, err)
		}
		html, _ := os.ReadFile(filepath.Join(dir, report.HTMLFile))
		md, _ := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
		if !strings.Contains(string(html), `id="capacity-search"`) || !strings.Contains(string(md), "### Capacity search") ||
			!strings.Contains(string(md), report.FormatRate(held)) {
			t.Errorf("%s: report.html or report.md lacks the capacity search", dir)
		}
	}
	checkReport(dir)
	again := filepath.Join(t.TempDir(), "again")
	if code, out, errs := runCLI(t, "report", dir, "--out", again); code != exitSLO || !strings.Contains(out, "capacity search") {
		t.Errorf("report again: exit %d\n%s\n%s", code, out, errs)
	}
	checkReport(again)
}

// TestFindCapacityUsage: a sharded run cannot search; a probe too short
// to fill a queue is refused.
func TestFindCapacityUsage(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--find-capacity", "--shard", "0/2", "--rate", "10/s", "--duration", "1s"},
		{"run", "--find-capacity", "--probe", "1s", "--rate", "10/s", "--duration", "1s"},
	} {
		code, _, stderr := runCLI(t, append(args, "--out", filepath.Join(t.TempDir(), "r"))...)
		if code != exitUsage || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d, stderr %s", args, code, stderr)
		}
	}
}
