package attack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// maxCaptureBody is how much of a response body a step with captures
// reads for them (the rest is read and counted, not kept).
const maxCaptureBody = 1 << 20

// journeys is what the visits engine needs to walk a scenario's journeys.
type journeys struct {
	list  []scenarios.Journey
	steps [][]journeyStep // by journey, by step
	mu    sync.Mutex
	mix   *scenarios.Mix // over the journeys' weights, this shard's picks
}

// journeyStep is a step with its endpoint index and compiled captures.
type journeyStep struct {
	ep      int
	capture []capturer
}

type capturer struct {
	name   string
	json   scenarios.JSONPath
	header string
	re     *regexp.Regexp
}

func newJourneys(s *scenarios.Scenario, eps []scenarios.Endpoint, shard, shards int) (*journeys, error) {
	idx := map[string]int{}
	for i, e := range eps {
		idx[e.Name] = i
	}
	js := &journeys{list: s.Journeys, mix: scenarios.NewMix(scenarios.JourneyEndpoints(s.Journeys)).Shard(shard, shards)}
	for _, j := range s.Journeys {
		var steps []journeyStep
		for _, st := range j.Steps {
			i, ok := idx[st.Endpoint]
			if !ok {
				return nil, fmt.Errorf("journey %q: no endpoint %q", j.Name, st.Endpoint)
			}
			step := journeyStep{ep: i}
			for _, c := range st.Capture {
				kind, expr, _ := strings.Cut(c.From, ":")
				cp := capturer{name: c.Var}
				var err error
				switch kind {
				case "json":
					cp.json, err = scenarios.ParseJSONPath(expr)
				case "header":
					cp.header = strings.TrimSpace(expr)
				case "regex":
					cp.re, err = regexp.Compile(expr)
				default:
					err = fmt.Errorf("unknown capture %q", c.From)
				}
				if err != nil {
					return nil, fmt.Errorf("journey %q: capture %s: %w", j.Name, c.Var, err)
				}
				step.capture = append(step.capture, cp)
			}
			steps = append(steps, step)
		}
		js.steps = append(js.steps, steps)
	}
	return js, nil
}

// pick is the next arrival's journey: shard i of n takes picks i, i+n, …
// of the one sequence, as MixTargeter does.
// It also returns the journey's number among the journeys of its kind in
// the whole schedule (every shard's), which picks its feeder row.
func (js *journeys) pick() (k int, nth uint64) {
	js.mu.Lock()
	defer js.mu.Unlock()
	k = js.mix.Next()
	return k, js.mix.Picked(k) - 1
}

