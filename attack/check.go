package attack

import (
	"bytes"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// checker judges the responses of one endpoint by its checks
// (scenarios.Expect). Both engines use it: the fast engine scans each body
// as it reads it, the vegeta engine as its transport meters it, so a body
// is checked whole whatever Options.MaxBody keeps, and never kept for it.
// A checker is read-only once built and shared by every connection; the
// state of one body's scan is a bodyScan.
type checker struct {
	x      *scenarios.Expect
	needle []byte
	next   []int // next[i]: longest proper prefix of needle that ends needle[:i+1] (KMP)

	// The failure texts, bounded so that a results file's error set (as
	// vegeta report lists it) stays small: no byte counts or latencies.
	statusIn, minBytes, body, latency string
}

// newChecker compiles x; nil when x states no check.
func newChecker(x *scenarios.Expect) *checker {
	if x == nil {
		return nil
	}
	c := &checker{x: x}
	if len(x.Status) > 0 {
		cs := make([]string, len(x.Status))
		for i, s := range x.Status {
			cs[i] = strconv.Itoa(int(s))
		}
		c.statusIn = " not in [" + strings.Join(cs, ", ") + "]"
	}
	c.minBytes = scenarios.CheckError(scenarios.CheckMinBytes, "body under "+strconv.FormatInt(x.MinBytes, 10)+" bytes")
	c.latency = scenarios.CheckError(scenarios.CheckMaxLatency, "slower than "+scenarios.FormatDuration(x.MaxLatency))
	// The text itself is not repeated: it may come from the environment.
	c.body = scenarios.CheckError(scenarios.CheckBodyContains, "text not found in the body")
	if x.BodyContains != "" {
		c.needle = []byte(x.BodyContains)
		c.next = make([]int, len(c.needle))
		for i, k := 1, 0; i < len(c.needle); i++ {
			for k > 0 && c.needle[i] != c.needle[k] {
				k = c.next[k-1]
			}
			if c.needle[i] == c.needle[k] {
				k++
			}
			c.next[i] = k
		}
	}
	return c
}

// with is c with the journey's values filled into its body_contains text
// ({{order_id}}: the id a step captured), c itself when it has none.
func (c *checker) with(vals map[string]string) *checker {
	if c == nil || len(vals) == 0 || !strings.Contains(c.x.BodyContains, "{{") {
		return c
	}
	x := *c.x
	x.BodyContains = scenarios.Expand(x.BodyContains, vals)
	return newChecker(&x)
}

// scansBody says whether the checker needs to see the body.
func (c *checker) scansBody() bool { return c != nil && len(c.needle) > 0 }

// bodyScan is the state of a body_contains search across the chunks of
// one body: how much of the text the bytes so far end with. It is all the
// scan keeps, whatever the body's size.
type bodyScan struct {
	k     int
	found bool
}

// step advances the search state k by one byte.
func (c *checker) step(k int, b byte) int {
	for k > 0 && c.needle[k] != b {
		k = c.next[k-1]
	}
	if c.needle[k] == b {
		k++
	}
	return k
}

// scan feeds the next chunk of a body to s. A match within p is found by
// bytes.Index; one that began in earlier chunks ends within p's first
// len(needle)-1 bytes, where the carried state finds it.
func (c *checker) scan(s *bodyScan, p []byte) {
	n := len(c.needle)
	if s.found || n == 0 || len(p) == 0 {
		return
	}
	k := s.k
	if k > 0 || len(p) < n {
		for _, b := range p[:min(len(p), n-1)] {
			if k = c.step(k, b); k == n {
				s.found = true
				return
			}
		}
		if len(p) < n {
			s.k = k
			return
		}
	}
	if bytes.Contains(p, c.needle) {
		s.found = true
		return
	}
	// What the body ends with lies in p's last n-1 bytes.
	k = 0
	for _, b := range p[len(p)-(n-1):] {
		k = c.step(k, b)
	}
	s.k = k
}

// judge fails r, a response without another failure, on the first check
// it does not pass (status, min_bytes, body_contains, max_latency), writing
// scenarios.CheckError text into r.Error; scanned says what the scan of
// its body found.
func (c *checker) judge(r *vegeta.Result, scanned *bodyScan) {
	if c == nil || r.Error != "" || r.Code == 0 {
		return
	}
	x := c.x
	switch {
	case !x.AllowsStatus(r.Code):
		r.Error = scenarios.CheckError(scenarios.CheckStatus, strconv.Itoa(int(r.Code))+c.statusIn)
	case x.MinBytes > 0 && int64(r.BytesIn) < x.MinBytes:
		r.Error = c.minBytes
	case len(c.needle) > 0 && (scanned == nil || !scanned.found):
		r.Error = c.body
	case x.MaxLatency > 0 && r.Latency > x.MaxLatency:
		r.Error = c.latency
	}
}

// checks are the checkers of a run's endpoints, by the method and URL of
// their targets (what a vegeta.Result carries), and by the URL as the
// transport sees it (vegeta's request URL).
type checks struct {
	list     []*checker          // by endpoint index; nil where none
	byTarget map[string]*checker // method + " " + target URL
	byReq    map[string]*checker // method + " " + url.URL.String() of the request
}

// newChecks compiles the checks of eps, whose targets are tgts; nil when
// no endpoint states a check.
func newChecks(eps []scenarios.Endpoint, tgts []vegeta.Target) *checks {
	var cs *checks
	for i, e := range eps {
		c := newChecker(e.Expect)
		if c == nil {
			continue
		}
		if cs == nil {
			cs = &checks{list: make([]*checker, len(eps)), byTarget: map[string]*checker{}, byReq: map[string]*checker{}}
		}
		cs.list[i] = c
		t := tgts[i]
		cs.byTarget[t.Method+" "+t.URL] = c
		if req, err := t.Request(); err == nil {
			cs.byReq[req.Method+" "+req.URL.String()] = c
		}
	}
	return cs
}

// at returns endpoint i's checker, or nil.
func (cs *checks) at(i int) *checker {
	if cs == nil {
		return nil
	}
	return cs.list[i]
}

// of returns the checker of a result's target, or nil.
func (cs *checks) of(r *vegeta.Result) *checker {
	if cs == nil {
		return nil
	}
	return cs.byTarget[r.Method+" "+r.URL]
}
