package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// curveTable reads curve's table: each row's cells, the footer last.
func curveTable(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	for _, ln := range strings.Split(out, "\n") {
		if !strings.HasPrefix(ln, "│") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(ln, "│"), "│") {
			cells = append(cells, strings.TrimSpace(c))
		}
		if header == nil {
			header = cells
		} else {
			rows = append(rows, cells)
		}
	}
	if len(rows) < 2 {
		t.Fatalf("no table:\n%s", out)
	}
	return header, rows
}

// count reads a count as fmtCount prints it.
func count(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	for _, r := range s {
		switch {
		case r == ',':
		case '0' <= r && r <= '9':
			n = 10*n + uint64(r-'0')
		default:
			t.Fatalf("%q is not a count", s)
		}
	}
	return n
}

// The rows count the requests a run sends in each phase: they add up to
// the total, which is what run plans, however the halves fall (337.5 +
// 600 + 225 offered; 1,163 sent, not 1,162).
func TestCurveRowsAddUpToWhatRunSends(t *testing.T) {
	const curve = "up: ramp 0/s to 15/s over 45s, hold 10/s for 1m, down: ramp 15/s to 0/s over 30s"
	code, out, errs := runCLI(t, "curve", "--curve", curve)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, rows := curveTable(t, out)
	var got []uint64
	for _, r := range rows {
		got = append(got, count(t, r[len(r)-1]))
	}
	if want := []uint64{338, 600, 225, 1163}; !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v:\n%s", got, want, out)
	}
	c, err := scenarios.ParseCurve("t", curve, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests() != 1163 {
		t.Fatalf("a run sends %d", c.Requests())
	}

	code, out, errs = runCLI(t, "curve", "--scenario", "press-spike", "--compress", "400", "--peak", "77/s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j curveJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	var sent uint64
	for _, p := range j.Phases {
		sent += p.Sent
	}
	if sent != j.RequestsSent || j.Arrivals != "requests" || j.AboutRequests != 0 {
		t.Fatalf("phases send %d of %d; arrivals %q, about %d", sent, j.RequestsSent, j.Arrivals, j.AboutRequests)
	}
}

// For journeys the counts are journeys, labelled so, and a column gives
// the requests they send, adding up to run's "about N requests".
func TestCurveVisitorsCountsJourneysAndRequests(t *testing.T) {
	code, out, errs := runCLI(t, "curve", "--scenario", "press-spike-visitors")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	header, rows := curveTable(t, out)
	if n := len(header); n < 2 || header[n-2] != "JOURNEYS" || header[n-1] != "REQUESTS" {
		t.Fatalf("header %q", header)
	}
	if !strings.Contains(out, "Rates and counts are of journeys") {
		t.Fatalf("no note on what is counted:\n%s", out)
	}
	s, err := scenarios.Builtin("press-spike-visitors")
	if err != nil {
		t.Fatal(err)
	}
	arrivals, requests := s.Curve.Requests(), aboutRequests(s.Curve.Requests(), s.RequestsPerArrival())
	var a, r uint64
	for _, row := range rows[:len(rows)-1] {
		a += count(t, row[len(row)-2])
		r += count(t, row[len(row)-1])
	}
	foot := rows[len(rows)-1]
	if a != arrivals || r != requests || count(t, foot[len(foot)-2]) != arrivals || count(t, foot[len(foot)-1]) != requests {
		t.Fatalf("rows %d journeys, %d requests; footer %q; want %d, %d", a, r, foot, arrivals, requests)
	}
	// scenarios lists the same requests.
	if code, out, _ := runCLI(t, "scenarios"); code != 0 || !strings.Contains(out, fmtCount(float64(requests))) {
		t.Fatalf("scenarios lacks %s requests:\n%s", fmtCount(float64(requests)), out)
	}
}

// curve sends nothing: a scenario whose ${ENV:NAME} variables are unset
// still prints (a lint step in CI without secrets); run still refuses it.
func TestCurveWithUnsetEnv(t *testing.T) {
	const unset = "FLASHCROWD_TEST_UNSET_9F3"
	if _, ok := os.LookupEnv(unset); ok {
		t.Skipf("%s is set", unset)
	}
	file := filepath.Join(t.TempDir(), "env.yaml")
	yaml := `name: env
curve: "hold 10/s for 1m"
endpoints:
  - {name: login, method: POST, url: "${ENV:` + unset + `}/login", headers: {Authorization: "Bearer ${ENV:` + unset + `}"}}
  - {name: page, path: "/p/${ENV:` + unset + `}?q=1"}
  - {name: other, url: "https://${ENV:` + unset + `}/x"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "curve", "--scenario", file)
	if code != 0 || !strings.Contains(out, "600") || !strings.Contains(errs, "${ENV:"+unset+"} not set") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if _, err := scenarios.LoadEnv(file, os.LookupEnv); err == nil || !strings.Contains(err.Error(), unset+" is not set") {
		t.Fatalf("LoadEnv (run's load): %v", err)
	}
	// Set but empty: the same note.
	t.Setenv(unset, "")
	if code, _, errs := runCLI(t, "curve", "--scenario", file); code != 0 || !strings.Contains(errs, "${ENV:"+unset+"} not set (or empty)") {
		t.Fatalf("an empty variable: exit %d\n%s", code, errs)
	}
	os.Unsetenv(unset)
	// Everything else is still checked.
	bad := strings.Replace(yaml, "for 1m", "for", 1)
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "curve", "--scenario", file); code != exitUsage || !strings.Contains(errs, "missing duration") {
		t.Fatalf("bad curve: exit %d: %s", code, errs)
	}
}
