package report

import (
	"fmt"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// ErrorKind groups transport errors (results with no HTTP status) and
// failed checks (responses that failed a scenario endpoint's expect) for
// the plots and tables. It is coarser than scenarios.ErrorKind, which it
// maps, except for the checks: each keeps its name ("check body_contains").
type ErrorKind int

// The error kinds, in the order the plots and tables show them.
const (
	Timeout    ErrorKind = iota // the client gave up waiting
	Refused                     // nothing listening
	Reset                       // reset, broken pipe, closed or cut short by the server
	TLS                         // handshake or certificate
	Generator                   // the generator ran out of file descriptors or ports: not the host's fault
	OtherError                  // anything else (too many redirects, ...)
	DNS                         // the host name did not resolve (last: saved windows keep their indexes)
	// Responses that failed a check, by the first check failed (added after
	// DNS: saved windows keep their indexes).
	CheckStatus  // the status was not one the endpoint expects
	CheckBytes   // the body was shorter than min_bytes
	CheckBody    // the body lacked the body_contains text
	CheckLatency // the response took longer than max_latency
	Garbage      // the answer was not HTTP (wrong scheme or port?); added last: saved windows keep their indexes
	numErrorKinds
)

var errorKindNames = [numErrorKinds]string{"timeout", "refused", "reset", "tls", "generator", "other", "dns",
	scenarios.ErrCheckPrefix + scenarios.CheckStatus, scenarios.ErrCheckPrefix + scenarios.CheckMinBytes,
	scenarios.ErrCheckPrefix + scenarios.CheckBodyContains, scenarios.ErrCheckPrefix + scenarios.CheckMaxLatency, "garbage"}

// IsCheck reports whether k is a failed check.
func (k ErrorKind) IsCheck() bool { return k >= CheckStatus && k <= CheckLatency }

// checkErrorKind maps the Result.Error text of a response that failed a
// check (scenarios.CheckError) to its kind; false for any other text.
func checkErrorKind(s string) (ErrorKind, bool) {
	k, ok := scenarios.CheckKind(s)
	if !ok {
		return 0, false
	}
	switch k[len(scenarios.ErrCheckPrefix):] {
	case scenarios.CheckStatus:
		return CheckStatus, true
	case scenarios.CheckMinBytes:
		return CheckBytes, true
	case scenarios.CheckBodyContains:
		return CheckBody, true
	}
	return CheckLatency, true
}

func (k ErrorKind) String() string { return errorKindNames[k] }

// ClassifyError maps vegeta's Result.Error text of a result with no status
// to its kind, by scenarios.ErrorKind.
func ClassifyError(s string) ErrorKind {
	switch scenarios.ErrorKind(0, s) {
	case scenarios.ErrTimeout:
		return Timeout
	case scenarios.ErrRefused:
		return Refused
	case scenarios.ErrReset, scenarios.ErrClosed, scenarios.ErrTruncated:
		return Reset
	case scenarios.ErrTLS:
		return TLS
	case scenarios.ErrFDLimit, scenarios.ErrNoPorts:
		return Generator
	case scenarios.ErrDNS:
		return DNS
	case scenarios.ErrGarbage:
		return Garbage
	}
	return OtherError
}

// errorCache remembers the kinds of error texts already seen, so that
// classifying does not allocate per result; it stops growing at
// errorCacheMax distinct texts.
type errorCache map[string]ErrorKind

const errorCacheMax = 4096

func (c errorCache) kind(s string) ErrorKind {
	if k, ok := c[s]; ok {
		return k
	}
	k := ClassifyError(s)
	if len(c) < errorCacheMax {
		c[strings.Clone(s)] = k
	}
	return k
}

// Stats are one series' counts in one window. Requests are counted in the
// window they were sent in; Done and DoneOK in the window they completed in
// (send time + latency), which is what the achieved rate measures.
//
// Latency holds the latencies of successful requests (2xx and 3xx) only, as
// k6's expected_response:true does: a 503 answered in 0 ms is not a fast
// page, and counting it would pull an overloaded host's percentiles down.
// FailLatency holds the failed requests' latencies, apart.
type Stats struct {
	Requests uint64                `json:"n,omitempty"`
	OK       uint64                `json:"ok,omitempty"` // 2xx and 3xx that passed their checks (vegeta's success)
	Status   [7]uint64             `json:"st,omitempty"` // [0] no status (transport error), [1..5] 1xx..5xx, [6] any other code
	S429     uint64                `json:"s429,omitempty"`
	S503     uint64                `json:"s503,omitempty"`
	S504     uint64                `json:"s504,omitempty"`
	Errors   [numErrorKinds]uint64 `json:"err,omitempty"` // transport errors and failed checks by kind
	// Codes counts the error statuses without a field of their own (all
	// but 429, 503 and 504) by code; nil until one is seen. Windows saved
	// before it have only their class in Status.
	Codes    map[uint16]uint64 `json:"codes,omitempty"`
	BytesIn  uint64            `json:"bin,omitempty"`
	BytesOut uint64            `json:"bout,omitempty"`
	Done     uint64            `json:"done,omitempty"`
	DoneOK   uint64            `json:"done_ok,omitempty"`
	Latency  Hist              `json:"lat"` // successful requests
	// FailLatency is the failed requests' latencies (errors and 4xx/5xx).
	FailLatency Hist `json:"flat"`
}

// Failed is the number of requests that did not succeed.
func (s *Stats) Failed() uint64 { return s.Requests - s.OK }

// ErrorRatio is failed/requests (0 with no requests).
func (s *Stats) ErrorRatio() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Failed()) / float64(s.Requests)
}

