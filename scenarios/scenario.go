package scenarios

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Class is what an endpoint serves; hosting plans give each class its own
// service time, size and, on some plans, its own worker pool.
type Class string

// The endpoint classes.
const (
	Page  Class = "page"
	Asset Class = "asset"
	API   Class = "api"
)

// Classes lists the classes in a fixed order.
var Classes = []Class{Page, Asset, API}

// ClassOf guesses an endpoint's class from its path: /api/ → api, a static
// file extension or /img/ → asset, anything else → page.
func ClassOf(path string) Class {
	p := strings.ToLower(path)
	if u, err := url.Parse(p); err == nil && u.Path != "" {
		p = u.Path
	}
	switch {
	case strings.HasPrefix(p, "/api/") || p == "/api":
		return API
	case strings.HasPrefix(p, "/img/") || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/assets/"):
		return Asset
	}
	switch filepath.Ext(p) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".ico", ".css", ".js", ".woff", ".woff2", ".mp4":
		return Asset
	}
	return Page
}

// Endpoint is one kind of request in the mix.
type Endpoint struct {
	Name   string      `json:"name"`
	Method string      `json:"method"`
	URL    string      `json:"url"` // a path ("/img/a.jpg") joined to the target, or a full URL
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
	Weight float64     `json:"weight"`
	Class  Class       `json:"class"`
	// Size is the expected response size in bytes, when the scenario
	// states it (size: 100KB); 0 if not. flashcrowd kubernetes sizes its
	// pods' bandwidth from it.
	Size int64 `json:"size,omitempty"`
	// Expect is what a response must show to count as a success; nil: any
	// 2xx or 3xx response does.
	Expect *Expect `json:"expect,omitempty"`
	// Assets makes a page's arrivals page views: the page, then these
	// (see PageViews).
	Assets []AssetRef `json:"assets,omitempty"`

	// written holds the values as the file wrote them, when some came
	// from ${ENV:NAME} references (see Redacted); nil otherwise.
	written *writtenText
}

// SLO is what a window must meet to count as holding.
type SLO struct {
	P99           time.Duration `json:"p99"`             // max p99 latency
	MaxErrorRatio float64       `json:"max_error_ratio"` // failed/total
	MinThroughput float64       `json:"min_throughput"`  // min achieved/offered
	Grace         time.Duration `json:"grace"`           // violations shorter than this are forgiven (story time)
	// RunGrace says Grace is in the run's time, not the story's: under
	// --compress K a story grace is judged as Grace/K of the run.
	RunGrace bool `json:"run_grace,omitempty"`
}

// DefaultSLO is used when a scenario gives none: p99 under 1 s, under 1%
// errors, at least 95% of the offered rate answered, 5 s grace.
var DefaultSLO = SLO{P99: time.Second, MaxErrorRatio: 0.01, MinThroughput: 0.95, Grace: 5 * time.Second}

// String prints the SLO in the --slo syntax.
func (s SLO) String() string {
	grace := "grace"
	if s.RunGrace {
		grace = "run-grace"
	}
	return fmt.Sprintf("p99=%s,errors=%s%%,throughput=%s%%,%s=%s", FormatDuration(s.P99),
		trimFloat(s.MaxErrorRatio*100), trimFloat(s.MinThroughput*100), grace, FormatDuration(s.Grace))
}

// ParseSLO reads "p99=800ms,errors=1%,throughput=95%,grace=10s" over base:
// keys not given keep base's values. Ratios are written as a percentage
// ("5%") or as a fraction below 1 ("0.05"); a bare number of 1 or more
// ("errors=5", "errors=1") is refused as ambiguous (see ParseRatio).
// Errors name the key as given: "errors=5: write 5% or 0.05".
func ParseSLO(s string, base SLO) (SLO, error) {
	out := base
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return base, fmt.Errorf("slo %q: want key=value (p99=800ms, errors=1%%, throughput=95%%, grace=10s)", kv)
		}
		var err error
		switch strings.TrimSpace(strings.ToLower(k)) {
		case "p99":
			out.P99, err = ParseDuration(v)
			if err == nil && out.P99 <= 0 {
				err = errors.New("must be > 0")
			}
		case "errors", "error", "error-ratio":
			out.MaxErrorRatio, err = ParseRatio(v)
		case "throughput", "achieved":
			out.MinThroughput, err = ParseRatio(v)
		case "grace":
			out.Grace, err = ParseDuration(v)
			out.RunGrace = false
		case "run-grace", "run_grace":
			out.Grace, err = ParseDuration(v)
			out.RunGrace = true
		default:
			return base, fmt.Errorf("slo: unknown key %q (want p99, errors, throughput, grace, run-grace)", k)
		}
		if err != nil {
			return base, fmt.Errorf("%s=%s: %w", strings.TrimSpace(k), strings.TrimSpace(v), err)
		}
	}
	return out, nil
}

