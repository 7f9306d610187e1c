package scenarios

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Expect is what a response must show, beyond arriving with a 2xx or 3xx
// status, to count as a success: the checks an endpoint states under
// expect in a scenario file.
//
//	expect: {status: [200, 304], body_contains: "Add to cart", max_latency: 2s, min_bytes: 1000}
//
// A response that fails a check is a failed request of kind "check NAME"
// (see CheckKind), NAME the first check it failed in the order status,
// min_bytes, body_contains, max_latency. Checks judge responses only: a
// request that failed already (an error status, a timeout, a reset) keeps
// its own kind.
type Expect struct {
	// Status lists the codes that count as success; empty: any 2xx or 3xx.
	// Only 2xx and 3xx codes may be listed (an error status is a failure
	// whatever the scenario expects).
	Status []uint16 `json:"status,omitempty"`
	// BodyContains is text the body must contain, found on the streamed
	// body without keeping it (at most MaxBodyContains bytes).
	BodyContains string `json:"body_contains,omitempty"`
	// MinBytes is the least number of body bytes; 0: no check.
	MinBytes int64 `json:"min_bytes,omitempty"`
	// MaxLatency is the longest a response may take, body included; 0: no
	// check.
	MaxLatency time.Duration `json:"max_latency,omitempty"`
}

// MaxBodyContains bounds the text of a body_contains check: the scan keeps
// this much state between the chunks of a body it reads.
const MaxBodyContains = 4096

type expectJSON struct {
	Status       []uint16     `json:"status,omitempty"`
	BodyContains string       `json:"body_contains,omitempty"`
	MinBytes     int64        `json:"min_bytes,omitempty"`
	MaxLatency   jsonDuration `json:"max_latency,omitempty"`
}

// MarshalJSON writes max_latency as a string ("2s"), as a scenario file does.
func (e Expect) MarshalJSON() ([]byte, error) {
	return json.Marshal(expectJSON{e.Status, e.BodyContains, e.MinBytes, jsonDuration(e.MaxLatency)})
}

// UnmarshalJSON reads max_latency written as a string or as nanoseconds.
func (e *Expect) UnmarshalJSON(b []byte) error {
	var j expectJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Expect{Status: j.Status, BodyContains: j.BodyContains, MinBytes: j.MinBytes, MaxLatency: time.Duration(j.MaxLatency)}
	return nil
}

// String prints the checks in the scenario file's syntax.
func (e *Expect) String() string {
	if e == nil {
		return "{}"
	}
	var parts []string
	if len(e.Status) > 0 {
		cs := make([]string, len(e.Status))
		for i, c := range e.Status {
			cs[i] = strconv.Itoa(int(c))
		}
		parts = append(parts, "status: ["+strings.Join(cs, ", ")+"]")
	}
	if e.MinBytes > 0 {
		parts = append(parts, fmt.Sprintf("min_bytes: %d", e.MinBytes))
	}
	if e.BodyContains != "" {
		parts = append(parts, "body_contains: "+strconv.Quote(e.BodyContains))
	}
	if e.MaxLatency > 0 {
		parts = append(parts, "max_latency: "+FormatDuration(e.MaxLatency))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// AllowsStatus reports whether code passes the status check.
func (e *Expect) AllowsStatus(code uint16) bool {
	if e == nil || len(e.Status) == 0 {
		return true
	}
	for _, c := range e.Status {
		if c == code {
			return true
		}
	}
	return false
}

// decodeExpect reads an endpoint's expect map; nil when it states no check.
//
// body_contains is kept as written: the caller resolves ${ENV:NAME} in it
// and checks the resolved text with checkBodyContains.
func decodeExpect(d *Decoder, n *Node, path string) *Expect {
	if n == nil || n.Kind == NullNode {
		return nil
	}
	path = Field(path, "expect")
	o := d.Object(n, path)
	e := &Expect{}
	if sn := o.Get("status"); sn != nil && sn.Kind != NullNode {
		items := []*Node{sn}
		switch sn.Kind {
		case SeqNode:
			items = sn.Vals
			if len(items) == 0 {
				d.Add(sn, Field(path, "status"), "list is empty (leave it out for any 2xx or 3xx)")
			}
		case MapNode:
			d.Add(sn, Field(path, "status"), "want a status code or a list of them, such as [200, 304]")
			items = nil
		}
		for i, v := range items {
			f := Field(path, "status")
			if sn.Kind == SeqNode {
				f = fmt.Sprintf("%s[%d]", f, i)
			}
			if v.Kind != ScalarNode {
				d.Add(v, f, "want a status code such as 200")
				continue
			}
			c, err := strconv.Atoi(strings.TrimSpace(v.Scalar))
			switch {
			case err != nil:
				d.Add(v, f, "%q is not a status code (want a number such as 200)", v.Scalar)
			case c < 200 || c > 399:
				d.Add(v, f, "%d: only 2xx and 3xx codes can be expected (an error status is always a failure)", c)
			default:
				e.Status = append(e.Status, uint16(c))
			}
		}
	}
	if s, ok := o.String("body_contains"); ok {
		if checkBodyContains(d, o.Get("body_contains"), Field(path, "body_contains"), s) {
			e.BodyContains = s
		}
	} else if bn := o.Get("body_contains"); bn != nil && bn.Kind == NullNode {
		d.Add(bn, Field(path, "body_contains"), "is empty (leave it out for no body check)")
	}
	if bn := o.Get("min_bytes"); bn != nil && bn.Kind == ScalarNode && strings.HasPrefix(strings.TrimSpace(bn.Scalar), "-") {
		d.Add(bn, Field(path, "min_bytes"), "must be >= 0, found %s", strings.TrimSpace(bn.Scalar))
	} else if v, ok := o.Bytes("min_bytes"); ok {
		e.MinBytes = v
	}
	if v, ok := o.Duration("max_latency"); ok {
		if v <= 0 {
			d.Add(o.Get("max_latency"), Field(path, "max_latency"), "must be > 0")
		}
		e.MaxLatency = v
	}
	o.Close()
	if len(e.Status) == 0 && e.BodyContains == "" && e.MinBytes == 0 && e.MaxLatency == 0 {
		return nil
	}
	return e
}

// checkBodyContains reports an empty or too long body_contains text.
func checkBodyContains(d *Decoder, n *Node, field, s string) bool {
	switch {
	case s == "":
		d.Add(n, field, "is empty (leave it out for no body check)")
	case len(s) > MaxBodyContains:
		d.Add(n, field, "is %d bytes, more than %d", len(s), MaxBodyContains)
	default:
		return true
	}
	return false
}
