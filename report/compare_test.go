package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/internal/golden"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// midHost holds more than starvedHost (its asset pool is half as big
// again) but less than spikeCurve's 400 req/s peak: about 345 req/s.
func midHost() *simHost {
	h := starvedHost()
	c := h.classes[scenarios.Asset]
	c.workers = 6
	h.classes[scenarios.Asset] = c
	return h
}

// compareEntry simulates host h under spikeCurve as plan name.
func compareEntry(t testing.TB, name string, h *simHost, cost float64) CompareEntry {
	t.Helper()
	info := testScenario(t, spikeCurve)
	info.Plan, info.PlanCost = name, cost
	f := NewFolder(info, time.Second)
	h.simulate(info, 1, f.Add)
	return CompareEntry{Name: name, Dir: filepath.Join("runs", name), A: Analyze(f.Windows(), info.Scenario.SLO), Cost: cost}
}

func compareCases(t testing.TB) map[string]*Comparison {
	return map[string]*Comparison{
		// shared breaks; vps and cdn hold, vps cheaper.
		"compare-held": Compare([]CompareEntry{
			compareEntry(t, "shared", starvedHost(), 5),
			compareEntry(t, "cdn", ampleHost(), 60),
			compareEntry(t, "vps", ampleHost(), 40),
		}),
		// Both break: mid held more.
		"compare-none": Compare([]CompareEntry{
			compareEntry(t, "shared", starvedHost(), 5),
			compareEntry(t, "vps", midHost(), 40),
		}),
	}
}

func TestCompareGolden(t *testing.T) {
	for name, c := range compareCases(t) {
		var txt, js, md bytes.Buffer
		if err := c.WriteText(&txt); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMarkdown(&md, "."); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", name+".txt.golden"), txt.Bytes())
		golden.Check(t, filepath.Join("testdata", name+".json.golden"), js.Bytes())
		golden.Check(t, filepath.Join("testdata", name+".md.golden"), md.Bytes())
	}
}

func TestCompareCheapestHeld(t *testing.T) {
	c := compareCases(t)["compare-held"]
	if c.Best != 2 || c.Top != -1 {
		t.Fatalf("best = %d, top = %d; want vps (2), none", c.Best, c.Top)
	}
	for _, want := range []string{
		"The cheapest plan that held the SLO through the whole curve is vps ($40/month, capacity ≥ 400 req/s, the peak offered).",
		" shared broke ", "cdn ($60) held too.",
	} {
		if !strings.Contains(c.Verdict, want) {
			t.Errorf("verdict lacks %q:\n%s", want, c.Verdict)
		}
	}
	shared, vps := c.Rows[0], c.Rows[2]
	if shared.Held || !vps.Held || shared.Untested || vps.Untested {
		t.Fatalf("held: shared %v, vps %v", shared.Held, vps.Held)
	}
	a := c.Entries[0].A
	// Survived: the capacity band's top over the peak for a break, 1 for
	// a hold.
	if want := a.CapacityHi / a.PeakOffered; math.Abs(shared.Survived-want) > 1e-12 || vps.Survived != 1 || shared.SurvivedLo != a.CapacityLo/a.PeakOffered {
		t.Errorf("survived: shared %v (want %v), vps %v (want 1)", shared.Survived, want, vps.Survived)
	}
	// Cost per 1,000 req/s of capacity: for a plan that broke, of the
	// capacity its band is drawn around (inside the band, the capacity
	// column), not of the highest rate held before the break.
	if want := 5 / (a.capacityRate() / 1000); math.Abs(shared.CostPer1k-want) > 1e-9 {
		t.Errorf("shared $/1k = %v, want %v", shared.CostPer1k, want)
	}
	if lo, hi := 5/(a.CapacityHi/1000), 5/(a.CapacityLo/1000); a.Served <= 0 || shared.CostPer1k < lo || shared.CostPer1k > hi {
		t.Errorf("shared $/1k = %v, served %v: want it within $%v–$%v (the band %v–%v)", shared.CostPer1k, a.Served, lo, hi, a.CapacityLo, a.CapacityHi)
	}
	if want := 40 / (c.Entries[2].A.Capacity / 1000); math.Abs(vps.CostPer1k-want) > 1e-9 {
		t.Errorf("vps $/1k = %v, want %v", vps.CostPer1k, want)
	}
	if shared.Lost != a.Total.Failed()+uint64(a.Unsent) || shared.Lost == 0 {
		t.Errorf("shared lost %d, failed %d", shared.Lost, a.Total.Failed())
	}
	// The held plans' cost per capacity is an upper bound in the table.
	_, rows := c.TableRows()
	if !strings.HasPrefix(rows[2][12], "≤ $") || !strings.HasPrefix(rows[2][2], "≥ ") || rows[0][1] != "broke" || rows[2][1] != "held" {
		t.Errorf("table rows: %q / %q", rows[0], rows[2])
	}
}

