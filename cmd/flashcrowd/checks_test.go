package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestOutHoldsRun: every "this --out already holds a run" is exit 2
// before a simulated host starts, a request is sent or a simulation runs,
// and leaves what was there untouched: for run (its results, its run.json
// or its saved windows), simulate and compare (plans and --simulate).
func TestOutHoldsRun(t *testing.T) {
	s, n := countingServer(t, 0, 200)
	held := func(file string) string {
		dir := filepath.Join(t.TempDir(), "held")
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, file), []byte("earlier run\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	untouched := func(name, dir string) {
		t.Helper()
		es, _ := os.ReadDir(dir)
		if len(es) != 1 {
			t.Errorf("%s: %s now holds %d files", name, dir, len(es))
		}
		for _, e := range es {
			if b, _ := os.ReadFile(filepath.Join(dir, e.Name())); string(b) != "earlier run\n" {
				t.Errorf("%s: %s was overwritten", name, e.Name())
			}
		}
	}
	file := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(file, nil, 0o644)
	cmp := t.TempDir()
	os.MkdirAll(filepath.Join(cmp, "vps"), 0o755)
	os.WriteFile(filepath.Join(cmp, "vps", scenarios.RunInfoFile), []byte("earlier run\n"), 0o644)

	for _, c := range []struct {
		name string
		args []string
		dir  string // untouched after
		want string
	}{
		{"run, sim host, run.json", []string{"run", "--rate", "10/s", "--duration", "1s", "--out", "DIR"}, held(scenarios.RunInfoFile), "already holds a run (run.json)"},
		{"run, target, results", []string{"run", "--rate", "10/s", "--duration", "1s", "--target", s.URL, "--out", "DIR"}, held("results.gob"), "already holds a run (results.gob)"},
		{"run, windows", []string{"run", "--rate", "10/s", "--duration", "1s", "--out", "DIR"}, held(report.WindowsFile), "already holds a run (windows.json.gz)"},
		{"run, a file", []string{"run", "--rate", "10/s", "--duration", "1s", "--out", file}, "", "is a file, not a directory"},
		{"simulate", []string{"simulate", "--curve", "hold 10/s for 1s", "--out", "DIR"}, held(scenarios.RunInfoFile), "already holds a run (run.json)"},
		{"simulate, windows", []string{"simulate", "--curve", "hold 10/s for 1s", "--out", "DIR"}, held(report.WindowsFile), "already holds a run"},
		{"compare", []string{"compare", "--rate", "10/s", "--duration", "1s", "--plan", "shared", "--plan", "vps", "--out", cmp}, filepath.Join(cmp, "vps"), "vps already holds a run (run.json)"},
		{"compare --simulate", []string{"compare", "--simulate", "--rate", "10/s", "--duration", "1s", "--plan", "vps", "--out", cmp}, filepath.Join(cmp, "vps"), "vps already holds a run"},
	} {
		args := append([]string(nil), c.args...)
		for i, a := range args {
			if a == "DIR" {
				args[i] = c.dir
			}
		}
		code, out, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with %q", c.name, code, errs, c.want)
		}
		if strings.Contains(errs, "simulated host") || strings.Contains(errs, "simulating") || strings.Contains(out, "requests") {
			t.Errorf("%s: started before refusing:\n%s%s", c.name, out, errs)
		}
		if c.dir != "" {
			untouched(c.name, c.dir)
		}
	}
	if _, err := os.Stat(filepath.Join(cmp, "shared")); !os.IsNotExist(err) {
		t.Errorf("compare ran shared before refusing vps's directory: %v", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests sent", n.Load())
	}
}

