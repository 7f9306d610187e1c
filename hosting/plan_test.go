package hosting

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func pressMix(t testing.TB) []scenarios.Endpoint {
	t.Helper()
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	return s.Endpoints
}

func TestBuiltinPlans(t *testing.T) {
	names := BuiltinPlanNames()
	if !slices.Equal(names, []string{"shared", "vps", "cloud", "cdn"}) {
		t.Fatalf("BuiltinPlanNames = %v", names)
	}
	mix := pressMix(t)
	caps := map[string]float64{}
	for _, n := range names {
		p, err := LoadPlan(n)
		if err != nil {
			t.Fatalf("LoadPlan(%s): %v", n, err)
		}
		if p.Name != n || p.Description == "" || p.MonthlyCost <= 0 {
			t.Errorf("%s: name %q, description %q, cost %g", n, p.Name, p.Description, p.MonthlyCost)
		}
		src, _ := BuiltinPlanSource(n)
		if !strings.HasPrefix(string(src), "# "+n+":") {
			t.Errorf("%s: the file does not open with a comment saying what it stands for", n)
		}
		caps[n] = p.Capacity(mix)
	}
	shared, _ := LoadPlan("shared")
	// The default run must break shared well below 1,500 req/s of the
	// press-spike mix, images first, at about 100 page views a second.
	if c := caps["shared"]; c > 1000 || c < 500 {
		t.Errorf("shared capacity %.0f req/s of the press mix, want 500..1000", c)
	}
	if b := shared.Bottleneck(mix); b != "static" {
		t.Errorf("shared bottleneck %q, want the static pool (images fail first)", b)
	}
	for _, n := range []string{"vps", "cloud", "cdn"} {
		if caps[n] < 2*caps["shared"] {
			t.Errorf("%s capacity %.0f, want well above shared's %.0f", n, caps[n], caps["shared"])
		}
	}
	cloud, _ := LoadPlan("cloud")
	atMin := *cloud
	atMin.Pools = slices.Clone(cloud.Pools)
	for i := range atMin.Pools {
		atMin.Pools[i].Autoscale = nil
	}
	if c := atMin.Capacity(mix); c > 1.05*caps["vps"] || c > caps["cloud"]/4 {
		t.Errorf("cloud at its minimum size holds %.0f req/s; it should start no bigger than the vps (%.0f) and grow 4x or more", c, caps["vps"])
	}
}