// ParseRatio reads a ratio between 0 and 1 written as a percentage ("5%",
// "0.5%") or as a fraction ("0.05"). A bare number of 1 or more is refused
// rather than guessed at: "5" could mean 5% or 500%, and "1" 1% or 100%.
// The error says how to write it ("write 5% or 0.05").
func ParseRatio(s string) (float64, error) {
	s = strings.TrimSpace(s)
	num, pct := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a ratio: write a percentage (1%%) or a fraction (0.01)", s)
	}
	return ratioOf(s, v, pct)
}

// ratioOf checks v, read from raw with or without a "%" suffix (pct), and
// returns it as a fraction.
func ratioOf(raw string, v float64, pct bool) (float64, error) {
	if pct {
		v /= 100
	} else if v >= 1 {
		return 0, fmt.Errorf("write %s%% or %s: a bare number is a fraction below 1, and %s is ambiguous",
			strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(v/100, 'g', -1, 64), strings.TrimSpace(raw))
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is not between 0 and 100%%", strings.TrimSpace(raw))
	}
	return v, nil
}

// AbortRule stops a run early: when Metric stays above Threshold for For.
type AbortRule struct {
	Metric    string        `json:"metric"`    // "errors" (ratio) or "p99" (seconds)
	Threshold float64       `json:"threshold"` // ratio, or seconds for p99
	For       time.Duration `json:"for"`
}

// String prints the rule in its own syntax: "errors > 50% for 15s".
func (a AbortRule) String() string {
	v := trimFloat(a.Threshold*100) + "%"
	if a.Metric == "p99" {
		v = FormatDuration(time.Duration(a.Threshold * float64(time.Second)))
	}
	return fmt.Sprintf("%s > %s for %s", a.Metric, v, FormatDuration(a.For))
}

// ParseAbortRule reads "errors > 50% for 15s" or "p99 > 10s for 30s".
func ParseAbortRule(s string) (AbortRule, error) {
	f := strings.Fields(s)
	if len(f) != 5 || f[1] != ">" || f[3] != "for" {
		return AbortRule{}, fmt.Errorf("abort rule %q: want \"errors > 50%% for 15s\" or \"p99 > 10s for 30s\"", s)
	}
	var r AbortRule
	var err error
	switch f[0] {
	case "errors":
		r.Metric = "errors"
		r.Threshold, err = ParseRatio(f[2])
	case "p99":
		r.Metric = "p99"
		var d time.Duration
		d, err = ParseDuration(f[2])
		r.Threshold = d.Seconds()
	default:
		return r, fmt.Errorf("abort rule %q: unknown metric %q (want errors or p99)", s, f[0])
	}
	if err != nil {
		return r, fmt.Errorf("abort rule %q: %w", s, err)
	}
	if r.For, err = ParseDuration(f[4]); err != nil {
		return r, fmt.Errorf("abort rule %q: %w", s, err)
	}
	return r, nil
}

// DefaultAbort stops a run that has plainly broken for a long time.
var DefaultAbort = []AbortRule{
	{Metric: "errors", Threshold: 0.5, For: 15 * time.Second},
	{Metric: "p99", Threshold: 10, For: 30 * time.Second},
}

