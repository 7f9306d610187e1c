package scenarios

import "testing"

func TestErrorKind(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code uint16
		err  string
		want string
	}{
		{200, "", ""},
		{503, "", "http 503"},
		{0, `Get "http://127.0.0.1:8/ok": dial tcp 127.0.0.1:1: connect: connection refused`, ErrRefused},
		{0, `Get "http://127.0.0.1:8/ok": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, ErrTimeout},
		{0, `Get "http://127.0.0.1:8/ok": read tcp 127.0.0.1:5->127.0.0.1:8: read: connection reset by peer`, ErrReset},
		{0, `Get "http://127.0.0.1:8/eof": EOF`, ErrClosed},
		{0, `Get "http://127.0.0.1:8/ok": x509: certificate signed by unknown authority`, ErrTLS},
		{0, `Get "http://127.0.0.1:8/ok": stopped after 10 redirects`, ErrRedirects},
		{0, "too many open files", ErrFDLimit},
		// The URL is not part of the error: words in a path or query must
		// not decide the kind.
		{0, `Get "http://127.0.0.1:8/session-timeout": read tcp 127.0.0.1:5->127.0.0.1:8: read: connection reset by peer`, ErrReset},
		{0, `Post "http://127.0.0.1:8/api/deadline?timeout=5s": EOF`, ErrClosed},
		{0, `Get "http://127.0.0.1:8/certificate/x509:/tls:": dial tcp 127.0.0.1:80: connect: connection refused`, ErrRefused},
		{0, `Get "http://127.0.0.1:8/redirect?to=%22timeout%22": net/http: HTTP/1.x transport connection broken: malformed HTTP response`, ErrGarbage},
		{0, `Head "http://127.0.0.1:44737/": readLoopPeekFailLocked: %!w(<nil>)`, ErrGarbage}, // a server that spoke first (a banner), as net/http words it
		{0, `Get "http://127.0.0.1:8/a\"b: timeout": unexpected EOF`, ErrTruncated},
		// Not a url.Error: read as it is.
		{0, "dial tcp: lookup timeout.invalid: no such host", ErrDNS},
		{0, `Get "unterminated: timeout`, ErrTimeout},
	} {
		if got := ErrorKind(c.code, c.err); got != c.want {
			t.Errorf("ErrorKind(%d, %q) = %q, want %q", c.code, c.err, got, c.want)
		}
	}
}
