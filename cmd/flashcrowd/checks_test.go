package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
