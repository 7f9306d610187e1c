package scenarios

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func mustCurve(t *testing.T, spec string) *Curve {
	t.Helper()
	c, err := ParseCurve("test", spec, nil)
	if err != nil {
		t.Fatalf("ParseCurve(%q): %v", spec, err)
	}
	return c
}

// curves exercises every segment kind, from 300/d to 35,000/s.
var propertyCurves = []string{
	"hold 300/d for 2d",
	"hold 35000/s for 1h",
	"ramp 300/d to 35000/s over 3h",
	"ramp 35000/s to 0/s over 10m",
	"exp 300/d to 35000/s over 3h",
	"exp 35000/s to 1/s over 1h",
	"decay 35000/s half-life 90m for 10h",
	"decay 600/s power 1.3 scale 2h for 18h",
	"decay 600/s power 1 scale 10m for 1d",
	"step 20/s to 5000/s by 10% every 30s",
	"hold 300/d for 2h, exp 300/d to 35000/s over 3h, hold 35000/s for 2h, decay 35000/s half-life 90m for 10h",
	"hold 0/s for 1m, ramp 0/s to 10/s over 1m, hold 0/s for 30s, hold 5/m for 10m",
}

// tolerance for N⁻¹(N(t)) = t: 1 µs, or what float64 can represent of N
// where the count is huge and the rate tiny.
func invTolerance(c *Curve, t float64) float64 {
	n := c.N(t)
	r := c.Rate(t)
	tol := 1e-6
	if r > 0 {
		tol = math.Max(tol, 4*ulp(n)/r)
	}
	return tol
}

func ulp(x float64) float64 { return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x) }

func TestCurveProperties(t *testing.T) {
	for _, spec := range propertyCurves {
		t.Run(spec, func(t *testing.T) {
			c := mustCurve(t, spec)
			rng := rand.New(rand.NewPCG(1, 2))
			D := c.Seconds()
			// N is monotone and starts at 0.
			if c.N(0) != 0 {
				t.Fatalf("N(0) = %g", c.N(0))
			}
			prev := 0.0
			for i := 0; i <= 20000; i++ {
				x := D * float64(i) / 20000
				n := c.N(x)
				if n < prev-1e-9*math.Max(1, prev) {
					t.Fatalf("N not monotone at t=%g: %g < %g", x, n, prev)
				}
				prev = n
			}
			if math.Abs(prev-c.Total()) > 1e-9*c.Total() {
				t.Fatalf("N(D)=%g, Total=%g", prev, c.Total())
			}
			// N⁻¹(N(t)) = t where the rate is positive.
			for i := 0; i < 5000; i++ {
				x := rng.Float64() * D
				if c.Rate(x) <= 0 {
					continue
				}
				back := c.Inv(c.N(x))
				if d := math.Abs(back - x); d > invTolerance(c, x) {
					t.Fatalf("Inv(N(%.9f)) = %.9f (off by %.3g s, rate %g/s)", x, back, d, c.Rate(x))
				}
			}
			// The count due by any instant is the integral rounded, so
			// the count in any interval equals its integral within ±1.
			for i := 0; i < 500; i++ {
				x := rng.Float64() * D
				if got, want := countDue(c, 0, x), c.N(x); math.Abs(float64(got)-want) > 0.5+1e-6*math.Max(1, want) {
					t.Fatalf("%d requests due by %g, integral %g: want it rounded", got, x, want)
				}
			}
			for i := 0; i < 2000; i++ {
				a, b := rng.Float64()*D, rng.Float64()*D
				if a > b {
					a, b = b, a
				}
				want := c.N(b) - c.N(a)
				got := countDue(c, a, b)
				if math.Abs(float64(got)-want) > 1 {
					t.Fatalf("%d requests due in [%g, %g), integral %g", got, a, b, want)
				}
			}
		})
	}
}

