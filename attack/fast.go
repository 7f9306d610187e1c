package attack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Engine names (Options.Engine, run.json's engine).
const (
	// EngineFast is flashcrowd's own sender: keep-alive HTTP/1.1
	// connections, each driven by one goroutine writing pre-encoded
	// requests, opened on demand up to the in-flight bound.
	EngineFast = "fast"
	// EngineVegeta is vegeta's Attacker on net/http.
	EngineVegeta = "vegeta"
	// DefaultEngine is the engine a run uses unless told otherwise.
	DefaultEngine = EngineFast
)

// fastEligible says why the fast engine cannot send these targets, "" if
// it can: it speaks plain HTTP/1.1 to one host (redirects it follows with
// net/http, see follow).
func fastEligible(o *Options, targets []vegeta.Target) string {
	if o.DisableKeepAlive {
		return "keep-alive is off"
	}
	var host string
	for _, t := range targets {
		u, err := url.Parse(t.URL)
		if err != nil {
			return "a target URL does not parse"
		}
		if u.Scheme != "http" {
			return "it speaks plain http only (the target is " + u.Scheme + ")"
		}
		if host != "" && u.Host != host {
			return "it sends to one host only"
		}
		host = u.Host
	}
	return ""
}

// fastJob is one due hit: its sequence number and endpoint.
type fastJob struct {
	seq     uint64
	ep      int32
	claimed bool // the dispatcher took an idle connection's slot for it
}

// fastEndpoint is an endpoint's request, encoded once.
type fastEndpoint struct {
	req        []byte // request line, headers and body
	method     string
	url        string
	bodyLen    uint64
	head       bool // HEAD: responses carry no body
	replayable bool // safe to send again after a failure (as net/http judges)
	errorPfx   string
	check      *checker      // the endpoint's checks; nil: none
	target     vegeta.Target // the target as sent, for a redirect's first request
}

// fastEngine sends hits over keep-alive HTTP/1.1 connections. One
// dispatcher goroutine sleeps until each hit is due and hands it to an idle
// connection; when none is idle it opens another (the open model: a slow
// target gets more requests in flight), up to maxConns, past which hits
// queue in the generator (sends fall behind; Run reports it). Each
// connection is owned by one goroutine that writes the pre-encoded request
// and parses the response minimally, with a connection deadline per request
// instead of a timer and context. Results are vegeta.Results, recycled
// once Run has handled them.
type fastEngine struct {
	addr        string
	eps         []fastEndpoint
	tgt         *MixTargeter
	timeout     time.Duration
	maxBody     int64
	keepHeaders bool
	maxConns    int64
	redirects   int         // as vegeta.Redirects: up to this many; vegeta.NoFollow: a 3xx is the result
	confirm     []string    // hosts beyond loopback a redirect may lead to (Options.Confirm)
	rt          *transport  // sends a redirect's further requests; nil: follows none
	curve       *CurvePacer // for how late a hit is and when the next ones are due; nil: never counts as late
	// began is the instant the pacer's elapsed time counts from (Run sets
	// it where it measures the pacer's Offset, so that a dispatcher that
	// starts late catches up instead of shifting the schedule); zero: when
	// the dispatcher starts.
	began time.Time

	work    chan fastJob
	results chan *vegeta.Result
	idle    atomic.Int64 // connections waiting for work, not yet claimed
	conns   atomic.Int64 // connection goroutines alive
	dialing atomic.Int64 // new connection goroutines that have not dialed yet
	open    atomic.Int64 // TCP connections open
	peak    atomic.Int64
	latency atomic.Int64 // moving average of request latency, ns
	stopped atomic.Bool
	dead    atomic.Bool
	live    sync.Map // *fastConn → struct{}
	wg      sync.WaitGroup
	pool    sync.Pool
	dialer  net.Dialer
}

// newFastEngine encodes tgt's targets; cs are the endpoints' checks (nil:
// none).
func newFastEngine(o *Options, tgt *MixTargeter, cs *checks) (*fastEngine, error) {
	e := &fastEngine{
		tgt:         tgt,
		timeout:     o.Timeout,
		maxBody:     o.MaxBody,
		keepHeaders: o.KeepHeaders,
		maxConns:    int64(min(uint64(o.MaxConnections), o.MaxWorkers)),
		redirects:   o.Redirects,
		confirm:     o.Confirm,
		dialer:      net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second},
	}
	if e.redirects != vegeta.NoFollow {
		e.rt = newTransport(o)
	}
	e.pool.New = func() any { return new(vegeta.Result) }
	for i, t := range tgt.Targets() {
		u, err := url.Parse(t.URL)
		if err != nil {
			return nil, fmt.Errorf("encoding request for %s: %w", t.URL, err)
		}
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
		e.addr = addr
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", t.Method, u.RequestURI(), u.Host)
		h := t.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		if host := h.Get("Host"); host != "" {
			// net/http sends a Host header as the request's host.
			b.Reset()
			fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", t.Method, u.RequestURI(), host)
			h.Del("Host")
		}
		if h.Get("User-Agent") == "" {
			h.Set("User-Agent", "Go-http-client/1.1")
		}
		h.Del("Content-Length")
		h.Del("Connection")
		if len(t.Body) > 0 || (t.Method != http.MethodGet && t.Method != http.MethodHead) {
			h.Set("Content-Length", strconv.Itoa(len(t.Body)))
		}
		if err := h.Write(&b); err != nil {
			return nil, fmt.Errorf("encoding request for %s: %w", t.URL, err)
		}
		b.WriteString("\r\n")
		b.Write(t.Body)
		method := t.Method
		shown := tgt.Shown(i) // results and errors never hold values from the environment
		e.eps = append(e.eps, fastEndpoint{
			req: b.Bytes(), method: method, url: shown, bodyLen: uint64(len(t.Body)),
			head:       method == http.MethodHead,
			replayable: method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions || method == http.MethodTrace,
			errorPfx:   fmt.Sprintf("%s%s %q: ", method[:1], strings.ToLower(method[1:]), shown),
			check:      cs.at(i),
			target:     t,
		})
	}
	return e, nil
}

