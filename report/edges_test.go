package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// attack is a plain vegeta attack at a constant rate: n requests from
// start, request i going to path(i) and answered by answer(i).
func attack(start time.Time, rate float64, n int, path func(i int) string, answer func(i int) (code uint16, lat time.Duration, err string)) []*vegeta.Result {
	var out []*vegeta.Result
	for i := 0; i < n; i++ {
		code, lat, e := answer(i)
		u := "http://127.0.0.1:8080" + path(i)
		if e != "" {
			e = fmt.Sprintf("Get %q: %s", u, e)
		}
		out = append(out, &vegeta.Result{Timestamp: start.Add(time.Duration(float64(i) / rate * float64(time.Second))),
			Latency: lat, Code: code, Error: e, Method: "GET", URL: u, Seq: uint64(i)})
	}
	return out
}

func fold(width time.Duration, files ...[]*vegeta.Result) *Windows {
	f := NewFolder(nil, width)
	for _, rs := range files {
		g := NewFolder(nil, width)
		for _, r := range rs {
			g.Add(r)
		}
		if err := f.Merge(g); err != nil {
			panic(err)
		}
	}
	return f.Windows()
}

func mustSLO(t *testing.T, s string) scenarios.SLO {
	t.Helper()
	slo, err := scenarios.ParseSLO(s, scenarios.DefaultSLO)
	if err != nil {
		t.Fatal(err)
	}
	return slo
}

func ok(int) (uint16, time.Duration, string) { return 200, 10 * time.Millisecond, "" }

// half the requests fail: 503s, resets and 1 s timeouts among them.
func halfFail(i int) (uint16, time.Duration, string) {
	switch i % 6 {
	case 1:
		return 503, time.Millisecond, ""
	case 3:
		return 0, time.Millisecond, "read tcp 127.0.0.1:5->127.0.0.1:8080: read: connection reset by peer"
	case 5:
		return 0, time.Second + time.Millisecond, "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
	}
	return ok(i)
}

func mix(i int) string { return []string{"/ok", "/404", "/ok", "/500", "/ok", "/slow"}[i%6] }

// A run no longer than the grace period where the SLO never held is a
// break at its start, whatever the window width; the verdict says how
// short the judged span was.
func TestShortRunNeverHeldBreaks(t *testing.T) {
	start := t0.Add(300 * time.Millisecond) // windows follow the clock: partial edges
	rs := attack(start, 40, 160, mix, halfFail)
	slo := mustSLO(t, "p99=800ms,errors=1%")
	for _, width := range []time.Duration{time.Second, 2 * time.Second} {
		a := Analyze(fold(width, rs), slo)
		if !a.Broke || a.BreakAt != 0 || a.SLOHeld() {
			t.Errorf("%s windows: a 4 s run that never held must break at 0 s: broke %v at %v: %s", width, a.Broke, a.BreakAt, a.Verdict)
		}
		if a.JudgedSecs >= slo.Grace.Seconds() || !strings.Contains(a.Verdict, "grace") {
			t.Errorf("%s windows: judged %v s; the verdict should say it is shorter than the grace: %s", width, a.JudgedSecs, a.Verdict)
		}
		var js bytes.Buffer
		if err := a.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var sum struct {
			SLOHeld  bool     `json:"slo_held"`
			JudgedS  *float64 `json:"judged_s"`
			Warnings []string `json:"warnings"`
		}
		if err := json.Unmarshal(js.Bytes(), &sum); err != nil {
			t.Fatal(err)
		}
		if sum.SLOHeld || sum.JudgedS == nil || math.Abs(*sum.JudgedS-4) > 0.1 || !strings.Contains(strings.Join(sum.Warnings, "\n"), "grace") {
			t.Errorf("%s windows: summary.json: %s", width, js.String())
		}
	}
	// Held first, then failing to the end for less than the grace: the
	// grace forgives the stretch, but not the 19% of all requests that
	// failed (the share gate).
	rs = attack(start, 40, 320, mix, func(i int) (uint16, time.Duration, string) {
		if i < 200 {
			return ok(i)
		}
		return halfFail(i)
	})
	if a := Analyze(fold(time.Second, rs), slo); !a.Broke || a.Gate != GateShare || !strings.Contains(a.Verdict, "of all requests failed, above the SLO's 1%") {
		t.Errorf("3 s of failures (19%% of all requests) after 5 s held, 5 s grace: gate %q: %s", a.Gate, a.Verdict)
	}
	// Slow but successful (p99 over the limit, no failures): the grace
	// forgives it.
	rs = attack(start, 40, 320, mix, func(i int) (uint16, time.Duration, string) {
		if i < 200 {
			return ok(i)
		}
		return 200, 2 * time.Second, ""
	})
	if a := Analyze(fold(time.Second, rs), slo); a.Broke {
		t.Errorf("3 s slow after 5 s held broke a 5 s grace: %s", a.Verdict)
	}
}

