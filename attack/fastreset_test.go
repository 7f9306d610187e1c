package attack

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// A server that resets every other connection's exchange after its status
// line, headers and part of the body: each of those is the server's fault,
// counted once, never sent again (a retry on a kept-alive connection is
// only for one closed before any byte of a response came back). Both
// engines count the same.
func TestResetMidResponseIsCounted(t *testing.T) {
	for _, engine := range []string{EngineFast, EngineVegeta} {
		t.Run(engine, func(t *testing.T) {
			var got, reset atomic.Int64
			u := server(t, func(w http.ResponseWriter, r *http.Request) {
				if got.Add(1)%2 == 0 {
					conn, buf, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Error(err)
						return
					}
					buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabcd")
					buf.Flush()
					conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
					conn.Close()
					reset.Add(1)
					return
				}
				w.Write([]byte("hello"))
			})
			c := curve(t, "hold 100/s for 3s")
			o := Options{Scenario: &scenarios.Scenario{Name: "t", Curve: c,
				Endpoints: []scenarios.Endpoint{{Name: "home", Method: "GET", URL: "/", Weight: 1, Class: scenarios.Page}}},
				Target: u, Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second, Engine: engine}
			if _, err := Run(context.Background(), context.Background(), o, nil); err != nil {
				t.Fatal(err)
			}
			rs := readResults(t, filepath.Join(o.Out, ResultsFile))
			failed := 0
			for _, r := range rs {
				if r.Error != "" {
					failed++
					if r.Code != 0 || !strings.Contains(r.Error, "reset") && !strings.Contains(r.Error, "EOF") {
						t.Errorf("a reset exchange: code %d, error %q", r.Code, r.Error)
					}
				}
			}
			if int64(len(rs)) != got.Load() || int64(failed) != reset.Load() || failed == 0 {
				t.Errorf("%d results (%d failed) for %d requests at the server (%d reset)", len(rs), failed, got.Load(), reset.Load())
			}
		})
	}
}

// Stopped (Ctrl-C) while every connection is held by a target that does
// not answer: hits still queued for a connection are not sent when one
// comes free (their replies would outlast the drain, abandoned and never
// recorded). Every request the target got has its result.
func TestStopSendsNoQueuedHits(t *testing.T) {
	var got atomic.Int64
	u := server(t, func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := curve(t, "hold 100/s for 5s")
	o := Options{Scenario: &scenarios.Scenario{Name: "t", Curve: c,
		Endpoints: []scenarios.Endpoint{{Name: "home", Method: "GET", URL: "/", Weight: 1, Class: scenarios.Page}}},
		Target: u, Out: filepath.Join(t.TempDir(), "run"), Timeout: 2 * time.Second, Engine: EngineFast,
		MaxConnections: 40}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := Run(ctx, context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, filepath.Join(o.Out, ResultsFile))
	info, err := scenarios.ReadRunInfo(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rs)) != got.Load() || info.Abandoned != 0 || len(rs) == 0 {
		t.Errorf("%d results for %d requests at the target, %d abandoned", len(rs), got.Load(), info.Abandoned)
	}
}
