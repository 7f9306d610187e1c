package scenarios

import (
	"fmt"
	"math"
)

// Kind names a segment's shape.
type Kind string

// The primitive segment kinds. step and replay expand into holds and ramps.
const (
	Hold  Kind = "hold"
	Ramp  Kind = "ramp"
	Exp   Kind = "exp"
	Decay Kind = "decay" // exponential, by half-life
	Power Kind = "power" // power-law decay R·(1+t/S)^-a
)

// Segment is one primitive piece of a curve, with its own time origin: t runs
// from 0 to Dur seconds. Rates are requests per second.
type Segment struct {
	Kind     Kind    `json:"kind"`
	From     float64 `json:"from_rps"`
	To       float64 `json:"to_rps,omitempty"`      // ramp, exp
	Dur      float64 `json:"duration_s"`            // seconds
	HalfLife float64 `json:"half_life_s,omitempty"` // decay
	Exponent float64 `json:"exponent,omitempty"`    // power
	Scale    float64 `json:"scale_s,omitempty"`     // power
	Phase    int     `json:"phase"`                 // index into Curve.Phases
}

// Rate is r(t) for t in [0, Dur].
func (s *Segment) Rate(t float64) float64 {
	switch s.Kind {
	case Hold:
		return s.From
	case Ramp:
		return s.From + (s.To-s.From)*t/s.Dur
	case Exp:
		return s.From * math.Exp(s.k()*t)
	case Decay:
		return s.From * math.Exp2(-t/s.HalfLife)
	case Power:
		return s.From * math.Pow(1+t/s.Scale, -s.Exponent)
	}
	panic("scenarios: unknown segment kind " + string(s.Kind))
}

// End is the rate at the end of the segment.
func (s *Segment) End() float64 {
	switch s.Kind {
	case Hold:
		return s.From
	case Ramp, Exp:
		return s.To
	}
	return s.Rate(s.Dur)
}

func (s *Segment) k() float64 { return math.Log(s.To/s.From) / s.Dur }

// N is the number of requests due in [0, t]: ∫₀ᵗ r.
func (s *Segment) N(t float64) float64 {
	if t <= 0 {
		return 0
	}
	if t > s.Dur {
		t = s.Dur
	}
	switch s.Kind {
	case Hold:
		return s.From * t
	case Ramp:
		return s.From*t + (s.To-s.From)*t*t/(2*s.Dur)
	case Exp:
		k := s.k()
		if k == 0 {
			return s.From * t
		}
		return s.From * math.Expm1(k*t) / k
	case Decay:
		l := math.Ln2 / s.HalfLife
		return -s.From * math.Expm1(-l*t) / l
	case Power:
		a, S := s.Exponent, s.Scale
		if a == 1 {
			return s.From * S * math.Log1p(t/S)
		}
		return s.From * S * math.Expm1((1-a)*math.Log1p(t/S)) / (1 - a)
	}
	panic("scenarios: unknown segment kind " + string(s.Kind))
}

// Inv is N⁻¹: the time t in [0, Dur] at which N(t) = n. n is clamped to
// [0, N(Dur)].
func (s *Segment) Inv(n float64) float64 {
	if n <= 0 {
		return 0
	}
	var t float64
	switch s.Kind {
	case Hold:
		if s.From == 0 {
			return s.Dur
		}
		t = n / s.From
	case Ramp:
		b := (s.To - s.From) / s.Dur
		disc := s.From*s.From + 2*b*n
		if disc < 0 {
			return s.Dur
		}
		den := s.From + math.Sqrt(disc)
		if den == 0 {
			return s.Dur
		}
		t = 2 * n / den // stable root of b/2·t² + From·t − n = 0
	case Exp:
		k := s.k()
		if k == 0 {
			t = n / s.From
		} else {
			x := n * k / s.From
			if x <= -1 {
				return s.Dur
			}
			t = math.Log1p(x) / k
		}
	case Decay:
		l := math.Ln2 / s.HalfLife
		x := -n * l / s.From
		if x <= -1 {
			return s.Dur
		}
		t = -math.Log1p(x) / l
	case Power:
		a, S := s.Exponent, s.Scale
		if a == 1 {
			t = S * math.Expm1(n/(s.From*S))
		} else {
			x := n * (1 - a) / (s.From * S)
			if x <= -1 {
				return s.Dur
			}
			t = S * math.Expm1(math.Log1p(x)/(1-a))
		}
	default:
		panic("scenarios: unknown segment kind " + string(s.Kind))
	}
	if t > s.Dur || math.IsNaN(t) {
		return s.Dur
	}
	return t
}

// atRate is the first time in the segment at which the rate crosses r, for
// monotone segments; ok is false if it never does.
func (s *Segment) atRate(r float64) (t float64, ok bool) {
	a, b := s.From, s.End()
	if (r-a)*(r-b) > 0 || a == b {
		return 0, false
	}
	switch s.Kind {
	case Ramp:
		t = (r - a) / (b - a) * s.Dur
	case Exp:
		t = math.Log(r/a) / s.k()
	case Decay:
		t = s.HalfLife * math.Log2(a/r)
	case Power:
		t = s.Scale * (math.Pow(a/r, 1/s.Exponent) - 1)
	default:
		return 0, false
	}
	return math.Min(math.Max(t, 0), s.Dur), true
}

// scaled returns the segment with every rate multiplied by f and time divided by k.
func (s Segment) scaled(f, k float64) Segment {
	s.From *= f
	s.To *= f
	s.Dur /= k
	s.HalfLife /= k
	s.Scale /= k
	return s
}

// String prints the segment in the inline curve syntax.
func (s *Segment) String() string {
	d := FormatDuration(secs(s.Dur))
	switch s.Kind {
	case Hold:
		return fmt.Sprintf("hold %s for %s", Rate(s.From), d)
	case Ramp, Exp:
		return fmt.Sprintf("%s %s to %s over %s", s.Kind, Rate(s.From), Rate(s.To), d)
	case Decay:
		return fmt.Sprintf("decay %s half-life %s for %s", Rate(s.From), FormatDuration(secs(s.HalfLife)), d)
	case Power:
		return fmt.Sprintf("decay %s power %g scale %s for %s", Rate(s.From), s.Exponent, FormatDuration(secs(s.Scale)), d)
	}
	return string(s.Kind)
}

// check reports what is wrong with a segment's parameters, if anything.
func (s *Segment) check() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(s.Dur) || s.Dur <= 0:
		return fmt.Errorf("duration must be > 0")
	case bad(s.From) || s.From < 0 || bad(s.To) || s.To < 0:
		return fmt.Errorf("rate must be >= 0")
	case s.From > MaxRate || s.To > MaxRate:
		return fmt.Errorf("rate above %s (a typo?)", Rate(MaxRate))
	}
	switch s.Kind {
	case Exp:
		if s.From <= 0 || s.To <= 0 {
			return fmt.Errorf("exp needs both rates > 0 (an exponential never leaves 0; use ramp)")
		}
	case Decay:
		if bad(s.HalfLife) || s.HalfLife <= 0 {
			return fmt.Errorf("half-life must be > 0")
		}
	case Power:
		if bad(s.Scale) || s.Scale <= 0 {
			return fmt.Errorf("power decay scale must be > 0")
		}
		if bad(s.Exponent) || s.Exponent <= 0 || s.Exponent > 10 {
			return fmt.Errorf("power decay exponent must be in (0, 10]")
		}
	}
	return nil
}
