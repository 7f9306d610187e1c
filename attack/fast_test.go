package attack

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loopReader repeats b forever.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

// TestFastReadResponse: the fast engine's parser frames bodies by
// Content-Length, chunks and connection close, keeps what MaxBody allows,
// and tells garbage and truncation apart as net/http would (by the error
// text scenarios.ErrorKind reads).
func TestFastReadResponse(t *testing.T) {
	cases := []struct {
		name, in   string
		maxBody    int64
		code       uint16
		bytesIn    uint64
		body, err  string
		keep, head bool
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", code: 200, bytesIn: 5, keep: true},
		{name: "kept", in: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", maxBody: 3, code: 200, bytesIn: 5, body: "hel", keep: true},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n", maxBody: -1, code: 200, bytesIn: 5, body: "abcde", keep: true},
		{name: "close", in: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy", code: 503, bytesIn: 4},
		{name: "until EOF", in: "HTTP/1.0 200 OK\r\n\r\nabcdef", code: 200, bytesIn: 6},
		{name: "interim", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", code: 204, keep: true},
		{name: "early hints", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", code: 200, bytesIn: 2, keep: true},
		{name: "head", in: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head: true, code: 200, keep: true},
		{name: "garbage", in: "\x16\x03\x01 this is not HTTP\r\n\r\n", err: "malformed HTTP response"},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", err: "bad Content-Length"},
		{name: "truncated", in: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little", err: "unexpected EOF"},
		{name: "closed", in: "", err: "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &fastEngine{maxBody: tc.maxBody}
			c := &fastConn{e: e, br: bufio.NewReader(strings.NewReader(tc.in))}
			var r vegeta.Result
			keep, err := c.readResponse(&r, &fastEndpoint{head: tc.head})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if wantErr := tc.code < 200 || tc.code >= 400; err != nil || r.Code != tc.code || r.BytesIn != tc.bytesIn || string(r.Body) != tc.body || keep != tc.keep || (r.Error != "") != wantErr {
				t.Errorf("err %v, code %d, error %q, bytes in %d, body %q, keep %v", err, r.Code, r.Error, r.BytesIn, r.Body, keep)
			}
		})
	}
}

// BenchmarkFastReadResponse: parsing one small keep-alive response, as
// nginx sends it, from a buffered stream.
func BenchmarkFastReadResponse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 06:00:00 GMT\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
	e := &fastEngine{}
	c := &fastConn{e: e, br: bufio.NewReaderSize(&loopReader{b: bytes.Repeat(resp, 64)}, 8<<10)}
	ep := &fastEndpoint{}
	var r vegeta.Result
	b.ReportAllocs()
	for b.Loop() {
		r = vegeta.Result{}
		if _, err := c.readResponse(&r, ep); err != nil || r.Code != 200 {
			b.Fatal(err, r.Code)
		}
	}
}

// BenchmarkFastEncodeRequest: building an endpoint's request bytes, done
// once per endpoint per run (not per request).
func BenchmarkFastEncodeRequest(b *testing.B) {
	base, _ := url.Parse("http://127.0.0.1:8080")
	tgt, err := NewMixTargeter(base, pressMix(b), http.Header{"X-Run": {"bench"}}, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	o := &Options{Timeout: time.Second, MaxConnections: 10, MaxWorkers: 10}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newFastEngine(o, tgt, nil); err != nil {
			b.Fatal(err)
		}
	}
}