// maxDialing bounds the connections being opened at once. Without it a
// burst of due hits on a busy core opens a connection each before any
// earlier one is back, and the pool runs away to its bound.
const maxDialing = 4

// growLag is how long the dispatcher may have been catching up before
// it stops opening connections for hits that find none idle.
const growLag = 2 * time.Millisecond

// queueLen bounds the hits waiting for a connection; past it the
// dispatcher itself waits (sends fall behind schedule).
const queueLen = 1 << 16

// Attack starts the dispatcher; tr is unused (the engine takes endpoints
// from its MixTargeter by index, their requests encoded once).
func (e *fastEngine) Attack(_ vegeta.Targeter, p vegeta.Pacer, du time.Duration, name string) <-chan *vegeta.Result {
	e.work = make(chan fastJob, queueLen)
	e.results = make(chan *vegeta.Result, queueLen)
	go func() {
		e.dispatch(p, du)
		close(e.work)
		e.wg.Wait()
		close(e.results)
	}()
	return e.results
}

// wakeQuantum is the grid the dispatcher wakes on when it does not know
// the curve (no CurvePacer): at most this much send lag, and several hits
// a wake-up at high rates.
const wakeQuantum = 250 * time.Microsecond

// maxBatchWait is the longest a due hit waits for later hits, so that one
// wake-up of the dispatcher sends them together: every wake-up costs the
// same (a timer, a poll, the scheduler leaving and entering idle, the
// connections' replies coming back in their own wake-up) whether it sends
// one hit or ten. batchHits is how many hits a wake-up aims for: at high
// rates the wait is shorter (batchHits ÷ rate), since there a wake-up is
// cheap per hit already and a long batch only adds lag. (Measured at
// 5,000/s on a 2-core VM: a 500 µs wait, 3 hits a wake-up, cost about
// 15 % less CPU than 250 µs, 2 hits, but its p99 send lag was 0.64 to
// 1.6 ms against 0.42 to 0.45 ms: a process idle that long wakes late.)
const (
	maxBatchWait = 250 * time.Microsecond
	batchHits    = 8
)

// batchWait is how long the first hit of a batch may wait at this rate.
func batchWait(rate float64) time.Duration {
	if rate <= 0 {
		return maxBatchWait
	}
	return min(maxBatchWait, time.Duration(batchHits/rate*1e9))
}

// maxBatchScan bounds how many due times one wake-up looks ahead.
const maxBatchScan = 64

