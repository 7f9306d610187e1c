package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// runCLI runs the CLI in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCurveJSONPressSpike(t *testing.T) {
	code, out, errs := runCLI(t, "curve", "--scenario", "press-spike", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var full curveJSON
	if err := json.Unmarshal([]byte(out), &full); err != nil {
		t.Fatal(err)
	}
	s, _ := scenarios.Builtin("press-spike")
	if full.PeakRPS != 35000 || full.TotalRequests != s.Curve.Total() || full.DurationS != 17*3600 {
		t.Fatalf("peak %g total %g duration %g", full.PeakRPS, full.TotalRequests, full.DurationS)
	}
	// The total is the integral of the rate: check it against a numerical
	// integral of r(t) from the same JSON's curve, independently of N.
	var integral float64
	const dt = 0.5
	for x := dt / 2; x < full.DurationS; x += dt {
		integral += s.Curve.Rate(x) * dt
	}
	if math.Abs(integral-full.TotalRequests)/full.TotalRequests > 1e-4 {
		t.Fatalf("total_requests %g, midpoint integral %g", full.TotalRequests, integral)
	}
	var sum float64
	for _, p := range full.Phases {
		sum += p.Requests
	}
	if math.Abs(sum-full.TotalRequests) > 1e-6*full.TotalRequests || len(full.Phases) != 4 {
		t.Fatalf("phases sum to %g of %g", sum, full.TotalRequests)
	}

	code, out, errs = runCLI(t, "curve", "--scenario", "press-spike", "--compress", "60", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var fast curveJSON
	if err := json.Unmarshal([]byte(out), &fast); err != nil {
		t.Fatal(err)
	}
	if fast.PeakRPS != 35000 || math.Abs(fast.DurationS*60-full.DurationS) > 1e-6 || math.Abs(fast.TotalRequests*60-full.TotalRequests) > 1e-6*full.TotalRequests {
		t.Fatalf("compressed: peak %g duration %g total %g", fast.PeakRPS, fast.DurationS, fast.TotalRequests)
	}
}

func TestCurveTableAndPlots(t *testing.T) {
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.svg")
	code, out, errs := runCLI(t, "curve", "--curve", "quiet: hold 300/d for 2h, climb: exp 300/d to 2000/s over 20m, decay 2000/s half-life 30m for 3h", "--png", png, "--svg", svg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"quiet", "climb", "decay", "total", "2k/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("no PNG written: %v", err)
	}
	b, err = os.ReadFile(svg)
	if err != nil || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("climb")) {
		t.Fatalf("no SVG with phase names written: %v", err)
	}
}

func TestMalformedScenarioExits2WithPosition(t *testing.T) {
	code, out, errs := runCLI(t, "curve", "--scenario", "../../testdata/scenarios/bad.yaml")
	if code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	if out != "" {
		t.Fatalf("wrote to stdout on bad input: %q", out)
	}
	for _, want := range []string{"bad.yaml:4:", "bad.yaml:14:1: colour: unknown field", "endpoints[0].weight"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	png := filepath.Join(t.TempDir(), "x.png")
	if code, _, _ := runCLI(t, "curve", "--curve", "hold 10/s for", "--png", png); code != exitUsage {
		t.Fatalf("bad --curve: exit %d", code)
	}
	if _, err := os.Stat(png); err == nil {
		t.Fatal("a plot was written for a bad curve")
	}
}

func TestUsage(t *testing.T) {
	if code, out, _ := runCLI(t, "help"); code != 0 || !strings.Contains(out, "curve") || !strings.Contains(out, "scenarios") {
		t.Fatalf("help: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "curve", "-h"); code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--compress") {
		t.Fatalf("curve -h: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "curve", "--bogus"); code != exitUsage || !strings.Contains(errs, "bogus") {
		t.Fatalf("bad flag: %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "nosuch"); code != exitUsage {
		t.Fatalf("unknown command: %d", code)
	}
	if code, out, _ := runCLI(t, "scenarios"); code != 0 || !strings.Contains(out, "press-spike") || !strings.Contains(out, "35k/s") {
		t.Fatalf("scenarios: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "curve", "--rate", "50/s", "--duration", "2m", "--json"); code != 0 || !strings.Contains(out, `"total_requests": 6000`) {
		t.Fatalf("--rate/--duration: %d %s", code, out)
	}
}

func TestScenarioFlagsGivenAsZeroOrEmptyExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--peak", "0/s"}, "--peak must be > 0"},
		{[]string{"--max-rate", "0/s"}, "--max-rate must be > 0"},
		{[]string{"--curve", ""}, "--curve is empty"},
		{[]string{"--curve", " , ,"}, "--curve is empty"},
		{[]string{"--rate", "0/s", "--duration", "1m"}, "--rate must be > 0"},
		{[]string{"--rate", "0/s"}, "--rate must be > 0"},
	} {
		code, out, errs := runCLI(t, append([]string{"curve", "--json"}, tc.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("curve %q: exit %d, stdout %d bytes, stderr %q; want exit 2 and %q", tc.args, code, len(out), errs, tc.want)
		}
	}
}

func TestCurveInlineReplayRelativeToCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "traffic.csv"), []byte("time,rate\n0,10\n60,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errs := runCLI(t, "curve", "--curve", "replay traffic.csv scale 2", "--json")
	if code != 0 || !strings.Contains(out, `"total_requests": 1800`) {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
}

func TestScenariosShowLoadsAsIsFromAnyDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, name := range scenarios.BuiltinNames() {
		code, yaml, errs := runCLI(t, "scenarios", "--show", name)
		if code != 0 {
			t.Fatalf("--show %s: exit %d: %s", name, code, errs)
		}
		if err := os.WriteFile("my.yaml", []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, got, errs := runCLI(t, "curve", "--scenario", "my.yaml", "--json")
		_, want, _ := runCLI(t, "curve", "--scenario", name, "--json")
		if code != 0 {
			t.Errorf("%s as shown: exit %d: %s", name, code, errs)
			continue
		}
		var g, w curveJSON
		if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil || g.TotalRequests != w.TotalRequests || g.Curve != w.Curve {
			t.Errorf("%s as shown differs from the built-in", name)
		}
	}
}
