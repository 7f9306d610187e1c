package scenarios

import (
	"fmt"
	"strconv"
	"strings"
)

// Page views. A page endpoint may list its assets:
//
//	endpoints:
//	  - {name: home,  path: /,             weight: 1, assets: [hero, thumb×8, css]}
//	  - {name: hero,  path: /img/hero.jpg}
//	  - {name: thumb, path: /img/t.jpg}
//	  - {name: css,   path: /static/site.css}
//
// (assets: {thumb: 8, hero: 1, css: 1} says the same; "thumb x8" and
// "thumb*8" are read as "thumb×8".) The scenario's arrivals are then
// visitors: the curve's i-th arrival, due at Curve.Due(i), picks a page by
// the weights of the endpoints that are not assets, and a page view sends
// the page, then its assets, the way a browser does. An endpoint named as
// an asset is sent only with its pages: it is not an arrival of its own and
// takes no weight. Endpoints without assets that are not assets either
// stay single-request arrivals (an API call in the mix).

// AssetRef is one asset of a page view: Count requests of endpoint Name.
type AssetRef struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// maxAssets bounds the requests of one page view's assets.
const maxAssets = 1000

// PageViews says whether the scenario's arrivals are page views: some
// endpoint lists assets.
func (s *Scenario) PageViews() bool {
	for _, e := range s.Endpoints {
		if len(e.Assets) > 0 {
			return true
		}
	}
	return false
}

// assetNames are the endpoints some page lists as an asset.
func assetNames(eps []Endpoint) map[string]bool {
	m := map[string]bool{}
	for _, e := range eps {
		for _, a := range e.Assets {
			m[a.Name] = true
		}
	}
	return m
}

// ArrivalEndpoints is the endpoint list with the weight of every asset set
// to 0: a Mix over it picks what each arrival is (a page view, or a single
// request of an endpoint that is not an asset).
func ArrivalEndpoints(eps []Endpoint) []Endpoint {
	assets := assetNames(eps)
	out := make([]Endpoint, len(eps))
	for i, e := range eps {
		if assets[e.Name] {
			e.Weight = 0
		}
		out[i] = e
	}
	return out
}

// Requests is how many requests an arrival of endpoint e sends: the page
// and each of its assets.
func (e *Endpoint) Requests() int {
	n := 1
	for _, a := range e.Assets {
		n += a.Count
	}
	return n
}

// RequestsPerArrival is the mean number of requests an arrival sends: 1
// unless the arrivals are visitors, when it is the arrivals' weighted
// mean of 1 + their assets (page views) or of their steps' requests
// (journeys, a step that is a page view counting its assets; a journey
// abandoned early sends fewer). The request rate the target sees is the
// curve's rate times this.
func (s *Scenario) RequestsPerArrival() float64 {
	if s.HasJourneys() {
		// A step that is a page view sends its page and its assets.
		per := map[string]int{}
		for i := range s.Endpoints {
			per[s.Endpoints[i].Name] = s.Endpoints[i].Requests()
		}
		var w, n float64
		for _, j := range s.Journeys {
			w += j.Weight
			for _, st := range j.Steps {
				n += j.Weight * float64(max(per[st.Endpoint], 1))
			}
		}
		if w == 0 {
			return 1
		}
		return n / w
	}
	if !s.PageViews() {
		return 1
	}
	var w, n float64
	for _, e := range ArrivalEndpoints(s.Endpoints) {
		if e.Weight > 0 {
			w += e.Weight
			n += e.Weight * float64(e.Requests())
		}
	}
	if w == 0 {
		return 1
	}
	return n / w
}