// countDue counts indices i with a <= Due(i) < b using the inverse only,
// by bisection on i (as the pacer does).
func countDue(c *Curve, a, b float64) int64 {
	first := func(x float64) int64 { // smallest i with Inv(i) >= x
		lo, hi := int64(0), int64(c.Total())+2
		for lo < hi {
			m := (lo + hi) / 2
			if m >= int64(c.Requests()) || c.Due(uint64(m)) >= x {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	}
	return first(b) - first(a)
}

// ratN is N for a hold/ramp curve computed exactly with big.Rat.
func ratN(segs []Segment, t *big.Rat) *big.Rat {
	sum := new(big.Rat)
	start := new(big.Rat)
	for _, s := range segs {
		d := new(big.Rat).SetFloat64(s.Dur)
		end := new(big.Rat).Add(start, d)
		if t.Cmp(start) <= 0 {
			break
		}
		u := new(big.Rat).Sub(t, start)
		if u.Cmp(d) > 0 {
			u = d
		}
		from := new(big.Rat).SetFloat64(s.From)
		term := new(big.Rat).Mul(from, u)
		if s.Kind == Ramp {
			slope := new(big.Rat).Sub(new(big.Rat).SetFloat64(s.To), from)
			slope.Quo(slope, d)
			q := new(big.Rat).Mul(u, u)
			q.Mul(q, slope)
			q.Quo(q, big.NewRat(2, 1))
			term.Add(term, q)
		}
		sum.Add(sum, term)
		start = end
	}
	return sum
}

func TestNAgainstExactOracle(t *testing.T) {
	specs := []string{
		"hold 300/d for 2h, ramp 300/d to 35000/s over 3h, hold 35000/s for 1h, ramp 35000/s to 100/s over 30m",
		"step 20/s to 5000/s by 10% every 30s",
		"ramp 0/s to 7/s over 13s, ramp 7/s to 3/m over 1h",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, spec := range specs {
		c := mustCurve(t, spec)
		for i := 0; i < 500; i++ {
			x := rng.Float64() * c.Seconds()
			exact, _ := ratN(c.Segments, new(big.Rat).SetFloat64(x)).Float64()
			got := c.N(x)
			if d := math.Abs(got - exact); d > 1e-9*math.Max(1, exact) {
				t.Fatalf("%s: N(%g) = %.12g, exact %.12g", spec, x, got, exact)
			}
		}
	}
}

// The transcendental segments are checked against a fine numerical integral
// of r(t) (Simpson), since big.Rat has no exp.
func TestNMatchesIntegralOfRate(t *testing.T) {
	for _, spec := range propertyCurves {
		c := mustCurve(t, spec)
		for i := range c.Segments {
			s := &c.Segments[i]
			const n = 20000
			h := s.Dur / n
			sum := s.Rate(0) + s.Rate(s.Dur)
			for k := 1; k < n; k++ {
				w := 2.0
				if k%2 == 1 {
					w = 4
				}
				sum += w * s.Rate(float64(k)*h)
			}
			simpson := sum * h / 3
			if d := math.Abs(simpson - s.N(s.Dur)); d > 1e-6*math.Max(1, simpson) {
				t.Errorf("%s: segment %d (%s): N(D)=%.10g, ∫r=%.10g", spec, i, s.Kind, s.N(s.Dur), simpson)
			}
		}
	}
}

func TestCompressKeepsRatesAndDividesCounts(t *testing.T) {
	s, err := Builtin("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Curve
	k, err := c.Compress(60)
	if err != nil {
		t.Fatal(err)
	}
	if k.Peak() != c.Peak() || k.Peak() != 35000 {
		t.Fatalf("peak %g → %g", c.Peak(), k.Peak())
	}
	if math.Abs(k.Seconds()*60-c.Seconds()) > 1e-6 {
		t.Fatalf("duration %g → %g", c.Seconds(), k.Seconds())
	}
	if math.Abs(k.Total()*60-c.Total()) > 1e-6*c.Total() {
		t.Fatalf("total %g → %g", c.Total(), k.Total())
	}
	for _, x := range []float64{0, 100, 7200, 9000, 18000, 30000, 50000} {
		if a, b := c.Rate(x), k.Rate(x/60); math.Abs(a-b) > 1e-9*math.Max(a, 1) {
			t.Fatalf("r(%g)=%g but compressed r(%g)=%g", x, a, x/60, b)
		}
	}
}

func TestScalePeakAndCap(t *testing.T) {
	c := mustCurve(t, "hold 300/d for 2h, exp 300/d to 35000/s over 3h, hold 35000/s for 1h, decay 35000/s power 1.2 scale 1h for 10h")
	p, err := c.ScalePeak(2000)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Peak()-2000) > 1e-9 {
		t.Fatalf("peak %g", p.Peak())
	}
	if r := p.Total() / c.Total(); math.Abs(r-2000.0/35000) > 1e-12 {
		t.Fatalf("total scaled by %g", r)
	}
	capped, err := c.Cap(1000)
	if err != nil {
		t.Fatal(err)
	}
	if capped.Peak() > 1000*(1+1e-9) {
		t.Fatalf("capped peak %g", capped.Peak())
	}
	if math.Abs(capped.Seconds()-c.Seconds()) > 1e-6 {
		t.Fatalf("cap changed duration %g → %g", c.Seconds(), capped.Seconds())
	}
	for i := 0; i <= 1000; i++ {
		x := c.Seconds() * float64(i) / 1000
		want := math.Min(c.Rate(x), 1000)
		if got := capped.Rate(x); math.Abs(got-want) > 1e-6*math.Max(want, 1) {
			t.Fatalf("capped r(%g) = %g, want min(r, 1000) = %g", x, got, want)
		}
	}
}

func TestBuiltinsParseAndTellTheirStory(t *testing.T) {
	for _, name := range BuiltinNames() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Description == "" || len(s.Endpoints) == 0 {
			t.Errorf("%s: no description or endpoints", name)
		}
		src, _ := BuiltinSource(name)
		if len(src) == 0 || src[0] != '#' {
			t.Errorf("%s: the YAML must open with a comment on where its shape comes from", name)
		}
	}
	s, _ := Builtin("press-spike")
	if s.Curve.Peak() != 35000 {
		t.Errorf("press-spike peak %g", s.Curve.Peak())
	}
	// Climbs exponentially to the peak within about three hours of the article.
	if r := s.Curve.Rate(2*3600 + 3*3600 - 1); r < 34000 {
		t.Errorf("press-spike rate just before 5h: %g", r)
	}
	if r := s.Curve.Rate(3600); r > 0.01 {
		t.Errorf("press-spike baseline %g/s, want ~300/d", r)
	}
	fp, _ := Builtin("front-page")
	base, peak := fp.Curve.Rate(0), fp.Curve.Peak()
	if ratio := peak / base; ratio < 30 || ratio > 170 {
		t.Errorf("front-page peak/baseline = %g, measured curves say 30-170", ratio)
	}
}

// TestScheduleHalfRule: request i is due when the curve has offered i + ½:
// a quiet start sends nothing before it owes a request, a constant rate
// sends what vegeta sends, and a curve that owes less than half a request
// sends none.
func TestScheduleHalfRule(t *testing.T) {
	c, err := ParseCurve("t", "quiet: hold 300/d for 1h, surge: hold 100/s for 1m", nil)
	if err != nil {
		t.Fatal(err)
	}
	// 300/d owes 12.5 requests in the quiet hour: 12 are due in it, the
	// first when it owes half a request, 144 s in.
	if first := c.Due(0); math.Abs(first-144) > 1e-6 {
		t.Errorf("first request due at %g s, want 144 (half a request at 300/d)", first)
	}
	if n := countDue(c, 0, 3600); n != 12 {
		t.Errorf("%d due in the quiet hour, want 12 (12.5 owed, rounded down at the half)", n)
	}
	for _, k := range []struct {
		spec string
		want uint64
	}{{"hold 100/s for 1m", 6000}, {"hold 300/d for 10s", 0}, {"hold 1/s for 2500ms", 3}, {"hold 1/s for 2400ms", 2}} {
		c, err := ParseCurve("t", k.spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Requests(); got != k.want {
			t.Errorf("%s: %d requests, want %d", k.spec, got, k.want)
		}
		if n := c.Requests(); n > 0 && (c.Due(n-1) > c.Seconds()+1e-9 || c.Due(0) <= 0) {
			t.Errorf("%s: requests due from %g to %g s of %g", k.spec, c.Due(0), c.Due(n-1), c.Seconds())
		}
	}
}