func TestCompareNoneHeld(t *testing.T) {
	c := compareCases(t)["compare-none"]
	if c.Best != -1 || c.Top != 1 {
		t.Fatalf("best = %d, top = %d; want none, vps (1)", c.Best, c.Top)
	}
	a := c.Entries[1].A
	if !a.Broke || a.Capacity <= c.Entries[0].A.Capacity {
		t.Fatalf("vps: broke %v, capacity %v vs shared %v", a.Broke, a.Capacity, c.Entries[0].A.Capacity)
	}
	// How much more: the peak over each end of the band.
	if lo, hi := c.Peak/a.CapacityHi-1, c.Peak/max(a.CapacityLo, a.Capacity)-1; math.Abs(c.MoreLo-lo) > 1e-12 || math.Abs(c.MoreHi-hi) > 1e-12 || lo > hi {
		t.Errorf("more = %v–%v, want %v–%v", c.MoreLo, c.MoreHi, lo, hi)
	}
	// None held: the one that lost the fewest requests leads (vps lost
	// 781, shared 4,948).
	if !c.ByLost || !strings.HasPrefix(c.Verdict, "No plan held the SLO; vps lost the fewest: 781 requests (2.8%, at $40/month); it broke at ") ||
		!strings.Contains(c.Verdict, "more capacity is needed") || !strings.Contains(c.Verdict, "shared broke") {
		t.Errorf("verdict: %s", c.Verdict)
	}
	js := c.JSON()
	if js.Best != nil || js.Top == nil || *js.Top != "vps" || js.MoreCapacity == nil {
		t.Errorf("json: best %v top %v more %v", js.Best, js.Top, js.MoreCapacity)
	}
}

func TestCompareUnknownCostAndGenerator(t *testing.T) {
	lag := ampleHost()
	lag.genLagFrom, lag.genLagBy = 60*time.Second, 2*time.Second
	c := Compare([]CompareEntry{
		compareEntry(t, "mine", ampleHost(), math.NaN()),
		compareEntry(t, "laggy", lag, 10),
		compareEntry(t, "shared", starvedHost(), 5),
	})
	if c.Best != -1 || !c.Rows[0].Held || !c.Rows[1].Untested || c.Rows[1].Held {
		t.Fatalf("best %d; mine held %v; laggy untested %v", c.Best, c.Rows[0].Held, c.Rows[1].Untested)
	}
	// The plan that did not run its whole curve is named in the headline.
	if !strings.HasPrefix(c.Verdict, "Incomplete: laggy did not run its whole curve (the generator fell behind its schedule), so it is not ranked; of the rest, mine held the SLO through the whole curve, at a cost not known") {
		t.Errorf("verdict: %s", c.Verdict)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "laggy: the generator fell behind") {
		t.Errorf("warnings: %q", c.Warnings)
	}
	js := c.JSON()
	if js.Entries[0].MonthlyCost != nil || js.Entries[0].CostPer1kRPS != nil {
		t.Errorf("unknown cost printed as %v, %v", *js.Entries[0].MonthlyCost, js.Entries[0].CostPer1kRPS)
	}
	_, rows := c.TableRows()
	if rows[0][11] != "?" || rows[1][1] != "incomplete" {
		t.Errorf("rows: %q %q", rows[0], rows[1])
	}
}

// A comparison in which the cheaper plan was interrupted names no winner
// among plans it might have beaten: the interrupted plan held as far as it
// ran, the complete one broke, and the headline says the comparison is
// incomplete.
func TestCompareInterrupted(t *testing.T) {
	stopped := func(name string, h *simHost, cost float64) CompareEntry {
		info := testScenario(t, spikeCurve)
		info.Plan, info.PlanCost = name, cost
		info.Stopped, info.End = "interrupted", info.Start.Add(30*time.Second)
		f := NewFolder(info, time.Second)
		h.simulate(info, 1, func(r *vegeta.Result) {
			if r.Timestamp.Before(info.End) {
				f.Add(r)
			}
		})
		return CompareEntry{Name: name, A: Analyze(f.Windows(), info.Scenario.SLO), Cost: cost}
	}
	c := Compare([]CompareEntry{
		compareEntry(t, "shared", starvedHost(), 5),
		stopped("vps", ampleHost(), 40),
	})
	if c.Best != -1 || c.Rows[1].Held || !c.Rows[1].Untested {
		t.Fatalf("best %d, vps held %v untested %v: %s", c.Best, c.Rows[1].Held, c.Rows[1].Untested, c.Verdict)
	}
	if !strings.HasPrefix(c.Verdict, "Incomplete: vps did not run its whole curve (the run stopped early (interrupted) 30 s into the 2 m 40 s curve), so it is not ranked; of the rest, none held the SLO: shared ") ||
		strings.Contains(c.Verdict, "cheapest") {
		t.Errorf("verdict: %s", c.Verdict)
	}
	if js := c.JSON(); js.Entries[1].SLOHeld || !js.Entries[1].Untested {
		t.Errorf("compare.json: vps slo_held %v, untested %v", js.Entries[1].SLOHeld, js.Entries[1].Untested)
	}
}