// RequestMix is the endpoint list with weights in requests: each page's
// assets weigh the page's weight times their count (summed over the pages
// that list them). For a scenario without page views it is Endpoints.
// A model of the host that sees requests, not visitors (hosting.Simulate),
// sends this mix at RequestsPerArrival times the curve's rate.
func (s *Scenario) RequestMix() []Endpoint {
	if s.HasJourneys() {
		// Each endpoint weighs what the journeys' steps send of it.
		idx := map[string]int{}
		for i, e := range s.Endpoints {
			idx[e.Name] = i
		}
		out := make([]Endpoint, len(s.Endpoints))
		for i, e := range s.Endpoints {
			e.Weight = 0
			out[i] = e
		}
		for _, j := range s.Journeys {
			for _, st := range j.Steps {
				i, ok := idx[st.Endpoint]
				if !ok {
					continue
				}
				out[i].Weight += j.Weight
				for _, a := range s.Endpoints[i].Assets { // a page view's assets
					if k, ok := idx[a.Name]; ok {
						out[k].Weight += j.Weight * float64(a.Count)
					}
				}
			}
		}
		for i := range out {
			out[i].Assets = nil
		}
		return out
	}
	if !s.PageViews() {
		return s.Endpoints
	}
	arr := ArrivalEndpoints(s.Endpoints)
	idx := map[string]int{}
	for i, e := range arr {
		idx[e.Name] = i
	}
	w := make([]float64, len(arr))
	for i, e := range arr {
		w[i] += e.Weight
		for _, a := range e.Assets {
			if j, ok := idx[a.Name]; ok {
				w[j] += e.Weight * float64(a.Count)
			}
		}
	}
	out := make([]Endpoint, len(arr))
	for i, e := range arr {
		e.Weight = w[i]
		e.Assets = nil
		out[i] = e
	}
	return out
}

// assetsNode is an endpoint's assets field as written, resolved against
// every endpoint's name once the list is read.
type assetsNode struct {
	at   int   // endpoint index
	n    *Node // the assets value
	path string
}

// decodeAssetRefs reads one endpoint's assets list or map. Names are
// checked later (resolveAssets), when all endpoints are known.
func decodeAssetRefs(d *Decoder, an assetsNode) ([]AssetRef, []*Node) {
	n, path := an.n, Field(an.path, "assets")
	var refs []AssetRef
	var at []*Node
	add := func(node *Node, field, name string, count int) {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			d.Add(node, field, "asset name is empty")
		case count < 1 || count > maxAssets:
			d.Add(node, field, "asset %q: count must be 1 to %d, found %d", name, maxAssets, count)
		default:
			refs = append(refs, AssetRef{Name: name, Count: count})
			at = append(at, node)
		}
	}
	// counted reads a map of asset names to counts ({thumb: 8}).
	counted := func(m *Node, field string) {
		for j, k := range m.Keys {
			c, err := strconv.Atoi(strings.TrimSpace(m.Vals[j].Scalar))
			if m.Vals[j].Kind != ScalarNode || err != nil {
				d.Add(m.Vals[j], Field(field, k.Scalar), "%q is not a whole number of requests", m.Vals[j].Scalar)
				continue
			}
			add(k, Field(field, k.Scalar), k.Scalar, c)
		}
	}
	switch n.Kind {
	case NullNode:
		return nil, nil
	case SeqNode:
		if len(n.Vals) == 0 {
			d.Add(n, path, "list is empty (leave assets out for a page alone)")
		}
		for i, v := range n.Vals {
			field := fmt.Sprintf("%s[%d]", path, i)
			switch v.Kind {
			case ScalarNode:
				name, count, err := splitCount(v.Scalar)
				if err != "" {
					d.Add(v, field, "%s", err)
					continue
				}
				add(v, field, name, count)
			case MapNode:
				counted(v, field)
			default:
				d.Add(v, field, "want an endpoint name such as \"thumb×8\"")
			}
		}
	case MapNode:
		if len(n.Keys) == 0 {
			d.Add(n, path, "map is empty (leave assets out for a page alone)")
		}
		counted(n, path)
	default:
		d.Add(n, path, "want a list of endpoint names ([hero, thumb×8]) or a map of counts ({thumb: 8, hero: 1})")
	}
	return refs, at
}

