package hosting

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Plan is a hosting plan as a queueing model. Build one with LoadPlan (a
// built-in or a YAML file) or by hand followed by Validate.
type Plan struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Source      string  `json:"source"`       // "builtin:NAME" or the file it came from
	MonthlyCost float64 `json:"monthly_cost"` // in the plan's currency (USD for the built-ins)

	// Pools are the worker pools; Pools[0] is the main pool and serves
	// every class no other pool claims.
	Pools []Pool `json:"pools"`
	// Classes says how each endpoint class is served. A class missing from
	// the map is served as a page.
	Classes map[scenarios.Class]ClassSpec `json:"classes"`

	Bandwidth   int64         `json:"bandwidth_bytes_per_s"` // bytes/s out, shared by all responses; 0 = unlimited
	HostTimeout time.Duration `json:"host_timeout"`          // a request queued longer gets 504; 0 = never
	WhenFull    FullMode      `json:"when_full"`             // what a full queue does
	Faults      Faults        `json:"faults"`
}

// Pool is a set of workers with a bounded FIFO queue.
type Pool struct {
	Name      string            `json:"name"`
	Classes   []scenarios.Class `json:"classes,omitempty"` // the classes it serves (the main pool: the rest)
	Workers   int               `json:"workers"`           // at start (the autoscale minimum when autoscaling)
	Queue     int               `json:"queue"`             // waiting places; 0 = none
	Autoscale *Autoscale        `json:"autoscale,omitempty"`
}

// MaxWorkers is the pool's size at full autoscale.
func (p *Pool) MaxWorkers() int {
	if p.Autoscale != nil {
		return p.Autoscale.Max
	}
	return p.Workers
}

// Autoscale adds workers to a pool that runs hot, after a reaction lag, and
// removes them when it runs cold. Every Every, the pool's utilisation
// u = (busy + queued) / (workers + pending) is checked: above Target, Step
// more workers are ordered (up to Max) and arrive Lag later; below Target/2
// with nothing on order, Step workers retire (down to Min) as they finish.
type Autoscale struct {
	Min    int           `json:"min"`
	Max    int           `json:"max"`
	Step   int           `json:"step"`
	Lag    time.Duration `json:"lag"`
	Target float64       `json:"target"` // utilisation, 0..1
	Every  time.Duration `json:"every"`  // how often utilisation is checked
}

// ClassSpec is how one endpoint class is served.
type ClassSpec struct {
	Service Dist  `json:"service"`
	Size    int64 `json:"size"` // response body bytes
	// Offload marks a class served off the host's link (a CDN edge): its
	// bytes do not count against Bandwidth.
	Offload bool `json:"offload,omitempty"`
	pool    int
}

// FullMode is what a host does with a request that finds its queue full.
type FullMode string

// The full-queue behaviours.
const (
	Full503    FullMode = "503"    // answer 503 Service Unavailable (default)
	FullRefuse FullMode = "refuse" // refuse new connections at accept, reset the request's connection
	FullReset  FullMode = "reset"  // reset the request's connection
)

// Faults are extra failure modes for reliability tests: each is the fraction
// of would-be successful responses that fail that way.
type Faults struct {
	Reset    float64 `json:"reset,omitempty"`     // connection reset halfway through the body
	Garbage  float64 `json:"garbage,omitempty"`   // non-HTTP bytes instead of a response
	Drip     float64 `json:"drip,omitempty"`      // body dripped slowly at DripRate
	DripRate int64   `json:"drip_rate,omitempty"` // bytes/s of a dripped body
}

// DistKind names a service-time distribution.
type DistKind string

// The service-time distributions.
const (
	Constant    DistKind = "constant"
	Exponential DistKind = "exponential"
	Lognormal   DistKind = "lognormal"
)

// Dist is a service-time distribution: constant, exponential with a mean,
// or lognormal with a mean and a 99th percentile.
type Dist struct {
	Kind DistKind      `json:"kind"`
	Mean time.Duration `json:"mean"`
	P99  time.Duration `json:"p99,omitempty"` // lognormal only
	mu   float64       // lognormal parameters, in log-seconds
	sig  float64
}

const z99 = 2.3263478740408408 // Φ⁻¹(0.99)