// Windows of a plain file follow the clock: a constant attack starting
// and ending mid-second has a rate counted over the part of each edge
// window it covers, and a sliver of a window neither sets the capacity nor
// makes a recovery.
func TestPartialEdgeWindows(t *testing.T) {
	start := t0.Add(807 * time.Millisecond)
	a := Analyze(fold(time.Second, attack(start, 40, 200, mix, ok)), mustSLO(t, "p99=800ms,errors=1%"))
	if a.Broke {
		t.Fatalf("broke: %s", a.Verdict)
	}
	for _, j := range a.Windows {
		if j.Requests > 0 && math.Abs(j.Offered-40) > 3 {
			t.Errorf("window at %v s (%d requests): offered %.1f req/s, want 40", j.Start, j.Requests, j.Offered)
		}
	}
	if math.Abs(a.Capacity-40) > 2 || math.Abs(a.PeakOffered-40) > 2 {
		t.Errorf("capacity %.1f, peak %.1f req/s: want 40: %s", a.Capacity, a.PeakOffered, a.Verdict)
	}

	// Failing from the first whole window: the 0.2 s sliver before it
	// held, but does not make the capacity.
	a = Analyze(fold(time.Second, attack(start, 40, 200, mix, func(i int) (uint16, time.Duration, string) {
		if i < 8 {
			return ok(i)
		}
		return halfFail(i)
	})), mustSLO(t, "p99=800ms,errors=1%,grace=2s"))
	if !a.Broke || a.Capacity != 0 {
		t.Errorf("capacity %v req/s from a 0.2 s sliver: %s", a.Capacity, a.Verdict)
	}

	// Failing throughout but for one last request alone in its window:
	// that request does not recover the host.
	rs := attack(t0.Add(10*time.Millisecond), 40, 321, mix, func(i int) (uint16, time.Duration, string) {
		if i == 320 {
			return ok(i)
		}
		return halfFail(i)
	})
	a = Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%"))
	if !a.Broke || a.RecoveredAt >= 0 || a.FellBelowAt >= 0 || strings.Contains(a.Verdict, "recovered") {
		t.Errorf("a 1-request tail window recovered the host (recovered at %v, fell below at %v): %s", a.RecoveredAt, a.FellBelowAt, a.Verdict)
	}
}

// Two files of one attack with a pause between them: the window that
// holds only the end of one and the start of the other is a sliver and
// does not cut the failing stretch in two.
func TestMergedFilesGap(t *testing.T) {
	first := attack(t0, 40, 161, mix, func(i int) (uint16, time.Duration, string) {
		if i == 160 {
			return ok(i)
		}
		return halfFail(i)
	})
	second := attack(t0.Add(4900*time.Millisecond), 40, 160, func(i int) string { return mix(i + 2) }, func(i int) (uint16, time.Duration, string) {
		if i < 4 {
			return ok(i)
		}
		return halfFail(i + 2)
	})
	a := Analyze(fold(time.Second, first, second), mustSLO(t, "p99=800ms,errors=1%"))
	if !a.Broke || a.BreakAt != 0 {
		t.Errorf("two failing files broke %v at %v: %s", a.Broke, a.BreakAt, a.Verdict)
	}
}

