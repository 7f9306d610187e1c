package scenarios

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{
		"300/d": 300.0 / 86400, "20/m": 20.0 / 60, "5/h": 5.0 / 3600, "35000/s": 35000,
		"35_000/s": 35000, "2.5/min": 2.5 / 60, "50/1s": 50, "100/10s": 10, "0/s": 0,
	} {
		got, err := ParseRate(in)
		if err != nil || math.Abs(float64(got)-want) > 1e-12 {
			t.Errorf("ParseRate(%q) = %v, %v; want %g", in, float64(got), err, want)
		}
	}
	for _, in := range []string{"300", "-5/s", "20000000/s", "x/s", "5/fortnight", "NaN/s", ""} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
	for _, r := range []Rate{35000, 20.0 / 60, 300.0 / 86400, 5.0 / 3600} {
		back, err := ParseRate(r.String())
		if err != nil || math.Abs(float64(back-r)) > 1e-3*float64(r) {
			t.Errorf("%v does not round-trip: %v %v", float64(r), back, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "1d": 24 * time.Hour, "1d6h": 30 * time.Hour, "1.5d": 36 * time.Hour, "2h30m": 150 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "3 days", "-1d", "400d", "d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestBadScenarioListsEveryProblemWithPosition(t *testing.T) {
	_, err := Load("../testdata/scenarios/bad.yaml")
	if err == nil {
		t.Fatal("bad scenario accepted")
	}
	if !IsInvalid(err) {
		t.Fatalf("error is not an input problem: %v", err)
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %T", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"bad.yaml:4:11: curve[0]: rate \"-5/s\" is negative",
		"bad.yaml:6:", "exp needs both rates > 0",
		"bad.yaml:7:", "missing duration",
		"bad.yaml:8:", `unknown segment "warp"`,
		"bad.yaml:10:", "endpoints[0].weight: must be > 0",
		"bad.yaml:11:", "endpoints[1].path", "must start with /", "endpoints[1].class",
		"bad.yaml:12:", "endpoints[2].method",
		"bad.yaml:13:", "slo.p99", "slo.errors",
		"bad.yaml:14:1: colour: unknown field",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, p := range ps {
		if p.Line == 0 || p.Col == 0 || p.File != "../testdata/scenarios/bad.yaml" {
			t.Errorf("problem without a position: %v", p)
		}
	}
	// Sorted by position.
	for i := 1; i < len(ps); i++ {
		if ps[i].Line < ps[i-1].Line {
			t.Errorf("problems out of order: %v before %v", ps[i-1], ps[i])
		}
	}
}

func TestGoodScenarioFile(t *testing.T) {
	s, err := Load("../testdata/scenarios/launch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "small-launch" || s.Compress != 20 || len(s.Endpoints) != 3 || len(s.Abort) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	if s.Endpoints[1].Class != Asset || s.Endpoints[2].Class != API || s.Endpoints[2].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("endpoints %+v", s.Endpoints)
	}
	if s.SLO.P99 != 500*time.Millisecond || s.SLO.MaxErrorRatio != 0.01 {
		t.Fatalf("slo %+v", s.SLO)
	}
	sp := s.Curve.Spans()
	if len(sp) != 4 || sp[1].Name != "mail sent" || sp[3].Kind != "replay" {
		t.Fatalf("spans %+v", sp)
	}
	// The replayed file is scaled by 2: its peak 30/s becomes 60/s.
	if got := sp[3].Peak; got != 60 {
		t.Fatalf("replay peak %g", got)
	}
}

func TestReplayCSV(t *testing.T) {
	f, _ := os.Open("../testdata/curves/timestamps.csv")
	defer f.Close()
	pts, err := ReadPoints("timestamps.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 || pts[0].T != 0 || pts[3].T != 3*3600 || pts[2].Rate != 40 || math.Abs(pts[0].Rate-5.0/60) > 1e-12 {
		t.Fatalf("points %+v", pts)
	}
	b, _ := os.Open("../testdata/curves/bad.csv")
	defer b.Close()
	_, err = ReadPoints("bad.csv", b)
	if err == nil {
		t.Fatal("bad CSV accepted")
	}
	for _, want := range []string{"bad.csv:4:1: time: times must increase", "bad.csv:5:1: time:", "bad.csv:6:5: rate: must be >= 0", "bad.csv:7:5: rate:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestInlineCurveErrorsPointAtTheToken(t *testing.T) {
	_, err := ParseCurve("--curve", "hold 10/s for 1m, ramp 5/s too 9/s over 1m", nil)
	if err == nil || !strings.Contains(err.Error(), `--curve:1:28: segment 2: expected "to", found "too"`) {
		t.Fatalf("got %v", err)
	}
	if _, err := ParseCurve("--curve", "", nil); err == nil {
		t.Fatal("empty curve accepted")
	}
	if _, err := ParseCurve("--curve", "hold 0/s for 1h", nil); err == nil {
		t.Fatal("a curve with no traffic accepted")
	}
}

func TestParseSLOAndAbort(t *testing.T) {
	s, err := ParseSLO("p99=800ms,errors=1%", DefaultSLO)
	if err != nil || s.P99 != 800*time.Millisecond || s.MaxErrorRatio != 0.01 || s.MinThroughput != DefaultSLO.MinThroughput {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := ParseSLO("p99=fast", DefaultSLO); err == nil {
		t.Fatal("bad slo accepted")
	}
	r, err := ParseAbortRule("p99 > 10s for 30s")
	if err != nil || r.Metric != "p99" || r.Threshold != 10 || r.For != 30*time.Second || r.String() != "p99 > 10s for 30s" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestRunInfoRoundTrip(t *testing.T) {
	s, _ := Builtin("launch-flood")
	dir := t.TempDir()
	in := &RunInfo{Tool: "flashcrowd", Scenario: s, Shard: 1, Shards: 4, Start: time.Unix(1700000000, 0).UTC()}
	if err := WriteRunInfo(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out.Scenario.Curve.Total() != s.Curve.Total() || out.Due(10) != in.Due(10) || out.Scenario.SLO != s.SLO {
		t.Fatalf("round trip changed the run: %v vs %v", out.Due(10), in.Due(10))
	}
	// Shard 1 of 4: seq 10 is global request 41.
	if want := secs(s.Curve.Due(41)); in.Due(10) != want {
		t.Fatalf("Due(10) = %v, want %v", in.Due(10), want)
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, p := range []string{"../testdata/scenarios/bad.yaml", "../testdata/scenarios/launch.yaml", "builtin/press-spike.yaml", "builtin/breakpoint.yaml"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("curve: hold 1/s for 1s\nendpoints: [{path: /, weight: 2}]"))
	f.Add([]byte("curve: [&a x, *a]\n"))
	f.Add([]byte("curve: hold 1/s for 1s\nendpoints:\n  - {path: /, expect: {status: [200, 304], body_contains: \"Add to cart\", max_latency: 2s, min_bytes: 1KB}}\n"))
	f.Add([]byte("curve: hold 1/s for 1s\nendpoints:\n  - {path: /, expect: {status: abc, min_bytes: -1, x: 1}}\n"))
	f.Add([]byte("curve: hold 1/s for 1s\nendpoints:\n  - {url: \"http://${ENV:H}/a\", headers: {A: \"${ENV:T\"}, body: \"${ENV:}\"}\n"))
	f.Add([]byte(pageViewYAML))
	f.Add([]byte(journeyEndpoints + "journeys:\n  buy: {weight: 2, think: exp 1s, steps: [home, {endpoint: checkout, capture: {order_id: \"json:$.a[0].id\"}}, order]}\n  b: {steps: [home]}\n"))
	f.Add([]byte("curve: hold 1/s for 1s\nendpoints:\n  - {path: /, assets: [a×2, \"b x3\", {c: 1}]}\n  - {name: a, path: /a.jpg}\n  - {name: b, path: /b.css, weight: 2}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, nil)
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error is not an input problem: %v", err)
			}
			return
		}
		if s.Curve == nil || s.Curve.Total() <= 0 || len(s.Endpoints) == 0 {
			t.Fatalf("accepted a scenario without traffic: %+v", s)
		}
		// Page views: every asset is another endpoint, and some arrival
		// has weight.
		if k := s.RequestsPerArrival(); !(k >= 1) || math.IsInf(k, 0) {
			t.Fatalf("requests per arrival %g", k)
		}
		names := map[string]bool{}
		for _, e := range s.Endpoints {
			names[e.Name] = true
		}
		arrivals := 0.0
		for _, e := range ArrivalEndpoints(s.Endpoints) {
			arrivals += e.Weight
			for _, a := range e.Assets {
				if !names[a.Name] || a.Name == e.Name || a.Count < 1 {
					t.Fatalf("accepted asset %+v of %q", a, e.Name)
				}
			}
		}
		if !(arrivals > 0) {
			t.Fatalf("no arrival has weight: %+v", s.Endpoints)
		}
	})
}

func FuzzReadPoints(f *testing.F) {
	for _, p := range []string{"../testdata/curves/small.csv", "../testdata/curves/bad.csv", "../testdata/curves/timestamps.csv", "builtin/curves/hn-2023-tomhummel-hourly.csv"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := ReadPoints("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("error is not an input problem: %v", err)
			}
			return
		}
		for i := 1; i < len(pts); i++ {
			if !(pts[i].T > pts[i-1].T) || pts[i].Rate < 0 {
				t.Fatalf("bad points accepted: %+v", pts)
			}
		}
	})
}

func FuzzParseCurve(f *testing.F) {
	for _, s := range propertyCurves {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := ParseCurve("fuzz", spec, nil)
		if err != nil {
			return
		}
		if c.Seconds() <= 0 || c.Total() <= 0 || math.IsNaN(c.Total()) || math.IsInf(c.Total(), 0) {
			t.Fatalf("%q: duration %g total %g", spec, c.Seconds(), c.Total())
		}
		// The last request is due within the curve.
		if c.Requests() == 0 {
			return
		}
		last := c.Due(c.Requests() - 1)
		if math.IsNaN(last) || last > c.Seconds()+1e-6 {
			t.Fatalf("%q: last request due at %g of %g", spec, last, c.Seconds())
		}
	})
}

func TestCurveOfOnlyCommasIsEmpty(t *testing.T) {
	for _, spec := range []string{"", " , ,", ",", "  "} {
		_, err := ParseCurve("--curve", spec, nil)
		if err == nil || !strings.Contains(err.Error(), "curve is empty") {
			t.Errorf("ParseCurve(%q): %v, want \"curve is empty\"", spec, err)
		}
	}
}

func TestReplayCSVHeaderOnlyWhenNeitherFieldIsAValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0:00,600/m\n1m,300/m\n2m,10/s\n", `x.csv:1:1: time: time "0:00"`},
		{"0:00,10\n60,20\n120,30\n", `x.csv:1:1: time: time "0:00"`},
		{"t0,-5/s\n60,20\n120,30\n", `x.csv:1:1: time: time "t0"`},
	} {
		_, err := ReadPoints("x.csv", strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
	for _, in := range []string{"time,rate\n0,1\n60,2\n", "minute,req/s\n0,1\n60,2\n", "when,requests per second\n0,1/s\n1m,2/s\n"} {
		if pts, err := ReadPoints("x.csv", strings.NewReader(in)); err != nil || len(pts) != 2 {
			t.Errorf("%q: header not skipped: %v %v", in, pts, err)
		}
	}
}

func TestDuplicateKeysReportedWithEveryOtherProblem(t *testing.T) {
	src := "name: a\nname: b\ncurve: hold 1/s for 1m\nendpoints:\n  - path: /x\n    weight: 2\n    weight: 3\n    colour: red\nslo: {p99: 1s, p99: 2s}\n"
	_, err := Parse("dup.yaml", []byte(src), nil)
	if err == nil {
		t.Fatal("duplicate keys accepted")
	}
	for _, want := range []string{
		"dup.yaml:2:1: name: duplicate key, first at 1:1",
		"dup.yaml:7:5: endpoints[0].weight: duplicate key, first at 6:5",
		"dup.yaml:8:5: endpoints[0].colour: unknown field",
		"dup.yaml:9:16: slo.p99: duplicate key, first at 9:7",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestShownBuiltinsLoadFromAnyDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range BuiltinNames() {
		src, err := BuiltinSource(name)
		if err != nil {
			t.Fatal(err)
		}
		file := dir + "/" + name + ".yaml"
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Load(file)
		if err != nil {
			t.Errorf("%s as shown does not load: %v", name, err)
			continue
		}
		want, _ := Builtin(name)
		if got.Curve.Total() != want.Curve.Total() || got.Curve.String() != want.Curve.String() {
			t.Errorf("%s: shown curve %s differs from the built-in %s", name, got.Curve, want.Curve)
		}
	}
	if _, err := ParseCurve("--curve", "replay builtin:curves/nosuch.csv", DirOpener(dir)); err == nil || !strings.Contains(err.Error(), "built-in curves: builtin:curves/") {
		t.Errorf("missing built-in curve: %v", err)
	}
	if _, err := ParseCurve("--curve", "replay builtin:../builtin.go", DirOpener(dir)); err == nil {
		t.Error("builtin: reached outside the built-in curves")
	}
}

func TestInlineReplayOpensRelativeToTheOpenersDirectory(t *testing.T) {
	c, err := ParseCurve("--curve", "replay small.csv scale 2, hold 1/s for 1m", DirOpener("../testdata/curves"))
	if err != nil {
		t.Fatal(err)
	}
	if sp := c.Spans(); len(sp) != 2 || sp[0].Kind != "replay" {
		t.Fatalf("spans %+v", sp)
	}
	if c, err := ParseCurve("--curve", "replay builtin:curves/hn-2023-tomhummel-hourly.csv", nil); err == nil || c != nil {
		t.Fatal("replay without an opener accepted")
	}
	c, err = ParseCurve("--curve", "replay builtin:curves/hn-2023-tomhummel-hourly.csv", DirOpener("."))
	if err != nil || c.Spans()[0].Name != "replay" {
		t.Fatalf("unnamed built-in replay: %v", err)
	}
}

func TestDuplicateDefaultEndpointNameHasPosition(t *testing.T) {
	src := "curve: hold 1/s for 1m\nendpoints:\n  - {path: /y}\n  - {path: /y}\n"
	_, err := Parse("e.yaml", []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), `e.yaml:4:6: endpoints[1].name: endpoint name "/y" used twice, first at 3:6`) {
		t.Fatalf("got %v", err)
	}
}

func TestScenarioWithByteOrderMark(t *testing.T) {
	s, err := Parse("bom.yaml", []byte("\ufeffname: bom\ncurve: hold 1/s for 1m\n"), nil)
	if err != nil || s.Name != "bom" {
		t.Fatalf("BOM rejected: %v", err)
	}
}

func TestNegativeDurationsRejectedWithPosition(t *testing.T) {
	for _, in := range []string{"-5s", "1d-23h", "-1d", "1h-30m"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, accepted", in, d)
		}
	}
	src := "curve: hold 1/s for 1m\nslo: {grace: -5s}\nabort: [\"p99 > -1s for 30s\", \"errors > 5% for -5s\"]\n"
	_, err := Parse("n.yaml", []byte(src), nil)
	for _, want := range []string{"n.yaml:2:14: slo.grace: duration \"-5s\" is negative", "n.yaml:3:10: abort[0]:", "n.yaml:3:31: abort[1]:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseCurve("--curve", "hold 10/s for 1d-23h", nil); err == nil || !strings.Contains(err.Error(), "--curve:1:15: segment 1: duration \"1d-23h\" is negative") {
		t.Errorf("inline negative duration: %v", err)
	}
	if _, err := ParseSLO("grace=-5s", DefaultSLO); err == nil {
		t.Error("--slo grace=-5s accepted")
	}
	// A CSV offset before the origin is still a time.
	if pts, err := ReadPoints("x.csv", strings.NewReader("-1m,1\n0,2\n")); err != nil || pts[1].T != 60 {
		t.Errorf("negative CSV offset: %v %v", pts, err)
	}
}

func TestWeightLimitIsStated(t *testing.T) {
	_, err := Parse("w.yaml", []byte("curve: hold 1/s for 1m\nendpoints: [{path: /, weight: 1e10}]\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "weight: must be > 0 and at most 1000000000") {
		t.Fatalf("got %v", err)
	}
}

// TestParseSLORatios: a ratio is a percentage or a fraction below 1; a
// bare number of 1 or more is refused with how to write it, in --slo, in
// abort rules and in a scenario file.
func TestParseSLORatios(t *testing.T) {
	for _, c := range []struct {
		in         string
		errs, thru float64
	}{
		{"errors=5%", 0.05, DefaultSLO.MinThroughput},
		{"errors=0.05", 0.05, DefaultSLO.MinThroughput},
		{"errors=0", 0, DefaultSLO.MinThroughput},
		{"errors=0.5%,throughput=90%", 0.005, 0.9},
		{"throughput=0.9", DefaultSLO.MaxErrorRatio, 0.9},
		{"throughput=100%", DefaultSLO.MaxErrorRatio, 1},
	} {
		s, err := ParseSLO(c.in, DefaultSLO)
		if err != nil || math.Abs(s.MaxErrorRatio-c.errs) > 1e-12 || math.Abs(s.MinThroughput-c.thru) > 1e-12 {
			t.Errorf("%s: errors %v throughput %v, %v; want %v %v", c.in, s.MaxErrorRatio, s.MinThroughput, err, c.errs, c.thru)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"errors=5", "errors=5: write 5% or 0.05"},
		{"errors=1", "errors=1: write 1% or 0.01"},
		{"throughput=95", "throughput=95: write 95% or 0.95"},
		{"errors=150%", `errors=150%: "150%" is not between 0 and 100%`},
		{"errors=-1%", "errors=-1%"},
		{"errors=lots", "errors=lots: \"lots\" is not a ratio"},
		{"p99=0s", "p99=0s: must be > 0"},
	} {
		if _, err := ParseSLO(c.in, DefaultSLO); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error with %q", c.in, err, c.want)
		}
	}
	if _, err := ParseAbortRule("errors > 50 for 10s"); err == nil || !strings.Contains(err.Error(), "write 50% or 0.5") {
		t.Errorf("abort rule with a bare 50: %v", err)
	}
	if r, err := ParseAbortRule("errors > 0.5 for 10s"); err != nil || r.Threshold != 0.5 {
		t.Errorf("abort rule with 0.5: %+v %v", r, err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "s.yaml")
	os.WriteFile(f, []byte("name: s\ncurve: [hold 1/s for 1m]\nslo: {errors: 5, throughput: 0.9}\n"), 0o644)
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "slo.errors: write 5% or 0.05") {
		t.Errorf("scenario file errors: 5: %v", err)
	}
	os.WriteFile(f, []byte("name: s\ncurve: [hold 1/s for 1m]\nslo: {errors: 2%, throughput: 0.9}\n"), 0o644)
	if s, err := Load(f); err != nil || s.SLO.MaxErrorRatio != 0.02 || s.SLO.MinThroughput != 0.9 {
		t.Errorf("scenario file errors: 2%%: %v", err)
	}
}