// Scenario is a curve with an endpoint mix, an SLO and abort rules.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"` // file path, "builtin:NAME" or "--curve"
	// Curve is the curve as written and Compress the factor a run applies
	// to it. Code that prepares a run (the CLI) replaces Curve with the
	// compressed and scaled curve it will send, keeping Compress as a record.
	Curve     *Curve      `json:"curve"`
	Compress  float64     `json:"compress"`
	Endpoints []Endpoint  `json:"endpoints"`
	SLO       SLO         `json:"slo"`
	Abort     []AbortRule `json:"abort"`
	// Journeys make the arrivals journeys through the site (see Journey).
	Journeys []Journey `json:"journeys,omitempty"`
	// Resolved is set on a scenario read from a resolved scenario file
	// (see MarshalResolved): its Curve is already the one to send.
	Resolved bool `json:"resolved,omitempty"`
}

// maxWeight is the largest endpoint weight; anything above it is a typo.
const maxWeight = 1e9

// DefaultEndpoints is the mix when none is given: a single GET /.
func DefaultEndpoints() []Endpoint {
	return []Endpoint{{Name: "home", Method: "GET", URL: "/", Weight: 1, Class: Page}}
}

// Load reads a scenario file, or a built-in by name, with no environment:
// a ${ENV:NAME} reference in it is a problem (see LoadEnv).
func Load(nameOrFile string) (*Scenario, error) { return LoadEnv(nameOrFile, nil) }

// LoadEnv reads a scenario file, or a built-in by name, resolving its
// ${ENV:NAME} references with env; a variable env does not have, or has
// empty, is a problem naming the file, line, column and variable.
func LoadEnv(nameOrFile string, env Env) (*Scenario, error) {
	return load(nameOrFile, env, false)
}

// LoadUnresolved reads a scenario to look at, not to send: as LoadEnv, but
// a ${ENV:NAME} reference to a variable env does not have (or has
// empty) stays as written, and a value holding one is not checked (a url of
// ${ENV:TARGET}/login is no URL until TARGET is set). Its curve, mix and
// every other field are checked as LoadEnv checks them, so flashcrowd
// curve can lint a scenario where its secrets are not set. Send only what
// LoadEnv loads.
func LoadUnresolved(nameOrFile string, env Env) (*Scenario, error) {
	return load(nameOrFile, env, true)
}

// load is LoadEnv, or LoadUnresolved with keepUnset.
func load(nameOrFile string, env Env, keepUnset bool) (*Scenario, error) {
	if s, err := Builtin(nameOrFile); err == nil {
		return s, nil
	}
	data, err := os.ReadFile(nameOrFile)
	if err != nil {
		if os.IsNotExist(err) && !strings.ContainsAny(nameOrFile, "/.") {
			return nil, &Problem{File: nameOrFile, Msg: fmt.Sprintf("no such scenario file or built-in (built-ins: %s)", strings.Join(BuiltinNames(), ", "))}
		}
		return nil, &Problem{File: nameOrFile, Msg: err.Error()}
	}
	r := &envResolver{env: env, keepUnset: keepUnset}
	if isResolved(data) {
		return parseResolvedWith(nameOrFile, data, r)
	}
	return parse(nameOrFile, data, DirOpener(filepath.Dir(nameOrFile)), r)
}

// Parse reads a scenario from YAML. Every problem found is reported, each
// with file, line, column and field.
//
//	name: my-launch
//	description: what this rehearses
//	curve:                        # a list of segments, or one inline string
//	  - "quiet: hold 300/d for 2h"
//	  - "climb: exp 1/s to 2000/s over 20m"
//	compress: 10
//	endpoints:
//	  - {name: home, path: /, weight: 1}
//	  - {name: images, path: /img/hero.jpg, weight: 8, class: asset}
//	slo: {p99: 800ms, errors: 1%, throughput: 95%, grace: 10s}
//	abort: ["errors > 50% for 15s"]
//
// A ${ENV:NAME} reference is a problem: Parse has no environment (see
// ParseEnv).
func Parse(file string, data []byte, open Opener) (*Scenario, error) {
	return ParseEnv(file, data, open, nil)
}

// ParseEnv is Parse with an environment for ${ENV:NAME} references in
// endpoints' paths, urls, header values, bodies and expect.body_contains.
func ParseEnv(file string, data []byte, open Opener, env Env) (*Scenario, error) {
	return parse(file, data, open, &envResolver{env: env})
}

