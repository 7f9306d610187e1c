package attack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// nxdomainServer is a DNS server on loopback that answers every query
// "no such name" (RCODE 3), echoing the question.
func nxdomainServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			resp[2] = 0x80 | (buf[2] & 0x79) // QR, opcode and RD kept
			resp[3] = 0x80 | 3               // RA, NXDOMAIN
			for i := 6; i < 12; i++ {        // no answers, authority or additional records
				resp[i] = 0
			}
			pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String()
}

// TestPreflightDNS: a target whose name does not resolve is unreachable,
// and the error names the host. The name is looked up with a DNS server of
// the test's own on loopback (no query leaves the machine).
func TestPreflightDNS(t *testing.T) {
	dns := nxdomainServer(t)
	preflightHook = func(tr *http.Transport, d *net.Dialer) {
		tr.Proxy = nil
		d.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "udp", dns)
		}}
	}
	t.Cleanup(func() { preflightHook = nil })
	u, _ := url.Parse("http://no-such-host.example.com:8080")
	o := Options{Scenario: scenario(t, "hold 1/s for 1s"), Target: u}
	_, err := Preflight(context.Background(), o)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "the host name no-such-host.example.com does not resolve (no such host): check the URL") {
		t.Errorf("err = %v; want ErrUnreachable naming the host", err)
	}
}

// TestPreflightUp: any HTTP answer is up, a 503 or a redirect (not
// followed) alike; nothing is sent but the one HEAD request.
func TestPreflightUp(t *testing.T) {
	for _, code := range []int{200, 302, 404, 503} {
		var got []string
		u := server(t, func(w http.ResponseWriter, r *http.Request) {
			got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get(PreflightHeader))
			if code == 302 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(code)
		})
		eps := []scenarios.Endpoint{{Name: "a", URL: "/a", Weight: 1}, {Name: "b", URL: "/b", Weight: 8}}
		warns, err := Preflight(context.Background(), Options{Scenario: scenario(t, "hold 1/s for 1s", eps...), Target: u})
		if err != nil || len(warns) != 0 || strings.Join(got, ",") != "HEAD /a 1" {
			t.Errorf("%d: err %v, warnings %q, server saw %q", code, err, warns, got)
		}
	}
}