// reencode rewrites a gob results file in another of vegeta's encodings.
func reencode(t *testing.T, gobPath string, enc func(io.Writer) vegeta.Encoder) []byte {
	t.Helper()
	var b bytes.Buffer
	e := enc(&b)
	for _, r := range decodeAll(t, gobPath) {
		if err := e.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// TestReportStdin: `flashcrowd report -` reads a results stream from
// stdin, through a real pipe, in each of vegeta's encodings, and reports it
// as the same results in a file.
func TestReportStdin(t *testing.T) {
	dir := writeRun(t)
	gob := filepath.Join(dir, "results.gob")
	for name, enc := range map[string]func(io.Writer) vegeta.Encoder{
		"gob": vegeta.NewEncoder, "json": vegeta.NewJSONEncoder, "csv": vegeta.NewCSVEncoder,
	} {
		data := reencode(t, gob, enc)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { pw.Write(data); pw.Close() }()
		out := filepath.Join(t.TempDir(), "r")
		var stdout, stderr bytes.Buffer
		code := run([]string{"report", "-", "--out", out}, pr, &stdout, &stderr)
		pr.Close()
		if code != exitSLO || !strings.Contains(stdout.String(), "The target failed the SLO") { // the default SLO fails: exit 3
			t.Errorf("%s: exit %d\n%s%s", name, code, stdout.String(), stderr.String())
			continue
		}
		var s report.Summary
		b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
		if err != nil || json.Unmarshal(b, &s) != nil || s.Requests != 3000 {
			t.Errorf("%s: summary.json: %v, %d requests; want 3000", name, err, s.Requests)
		}
	}
	// - given twice, or with nothing piped in (no stdin): exit 2.
	for _, args := range [][]string{{"report", "-", "-"}, {"report", "-", dir}} {
		if code, _, errs := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d: %s", args, code, errs)
		}
	}
}

// TestReportQuiet: report -q writes every report file and prints the
// verdict alone; with a failing --slo, the one error line besides.
func TestReportQuiet(t *testing.T) {
	dir := writeRun(t)
	out := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr := runCLI(t, "report", dir, "-q", "--out", out)
	var s report.Summary
	b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	// The scenario's SLO fails: exit 3, its reason the one line on stderr.
	if code != exitSLO || stdout != s.Verdict+"\n" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "the scenario's SLO failed") {
		t.Errorf("-q: exit %d, stdout %q, stderr %q; want the verdict %q alone", code, stdout, stderr, s.Verdict)
	}
	for _, f := range []string{report.HTMLFile, report.MarkdownFile, report.OverviewPNG} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("-q: %v", err)
		}
	}
	code, stdout, stderr = runCLI(t, "report", dir, "--quiet", "--slo", "errors=5%", "--out", out)
	if b, err = os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if code != exitSLO || stdout != s.Verdict+"\n" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "SLO failed") {
		t.Errorf("-q, failing --slo: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "report", dir, "-q", "--json"); code != exitUsage || !strings.Contains(stderr, "give one of them") {
		t.Errorf("-q --json: exit %d, %q", code, stderr)
	}
}

// TestReportRunDirDamage: from the command line, a damaged windows.json.gz
// is reported from the results with a warning (exit 3: the run broke), and is exit 2
// naming it when there are no results; a --window finer than a
// simulation's saved windows (no results file) is exit 2 saying the width.
func TestReportRunDirDamage(t *testing.T) {
	dir := writeRun(t)
	os.WriteFile(filepath.Join(dir, report.WindowsFile), []byte("not gzip"), 0o644)
	code, stdout, stderr := runCLI(t, "report", dir)
	// Once, in the report text (stderr holds it only when the text goes
	// elsewhere: TestReportWarnsOnce).
	if code != exitSLO || strings.Contains(stderr, "is unreadable") ||
		strings.Count(stdout, "warning: "+filepath.Join(dir, report.WindowsFile)+" is unreadable") != 1 {
		t.Errorf("damaged windows: exit %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(filepath.Join(dir, "results.gob"))
	code, _, stderr = runCLI(t, "report", dir)
	if code != exitUsage || !strings.Contains(stderr, filepath.Join(dir, report.WindowsFile)+": unreadable") {
		t.Errorf("damaged windows, no results: exit %d, %q", code, stderr)
	}

	sim := filepath.Join(t.TempDir(), "sim")
	if code, _, stderr := runCLI(t, "simulate", "--curve", "hold 50/s for 5s", "--plan", "vps", "--window", "1s", "--out", sim, "-q"); code != exitOK {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "report", sim, "--window", "500ms")
	if code != exitUsage || !strings.Contains(stderr, "the saved windows are 1s wide") || !strings.Contains(stderr, "give --window 1s or a multiple") {
		t.Errorf("--window 500ms: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "report", sim, "--window", "2s", "-q"); code != exitOK {
		t.Errorf("--window 2s: exit %d, %q", code, stderr)
	}
}