// parse is ParseEnv with the resolver for ${ENV:NAME} references.
func parse(file string, data []byte, open Opener, env *envResolver) (*Scenario, error) {
	root, err := ParseYAML(file, data)
	if err != nil {
		return nil, err
	}
	d := &Decoder{File: file}
	env.d = d
	if root.Kind == NullNode {
		d.Add(root, "", "scenario is empty: it needs at least a curve")
		return nil, d.Problems
	}
	o := d.Object(root, "")
	s := &Scenario{Source: file, Compress: 1, SLO: DefaultSLO, Abort: DefaultAbort}
	s.Name, _ = o.String("name")
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	s.Description, _ = o.String("description")
	if k, ok := o.Float("compress", false); ok {
		if !(k > 0) || k > 1e6 {
			d.Add(o.Get("compress"), "compress", "must be > 0 and at most 1000000, found %g", k)
		} else {
			s.Compress = k
		}
	}
	s.Curve = decodeCurve(d, o.Get("curve"), open)
	if n := o.Get("curve"); n == nil {
		d.Add(root, "curve", "missing: a scenario needs a curve")
	}
	envAt := map[*Node]bool{}
	s.Endpoints = decodeEndpoints(d, o.Get("endpoints"), env, envAt)
	strayEnv(d, root, "", envAt)
	s.Journeys = decodeJourneys(d, o.Get("journeys"), s.Endpoints, open)
	if len(s.Journeys) > 0 && s.PageViews() {
		// With journeys the arrivals are journeys: a page view is a
		// journey's step, so a page no journey walks would never load.
		stepped := map[string]bool{}
		for _, j := range s.Journeys {
			for _, st := range j.Steps {
				stepped[st.Endpoint] = true
			}
		}
		if n := o.Get("endpoints"); n != nil && n.Kind == SeqNode {
			for i, e := range s.Endpoints {
				if len(e.Assets) > 0 && !stepped[e.Name] && i < len(n.Vals) {
					at := n.Vals[i]
					for k, key := range at.Keys {
						if key.Scalar == "assets" {
							at = n.Vals[i].Vals[k]
							break
						}
					}
					d.Add(at, fmt.Sprintf("endpoints[%d].assets", i), "page %q lists assets but no journey walks it: with journeys, the arrivals are journeys, and a page view is a journey's step (browse: {steps: [%s]})", e.Name, e.Name)
				}
			}
		}
	}
	if jn := o.Get("journeys"); jn == nil || jn.Kind == NullNode || jn.Kind == MapNode {
		// (journeys that are no map are reported: what they send is unknown)
		checkLoneVars(d, o.Get("endpoints"), s)
	}
	checkVarSyntax(d, o.Get("endpoints"))
	s.SLO = decodeSLO(d, o.Get("slo"))
	if n := o.Get("abort"); n != nil && n.Kind != NullNode {
		s.Abort = nil
		if n.Kind != SeqNode {
			d.Add(n, "abort", "want a list of rules such as \"errors > 50%% for 15s\"")
		}
		for i, v := range n.Vals {
			r, err := ParseAbortRule(v.Scalar)
			if err != nil {
				d.Add(v, fmt.Sprintf("abort[%d]", i), "%v", err)
				continue
			}
			s.Abort = append(s.Abort, r)
		}
	}
	o.Close()
	if len(d.Problems) > 0 {
		sortProblems(d.Problems)
		return nil, d.Problems
	}
	return s, nil
}

func sortProblems(ps Problems) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && (ps[j].Line < ps[j-1].Line || ps[j].Line == ps[j-1].Line && ps[j].Col < ps[j-1].Col); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func decodeCurve(d *Decoder, n *Node, open Opener) *Curve {
	if n == nil || n.Kind == NullNode {
		if n != nil {
			d.Add(n, "curve", "curve is empty: give at least one segment")
		}
		return nil
	}
	var items []item
	switch n.Kind {
	case ScalarNode:
		off := 0
		for i, part := range strings.Split(n.Scalar, ",") {
			lead := len(part) - len(strings.TrimLeft(part, " \t\n"))
			items = append(items, item{text: strings.TrimSpace(part), file: d.File, line: n.Line, col: n.Col + off + lead, field: fmt.Sprintf("curve segment %d", i+1)})
			off += len(part) + 1
		}
	case SeqNode:
		for i, v := range n.Vals {
			if v.Kind != ScalarNode {
				d.Add(v, fmt.Sprintf("curve[%d]", i), "want a segment string such as \"hold 10/s for 1m\"")
				continue
			}
			items = append(items, item{text: v.Scalar, file: d.File, line: v.Line, col: v.Col, field: fmt.Sprintf("curve[%d]", i)})
		}
	default:
		d.Add(n, "curve", "want a list of segments or one inline string")
		return nil
	}
	if len(items) == 0 {
		d.Add(n, "curve", "curve is empty: give at least one segment")
		return nil
	}
	c, ps := parseItems(items, open)
	d.Problems = append(d.Problems, ps...)
	return c
}