// splitCount reads "thumb×8", "thumb x8", "thumb*8" or "thumb".
func splitCount(s string) (string, int, string) {
	s = strings.TrimSpace(s)
	for _, sep := range []string{"×", "*", " x", " X"} {
		if i := strings.LastIndex(s, sep); i > 0 {
			num := strings.TrimSpace(s[i+len(sep):])
			c, err := strconv.Atoi(num)
			if err != nil {
				return "", 0, fmt.Sprintf("%q: the count after %q is not a whole number", s, strings.TrimSpace(sep))
			}
			return strings.TrimSpace(s[:i]), c, ""
		}
	}
	return s, 1, ""
}

// resolveAssets reads every endpoint's assets and checks them against the
// endpoint list: each names an endpoint, not the page itself nor a page
// with assets of its own; a page lists an asset once; an asset takes no
// weight (weighted says which endpoints were given one, at which node).
func resolveAssets(d *Decoder, eps []Endpoint, nodes []assetsNode, weighted map[int]*Node) {
	names := map[string]int{}
	for i, e := range eps {
		if _, ok := names[e.Name]; !ok {
			names[e.Name] = i
		}
	}
	known := make([]string, 0, len(eps))
	for _, e := range eps {
		known = append(known, e.Name)
	}
	var at [][]*Node
	for _, an := range nodes {
		refs, pos := decodeAssetRefs(d, an)
		eps[an.at].Assets = refs
		for len(at) <= an.at {
			at = append(at, nil)
		}
		at[an.at] = pos
	}
	assetOf := map[string]string{} // asset → first page listing it
	for i := range eps {
		e := &eps[i]
		if len(e.Assets) == 0 {
			continue
		}
		path := fmt.Sprintf("endpoints[%d].assets", i)
		if e.Class != Page {
			d.Add(at[i][0], path, "%q is of class %s: only a page lists assets (give class: page)", e.Name, e.Class)
		}
		seen := map[string]bool{}
		for k, a := range e.Assets {
			j, ok := names[a.Name]
			switch {
			case !ok:
				d.Add(at[i][k], path, "no endpoint %q (endpoints: %s)", a.Name, strings.Join(known, ", "))
				continue
			case j == i:
				d.Add(at[i][k], path, "%q lists itself as an asset", a.Name)
				continue
			case len(eps[j].Assets) > 0:
				d.Add(at[i][k], path, "%q is a page with assets of its own: a page view loads one page", a.Name)
				continue
			case seen[a.Name]:
				d.Add(at[i][k], path, "asset %q listed twice: give one count (%s×N)", a.Name, a.Name)
				continue
			}
			seen[a.Name] = true
			if _, ok := assetOf[a.Name]; !ok {
				assetOf[a.Name] = e.Name
			}
		}
	}
	for i, e := range eps {
		page, isAsset := assetOf[e.Name]
		if !isAsset {
			continue
		}
		if wn := weighted[i]; wn != nil {
			d.Add(wn, fmt.Sprintf("endpoints[%d].weight", i), "%q is an asset of page %q: it is sent with its page, not on its own (drop its weight)", e.Name, page)
		}
	}
}

// AsRequests is the scenario as a host sees it, for models that send
// requests, not visitors (hosting.Simulate): a scenario of page views
// becomes its RequestMix at RequestsPerArrival times the curve's rate.
// Any other scenario is returned as is.
func (s *Scenario) AsRequests() (*Scenario, error) {
	if !s.Visitors() {
		return s, nil
	}
	k := s.RequestsPerArrival()
	c := *s
	c.Endpoints = s.RequestMix()
	c.Journeys = nil
	if s.Curve != nil && s.Curve.Peak() > 0 {
		cv, err := s.Curve.transform(k, 1)
		if err != nil {
			return nil, err
		}
		c.Curve = cv
	}
	return &c, nil
}
