package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The verdict's ground truth: real runs on loopback against hosts whose
// capacity is known (a plain queue of W workers of fixed service time, and
// the built-in plans' simulated hosts), in every way a run can be
// compressed and end. Each case asserts the verdict's kind, that the
// capacity band holds the true capacity where a break is reported, and the
// exit status.

// queueHost is a plain queueing stand-in of known capacity: one server
// that answers a request every 1/capacity seconds, first come first
// served, with up to queue requests waiting; the rest get a 503 at once.
// Departures follow an exact schedule (each is 1/capacity after the one
// before, or after the arrival if the server was idle), so a sleep that
// overshoots delays one answer but not the rate: the capacity is the
// nominal one however busy the machine.
func queueHost(t *testing.T, capacity float64, queue int) (*httptest.Server, float64) {
	t.Helper()
	gap := time.Duration(float64(time.Second) / capacity)
	var mu sync.Mutex
	var next time.Time // when the server is next free
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if next.Before(now) {
			next = now
		}
		if next.Sub(now) > time.Duration(queue)*gap {
			mu.Unlock()
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		next = next.Add(gap)
		done := next
		mu.Unlock()
		time.Sleep(time.Until(done))
		w.Write([]byte("<html>ok</html>"))
	}))
	t.Cleanup(s.Close)
	return s, capacity
}

// verdictRun is a finished run's exit status, summary.json and text.
type verdictRun struct {
	code   int
	sum    report.Summary
	stdout string
	stderr string
	dir    string
}

// summaryOf reads dir's summary.json.
func summaryOf(t *testing.T, dir string) report.Summary {
	t.Helper()
	s, _ := readSummary(t, dir)
	return s
}

// runVerdict runs `flashcrowd run args... --out DIR` in-process.
func runVerdict(t *testing.T, args ...string) verdictRun {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, append(append([]string{"run"}, args...), "--out", dir)...)
	if _, err := os.Stat(filepath.Join(dir, report.SummaryFile)); err != nil {
		t.Fatalf("exit %d, no report: %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errs)
	}
	return verdictRun{code: code, sum: summaryOf(t, dir), stdout: out, stderr: errs, dir: dir}
}

// expectBroke checks a run that must have broken, with a band holding truth.
func (v verdictRun) expectBroke(t *testing.T, truth float64) {
	t.Helper()
	s := v.sum
	if v.code != exitSLO || s.SLOHeld || s.Kind != report.KindBroke {
		t.Errorf("exit %d, slo_held %v, kind %q, want 3, false, broke: %s", v.code, s.SLOHeld, s.Kind, s.Verdict)
	}
	if strings.Contains(s.Verdict, "held the SLO through") {
		t.Errorf("a run that broke says it held: %s", s.Verdict)
	}
	lo, hi := s.CapacityBand[0], s.CapacityBand[1]
	if lo == nil || hi == nil || *lo > truth || *hi < truth {
		t.Errorf("capacity band %v–%v misses the true capacity %.0f req/s: %s", deref(lo), deref(hi), truth, s.Verdict)
	}
	if lines := strings.Split(strings.TrimSpace(v.stderr), "\n"); !strings.Contains(lines[len(lines)-1], "SLO failed") {
		t.Errorf("the last line does not say why the exit status is 3: %q", lines[len(lines)-1])
	}
}