// decodeEndpoints reads the endpoint list, resolving ${ENV:NAME}
// references with env; envAt collects the nodes where references may be.
func decodeEndpoints(d *Decoder, n *Node, env *envResolver, envAt map[*Node]bool) []Endpoint {
	if n == nil || n.Kind == NullNode {
		return DefaultEndpoints()
	}
	if n.Kind != SeqNode {
		d.Add(n, "endpoints", "want a list of endpoints")
		return nil
	}
	if len(n.Vals) == 0 {
		d.Add(n, "endpoints", "list is empty (leave it out for a single GET /)")
	}
	var out []Endpoint
	names := map[string]*Node{} // where each name was first given
	var assets []assetsNode
	weighted := map[int]*Node{}
	for i, v := range n.Vals {
		path := fmt.Sprintf("endpoints[%d]", i)
		o := d.Object(v, path)
		e := Endpoint{Method: "GET", Weight: 1}
		e.Name, _ = o.String("name")
		if m, ok := o.String("method"); ok {
			e.Method = strings.ToUpper(m)
			if !validMethod(e.Method) {
				d.Add(o.Get("method"), Field(path, "method"), "%q is not an HTTP method", m)
			}
		}
		p, hasPath := o.String("path")
		u, hasURL := o.String("url")
		switch {
		case hasPath && hasURL:
			d.Add(o.Get("url"), Field(path, "url"), "give path or url, not both")
		case hasPath:
			e.URL = p
		case hasURL:
			e.URL = u
		default:
			d.Add(v, path, "needs a path (or url)")
		}
		if w, ok := o.Float("weight", false); ok {
			if !(w > 0) || w > maxWeight {
				d.Add(o.Get("weight"), Field(path, "weight"), "must be > 0 and at most %s (weights are relative), found %g", trimFloat(maxWeight), w)
			}
			e.Weight = w
			weighted[i] = o.Get("weight")
		}
		if a := o.Get("assets"); a != nil {
			assets = append(assets, assetsNode{at: i, n: a, path: path})
		}
		c, classGiven := o.String("class")
		if classGiven {
			switch Class(c) {
			case Page, Asset, API:
				e.Class = Class(c)
			default:
				d.Add(o.Get("class"), Field(path, "class"), "%q is not page, asset or api", c)
			}
		}
		if h := o.Get("headers"); h != nil && h.Kind != NullNode {
			ho := d.Object(h, Field(path, "headers"))
			e.Header = http.Header{}
			if ho.Pos() != nil {
				for j, k := range h.Keys {
					ho.known[k.Scalar] = true
					if h.Vals[j].Kind != ScalarNode {
						d.Add(h.Vals[j], Field(Field(path, "headers"), k.Scalar), "want a string")
						continue
					}
					e.Header.Add(k.Scalar, h.Vals[j].Scalar)
				}
			}
			ho.Close()
		}
		e.Body, _ = o.String("body")
		if sz, ok := o.Bytes("size"); ok {
			if sz < 0 {
				d.Add(o.Get("size"), Field(path, "size"), "must be >= 0 (the expected response size, e.g. 100KB)")
			}
			e.Size = sz
		}
		e.Expect = decodeExpect(d, o.Get("expect"), path)
		// Resolve ${ENV:NAME} references, then check what will be sent.
		nodes := map[string]*Node{"path": o.Get("path"), "url": o.Get("url"), "body": o.Get("body")}
		if x := o.Get("expect"); x != nil && x.Kind == MapNode {
			nodes["expect.body_contains"] = mapValue(x, "body_contains")
		}
		if h := o.Get("headers"); h != nil && h.Kind == MapNode {
			for j, k := range h.Keys {
				nodes["headers."+k.Scalar] = h.Vals[j]
			}
		}
		for _, nd := range nodes {
			if nd != nil {
				envAt[nd] = true
			}
		}
		env.resolveEndpoint(&e, path, func(f string) *Node { return nodes[f] })
		switch {
		case hasPath && hasURL:
		case env.unresolved(e.URL):
			// A variable left unset (LoadUnresolved): checked once set.
		case env.urlFailed:
			// A reference not resolved, reported already.
		case hasPath:
			if !strings.HasPrefix(e.URL, "/") {
				d.Add(o.Get("path"), Field(path, "path"), "%q must start with /", e.Redacted().URL)
			} else {
				checkEndpointURL(d, o.Get("path"), Field(path, "path"), &e)
			}
		case hasURL:
			pu, err := url.Parse(e.URL)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				d.Add(o.Get("url"), Field(path, "url"), "%q is not an http(s) URL%s", e.Redacted().URL, urlWhy(err, e.URL != e.Redacted().URL))
			}
		}
		if !classGiven {
			e.Class = ClassOf(e.URL)
		}
		at, how := o.Get("name"), ""
		if e.Name == "" {
			// Unnamed: the path is the name, and the endpoint is where it is given.
			e.Name, at, how = e.Redacted().URL, v, " (unnamed endpoints are named by their path: give each a name)"
		}
		if f, ok := names[e.Name]; ok {
			d.Add(at, Field(path, "name"), "endpoint name %q used twice, first at %d:%d%s", e.Name, f.Line, f.Col, how)
		} else {
			names[e.Name] = at
		}
		o.Close()
		out = append(out, e)
	}
	resolveAssets(d, out, assets, weighted)
	// The report and the vegeta engine know a response's endpoint by its
	// method and URL: endpoints that share both must share their checks.
	for i := range out {
		for j := range i {
			a, b := &out[j], &out[i]
			if a.Method == b.Method && a.URL == b.URL && a.Expect.String() != b.Expect.String() {
				at := n.Vals[i]
				if x := mapValue(at, "expect"); x != nil {
					at = x
				}
				d.Add(at, fmt.Sprintf("endpoints[%d].expect", i), "endpoint %q sends the same %s %s as %q with other checks: responses are told apart by method and URL, so give both the same expect",
					b.Name, b.Method, b.Redacted().URL, a.Name)
			}
		}
	}
	return out
}