// count adds a result's counts, all but its latency. kind is the kind of
// a transport error (no status) or, for a 2xx or 3xx that is not ok, of
// the check it failed.
func (s *Stats) count(r *vegeta.Result, kind ErrorKind, ok bool) {
	s.Requests++
	s.BytesIn += r.BytesIn
	s.BytesOut += r.BytesOut
	c := r.Code
	switch {
	case c >= 200 && c < 400:
		if ok {
			s.OK++
		} else {
			s.Errors[kind]++
		}
		s.Status[c/100]++
	case c == 0:
		s.Status[0]++
		s.Errors[kind]++
	case c >= 100 && c < 600:
		s.Status[c/100]++
		switch c {
		case 429:
			s.S429++
		case 503:
			s.S503++
		case 504:
			s.S504++
		default:
			if s.Codes == nil {
				s.Codes = map[uint16]uint64{}
			}
			s.Codes[c]++
		}
	default:
		s.Status[6]++
	}
}

// Kinds counts the failed requests by kind: "http 403" and the like for
// error statuses (by class, "http 4xx", where the code was not kept), the
// transport error kinds ("timeout") and failed checks ("check min_bytes").
func (s *Stats) Kinds() map[string]uint64 {
	m := map[string]uint64{}
	put := func(k string, n uint64) {
		if n > 0 {
			m[k] += n
		}
	}
	put("http 429", s.S429)
	put("http 503", s.S503)
	put("http 504", s.S504)
	var kept [7]uint64 // by class
	for c, n := range s.Codes {
		put(fmt.Sprintf("http %d", c), n)
		kept[c/100] += n
	}
	put("http 1xx", s.Status[1]-kept[1])
	put("http 4xx", s.Status[4]-s.S429-kept[4])
	put("http 5xx", s.Status[5]-s.S503-s.S504-kept[5])
	put("http other", s.Status[6])
	for k := ErrorKind(0); k < numErrorKinds; k++ {
		put(k.String(), s.Errors[k])
	}
	return m
}

// Merge adds o's counts to s.
func (s *Stats) Merge(o *Stats) {
	s.Requests += o.Requests
	s.OK += o.OK
	for i := range s.Status {
		s.Status[i] += o.Status[i]
	}
	s.S429 += o.S429
	s.S503 += o.S503
	s.S504 += o.S504
	for i := range s.Errors {
		s.Errors[i] += o.Errors[i]
	}
	for c, n := range o.Codes {
		if s.Codes == nil {
			s.Codes = make(map[uint16]uint64, len(o.Codes))
		}
		s.Codes[c] += n
	}
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.Done += o.Done
	s.DoneOK += o.DoneOK
	s.Latency.Merge(&o.Latency)
	s.FailLatency.Merge(&o.FailLatency)
}