func TestCapacityFormula(t *testing.T) {
	p, err := LoadPlan("../testdata/plans/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// 4 workers, 20 ms, 1 KB on an unlimited link: 200 req/s.
	if c := p.Capacity(nil); math.Abs(c-200) > 1e-9 {
		t.Errorf("small capacity %g, want 200", c)
	}
	// A 100 KB/s link, 1 KB a response: 100 req/s, and each response holds
	// its worker 10 ms longer (4 / 0.030 = 133 for the pool).
	p.Bandwidth = 100_000
	if c, b := p.Capacity(nil), p.Bottleneck(nil); math.Abs(c-100) > 1e-9 || b != "bandwidth" {
		t.Errorf("capacity with a 100 KB/s link: %g (%s), want 100 (bandwidth)", c, b)
	}
	// Two pools, half the requests each: each pool sees half the rate.
	q := &Plan{Name: "two", Pools: []Pool{{Workers: 2}, {Name: "static", Workers: 1, Classes: []scenarios.Class{scenarios.Asset}}},
		Classes: map[scenarios.Class]ClassSpec{
			scenarios.Page:  {Service: Dist{Kind: Constant, Mean: 100 * time.Millisecond}},
			scenarios.Asset: {Service: Dist{Kind: Constant, Mean: 10 * time.Millisecond}},
		}}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	mix := []scenarios.Endpoint{{URL: "/", Weight: 1}, {URL: "/img/a.jpg", Weight: 1}}
	// main: 2 / (0.5·0.1) = 40; static: 1 / (0.5·0.01) = 200.
	if c, b := q.Capacity(mix), q.Bottleneck(mix); math.Abs(c-40) > 1e-9 || b != "main" {
		t.Errorf("two-pool capacity %g (%s), want 40 (main)", c, b)
	}
}

func TestLoadPlanFile(t *testing.T) {
	p, err := LoadPlan("testdata/selfmade.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := p.Pools[0].Autoscale
	switch {
	case p.Name != "selfmade" || p.MonthlyCost != 12.5 || p.Bandwidth != 10_000_000 || p.HostTimeout != 3*time.Second || p.WhenFull != FullReset:
		t.Errorf("top-level fields: %+v", p)
	case a == nil || a.Min != 2 || a.Max != 6 || a.Step != 2 || a.Lag != 20*time.Second || a.Target != 0.8 || a.Every != 2*time.Second || p.Pools[0].Workers != 2:
		t.Errorf("autoscale: %+v", a)
	case len(p.Pools) != 2 || p.Pools[1].Name != "static" || p.Pools[1].Workers != 3 || p.Pools[1].Queue != 0 || p.PoolOf(scenarios.Asset) != 1:
		t.Errorf("pools: %+v", p.Pools)
	case p.Class(scenarios.Page).Service.Kind != Lognormal || p.Class(scenarios.Asset).Service.Kind != Exponential || p.Class(scenarios.API).Size != 512:
		t.Errorf("classes: %+v", p.Classes)
	case p.Faults != Faults{Reset: 0.01, Garbage: 0.005, Drip: 0.02, DripRate: 4000}:
		t.Errorf("faults: %+v", p.Faults)
	}
}

func TestLoadPlanProblems(t *testing.T) {
	_, err := LoadPlan("../testdata/plans/bad.yaml")
	if !scenarios.IsInvalid(err) {
		t.Fatalf("bad plan: err %v, want scenarios.Problems", err)
	}
	var ps scenarios.Problems
	errors.As(err, &ps)
	got := err.Error()
	for _, want := range []string{
		"bad.yaml:2:15: monthly_cost: \"cheap\" is not a number",
		"bad.yaml:3:12: bandwidth: size \"lots\"",
		"bad.yaml:4:12: when_full: \"explode\" is not 503, refuse or reset",
		"bad.yaml:5:10: workers: must be in [1, 1000000], found 0",
		"bad.yaml:6:8: queue: must be in [0, 10000000], found -3",
		"autoscale.max: must be >= min (4), found 2",
		"autoscale.step: must be >= 1, found 0",
		"autoscale.target: must be in (0, 100%]",
		"bad.yaml:9:37: pools[0].classes[1]: \"video\" is not page, asset or api",
		"pools[1].name: pool name \"static\" used twice",
		"pools[1].classes: missing",
		"classes.page.service: service time \"lognormal 50ms p99 20ms\": lognormal service time needs 0 < mean < p99",
		"classes.asset.service: service time \"fast\"",
		"classes.asset.colour: unknown field",
		"faults: fractions add up to more than 100%",
		"bad.yaml:15:1: extra: unknown field",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Line < ps[i-1].Line {
			t.Errorf("problems not in file order:\n%s", got)
		}
	}
}

func TestLoadPlanErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"nosuchplan", "no such plan file or built-in plan (built-ins: shared, vps, cloud, cdn)"},
		{"testdata/missing.yaml", "no such file"},
	} {
		_, err := LoadPlan(c.in)
		if err == nil || !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadPlan(%q) = %v, want a problem containing %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ yaml, want string }{
		{"", "plan is empty"},
		{"workers: 2\n", "classes: missing"},
		{"classes: {page: {service: 1ms}}\n", "workers: missing"},
		{"workers: 2\nclasses: {asset: {service: 1ms}}\n", "classes.page: missing"},
		{"workers: 2\nclasses: {page: {size: 1KB}}\n", "classes.page.service: missing"},
		{"workers: [2]\nclasses: {page: {service: 1ms}}\n", "workers: want a single value"},
		{"workers: 2\nclasses: {page: {service: 1ms}}\nfaults: {drip: 1%}\n", "faults.drip_rate: missing"},
		{"workers: 2\nclasses: {page: {service: \"lognormal 1ms p99 1s\"}}\n", "no lognormal has that shape"},
		{"workers: 2\n  bad indent: [\n", "plan.yaml:"},
	} {
		_, err := ParsePlan("plan.yaml", []byte(c.yaml))
		if err == nil || !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePlan(%q) = %v, want a problem containing %q", c.yaml, err, c.want)
		}
	}
}