// wakeAt is when to wake for hit first, due at firstDue: the due time of
// the last hit due within wait of it, so that one wake-up sends them all,
// none of them early and none more than wait late. A hit with no other
// due within wait (a low rate) is woken for at its own due time: the
// dispatcher wakes about once a hit below 1 ÷ wait hits a second, and
// about once per wait above it, never on an idle grid. due gives hit i's
// due time on the same clock as firstDue (ok false past the curve's end).
func wakeAt(due func(i uint64) (time.Duration, bool), first uint64, firstDue, wait time.Duration) time.Duration {
	at := firstDue
	for i := first + 1; i <= first+maxBatchScan; i++ {
		d, ok := due(i)
		if !ok || d > firstDue+wait {
			break
		}
		at = max(at, d)
	}
	return at
}

// wakeFor is when the dispatcher wakes for hit h, due at elapsed time at.
func (e *fastEngine) wakeFor(h uint64, at time.Duration) time.Duration {
	if e.curve == nil {
		return (at + wakeQuantum - 1) / wakeQuantum * wakeQuantum
	}
	c := e.curve
	return wakeAt(func(i uint64) (time.Duration, bool) {
		d, ok := c.Due(i)
		return d - c.Offset, ok
	}, h, at, batchWait(c.Rate(at)))
}

func (e *fastEngine) dispatch(p vegeta.Pacer, du time.Duration) {
	began := e.began
	if began.IsZero() {
		began = time.Now()
	}
	sl := newSleeper()
	defer sl.close()
	var backlogSince time.Duration // when hits last found no queue ahead of them
	for hits := uint64(0); ; {
		if e.stopped.Load() {
			return
		}
		elapsed := time.Since(began)
		if du > 0 && elapsed > du {
			return
		}
		wait, stop := p.Pace(elapsed, hits)
		if stop || e.stopped.Load() {
			return
		}
		if wait > 0 {
			sl.sleep(e.wakeFor(hits, elapsed+wait) - time.Since(began))
			continue
		}
		j := fastJob{seq: hits, ep: int32(e.tgt.pick())}
		hits++
		if len(e.work) == 0 {
			backlogSince = elapsed
		}
		if e.idle.Add(-1) >= 0 {
			j.claimed = true
			e.work <- j
			continue
		}
		e.idle.Add(1)
		if n := e.conns.Load(); n < e.maxConns {
			// No connection is idle. If the dispatcher is on time, the
			// target is holding them: open another (the open model). If the
			// hit is already late by growLag, this process is short of
			// CPU and its connections are waiting to run, not waiting for
			// the target: another one would only add work, so the hit
			// waits for the next free connection, unless the queue is not
			// draining.
			behind := false
			if e.curve != nil && len(e.work) < queueLen/2 {
				if due, ok := e.curve.Due(j.seq); ok {
					behind = elapsed+e.curve.Offset-due > growLag
				}
			}
			if behind && len(e.work) > 0 && elapsed-backlogSince > e.drainTime() {
				// Hits have waited for a connection longer than the
				// connections take to come back: they are held by the
				// target, not by this process's scheduling, so the pool is
				// too small however late the dispatcher is.
				behind = false
			}
			// With no connection at all, nothing would ever take the hit
			// from the queue: a first hit that is late (this process
			// started short of CPU) still opens one, or it waits for the
			// next hit to open one (seconds, on a quiet curve).
			waiting := time.Duration(0)
			if len(e.work) > 0 {
				waiting = elapsed - backlogSince
			}
			if (!behind || n == 0) && n < e.needConns(elapsed, waiting) && e.dialing.Load() < maxDialing {
				e.conns.Add(1)
				e.dialing.Add(1)
				e.wg.Add(1)
				// The new connection takes the oldest waiting hit, and
				// this one waits in its place: hits queued while every
				// connection was held (a stall at the target) go first.
				// A claimed hit's claim stays in the queue, on this one.
				select {
				case old := <-e.work:
					j.claimed, old.claimed = old.claimed, false
					e.work <- j
					j = old
				default:
				}
				go e.serve(j)
				continue
			}
		}
		// The next connection to come free (or finish dialing) takes it;
		// at the bound, hits wait here and fall behind (Run reports it).
		e.work <- j
	}
}