func deref(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

// phaseOf is the summary's row for phase name.
func phaseOf(t *testing.T, s report.Summary, name string) report.SummaryPhase {
	t.Helper()
	for _, p := range s.Phases {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no phase %q in %+v", name, s.Phases)
	return report.SummaryPhase{}
}

func TestVerdictGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("real loopback runs, about 2 minutes")
	}
	// The plain queue: 400 req/s, 20 waiting at most.
	const (
		capacity = 400
		queue    = 20
	)

	t.Run("uncompressed", func(t *testing.T) {
		t.Parallel()
		s, truth := queueHost(t, capacity, queue)
		v := runVerdict(t, "--target", s.URL, "--curve", "calm: hold 200/s for 5s, over: hold 600/s for 7s, after: hold 200/s for 4s", "--quiet")
		v.expectBroke(t, truth)
		if v.sum.Gate != report.GateStretch || v.sum.BreakPhase != "over" {
			t.Errorf("gate %q, phase %q: %s", v.sum.Gate, v.sum.BreakPhase, v.sum.Verdict)
		}
	})

	// Compressed: the SLO's grace (5 s of the story) is 5/K s of the run,
	// never less than one window, so a spike that overloads the host for
	// three windows of the run breaks it, though it is shorter than 5 s.
	for _, k := range []struct {
		compress string
		curve    string
	}{
		{"100", "calm: hold 200/s for 8m, over: hold 600/s for 5m, after: hold 200/s for 6m"},
		{"400", "calm: hold 200/s for 30m, over: hold 600/s for 20m, after: hold 200/s for 25m"},
	} {
		t.Run("compress "+k.compress, func(t *testing.T) {
			t.Parallel()
			s, truth := queueHost(t, capacity, queue)
			v := runVerdict(t, "--target", s.URL, "--curve", k.curve, "--compress", k.compress, "--quiet")
			v.expectBroke(t, truth)
			// The stretch outlasted the scaled grace: the grace, not the
			// share of failures, decided.
			if v.sum.Gate != report.GateStretch || v.sum.SLO.JudgedGraceS != 1 || v.sum.SLO.GraceS != 5 {
				t.Errorf("gate %q, grace %v s judged as %v s: %s", v.sum.Gate, v.sum.SLO.GraceS, v.sum.SLO.JudgedGraceS, v.sum.Verdict)
			}
			if !strings.Contains(v.stdout, "5 s of the story = 50 ms of this run at 100×") && k.compress == "100" {
				t.Errorf("the report does not state the grace in both times:\n%s", v.stdout)
			}
			// The same run judged with the grace in run time holds the
			// 3 s spike's stretch within the grace, but the share gate
			// still refuses "held": a fifth of the requests failed.
			code, out, _ := runCLI(t, "report", v.dir, "--slo", "run-grace=5s", "--out", filepath.Join(t.TempDir(), "r"), "--json")
			var s2 report.Summary
			if err := json.Unmarshal([]byte(out), &s2); err != nil {
				t.Fatal(err)
			}
			if code != exitSLO || s2.SLOHeld || s2.Gate != report.GateShare || !strings.Contains(s2.Verdict, "of all requests failed") {
				t.Errorf("run-grace=5s: exit %d, held %v, gate %q: %s", code, s2.SLOHeld, s2.Gate, s2.Verdict)
			}
		})
	}

	// The case: press-spike compressed 2,000× with its peak at
	// 1,200/s against the shared plan (about 754 req/s for the mix). The
	// peak lasts 3.6 s, less than the scenario's 10 s grace in run time.
	t.Run("compress 2000 press-spike shared", func(t *testing.T) {
		t.Parallel()
		plan, err := hosting.LoadPlan("shared")
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := scenarios.Builtin("press-spike")
		truth := plan.Capacity(sc.Endpoints)
		v := runVerdict(t, "--scenario", "press-spike", "--compress", "2000", "--peak", "1200/s", "--quiet")
		v.expectBroke(t, truth)
		if p := phaseOf(t, v.sum, "morning peak"); p.State != "broke" {
			t.Errorf("the morning peak (%d of %d failed) reads %q", p.Failed, p.Requests, p.State)
		}
		if !strings.Contains(v.stdout, "grace") || !strings.Contains(v.stdout, "of this run at 2,000×") {
			t.Errorf("the report does not say how the grace was applied:\n%s", v.stdout)
		}
		html, _ := os.ReadFile(filepath.Join(v.dir, report.HTMLFile))
		if !strings.Contains(string(html), `class="verdict broke"`) {
			t.Errorf("the HTML banner is not red")
		}
	})

	// A spike shorter than a grace given in run time: the stretch is
	// forgiven, the share of failed requests is not.
	t.Run("peak shorter than the grace", func(t *testing.T) {
		t.Parallel()
		s, truth := queueHost(t, capacity, queue)
		v := runVerdict(t, "--target", s.URL, "--curve", "calm: hold 200/s for 6s, spike: hold 900/s for 3s, after: hold 200/s for 5s",
			"--slo", "run-grace=5s", "--quiet")
		v.expectBroke(t, truth)
		if v.sum.Gate != report.GateShare || v.sum.HostFailedRatio <= 0.01 || !strings.Contains(v.sum.Verdict, "though no failing stretch outlasted the 5 s grace") {
			t.Errorf("gate %q, failed %v: %s", v.sum.Gate, v.sum.HostFailedRatio, v.sum.Verdict)
		}
	})

	// The window that breaks holds the last half second of a quiet phase
	// and the first half of a surge: the break is the surge's, in the
	// verdict and the phase table alike.
	t.Run("break straddling a phase boundary", func(t *testing.T) {
		t.Parallel()
		s, truth := queueHost(t, capacity, queue)
		v := runVerdict(t, "--target", s.URL, "--curve", "quiet: hold 50/s for 5500ms, surge: hold 900/s for 6s, after: hold 50/s for 4s", "--quiet")
		v.expectBroke(t, truth)
		if v.sum.BreakPhase != "surge" || !strings.Contains(v.sum.Verdict, `"surge" phase`) {
			t.Errorf("break phase %q: %s", v.sum.BreakPhase, v.sum.Verdict)
		}
		q, sg := phaseOf(t, v.sum, "quiet"), phaseOf(t, v.sum, "surge")
		if q.State != "held" || q.BreakBegan || sg.State != "broke" || !sg.BreakBegan {
			t.Errorf("phase table: quiet %s (began %v), surge %s (began %v)", q.State, q.BreakBegan, sg.State, sg.BreakBegan)
		}
		if !strings.Contains(v.stdout, "broke (began here)") {
			t.Errorf("the phase table does not mark where the break began:\n%s", v.stdout)
		}
	})

	// The target stops answering 3 s into the run: not a capacity break.
	t.Run("target stops answering", func(t *testing.T) {
		t.Parallel()
		s, _ := queueHost(t, capacity, queue)
		go func() {
			time.Sleep(4 * time.Second)
			s.Close()
		}()
		v := runVerdict(t, "--target", s.URL, "--rate", "100/s", "--duration", "10s", "--no-abort", "--quiet")
		if v.code != exitSLO || v.sum.SLOHeld || v.sum.Kind != report.KindUnreachable || v.sum.DownAtS == nil {
			t.Fatalf("exit %d, kind %q: %s", v.code, v.sum.Kind, v.sum.Verdict)
		}
		if !strings.Contains(v.sum.Verdict, "stopped answering") || !strings.Contains(v.sum.Verdict, "connection refused") ||
			strings.Contains(v.sum.Verdict, "capacity") && !strings.Contains(v.sum.Verdict, "not a capacity break") {
			t.Errorf("verdict: %s", v.sum.Verdict)
		}
		if *v.sum.DownAtS < 2 || *v.sum.DownAtS > 6 {
			t.Errorf("down at %v s, want about 4", *v.sum.DownAtS)
		}
	})

	// A results file cut short: the report says where the results end and
	// never blames the generator for the requests after the cut.
	t.Run("truncated results", func(t *testing.T) {
		t.Parallel()
		s, _ := queueHost(t, capacity, queue)
		v := runVerdict(t, "--target", s.URL, "--rate", "150/s", "--duration", "8s", "--quiet")
		if v.code != exitOK || v.sum.Kind != report.KindHeld {
			t.Fatalf("the whole run: exit %d, kind %q: %s", v.code, v.sum.Kind, v.sum.Verdict)
		}
		os.Remove(filepath.Join(v.dir, report.WindowsFile))
		res := filepath.Join(v.dir, "results.gob")
		st, err := os.Stat(res)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(res, st.Size()*6/10+3); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "r")
		code, text, errs := runCLI(t, "report", v.dir, "--out", out)
		sum := summaryOf(t, out)
		if code != exitSLO || sum.SLOHeld || sum.Kind != report.KindIncomplete || sum.CutAtS == nil || sum.GeneratorBehind || sum.Unsent != 0 {
			t.Errorf("cut file: exit %d, kind %q, cut at %v, generator behind %v, unsent %d: %s", code, sum.Kind, deref(sum.CutAtS), sum.GeneratorBehind, sum.Unsent, sum.Verdict)
		}
		if strings.Contains(text, "generator") || strings.Contains(text, "never sent") || !strings.Contains(sum.Verdict, "results end at") {
			t.Errorf("cut file blamed on the generator, or not said:\n%s\n%s", text, errs)
		}
	})
}

