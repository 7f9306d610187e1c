package scenarios

import (
	"strconv"
	"strings"
)

// The kinds of failed request ErrorKind tells apart. An HTTP error status is
// "http " and its code ("http 503"); the rest are transport failures.
const (
	ErrRefused   = "refused"   // nothing listening: connection refused
	ErrReset     = "reset"     // connection reset or broken pipe
	ErrTimeout   = "timeout"   // the client gave up waiting
	ErrClosed    = "closed"    // the server closed the connection without answering
	ErrTruncated = "truncated" // the body was cut short
	ErrGarbage   = "garbage"   // not a valid HTTP response
	ErrDNS       = "dns"       // the host name did not resolve
	ErrTLS       = "tls"       // TLS handshake or certificate failure
	ErrRedirects = "redirects" // too many redirects
	ErrFDLimit   = "fd limit"  // the generator ran out of file descriptors
	ErrNoPorts   = "no ports"  // the generator ran out of local ports
	ErrOther     = "other"
)

// The checks an endpoint may state under expect (see Expect), in the order
// a response is judged by them. A response that fails one is a failed
// request of kind "check " and the check's name: "check status", "check
// min_bytes", "check body_contains" or "check max_latency" (four kinds, so
// a label such as Prometheus's kind stays small); its Result.Error says
// what was wrong ("check status: 301 not in [200]").
const (
	CheckStatus       = "status"
	CheckMinBytes     = "min_bytes"
	CheckBodyContains = "body_contains"
	CheckMaxLatency   = "max_latency"
)

// ErrCheckPrefix starts the error kind and the Result.Error text of a
// response that failed a check.
const ErrCheckPrefix = "check "

var checkKinds = map[string]string{
	CheckStatus:       ErrCheckPrefix + CheckStatus,
	CheckMinBytes:     ErrCheckPrefix + CheckMinBytes,
	CheckBodyContains: ErrCheckPrefix + CheckBodyContains,
	CheckMaxLatency:   ErrCheckPrefix + CheckMaxLatency,
}

// CheckError is the Result.Error text of a response that failed check
// name: "check NAME: detail".
func CheckError(name, detail string) string { return ErrCheckPrefix + name + ": " + detail }

// CheckKind returns the error kind of a Result.Error text written by
// CheckError ("check body_contains"), and false for any other text.
func CheckKind(err string) (string, bool) {
	rest, ok := strings.CutPrefix(err, ErrCheckPrefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, ":")
	k, ok := checkKinds[name]
	return k, ok
}

// ErrorKind classifies a result by its status code and vegeta error text:
// "" for success, "http 503" for an HTTP error status, "check NAME" for a
// response that failed a check (see CheckKind), otherwise one of the Err*
// kinds. Attack and report count failures by this one definition.
// "fd limit" and "no ports" are failures of the generator, not the target.
func ErrorKind(code uint16, err string) string {
	if err == "" {
		if code != 0 && (code < 200 || code >= 400) {
			return "http " + strconv.Itoa(int(code))
		}
		return ""
	}
	if code != 0 {
		if k, ok := CheckKind(err); ok {
			return k
		}
		return "http " + strconv.Itoa(int(code))
	}
	e := strings.ToLower(stripRequest(err))
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(e, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("too many open files"):
		return ErrFDLimit
	case has("cannot assign requested address", "address already in use"):
		return ErrNoPorts
	case has("connection refused"):
		return ErrRefused
	case has("no such host"): // before the rest: the host name is in the text
		return ErrDNS
	case has("timeout", "deadline exceeded"):
		return ErrTimeout
	case has("connection reset", "broken pipe"):
		return ErrReset
	case has("malformed", "bad status", "invalid", "unsupported transfer encoding", "frame", "protocol error"):
		return ErrGarbage
	case has("readlooppeekfaillocked"):
		// net/http: the server sent bytes before it was asked (a banner
		// of another protocol, SSH or SMTP), then closed.
		return ErrGarbage
	case has("unexpected eof"):
		return ErrTruncated
	case strings.HasSuffix(e, ": eof") || e == "eof" || has("server closed", "connection closed", "use of closed network connection"):
		return ErrClosed
	case has("lookup "):
		return ErrDNS
	case has("tls:", "x509:", "certificate"):
		return ErrTLS
	case has("stopped after", "redirect"):
		return ErrRedirects
	}
	return ErrOther
}

// stripRequest drops the request net/http puts before a client error
// (url.Error's `Get "http://host/path": ` prefix), so that the kind is read
// from the error alone: a path such as /session-timeout or /certificates
// must not make a reset a timeout or a TLS failure.
func stripRequest(err string) string {
	// The operation is the method, as url.Error prints it ("Get", "Post").
	i := strings.IndexByte(err, ' ')
	if i <= 0 || i+1 >= len(err) || err[i+1] != '"' {
		return err
	}
	for _, c := range err[:i] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return err
		}
	}
	q, qerr := strconv.QuotedPrefix(err[i+1:])
	if qerr != nil {
		return err
	}
	rest, ok := strings.CutPrefix(err[i+1+len(q):], ": ")
	if !ok {
		return err
	}
	return rest
}