// ParseDist reads "40ms" or "constant 40ms", "exponential 40ms", and
// "lognormal 40ms p99 300ms".
func ParseDist(s string) (Dist, error) {
	f := strings.Fields(s)
	var d Dist
	switch {
	case len(f) == 1:
		d.Kind = Constant
	case len(f) == 2 && (f[0] == "constant" || f[0] == "exponential" || f[0] == "exp"):
		d.Kind = Constant
		if f[0] != "constant" {
			d.Kind = Exponential
		}
		f = f[1:]
	case len(f) == 4 && f[0] == "lognormal" && f[2] == "p99":
		d.Kind = Lognormal
		p, err := scenarios.ParseDuration(f[3])
		if err != nil {
			return d, fmt.Errorf("service time %q: p99: %w", s, err)
		}
		d.P99 = p
		f = f[1:2]
	default:
		return d, fmt.Errorf("service time %q: want \"40ms\", \"constant 40ms\", \"exponential 40ms\" or \"lognormal 40ms p99 300ms\"", s)
	}
	m, err := scenarios.ParseDuration(f[0])
	if err != nil {
		return d, fmt.Errorf("service time %q: %w", s, err)
	}
	d.Mean = m
	if err := d.init(); err != nil {
		return d, fmt.Errorf("service time %q: %w", s, err)
	}
	return d, nil
}

// init checks the parameters and derives the lognormal's μ and σ from the
// mean m and p99 q: m = e^(μ+σ²/2), q = e^(μ+z·σ), so
// σ = z − √(z² − 2·ln(q/m)), which needs q/m ≤ e^(z²/2) ≈ 14.9.
func (d *Dist) init() error {
	if d.Mean < 0 {
		return fmt.Errorf("service time must be >= 0")
	}
	if d.Kind != Lognormal {
		return nil
	}
	if d.Mean <= 0 || d.P99 <= d.Mean {
		return fmt.Errorf("lognormal service time needs 0 < mean < p99 (mean %s, p99 %s)", d.Mean, d.P99)
	}
	r := math.Log(float64(d.P99) / float64(d.Mean))
	if r > z99*z99/2 {
		return fmt.Errorf("lognormal p99 %s is more than %.1f× the mean %s: no lognormal has that shape", d.P99, math.Exp(z99*z99/2), d.Mean)
	}
	d.sig = z99 - math.Sqrt(z99*z99-2*r)
	d.mu = math.Log(d.Mean.Seconds()) - d.sig*d.sig/2
	return nil
}

// Sample draws a service time.
func (d *Dist) Sample(r *rand.Rand) time.Duration { return d.sample(r) }

func (d *Dist) sample(r source) time.Duration {
	switch d.Kind {
	case Exponential:
		return time.Duration(r.ExpFloat64() * float64(d.Mean))
	case Lognormal:
		return time.Duration(math.Exp(d.mu+d.sig*r.NormFloat64()) * 1e9)
	}
	return d.Mean
}

// String prints the distribution in the plan-file syntax.
func (d Dist) String() string {
	switch d.Kind {
	case Exponential:
		return "exponential " + d.Mean.String()
	case Lognormal:
		return "lognormal " + d.Mean.String() + " p99 " + d.P99.String()
	}
	return d.Mean.String()
}

// Class returns how class c is served (a page's spec for an unknown class).
func (p *Plan) Class(c scenarios.Class) ClassSpec {
	if s, ok := p.Classes[c]; ok {
		return s
	}
	return p.Classes[scenarios.Page]
}

// PoolOf returns the index of the pool serving class c.
func (p *Plan) PoolOf(c scenarios.Class) int {
	for i := len(p.Pools) - 1; i > 0; i-- {
		for _, pc := range p.Pools[i].Classes {
			if pc == c {
				return i
			}
		}
	}
	return 0
}

// Validate checks a plan built by hand and prepares it for use; LoadPlan
// does this already. It reports every problem it finds.
func (p *Plan) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(p.Pools) == 0 {
		bad("plan has no worker pool")
	}
	claimed := map[scenarios.Class]string{}
	for i := range p.Pools {
		pl := &p.Pools[i]
		if pl.Name == "" {
			pl.Name = fmt.Sprintf("pool%d", i)
			if i == 0 {
				pl.Name = "main"
			}
		}
		if pl.Autoscale != nil {
			a := pl.Autoscale
			if a.Min < 1 || a.Max < a.Min || a.Step < 1 || !(a.Target > 0 && a.Target <= 1) || a.Lag < 0 || a.Every <= 0 {
				bad("pool %s: autoscale needs 1 <= min <= max, step >= 1, 0 < target <= 1, lag >= 0, every > 0", pl.Name)
			}
			pl.Workers = a.Min
		}
		if pl.Workers < 1 || pl.Workers > 1_000_000 {
			bad("pool %s: workers must be in [1, 1000000], found %d", pl.Name, pl.Workers)
		}
		if pl.Queue < 0 || pl.Queue > 10_000_000 {
			bad("pool %s: queue must be in [0, 10000000], found %d", pl.Name, pl.Queue)
		}
		if i > 0 && len(pl.Classes) == 0 {
			bad("pool %s: serves no class", pl.Name)
		}
		for _, c := range pl.Classes {
			if i == 0 {
				continue
			}
			if o, ok := claimed[c]; ok {
				bad("class %s is in two pools (%s and %s)", c, o, pl.Name)
			}
			claimed[c] = pl.Name
		}
	}
	if p.Classes == nil {
		p.Classes = map[scenarios.Class]ClassSpec{}
	}
	if _, ok := p.Classes[scenarios.Page]; !ok {
		bad("plan has no page class")
	}
	for c, s := range p.Classes {
		if err := s.Service.init(); err != nil {
			bad("class %s: %v", c, err)
		}
		if s.Size < 0 {
			bad("class %s: size must be >= 0", c)
		}
		s.pool = p.PoolOf(c)
		p.Classes[c] = s
	}
	if p.Bandwidth < 0 {
		bad("bandwidth must be >= 0")
	}
	if p.HostTimeout < 0 {
		bad("host timeout must be >= 0")
	}
	switch p.WhenFull {
	case "":
		p.WhenFull = Full503
	case Full503, FullRefuse, FullReset:
	default:
		bad("when_full %q is not 503, refuse or reset", p.WhenFull)
	}
	f := p.Faults
	if f.Reset < 0 || f.Garbage < 0 || f.Drip < 0 || f.Reset+f.Garbage+f.Drip > 1 {
		bad("fault fractions must be >= 0 and sum to at most 100%%")
	}
	if f.Drip > 0 && f.DripRate <= 0 {
		bad("faults: drip needs a drip_rate > 0")
	}
	if len(errs) > 0 {
		return fmt.Errorf("plan %s: %s", p.Name, strings.Join(errs, "; "))
	}
	return nil
}

