package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// A page-view scenario run end to end against the built-in simulated host:
// the report leads with visitors in every output, and a mistake in the
// assets is exit 2 with file:line:col and nothing written.
func TestRunPageViews(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.yaml")
	good := `name: shop
curve: "hold 20/s for 3s"
endpoints:
  - {name: home, path: /, assets: [hero, thumb×4]}
  - {name: hero, path: /img/hero.jpg}
  - {name: thumb, path: /img/t.jpg}
`
	if err := os.WriteFile(file, []byte(strings.Replace(good, "thumb×4", "thumbs×4", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	code, _, stderr := runCLI(t, "run", "--scenario", file, "--out", out)
	if want := file + `:4:42: endpoints[0].assets: no endpoint "thumbs" (endpoints: home, hero, thumb)`; code != exitUsage || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %s", code, stderr, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused scenario left %s behind", out)
	}

	if err := os.WriteFile(file, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", "--scenario", file, "--out", out, "--connections-per-visitor", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Visitors (page views)") || !strings.Contains(stdout, "At the peak every visitor got the whole page (60 page views)") {
		t.Errorf("no visitors in the output:\n%s", stdout)
	}
	if !strings.Contains(stderr, "sending 60 page views (about 360 requests, 6 a visitor)") {
		t.Errorf("the plan line does not count page views:\n%s", stderr)
	}
	var sum report.Summary
	b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if v := sum.Visitors; v == nil || v.Views != 60 || v.Complete != 60 || sum.Requests != 360 {
		t.Errorf("summary.json: visitors %+v, %d requests; want 60 complete page views of 6 requests", v, sum.Requests)
	}
	html, _ := os.ReadFile(filepath.Join(out, report.HTMLFile))
	md, _ := os.ReadFile(filepath.Join(out, report.MarkdownFile))
	if !strings.Contains(string(html), `<table id="visitors">`) || !strings.Contains(string(md), "### Visitors (page views)") {
		t.Error("report.html or report.md has no visitors table")
	}
	info, err := scenarios.ReadRunInfo(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Engine != "visits" || info.Visits != scenarios.VisitsFile || info.Options["connections-per-visitor"] != "2" {
		t.Errorf("run.json: engine %q, visits %q, options %v", info.Engine, info.Visits, info.Options["connections-per-visitor"])
	}
	// report of the directory again reads the visits.
	code, stdout, _ = runCLI(t, "report", out, "--out", filepath.Join(dir, "again"))
	if code != 0 || !strings.Contains(stdout, "Visitors (page views)") {
		t.Errorf("report again: exit %d\n%s", code, stdout)
	}
}

// Journeys end to end against the built-in simulated host: its pages set
// the session cookie, its checkout answers order ids that the journey
// captures and fetches; the report's journeys table and verdict say how
// many completed.
func TestRunJourneys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, []byte(`name: shop
curve: "hold 10/s for 2s"
endpoints:
  - {name: home, path: /}
  - {name: cart, method: POST, path: /api/cart}
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}"}
journeys:
  browse: {weight: 1, steps: [home]}
  buy: {weight: 1, think: 10ms, steps: [home, cart, {endpoint: checkout, capture: {order_id: "json:$.id"}}, order]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI(t, "run", "--scenario", file, "--plan", "vps", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "sending 20 journeys (about 50 requests, 2.5 a visitor)") {
		t.Errorf("plan line:\n%s", stderr)
	}
	flat := strings.Join(strings.Fields(stdout), " ") // the verdict is wrapped
	if !strings.Contains(flat, "Journeys: every browse journey completed (10); every buy journey completed (10).") || !strings.Contains(stdout, "\nJourneys\n") {
		t.Errorf("no journeys in the report:\n%s", stdout)
	}
	var sum report.Summary
	b, _ := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if v := sum.Visitors; v == nil || len(v.Journeys) != 2 || v.Journeys[1].Completed != 10 || sum.Requests != 50 || sum.Failed != 0 {
		t.Errorf("summary.json: %+v, %d requests, %d failed", sum.Visitors, sum.Requests, sum.Failed)
	}
}

// flashcrowd simulate of the main job's scenario (journeys whose first
// step is a page view) predicts visitors as a run measures them: the
// report leads with them, summary.json counts the page views and the
// journeys, and a report of the saved run at a coarser
// window keeps them (a simulation has no visits file: they are saved
// with its windows).
func TestSimulatePageViews(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sim")
	code, stdout, stderr := runCLI(t, "simulate", "--scenario", "press-spike-visitors", "--compress", "400", "--peak", "132/s", "--out", out)
	if code != exitSLO {
		t.Fatalf("exit %d, want %d (the shared plan breaks)\n%s\n%s", code, exitSLO, stdout, stderr)
	}
	if !strings.Contains(stdout, "Visitors (page views)") || !strings.Contains(stdout, "visitors got a broken page") {
		t.Errorf("no visitors in the output:\n%s", stdout)
	}
	if !strings.Contains(stderr, "5,144 journeys over") || !strings.Contains(stderr, "requests/s)") {
		t.Errorf("the plan line does not count the journeys:\n%s", stderr)
	}
	readSum := func(dir string) report.Summary {
		t.Helper()
		var sum report.Summary
		b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	sum := readSum(out)
	v := sum.Visitors
	if v == nil || v.Views == 0 || v.Complete == 0 || v.Broken == 0 || v.PeakBrokenRatio <= 0 || len(v.PeakBrokenBy) == 0 {
		t.Fatalf("visitors: %+v", v)
	}
	if len(v.Journeys) != 2 || v.Journeys[0].Started+v.Journeys[1].Started != v.Views {
		t.Errorf("journeys %+v: want browse and buy, one page view each", v.Journeys)
	}
	if !strings.Contains(v.BrokenBy[0].Name, "photos") && !strings.Contains(v.BrokenBy[0].Name, "image") && !strings.Contains(v.BrokenBy[0].Name, "thumb") {
		t.Errorf("page views broken mostly by %q on the shared plan, whose images fail first: %+v", v.BrokenBy[0].Name, v.BrokenBy)
	}
	if _, err := os.Stat(filepath.Join(out, scenarios.VisitsFile)); !os.IsNotExist(err) {
		t.Errorf("a simulation wrote %s (its visitors are folded)", scenarios.VisitsFile)
	}
	again := filepath.Join(t.TempDir(), "again")
	if code, stdout, stderr := runCLI(t, "report", out, "--window", "5s", "--out", again); code != exitSLO {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	w := readSum(again).Visitors
	if w == nil || w.Views != v.Views || w.Complete != v.Complete || w.PeakViews == 0 {
		t.Errorf("report at 5 s windows: visitors %+v, want the simulation's %d page views, %d complete", w, v.Views, v.Complete)
	}
}

// {{name}} in an endpoint the plain mix sends would go out as written (a
// reviewer's /api/orders/{{id}} got 404s): run and curve refuse the file,
// exit 2, naming where it is written.
func TestVarOutsideJourneyIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "orders.yaml")
	if err := os.WriteFile(file, []byte(`name: orders
curve: "hold 10/s for 1m"
endpoints:
  - {name: home, path: /}
  - {name: order, path: "/api/orders/{{id}}"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	want := file + `:5:26: endpoints[1].path: {{id}} is filled in only in journeys (a capture or feeder column), but endpoint "order" is sent on its own`
	// run is compressed into a temporary directory: were the file
	// accepted, it would send a second to the simulated host on loopback.
	for _, args := range [][]string{{"curve"}, {"run", "--compress", "60", "--out", filepath.Join(t.TempDir(), "run"), "-q"}} {
		args = append(args, "--scenario", file)
		if code, _, stderr := runCLI(t, args...); code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, want %d with\n%s\nstderr:\n%s", args[0], code, exitUsage, want, stderr)
		}
	}
}
