package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// transport is the HTTP transport a run sends with: keep-alive connections
// up to a bound, counted as they open and close so a run can see when it is
// short of connections, closable all at once on a hard stop, and metering
// the bytes of each response body (vegeta keeps only what it is allowed to
// read, at most Options.MaxBody, so without this a run would not know how
// many bytes came back).
type transport struct {
	base  *http.Transport
	conns sync.Map // *meteredConn → struct{}
	open  atomic.Int64
	peak  atomic.Int64
	dead  atomic.Bool

	checks *checks // body_contains checks scan each body as it is read; nil: none

	mu    sync.Mutex
	bytes map[uint64]bodyMeter // X-Vegeta-Seq → what its body held
}

// bodyMeter is what the transport saw of a hit's body.
type bodyMeter struct {
	n     uint64 // bytes read, over all responses (redirects add up)
	found bool   // the last response's body held the body_contains text
}

var errHardStop = errors.New("run stopped")

func newTransport(o *Options) *transport {
	t := &transport{bytes: map[uint64]bodyMeter{}}
	d := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	t.base = &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if t.dead.Load() {
				return nil, errHardStop
			}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			mc := &meteredConn{Conn: c, t: t}
			t.conns.Store(mc, struct{}{})
			n := t.open.Add(1)
			for p := t.peak.Load(); n > p && !t.peak.CompareAndSwap(p, n); p = t.peak.Load() {
			}
			return mc, nil
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.Insecure}, //nolint:gosec // only when asked
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: o.Connections,
		MaxConnsPerHost:     o.MaxConnections,
		DisableKeepAlives:   o.DisableKeepAlive,
		ForceAttemptHTTP2:   !o.DisableHTTP2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: o.Timeout,
	}
	if o.DisableHTTP2 {
		t.base.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return t
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	seq, perr := strconv.ParseUint(req.Header.Get("X-Vegeta-Seq"), 10, 64)
	if perr != nil {
		return resp, nil
	}
	mb := &meteredBody{ReadCloser: resp.Body, t: t, seq: seq}
	if t.checks != nil {
		// The checks are the target's: after a redirect, the first request's.
		first := req
		for first.Response != nil && first.Response.Request != nil {
			first = first.Response.Request
		}
		if c := t.checks.byReq[first.Method+" "+first.URL.String()]; c.scansBody() {
			mb.chk = c
		}
	}
	resp.Body = mb
	return resp, nil
}

// takeBytes returns and forgets what was metered of hit seq's body.
func (t *transport) takeBytes(seq uint64) (bodyMeter, bool) {
	t.mu.Lock()
	m, ok := t.bytes[seq]
	if ok {
		delete(t.bytes, seq)
	}
	t.mu.Unlock()
	return m, ok
}

func (t *transport) openConns() int64 { return t.open.Load() }
func (t *transport) peakConns() int64 { return t.peak.Load() }

// kill closes every connection and refuses new ones: requests in flight
// fail at once.
func (t *transport) kill() {
	t.dead.Store(true)
	t.conns.Range(func(k, _ any) bool {
		k.(*meteredConn).Close()
		return true
	})
}

type meteredConn struct {
	net.Conn
	t    *transport
	once sync.Once
}

func (c *meteredConn) Close() error {
	c.once.Do(func() {
		c.t.conns.Delete(c)
		c.t.open.Add(-1)
	})
	return c.Conn.Close()
}

type meteredBody struct {
	io.ReadCloser
	t    *transport
	seq  uint64
	n    uint64
	done bool
	chk  *checker // scans the body for its body_contains text; nil: no scan
	scan bodyScan
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += uint64(n)
	if b.chk != nil {
		b.chk.scan(&b.scan, p[:n])
	}
	return n, err
}

func (b *meteredBody) Close() error {
	if !b.done {
		b.done = true
		b.t.mu.Lock()
		m := b.t.bytes[b.seq]
		m.n += b.n // redirects add up
		m.found = b.scan.found
		b.t.bytes[b.seq] = m
		b.t.mu.Unlock()
	}
	return b.ReadCloser.Close()
}