// needConns is how many connections the current rate needs by Little's
// law (rate × latency, latency a moving average over recent requests),
// doubled, plus a floor. A connection is opened for a hit that finds none
// idle only below it: a target that slows raises the latency and so the
// bound (the open model), while a burst of hits after a stall of this
// process, whose connections are busy only because they have not run yet,
// does not open hundreds of connections that would slow it further. The
// average learns only from requests that come back: when the target
// stalls, none do, so the time hits have been waiting for a connection
// (waiting, once it outlasts drainTime: the connections are held by the
// target) counts as the latency, and the bound grows with the stall.
func (e *fastEngine) needConns(elapsed, waiting time.Duration) int64 {
	if e.curve == nil {
		return e.maxConns
	}
	lat := time.Duration(e.latency.Load())
	if waiting > e.drainTime() {
		lat = max(lat, waiting)
	}
	return minConns + int64(2*e.curve.Rate(elapsed)*lat.Seconds())
}

// drainTime is how long a backlog of hits may wait for connections before
// it counts as the target holding them: twice the recent latency, at least
// 10 ms (a stall of this process rarely lasts longer; the run's lag
// figures show it when it does).
func (e *fastEngine) drainTime() time.Duration {
	return max(10*time.Millisecond, 2*time.Duration(e.latency.Load()))
}

// minConns is the floor of needConns.
const minConns = 64

// Stop stops the dispatcher; requests in flight complete.
func (e *fastEngine) Stop() bool { return !e.stopped.Swap(true) }

// kill closes every connection and refuses new ones.
func (e *fastEngine) kill() {
	e.stopped.Store(true)
	e.dead.Store(true)
	e.live.Range(func(k, _ any) bool {
		k.(*fastConn).close()
		return true
	})
	if e.rt != nil {
		e.rt.kill()
	}
}

// release takes back a result Run has finished with.
func (e *fastEngine) release(r *vegeta.Result) {
	*r = vegeta.Result{Body: r.Body[:0]}
	e.pool.Put(r)
}

func (e *fastEngine) openConns() int64 { return e.open.Load() }
func (e *fastEngine) peakConns() int64 { return e.peak.Load() }

// fastConn is one connection and the goroutine that owns it.
type fastConn struct {
	e      *fastEngine
	mu     sync.Mutex // guards nc against kill
	nc     net.Conn
	br     *bufio.Reader // reads io
	io     fastIO
	reused bool     // at least one response was read on nc
	fresh  bool     // counted in dialing until its first dial ends
	chk    *checker // scans the body being read for its body_contains text; nil: no scan
	scan   bodyScan
	redir  bool   // the response read is a redirect to follow, to loc
	loc    []byte // its Location
}

func (c *fastConn) close() {
	c.mu.Lock()
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
		c.e.open.Add(-1)
	}
	c.mu.Unlock()
}

func (e *fastEngine) serve(j fastJob) {
	defer e.wg.Done()
	defer e.conns.Add(-1)
	c := &fastConn{e: e, fresh: true}
	c.br = bufio.NewReaderSize(&c.io, 8<<10)
	e.live.Store(c, struct{}{})
	defer e.live.Delete(c)
	defer c.close()
	for {
		e.results <- c.do(j)
		for {
			e.idle.Add(1)
			var ok bool
			if j, ok = <-e.work; !ok {
				e.idle.Add(-1)
				return
			}
			if !j.claimed {
				e.idle.Add(-1)
			}
			if !e.stopped.Load() {
				break
			}
			// Stopped (Ctrl-C, an abort rule): a hit still waiting for a
			// connection was never sent, and is not sent now (seconds
			// later, when a held connection comes free, its reply would
			// outlast the drain): it is not in flight.
			e.tgt.uncount(int(j.ep))
		}
	}
}

func (c *fastConn) dial() error {
	if c.fresh {
		c.fresh = false
		defer c.e.dialing.Add(-1)
	}
	if c.e.dead.Load() {
		return errHardStop
	}
	nc, err := c.e.dialer.Dial("tcp", c.e.addr)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.e.dead.Load() {
		c.mu.Unlock()
		nc.Close()
		return errHardStop
	}
	c.nc = nc
	c.mu.Unlock()
	c.io.reset(nc)
	c.br.Reset(&c.io)
	c.reused = false
	n := c.e.open.Add(1)
	for p := c.e.peak.Load(); n > p && !c.e.peak.CompareAndSwap(p, n); p = c.e.peak.Load() {
	}
	return nil
}

