package hosting

import (
	"embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The built-in plans, each a YAML file whose comments say what it stands for.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinPlanNames lists the built-in plans in order of size.
func BuiltinPlanNames() []string {
	order := map[string]int{"shared": 0, "vps": 1, "cloud": 2, "cdn": 3}
	ents, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
		}
	}
	sort.Slice(names, func(i, j int) bool {
		oi, ok1 := order[names[i]]
		oj, ok2 := order[names[j]]
		if ok1 && ok2 {
			return oi < oj
		}
		if ok1 != ok2 {
			return ok1
		}
		return names[i] < names[j]
	})
	return names
}

// BuiltinPlanSource returns the YAML text of a built-in plan.
func BuiltinPlanSource(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/\\.") || name == "" {
		return nil, fmt.Errorf("no built-in plan %q", name)
	}
	b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in plan %q (built-ins: %s)", name, strings.Join(BuiltinPlanNames(), ", "))
	}
	return b, nil
}

// LoadPlan returns the built-in plan called nameOrFile, or reads a plan
// file. Problems with a file come back as scenarios.Problems, each naming
// file, line, column and field.
func LoadPlan(nameOrFile string) (*Plan, error) {
	if b, err := BuiltinPlanSource(nameOrFile); err == nil {
		p, err := ParsePlan("builtin:"+nameOrFile, b)
		if err != nil {
			return nil, fmt.Errorf("built-in plan %s: %w", nameOrFile, err)
		}
		return p, nil
	}
	data, err := os.ReadFile(nameOrFile)
	if err != nil {
		if os.IsNotExist(err) && !strings.ContainsAny(nameOrFile, "/.") {
			return nil, &scenarios.Problem{File: nameOrFile, Msg: fmt.Sprintf("no such plan file or built-in plan (built-ins: %s)", strings.Join(BuiltinPlanNames(), ", "))}
		}
		return nil, &scenarios.Problem{File: nameOrFile, Msg: err.Error()}
	}
	return ParsePlan(nameOrFile, data)
}

// ParsePlan reads a plan from YAML, reporting every problem at once:
//
//	name: my-vps
//	description: what it stands for
//	monthly_cost: 40
//	bandwidth: 125MB            # bytes per second out, shared by all responses (> 0; "unlimited" or leave out)
//	host_timeout: 30s           # a request queued longer gets 504 (> 0; leave out for none)
//	when_full: 503              # 503 | refuse | reset
//	workers: 8                  # the main pool: every class no other pool claims (with autoscale: its start, = autoscale.min)
//	queue: 128
//	autoscale: {min: 8, max: 64, step: 8, lag: 45s, target: 70%, every: 5s}
//	pools:                      # extra pools, each with its own workers and queue
//	  - {name: static, classes: [asset], workers: 4, queue: 256}
//	classes:
//	  page:  {service: "lognormal 45ms p99 250ms", size: 20KB}
//	  asset: {service: "1.5ms", size: 25KB}             # constant
//	  api:   {service: "exponential 100ms", size: 2KB}
//	faults: {reset: 1%, garbage: 0.5%, drip: 1%, drip_rate: 2KB}
func ParsePlan(file string, data []byte) (*Plan, error) {
	root, err := scenarios.ParseYAML(file, data)
	if err != nil {
		return nil, err
	}
	d := &scenarios.Decoder{File: file}
	if root.Kind == scenarios.NullNode {
		d.Add(root, "", "plan is empty: it needs at least workers and classes")
		return nil, d.Problems
	}
	o := d.Object(root, "")
	p := &Plan{Source: file, Classes: map[scenarios.Class]ClassSpec{}}
	p.Name, _ = o.String("name")
	if p.Name == "" {
		p.Name = strings.TrimPrefix(file, "builtin:")
		if i := strings.LastIndexAny(p.Name, "/\\"); i >= 0 {
			p.Name = p.Name[i+1:]
		}
		p.Name = strings.TrimSuffix(strings.TrimSuffix(p.Name, ".yaml"), ".yml")
	}
	p.Description, _ = o.String("description")
	if v, ok := o.Float("monthly_cost", false); ok {
		if v < 0 {
			d.Add(o.Get("monthly_cost"), "monthly_cost", "must be >= 0, found %g", v)
		}
		p.MonthlyCost = v
	}
	p.Bandwidth = decodeBandwidth(d, o.Get("bandwidth"))
	if v, ok := o.Duration("host_timeout"); ok {
		// 0 would read as "time out at once" but mean "never": say so.
		if v <= 0 {
			d.Add(o.Get("host_timeout"), "host_timeout", "must be > 0; leave it out for no host timeout")
		}
		p.HostTimeout = v
	}
	if v, ok := o.String("when_full"); ok {
		switch FullMode(v) {
		case Full503, FullRefuse, FullReset:
			p.WhenFull = FullMode(v)
		default:
			d.Add(o.Get("when_full"), "when_full", "%q is not 503, refuse or reset", v)
		}
	}
	main := decodePool(d, o, "", root)
	main.Name = "main"
	p.Pools = append(p.Pools, main)
	if n := o.Get("pools"); n != nil && n.Kind != scenarios.NullNode {
		if n.Kind != scenarios.SeqNode {
			d.Add(n, "pools", "want a list of pools")
		}
		claimed := map[scenarios.Class]string{}
		names := map[string]bool{"main": true}
		for i, v := range n.Vals {
			path := fmt.Sprintf("pools[%d]", i)
			po := d.Object(v, path)
			pl := decodePool(d, po, path, v)
			pl.Name, _ = po.String("name")
			if pl.Name == "" {
				pl.Name = fmt.Sprintf("pool%d", i+1)
			}
			if names[pl.Name] {
				d.Add(po.Get("name"), scenarios.Field(path, "name"), "pool name %q used twice", pl.Name)
			}
			names[pl.Name] = true
			cn := po.Get("classes")
			switch {
			case cn == nil || cn.Kind == scenarios.NullNode:
				d.Add(v, scenarios.Field(path, "classes"), "missing: say which classes (page, asset, api) this pool serves")
			case cn.Kind != scenarios.SeqNode:
				d.Add(cn, scenarios.Field(path, "classes"), "want a list such as [asset]")
			default:
				for j, cv := range cn.Vals {
					c := scenarios.Class(cv.Scalar)
					field := fmt.Sprintf("%s.classes[%d]", path, j)
					if c != scenarios.Page && c != scenarios.Asset && c != scenarios.API {
						d.Add(cv, field, "%q is not page, asset or api", cv.Scalar)
						continue
					}
					if other, ok := claimed[c]; ok {
						d.Add(cv, field, "class %s is already served by pool %s", c, other)
						continue
					}
					claimed[c] = pl.Name
					pl.Classes = append(pl.Classes, c)
				}
			}
			po.Close()
			p.Pools = append(p.Pools, pl)
		}
	}
	decodeClasses(d, o.Get("classes"), p)
	if n := o.Get("classes"); n == nil {
		d.Add(root, "classes", "missing: say how pages (and assets, api) are served, e.g. classes: {page: {service: 50ms, size: 20KB}}")
	}
	p.Faults = decodeFaults(d, o.Get("faults"))
	o.Close()
	if len(d.Problems) > 0 {
		sortProblems(d.Problems)
		return nil, d.Problems
	}
	if err := p.Validate(); err != nil {
		return nil, scenarios.Problems{{File: file, Line: root.Line, Col: root.Col, Msg: err.Error()}}
	}
	return p, nil
}