// mapValue is the value under key in map node n, or nil.
func mapValue(n *Node, key string) *Node {
	for i, k := range n.Keys {
		if k.Scalar == key {
			return n.Vals[i]
		}
	}
	return nil
}

// strayEnv reports ${ENV:NAME} references outside the values where they
// are resolved (ok).
func strayEnv(d *Decoder, n *Node, path string, ok map[*Node]bool) {
	if n == nil || ok[n] {
		return
	}
	switch n.Kind {
	case ScalarNode:
		if strings.Contains(n.Scalar, envOpen) {
			d.Add(n, path, "${ENV:NAME} is resolved only in an endpoint's path, url, headers, body and expect.body_contains")
		}
	case MapNode:
		for i, k := range n.Keys {
			strayEnv(d, k, path, ok)
			strayEnv(d, n.Vals[i], Field(path, k.Scalar), ok)
		}
	case SeqNode:
		for i, v := range n.Vals {
			strayEnv(d, v, fmt.Sprintf("%s[%d]", path, i), ok)
		}
	}
}

func validMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

// yamlRatio applies ParseRatio's rule to a ratio field Object.Float read
// (v is already divided by 100 when n ends in "%").
func yamlRatio(n *Node, v float64) (float64, error) {
	if strings.HasSuffix(strings.TrimSpace(n.Scalar), "%") {
		if v < 0 || v > 1 {
			return 0, fmt.Errorf("%q is not between 0 and 100%%", strings.TrimSpace(n.Scalar))
		}
		return v, nil
	}
	return ratioOf(n.Scalar, v, false)
}