// Window is one fixed stretch of time. Its start is Windows.Origin +
// Index·Windows.Width.
type Window struct {
	Index     int     `json:"i"`
	Offered   float64 `json:"offered"` // requests due in the window (the curve); for plain vegeta files, requests sent
	Total     Stats   `json:"total"`
	Endpoints []Stats `json:"ep,omitempty"` // by Windows.Endpoints index
	Lag       Hist    `json:"lag"`          // how far sends lagged their schedule (run.json only)
}

func (w *Window) ep(i int) *Stats {
	for len(w.Endpoints) <= i {
		w.Endpoints = append(w.Endpoints, Stats{})
	}
	return &w.Endpoints[i]
}

// Merge adds o's counts to w (same index; offered adds, as for shards).
func (w *Window) Merge(o *Window) {
	w.Offered += o.Offered
	w.Total.Merge(&o.Total)
	for i := range o.Endpoints {
		w.ep(i).Merge(&o.Endpoints[i])
	}
	w.Lag.Merge(&o.Lag)
}

// Endpoint is one series of the per-endpoint view: a scenario endpoint, a
// METHOD and path seen in a plain vegeta file, or the overflow ("other") of
// a class.
type Endpoint struct {
	Name   string          `json:"name"`
	Class  scenarios.Class `json:"class"`
	Method string          `json:"method,omitempty"`
	Path   string          `json:"path,omitempty"` // path, with the query if the scenario gave one
	Other  bool            `json:"other,omitempty"`
}

// Windows is a folded run: what is saved in a run directory and analysed.
type Windows struct {
	Info      *scenarios.RunInfo `json:"info,omitempty"` // nil for plain vegeta files
	Origin    time.Time          `json:"origin"`         // t = 0: RunInfo.Start, or the start of the first window
	Width     time.Duration      `json:"width"`
	Endpoints []Endpoint         `json:"endpoints"`
	W         []Window           `json:"windows"` // in index order, no gaps
	Shards    []int              `json:"shards,omitempty"`
	Results   uint64             `json:"results"`
	Dropped   uint64             `json:"dropped,omitempty"` // results with a timestamp too far from the others to window
	Sources   []string           `json:"sources,omitempty"`
	Warnings  []string           `json:"warnings,omitempty"`
	// CutAt is set when the results end before the run did: a results
	// file cut short (a damaged last record) or a run that never wrote its
	// end (killed): the offset from Origin just past the last result read.
	// Windows from there on are not judged, and the requests due there are
	// not the generator's shortfall.
	CutAt time.Duration `json:"cut_at,omitempty"`
	// Sending is when requests were being sent, for plain vegeta files:
	// their windows are aligned to the clock, not to the first request,
	// so the first and last windows of each file's traffic cover only
	// part of their width. Nil (a run, whose windows follow its curve)
	// means the whole of every window.
	Sending []Interval `json:"sending,omitempty"`
	// Visitors are the run's page views and journeys, when its arrivals
	// were visitors: a real run's are read from its visits file
	// (ReadVisitors); a simulation has no visits file and saves them
	// here, folded.
	Visitors *Visitors `json:"visitors,omitempty"`
}

// Interval is a stretch of time, as offsets from Windows.Origin.
type Interval struct {
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
}

// Covered is how much of window i (a position in W), in seconds, requests
// were being sent in: its width, but for the windows at the edges of a
// plain vegeta file's traffic.
func (ws *Windows) Covered(i int) float64 {
	lo := ws.Start(i)
	hi := lo + ws.Width
	if ws.Sending == nil {
		if end, ok := ws.sendEnd(); ok && hi > end {
			// The window the run stopped in or its results end in: a
			// sliver there is a few requests, not a rate.
			return max(0, end-lo).Seconds()
		}
		return ws.Width.Seconds()
	}
	var c time.Duration
	for _, s := range ws.Sending {
		c += max(0, min(hi, s.To)-max(lo, s.From))
	}
	return c.Seconds()
}