// compare.json's per-entry figures are the entries' summary.json figures.
func TestCompareJSONMatchesSummaries(t *testing.T) {
	for name, c := range compareCases(t) {
		var js bytes.Buffer
		if err := c.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var got struct{ Entries []map[string]any }
		if err := json.Unmarshal(js.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for i, e := range c.Entries {
			var sj bytes.Buffer
			if err := e.A.WriteJSON(&sj); err != nil {
				t.Fatal(err)
			}
			var sum map[string]any
			if err := json.Unmarshal(sj.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			if n := checkSameFigures(t, name+"/"+e.Name, got.Entries[i], sum); n < 15 {
				t.Errorf("%s/%s: only %d fields compared", name, e.Name, n)
			}
		}
	}
}

// checkSameFigures reports every key compare.json's entry shares with
// summary.json whose value differs; it returns how many keys it compared.
func checkSameFigures(t *testing.T, what string, entry, summary map[string]any) int {
	t.Helper()
	n := 0
	for k, v := range entry {
		sv, ok := summary[k]
		if !ok {
			continue
		}
		n++
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(sv)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: compare.json %s = %s, summary.json %s", what, k, a, b)
		}
	}
	return n
}

// The p99 at the peak pools the peak windows: no window there is better
// than the pool in every respect, nor worse.
func TestPeakP99Pooled(t *testing.T) {
	for _, c := range compareCases(t) {
		for i, e := range c.Entries {
			a := e.A
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			for _, j := range a.Windows {
				if j.Offered >= 0.9*a.PeakOffered && j.Requests > 0 {
					lo, hi = min(lo, j.P99), max(hi, j.P99)
				}
			}
			if p := c.Rows[i].PeakP99; p < lo || p > hi || p <= 0 {
				t.Errorf("%s: peak p99 %v outside the peak windows' [%v, %v]", e.Name, p, lo, hi)
			}
		}
	}
}

// compare.html opens in Chromium with its verdict, table and three plots
// painted, each plan in its colour, and nothing loaded from the network.
func TestCompareHTMLInChromium(t *testing.T) {
	bin := findChromium(t)
	c := compareCases(t)["compare-held"]
	dir := t.TempDir()
	if keep := os.Getenv("FLASHCROWD_SCREENSHOT_DIR"); keep != "" {
		dir = filepath.Join(keep, "compare")
	}
	if err := WriteComparison(dir, c); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CompareHTMLFile, CompareMarkdownFile, CompareJSONFile, CompareLatencyPNG, CompareCapacityPNG, CompareRatePNG} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, CompareHTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(src|href)="https?://`).Match(page) {
		t.Error("compare.html loads something from the network")
	}
	if n := bytes.Count(page, []byte("<svg")); n != 3 {
		t.Errorf("compare.html has %d inline plots, want 3", n)
	}
	dom := string(chromium(t, bin, "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", "file://"+filepath.Join(dir, CompareHTMLFile)))
	if !strings.Contains(dom, c.Verdict[:60]) {
		t.Error("the verdict is not in the rendered page")
	}
	shot := filepath.Join(dir, "screenshot.png")
	chromium(t, bin, "--window-size=1400,3000", "--screenshot="+shot, "file://"+filepath.Join(dir, CompareHTMLFile))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range c.Entries {
		r, g, b, _ := CompareColor(i).RGBA()
		if n := countNear(img, uint8(r>>8), uint8(g>>8), uint8(b>>8)); n < 1500 {
			t.Errorf("%s: only %d pixels of its colour: its bar, dots and line did not paint", e.Name, n)
		}
	}
	if n := countNear(img, 0xf0, 0xfa, 0xf2); n < 20000 {
		t.Errorf("the verdict box is not painted (%d pixels of its background)", n)
	}
}