func decodeSLO(d *Decoder, n *Node) SLO {
	s := DefaultSLO
	if n == nil || n.Kind == NullNode {
		return s
	}
	o := d.Object(n, "slo")
	if v, ok := o.Duration("p99"); ok {
		if v <= 0 {
			d.Add(o.Get("p99"), "slo.p99", "must be > 0")
		}
		s.P99 = v
	}
	if v, ok := o.Float("errors", true); ok {
		if r, err := yamlRatio(o.Get("errors"), v); err != nil {
			d.Add(o.Get("errors"), "slo.errors", "%v", err)
		} else {
			s.MaxErrorRatio = r
		}
	}
	if v, ok := o.Float("throughput", true); ok {
		if r, err := yamlRatio(o.Get("throughput"), v); err != nil {
			d.Add(o.Get("throughput"), "slo.throughput", "%v", err)
		} else {
			s.MinThroughput = r
		}
	}
	if v, ok := o.Duration("grace"); ok {
		s.Grace = v
	}
	if v, ok := o.Duration("run_grace"); ok {
		if o.Get("grace") != nil {
			d.Add(o.Get("run_grace"), "slo.run_grace", "give grace (story time) or run_grace (run time), not both")
		}
		s.Grace, s.RunGrace = v, true
	}
	o.Close()
	return s
}

// checkEndpointURL reports an endpoint path (a value starting with /, once
// its ${ENV:NAME} references are expanded) that cannot be sent: one that
// does not parse as a request URI joined to a target, as every engine
// joins it (an invalid %-escape, a control character). The problem names
// the path as written, its references and never their values, at the
// path's position.
func checkEndpointURL(d *Decoder, at *Node, field string, e *Endpoint) {
	_, err := url.ParseRequestURI("http://127.0.0.1" + e.URL) // parsed only: no request is sent
	var u *url.URL
	if err == nil {
		u, err = url.Parse(e.URL)
	}
	if err == nil {
		// The query is sent as written: a space would make the request
		// line invalid (every request a 400), a bad %-escape one the
		// server cannot decode.
		switch _, qerr := url.ParseQuery(u.RawQuery); {
		case strings.ContainsAny(u.RawQuery, " \t"):
			err = errQuerySpace
		case qerr != nil:
			err = errQueryEscape
		}
	}
	if err == nil {
		return
	}
	written := e.Redacted().URL
	if written == e.URL {
		d.Add(at, field, "%q is not a valid URL path%s", written, urlWhy(err, false))
		return
	}
	d.Add(at, field, "%q is not a valid URL path once %s %s expanded%s", written, strings.Join(refs(EnvNames(written)), ", "),
		map[bool]string{true: "is", false: "are"}[len(EnvNames(written)) == 1], urlWhy(err, true))
}

// Problems with an endpoint's query, which is sent as written.
var (
	errQuerySpace  = errors.New("a space in the query: write %20 (or + in a form value)")
	errQueryEscape = errors.New("an invalid %-escape in the query (a % not followed by two hex digits; write %25 for a literal %)")
)

// refs writes names as ${ENV:NAME} references.
func refs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = envOpen + n + "}"
	}
	return out
}

// urlWhy says what is wrong with a URL that does not parse, as a suffix
// (": ..."; "" when err is nil). fromEnv: part of the URL came from the
// environment, so the error's own text, which quotes the URL or a piece
// of it, is not shown: only what kind of mistake it is.
func urlWhy(err error, fromEnv bool) string {
	if err == nil {
		return ""
	}
	if err == errQuerySpace || err == errQueryEscape {
		return ": " + err.Error() // quotes nothing of the URL
	}
	var esc url.EscapeError
	var ue *url.Error
	switch {
	case !fromEnv:
		if errors.As(err, &ue) {
			err = ue.Err // the URL itself is quoted already
		}
		return ": " + err.Error()
	case errors.As(err, &esc):
		return ": a value holds an invalid %-escape (a % not followed by two hex digits; write %25 for a literal %)"
	case strings.Contains(err.Error(), "control character"):
		return ": a value holds a control character (a newline, a tab, ...)"
	case errors.As(err, new(url.InvalidHostError)):
		return ": a value holds a character not allowed in a host name"
	}
	return ": a value holds characters not allowed there"
}
