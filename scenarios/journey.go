package scenarios

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Journeys. A scenario may define weighted journeys through the site:
//
//	endpoints:
//	  - {name: home, path: /}
//	  - {name: product, path: /p/jacket}
//	  - {name: add to cart, method: POST, path: /api/cart, body: '{"sku":"{{sku}}"}'}
//	  - {name: checkout, method: POST, path: /api/checkout}
//	  - {name: order, path: "/api/orders/{{order_id}}"}
//	journeys:
//	  browse: {weight: 8, think: exp 2s, steps: [home, product]}
//	  buy:
//	    weight: 1
//	    think: 1s
//	    feeder: skus.csv          # a CSV with a header row; journey i takes row i mod n
//	    steps:
//	      - home
//	      - product
//	      - add to cart
//	      - {endpoint: checkout, capture: {order_id: "json:$.id"}}
//	      - order
//
// The scenario's arrivals are then journeys started: the curve's i-th
// arrival, due at Curve.Due(i), picks a journey by weight and walks its
// steps in order, each one request of the named endpoint, with a think
// time between steps (a fixed duration, or "exp D": exponential with mean
// D) and a cookie jar of its own, so a session cookie the site sets is
// sent back. {{name}} in an endpoint's path, body or header values is the
// journey's value of name: a column of its feeder row, or a value captured
// from an earlier step's response ("json:$.a.b" a JSON field, "header:Name"
// a response header, "regex:text(\d+)" the first group of a match in the
// body). Only a step fills values in: an endpoint also sent outside any
// journey (by the mix, or as a page view's asset) may not use {{name}}.
// A step that fails (an error, a failed check, a capture that does
// not match) abandons the journey there. Still an open model: a slow site
// has more journeys in flight, never fewer started.

// Journey is one kind of visit through the site.
type Journey struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Think  Think   `json:"think"`
	Feeder *Feeder `json:"feeder,omitempty"`
	Steps  []Step  `json:"steps"`
}

// Think is the pause between a journey's steps.
type Think struct {
	Mean        time.Duration `json:"mean"`
	Exponential bool          `json:"exponential,omitempty"` // drawn from an exponential distribution of mean Mean
}

// Step is one request of a journey: the endpoint it sends, and the values
// it captures from the response.
type Step struct {
	Endpoint string    `json:"endpoint"`
	Capture  []Capture `json:"capture,omitempty"`
}

// Capture takes a value from a step's response into the journey's values.
type Capture struct {
	Var  string `json:"var"`
	From string `json:"from"` // "json:$.id", "header:Location", "regex:order-(\d+)"
}