// do sends hit j and reads its response into a result.
func (c *fastConn) do(j fastJob) *vegeta.Result {
	e := c.e
	ep := &e.eps[j.ep]
	r := e.pool.Get().(*vegeta.Result)
	r.Seq, r.Method, r.URL, r.BytesOut = j.seq, ep.method, ep.url, ep.bodyLen
	r.Timestamp = time.Now()
	c.chk, c.scan = nil, bodyScan{}
	if ep.check.scansBody() {
		c.chk = ep.check
	}
	c.io.got = 0
	err := c.roundTrip(r, ep)
	if err != nil && c.reused && ep.replayable && c.io.got == 0 && retryable(err) {
		// The server closed an idle keep-alive connection as we sent
		// (as net/http does, try once more on a new one): only when not
		// one byte of a response came back. A reset after the status
		// line or part of the body is the server's fault, counted.
		c.close()
		r.Code, r.BytesIn, r.Body, r.Headers = 0, 0, r.Body[:0], nil
		c.scan = bodyScan{}
		err = c.roundTrip(r, ep)
	}
	var ferr error
	if err == nil && c.redir {
		ferr = c.follow(r, ep)
	}
	r.Latency = time.Since(r.Timestamp)
	// A racy moving average is fine: a lost update is one sample.
	l := e.latency.Load()
	e.latency.Store(l + (int64(r.Latency)-l)/32)
	if err != nil {
		// As with vegeta on net/http: a failed exchange has no status,
		// even if a status line came before the failure.
		c.close()
		r.Code = 0
		r.Error = ep.errorPfx + err.Error()
	} else if ferr != nil {
		// The connection is fine: the redirect's own requests failed.
		r.Code = 0
		r.Error = ep.errorPfx + ferr.Error()
	} else {
		ep.check.judge(r, &c.scan)
	}
	return r
}