// An interrupted run and an interrupted comparison never read "held".
func TestVerdictInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("real loopback runs in child processes, about 30 s")
	}
	t.Run("run", func(t *testing.T) {
		s, _ := queueHost(t, 400, 20)
		dir := filepath.Join(t.TempDir(), "run")
		cmd, stderr, done := startRun(t, "--target", s.URL, "--rate", "100/s", "--duration", "20s", "--out", dir)
		time.Sleep(3 * time.Second)
		cmd.Process.Signal(syscall.SIGINT)
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("still running 20s after SIGINT\n%s", stderr.String())
		}
		if code := exitStatus(err); code != exitInterrupted {
			t.Errorf("exit %d, want %d", code, exitInterrupted)
		}
		sum := summaryOf(t, dir)
		if sum.SLOHeld || sum.Kind != report.KindIncomplete || !strings.HasPrefix(sum.Verdict, "Incomplete: the run stopped early (interrupted)") {
			t.Errorf("kind %q, held %v: %s", sum.Kind, sum.SLOHeld, sum.Verdict)
		}
	})
	t.Run("compare", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "cmp")
		cmd, stderr, done := startChildCmd(t, "compare: vps:", "compare", "--plan", "shared", "--plan", "vps", "--rate", "200/s", "--duration", "6s", "--out", out)
		time.Sleep(2 * time.Second)
		cmd.Process.Signal(syscall.SIGINT)
		var err error
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("still running 30s after SIGINT\n%s", stderr.String())
		}
		if code := exitStatus(err); code != exitInterrupted {
			t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
		}
		b, err := os.ReadFile(filepath.Join(out, report.CompareJSONFile))
		if err != nil {
			t.Fatal(err)
		}
		var c report.CompareJSON
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if c.Best != nil || !strings.HasPrefix(c.Verdict, "Incomplete: vps did not run its whole curve") || strings.Contains(c.Verdict, "cheapest") {
			t.Errorf("best %v: %s", c.Best, c.Verdict)
		}
	})
}
