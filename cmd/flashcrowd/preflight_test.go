package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// deadAddr is a loopback address where nothing listens: a port just
// listened on and closed.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// seenServer answers every request with code and records them: the
// pre-flight requests apart from the load.
type seenServer struct {
	*httptest.Server
	mu        sync.Mutex
	preflight []string // method and path of each pre-flight request
	load      int
}

func newSeenServer(t *testing.T, code int, tls bool) *seenServer {
	s := &seenServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if r.Header.Get(attack.PreflightHeader) != "" {
			s.preflight = append(s.preflight, r.Method+" "+r.URL.Path)
		} else {
			s.load++
		}
		s.mu.Unlock()
		w.WriteHeader(code)
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *seenServer) counts() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.preflight...), s.load
}

// TestPreflightDeadTarget: with nothing listening at the target, run exits
// 2 at once saying so, and writes nothing: no run directory is left.
func TestPreflightDeadTarget(t *testing.T) {
	addr := deadAddr(t)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, "run", "--rate", "200/s", "--duration", "20s", "--target", "http://"+addr, "--out", dir)
	want := fmt.Sprintf("nothing answered at %s (connection refused): is the server running?", addr)
	if code != exitUsage || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want 2 with %q", code, errs, want)
	}
	if strings.Contains(out, "requests") {
		t.Errorf("a run was reported:\n%s", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created: %v", dir, err)
	}

	// --no-preflight sends the curve anyway: every request is refused.
	dir = filepath.Join(t.TempDir(), "run")
	code, _, errs = runCLI(t, "run", "--rate", "10/s", "--duration", "1s", "--target", "http://"+addr, "--out", dir, "--no-preflight", "-q")
	if code == exitUsage {
		t.Fatalf("--no-preflight: exit 2: %s", errs)
	}
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	refused := 0
	for _, r := range rs {
		if strings.Contains(r.Error, "connection refused") {
			refused++
		}
	}
	if len(rs) != 10 || refused != 10 {
		t.Errorf("--no-preflight: %d results, %d refused; want 10 and 10", len(rs), refused)
	}

	// compare checks every --target before its first run: the plan
	// before the dead target is not run.
	cmp := filepath.Join(t.TempDir(), "cmp")
	code, _, errs = runCLI(t, "compare", "--rate", "10/s", "--duration", "1s", "--plan", "vps", "--target", "dead=http://"+addr, "--out", cmp, "-q")
	if code != exitUsage || !strings.Contains(errs, "--target dead: "+want) {
		t.Errorf("compare: exit %d, stderr %q; want 2 with %q", code, errs, want)
	}
	if _, err := os.Stat(filepath.Join(cmp, "vps")); !os.IsNotExist(err) {
		t.Errorf("compare ran vps before finding the dead target: %v", err)
	}
}

// TestPreflightLiveTarget: a target that answers, even with 503 to
// everything, is up: the run goes on. Each host of the mix gets exactly
// one pre-flight HEAD request, which is not among the results.
func TestPreflightLiveTarget(t *testing.T) {
	a, b := newSeenServer(t, 503, false), newSeenServer(t, 200, false)
	tf := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(tf, []byte(fmt.Sprintf("GET %s/a\n\nPOST %s/b\n\nGET %s/c\n", a.URL, b.URL, a.URL)), 0o644)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, "run", "--targets", tf, "--rate", "30/s", "--duration", "1s", "--out", dir, "-q")
	if code == exitUsage || code == exitRuntime {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	pa, la := a.counts()
	pb, lb := b.counts()
	if strings.Join(pa, ",") != "HEAD /a" || strings.Join(pb, ",") != "HEAD /b" {
		t.Errorf("pre-flight requests: a %q, b %q; want one HEAD each, to the host's first target", pa, pb)
	}
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	for _, r := range rs {
		if r.Method == http.MethodHead {
			t.Fatalf("a pre-flight request is among the results: %+v", r)
		}
	}
	if len(rs) != 30 || la+lb != 30 {
		t.Errorf("%d results, the servers saw %d+%d; want 30", len(rs), la, lb)
	}
}

// TestPreflightTLS: an https target whose certificate does not verify, or
// that answers plain HTTP, is refused before the run (exit 2, saying
// why); with --insecure the self-signed one is up.
func TestPreflightTLS(t *testing.T) {
	s := newSeenServer(t, 200, true)
	code, _, errs := runCLI(t, "run", "--rate", "10/s", "--duration", "1s", "--target", s.URL, "--out", filepath.Join(t.TempDir(), "r"))
	host := strings.TrimPrefix(s.URL, "https://")
	if code != exitUsage || !strings.Contains(errs, "the TLS handshake with "+host+" failed") || !strings.Contains(errs, "--insecure") {
		t.Errorf("unverified certificate: exit %d, stderr %q", code, errs)
	}
	if _, n := s.counts(); n != 0 {
		t.Errorf("sent %d requests", n)
	}
	dir := filepath.Join(t.TempDir(), "r")
	code, _, errs = runCLI(t, "run", "--rate", "10/s", "--duration", "1s", "--target", s.URL, "--insecure", "--out", dir, "-q")
	if p, n := s.counts(); code != exitOK || len(p) != 1 || n != 10 {
		t.Errorf("--insecure: exit %d, %d pre-flight and %d requests: %s", code, len(p), n, errs)
	}

	plain := newSeenServer(t, 200, false)
	u := "https://" + strings.TrimPrefix(plain.URL, "http://")
	code, _, errs = runCLI(t, "run", "--rate", "10/s", "--duration", "1s", "--target", u, "--out", filepath.Join(t.TempDir(), "r"))
	if code != exitUsage || !strings.Contains(errs, "answers plain HTTP, not TLS: give an http:// URL") {
		t.Errorf("https to plain HTTP: exit %d, stderr %q", code, errs)
	}
}

// TestPreflightOddTarget: something that accepts connections but does not
// speak HTTP is up but odd: a warning (on stderr and in run.json), and the
// run goes on.
func TestPreflightOddTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("not http at all\r\n\r\n"))
			c.Close()
		}
	}()
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errs := runCLI(t, "run", "--rate", "5/s", "--duration", "1s", "--target", "http://"+ln.Addr().String(), "--out", dir)
	want := ln.Addr().String() + " answered the pre-flight request with something other than HTTP"
	if code == exitUsage || !strings.Contains(errs, "flashcrowd run: warning: "+want) {
		t.Errorf("exit %d, stderr %q; want a warning with %q", code, errs, want)
	}
	info, err := scenarios.ReadRunInfo(dir)
	if err != nil || len(info.Warnings) == 0 || !strings.Contains(info.Warnings[0], want) {
		t.Errorf("run.json warnings: %v %v", err, info)
	}
	if rs := decodeAll(t, filepath.Join(dir, "results.gob")); len(rs) != 5 {
		t.Errorf("%d results, want 5", len(rs))
	}
}