// follow follows the redirect c has just read (c.loc) as vegeta's engine
// does: net/http's client sends the further requests, and its redirect
// rules apply (method, body and headers carried or dropped, relative
// locations), with vegeta's limit (Redirects: past e.redirects the hit is
// an error, "stopped after N redirects"). The result becomes the last
// response's: status, headers, body kept and checked; its bytes in add up
// over the chain and its latency covers it (as the vegeta engine's
// transport meters them). Only redirects take this path.
func (c *fastConn) follow(r *vegeta.Result, ep *fastEndpoint) error {
	e := c.e
	req, err := ep.target.Request()
	if err != nil {
		return err
	}
	code := int(r.Code)
	first := &http.Response{
		Status: strconv.Itoa(code) + " " + http.StatusText(code), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Location": {string(c.loc)}}, Body: http.NoBody,
	}
	hop := &firstHop{resp: first, next: e.rt}
	client := &http.Client{
		Transport:     hop,
		CheckRedirect: checkRedirect(e.redirects, e.confirm),
		// What is left of the hit's timeout; a Timeout of 0 would be none.
		Timeout: max(time.Until(r.Timestamp.Add(e.timeout)), time.Nanosecond),
	}
	resp, err := client.Do(req)
	if err != nil {
		// The request is in the result's error already (ep.errorPfx).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	r.Code, r.Error, r.Body, r.Headers = uint16(resp.StatusCode), "", r.Body[:0], nil
	if r.Code < 200 || r.Code >= 400 {
		r.Error = resp.Status
	}
	if e.keepHeaders {
		r.Headers = resp.Header
	}
	c.scan = bodyScan{}
	buf := make([]byte, 8<<10)
	defer func() { r.BytesIn += hop.n }()
	for {
		n, err := resp.Body.Read(buf)
		b := buf[:n]
		if c.chk != nil {
			c.chk.scan(&c.scan, b)
		}
		if max := e.maxBody; max < 0 || int64(len(r.Body)) < max {
			if max > 0 {
				b = b[:min(int64(n), max-int64(len(r.Body)))]
			}
			r.Body = append(r.Body, b...)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// checkRedirect is vegeta's redirect policy (vegeta.Redirects): follow up
// to n redirects, stop with an error past them; vegeta.NoFollow: the 3xx
// is the response.
func checkRedirect(n int, confirmed []string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		switch {
		case n == vegeta.NoFollow:
			return http.ErrUseLastResponse
		case n < len(via):
			return fmt.Errorf("stopped after %d redirects", n)
		}
		return allowedRedirect(req, confirmed)
	}
}

// allowedRedirect refuses a redirect to a host the run may not send to: not
// loopback and not confirmed (--confirm). A staging site that redirects
// to production, or an image to a CDN, does not take the load there.
func allowedRedirect(req *http.Request, confirmed []string) error {
	host := req.URL.Hostname()
	if err := CheckConfirmed([]string{host}, confirmed); err != nil {
		return fmt.Errorf("redirected to %s, which is not loopback: not followed (--confirm %s allows it)", host, host)
	}
	return nil
}

// firstHop answers a client's first request with the response the fast
// engine has read already, and sends the rest with next, counting the
// bytes read of their bodies in n.
type firstHop struct {
	resp *http.Response
	next http.RoundTripper
	n    uint64
}

func (h *firstHop) RoundTrip(req *http.Request) (*http.Response, error) {
	if resp := h.resp; resp != nil {
		h.resp = nil
		resp.Request = req
		return resp, nil
	}
	resp, err := h.next.RoundTrip(req)
	if err == nil && resp.Body != nil {
		resp.Body = &countedBody{ReadCloser: resp.Body, n: &h.n}
	}
	return resp, err
}

// countedBody adds the bytes read of a body to n.
type countedBody struct {
	io.ReadCloser
	n *uint64
}

func (b *countedBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	*b.n += uint64(k)
	return k, err
}

// isRedirect says whether net/http's client follows a response with this
// status (given a Location).
func isRedirect(code uint16) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// errNoResponse marks a connection closed before any byte of a response.
var errNoResponse = errors.New("EOF")

func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, errNoResponse) || strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func (c *fastConn) roundTrip(r *vegeta.Result, ep *fastEndpoint) error {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc == nil {
		if err := c.dial(); err != nil {
			return err
		}
		c.mu.Lock()
		nc = c.nc
		c.mu.Unlock()
	}
	if nc == nil {
		return errHardStop
	}
	deadline := r.Timestamp.Add(c.e.timeout)
	if err := nc.SetDeadline(deadline); err != nil {
		return err
	}
	if c.br.Buffered() == 0 && len(ep.req) <= maxLateWrite {
		c.io.send = ep.req // written by the first read (fastIO)
	} else if _, err := nc.Write(ep.req); err != nil {
		return err
	}
	keep, err := c.readResponse(r, ep)
	c.io.send = nil
	if err != nil {
		return err
	}
	c.reused = true
	if !keep {
		c.close()
	}
	return nil
}

// readResponse parses the status line and the headers that frame the body,
// reads the body to its end counting bytes (keeping up to maxBody), and
// says whether the connection can carry another request.
func (c *fastConn) readResponse(r *vegeta.Result, ep *fastEndpoint) (keep bool, err error) {
	br := c.br
	var line []byte
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				if len(line) == 0 {
					return false, errNoResponse
				}
				return false, io.ErrUnexpectedEOF
			}
			if err == bufio.ErrBufferFull {
				return false, errors.New("net/http: HTTP/1.x transport connection broken: malformed HTTP response (status line too long)")
			}
			return false, err
		}
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return false, fmt.Errorf("net/http: HTTP/1.x transport connection broken: malformed HTTP response %q", bytes.TrimRight(line, "\r\n"))
		}
		code, ok := parseCode(line[9:12])
		if !ok {
			return false, fmt.Errorf("net/http: HTTP/1.x transport connection broken: malformed HTTP status code %q", line[9:12])
		}
		r.Code = code
		keep = line[7] == '1'
		c.redir = false
		follow := c.e.rt != nil && isRedirect(code)
		status := bytes.TrimRight(line[9:], "\r\n")
		if code < 200 || code >= 400 {
			r.Error = string(status)
		}
		length, chunked := int64(-1), false
		if c.e.keepHeaders {
			r.Headers = http.Header{}
		}
		for {
			line, err = br.ReadSlice('\n')
			if err != nil {
				if err == io.EOF {
					return false, io.ErrUnexpectedEOF
				}
				if err == bufio.ErrBufferFull {
					return false, errors.New("net/http: HTTP/1.x transport connection broken: malformed MIME header line (too long)")
				}
				return false, err
			}
			h := bytes.TrimRight(line, "\r\n")
			if len(h) == 0 {
				break
			}
			k, v, ok := bytes.Cut(h, []byte(":"))
			if !ok {
				return false, fmt.Errorf("net/http: HTTP/1.x transport connection broken: malformed MIME header line: %q", h)
			}
			v = bytes.TrimSpace(v)
			switch {
			case asciiEqualFold(k, "content-length"):
				n, perr := strconv.ParseInt(string(v), 10, 64)
				if perr != nil || n < 0 {
					return false, fmt.Errorf("net/http: HTTP/1.x transport connection broken: bad Content-Length %q", v)
				}
				length = n
			case asciiEqualFold(k, "transfer-encoding"):
				if !asciiEqualFold(v, "chunked") {
					return false, fmt.Errorf("net/http: HTTP/1.x transport connection broken: unsupported transfer encoding: %q", v)
				}
				chunked = true
			case asciiEqualFold(k, "connection"):
				if asciiEqualFold(v, "close") {
					keep = false
				} else if asciiEqualFold(v, "keep-alive") {
					keep = true
				}
			case follow && !c.redir && len(v) > 0 && asciiEqualFold(k, "location"):
				c.loc = append(c.loc[:0], v...)
				c.redir = true
			}
			if r.Headers != nil {
				r.Headers.Add(string(k), string(v))
			}
		}
		if code >= 100 && code < 200 && code != 101 {
			// An interim response (100 Continue, 103 Early Hints): the
			// real one follows, and it alone is the result.
			r.Error, r.Headers = "", nil
			continue
		}
		if ep.head || code == 204 || code == 304 {
			return keep, nil
		}
		switch {
		case chunked:
			return keep, c.readChunked(r)
		case length >= 0:
			return keep, c.readBody(r, length)
		default:
			// Until the server closes.
			err := c.readBody(r, -1)
			return false, err
		}
	}
}