func sortProblems(ps scenarios.Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Col < ps[j].Col
	})
}

func decodeBandwidth(d *scenarios.Decoder, n *scenarios.Node) int64 {
	if n == nil || n.Kind == scenarios.NullNode {
		return 0
	}
	if n.Kind != scenarios.ScalarNode {
		d.Add(n, "bandwidth", "want a size per second such as 125MB")
		return 0
	}
	s := strings.TrimSpace(n.Scalar)
	if s == "unlimited" {
		return 0
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/s"), "ps")
	v, err := scenarios.ParseBytes(s)
	if err != nil {
		d.Add(n, "bandwidth", "%v (bytes per second, or unlimited)", err)
		return 0
	}
	// 0 (or less than a byte) would read as "no bandwidth" but mean
	// "unlimited": say so.
	if v <= 0 {
		d.Add(n, "bandwidth", "must be > 0; leave it out for unlimited")
		return 0
	}
	return v
}

// decodePool reads workers, queue and autoscale from o (the top level for
// the main pool).
func decodePool(d *scenarios.Decoder, o *scenarios.Object, path string, at *scenarios.Node) Pool {
	var pl Pool
	w, hasW := o.Int("workers")
	if hasW && (w < 1 || w > 1_000_000) {
		d.Add(o.Get("workers"), scenarios.Field(path, "workers"), "must be in [1, 1000000], found %d", w)
	}
	pl.Workers = w
	if q, ok := o.Int("queue"); ok {
		if q < 0 || q > 10_000_000 {
			d.Add(o.Get("queue"), scenarios.Field(path, "queue"), "must be in [0, 10000000], found %d", q)
		}
		pl.Queue = q
	}
	an := o.Get("autoscale")
	if an != nil && an.Kind != scenarios.NullNode {
		ap := scenarios.Field(path, "autoscale")
		ao := d.Object(an, ap)
		a := &Autoscale{Step: 1, Target: 0.7, Every: 5e9}
		var ok bool
		if a.Min, ok = ao.Int("min"); !ok {
			a.Min = max(w, 1)
		}
		if a.Max, ok = ao.Int("max"); !ok {
			d.Add(an, scenarios.Field(ap, "max"), "missing: the most workers autoscaling may reach")
		}
		if v, ok := ao.Int("step"); ok {
			a.Step = v
		}
		if v, ok := ao.Duration("lag"); ok {
			a.Lag = v
		}
		if v, ok := ao.Float("target", true); ok {
			a.Target = v
		}
		if v, ok := ao.Duration("every"); ok {
			a.Every = v
		}
		switch {
		case a.Min < 1:
			d.Add(ao.Get("min"), scenarios.Field(ap, "min"), "must be >= 1, found %d", a.Min)
		case a.Max < a.Min && ao.Get("max") != nil:
			d.Add(ao.Get("max"), scenarios.Field(ap, "max"), "must be >= min (%d), found %d", a.Min, a.Max)
		}
		if a.Max > 1_000_000 {
			d.Add(ao.Get("max"), scenarios.Field(ap, "max"), "must be at most 1000000")
		}
		if a.Step < 1 {
			d.Add(ao.Get("step"), scenarios.Field(ap, "step"), "must be >= 1, found %d", a.Step)
		}
		if a.Lag < 0 {
			d.Add(ao.Get("lag"), scenarios.Field(ap, "lag"), "must be >= 0")
		}
		if !(a.Target > 0 && a.Target <= 1) {
			d.Add(ao.Get("target"), scenarios.Field(ap, "target"), "must be in (0, 100%%]")
		}
		if a.Every <= 0 {
			d.Add(ao.Get("every"), scenarios.Field(ap, "every"), "must be > 0")
		}
		if hasW && w != a.Min && ao.Get("min") != nil {
			d.Add(o.Get("workers"), scenarios.Field(path, "workers"), "an autoscaled pool starts at autoscale.min (%d); leave workers out or make them equal", a.Min)
		}
		ao.Close()
		pl.Autoscale = a
		pl.Workers = a.Min
	} else if !hasW {
		d.Add(at, scenarios.Field(path, "workers"), "missing: how many requests the pool serves at once")
	}
	return pl
}

func decodeClasses(d *scenarios.Decoder, n *scenarios.Node, p *Plan) {
	if n == nil || n.Kind == scenarios.NullNode {
		return
	}
	o := d.Object(n, "classes")
	if o.Pos() == nil {
		return
	}
	for _, c := range scenarios.Classes {
		cn := o.Get(string(c))
		if cn == nil || cn.Kind == scenarios.NullNode {
			if c == scenarios.Page {
				d.Add(n, "classes.page", "missing: every plan serves pages")
			}
			continue
		}
		path := "classes." + string(c)
		co := d.Object(cn, path)
		var s ClassSpec
		if v, ok := co.String("service"); ok {
			dist, err := ParseDist(v)
			if err != nil {
				d.Add(co.Get("service"), scenarios.Field(path, "service"), "%v", err)
			}
			s.Service = dist
		} else if co.Pos() != nil {
			d.Add(cn, scenarios.Field(path, "service"), "missing: a service time such as \"40ms\" or \"lognormal 40ms p99 300ms\"")
		}
		if v, ok := co.Bytes("size"); ok {
			s.Size = v
		}
		if v, ok := co.Bool("offload"); ok {
			s.Offload = v
		}
		co.Close()
		p.Classes[c] = s
	}
	o.Close()
}

func decodeFaults(d *scenarios.Decoder, n *scenarios.Node) Faults {
	var f Faults
	if n == nil || n.Kind == scenarios.NullNode {
		return f
	}
	o := d.Object(n, "faults")
	frac := func(key string) float64 {
		v, ok := o.Float(key, true)
		if ok && (v < 0 || v > 1) {
			d.Add(o.Get(key), scenarios.Field("faults", key), "must be between 0 and 100%%")
			return 0
		}
		return v
	}
	f.Reset, f.Garbage, f.Drip = frac("reset"), frac("garbage"), frac("drip")
	rate, hasRate := o.Bytes("drip_rate")
	if hasRate {
		f.DripRate = rate
		if rate <= 0 {
			d.Add(o.Get("drip_rate"), "faults.drip_rate", "must be > 0 (bytes per second of a dripped body, e.g. 2KB)")
		}
	}
	if f.Reset+f.Garbage+f.Drip > 1+1e-12 {
		d.Add(n, "faults", "fractions add up to more than 100%%")
	}
	if dn := o.Get("drip_rate"); f.Drip > 0 && (dn == nil || dn.Kind == scenarios.NullNode) {
		d.Add(n, "faults.drip_rate", "missing: bytes per second of a dripped body, e.g. 2KB")
	}
	o.Close()
	if math.IsNaN(f.Reset + f.Garbage + f.Drip) {
		return Faults{}
	}
	return f
}
