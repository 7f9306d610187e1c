package attack

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// MixTargeter hands out the scenario's endpoints in its mix, by smooth
// weighted round-robin over the endpoints in declared order
// (scenarios.Mix), so every window of picks holds the mix exactly. With
// shards, shard i takes picks i, i+n, i+2n, … of the one global sequence,
// so the shards' picks together are the single run's.
//
// It is safe for concurrent use; pass its Next method to vegeta as the
// Targeter.
type MixTargeter struct {
	mu      sync.Mutex
	mix     *scenarios.Mix
	targets []vegeta.Target
	shown   []string          // each target's URL as it may be written down (scenarios.Endpoint.Redacted)
	redact  map[string]string // target URL → shown URL, where they differ; nil if nowhere
	shard   int
	shards  int
	calls   atomic.Uint64
	index   []uint64 // picks per endpoint
}

// NewMixTargeter builds the targets for eps: a path is joined to base
// (base "http://h/shop" and path "/p/1" give "http://h/shop/p/1"), a full
// URL is used as is; header is added to every endpoint's own headers.
func NewMixTargeter(base *url.URL, eps []scenarios.Endpoint, header http.Header, shard, shards int) (*MixTargeter, error) {
	if len(eps) == 0 {
		return nil, fmt.Errorf("building targets: no endpoints")
	}
	shards = max(shards, 1)
	if shard < 0 || shard >= shards {
		return nil, fmt.Errorf("building targets: shard %d of %d out of range", shard, shards)
	}
	m := &MixTargeter{mix: scenarios.NewMix(eps).Shard(shard, shards), shard: shard, shards: shards, index: make([]uint64, len(eps))}
	for _, e := range eps {
		u, err := EndpointURL(base, e.URL)
		if err != nil {
			return nil, fmt.Errorf("building targets: endpoint %q: %w", e.Name, err)
		}
		h := http.Header{}
		for k, vs := range header {
			h[k] = append([]string(nil), vs...)
		}
		for k, vs := range e.Header {
			h[k] = append(h[k], vs...)
		}
		method := e.Method
		if method == "" {
			method = http.MethodGet
		}
		var body []byte
		if e.Body != "" {
			body = []byte(e.Body)
		}
		m.targets = append(m.targets, vegeta.Target{Method: method, URL: u, Header: h, Body: body})
		shown := u
		if w := e.Redacted(); w.URL != e.URL {
			if shown, err = EndpointURL(base, w.URL); err != nil {
				shown = w.URL
			}
			if m.redact == nil {
				m.redact = map[string]string{}
			}
			m.redact[u] = shown
		}
		m.shown = append(m.shown, shown)
	}
	return m, nil
}

// Shown is target i's URL as results and run.json may hold it: the
// endpoint's ${ENV:NAME} references, not their values.
func (m *MixTargeter) Shown(i int) string { return m.shown[i] }

// redactResult replaces values from the environment in r's URL and error
// text by their references (for the vegeta engine, whose results hold the
// URL sent).
func (m *MixTargeter) redactResult(r *vegeta.Result) {
	shown, ok := m.redact[r.URL]
	if !ok {
		return
	}
	if r.Error != "" {
		r.Error = strings.ReplaceAll(r.Error, r.URL, shown)
		if u, err := url.Parse(r.URL); err == nil {
			r.Error = strings.ReplaceAll(r.Error, u.Redacted(), shown)
		}
	}
	r.URL = shown
}

// EndpointURL joins an endpoint's path to the target base URL; a full URL
// is returned unchanged. The path "/" (the default mix's single GET /) is
// the target itself, so --target http://h/search?q=x sends exactly that;
// other paths are joined to the target's path, its query dropped.
func EndpointURL(base *url.URL, path string) (string, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		if _, err := url.Parse(path); err != nil {
			return "", err
		}
		return path, nil
	}
	if base == nil {
		return "", fmt.Errorf("path %q needs a target URL", path)
	}
	if path == "/" && (strings.Trim(base.Path, "/") != "" || base.RawQuery != "") {
		return base.String(), nil
	}
	b := *base
	b.RawQuery, b.ForceQuery, b.Fragment = "", false, ""
	u := strings.TrimRight(b.String(), "/") + path
	if _, err := url.ParseRequestURI(u); err != nil {
		return "", err
	}
	return u, nil
}

// Next fills t with the next target. It never fails.
func (m *MixTargeter) Next(t *vegeta.Target) error {
	*t = m.targets[m.pick()]
	return nil
}

// pick takes the next endpoint of the mix and returns its index in
// Targets.
func (m *MixTargeter) pick() int {
	m.mu.Lock()
	i := m.mix.Next() // shard i of n: global picks i, i+n, …
	m.index[i]++
	m.mu.Unlock()
	m.calls.Add(1)
	return i
}

// count counts a request of endpoint i sent outside the mix (a page
// view's asset).
func (m *MixTargeter) count(i int) {
	m.mu.Lock()
	m.index[i]++
	m.mu.Unlock()
	m.calls.Add(1)
}

// uncount takes back a pick of endpoint i that was never sent (a hit
// still queued when the run stopped).
func (m *MixTargeter) uncount(i int) {
	m.mu.Lock()
	m.index[i]--
	m.mu.Unlock()
	m.calls.Add(^uint64(0))
}

// Targets are the targets, one per endpoint, in declared order.
func (m *MixTargeter) Targets() []vegeta.Target { return m.targets }

// Calls is the number of targets handed out: the hits started so far.
func (m *MixTargeter) Calls() uint64 { return m.calls.Load() }

// Picks is how many times each endpoint was picked so far.
func (m *MixTargeter) Picks() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint64(nil), m.index...)
}

// ReadTargets reads a vegeta targets file, in vegeta's http format
// ("GET https://host/path" lines, headers, "@body-file") or its json format
// (one {"method","url","header","body"} object a line); format "" detects
// it. Each target becomes an endpoint of weight 1, so a run sends them in
// turn. Relative @body paths are read from the working directory, as vegeta
// does.
func ReadTargets(file, format string) ([]scenarios.Endpoint, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &scenarios.Problem{File: file, Msg: "reading targets: " + err.Error()}
	}
	if format == "" {
		format = "http"
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			format = "json"
		}
	}
	var tr vegeta.Targeter
	switch format {
	case "http":
		tr = vegeta.NewHTTPTargeter(bytes.NewReader(data), nil, nil)
	case "json":
		tr = vegeta.NewJSONTargeter(bytes.NewReader(data), nil, nil)
	default:
		return nil, &scenarios.Problem{File: file, Msg: fmt.Sprintf("unknown targets format %q (want http or json)", format)}
	}
	tgts, err := vegeta.ReadAllTargets(tr)
	if err != nil {
		return nil, &scenarios.Problem{File: file, Msg: fmt.Sprintf("reading %s targets: %v", format, err)}
	}
	var eps []scenarios.Endpoint
	seen := map[string]int{}
	for i, t := range tgts {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &scenarios.Problem{File: file, Field: fmt.Sprintf("target %d", i+1), Msg: fmt.Sprintf("%q is not an http(s) URL", t.URL)}
		}
		name := t.Method + " " + t.URL
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seen[name])
		}
		var h http.Header
		if len(t.Header) > 0 {
			h = t.Header
		}
		eps = append(eps, scenarios.Endpoint{Name: name, Method: t.Method, URL: t.URL, Header: h,
			Body: string(t.Body), Weight: 1, Class: scenarios.ClassOf(u.Path)})
	}
	return eps, nil
}