// readBody reads n bytes of body (n < 0: up to EOF).
func (c *fastConn) readBody(r *vegeta.Result, n int64) error {
	if c.chk != nil {
		return c.readBodyScan(r, n)
	}
	br := c.br
	if max := c.e.maxBody; max != 0 {
		for n != 0 && (max < 0 || int64(len(r.Body)) < max) {
			buf, _ := br.Peek(1)
			if len(buf) == 0 {
				_, err := br.Peek(1)
				if err == io.EOF && n < 0 {
					return nil
				}
				if err == io.EOF {
					return io.ErrUnexpectedEOF
				}
				return err
			}
			avail := br.Buffered()
			take := int64(avail)
			if n >= 0 {
				take = min(take, n)
			}
			if max > 0 {
				take = min(take, max-int64(len(r.Body)))
			}
			b, _ := br.Peek(int(take))
			r.Body = append(r.Body, b...)
			br.Discard(int(take))
			r.BytesIn += uint64(take)
			if n > 0 {
				n -= take
			}
		}
	}
	if n < 0 {
		k, err := io.Copy(io.Discard, br)
		r.BytesIn += uint64(k)
		return err
	}
	for n > 0 {
		d, err := br.Discard(int(min(n, 1<<30)))
		r.BytesIn += uint64(d)
		n -= int64(d)
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readBodyScan is readBody for a body its endpoint's checks must see:
// each buffered stretch is scanned, kept up to maxBody, then dropped.
func (c *fastConn) readBodyScan(r *vegeta.Result, n int64) error {
	br, max := c.br, c.e.maxBody
	for n != 0 {
		if _, err := br.Peek(1); err != nil {
			if err == io.EOF && n < 0 {
				return nil
			}
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		take := int64(br.Buffered())
		if n >= 0 {
			take = min(take, n)
		}
		b, _ := br.Peek(int(take))
		c.chk.scan(&c.scan, b)
		if keep := int64(len(r.Body)); max < 0 || keep < max {
			if max > 0 {
				keep = min(take, max-keep)
			} else {
				keep = take
			}
			r.Body = append(r.Body, b[:keep]...)
		}
		br.Discard(int(take))
		r.BytesIn += uint64(take)
		if n > 0 {
			n -= take
		}
	}
	return nil
}

// readChunked reads a chunked body and its trailer.
func (c *fastConn) readChunked(r *vegeta.Result) error {
	br := c.br
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		sz := bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(sz, ';'); i >= 0 {
			sz = sz[:i]
		}
		n, perr := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
		if perr != nil || n < 0 {
			return errors.New("net/http: HTTP/1.x transport connection broken: malformed chunked encoding")
		}
		if n == 0 {
			break
		}
		if err := c.readBody(r, n); err != nil {
			return err
		}
		if _, err := br.Discard(2); err != nil {
			return io.ErrUnexpectedEOF
		}
	}
	for { // trailer
		line, err := br.ReadSlice('\n')
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

func parseCode(b []byte) (uint16, bool) {
	if len(b) != 3 {
		return 0, false
	}
	var n uint16
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint16(c-'0')
	}
	return n, n >= 100
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