// classIndex maps the three classes to 0..2 (unknown classes are pages).
func classIndex(c scenarios.Class) int {
	switch c {
	case scenarios.Asset:
		return 1
	case scenarios.API:
		return 2
	}
	return 0
}

// endpointClass is an endpoint's class, guessed from its URL when unset.
func endpointClass(e scenarios.Endpoint) scenarios.Class {
	if e.Class != "" {
		return e.Class
	}
	return scenarios.ClassOf(e.URL)
}

// transmit is the time the link takes to send n bytes alone.
func (p *Plan) transmit(s ClassSpec) float64 {
	if p.Bandwidth <= 0 || s.Offload {
		return 0
	}
	return float64(s.Size) / float64(p.Bandwidth)
}

// hold is the mean time a request of class s holds its worker when the link
// is otherwise idle: service, then sending (or dripping) the body.
func (p *Plan) hold(s ClassSpec) float64 {
	h := s.Service.Mean.Seconds() + p.transmit(s)
	if f := p.Faults; f.Drip > 0 && f.DripRate > 0 {
		h += f.Drip * (float64(s.Size)/float64(f.DripRate) - p.transmit(s))
	}
	return h
}

// Capacity is the highest request rate the plan sustains for an endpoint
// mix (by weight; an empty mix is all pages): the bottleneck pool at its
// maximum autoscale, or the link, whichever allows less.
//
//	Capacity = min( min_p W_p / Σ_{c∈p} f_c·(s_c + b_c/B),  B / Σ_{c not offloaded} f_c·b_c )
//
// It returns +Inf when nothing in the mix is limited.
func (p *Plan) Capacity(mix []scenarios.Endpoint) float64 {
	c, _ := p.bottleneck(mix)
	return c
}

// Bottleneck names what limits Capacity for the mix: a pool's name, or
// "bandwidth" for the link ("" when nothing does).
func (p *Plan) Bottleneck(mix []scenarios.Endpoint) string {
	_, name := p.bottleneck(mix)
	return name
}

func (p *Plan) bottleneck(mix []scenarios.Endpoint) (float64, string) {
	var frac [3]float64
	var total float64
	for _, e := range mix {
		if e.Weight > 0 {
			frac[classIndex(endpointClass(e))] += e.Weight
			total += e.Weight
		}
	}
	if total == 0 {
		frac, total = [3]float64{1, 0, 0}, 1
	}
	load := make([]float64, len(p.Pools))
	var bytes float64
	for i, c := range []scenarios.Class{scenarios.Page, scenarios.Asset, scenarios.API} {
		if frac[i] == 0 {
			continue
		}
		f := frac[i] / total
		s := p.Class(c)
		load[p.PoolOf(c)] += f * p.hold(s)
		if !s.Offload {
			bytes += f * float64(s.Size)
		}
	}
	capacity, name := math.Inf(1), ""
	for i, l := range load {
		if c := float64(p.Pools[i].MaxWorkers()) / l; l > 0 && c < capacity {
			capacity, name = c, p.Pools[i].Name
		}
	}
	if p.Bandwidth > 0 && bytes > 0 {
		if c := float64(p.Bandwidth) / bytes; c < capacity {
			capacity, name = c, "bandwidth"
		}
	}
	return capacity, name
}