// take captures from a response: its header and (read) body.
func (c *capturer) take(h http.Header, body []byte) (string, bool) {
	switch {
	case c.header != "":
		v := h.Get(c.header)
		return v, v != ""
	case c.re != nil:
		m := c.re.FindSubmatch(body)
		if m == nil {
			return "", false
		}
		return string(m[1]), true
	}
	// Numbers decode as written: through a float64, an id above 2^53
	// would come back as a neighbouring one.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	for _, p := range c.json {
		switch k := p.(type) {
		case string:
			o, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			if v, ok = o[k]; !ok {
				return "", false
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return "", false
			}
			v = a[k]
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", false
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}

// journey is visitor i's walk through journey k, the nth of its kind: its
// steps in order, a think time between them, a cookie jar of its own and
// its values (feeder row nth, then captures). It ends at the first step
// that fails.
func (v *visitEngine) journey(i uint64, k int, nth uint64) {
	defer v.wg.Done()
	defer v.inflight.Add(-1)
	j := &v.js.list[k]
	steps := v.js.steps[k]
	jar, _ := cookiejar.New(nil)
	client := *v.client
	client.Jar = jar
	vals := j.Feeder.Row(nth)
	if vals == nil {
		vals = map[string]string{}
	}
	jv := &scenarios.Visit{Kind: scenarios.JourneyVisit, Name: j.Name, Seq: i, Step: -1}
	var end time.Time
	for s, st := range steps {
		if s > 0 && j.Think.Mean > 0 {
			d := j.Think.Mean
			if j.Think.Exponential {
				d = time.Duration(rand.ExpFloat64() * float64(d))
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-v.halt:
				t.Stop()
			case <-v.ctx.Done():
				t.Stop()
			}
		}
		if v.ctx.Err() != nil || (s > 0 && v.stopped.Load()) {
			jv.Broke, jv.Why, jv.Step, jv.Abandoned = v.eps[st.ep].Name, scenarios.Interrupted, s, true
			break
		}
		seq := i
		if s > 0 {
			seq = scenarios.AssetSeq + v.assetN.Add(1) - 1
		}
		v.tgt.count(st.ep) // the mix picked a journey, not an endpoint: every step counts here
		p, why := v.step(&client, st, seq, vals)
		if s == 0 {
			jv.Start = p.res.Timestamp.Sub(v.start)
		}
		jv.Sent++
		end = p.res.End()
		if len(v.assets[st.ep]) > 0 {
			// A page with assets: the visitor's browser loads them, and
			// the page view counts among the visitors' page views. A
			// page view broken by an asset does not stop the journey
			// (the visitor goes on without the images); a failed page does.
			pg := p
			if pg.kind == "" && v.slow > 0 && pg.res.Latency > v.slow {
				pg.kind = "slow"
			}
			pv, pend := v.pageView(&client, i, pg)
			pv.Took = pend.Sub(p.res.Timestamp)
			jv.Sent += pv.Sent - 1
			end = pend
			v.visits <- pv
		}
		if why == "" {
			why = p.kind
		}
		if why != "" {
			jv.Broke, jv.Why, jv.Step = v.eps[st.ep].Name, why, s
			jv.Abandoned = true
			break
		}
	}
	jv.OK = jv.Broke == ""
	if due, ok := v.due(i); ok && !end.IsZero() {
		jv.Took = end.Sub(v.start.Add(due))
	}
	v.visits <- jv
}

// step sends one step of a journey with the journey's client and values,
// takes its captures into vals, and hands its result on; why is "capture
// NAME" when a capture found nothing (the response itself may be a
// success).
func (v *visitEngine) step(client *http.Client, st journeyStep, seq uint64, vals map[string]string) (part, string) {
	t := v.tgt.targets[st.ep]
	// The result carries the endpoint's URL as written ({{order_id}},
	// not the value), so the report counts it under its endpoint.
	r := &vegeta.Result{Seq: seq, Method: t.Method, URL: t.URL, Timestamp: time.Now()}
	var scan bodyScan
	chk := v.chks.at(st.ep).with(vals)
	why := ""
	func() {
		u := expandURL(t.URL, vals)
		var body io.Reader
		if len(t.Body) > 0 {
			b := scenarios.Expand(string(t.Body), vals)
			body = strings.NewReader(b)
			r.BytesOut = uint64(len(b))
		}
		req, err := http.NewRequestWithContext(v.ctx, t.Method, u, body)
		if err != nil {
			r.Error = err.Error()
			return
		}
		for k, hs := range t.Header {
			for _, h := range hs {
				req.Header.Add(k, scenarios.Expand(h, vals))
			}
		}
		if h := req.Header.Get("Host"); h != "" {
			req.Host = h // as vegeta.Target.Request does
		}
		resp, err := client.Do(req)
		if err != nil {
			r.Error = err.Error()
			return
		}
		defer resp.Body.Close()
		var keep []byte
		var n int64
		if len(st.capture) > 0 {
			var buf bytes.Buffer
			n, err = v.readBody(io.TeeReader(resp.Body, &limitedBuffer{b: &buf, n: maxCaptureBody}), r, chk, &scan)
			keep = buf.Bytes()
		} else {
			n, err = v.readBody(resp.Body, r, chk, &scan)
		}
		r.BytesIn = uint64(n)
		if err != nil {
			r.Error = err.Error()
			return
		}
		if r.Code = uint16(resp.StatusCode); r.Code < 200 || r.Code >= 400 {
			r.Error = resp.Status
			return
		}
		for _, c := range st.capture {
			val, ok := c.take(resp.Header, keep)
			if !ok {
				if why == "" {
					why = "capture " + c.name
				}
				continue
			}
			vals[c.name] = val
		}
	}()
	r.Latency = time.Since(r.Timestamp)
	chk.judge(r, &scan)
	if v.tgt.redact != nil {
		v.tgt.redactResult(r)
	}
	p := part{ep: st.ep, res: r, kind: scenarios.ErrorKind(r.Code, r.Error)}
	v.results <- r
	if p.kind != "" {
		why = ""
	}
	return p, why
}

// expandURL fills {{name}} references in a URL with path-escaped values.
func expandURL(u string, vals map[string]string) string {
	if !strings.Contains(u, "{{") {
		return u
	}
	esc := make(map[string]string, len(vals))
	for k, x := range vals {
		esc[k] = url.PathEscape(x)
	}
	return scenarios.Expand(u, esc)
}

// limitedBuffer keeps the first n bytes written to it and drops the rest.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