// An endpoint that fails its own SLO while the whole holds (too few of
// its requests failed to count: under smallFailed): the verdict and the
// facts say so rather than contradict each other.
func TestEndpointFailsWholeHolds(t *testing.T) {
	rs := attack(t0, 200, 4000, func(i int) string {
		if i%250 == 7 {
			return "/404"
		}
		return "/ok"
	}, func(i int) (uint16, time.Duration, string) {
		if i%250 == 7 {
			return 404, time.Millisecond, ""
		}
		return ok(i)
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%"))
	if a.Broke || a.First == nil {
		t.Fatalf("want the whole held and GET /404 failed: broke %v, first %v: %s", a.Broke, a.First, a.Verdict)
	}
	if !strings.Contains(a.Verdict, "GET /404 failed its own SLO") {
		t.Errorf("the verdict does not say GET /404 failed: %s", a.Verdict)
	}
	for _, f := range a.Facts() {
		if f[0] == "first to fail" {
			t.Errorf("facts say %q: %s while the SLO held", f[0], f[1])
		}
	}
}

// The verdict is one short sentence: the whole's reasons, the first
// failing endpoint's and how many more; comparisons never print both sides
// equal.
func TestVerdictBrief(t *testing.T) {
	rs := attack(t0.Add(300*time.Millisecond), 40, 400, mix, halfFail)
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=1s,errors=1%"))
	if !a.Broke {
		t.Fatalf("did not break: %s", a.Verdict)
	}
	if n := strings.Count(a.Verdict, "GET /"); n > 2 {
		t.Errorf("the verdict names %d endpoints: %s", n, a.Verdict)
	}
	if !strings.Contains(a.Verdict, "more endpoint") {
		t.Errorf("the verdict does not say more endpoints failed: %s", a.Verdict)
	}
	if len(a.Verdict) > 400 {
		t.Errorf("verdict of %d characters: %s", len(a.Verdict), a.Verdict)
	}
	same := regexp.MustCompile(`([0-9.]+ ?(?:%|ms|s)) [<>] ([0-9.]+ ?(?:%|ms|s))`)
	for _, s := range append(append([]string{a.Verdict}, a.BreakWhy...), a.Windows[1].Why...) {
		for _, m := range same.FindAllStringSubmatch(s, -1) {
			if m[1] == m[2] {
				t.Errorf("%q compares equal sides", m[0])
			}
		}
	}
	// The 1 s timeouts are failures: the p99 judged is the successes'.
	if why := strings.Join(a.BreakWhy, "; "); !strings.Contains(why, "errors 50% > 1%") || strings.Contains(why, "p99") {
		t.Errorf("break reasons: %q", a.BreakWhy)
	}
}

// The recovery the plots and summary.json give is the one the text tells.
func TestRecoveryAgrees(t *testing.T) {
	// Failing for 8 s, then holding for 8 s, at the same rate: the SLO
	// held again, though traffic never fell below capacity.
	rs := attack(t0, 40, 640, mix, func(i int) (uint16, time.Duration, string) {
		if i < 320 {
			return halfFail(i)
		}
		return ok(i)
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%"))
	if !a.Broke || a.RecoveredAt < 0 {
		t.Fatalf("want a break and recovery: %s", a.Verdict)
	}
	if !strings.Contains(a.Verdict, "recovered at 8 s") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	for _, f := range a.Facts() {
		if f[0] == "recovery" && strings.HasPrefix(f[1], "none") {
			t.Errorf("recovery %q, while recovered_at_s is %v", f[1], a.RecoveredAt)
		}
	}
}

// No results: nothing is claimed about the capacity.
func TestEmptyReport(t *testing.T) {
	a := Analyze(NewFolder(nil, time.Second).Windows(), scenarios.DefaultSLO)
	if !strings.Contains(a.Verdict, "not tested") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	for _, f := range a.Facts() {
		if strings.Contains(f[1], "at least 0") || strings.Contains(f[1], "held at every rate") {
			t.Errorf("%s: %s", f[0], f[1])
		}
	}
	if s := a.Summary(); s.CapacityBand[0] != nil || s.SLOHeld {
		t.Errorf("summary of nothing: band %v, held %v", s.CapacityBand, s.SLOHeld)
	}
}

// A reset on a path that says "timeout" is a reset.
func TestClassifyErrorIgnoresURL(t *testing.T) {
	for s, want := range map[string]ErrorKind{
		`Get "http://127.0.0.1:8/session-timeout": read tcp 127.0.0.1:5->127.0.0.1:8: read: connection reset by peer`: Reset,
		`Get "http://127.0.0.1:8/deadline": dial tcp 127.0.0.1:8: connect: connection refused`:                        Refused,
		`Get "http://127.0.0.1:8/certificate?redirect=1": EOF`:                                                        Reset,
		`Get "http://127.0.0.1:8/ok": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`:     Timeout,
	} {
		if got := ClassifyError(s); got != want {
			t.Errorf("ClassifyError(%q) = %s, want %s", s, got, want)
		}
	}
}

// Marker labels clear the legend and one another, and the legend clears
// the top of the frame, with the break at t = 0.
func TestLabelsClearLegend(t *testing.T) {
	rs := attack(t0, 40, 640, mix, func(i int) (uint16, time.Duration, string) {
		if i < 320 {
			return halfFail(i)
		}
		return ok(i)
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%,grace=0s"))
	if !a.Broke || a.BreakAt != 0 || a.RecoveredAt < 0 {
		t.Fatalf("want a break at 0 s and a recovery: %s", a.Verdict)
	}
	d := a.plotData()
	check := func(name string, p *plot.Plot, m *marks) {
		c := draw.New(vgimg.New(PlotSize[0], PlotSize[1]))
		dc := p.DataCanvas(c)
		leg, _, placed := m.place(dc, p)
		var labels []vg.Rectangle
		for _, l := range placed {
			labels = append(labels, l.box())
		}
		if leg.Max.Y > dc.Max.Y-vg.Points(2) {
			t.Errorf("%s: the legend's top %v is on the frame's %v", name, leg.Max.Y, dc.Max.Y)
		}
		if len(labels) == 0 {
			t.Errorf("%s: no labels", name)
		}
		boxes := append([]vg.Rectangle{leg}, labels...)
		for i := range boxes {
			for j := i + 1; j < len(boxes); j++ {
				if b, o := boxes[i], boxes[j]; b.Min.X < o.Max.X && o.Min.X < b.Max.X && b.Min.Y < o.Max.Y && o.Min.Y < b.Max.Y {
					t.Errorf("%s: boxes %d and %d overlap: %v %v", name, i, j, b, o)
				}
			}
		}
	}
	p := newPanel("rates", "req/s")
	m := &marks{}
	if err := a.markers(p, m, d, 1, 100); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"offered", "achieved (2xx/3xx done)", "sent"} {
		if err := line(p, d.x, d.x, colOffered, 1, nil, n); err != nil {
			t.Fatal(err)
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = d.x0, d.x1, 1, 100
	finish(p, m)
	check("overview", p, m)
}

// SavePlot refuses a format it cannot write before touching the file, and
// writes the others whole.
func TestSavePlot(t *testing.T) {
	dir := t.TempDir()
	p := newPanel("test", "req/s")
	if err := line(p, []float64{0, 1}, []float64{1, 2}, colOffered, 1, nil, "offered"); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"keep.txt", "noext"} {
		err := SavePlot(p, 10*vg.Centimeter, 5*vg.Centimeter, filepath.Join(dir, name))
		if err == nil || !scenarios.IsInvalid(err) {
			t.Errorf("SavePlot(%s) = %v, want an invalid-input error", name, err)
		}
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "keep me" {
		t.Errorf("keep.txt now %q (%v)", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "noext")); !os.IsNotExist(err) {
		t.Errorf("noext was created: %v", err)
	}
	png := filepath.Join(dir, "curve.png")
	if err := SavePlot(p, 10*vg.Centimeter, 5*vg.Centimeter, png); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("curve.png: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("left in the directory: %v", es)
	}
}

// Plain vegeta files of a step ramp (5 s at each of 300 … 1,300 req/s,
// steps starting half-way through the clock's windows) against a host that
// serves 750 req/s and answers the rest 503: the band is the saturated
// host's (the breaking window's average straddles two steps and is not
// its top), and it holds 750 req/s.
func TestPlainStepRampBand(t *testing.T) {
	const capacity = 750.0
	var files [][]*vegeta.Result
	start := t0.Add(500 * time.Millisecond)
	served := map[int64]float64{} // successes per 1/10 s
	for k, rate := range []float64{300, 450, 600, 700, 800, 900, 1100, 1300} {
		at := start.Add(time.Duration(k) * 5 * time.Second)
		rs := attack(at, rate, int(5*rate), func(int) string { return "/" }, ok)
		for _, r := range rs {
			slot := r.Timestamp.UnixNano() / int64(100*time.Millisecond)
			if served[slot] >= capacity/10 {
				r.Code, r.Latency = 503, time.Millisecond
				continue
			}
			served[slot]++
		}
		files = append(files, rs)
	}
	a := Analyze(fold(time.Second, files...), mustSLO(t, "p99=1s,errors=1%,grace=2s"))
	if !a.Broke || a.CapacityLo > capacity || a.CapacityHi < capacity || a.CapacityHi > 1.15*capacity {
		t.Errorf("band %.0f–%.0f, want it to hold %v (and top ≤ +15%%): %s", a.CapacityLo, a.CapacityHi, capacity, a.Verdict)
	}
}

// A target answering something other than HTTP (the wrong port, https
// spoken to plain http) fails every request as garbage: the verdict says
// the answers were not HTTP and asks about the scheme and port, and the
// error kind is "garbage", not "other".
func TestGarbageAnswers(t *testing.T) {
	rs := attack(t0, 50, 300, func(int) string { return "/" }, func(int) (uint16, time.Duration, string) {
		return 0, time.Millisecond, `net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01"`
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=1s,errors=1%"))
	if !strings.Contains(a.Verdict, "all 300 failed: the answers were not HTTP; is the URL's scheme (http or https) or port right?") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	if s := a.Summary(); s.Errors["garbage"] != 300 || s.Errors["other"] != 0 {
		t.Errorf("summary.json errors %v, want garbage: 300", s.Errors)
	}
}

// The verdict says how the endpoint that broke it failed: an endpoint
// answering 403 to every request reads "GET /b: errors 100% (http 403)".
func TestVerdictNamesHowAnEndpointFailed(t *testing.T) {
	rs := attack(t0, 50, 300, func(i int) string { return []string{"/a", "/b"}[i%2] }, func(i int) (uint16, time.Duration, string) {
		if i%2 == 1 {
			return 403, time.Millisecond, ""
		}
		return 200, 10 * time.Millisecond, ""
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=1s,errors=1%"))
	if !strings.Contains(a.Verdict, "GET /b: errors 100% (http 403)") {
		t.Errorf("verdict: %s", a.Verdict)
	}
	// summary.json: /b's latency of successes is null (none succeeded),
	// not 0 ms a script could take for fast; /a's is its own.
	seen := 0
	for _, e := range a.Summary().Endpoints {
		if e.Name == "GET /a" || e.Name == "GET /b" {
			seen++
		}
		switch {
		case e.Name == "GET /b" && (e.P50Ms != nil || e.P99Ms != nil || e.MaxMs != nil):
			t.Errorf("%s: latency %v/%v/%v ms with no success", e.Name, e.P50Ms, e.P99Ms, e.MaxMs)
		case e.Name == "GET /a" && (e.P99Ms == nil || *e.P99Ms < 9 || *e.P99Ms > 11):
			t.Errorf("%s: p99 %v ms, want 10", e.Name, e.P99Ms)
		}
	}
	if seen != 2 {
		t.Errorf("summary.json: %d of the endpoints GET /a and GET /b", seen)
	}
}

// A checkout at 0.9% of the requests, limited to 1 a second (nginx's
// limit_req on /api/), fails most of its orders while the rest of the mix
// holds: the SLO fails (exit 3), never "held", and the mix's capacity is
// what the checkout limits it to: 1/s ÷ 0.9%, about 110 req/s.
func TestSmallEndpointFailingBreaks(t *testing.T) {
	perSec := map[int64]int{}
	rs := attack(t0, 300, 9000, func(i int) string {
		if i%110 == 7 {
			return "/api/checkout"
		}
		return "/ok"
	}, func(i int) (uint16, time.Duration, string) {
		if i%110 == 7 {
			sec := int64(i) / 300
			if perSec[sec]++; perSec[sec] > 1 {
				return 503, time.Millisecond, ""
			}
		}
		return ok(i)
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%"))
	if !a.Broke || a.SLOHeld() || a.First == nil || a.First.Name != "GET /api/checkout" {
		t.Fatalf("want a break by the checkout: broke %v, first %v: %s", a.Broke, a.First, a.Verdict)
	}
	if a.CapacityLo > 110 || a.CapacityHi < 110 || a.CapacityHi > 150 {
		t.Errorf("band %.0f–%.0f misses the mix's capacity, 110 req/s: %s", a.CapacityLo, a.CapacityHi, a.Verdict)
	}
}
