package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Phase is a named stretch of a curve as the user wrote it: one inline
// segment, a staircase or a replayed file.
type Phase struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`             // hold, ramp, exp, decay, step, replay
	Source string `json:"source,omitempty"` // the text it came from
}

// Curve is a piecewise rate function r(t), t in seconds from the start of
// the run. It is immutable once built; the transforms return new curves.
type Curve struct {
	Segments []Segment `json:"segments"`
	Phases   []Phase   `json:"phases"`

	start []float64 // start[i]: start time of segment i
	cum   []float64 // cum[i]: N at the start of segment i; len = len(Segments)+1
}

// NewCurve builds a curve from primitive segments. Each segment's Phase must
// index phases.
func NewCurve(segs []Segment, phases []Phase) (*Curve, error) {
	if len(segs) == 0 {
		return nil, fmt.Errorf("curve is empty")
	}
	for i := range segs {
		if err := segs[i].check(); err != nil {
			return nil, fmt.Errorf("segment %d (%s): %w", i+1, segs[i].Kind, err)
		}
		if segs[i].Phase < 0 || segs[i].Phase >= len(phases) {
			return nil, fmt.Errorf("segment %d: phase %d out of range", i+1, segs[i].Phase)
		}
	}
	c := &Curve{Segments: segs, Phases: phases}
	c.index()
	if c.Total() > 1e12 {
		return nil, fmt.Errorf("curve sends %.3g requests in all (a typo?)", c.Total())
	}
	return c, nil
}

func (c *Curve) index() {
	c.start = make([]float64, len(c.Segments))
	c.cum = make([]float64, len(c.Segments)+1)
	var t float64
	for i := range c.Segments {
		c.start[i] = t
		t += c.Segments[i].Dur
		c.cum[i+1] = c.cum[i] + c.Segments[i].N(c.Segments[i].Dur)
	}
}

// UnmarshalJSON reads a curve saved with encoding/json (as run.json keeps it).
func (c *Curve) UnmarshalJSON(b []byte) error {
	type plain Curve
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	nc, err := NewCurve(p.Segments, p.Phases)
	if err != nil {
		return err
	}
	*c = *nc
	return nil
}

// Seconds is the curve's length in seconds.
func (c *Curve) Seconds() float64 {
	last := len(c.Segments) - 1
	return c.start[last] + c.Segments[last].Dur
}

// Duration is the curve's length.
func (c *Curve) Duration() time.Duration { return secs(c.Seconds()) }

// Total is N at the end of the curve: the expected number of requests.
func (c *Curve) Total() float64 { return c.cum[len(c.cum)-1] }

// Requests is the number of requests a run of the curve sends: request i
// is due at Due(i) = N⁻¹(i + ½), for every integer i with i + ½ ≤ Total, so
// that a curve of 100/s for 1m sends 6,000 (as vegeta does) and the count
// sent by any instant t is N(t) rounded: never more than half a request
// from the curve, however low the rate (a stretch of 300/d owes nothing
// in its first minutes and sends nothing there). Total is a sum of
// floating-point integrals: a total within a part in 10¹² of a half
// counts as reaching it.
func (c *Curve) Requests() uint64 { return dueBy(c.Total()) }

// dueBy is the number of requests due once the curve has offered n: the
// i with i + ½ ≤ n (see Requests).
func dueBy(n float64) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64(math.Floor(n + 0.5 + 1e-12*max(1, n)))
}

// Due is the time, in seconds from t = 0, at which request i of the whole
// schedule is due: N⁻¹(i + ½), the instant the curve has offered half of
// it. Every sender, shard and simulation uses this one schedule.
func (c *Curve) Due(i uint64) float64 {
	return c.Inv(math.Min(float64(i)+0.5, c.Total()))
}

// seg returns the index of the segment holding time t.
func (c *Curve) seg(t float64) int {
	i := sort.SearchFloat64s(c.start, t)
	if i == len(c.start) || c.start[i] > t {
		i--
	}
	return max(i, 0)
}

// Rate is r(t) in requests per second; 0 outside the curve.
func (c *Curve) Rate(t float64) float64 {
	if t < 0 || t > c.Seconds() {
		return 0
	}
	i := c.seg(t)
	return c.Segments[i].Rate(t - c.start[i])
}

// N is the number of requests due by time t: ∫₀ᵗ r.
func (c *Curve) N(t float64) float64 {
	if t <= 0 {
		return 0
	}
	if t >= c.Seconds() {
		return c.Total()
	}
	i := c.seg(t)
	return c.cum[i] + c.Segments[i].N(t-c.start[i])
}

// Inv is N⁻¹(n): the time at which the n-th request (counting from 0) is due.
// It returns +Inf past the end of the curve.
func (c *Curve) Inv(n float64) float64 {
	if n <= 0 {
		// The first request is due when the rate first becomes positive.
		n = 0
	}
	if n > c.Total() {
		return math.Inf(1)
	}
	// First segment whose end count exceeds n (skips segments of zero rate).
	i := sort.Search(len(c.Segments), func(i int) bool { return c.cum[i+1] > n })
	if i == len(c.Segments) {
		i = len(c.Segments) - 1
		return c.start[i] + c.Segments[i].Dur
	}
	return c.start[i] + c.Segments[i].Inv(n-c.cum[i])
}

// Peak is the highest rate anywhere on the curve.
func (c *Curve) Peak() float64 {
	var p float64
	for i := range c.Segments {
		p = max(p, c.Segments[i].From, c.Segments[i].End())
	}
	return p
}

// Compress returns r'(t) = r(k·t): the same rates, k times faster.
func (c *Curve) Compress(k float64) (*Curve, error) {
	if !(k > 0) || math.IsInf(k, 0) {
		return nil, fmt.Errorf("compress must be > 0, got %g", k)
	}
	return c.transform(1, k)
}

// ScalePeak returns the curve scaled in amplitude so its peak is r.
func (c *Curve) ScalePeak(r float64) (*Curve, error) {
	p := c.Peak()
	if !(r > 0) || r > MaxRate {
		return nil, fmt.Errorf("peak must be in (0, %s], got %g/s", Rate(MaxRate), r)
	}
	if p == 0 {
		return nil, fmt.Errorf("curve has no traffic to scale")
	}
	return c.transform(r/p, 1)
}

func (c *Curve) transform(f, k float64) (*Curve, error) {
	segs := make([]Segment, len(c.Segments))
	for i, s := range c.Segments {
		segs[i] = s.scaled(f, k)
	}
	return NewCurve(segs, c.Phases)
}

// Cap returns the curve with every rate above max clipped to max (a hold
// where it was above), so r'(t) = min(r(t), max).
func (c *Curve) Cap(limit float64) (*Curve, error) {
	if !(limit > 0) {
		return nil, fmt.Errorf("max rate must be > 0")
	}
	var out []Segment
	for _, s := range c.Segments {
		a, b := s.From, s.End()
		switch {
		case max(a, b) <= limit:
			out = append(out, s)
		case a >= limit && b >= limit:
			out = append(out, Segment{Kind: Hold, From: limit, Dur: s.Dur, Phase: s.Phase})
		default:
			t, _ := s.atRate(limit)
			head, tail := split(s, t)
			if a > limit { // falling through the cap
				head = Segment{Kind: Hold, From: limit, Dur: head.Dur, Phase: s.Phase}
			} else {
				tail = Segment{Kind: Hold, From: limit, Dur: tail.Dur, Phase: s.Phase}
			}
			for _, p := range []Segment{head, tail} {
				if p.Dur > 0 {
					out = append(out, p)
				}
			}
		}
	}
	return NewCurve(out, c.Phases)
}

// split cuts a monotone segment at time t into two of the same family.
func split(s Segment, t float64) (Segment, Segment) {
	head, tail := s, s
	head.Dur, tail.Dur = t, s.Dur-t
	mid := s.Rate(t)
	switch s.Kind {
	case Ramp, Exp:
		head.To, tail.From = mid, mid
	case Decay:
		tail.From = mid
	case Power:
		tail.From = mid
		tail.Scale = s.Scale + t // (1+(t+u)/S) = (1+t/S)(1+u/(S+t))
	}
	return head, tail
}

// PhaseSpan is a phase with its place on the curve.
type PhaseSpan struct {
	Phase
	Start    float64 `json:"start_s"`
	Seconds  float64 `json:"duration_s"`
	From     float64 `json:"from_rps"`
	To       float64 `json:"to_rps"`
	Peak     float64 `json:"peak_rps"`
	Requests float64 `json:"requests"` // ∫r over the phase
	// Sent is the number of requests a run sends in the phase: those due
	// in it (see Curve.Due). The phases' Sent add up to Curve.Requests.
	Sent uint64 `json:"sent"`
}

// Spans lists the phases in order, with their start, length, rates and the
// number of requests each offers and sends.
func (c *Curve) Spans() []PhaseSpan {
	var out []PhaseSpan
	for i := range c.Segments {
		s := &c.Segments[i]
		if len(out) == 0 || out[len(out)-1].Phase != c.Phases[s.Phase] || (i > 0 && c.Segments[i-1].Phase != s.Phase) {
			out = append(out, PhaseSpan{Phase: c.Phases[s.Phase], Start: c.start[i], From: s.From})
		}
		p := &out[len(out)-1]
		p.Seconds += s.Dur
		p.To = s.End()
		p.Peak = max(p.Peak, s.From, s.End())
		p.Requests += c.cum[i+1] - c.cum[i]
		p.Sent += dueBy(c.cum[i+1]) - dueBy(c.cum[i])
	}
	return out
}

// PhaseAt names the phase running at time t.
func (c *Curve) PhaseAt(t float64) string {
	if t < 0 || t > c.Seconds() {
		return ""
	}
	return c.Phases[c.Segments[c.seg(t)].Phase].Name
}

// String prints the curve in the inline syntax (replays as their points).
func (c *Curve) String() string {
	parts := make([]string, len(c.Segments))
	for i := range c.Segments {
		parts[i] = c.Segments[i].String()
	}
	return strings.Join(parts, ", ")
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