func TestLognormal(t *testing.T) {
	d, err := ParseDist("lognormal 50ms p99 300ms")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200_000
	xs := make([]float64, n)
	var sum float64
	for i := range xs {
		xs[i] = d.Sample(r).Seconds()
		sum += xs[i]
	}
	slices.Sort(xs)
	// Standard error of the mean is σ_X/√n ≈ 0.06/447 ≈ 0.3%; of the p99
	// about 1%: 3% bounds are many standard errors wide.
	if m := sum / n; math.Abs(m-0.050)/0.050 > 0.03 {
		t.Errorf("mean %.4fs, want 0.050", m)
	}
	if q := xs[n*99/100]; math.Abs(q-0.300)/0.300 > 0.03 {
		t.Errorf("p99 %.4fs, want 0.300", q)
	}
	e, _ := ParseDist("exponential 10ms")
	sum = 0
	for range n {
		sum += e.Sample(r).Seconds()
	}
	if m := sum / n; math.Abs(m-0.010)/0.010 > 0.03 {
		t.Errorf("exponential mean %.5fs, want 0.010", m)
	}
	for _, s := range []string{"", "40", "lognormal 40ms", "uniform 40ms", "constant -5ms", "lognormal 40ms p95 90ms"} {
		if _, err := ParseDist(s); err == nil {
			t.Errorf("ParseDist(%q): no error", s)
		}
	}
}

func FuzzParsePlan(f *testing.F) {
	for _, n := range BuiltinPlanNames() {
		b, _ := BuiltinPlanSource(n)
		f.Add(b)
	}
	f.Add([]byte("workers: 2\nclasses: {page: {service: 1ms}}\n"))
	f.Add([]byte("workers: 2\nclasses: {page: {service: \"lognormal 1ms p99 5ms\", size: 1KB}}\nfaults: {drip: 1%, drip_rate: 1B}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlan("fuzz.yaml", data)
		if err != nil {
			if !scenarios.IsInvalid(err) {
				t.Fatalf("error is not a Problem: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed plan does not validate: %v", err)
		}
		c := p.Capacity(nil)
		if math.IsNaN(c) || c <= 0 {
			t.Fatalf("capacity %g", c)
		}
	})
}

// A zero that would silently mean something else is an error with its
// position (bandwidth 0 meant unlimited, host_timeout 0 never, drip_rate 0
// was called missing), and a duplicate key is reported with every other
// problem of the file, each at file:line:column.
func TestLoadPlanZerosAndDuplicates(t *testing.T) {
	const yaml = `name: dup
workers: 4
queue: 10
queue: 20
bandwidth: 0B
host_timeout: 0s
monthly_cost: -1
classes:
  page: {service: 10ms, size: 1KB}
  page: {service: 20ms}
faults: {drip: 10%, drip_rate: 0}
`
	_, err := ParsePlan("dup.yaml", []byte(yaml))
	if !scenarios.IsInvalid(err) {
		t.Fatalf("err %v, want problems", err)
	}
	want := []string{
		"dup.yaml:4:1: queue: duplicate key, first at 3:1",
		"dup.yaml:5:12: bandwidth: must be > 0; leave it out for unlimited",
		"dup.yaml:6:15: host_timeout: must be > 0; leave it out for no host timeout",
		"dup.yaml:7:15: monthly_cost: must be >= 0, found -1",
		"dup.yaml:10:3: classes.page: duplicate key, first at 9:3",
		"dup.yaml:11:32: faults.drip_rate: must be > 0 (bytes per second of a dripped body, e.g. 2KB)",
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for _, c := range []struct{ yaml, want string }{
		{"workers: 2\nbandwidth: 0\nclasses: {page: {service: 1ms}}\n", "plan.yaml:2:12: bandwidth: must be > 0"},
		{"workers: 2\nbandwidth: 0.4B\nclasses: {page: {service: 1ms}}\n", "plan.yaml:2:12: bandwidth: must be > 0"},
		{"workers: 2\nclasses: {page: {service: 1ms}}\nfaults: {drip: 1%, drip_rate: 0KB}\n", "faults.drip_rate: must be > 0"},
	} {
		if _, err := ParsePlan("plan.yaml", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePlan(%q) = %v, want %q", c.yaml, err, c.want)
		}
	}
	// Leaving them out (or writing unlimited) is what means unlimited / none.
	p, err := ParsePlan("plan.yaml", []byte("workers: 2\nbandwidth: unlimited\nclasses: {page: {service: 1ms}}\n"))
	if err != nil || p.Bandwidth != 0 || p.HostTimeout != 0 {
		t.Errorf("bandwidth: unlimited: %v, %+v", err, p)
	}
}
