package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// PreflightTimeout bounds the pre-flight request to each host: connecting,
// the TLS handshake and the answer's status line.
const PreflightTimeout = 5 * time.Second

// PreflightHeader marks the pre-flight request, so that a target's logs
// (or a test's server) can tell it from the load.
const PreflightHeader = "X-Flashcrowd-Preflight"

// ErrUnreachable is wrapped by Preflight's error when a host cannot be
// reached at all: nothing listens, its name does not resolve, the TLS
// handshake fails or the connection cannot be made in PreflightTimeout.
var ErrUnreachable = errors.New("target unreachable")

// Preflight sends one HEAD request to each distinct host (scheme, host and
// port) o would send to, before the run, so that a dead target is reported
// in a second as what it is instead of as a host that failed every request
// of the curve. The request is the first of the mix's targets on that
// host, with its headers and PreflightHeader; it follows no redirects, and
// it is not part of any run's results.
//
// Any HTTP answer, whatever its status (a 503 too), means the host is up.
// An error wrapping ErrUnreachable names the host and what failed; a host
// that accepted the connection but did not answer in PreflightTimeout, or
// answered with something other than HTTP, is up but odd: a warning, and
// the run goes on. Cancelling ctx returns ctx.Err().
func Preflight(ctx context.Context, o Options) (warnings []string, err error) {
	if o.Scenario == nil {
		return nil, errors.New("pre-flight: no scenario")
	}
	eps := o.Scenario.Endpoints
	if len(eps) == 0 {
		eps = scenarios.DefaultEndpoints()
	}
	tgt, err := NewMixTargeter(o.Target, eps, o.Header, 0, 1)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range tgt.Targets() {
		u, err := url.Parse(t.URL)
		if err != nil {
			return nil, fmt.Errorf("pre-flight: %w", err)
		}
		key := u.Scheme + "://" + hostPort(u)
		if seen[key] {
			continue
		}
		seen[key] = true
		warn, err := preflightOne(ctx, o, t.URL, t.Header)
		if err != nil {
			return warnings, err
		}
		if warn != "" {
			warnings = append(warnings, warn)
		}
	}
	return warnings, nil
}

// preflightHook, when set (by tests), adjusts the pre-flight transport and
// dialer: a resolver of the test's own, no proxy.
var preflightHook func(*http.Transport, *net.Dialer)

// hostPort is u's host with its port, the scheme's default if none given.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func preflightOne(ctx context.Context, o Options, rawURL string, header http.Header) (warning string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("pre-flight: %w", err)
	}
	hp := hostPort(u)
	var connected atomic.Bool
	d := &net.Dialer{Timeout: PreflightTimeout}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err == nil {
				connected.Store(true)
			}
			return c, err
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.Insecure}, //nolint:gosec // only when asked
		TLSHandshakeTimeout: PreflightTimeout,
		DisableKeepAlives:   true,
		ForceAttemptHTTP2:   !o.DisableHTTP2,
	}
	if preflightHook != nil {
		preflightHook(tr, d)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       PreflightTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("pre-flight: %w", err)
	}
	for k, vs := range header {
		if k == "Content-Type" || k == "Content-Length" {
			continue
		}
		req.Header[k] = append([]string(nil), vs...)
	}
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	req.Header.Set(PreflightHeader, "1")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		return "", nil // any status: the host is up
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	switch kind := scenarios.ErrorKind(0, err.Error()); {
	case u.Scheme == "https" && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "", fmt.Errorf("%w: %s answers plain HTTP, not TLS: give an http:// URL", ErrUnreachable, hp)
	case kind == scenarios.ErrRefused:
		return "", fmt.Errorf("%w: nothing answered at %s (connection refused): is the server running?", ErrUnreachable, hp)
	case kind == scenarios.ErrDNS:
		why := unwrapURL(err).Error()
		var de *net.DNSError
		if errors.As(err, &de) {
			why = de.Err
		}
		return "", fmt.Errorf("%w: the host name %s does not resolve (%s): check the URL", ErrUnreachable, u.Hostname(), why)
	case kind == scenarios.ErrTLS:
		hint := ""
		if !o.Insecure {
			hint = " (--insecure skips certificate checks for a test host)"
		}
		return "", fmt.Errorf("%w: the TLS handshake with %s failed: %v%s", ErrUnreachable, hp, unwrapURL(err), hint)
	case kind == scenarios.ErrTimeout && !connected.Load():
		return "", fmt.Errorf("%w: nothing answered at %s within %s (no connection): is the host up and the port open?", ErrUnreachable, hp, PreflightTimeout)
	case kind == scenarios.ErrTimeout:
		return fmt.Sprintf("%s accepted a connection but did not answer a pre-flight request within %s: sending anyway", hp, PreflightTimeout), nil
	case kind == scenarios.ErrFDLimit || kind == scenarios.ErrNoPorts:
		return "", fmt.Errorf("pre-flight request to %s: %v", hp, unwrapURL(err))
	case !connected.Load():
		return "", fmt.Errorf("%w: could not connect to %s: %v", ErrUnreachable, hp, unwrapURL(err))
	case kind == scenarios.ErrGarbage:
		return fmt.Sprintf("%s answered the pre-flight request with something other than HTTP (%v): is the scheme (http or https) right? sending anyway", hp, unwrapURL(err)), nil
	}
	return fmt.Sprintf("%s accepted a connection but the pre-flight request failed (%v): sending anyway", hp, unwrapURL(err)), nil
}

// unwrapURL drops url.Error's `Head "http://…": ` prefix.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