// sendEnd is where a run's sending ended before its curve did, as an
// offset from Origin: where it was stopped (Ctrl-C, an abort rule) or its
// results end early (a killed run, a cut file). ok is false when it sent
// to the end.
func (ws *Windows) sendEnd() (end time.Duration, ok bool) {
	if ws.Info == nil {
		return 0, false
	}
	if ws.CutAt > 0 {
		end, ok = ws.CutAt, true
	}
	if in := ws.Info; in.Stopped != "" && !in.StoppedAt.IsZero() {
		if at := in.StoppedAt.Sub(ws.Origin); !ok || at < end {
			end, ok = at, true
		}
	}
	return end, ok
}

// Secs is the time window i's rates are counted over: the part of it
// requests were sent in, or its width when none were.
func (ws *Windows) Secs(i int) float64 {
	if c := ws.Covered(i); c > 0 {
		return c
	}
	return ws.Width.Seconds()
}

// Partial reports whether requests were sent for less than half of
// window i: a sliver at the edge of the traffic, too little to set the
// capacity, end a broken stretch or mark a fall in the rate.
func (ws *Windows) Partial(i int) bool { return ws.Covered(i) < ws.Width.Seconds()/2 }

// rateOf is count per second in window i, over the part of it requests
// were sent in. An edge window covered only in part is pooled with a
// neighbour covered at least half: a rate from a few requests in a
// fraction of a window jumps about, and responses to the last requests
// complete after they were sent.
func (ws *Windows) rateOf(i int, count func(w *Window) float64) float64 {
	n, secs := count(&ws.W[i]), ws.Secs(i)
	if ws.W[i].Total.Requests > 0 && ws.Covered(i) < ws.Width.Seconds()*(1-1e-6) {
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(ws.W) && ws.W[j].Total.Requests > 0 && !ws.Partial(j) {
				return (n + count(&ws.W[j])) / (secs + ws.Secs(j))
			}
		}
	}
	return n / secs
}

func offeredOf(w *Window) float64  { return w.Offered }
func sentOf(w *Window) float64     { return float64(w.Total.Requests) }
func achievedOf(w *Window) float64 { return float64(w.Total.DoneOK) }

// coveredMid is the middle of the part of window i requests were sent in,
// in seconds from Origin: where its rates are plotted.
func (ws *Windows) coveredMid(i int) float64 {
	lo := ws.Start(i)
	hi := lo + ws.Width
	if ws.Sending == nil {
		return (lo + hi).Seconds() / 2
	}
	a, b := hi, lo
	for _, s := range ws.Sending {
		if s.To > lo && s.From < hi {
			a, b = min(a, max(lo, s.From)), max(b, min(hi, s.To))
		}
	}
	if b <= a {
		return (lo + hi).Seconds() / 2
	}
	return (a + b).Seconds() / 2
}

// Start is the offset of window i (a position in W) from Origin.
func (ws *Windows) Start(i int) time.Duration {
	return time.Duration(ws.W[i].Index) * ws.Width
}

// StartSec is Start in seconds.
func (ws *Windows) StartSec(i int) float64 { return ws.Start(i).Seconds() }

// Rewindow returns the windows merged into windows of width k·Width.
func (ws *Windows) Rewindow(width time.Duration) (*Windows, error) {
	if width == ws.Width {
		return ws, nil
	}
	if width < ws.Width || width%ws.Width != 0 {
		return nil, fmt.Errorf("window %s is not a multiple of the saved windows' %s", width, ws.Width)
	}
	k := int(width / ws.Width)
	out := *ws
	out.Width = width
	out.W = nil
	for i := range ws.W {
		idx := floorDiv(ws.W[i].Index, k)
		if len(out.W) == 0 || out.W[len(out.W)-1].Index != idx {
			for len(out.W) > 0 && out.W[len(out.W)-1].Index < idx-1 {
				out.W = append(out.W, Window{Index: out.W[len(out.W)-1].Index + 1})
			}
			out.W = append(out.W, Window{Index: idx})
		}
		out.W[len(out.W)-1].Merge(&ws.W[i])
	}
	return &out, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Sum is the total of every window for the overall series (ep < 0) or
// endpoint ep.
func (ws *Windows) Sum(ep int) Stats {
	var s Stats
	for i := range ws.W {
		if ep < 0 {
			s.Merge(&ws.W[i].Total)
		} else if ep < len(ws.W[i].Endpoints) {
			s.Merge(&ws.W[i].Endpoints[ep])
		}
	}
	return s
}