// Runs of page views add a column: the share of visitors who got a broken
// page at the peak, "-" for a run without page views.
func TestCompareVisitorsColumn(t *testing.T) {
	a, b := compareEntry(t, "shared", starvedHost(), 5), compareEntry(t, "cdn", ampleHost(), 60)
	c := Compare([]CompareEntry{a, b})
	head, _ := c.TableRows()
	for _, h := range head {
		if strings.Contains(h, "page views") {
			t.Fatalf("a comparison without page views has a visitors column: %q", head)
		}
	}
	a.A.Visitors = &VisitorsSummary{PeakViews: 200, PeakBrokenRatio: 0.415}
	c = Compare([]CompareEntry{a, b})
	head, rows := c.TableRows()
	if head[8] != "page views broken at peak" || head[7] != "errors at peak" || rows[0][8] != "42%" || rows[1][8] != "-" || len(rows[0]) != len(head) {
		t.Errorf("head %q\nrows %q", head, rows)
	}
	var out bytes.Buffer
	if err := c.WriteText(&out); err != nil || !strings.Contains(out.String(), "page views broken at peak") {
		t.Errorf("text: %v\n%s", err, out.String())
	}
	// Runs of journeys add each journey's failed share; compare.json
	// carries their counts.
	a.A.Visitors.Journeys = []JourneyRow{{Name: "browse", Started: 200, Completed: 190, Failed: 10}, {Name: "buy", Started: 10, Completed: 3, Failed: 7}}
	c = Compare([]CompareEntry{a, b})
	head, rows = c.TableRows()
	if head[9] != "journeys failed" || rows[0][9] != "browse 5%, buy 70%" || rows[1][9] != "-" || len(rows[0]) != len(head) {
		t.Errorf("head %q\nrows %q", head, rows)
	}
	if js := c.JSON(); len(js.Entries[0].Journeys) != 2 || js.Entries[0].Journeys[1].Failed != 7 || js.Entries[1].Journeys != nil {
		t.Errorf("compare.json journeys: %+v / %+v", js.Entries[0].Journeys, js.Entries[1].Journeys)
	}
}

// A host that holds the first second of a flat overload while its queue
// fills (260 req/s "held" above a band of about 218–252 req/s around the
// 229 req/s it served): the comparison's "more capacity needed" runs from
// the band, low to high, not from the queue-filling rate ("3–0%"), and
// the capacity fact says why that rate is not capacity.
func TestCompareMoreCapacityFromTheBand(t *testing.T) {
	a, info := analyzeSim(t, starvedHost(), "hold 260/s for 20s", 1)
	if a.Served <= 0 || a.Capacity <= a.CapacityHi {
		t.Fatalf("want a rate held above the band: held %v, band %v–%v, served %v", a.Capacity, a.CapacityLo, a.CapacityHi, a.Served)
	}
	c := Compare([]CompareEntry{{Name: info.Plan, A: a, Cost: 5}})
	wantLo, wantHi := 260/a.CapacityHi-1, 260/a.CapacityLo-1
	if math.Abs(c.MoreLo-wantLo) > 1e-9 || math.Abs(c.MoreHi-wantHi) > 1e-9 || c.MoreLo > c.MoreHi {
		t.Errorf("more capacity %v–%v, want %v–%v (peak over the band's ends): %s", c.MoreLo, c.MoreHi, wantLo, wantHi, c.Verdict)
	}
	facts := fmt.Sprint(a.Facts())
	if !strings.Contains(facts, "it had held 260 req/s before the break, for a while") {
		t.Errorf("facts: %s", facts)
	}
}

// A host where nothing answered is no capacity result: beside one that
// broke on the same curve it is not "the one that lost the fewest", and
// its row gives no band, break, survival or cost per capacity.
func TestCompareUnreachableLast(t *testing.T) {
	broke, _ := analyzeSim(t, starvedHost(), "hold 300/s for 20s", 1)
	info := testScenario(t, "hold 300/s for 20s")
	f := NewFolder(info, time.Second)
	starvedHost().simulate(info, 1, func(r *vegeta.Result) {
		r.Code, r.Latency, r.BytesIn = 0, 300*time.Microsecond, 0
		r.Error = `Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused`
		f.Add(r)
	})
	dead := Analyze(f.Windows(), info.Scenario.SLO)
	if dead.Kind != KindUnreachable || broke.Kind != KindBroke {
		t.Fatalf("kinds %s and %s", dead.Kind, broke.Kind)
	}
	c := Compare([]CompareEntry{{Name: "dead", A: dead, Cost: 5}, {Name: "small", A: broke, Cost: 5}})
	if c.Top != 1 || !strings.Contains(c.Verdict, "small lost the fewest") {
		t.Errorf("top %d: %s", c.Top, c.Verdict)
	}
	_, rows := c.TableRows()
	if got := rows[0]; got[1] != "no answer" || got[2] != "not measured (no answer)" || got[4] != "-" || got[5] != "-" || got[6] != "-" || got[9] != "-" || got[12] != "-" {
		t.Errorf("dead host's row: %q", got)
	}
}
