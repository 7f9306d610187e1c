package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// writeRun writes a run directory: a 30 s hold at 100/s whose host answers
// 503 to a third of the requests from 10 s on.
func writeRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c, err := scenarios.ParseCurve("test", "calm: hold 100/s for 10s, storm: hold 100/s for 20s", nil)
	if err != nil {
		t.Fatal(err)
	}
	info := &scenarios.RunInfo{Tool: "flashcrowd", Target: "http://127.0.0.1:1", Shards: 1, Results: "results.gob",
		Start:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		End:      time.Date(2026, 1, 2, 3, 4, 35, 0, time.UTC),
		Scenario: &scenarios.Scenario{Name: "cli-test", Curve: c, Compress: 1, SLO: scenarios.DefaultSLO, Endpoints: scenarios.DefaultEndpoints()}}
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(filepath.Join(dir, "results.gob"))
	if err != nil {
		t.Fatal(err)
	}
	enc := vegeta.NewEncoder(fh)
	for seq := uint64(0); seq < c.Requests(); seq++ {
		due := info.Due(seq)
		r := vegeta.Result{Seq: seq, Method: "GET", URL: "http://127.0.0.1:1/", Timestamp: info.Start.Add(due), Latency: 20 * time.Millisecond, Code: 200}
		if due > 10*time.Second && seq%3 == 0 {
			r.Code, r.Error = 503, "503 Service Unavailable"
		}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	fh.Close()
	return dir
}

func TestReportCommand(t *testing.T) {
	dir := writeRun(t)
	var out, errb bytes.Buffer
	// The scenario's own SLO fails (a third of the storm's requests): exit
	// 3, the reason on the last line.
	if code := run([]string{"report", dir}, nil, &out, &errb); code != exitSLO {
		t.Fatalf("exit %d, want 3: %s", code, errb.String())
	}
	if lines := strings.Split(strings.TrimSpace(errb.String()), "\n"); !strings.HasPrefix(lines[len(lines)-1], "flashcrowd report: the scenario's SLO failed 10s into the run, at 100/s offered") {
		t.Errorf("last line: %q", lines[len(lines)-1])
	}
	// The storm is at the calm's rate: failing a third there is a fault,
	// not the host's capacity.
	if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), `failed the SLO at the start of the "storm" phase at 100 req/s, a rate it had held before`) {
		t.Errorf("verdict:\n%s", out.String())
	}
	for _, f := range []string{report.OverviewPNG, report.OverviewSVG, report.LatencyVsLoadPNG, report.EndpointsPNG, report.HTMLFile, report.MarkdownFile, report.SummaryFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}

	// An SLO on the command line that fails: exit 3, for CI.
	out.Reset()
	errb.Reset()
	outDir := filepath.Join(t.TempDir(), "r")
	if code := run([]string{"report", dir, "--slo", "errors=5%", "--out", outDir, "--json"}, nil, &out, &errb); code != exitSLO {
		t.Fatalf("failing --slo: exit %d, want 3: %s", code, errb.String())
	}
	var s report.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.SLOHeld || s.BreakAtS == nil || *s.BreakAtS != 10 {
		t.Errorf("--json: %v %+v", err, s)
	}
	if _, err := os.Stat(filepath.Join(outDir, report.HTMLFile)); err != nil {
		t.Errorf("--out: %v", err)
	}
	// One that holds: exit 0.
	if code := run([]string{"report", dir, "--slo", "errors=50%,throughput=50%", "--out", outDir}, nil, &out, &errb); code != exitOK {
		t.Errorf("holding --slo: exit %d: %s", code, errb.String())
	}
	// Bad usage and bad input: exit 2.
	for _, args := range [][]string{
		{"report"},
		{"report", dir, "--slo", "p99=fast"},
		{"report", dir, "--window", "-1s"},
		{"report", filepath.Join(dir, "missing")},
	} {
		errb.Reset()
		if code := run(args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errb.String())
		}
	}
	// The same results as a plain vegeta file (no run.json beside it).
	plain := filepath.Join(t.TempDir(), "results.bin")
	b, _ := os.ReadFile(filepath.Join(dir, "results.gob"))
	os.WriteFile(plain, b, 0o644)
	out.Reset()
	if code := run([]string{"report", plain, "--window", "2s"}, nil, &out, &errb); code != exitSLO || !strings.Contains(out.String(), "The target failed the SLO") {
		t.Errorf("plain file: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// writeShard writes shard i of n of a small run into dir/shard-i, as run
// --shard writes it: its run.json and its share of the schedule's results.
func writeShard(t *testing.T, dir string, i, n int) string {
	t.Helper()
	dir = filepath.Join(dir, fmt.Sprintf("shard-%d", i))
	c, err := scenarios.ParseCurve("test", "hold 60/s for 5s", nil)
	if err != nil {
		t.Fatal(err)
	}
	info := &scenarios.RunInfo{Tool: "flashcrowd", Target: "http://127.0.0.1:1", Shard: i, Shards: n, Results: "results.gob",
		Start:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		End:      time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC),
		Scenario: &scenarios.Scenario{Name: "shards", Curve: c, Compress: 1, SLO: scenarios.DefaultSLO, Endpoints: scenarios.DefaultEndpoints()}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(filepath.Join(dir, "results.gob"))
	if err != nil {
		t.Fatal(err)
	}
	enc := vegeta.NewEncoder(fh)
	for seq := uint64(0); seq*uint64(n)+uint64(i) < c.Requests(); seq++ {
		r := vegeta.Result{Seq: seq, Method: "GET", URL: "http://127.0.0.1:1/", Timestamp: info.Start.Add(info.Due(seq)), Latency: 5 * time.Millisecond, Code: 200}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	fh.Close()
	return dir
}

// A report of shards with one missing says so once: in the report text,
// not again on stderr, and without a second line counting the shards
// given. With --json (no text on stdout) the warnings go to stderr, once.
func TestReportWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	sh0, sh2 := writeShard(t, dir, 0, 3), writeShard(t, dir, 2, 3)
	code, out, errs := runCLI(t, "report", sh0, sh2, "--out", filepath.Join(dir, "r"))
	if code != exitSLO {
		t.Fatalf("exit %d, want 3 (incomplete)\n%s%s", code, out, errs)
	}
	const missing = "shard 1 of 3 missing"
	if strings.Count(out, "warning: incomplete: "+missing) != 1 || strings.Contains(out, "shards' results were given") {
		t.Errorf("stdout: want the warning %q once and no count of shards given:\n%s", missing, out)
	}
	if strings.Contains(errs, "warning:") {
		t.Errorf("stderr repeats the report's warnings:\n%s", errs)
	}

	code, out, errs = runCLI(t, "report", sh0, sh2, "--json", "--out", filepath.Join(dir, "j"))
	if code != exitSLO {
		t.Fatalf("--json: exit %d\n%s", code, errs)
	}
	var sum struct{ Warnings []string }
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(sum.Warnings, "\n"); strings.Count(w, missing) != 1 || strings.Contains(w, "shards' results were given") {
		t.Errorf("summary.json warnings %q", sum.Warnings)
	}
	if strings.Count(errs, "warning: incomplete: "+missing) != 1 || strings.Contains(errs, "shards' results were given") {
		t.Errorf("--json: stderr should carry each warning once:\n%s", errs)
	}
}