// Feeder is per-journey data: journey i takes row i mod len(Rows).
type Feeder struct {
	File    string     `json:"file"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// maxFeederRows bounds a feeder file.
const maxFeederRows = 1_000_000

// varRef matches a {{name}} reference.
var varRef = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Vars lists the {{name}} references in s, in order.
func Vars(s string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Expand replaces each {{name}} in s by vals[name] (left as written when
// vals has none).
func Expand(s string, vals map[string]string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		if v, ok := vals[name]; ok {
			return v
		}
		return m
	})
}

// badVarRef returns the first "{{" in s that opens no {{name}} reference
// (unclosed, "{{sku", or not a name, "{{ order-id }}"), and whether there
// is one: sent as written, it would ask the site for a path nobody meant.
func badVarRef(s string) (string, bool) {
	if !strings.Contains(s, "{{") {
		return "", false
	}
	rest := varRef.ReplaceAllString(s, "")
	i := strings.Index(rest, "{{")
	if i < 0 {
		return "", false
	}
	frag := rest[i:]
	if j := strings.Index(frag, "}}"); j >= 0 {
		frag = frag[:j+2]
	} else if len(frag) > 24 {
		frag = frag[:24] + "…"
	}
	return frag, true
}

// checkVarSyntax reports every "{{" in an endpoint's path, url, headers,
// body and expect.body_contains that is no {{name}} reference.
func checkVarSyntax(d *Decoder, n *Node) {
	if n == nil || n.Kind != SeqNode {
		return
	}
	check := func(at *Node, field string) {
		if at == nil || at.Kind != ScalarNode {
			return
		}
		if frag, bad := badVarRef(at.Scalar); bad {
			d.Add(at, field, "%q is no {{name}} reference (unclosed, or not a name of letters, digits and _): write {{name}}, or it goes out as written", frag)
		}
	}
	for i, v := range n.Vals {
		if v == nil || v.Kind != MapNode {
			continue
		}
		path := fmt.Sprintf("endpoints[%d]", i)
		for _, f := range []string{"path", "url", "body"} {
			check(mapValue(v, f), Field(path, f))
		}
		if h := mapValue(v, "headers"); h != nil && h.Kind == MapNode {
			for k, key := range h.Keys {
				check(h.Vals[k], Field(Field(path, "headers"), key.Scalar))
			}
		}
		if x := mapValue(v, "expect"); x != nil && x.Kind == MapNode {
			check(mapValue(x, "body_contains"), Field(Field(path, "expect"), "body_contains"))
		}
	}
}

// endpointVars are the {{name}} references of an endpoint.
func endpointVars(e *Endpoint) []string {
	vs := Vars(e.URL)
	vs = append(vs, Vars(e.Body)...)
	for _, hs := range e.Header {
		for _, h := range hs {
			vs = append(vs, Vars(h)...)
		}
	}
	if e.Expect != nil {
		vs = append(vs, Vars(e.Expect.BodyContains)...)
	}
	return vs
}

// Journeys says whether the scenario's arrivals are journeys.
func (s *Scenario) HasJourneys() bool { return len(s.Journeys) > 0 }

// Visitors says whether the scenario's arrivals are visitors (page views
// or journeys) rather than single requests.
func (s *Scenario) Visitors() bool { return s.PageViews() || s.HasJourneys() }

// Arrivals names what the scenario's arrivals are, in the plural:
// "journeys", "page views" or "requests".
func (s *Scenario) Arrivals() string {
	switch {
	case s.HasJourneys():
		return "journeys"
	case s.PageViews():
		return "page views"
	}
	return "requests"
}

// JourneyEndpoints are the journeys as a Mix sees them: one endpoint per
// journey, of the journey's weight.
func JourneyEndpoints(js []Journey) []Endpoint {
	out := make([]Endpoint, len(js))
	for i, j := range js {
		out[i] = Endpoint{Name: j.Name, Weight: j.Weight}
	}
	return out
}

// decodeJourneys reads the journeys map, checking every step against the
// endpoints and every {{name}} against the values defined before it.
func decodeJourneys(d *Decoder, n *Node, eps []Endpoint, open Opener) []Journey {
	if n == nil || n.Kind == NullNode {
		return nil
	}
	if n.Kind != MapNode {
		d.Add(n, "journeys", "want a map of journeys by name (browse: {steps: [home, product]})")
		return nil
	}
	byName := map[string]int{}
	var names []string
	for i, e := range eps {
		byName[e.Name] = i
		names = append(names, e.Name)
	}
	var out []Journey
	for k, key := range n.Keys {
		path := Field("journeys", key.Scalar)
		o := d.Object(n.Vals[k], path)
		j := Journey{Name: key.Scalar, Weight: 1}
		if w, ok := o.Float("weight", false); ok {
			if !(w > 0) || w > maxWeight {
				d.Add(o.Get("weight"), Field(path, "weight"), "must be > 0 and at most %s (weights are relative), found %g", trimFloat(maxWeight), w)
			}
			j.Weight = w
		}
		if t, ok := o.String("think"); ok {
			txt := strings.TrimSpace(t)
			if rest, ok := strings.CutPrefix(txt, "exp "); ok {
				j.Think.Exponential, txt = true, strings.TrimSpace(rest)
			}
			v, err := ParseDuration(txt)
			switch {
			case err != nil:
				d.Add(o.Get("think"), Field(path, "think"), "%q: want a duration (2s) or an exponential mean (exp 2s)", t)
			case v < 0 || v > time.Hour:
				d.Add(o.Get("think"), Field(path, "think"), "%q: want 0 to 1h", t)
			default:
				j.Think.Mean = v
			}
		}
		defined := map[string]bool{}
		// badCapture: a capture already reported as malformed defines
		// its variable for the later steps (its own problem is the one to
		// fix), and a capture that is no map, all variables: badMapAt is
		// the first such step (-1: none).
		badCapture, badMapAt := map[string]bool{}, -1
		feederBad := false // a feeder reported as unreadable: its problem is the one to fix, not the values it would define
		if fn, ok := o.String("feeder"); ok {
			j.Feeder = readFeeder(d, o.Get("feeder"), Field(path, "feeder"), fn, open)
			feederBad = j.Feeder == nil
			if j.Feeder != nil {
				for _, c := range j.Feeder.Columns {
					defined[c] = true
				}
			}
		}
		steps := o.Get("steps")
		switch {
		case steps == nil || steps.Kind == NullNode:
			d.Add(o.Pos(), Field(path, "steps"), "missing: a journey needs at least one step")
		case steps.Kind == SeqNode && len(steps.Vals) == 0:
			d.Add(steps, Field(path, "steps"), "empty: a journey needs at least one step")
		case steps.Kind != SeqNode:
			d.Add(steps, Field(path, "steps"), "want a list of steps (endpoint names, or {endpoint: NAME, capture: {VAR: \"json:$.id\"}})")
		default:
			for i, sv := range steps.Vals {
				sp := fmt.Sprintf("%s.steps[%d]", path, i)
				var st Step
				at := sv
				switch sv.Kind {
				case ScalarNode:
					st.Endpoint = strings.TrimSpace(sv.Scalar)
				case MapNode:
					so := d.Object(sv, sp)
					st.Endpoint, _ = so.String("endpoint")
					if en := so.Get("endpoint"); en != nil {
						at = en
					} else {
						d.Add(sv, Field(sp, "endpoint"), "missing: the endpoint this step sends")
					}
					if c := so.Get("capture"); c != nil && c.Kind != NullNode {
						if c.Kind != MapNode {
							d.Add(c, Field(sp, "capture"), "want a map of VAR: \"json:$.id\" (or header:NAME, regex:…)")
							if badMapAt < 0 {
								badMapAt = i
							}
						} else {
							for ci, ck := range c.Keys {
								cv := c.Vals[ci]
								if !varName.MatchString(ck.Scalar) {
									d.Add(ck, Field(Field(sp, "capture"), ck.Scalar), "%q is not a variable name (letters, digits, _)", ck.Scalar)
									continue
								}
								if cv.Kind != ScalarNode {
									d.Add(cv, Field(Field(sp, "capture"), ck.Scalar), "want \"json:$.id\", \"header:NAME\" or \"regex:…(…)…\"")
									badCapture[ck.Scalar] = true
									continue
								}
								if msg := checkCapture(cv.Scalar); msg != "" {
									d.Add(cv, Field(Field(sp, "capture"), ck.Scalar), "%s", msg)
									badCapture[ck.Scalar] = true
									continue
								}
								st.Capture = append(st.Capture, Capture{Var: ck.Scalar, From: cv.Scalar})
							}
						}
					}
					so.Close()
				default:
					d.Add(sv, sp, "want an endpoint name or {endpoint: NAME, capture: {…}}")
					continue
				}
				ei, ok := byName[st.Endpoint]
				if st.Endpoint != "" && !ok {
					d.Add(at, sp, "no endpoint %q (endpoints: %s)", st.Endpoint, strings.Join(names, ", "))
					continue
				}
				if ok && (badMapAt < 0 || badMapAt == i) {
					for _, v := range endpointVars(&eps[ei]) {
						if defined[v] || feederBad {
							continue
						}
						if j.Feeder != nil {
							d.Add(at, sp, "endpoint %q uses {{%s}}: feeder %s has no column %q (columns: %s) and no earlier step of journey %q captures it",
								st.Endpoint, v, j.Feeder.File, v, strings.Join(j.Feeder.Columns, ", "), j.Name)
						} else {
							d.Add(at, sp, "endpoint %q uses {{%s}}, which no feeder column or earlier capture of journey %q defines", st.Endpoint, v, j.Name)
						}
					}
				}
				for _, c := range st.Capture {
					defined[c.Var] = true
				}
				for v := range badCapture {
					defined[v] = true
				}
				j.Steps = append(j.Steps, st)
			}
		}
		o.Close()
		out = append(out, j)
	}
	return out
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkCapture says what is wrong with a capture expression, "" if
// nothing.
func checkCapture(s string) string {
	kind, expr, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Sprintf("%q: want json:$.PATH, header:NAME or regex:EXPR", s)
	}
	switch kind {
	case "json":
		if _, err := parseJSONPath(expr); err != nil {
			return fmt.Sprintf("%q: %v", s, err)
		}
	case "header":
		if strings.TrimSpace(expr) == "" {
			return fmt.Sprintf("%q: name the header", s)
		}
	case "regex":
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Sprintf("%q: %v", s, err)
		}
		if re.NumSubexp() < 1 {
			return fmt.Sprintf("%q: the expression needs a group, (…), for the value", s)
		}
	default:
		return fmt.Sprintf("%q: want json:$.PATH, header:NAME or regex:EXPR", s)
	}
	return ""
}

// JSONPath is a parsed "$.a.b[0].c": object keys and array indexes.
type JSONPath []any // string keys, int indexes

// parseJSONPath reads "$.a.b[0].c".
func parseJSONPath(s string) (JSONPath, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return nil, fmt.Errorf("a JSON path starts with $ ($.id, $.order.id, $.items[0].id)")
	}
	var p JSONPath
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			if i == 0 {
				return nil, fmt.Errorf("an empty key in the JSON path")
			}
			p, rest = append(p, rest[:i]), rest[i:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("an unclosed [ in the JSON path")
			}
			var n int
			if _, err := fmt.Sscanf(rest[1:end], "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != rest[1:end] {
				return nil, fmt.Errorf("[%s]: want an array index such as [0]", rest[1:end])
			}
			p, rest = append(p, n), rest[end+1:]
		default:
			return nil, fmt.Errorf("unexpected %q in the JSON path", rest[:1])
		}
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("the JSON path names no field ($.id)")
	}
	return p, nil
}

// ParseJSONPath reads a capture's "$.a.b[0]".
func ParseJSONPath(s string) (JSONPath, error) { return parseJSONPath(s) }

// readFeeder reads a feeder CSV: a header row naming the columns, then at
// least one row.
func readFeeder(d *Decoder, n *Node, field, name string, open Opener) *Feeder {
	if open == nil {
		d.Add(n, field, "%q: feeders are read from files next to a scenario file", name)
		return nil
	}
	rc, err := open(name)
	if err != nil {
		d.Add(n, field, "%v", err)
		return nil
	}
	defer rc.Close()
	r := csv.NewReader(io.LimitReader(rc, 256<<20))
	r.FieldsPerRecord = 0
	f := &Feeder{File: name}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.Add(n, field, "%s: %v", name, err)
			return nil
		}
		if line == 1 {
			for i, c := range rec {
				c = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
				if !varName.MatchString(c) {
					d.Add(n, field, "%s:1: column %d, %q, is not a variable name (letters, digits, _)", name, i+1, c)
					return nil
				}
				if k := slices.Index(f.Columns, c); k >= 0 {
					d.Add(n, field, "%s:1: column %d, %q, repeats column %d: each column names its own variable", name, i+1, c, k+1)
					return nil
				}
				f.Columns = append(f.Columns, c)
			}
			continue
		}
		if len(f.Rows) >= maxFeederRows {
			d.Add(n, field, "%s: more than %d rows", name, maxFeederRows)
			return nil
		}
		f.Rows = append(f.Rows, rec)
	}
	if len(f.Columns) == 0 || len(f.Rows) == 0 {
		d.Add(n, field, "%s: want a header row naming the columns and at least one row", name)
		return nil
	}
	return f
}

// Row is row i mod the row count, by column (nil without a feeder): the
// i-th journey of a kind takes Row(i).
func (f *Feeder) Row(i uint64) map[string]string {
	if f == nil || len(f.Rows) == 0 {
		return nil
	}
	row := f.Rows[i%uint64(len(f.Rows))]
	m := make(map[string]string, len(f.Columns))
	for k, c := range f.Columns {
		if k < len(row) {
			m[c] = row[k]
		}
	}
	return m
}

// checkLoneVars reports {{name}} references in the path or url, header
// values, body and expect.body_contains of an endpoint that is sent outside any journey, where
// nothing fills them in and they would go out as written: every endpoint
// of a scenario without journeys (the mix sends it, or a page view as its
// page or an asset), and, with journeys, an asset of a page a journey
// walks (a page view's assets are sent without the journey's values).
// With journeys, an endpoint no journey walks is never sent. n is the
// endpoints list as written.
func checkLoneVars(d *Decoder, n *Node, s *Scenario) {
	if n == nil || n.Kind != SeqNode {
		return
	}
	journeys := s.HasJourneys()
	stepped := map[string]bool{}
	for _, j := range s.Journeys {
		for _, st := range j.Steps {
			stepped[st.Endpoint] = true
		}
	}
	assetOf := map[string]string{} // asset → first page sending it
	for _, e := range s.Endpoints {
		if journeys && !stepped[e.Name] {
			continue // a page no journey walks is never sent (reported)
		}
		for _, a := range e.Assets {
			if _, ok := assetOf[a.Name]; !ok {
				assetOf[a.Name] = e.Name
			}
		}
	}
	for i, e := range s.Endpoints {
		if i >= len(n.Vals) {
			break
		}
		var how string
		page, isAsset := assetOf[e.Name]
		switch {
		case isAsset:
			how = fmt.Sprintf("as an asset of page %q (a page view's assets get no journey's values)", page)
		case journeys:
			continue // sent only as a journey's step
		case len(e.Assets) > 0:
			how = "as a page view's page (the scenario has no journeys)"
		default:
			how = "by the mix (the scenario has no journeys)"
		}
		also := ""
		if stepped[e.Name] {
			also = "also "
		}
		path := fmt.Sprintf("endpoints[%d]", i)
		v := n.Vals[i]
		written := "would go out as written"
		check := func(at *Node, field string) {
			if at == nil || at.Kind != ScalarNode {
				return
			}
			seen := map[string]bool{}
			for _, name := range Vars(at.Scalar) {
				if seen[name] {
					continue
				}
				seen[name] = true
				d.Add(at, field, "{{%s}} is filled in only in journeys (a capture or feeder column), but endpoint %q is %ssent on its own, %s, where {{%s}} %s",
					name, e.Name, also, how, name, written)
			}
		}
		check(mapValue(v, "path"), Field(path, "path"))
		check(mapValue(v, "url"), Field(path, "url"))
		if h := mapValue(v, "headers"); h != nil && h.Kind == MapNode {
			for k, key := range h.Keys {
				check(h.Vals[k], Field(Field(path, "headers"), key.Scalar))
			}
		}
		check(mapValue(v, "body"), Field(path, "body"))
		if x := mapValue(v, "expect"); x != nil && x.Kind == MapNode {
			written = "would be looked for as written"
			check(mapValue(x, "body_contains"), Field(Field(path, "expect"), "body_contains"))
		}
	}
}
